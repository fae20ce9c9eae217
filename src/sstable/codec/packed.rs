//! Frame-of-reference bit packing of 64-bit integers after 0, 1 or 2 differencing passes: the
//! common core of the v2 timestamp, integer, unsigned and decimal-float codecs.
//!
//! Layout (all arithmetic wrapping, so any i64 sequence round-trips):
//!
//! ```text
//! order u8 (0, 1 or 2) | seeds: `order` zigzag varints | base: zigzag varint | width u8 (0..=64)
//! | residuals: (n - order) values of `width` bits, LSB-first, zero-padded to a byte
//! ```
//!
//! * order 0: `x[i] = base + r[i]` (plain frame of reference);
//! * order 1: seed `x[0]`; `x[i] = x[i-1] + base + r[i]` (delta);
//! * order 2: seeds `x[0]`, `d[1] = x[1] - x[0]`; `d[i] = d[i-1] + base + r[i]`,
//!   `x[i] = x[i-1] + d[i]` (delta of delta).
//!
//! `base` is the smallest residual, so every residual is `>= 0` and `width` is the bit length of
//! the largest one. A constant-step series (regular timestamps) has width 0 at order 1 and costs
//! nothing per value. The encoder picks the order with the smallest encoding (lowest order on a
//! tie, which decodes fastest).

use super::bits::{self, Lane};
use super::{err, put_uvarint, unzigzag, zigzag, DecodeError, Input, MAX_VALUES};

fn uvarint_len(v: u64) -> usize {
    (bits::width(v).max(1) as usize).div_ceil(7)
}

/// Residuals of `v` at `order` into `buf` (cleared first); `order <= v.len()`.
fn residuals(v: &[i64], order: usize, buf: &mut Vec<i64>) {
    buf.clear();
    match order {
        0 => buf.extend_from_slice(v),
        1 => buf.extend(v.windows(2).map(|w| w[1].wrapping_sub(w[0]))),
        _ => buf.extend(v.windows(3).map(|w| {
            w[2].wrapping_sub(w[1])
                .wrapping_sub(w[1].wrapping_sub(w[0]))
        })),
    }
}

/// The seeds: x[0] and d[1] = x[1] - x[0] (order k writes the first k of them).
fn seeds(v: &[i64]) -> [i64; 2] {
    let x0 = v.first().copied().unwrap_or(0);
    let x1 = v.get(1).copied().unwrap_or(0);
    [x0, x1.wrapping_sub(x0)]
}

/// (base, width) of residuals.
fn frame(r: &[i64]) -> (i64, u32) {
    let (Some(&min), Some(&max)) = (r.iter().min(), r.iter().max()) else {
        return (0, 0);
    };
    (min, bits::width(max.wrapping_sub(min) as u64))
}

/// Append `v` encoded at the best order of `orders` (each 0, 1 or 2).
pub(crate) fn encode(v: &[i64], orders: &[usize], out: &mut Vec<u8>) {
    let mut scratch = Vec::with_capacity(v.len());
    let mut best: Option<(usize, usize, i64, u32)> = None; // size, order, base, width
    for &order in orders {
        let order = order.min(2).min(v.len());
        residuals(v, order, &mut scratch);
        let (base, w) = frame(&scratch);
        let s = seeds(v);
        let size = 2
            + s.iter()
                .take(order)
                .map(|&x| uvarint_len(zigzag(x)))
                .sum::<usize>()
            + uvarint_len(zigzag(base))
            + (scratch.len() * w as usize).div_ceil(8);
        if best.is_none_or(|b| size < b.0) {
            best = Some((size, order, base, w));
        }
    }
    let (_, order, base, w) = best.unwrap_or((0, 0, 0, 0));
    residuals(v, order, &mut scratch);
    out.reserve(2 + 30 + (scratch.len() * w as usize).div_ceil(8));
    out.push(order as u8);
    for &s in seeds(v).iter().take(order) {
        put_uvarint(out, zigzag(s));
    }
    put_uvarint(out, zigzag(base));
    out.push(w as u8);
    bits::pack(scratch.iter().map(|&r| r.wrapping_sub(base) as u64), w, out);
}

/// A parsed header with its packed residuals.
struct Header<'a> {
    order: usize,
    seeds: [i64; 2],
    base: i64,
    width: u32,
    packed: &'a [u8],
}

fn header<'a>(buf: &'a [u8], n: usize, what: &str) -> Result<Header<'a>, DecodeError> {
    if n > MAX_VALUES {
        return err(format!(
            "bad {what}: {n} values exceed the limit {MAX_VALUES}"
        ));
    }
    let mut input = Input::new(buf);
    let order = input.u8(what)? as usize;
    if order > 2 || order > n {
        return err(format!("bad {what}: order {order} for {n} values"));
    }
    let mut seeds = [0i64; 2];
    for s in seeds.iter_mut().take(order) {
        *s = unzigzag(input.uvarint(what)?);
    }
    let base = unzigzag(input.uvarint(what)?);
    let width = u32::from(input.u8(what)?);
    if width > 64 {
        return err(format!("bad {what}: bit width {width}"));
    }
    let count = n - order;
    let packed = input.bytes(input.remaining(), what)?;
    if Some(packed.len()) != bits::packed_len(count, width) {
        return err(format!(
            "bad {what}: {} packed bytes for {count} values of {width} bits",
            packed.len()
        ));
    }
    bits::check_padding(packed, count * width as usize, what)?;
    Ok(Header {
        order,
        seeds,
        base,
        width,
        packed,
    })
}

/// Decode exactly `n` values from all of `buf`, appending `finish(x)` for each to `out`.
/// On error `out` is left as it was.
#[inline]
pub(crate) fn decode_into<T: Lane>(
    buf: &[u8],
    n: usize,
    out: &mut Vec<T>,
    what: &str,
    finish: impl Fn(i64) -> T,
) -> Result<(), DecodeError> {
    let h = header(buf, n, what)?;
    let start = out.len();
    out.resize(start + n, T::default());
    let (head, tail) = out[start..].split_at_mut(h.order);
    bits::unpack(h.packed, h.width, tail);
    let base = h.base;
    let [s0, s1] = h.seeds;
    match h.order {
        0 => {
            for x in tail.iter_mut() {
                *x = finish(base.wrapping_add(x.raw() as i64));
            }
        }
        1 => {
            let mut acc = s0;
            if let Some(x) = head.first_mut() {
                *x = finish(acc);
            }
            for x in tail.iter_mut() {
                acc = acc.wrapping_add(base.wrapping_add(x.raw() as i64));
                *x = finish(acc);
            }
        }
        _ => {
            let mut d = s1;
            let mut acc = s0.wrapping_add(d);
            if let [a, b] = head {
                *a = finish(s0);
                *b = finish(acc);
            }
            for x in tail.iter_mut() {
                d = d.wrapping_add(base.wrapping_add(x.raw() as i64));
                acc = acc.wrapping_add(d);
                *x = finish(acc);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(v: &[i64], orders: &[usize]) -> (usize, Vec<i64>) {
        let mut buf = Vec::new();
        encode(v, orders, &mut buf);
        let mut out = vec![42];
        decode_into(&buf, v.len(), &mut out, "test", |x| x).expect("decode");
        assert_eq!(out.first(), Some(&42), "appends");
        (buf.len(), out.split_off(1))
    }

    #[test]
    fn constant_step_costs_no_bits_per_value() {
        let ts: Vec<i64> = (0..1000)
            .map(|i| 1_700_000_000_000_000_000 + i * 10_000_000_000)
            .collect();
        let (len, back) = round_trip(&ts, &[0, 1, 2]);
        assert_eq!(back, ts);
        assert!(len <= 20, "{len} bytes");
    }

    #[test]
    fn picks_the_smallest_order() {
        // Quadratic: order 2 has constant residuals.
        let v: Vec<i64> = (0..500).map(|i| i * i * 7).collect();
        let mut buf = Vec::new();
        encode(&v, &[0, 1, 2], &mut buf);
        assert_eq!(buf.first(), Some(&2));
        assert_eq!(round_trip(&v, &[0, 1, 2]).1, v);
        // Random-ish small values: order 0 (deltas need one more bit).
        let v: Vec<i64> = (0..500).map(|i| (i * 7919) % 100).collect();
        let mut buf = Vec::new();
        encode(&v, &[0, 1, 2], &mut buf);
        assert_eq!(buf.first(), Some(&0));
        assert!(buf.len() <= 4 + 500 * 7 / 8 + 1, "{}", buf.len());
    }

    #[test]
    fn rejects_malformed_headers() {
        let ok = |b: &[u8], n| decode_into::<i64>(b, n, &mut Vec::new(), "t", |x| x);
        assert!(ok(&[0, 0, 0], 5).is_ok());
        assert!(ok(&[3, 0, 0], 5).is_err(), "order 3");
        assert!(ok(&[2, 0, 0, 0, 0], 1).is_err(), "order above n");
        assert!(ok(&[0, 0, 65], 0).is_err(), "width 65");
        assert!(ok(&[0, 0, 1, 0b1], 1).is_ok());
        assert!(ok(&[0, 0, 1, 0b11], 1).is_err(), "padding bits");
        assert!(ok(&[0, 0, 1, 0, 0], 1).is_err(), "trailing byte");
        assert!(ok(&[0, 0, 0], MAX_VALUES + 1).is_err(), "too many values");
        let mut out = vec![1i64];
        assert!(decode_into(&[0, 0, 8], 2, &mut out, "t", |x| x).is_err());
        assert_eq!(out, vec![1], "unchanged on error");
    }

    proptest! {
        #[test]
        fn any_sequence_round_trips(
            v in prop::collection::vec(prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -3i64..3], 0..300),
            orders in prop::sample::subsequence(vec![0usize, 1, 2], 1..=3),
        ) {
            prop_assert_eq!(round_trip(&v, &orders).1, v);
        }
    }
}
