//! The v2 float codecs: Gorilla XOR and decimal-scaled integers (ALP-like), the integers bit
//! packed ([`packed`]) or their deltas range-coded ([`range`]).

use super::bits::{BitReader, BitWriter};
use super::{err, packed, range, DecodeError, Input};

/// Largest decimal exponent [`encode_decimal`] tries.
pub const MAX_DECIMAL_EXP: u8 = 10;

/// Powers of ten 10^0..=10^MAX_DECIMAL_EXP, all exact in f64.
const POW10: [f64; MAX_DECIMAL_EXP as usize + 1] =
    [1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10];

/// How decimal-scaled integers `m` at exponent `e` turn back into floats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecimalRule {
    /// `m as f64 / 10^e` (float codec ids 3 and 4, format v2 and v3 files; id 8, format v5).
    Divide,
    /// `(m as f64 * 10^f) * 10^-(e+f)`, two f64 multiplications by table constants (ALP's decode
    /// rule; float codec ids 5 and 6, format v4; id 7, format v5). Division is several times slower than
    /// multiplication, but a product is not always the correctly rounded quotient: the encoder
    /// uses this rule only with an `f` for which every value of the block comes back bit for
    /// bit, and the division rule otherwise.
    Multiply,
}

/// Largest `f` of [`DecimalRule::Multiply`] (`e` and `f` share one byte, 4 bits each).
const MAX_MUL_F: u8 = 15;

/// 10^0..=10^15, all exact in f64: the `10^f` factors of [`DecimalRule::Multiply`].
const POW10_F: [f64; MAX_MUL_F as usize + 1] = [
    1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// The f64 nearest to 10^-i for i in 0..=25: the `10^-(e+f)` factors of
/// [`DecimalRule::Multiply`] (`e <= MAX_DECIMAL_EXP`, `f <= MAX_MUL_F`).
const NEG_POW10: [f64; MAX_DECIMAL_EXP as usize + MAX_MUL_F as usize + 1] = [
    1.0, 1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10, 1e-11, 1e-12, 1e-13, 1e-14,
    1e-15, 1e-16, 1e-17, 1e-18, 1e-19, 1e-20, 1e-21, 1e-22, 1e-23, 1e-24, 1e-25,
];

/// The two factors (10^f, 10^-(e+f)) of [`DecimalRule::Multiply`].
fn mul_factors(e: u8, f: u8) -> Option<(f64, f64)> {
    if e > MAX_DECIMAL_EXP {
        return None;
    }
    Some((
        *POW10_F.get(usize::from(f))?,
        *NEG_POW10.get(usize::from(e) + usize::from(f))?,
    ))
}

/// The multiplicative decode of one integer (also what the encoder verifies against).
#[inline(always)]
fn mul_decode(m: f64, (ten_f, neg): (f64, f64)) -> f64 {
    m * ten_f * neg
}

/// The smallest `f <= MAX_MUL_F` with `mul_decode(m[i] as f64) == v[i]` bit for bit for every
/// `i`, if there is one. Most `f` fail within the first few values.
fn mul_exponent(v: &[f64], e: u8, ints: &[i64]) -> Option<u8> {
    (0..=MAX_MUL_F).find(|&f| {
        mul_factors(e, f).is_some_and(|k| {
            v.iter()
                .zip(ints)
                .all(|(x, &m)| mul_decode(m as f64, k).to_bits() == x.to_bits())
        })
    })
}

/// Largest |mantissa| the decimal codec stores (2^53: every such integer is exact in f64).
const MAX_MANTISSA: f64 = 9_007_199_254_740_992.0;

/// The integer `m` with `m as f64 / p == x` bit for bit, if there is one within 2^53.
#[inline]
fn to_decimal(x: f64, p: f64) -> Option<i64> {
    let m = (x * p).round();
    // NaN fails this test too.
    if m.is_nan() || m.abs() > MAX_MANTISSA {
        return None;
    }
    let mi = m as i64;
    ((mi as f64 / p).to_bits() == x.to_bits()).then_some(mi)
}

/// The decimal exponent `e` and the integers `m[i]` with `v[i] == m[i] as f64 / 10^e` exactly,
/// bit for bit; `e` is the smallest exponent `<= MAX_DECIMAL_EXP` that works for every value.
/// `None` if there is none, e.g. for NaN, infinities, -0.0 or values that are not short decimals.
fn decimal_ints(v: &[f64]) -> Option<(u8, Vec<i64>)> {
    // The smallest exponent of each value only grows along the block; the final pass below
    // verifies every value at the chosen exponent.
    let mut e = 0usize;
    for &x in v {
        while to_decimal(x, *POW10.get(e)?).is_none() {
            e += 1;
        }
    }
    let p = *POW10.get(e)?;
    let ints = v
        .iter()
        .map(|&x| to_decimal(x, p))
        .collect::<Option<Vec<i64>>>()?;
    Some((e as u8, ints))
}

/// A block of floats as decimal-scaled integers: `v[i] == m[i] as f64 / 10^e` exactly, bit for
/// bit, and the byte that says how the integers decode (see [`encode_decimal`]).
#[derive(Clone, Debug)]
pub struct Decimal {
    byte: u8,
    rule: DecimalRule,
    ints: Vec<i64>,
}

impl Decimal {
    /// The decimal form of `v`: `e` is the smallest exponent `<= MAX_DECIMAL_EXP` that works for
    /// every value; `None` if there is none, e.g. for NaN, infinities, -0.0 or values that are
    /// not short decimals. With `rule` [`DecimalRule::Multiply`] the byte is `e | f << 4` for
    /// the smallest `f` under which every value decodes bit for bit by multiplication; if there
    /// is none the division rule is used (the byte is `e`).
    pub fn new(v: &[f64], rule: DecimalRule) -> Option<Decimal> {
        let (e, ints) = decimal_ints(v)?;
        let f = match rule {
            DecimalRule::Multiply => mul_exponent(v, e, &ints),
            DecimalRule::Divide => None,
        };
        Some(match f {
            Some(f) => Decimal {
                byte: e | (f << 4),
                rule: DecimalRule::Multiply,
                ints,
            },
            None => Decimal {
                byte: e,
                rule: DecimalRule::Divide,
                ints,
            },
        })
    }

    /// The rule the integers decode by.
    pub fn rule(&self) -> DecimalRule {
        self.rule
    }

    /// Append the byte and the integers in the plain or patched [`packed`] layout (whichever
    /// is smaller) at the best of orders 0, 1, 2. Returns the layout used.
    pub fn encode_packed(&self, out: &mut Vec<u8>) -> packed::Variant {
        out.push(self.byte);
        packed::encode_best(&self.ints, &[0, 1, 2], out)
    }

    /// Append the byte and the integers in the [`range`] delta layout. `false` (nothing
    /// appended) if their deltas span more than [`range::MAX_RANGE`] values.
    pub fn encode_range(&self, out: &mut Vec<u8>) -> bool {
        let start = out.len();
        out.push(self.byte);
        if range::encode(&self.ints, range::First::Zigzag, out) {
            true
        } else {
            out.truncate(start);
            false
        }
    }
}

/// Encode `v` as decimal-scaled integers: one byte, then the integers `m[i]` (with
/// `v[i] == m[i] as f64 / 10^e` exactly, bit for bit) in the plain or patched [`packed`] layout
/// (whichever is smaller) at the best of orders 0, 1, 2. `e` is the smallest exponent
/// `<= MAX_DECIMAL_EXP` that works for every value; `None` (nothing appended) if there is none,
/// e.g. for NaN, infinities, -0.0 or values that are not short decimals.
///
/// With `rule` [`DecimalRule::Multiply`] the byte is `e | f << 4` for the smallest `f` under
/// which every value decodes bit for bit by multiplication; if there is none the division rule
/// is used (the byte is `e`). The integers, hence the size, are the same under both rules.
/// Returns the rule and layout used.
pub fn encode_decimal(
    v: &[f64],
    rule: DecimalRule,
    out: &mut Vec<u8>,
) -> Option<(DecimalRule, packed::Variant)> {
    let d = Decimal::new(v, rule)?;
    Some((d.rule, d.encode_packed(out)))
}

/// [`encode_decimal`] with the integers in the [`range`] delta layout: `None` (nothing
/// appended) if the values are not short decimals or their deltas span more than
/// [`range::MAX_RANGE`] values. Returns the rule used.
pub fn encode_decimal_range(
    v: &[f64],
    rule: DecimalRule,
    out: &mut Vec<u8>,
) -> Option<DecimalRule> {
    let d = Decimal::new(v, rule)?;
    d.encode_range(out).then_some(d.rule)
}

/// [`encode_decimal`] restricted to the plain layout (what format v2 writers produced).
#[cfg(test)]
pub(crate) fn encode_decimal_plain(v: &[f64], out: &mut Vec<u8>) -> Option<()> {
    let (e, ints) = decimal_ints(v)?;
    out.push(e);
    packed::encode(&ints, &[0, 1, 2], out);
    Some(())
}

/// How the integers of a decimal block are laid out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ints {
    /// Bit packed, in the plain or patched layout (float ids 3 to 6).
    Packed(packed::Variant),
    /// Deltas range-coded (float ids 7 and 8).
    Range,
}

/// Decode exactly `n` decimal-scaled floats written under `rule` in layout `variant` from all
/// of `buf`, appending to `out`.
pub fn decode_decimal_into(
    buf: &[u8],
    n: usize,
    rule: DecimalRule,
    variant: packed::Variant,
    out: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    decode_decimal_ints_into(buf, n, rule, Ints::Packed(variant), out)
}

/// Decode exactly `n` decimal-scaled floats written under `rule` with their integers laid out
/// as `ints` from all of `buf`, appending to `out`. On error `out` is left as it was.
pub fn decode_decimal_ints_into(
    buf: &[u8],
    n: usize,
    rule: DecimalRule,
    ints: Ints,
    out: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    decode_decimal_ints_prefix_into(buf, n, n, rule, ints, out)
}

/// [`decode_decimal_ints_into`] appending only the first `want` (at most `n`) of the `n`
/// values; range-coded integers are decoded little further than those.
pub fn decode_decimal_ints_prefix_into(
    buf: &[u8],
    n: usize,
    want: usize,
    rule: DecimalRule,
    ints: Ints,
    out: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    let mut input = Input::new(buf);
    let b = input.u8("decimal exponent")?;
    let rest = input.bytes(input.remaining(), "decimal floats")?;
    match rule {
        DecimalRule::Divide => {
            let Some(&p) = POW10.get(usize::from(b)) else {
                return err(format!("bad decimal exponent {b}"));
            };
            decode_scaled_into(rest, n, want, ints, out, move |x| x / p)
        }
        DecimalRule::Multiply => {
            let Some(k) = mul_factors(b & 15, b >> 4) else {
                return err(format!("bad decimal exponents {} and {}", b & 15, b >> 4));
            };
            decode_scaled_into(rest, n, want, ints, out, move |x| mul_decode(x, k))
        }
    }
}

/// Decode exactly `n` integers `m` laid out as `ints` from all of `buf`, appending
/// `scale(m as f64)` for each to `out`. On error `out` is left as it was.
///
/// When the header bounds every integer within ±2^51 they are converted and scaled in the
/// decoder's last loop. Otherwise three tight passes instead of one serial loop: the decoder
/// leaves each integer's bits in its output slot, then a branch-free pass checks they are all
/// within ±2^51 and a second one converts and scales them (both vectorise; a scalar `as f64`
/// conversion does not).
#[inline(always)]
fn decode_scaled_into(
    buf: &[u8],
    n: usize,
    want: usize,
    ints: Ints,
    out: &mut Vec<f64>,
    scale: impl Fn(f64) -> f64 + Copy,
) -> Result<(), DecodeError> {
    const WHAT: &str = "decimal floats";
    let want = want.min(n);
    let bound = match ints {
        Ints::Packed(variant) => packed::magnitude_bound(buf, n, variant),
        Ints::Range => range::magnitude_bound(buf, n, range::First::Zigzag),
    };
    let fast = move |m: i64| scale(small_int_to_f64(m as u64));
    let bits = |m: i64| f64::from_bits(m as u64);
    let small = bound.is_some_and(|b| b < 1 << 51);
    let start = out.len();
    match (ints, small) {
        (Ints::Packed(variant), true) => {
            packed::decode_into(buf, n, variant, out, WHAT, fast)?;
            out.truncate(start + want);
            return Ok(());
        }
        (Ints::Range, true) => {
            return range::decode_prefix_into(buf, n, want, range::First::Zigzag, out, WHAT, fast)
        }
        (Ints::Packed(variant), false) => {
            packed::decode_into(buf, n, variant, out, WHAT, bits)?;
            out.truncate(start + want);
        }
        (Ints::Range, false) => {
            range::decode_prefix_into(buf, n, want, range::First::Zigzag, out, WHAT, bits)?
        }
    }
    let vals = out.get_mut(start..).unwrap_or_default();
    if all_within_2_51(vals) {
        for x in vals {
            *x = scale(small_int_to_f64(x.to_bits()));
        }
    } else {
        for x in vals {
            *x = scale(x.to_bits() as i64 as f64);
        }
    }
    Ok(())
}

/// 1.5 * 2^52: adding an integer in [-2^51, 2^51) to its bit pattern gives the f64 `MAGIC + m`.
const MAGIC: f64 = 6_755_399_441_055_744.0;

/// `m as f64` for the two's complement bits of an `m` in [-2^51, 2^51) (exact there), without a
/// scalar integer conversion: `MAGIC + m` is exact in f64 (its ulp is 1) and has the bits
/// `MAGIC.to_bits() + m`, so subtracting `MAGIC` leaves `m` exactly (+0.0 for 0, as `0 as f64`).
#[inline(always)]
fn small_int_to_f64(bits: u64) -> f64 {
    f64::from_bits(bits.wrapping_add(MAGIC.to_bits())) - MAGIC
}

/// Whether every slot holds the bits of an integer in [-2^51, 2^51) (one OR per value).
#[inline(always)]
fn all_within_2_51(vals: &[f64]) -> bool {
    vals.iter().fold(0u64, |acc, x| {
        acc | (x.to_bits().wrapping_add(1 << 51) >> 52)
    }) == 0
}

/// Encode `v` as a Gorilla XOR bit stream: the first value's 64 bits, then per value the XOR `x`
/// with its predecessor: `0` if `x == 0`; `10` + the meaningful bits if they fit the previous
/// window; else `11` + leading zeros (5 bits, capped at 31) + meaningful length - 1 (6 bits) +
/// the meaningful bits. Zero-padded to a byte. Empty input gives no bytes.
pub fn encode_gorilla(v: &[f64], out: &mut Vec<u8>) {
    let Some((first, rest)) = v.split_first() else {
        return;
    };
    let mut w = BitWriter::new(out);
    let mut prev = first.to_bits();
    w.put(prev, 64);
    // (leading zeros, meaningful bits) of the current window; 0 meaningful bits = none yet.
    let (mut wlz, mut wsig) = (0u32, 0u32);
    for x in rest {
        let bits = x.to_bits();
        let xor = bits ^ prev;
        prev = bits;
        if xor == 0 {
            w.put(0, 1);
            continue;
        }
        let lz = xor.leading_zeros().min(31);
        let tz = xor.trailing_zeros();
        if wsig != 0 && lz >= wlz && tz >= 64 - wlz - wsig {
            w.put(0b01, 2); // bits 1 then 0
            w.put(xor >> (64 - wlz - wsig), wsig);
        } else {
            let sig = 64 - lz - tz;
            w.put(0b11, 2);
            w.put(u64::from(lz), 5);
            w.put(u64::from(sig - 1), 6);
            w.put(xor >> tz, sig);
            (wlz, wsig) = (lz, sig);
        }
    }
    w.finish();
}

/// Decode exactly `n` Gorilla-encoded floats from all of `buf`, appending to `out`.
/// On error `out` is left as it was.
pub fn decode_gorilla_into(buf: &[u8], n: usize, out: &mut Vec<f64>) -> Result<(), DecodeError> {
    let start = out.len();
    let r = gorilla_values(buf, n, out);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

fn gorilla_values(buf: &[u8], n: usize, out: &mut Vec<f64>) -> Result<(), DecodeError> {
    const WHAT: &str = "gorilla floats";
    if n == 0 {
        return if buf.is_empty() {
            Ok(())
        } else {
            err(format!("{} bytes for zero gorilla floats", buf.len()))
        };
    }
    // Every value after the first takes at least one bit.
    if n - 1 > buf.len().saturating_mul(8) {
        return err(format!(
            "{n} gorilla floats cannot fit in {} bytes",
            buf.len()
        ));
    }
    out.reserve(n);
    let mut r = BitReader::new(buf);
    let mut prev = r.get(64, WHAT)?;
    out.push(f64::from_bits(prev));
    let (mut wlz, mut wsig) = (0u32, 0u32);
    for _ in 1..n {
        if r.bit(WHAT)? {
            if r.bit(WHAT)? {
                let lz = r.get(5, WHAT)? as u32;
                let sig = r.get(6, WHAT)? as u32 + 1;
                if lz + sig > 64 {
                    return err(format!(
                        "bad {WHAT}: window of {lz} leading zeros and {sig} bits"
                    ));
                }
                (wlz, wsig) = (lz, sig);
            } else if wsig == 0 {
                return err(format!("bad {WHAT}: window reused before one was set"));
            }
            let tz = 64 - wlz - wsig;
            prev ^= r.get(wsig, WHAT)? << tz;
        }
        out.push(f64::from_bits(prev));
    }
    r.finish(WHAT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_picks_the_smallest_exponent() {
        let mut buf = Vec::new();
        assert!(encode_decimal(&[1.0, 2.5, 3.25], DecimalRule::Divide, &mut buf).is_some());
        assert_eq!(buf.first(), Some(&2));
        buf.clear();
        assert!(encode_decimal(&[100.0, -7.0], DecimalRule::Divide, &mut buf).is_some());
        assert_eq!(buf.first(), Some(&0));
        let mut out = Vec::new();
        let (rule, plain) = (DecimalRule::Divide, packed::Variant::Plain);
        decode_decimal_into(&buf, 2, rule, plain, &mut out).expect("decode");
        assert_eq!(out, vec![100.0, -7.0]);
    }

    #[test]
    fn decimal_refuses_what_it_cannot_store_exactly() {
        for bad in [
            f64::NAN,
            f64::INFINITY,
            -0.0,
            f64::MIN_POSITIVE,
            0.1 + 0.2,
            1e300,
            std::f64::consts::PI,
        ] {
            let mut buf = Vec::new();
            for rule in [DecimalRule::Divide, DecimalRule::Multiply] {
                assert!(
                    encode_decimal(&[1.5, bad], rule, &mut buf).is_none(),
                    "{bad:e}"
                );
            }
            assert!(buf.is_empty());
        }
        let plain = packed::Variant::Plain;
        for (rule, b) in [(DecimalRule::Divide, 11), (DecimalRule::Multiply, 0xfb)] {
            assert!(decode_decimal_into(&[b, 0, 0, 0], 1, rule, plain, &mut Vec::new()).is_err());
        }
    }

    #[test]
    fn small_ints_convert_exactly_and_large_ones_take_the_scalar_path() {
        for m in [0i64, 1, -1, 12345, -(1 << 51), (1 << 51) - 1, (1 << 51) - 7] {
            assert_eq!(
                small_int_to_f64(m as u64).to_bits(),
                (m as f64).to_bits(),
                "{m}"
            );
        }
        assert!(all_within_2_51(&[
            f64::from_bits(5),
            f64::from_bits(-(1i64 << 51) as u64)
        ]));
        for m in [1i64 << 51, -(1 << 51) - 1, i64::MIN, i64::MAX] {
            assert!(!all_within_2_51(&[f64::from_bits(m as u64)]), "{m}");
        }
        // Near 2^50 the header's bound stays below 2^51: the fused path converts them.
        let ints = [(1i64 << 50) - 1, -(1 << 50), 0, 1];
        let mut buf = vec![3];
        packed::encode(&ints, &[0], &mut buf);
        assert!(
            packed::magnitude_bound(&buf[1..], 4, packed::Variant::Plain)
                .is_some_and(|b| b < 1 << 51)
        );
        let mut out = Vec::new();
        let (divide, plain) = (DecimalRule::Divide, packed::Variant::Plain);
        decode_decimal_into(&buf, ints.len(), divide, plain, &mut out).expect("decode");
        let want: Vec<u64> = ints.iter().map(|&m| (m as f64 / 1e3).to_bits()).collect();
        assert_eq!(out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want);
        // Integers beyond 2^51 (corrupt or hand-made blocks) decode as `m as f64 / 10^e`.
        let ints = [1i64 << 52, 3, -(1 << 53), i64::MAX, 7];
        let mut buf = vec![1];
        packed::encode(&ints, &[0], &mut buf);
        let mut out = Vec::new();
        let (divide, plain) = (DecimalRule::Divide, packed::Variant::Plain);
        decode_decimal_into(&buf, ints.len(), divide, plain, &mut out).expect("decode");
        let want: Vec<u64> = ints.iter().map(|&m| (m as f64 / 10.0).to_bits()).collect();
        assert_eq!(out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want);
        // The same under the multiplicative rule, e = 1 and f = 13.
        buf[0] = 1 | (13 << 4);
        out.clear();
        let multiply = DecimalRule::Multiply;
        decode_decimal_into(&buf, ints.len(), multiply, plain, &mut out).expect("decode");
        let want: Vec<u64> = ints
            .iter()
            .map(|&m| (m as f64 * 1e13 * 1e-14).to_bits())
            .collect();
        assert_eq!(out.iter().map(|x| x.to_bits()).collect::<Vec<_>>(), want);
    }

    #[test]
    fn two_decimals_decode_by_multiplication() {
        // Every two-decimal value in [-100, 100] (TSBS cpu data lies in [0, 100]).
        let v: Vec<f64> = (-10_000..=10_000).map(|m| f64::from(m) / 100.0).collect();
        let mut buf = Vec::new();
        let (rule, _) = encode_decimal(&v, DecimalRule::Multiply, &mut buf).expect("decimal");
        assert_eq!(rule, DecimalRule::Multiply);
        assert_eq!(buf[0] & 15, 2);
        let mut div = Vec::new();
        encode_decimal(&v, DecimalRule::Divide, &mut div).expect("decimal");
        assert_eq!(buf.len(), div.len(), "same integers, same size");
        let mut out = Vec::new();
        let plain = packed::Variant::Plain;
        decode_decimal_into(&buf, v.len(), rule, plain, &mut out).expect("decode");
        assert!(out.iter().zip(&v).all(|(a, b)| a.to_bits() == b.to_bits()));
        // Where no f works for every value, the division rule is kept (same bytes as Divide).
        let v: Vec<f64> = (-10_000..=10_000).map(|m| f64::from(m) / 1e4).collect();
        let mut mul = Vec::new();
        let (rule, _) = encode_decimal(&v, DecimalRule::Multiply, &mut mul).expect("decimal");
        assert_eq!(rule, DecimalRule::Divide);
        let mut div = Vec::new();
        encode_decimal(&v, DecimalRule::Divide, &mut div).expect("decimal");
        assert_eq!(mul, div);
    }

    #[test]
    fn gorilla_rejects_window_reuse_before_set_and_bad_windows() {
        let mut buf = vec![0u8; 8];
        buf.push(0b01); // value 2: control 1,0 with no window
        assert!(decode_gorilla_into(&buf, 2, &mut Vec::new()).is_err());
        let mut buf = vec![0u8; 8];
        // control 1,1; lz = 31; sig - 1 = 63 -> 31 + 64 > 64
        let mut w = BitWriter::new(&mut buf);
        w.put(0b11, 2);
        w.put(31, 5);
        w.put(63, 6);
        w.put(0, 64);
        w.finish();
        assert!(decode_gorilla_into(&buf, 2, &mut Vec::new()).is_err());
        assert!(decode_gorilla_into(&[1], 0, &mut Vec::new()).is_err());
        let mut out = vec![1.0];
        assert!(decode_gorilla_into(&[0; 7], 1, &mut out).is_err());
        assert_eq!(out, vec![1.0]);
    }
}
