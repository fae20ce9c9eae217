//! Uniform range coding (rANS with a uniform distribution): exact mixed-radix coding of symbols
//! in `[0, R)`, and on top of it the delta codec of integer, unsigned and decimal-float blocks
//! (integer and unsigned id 4, float ids 7 and 8).
//!
//! # Why
//!
//! A random walk's deltas take `R` nearly equally likely values (TSBS: -100..=100 hundredths,
//! `R = 201`). Bit packing spends `ceil(log2 R)` bits on each (8); coding them as digits of one
//! base-`R` number spends `log2 R` (7.651). This module does that with rANS: with a uniform
//! distribution a coding step is `x' = x * R + s` and a decoding step `s = x mod R, x = x / R`,
//! exact integer arithmetic that loses nothing; renormalisation moves whole 32-bit words between
//! the state and the stream, which loses next to nothing (see *Cost* below). The waste is
//! essentially the flush of the final state into whole bytes (under 8 bits) and one bit for the
//! start state.
//!
//! # Symbol stream ([`encode_uniform`], [`decode_uniform`])
//!
//! `count` symbols `s[0..count]`, each `< R`, `2 <= R <=` [`MAX_RANGE`] (`R = 1` takes no bytes).
//!
//! * Digits: `g` is the largest with `Q = R^g <= 2^23`; the symbols form `G = count / g` digits
//!   `D[j] = s[jg] + s[jg+1] R + ... + s[jg+g-1] R^(g-1) < Q` and a last digit of the
//!   `t = count % g` remaining symbols, `D[G] < R^t`. One decoding step yields `g` symbols
//!   (3 for `R = 201`), which shortens the serial chain of the decoder that many times.
//! * State: `L = k Q` with `k = floor(2^31 / Q) >= 256`, so `2^30 < L <= 2^31`; a renormalised
//!   state lies in `[L, L 2^32)`, below `2^63`.
//! * Encoding runs backwards from `x = 1`: `x = R^t + D[G]`, then `x = x Q + D[j]` for
//!   `j = G-1, ..., 0`. The first `c` of those steps (`c` the fewest with `R^t Q^c >= L`, at
//!   most `G`; so the digits `D[G-c..G]`) run without renormalisation: they only fill the state
//!   up to `[L, 2 L Q)`. Every later step first emits the low 32 bits of `x` as a word and shifts
//!   them out if `x >= k 2^32`, which keeps `x` below `L 2^32` after the step.
//! * Layout: the final state, then the words in decoding order (the reverse of emission), each
//!   little-endian. If any step renormalised (`G > c`), the final state lies in `[L, L 2^32)`; if
//!   it is `>= 2^56` one more word is emitted and the state shifted, leaving it in
//!   `[2^24, L)`. So the state takes 4 to 7 bytes (the fewest that hold it) and its length is
//!   `4 + (payload length mod 4)`. Otherwise (a short block) the payload is just the state,
//!   `[R^t Q^G, 2 R^t Q^G)`, in the fewest bytes.
//!
//! Decoding mirrors it: read the state (and one word if it is below `L`); `G - c` steps of
//! `y = x / Q, D = x - y Q`, then `x = y 2^32 + word` if `y < L`, else `x = y`; `c` steps of
//! `D = x mod Q, x = x / Q`; the last digit is `x - R^t`; each digit splits into `g` symbols by
//! repeated division by `R`. Both divisions are multiplications by a precomputed reciprocal
//! (`Divider`, `SmallDivider`), exact for every dividend the decoder can meet.
//!
//! # Cost
//!
//! Count a state `x` as `log2 x` bits. A step without renormalisation adds `log2 Q` bits plus
//! less than `log2(1 + 1/x)` (`x >= L > 2^30`: nothing). A step that emits a word turns `x`
//! into `y = floor(x / 2^32) >= k` and 32 bits: the floor costs less than `log2(1 + 1/k)`
//! bits, at most 0.0057 with `k >= 256` (this is why `Q` stops at `2^23`: with `Q` near `2^31`,
//! `k` is 1 and a step can lose up to a bit). The start state adds at most one bit (`x` is in
//! `[R^t, 2 R^t)` after the last digit) and the flush under 8. So `count` symbols take at most
//! `(count log2 R + 1 + S log2(1 + 1/k)) / 8 + 1` bytes for `S` renormalising steps: 999
//! symbols of `R = 201` (`k = 264`, 333 steps) at most 1.4 bytes over
//! `999 log2 201 / 8 = 955.4`; TSBS blocks measure 0.6 over.
//!
//! # Why decoding cannot panic or misbehave on malformed input
//!
//! The decoder checks the start state is in `[L, L 2^32)` (or, for a short block, in
//! `[R^t Q^G, 2 R^t Q^G)`). From a state in `[L, L 2^32)` a step gives `y` in `[k, k 2^32)`,
//! and `x` back in `[L, L 2^32)` whatever the word, so every state stays below `2^63`, every
//! division is exact, every digit is `< Q` and every symbol `< R`; no arithmetic overflows.
//! Words are read with `get` (a read past the end gives 0 and is then reported). At the end
//! every word must have been consumed and the state must be in `[R^t Q^c, 2 R^t Q^c)`, i.e.
//! decode back to the start state 1; anything else is a [`DecodeError`]. No indexing that
//! input can reach is unchecked, and nothing is allocated from a length the input claims.
//!
//! # Delta codec (`encode`, `decode_into`)
//!
//! ```text
//! first value: varint (zigzag for i64, plain for u64)                  -- absent if n == 0
//! (span = R - 1) << 1 | has exceptions: varint | centre: zigzag varint  -- absent if n <= 1
//! if has exceptions: count e (1..=n-1): varint,
//!     e times: delta index gap: varint | zigzag varint of (delta - min), wrapping
//! symbol stream of the n - 1 deltas: delta - min, 0 for an exception    -- absent if R == 1
//! ```
//!
//! The deltas are wrapping differences, so any sequence round-trips. `min` and `R` frame the
//! deltas that are symbols; up to `MAX_EXCEPTIONS` (16) others (a gap in a series, a counter
//! reset, a spike: PFOR-style, as in [`super::packed`]) are listed whole, so one outlier does not
//! widen `R` for every value. Exception indexes (into the deltas) are strictly increasing: the
//! first gap is the first index, each next gap is `index - previous - 1`. The encoder picks the
//! frame (which of the smallest and largest deltas become exceptions) by estimated size; a
//! block with no frame of at most [`MAX_RANGE`] values is not encodable (the caller keeps
//! another codec). The centre `min + floor(span / 2)` is stored instead of `min`: random walks
//! step both ways, so it is near 0 and takes one byte where the smallest delta takes two.

use super::bits::Lane;
use super::packed::uvarint_len;
use super::{err, put_uvarint, unzigzag, zigzag, DecodeError, Input, MAX_VALUES};

/// Largest symbol range `R`, and the largest digit range `Q = R^g` (see the module docs).
pub const MAX_RANGE: u64 = 1 << 23;

/// Largest `L`: a state lies in `[L, L 2^32)`, below `2^63` as [`Divider`] requires.
const MAX_L: u64 = 1 << 31;

/// Bytes of a state flushed after renormalisation: at least this many (`x >= 2^24`).
const MIN_STATE_BYTES: usize = 4;

/// Division by an invariant `d` (`2 <= d <= 2^32`) by a multiply-high and a shift, exact for
/// every dividend `x < 2^63`.
///
/// With `l = ceil(log2 d)`, `m = ceil(2^(63+l) / d) < 2^64` and `e = m d - 2^(63+l) < d <= 2^l`:
/// `x m / 2^(63+l) = x/d + x e / (d 2^(63+l))`, and `x e < 2^63 2^l` makes the second term
/// below `1/d`, too little to carry `x/d` (whose fraction is at most `(d-1)/d`) past the next
/// integer. So `floor(x m / 2^(63+l)) = floor(x / d)`.
#[derive(Clone, Copy, Debug)]
struct Divider {
    m: u64,
    shift: u32,
}

impl Divider {
    fn new(d: u64) -> Divider {
        debug_assert!((2..=1 << 32).contains(&d));
        // l in 1..=32; ceil(2^(63+l) / d) by long division in base 2^32 of 2^(l-1) * 2^64,
        // with 2^(l-1) < d so that every partial quotient fits 32 bits.
        let l = 64 - (d - 1).leading_zeros();
        let mut rem = 1u64 << (l - 1);
        let mut m = 0u64;
        for _ in 0..2 {
            let t = rem << 32;
            m = (m << 32) | (t / d);
            rem = t % d;
        }
        Divider {
            m: m + u64::from(rem != 0),
            shift: l - 1,
        }
    }

    #[inline(always)]
    fn div(self, x: u64) -> u64 {
        ((u128::from(x) * u128::from(self.m)) >> 64) as u64 >> self.shift
    }
}

/// Division by an invariant `d` (`2 <= d <= 2^31`) for dividends `x < 2^31`, by one 64-bit
/// multiply and a shift: `m = ceil(2^(31+l) / d) <= 2^32`, exact by the argument of
/// [`Divider`] with 31 for 63 (`x m < 2^63`, so the product does not overflow).
#[derive(Clone, Copy, Debug)]
struct SmallDivider {
    m: u64,
    shift: u32,
}

impl SmallDivider {
    fn new(d: u64) -> SmallDivider {
        debug_assert!((2..=1 << 31).contains(&d));
        // l in 1..=31.
        let l = 64 - (d - 1).leading_zeros();
        SmallDivider {
            m: (1u64 << (31 + l)).div_ceil(d),
            shift: 31 + l,
        }
    }

    #[inline(always)]
    fn div(self, x: u64) -> u64 {
        x.wrapping_mul(self.m) >> self.shift
    }
}

/// Everything both sides derive from `R` and the symbol count (see the module docs).
#[derive(Clone, Copy, Debug)]
struct Params {
    r: u64,
    /// Symbols per digit, and `Q = R^g <= 2^23`.
    g: usize,
    q: u64,
    /// `k = floor(2^31 / Q) >= 256` and `L = k Q`.
    k: u64,
    l: u64,
    /// Full digits `G`, and `R^t` for the `t = count % g` symbols of the last digit.
    groups: usize,
    rt: u64,
    /// The digits decoded with renormalisation (`G - c`).
    normal: usize,
    /// `R^t Q^c`: the state after the `G - c` renormalising decode steps is in `[lo, 2 lo)`.
    lo: u64,
    div_q: Divider,
    div_r: SmallDivider,
}

impl Params {
    /// `2 <= r <= MAX_RANGE`.
    fn new(r: u64, count: usize) -> Params {
        let (mut g, mut q) = (1usize, r);
        while q * r <= MAX_RANGE {
            q *= r;
            g += 1;
        }
        let k = MAX_L / q;
        let l = k * q;
        let groups = count / g;
        let rt = (0..count % g).fold(1u64, |p, _| p * r);
        // R^t < Q <= 2^23 < L, and lo < L before each multiplication, so lo < 2^54.
        let (mut lo, mut c) = (rt, 0usize);
        while c < groups && lo < l {
            lo *= q;
            c += 1;
        }
        Params {
            r,
            g,
            q,
            k,
            l,
            groups,
            rt,
            normal: groups - c,
            lo,
            div_q: Divider::new(q),
            div_r: SmallDivider::new(r),
        }
    }
}

/// Bytes needed to hold `x` (0 for 0).
fn byte_len(x: u64) -> usize {
    (64 - x.leading_zeros() as usize).div_ceil(8)
}

/// Append `symbols` (each `< r`) as a uniform symbol stream over `[0, r)` (see the module
/// docs). `false` (nothing appended) if `r` is 0 or above [`MAX_RANGE`] or a symbol is not
/// below `r`. `r == 1` appends nothing.
pub fn encode_uniform(symbols: &[u64], r: u64, out: &mut Vec<u8>) -> bool {
    if r == 0 || r > MAX_RANGE || symbols.iter().any(|&s| s >= r) {
        return false;
    }
    if r == 1 || symbols.is_empty() {
        return true;
    }
    let p = Params::new(r, symbols.len());
    let digit = |s: &[u64]| s.iter().rev().fold(0u64, |d, &x| d * r + x);
    let (full, last) = symbols.split_at(p.groups * p.g);
    let mut x = p.rt + digit(last);
    let cap = p.k << 32;
    let mut words: Vec<u32> = Vec::with_capacity(p.normal + 1);
    for (j, d) in full.chunks_exact(p.g).enumerate().rev() {
        if j < p.normal && x >= cap {
            words.push(x as u32);
            x >>= 32;
        }
        x = x * p.q + digit(d);
    }
    if p.normal > 0 && x >= 1 << 56 {
        words.push(x as u32);
        x >>= 32;
    }
    out.reserve(8 + 4 * words.len());
    out.extend_from_slice(x.to_le_bytes().get(..byte_len(x)).unwrap_or_default());
    for w in words.iter().rev() {
        out.extend_from_slice(&w.to_le_bytes());
    }
    true
}

/// The 32-bit word at index `i` of `words`, or 0 past the end (the caller checks the count).
#[inline(always)]
fn word(words: &[[u8; 4]], i: usize) -> u64 {
    words
        .get(i)
        .map_or(0, |w| u64::from(u32::from_le_bytes(*w)))
}

/// Split digit `d` (`< R^slots.len()`) into its symbols, least significant first, writing
/// what `emit` makes of each (threading its state `st`) to `slots`.
#[inline(always)]
fn split<T, S>(
    mut d: u64,
    slots: &mut [T],
    (r, div_r): (u64, SmallDivider),
    mut st: S,
    emit: &impl Fn(S, u64) -> (S, T),
) -> S {
    if let Some((last, init)) = slots.split_last_mut() {
        for slot in init {
            let y = div_r.div(d);
            (st, *slot) = emit(st, d.wrapping_sub(y.wrapping_mul(r)));
            d = y;
        }
        (st, *last) = emit(st, d);
    }
    st
}

/// The renormalising decode steps, one digit of `g` symbols each (`G`: `g` known at compile
/// time, or 0 for any). Returns the state, the next word index and `emit`'s state.
#[inline(always)]
fn normal_steps<T, S, const G: usize>(
    p: &Params,
    (mut x, mut pos): (u64, usize),
    words: &[[u8; 4]],
    out: &mut [T],
    mut st: S,
    emit: &impl Fn(S, u64) -> (S, T),
) -> (u64, usize, S) {
    // Everything the loop needs in locals (registers), not behind `p`.
    let (g, q, l, div_q, radix) = (p.g, p.q, p.l, p.div_q, (p.r, p.div_r));
    let g = if G == 0 { g } else { G };
    for slots in out.chunks_exact_mut(g) {
        let y = div_q.div(x);
        let d = x.wrapping_sub(y.wrapping_mul(q));
        let w = word(words, pos);
        let refill = y < l;
        x = if refill { (y << 32) | w } else { y };
        pos += usize::from(refill);
        st = split(d, slots, radix, st, emit);
    }
    (x, pos, st)
}

/// Decode a uniform symbol stream over `[0, r)` of `out.len()` symbols from all of `buf`,
/// writing to `out`, in order, what `emit` makes of each symbol; `emit` takes and returns a
/// state (`init` first), kept in a local by the loop (a closure capturing it by reference
/// would keep it in memory). Returns the last state. On error `out` holds unspecified values.
#[inline(always)]
pub(crate) fn decode_uniform_into<T, S: Copy>(
    buf: &[u8],
    r: u64,
    out: &mut [T],
    init: S,
    emit: impl Fn(S, u64) -> (S, T),
    what: &str,
) -> Result<S, DecodeError> {
    let count = out.len();
    decode_uniform_prefix_into(buf, r, out, count, init, emit, what)
}

/// [`decode_uniform_into`] of a stream of `out.len()` symbols that needs only its first `want`
/// (at most `out.len()`): slots from `want` on may be left unwritten. The state steps that
/// yield the first `want` symbols come first in the stream, so a prefix within them stops
/// there, without reading the rest of the words or the final state (and without the checks
/// only a whole read can make: the block's CRC has already covered these bytes).
#[inline(always)]
pub(crate) fn decode_uniform_prefix_into<T, S: Copy>(
    buf: &[u8],
    r: u64,
    out: &mut [T],
    want: usize,
    init: S,
    emit: impl Fn(S, u64) -> (S, T),
    what: &str,
) -> Result<S, DecodeError> {
    let count = out.len();
    let mut st = init;
    if r == 0 || r > MAX_RANGE {
        return err(format!("bad {what}: symbol range {r}"));
    }
    if r == 1 || count == 0 {
        if !buf.is_empty() {
            return err(format!(
                "bad {what}: {} bytes for {count} symbols in [0, {r})",
                buf.len()
            ));
        }
        for slot in out {
            (st, *slot) = emit(st, 0);
        }
        return Ok(st);
    }
    let p = Params::new(r, count);
    let (state_len, words) = if p.normal == 0 {
        (buf.len(), &[][..])
    } else {
        let n = MIN_STATE_BYTES + buf.len() % 4;
        match buf.split_at_checked(n) {
            Some((_, w)) => (n, w),
            None => {
                return err(format!(
                    "truncated {what}: {} bytes, the state alone takes {n}",
                    buf.len()
                ))
            }
        }
    };
    let mut state = [0u8; 8];
    let (Some(src), Some(dst)) = (buf.get(..state_len), state.get_mut(..state_len)) else {
        return err(format!("bad {what}: state of {state_len} bytes"));
    };
    dst.copy_from_slice(src);
    if src.last() == Some(&0) || src.is_empty() {
        return err(format!("bad {what}: state not in its shortest form"));
    }
    let mut x = u64::from_le_bytes(state);
    let mut pos = 0;
    // words.len() is a multiple of 4.
    let (words, _) = words.as_chunks::<4>();
    let (normal, tail) = out.split_at_mut(p.normal * p.g);
    if p.normal > 0 {
        if x < p.l {
            x = (x << 32) | word(words, 0);
            pos = 1;
        }
        if !(p.l..p.l << 32).contains(&x) {
            return err(format!("bad {what}: state {x} out of range"));
        }
        // The normal steps over `slots`, with the group size a constant where it is small.
        let steps = |slots: &mut [T], st: S| match p.g {
            1 => normal_steps::<T, S, 1>(&p, (x, pos), words, slots, st, &emit),
            2 => normal_steps::<T, S, 2>(&p, (x, pos), words, slots, st, &emit),
            3 => normal_steps::<T, S, 3>(&p, (x, pos), words, slots, st, &emit),
            4 => normal_steps::<T, S, 4>(&p, (x, pos), words, slots, st, &emit),
            _ => normal_steps::<T, S, 0>(&p, (x, pos), words, slots, st, &emit),
        };
        if want < count && want <= p.normal * p.g {
            // The steps covering the first `want` symbols (whole steps of g symbols each).
            let n = want.div_ceil(p.g);
            let Some(part) = normal.get_mut(..n * p.g) else {
                return err(format!("bad {what}: {n} steps of {} symbols", p.g));
            };
            return Ok(steps(part, st).2);
        }
        (x, pos, st) = steps(normal, st);
        if pos != words.len() {
            return err(format!("bad {what}: {} words, {pos} read", words.len()));
        }
    }
    if x < p.lo || x - p.lo >= p.lo {
        return err(format!("bad {what}: final state {x} out of range"));
    }
    let (digits, last) = tail.split_at_mut((p.groups - p.normal) * p.g);
    for slots in digits.chunks_exact_mut(p.g) {
        let y = p.div_q.div(x);
        st = split(x - y * p.q, slots, (p.r, p.div_r), st, &emit);
        x = y;
    }
    // x is now in [R^t, 2 R^t).
    Ok(split(x - p.rt, last, (p.r, p.div_r), st, &emit))
}

/// How the first value of a delta block is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum First {
    /// A zigzag varint (signed integers, decimal-scaled floats).
    Zigzag,
    /// A plain varint of the bits as u64 (unsigned integers).
    Plain,
}

/// Most deltas the encoder lists as exceptions.
pub(crate) const MAX_EXCEPTIONS: usize = 16;

/// The frame the encoder picked: deltas in `[lo, lo + span]` are symbols, the others exceptions.
#[derive(Clone, Copy, Debug)]
struct Frame {
    lo: i64,
    span: u64,
}

impl Frame {
    #[inline]
    fn is_exception(self, d: i64) -> bool {
        d.wrapping_sub(self.lo) as u64 > self.span || d < self.lo
    }
}

/// The frame of the smallest estimated encoding of `deltas` (non-empty): the full range, or one
/// without up to [`MAX_EXCEPTIONS`] of the smallest and largest deltas, which then go to the
/// exception list. `None` if every candidate spans more than [`MAX_RANGE`] values.
fn frame(deltas: &[i64]) -> Option<Frame> {
    let m = deltas.len();
    let k = (MAX_EXCEPTIONS + 1).min(m);
    // The k smallest deltas, ascending, and the k largest, descending.
    let mut s = deltas.to_vec();
    s.select_nth_unstable(k - 1);
    let mut low = s.get(..k)?.to_vec();
    low.sort_unstable();
    s.select_nth_unstable(m - k);
    let mut high = s.get(m - k..)?.to_vec();
    high.sort_unstable_by(|a, b| b.cmp(a));
    let mut best: Option<(f64, Frame)> = None;
    for (a, &lo) in low.iter().enumerate() {
        let below = low.get(..a)?.iter().filter(|&&x| x < lo);
        for (b, &hi) in high.iter().enumerate() {
            let above = high.get(..b)?.iter().filter(|&&x| x > hi);
            let e = below.clone().count() + above.clone().count();
            if hi < lo || e >= m || e > MAX_EXCEPTIONS {
                continue;
            }
            let span = hi.wrapping_sub(lo) as u64;
            if span >= MAX_RANGE {
                continue;
            }
            // Each exception: an index gap (two bytes at most in a block) and its delta.
            let exceptions: usize = below
                .clone()
                .chain(above)
                .map(|&x| 2 + uvarint_len(zigzag(x.wrapping_sub(lo))))
                .sum();
            let header = uvarint_len(span << 1)
                + uvarint_len(zigzag(lo + (span / 2) as i64))
                + if e > 0 { uvarint_len(e as u64) } else { 0 };
            let bits = m as f64 * ((span + 1) as f64).log2() + 8.0 * (exceptions + header) as f64;
            if best.is_none_or(|(b, _)| bits < b) {
                best = Some((bits, Frame { lo, span }));
            }
        }
    }
    best.map(|(_, f)| f)
}

/// Append `v` in the delta layout (see the module docs). `false` (nothing appended) if its
/// deltas span more than [`MAX_RANGE`] values even without [`MAX_EXCEPTIONS`] of the extreme
/// ones.
pub(crate) fn encode(v: &[i64], first: First, out: &mut Vec<u8>) -> bool {
    let Some((&x0, _)) = v.split_first() else {
        return true;
    };
    let deltas: Vec<i64> = v.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    let f = match deltas.is_empty() {
        true => Frame { lo: 0, span: 0 },
        false => match frame(&deltas) {
            Some(f) => f,
            None => return false,
        },
    };
    let start = out.len();
    put_uvarint(
        out,
        match first {
            First::Zigzag => zigzag(x0),
            First::Plain => x0 as u64,
        },
    );
    if deltas.is_empty() {
        return true;
    }
    let e = deltas.iter().filter(|&&d| f.is_exception(d)).count();
    put_uvarint(out, f.span << 1 | u64::from(e > 0));
    put_uvarint(out, zigzag(f.lo + (f.span / 2) as i64));
    if e > 0 {
        put_uvarint(out, e as u64);
        let mut next = 0;
        for (i, &d) in deltas.iter().enumerate() {
            if f.is_exception(d) {
                put_uvarint(out, (i - next) as u64);
                put_uvarint(out, zigzag(d.wrapping_sub(f.lo)));
                next = i + 1;
            }
        }
    }
    let symbols: Vec<u64> = deltas
        .iter()
        .map(|&d| match f.is_exception(d) {
            true => 0,
            false => d.wrapping_sub(f.lo) as u64,
        })
        .collect();
    if !encode_uniform(&symbols, f.span + 1, out) {
        out.truncate(start);
        return false;
    }
    true
}

/// A parsed delta header.
struct Header<'a> {
    first: i64,
    min: i64,
    span: u64,
    /// The exception count and list (validated: every index below `n - 1`, ascending).
    exceptions: usize,
    patches: &'a [u8],
    payload: &'a [u8],
}

impl Header<'_> {
    /// The exceptions as (delta index, delta), in order (the list was validated by [`header`]).
    fn exceptions(&self) -> impl Iterator<Item = (usize, i64)> + '_ {
        let mut input = Input::new(self.patches);
        let mut next = 0usize;
        (0..self.exceptions).map_while(move |_| {
            let i = next.checked_add(usize::try_from(input.uvarint("").ok()?).ok()?)?;
            next = i + 1;
            Some((i, self.min.wrapping_add(unzigzag(input.uvarint("").ok()?))))
        })
    }
}

fn header<'a>(
    buf: &'a [u8],
    n: usize,
    first: First,
    what: &str,
) -> Result<Header<'a>, DecodeError> {
    if n > MAX_VALUES {
        return err(format!(
            "bad {what}: {n} values exceed the limit {MAX_VALUES}"
        ));
    }
    let mut input = Input::new(buf);
    let mut h = Header {
        first: 0,
        min: 0,
        span: 0,
        exceptions: 0,
        patches: &[],
        payload: &[],
    };
    if n == 0 {
        input.finish(what)?;
        return Ok(h);
    }
    let x0 = input.uvarint(what)?;
    h.first = match first {
        First::Zigzag => unzigzag(x0),
        First::Plain => x0 as i64,
    };
    if n == 1 {
        input.finish(what)?;
        return Ok(h);
    }
    let span = input.uvarint(what)?;
    h.span = span >> 1;
    if h.span >= MAX_RANGE {
        return err(format!(
            "bad {what}: deltas span {} values, more than {MAX_RANGE}",
            h.span + 1
        ));
    }
    h.min = unzigzag(input.uvarint(what)?).wrapping_sub((h.span / 2) as i64);
    if span & 1 == 1 {
        let deltas = n - 1;
        h.exceptions = input.len(deltas, what)?;
        if h.exceptions == 0 {
            return err(format!("bad {what}: exception list of no exceptions"));
        }
        let at = input.position();
        let mut next = 0usize;
        for _ in 0..h.exceptions {
            let gap = input.uvarint(what)?;
            match usize::try_from(gap).ok().and_then(|g| next.checked_add(g)) {
                Some(i) if i < deltas => next = i + 1,
                _ => {
                    return err(format!(
                        "bad {what}: exception index gap {gap} after {next} of {deltas} deltas"
                    ))
                }
            }
            input.uvarint(what)?;
        }
        h.patches = buf.get(at..input.position()).unwrap_or_default();
    }
    h.payload = input.bytes(input.remaining(), what)?;
    Ok(h)
}

/// An upper bound of `|x|` over the values [`decode_into`] produces from `buf` (before
/// `finish`), from the header alone; `None` for malformed input (the decoder reports it).
pub(crate) fn magnitude_bound(buf: &[u8], n: usize, first: First) -> Option<u128> {
    let h = header(buf, n, first, "delta values").ok()?;
    // |first| < 2^64, |delta| < 2^64, n <= 2^20: the sum stays far below 2^128.
    let hi = i128::from(h.min) + i128::from(h.span);
    let step = h.min.unsigned_abs().max(hi.unsigned_abs() as u64);
    let exceptions: u128 = h
        .exceptions()
        .map(|(_, d)| u128::from(d.unsigned_abs()))
        .sum();
    let symbols = n.saturating_sub(1).saturating_sub(h.exceptions) as u128;
    Some(u128::from(h.first.unsigned_abs()) + symbols * u128::from(step) + exceptions)
}

/// Decode exactly `n` values of the delta layout from all of `buf`, appending `finish(x)` for
/// each to `out`. On error `out` is left as it was.
///
/// Without exceptions the deltas are summed and finished as the symbols come out of the
/// decoder. With exceptions there are three passes: the deltas (an exception's slot holds the
/// smallest delta, its symbol 0), the exceptions patched in, then the sums.
#[inline]
pub(crate) fn decode_into<T: Lane>(
    buf: &[u8],
    n: usize,
    first: First,
    out: &mut Vec<T>,
    what: &str,
    finish: impl Fn(i64) -> T + Copy,
) -> Result<(), DecodeError> {
    decode_prefix_into(buf, n, n, first, out, what, finish)
}

/// [`decode_into`] of `n` values that appends only the first `want` (at most `n`), decoding
/// little more than those: the values are a running sum of symbols that come out of the
/// decoder in order (see [`decode_uniform_prefix_into`]).
#[inline]
pub(crate) fn decode_prefix_into<T: Lane>(
    buf: &[u8],
    n: usize,
    want: usize,
    first: First,
    out: &mut Vec<T>,
    what: &str,
    finish: impl Fn(i64) -> T + Copy,
) -> Result<(), DecodeError> {
    let h = header(buf, n, first, what)?;
    let want = want.min(n);
    let start = out.len();
    if want == 0 {
        return Ok(());
    }
    out.resize(start + n, T::default());
    let Some((head, rest)) = out.get_mut(start..).and_then(|s| s.split_first_mut()) else {
        return Ok(());
    };
    *head = finish(h.first);
    // Deltas needed: those of values 1..want.
    let deltas = want - 1;
    let min = h.min;
    let r = if h.exceptions == 0 {
        decode_uniform_prefix_into(
            h.payload,
            h.span + 1,
            rest,
            deltas,
            h.first,
            move |acc: i64, s| {
                let acc = acc.wrapping_add(min.wrapping_add(s as i64));
                (acc, finish(acc))
            },
            what,
        )
        .map(|_| ())
    } else {
        decode_uniform_prefix_into(
            h.payload,
            h.span + 1,
            rest,
            deltas,
            (),
            |(), s| ((), T::from_raw(min.wrapping_add(s as i64) as u64)),
            what,
        )
        .and_then(|()| {
            let mut acc = h.first;
            let rest = rest.get_mut(..deltas).unwrap_or_default();
            // Exceptions are listed by ascending slot: those past the prefix are not needed.
            for (i, d) in h.exceptions().take_while(|&(i, _)| i < deltas) {
                match rest.get_mut(i) {
                    Some(slot) if slot.raw() == min as u64 => *slot = T::from_raw(d as u64),
                    _ => return err(format!("bad {what}: exception slot {i} is not zero")),
                }
            }
            for x in rest.iter_mut() {
                acc = acc.wrapping_add(x.raw() as i64);
                *x = finish(acc);
            }
            Ok(())
        })
    };
    if r.is_err() {
        out.truncate(start);
    } else {
        out.truncate(start + want);
    }
    r
}

/// Decode a uniform symbol stream of `count` symbols over `[0, r)` from all of `buf` (what
/// [`encode_uniform`] wrote for them).
pub fn decode_uniform(buf: &[u8], r: u64, count: usize) -> Result<Vec<u64>, DecodeError> {
    if count > MAX_VALUES {
        return err(format!("{count} symbols exceed the limit {MAX_VALUES}"));
    }
    let mut out = vec![0u64; count];
    decode_uniform_into(buf, r, &mut out, (), |(), s| ((), s), "symbols")?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn dividers_are_exact_at_the_edges() {
        let mut ds: Vec<u64> = (2..=1000).collect();
        for b in 1..=32u32 {
            let p = 1u64 << b;
            ds.extend([p - 1, p, p + 1, p / 3 + 1, p / 2 + 3]);
        }
        ds.extend([
            201,
            201 * 201,
            201u64.pow(4),
            40_401,
            1_632_240_801,
            2_147_483_647,
        ]);
        ds.retain(|&d| (2..=1 << 32).contains(&d));
        for d in ds {
            let big = Divider::new(d);
            let xs = [
                0,
                1,
                d - 1,
                d,
                d + 1,
                (1 << 63) - 1,
                (1 << 63) - d,
                ((1u64 << 63) - 1) / d * d,
                ((1u64 << 63) - 1) / d * d - 1,
                (1 << 62) + 12_345,
                u64::from(u32::MAX) * d.min(1 << 30),
            ];
            for x in xs {
                assert_eq!(big.div(x), x / d, "{x} / {d}");
            }
            if d <= 1 << 31 {
                let small = SmallDivider::new(d);
                let top = ((1u64 << 31) - 1) / d * d;
                for x in [
                    0,
                    1,
                    d - 1,
                    d,
                    d + 1,
                    (1 << 31) - 1,
                    top.saturating_sub(1),
                    top,
                ] {
                    assert_eq!(small.div(x), x / d, "{x} / {d}");
                }
            }
        }
    }

    proptest! {
        #[test]
        fn dividers_are_exact(d in 2u64..=1 << 32, x in 0u64..1 << 63, y in 0u64..1 << 31) {
            prop_assert_eq!(Divider::new(d).div(x), x / d);
            if d <= 1 << 31 {
                prop_assert_eq!(SmallDivider::new(d).div(y), y / d);
            }
        }
    }

    fn round_trip(symbols: &[u64], r: u64) -> usize {
        let mut buf = Vec::new();
        assert!(encode_uniform(symbols, r, &mut buf));
        assert_eq!(decode_uniform(&buf, r, symbols.len()), Ok(symbols.to_vec()));
        buf.len()
    }

    /// Bytes of `count` ideal uniform symbols over `[0, r)`.
    fn ideal_bytes(r: u64, count: usize) -> f64 {
        (r as f64).log2() * count as f64 / 8.0
    }

    /// The most bytes `count` symbols over `[0, r)` take (the bound of the module docs).
    fn max_bytes(r: u64, count: usize) -> f64 {
        let p = Params::new(r, count);
        let slack = 1.0 + p.normal as f64 * (1.0 + 1.0 / p.k as f64).log2();
        ideal_bytes(r, count) + slack / 8.0 + 1.0
    }

    #[test]
    fn costs_what_the_docs_say() {
        assert!(max_bytes(201, 999) - ideal_bytes(201, 999) < 1.4);
        // Every digit range Q keeps k >= 256.
        for r in 2..=MAX_RANGE.min(5000) {
            assert!(Params::new(r, 10).k >= 256, "{r}");
        }
        assert!(Params::new(MAX_RANGE, 10).k >= 256);
        for r in [
            2u64,
            3,
            7,
            10,
            100,
            201,
            256,
            1000,
            65_537,
            1 << 20,
            MAX_RANGE - 1,
            MAX_RANGE,
        ] {
            for count in [0usize, 1, 2, 3, 4, 5, 9, 31, 32, 33, 100, 999, 4096] {
                // Pseudo-random and extreme symbols.
                let mut s = 0x9e37_79b9_7f4a_7c15u64 ^ r;
                let mixed: Vec<u64> = (0..count)
                    .map(|_| {
                        s ^= s << 13;
                        s ^= s >> 7;
                        s ^= s << 17;
                        s % r
                    })
                    .collect();
                for symbols in [mixed, vec![r - 1; count], vec![0; count]] {
                    let len = round_trip(&symbols, r);
                    let ideal = ideal_bytes(r, count);
                    assert!(
                        len as f64 <= max_bytes(r, count),
                        "r {r} count {count}: {len} bytes, ideal {ideal:.2}"
                    );
                    // In practice: a byte for the flush and about a bit more.
                    assert!(
                        len as f64 <= ideal + 1.5,
                        "r {r} count {count}: {len} bytes, ideal {ideal:.2}"
                    );
                }
            }
        }
    }

    #[test]
    fn refuses_what_it_cannot_code() {
        let mut buf = Vec::new();
        assert!(!encode_uniform(&[0], 0, &mut buf));
        assert!(!encode_uniform(&[0], MAX_RANGE + 1, &mut buf));
        assert!(!encode_uniform(&[1, 5], 5, &mut buf));
        assert!(buf.is_empty());
        assert!(encode_uniform(&[0, 0, 0], 1, &mut buf));
        assert!(buf.is_empty(), "R = 1 takes no bytes");
        assert_eq!(decode_uniform(&[], 1, 3), Ok(vec![0, 0, 0]));
        assert!(decode_uniform(&[1], 1, 3).is_err());
        assert!(decode_uniform(&[1], 0, 1).is_err());
        assert!(decode_uniform(&[1, 0, 0, 0, 0], MAX_RANGE + 1, 1).is_err());
    }

    #[test]
    fn malformed_streams_are_errors() {
        let symbols: Vec<u64> = (0..1000u64).map(|i| i * 7919 % 201).collect();
        let mut buf = Vec::new();
        assert!(encode_uniform(&symbols, 201, &mut buf));
        // Truncated, or one byte or word too many.
        for cut in [0, 1, 3, 4, 5, buf.len() - 4, buf.len() - 1] {
            assert!(decode_uniform(&buf[..cut], 201, 1000).is_err(), "cut {cut}");
        }
        let mut long = buf.clone();
        long.extend_from_slice(&[1, 2, 3, 4]);
        assert!(decode_uniform(&long, 201, 1000).is_err());
        long.truncate(buf.len() + 1);
        assert!(decode_uniform(&long, 201, 1000).is_err());
        // Wrong count or range.
        assert!(decode_uniform(&buf, 201, 999).is_err());
        assert!(decode_uniform(&buf, 201, 1001).is_err());
        assert!(decode_uniform(&buf, 200, 1000).is_err());
        // State out of range: a zero state, a state of all ones, a non-shortest state.
        let state_len = MIN_STATE_BYTES + buf.len() % 4;
        for fill in [0u8, 0xff] {
            let mut bad = buf.clone();
            bad[..state_len].fill(fill);
            assert!(decode_uniform(&bad, 201, 1000).is_err(), "{fill}");
        }
        // A short block: state above its range, below it, and with a zero top byte.
        let mut short = Vec::new();
        assert!(encode_uniform(&[3, 4], 10, &mut short));
        assert_eq!(short, vec![100 + 43]);
        assert!(decode_uniform(&[200], 10, 2).is_err());
        assert!(decode_uniform(&[99], 10, 2).is_err());
        assert!(decode_uniform(&[143, 0], 10, 2).is_err());
        assert!(decode_uniform(&[], 10, 2).is_err());
    }

    proptest! {
        #[test]
        fn any_symbols_round_trip(
            r in prop_oneof![1u64..300, 2u64..=MAX_RANGE, Just(MAX_RANGE), Just(1u64), Just(2u64), Just(3u64)],
            raw in prop::collection::vec(any::<u64>(), 0..600),
            extreme in any::<bool>(),
        ) {
            let symbols: Vec<u64> = raw.iter().map(|&s| if extreme { (r - 1) * (s & 1) } else { s % r }).collect();
            let mut buf = Vec::new();
            prop_assert!(encode_uniform(&symbols, r, &mut buf));
            prop_assert_eq!(decode_uniform(&buf, r, symbols.len()), Ok(symbols.clone()));
            if r == 1 || symbols.is_empty() {
                prop_assert!(buf.is_empty());
            } else {
                prop_assert!(buf.len() as f64 <= max_bytes(r, symbols.len()));
            }
        }

        #[test]
        fn decoding_never_panics(
            r in prop_oneof![0u64..300, any::<u64>(), Just(MAX_RANGE)],
            buf in prop::collection::vec(any::<u8>(), 0..64),
            count in 0usize..200,
        ) {
            let _ = decode_uniform(&buf, r, count);
        }

        #[test]
        fn mutated_streams_never_panic(
            r in 2u64..=MAX_RANGE,
            raw in prop::collection::vec(any::<u64>(), 1..300),
            flips in prop::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        ) {
            let symbols: Vec<u64> = raw.iter().map(|&s| s % r).collect();
            let mut buf = Vec::new();
            prop_assert!(encode_uniform(&symbols, r, &mut buf));
            for (i, x) in &flips {
                let i = i.index(buf.len());
                buf[i] ^= x;
            }
            if let Ok(back) = decode_uniform(&buf, r, symbols.len()) {
                prop_assert!(back.iter().all(|&s| s < r));
            }
        }

        #[test]
        fn any_integers_round_trip_or_refuse(
            v in prop_oneof![
                prop::collection::vec(prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -3i64..3], 0..300),
                (any::<i64>(), prop::collection::vec(-100i64..=100, 0..300)).prop_map(|(s, d)| {
                    d.iter().scan(s, |x, &d| { *x = x.wrapping_add(d); Some(*x) }).collect()
                }),
                (any::<i64>(), 0u64..=MAX_RANGE + 1, prop::collection::vec(any::<u64>(), 0..300)).prop_map(|(s, r, d)| {
                    // Deltas filling a range of r values (r = MAX_RANGE + 1 is one too wide).
                    let mut x = s;
                    let lo = -((r / 2) as i64);
                    d.iter().enumerate().map(|(i, &d)| {
                        let d = match i { 1 => 0, 2 => r.saturating_sub(1), _ => d % r.max(1) };
                        x = x.wrapping_add(lo.wrapping_add(d as i64));
                        x
                    }).collect()
                }),
            ],
            plain in any::<bool>(),
        ) {
            let first = if plain { First::Plain } else { First::Zigzag };
            let mut buf = vec![9];
            let span = v.windows(2).map(|w| w[1].wrapping_sub(w[0])).fold(None, |acc: Option<(i64, i64)>, d| {
                Some(acc.map_or((d, d), |(lo, hi)| (lo.min(d), hi.max(d))))
            }).map_or(0, |(lo, hi)| hi.wrapping_sub(lo) as u64);
            let ok = encode(&v, first, &mut buf);
            // Exceptions may frame even a wider span.
            prop_assert!(ok || span >= MAX_RANGE, "span {}", span);
            if !ok {
                prop_assert_eq!(&buf, &vec![9]);
                return Ok(());
            }
            let mut out = vec![7i64];
            decode_into(&buf[1..], v.len(), first, &mut out, "t", |x| x).map_err(|e| TestCaseError::fail(e.0))?;
            prop_assert_eq!(&out[1..], &v[..]);
            let max = v.iter().map(|x| u128::from(x.unsigned_abs())).max().unwrap_or(0);
            let bound = magnitude_bound(&buf[1..], v.len(), first);
            prop_assert!(bound.is_some_and(|b| b >= max), "{:?} < {}", bound, max);
            // Truncated: no panic, and on error the output is left as it was. (Dropping a whole
            // word is always detected; a byte or two may leave a stream that still decodes to
            // something: the code has no redundancy, the block's crc catches that.)
            for cut in [1, 4] {
                if buf.len() > cut {
                    let mut out = vec![7i64];
                    let short = &buf[1..buf.len() - cut];
                    if decode_into(short, v.len(), first, &mut out, "t", |x| x).is_err() {
                        prop_assert_eq!(out, vec![7]);
                    }
                }
            }
        }
    }

    #[test]
    fn outliers_become_exceptions() {
        // A walk of steps in -1..=1 with a gap (one step of +500) and a reset (one of -9000).
        let mut x = 0i64;
        let mut v: Vec<i64> = (0..1000i64)
            .map(|i| {
                x += i * 7919 % 3 - 1;
                x
            })
            .collect();
        v[300..].iter_mut().for_each(|x| *x += 500);
        v[700..].iter_mut().for_each(|x| *x -= 9000);
        let mut buf = Vec::new();
        assert!(encode(&v, First::Zigzag, &mut buf));
        // 999 deltas of R = 3 (1.58 bits each), two exceptions of a few bytes.
        assert!(buf.len() <= 999 * 1585 / 8000 + 16, "{} bytes", buf.len());
        let mut out = Vec::new();
        decode_into(&buf, v.len(), First::Zigzag, &mut out, "t", |x| x).expect("decode");
        assert_eq!(out, v);
        // The flag is set and the list holds indexes 299 and 699.
        let h = header(&buf, v.len(), First::Zigzag, "t").expect("header");
        assert_eq!(h.exceptions, 2);
        assert_eq!(h.span, 2);
        let list: Vec<(usize, i64)> = h.exceptions().collect();
        assert_eq!(list.iter().map(|e| e.0).collect::<Vec<_>>(), vec![299, 699]);
    }

    #[test]
    fn malformed_exception_lists_are_errors() {
        let ok = |b: &[u8], n| decode_into::<i64>(b, n, First::Zigzag, &mut Vec::new(), "t", |x| x);
        // first 0, span 0 with exceptions, centre 0, then the list; R = 1, no stream.
        let head = [0u8, 1, 0];
        assert_eq!(
            decode_into::<i64>(
                &[0, 1, 0, 1, 1, 8],
                4,
                First::Zigzag,
                &mut Vec::new(),
                "t",
                |x| x
            ),
            Ok(())
        );
        let mut out = Vec::new();
        decode_into(&[0, 1, 0, 1, 1, 8], 4, First::Zigzag, &mut out, "t", |x| x).expect("ok");
        assert_eq!(out, vec![0, 0, 4, 4], "delta 1 is 4");
        for (list, why) in [
            (&[0][..], "flag without exceptions"),
            (&[1, 3, 8], "index past the deltas"),
            (&[2, 1, 8, 1, 8], "second index past the deltas"),
            (&[4, 0, 1, 0, 1, 0, 1, 0, 1], "more exceptions than deltas"),
            (&[1, 1], "truncated delta"),
            (&[1], "truncated list"),
            (
                &[
                    1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 8,
                ],
                "gap overflows",
            ),
        ] {
            let b = [&head[..], list].concat();
            assert!(ok(&b, 4).is_err(), "{why}: {b:?}");
        }
        // An exception slot whose symbol is not 0: R = 2 (span 1), deltas 0 and 1.
        let mut b = vec![0, 3, 0, 1, 0, 8];
        assert!(encode_uniform(&[1, 0, 0], 2, &mut b));
        let mut out = vec![7];
        assert!(decode_into(&b, 4, First::Zigzag, &mut out, "t", |x| x).is_err());
        assert_eq!(out, vec![7], "unchanged on error");
        let mut b = vec![0, 3, 0, 1, 0, 8];
        assert!(encode_uniform(&[0, 1, 0], 2, &mut b));
        let mut out = Vec::new();
        decode_into(&b, 4, First::Zigzag, &mut out, "t", |x| x).expect("ok");
        assert_eq!(out, vec![0, 4, 5, 5]);
    }

    #[test]
    fn delta_headers_are_small_and_checked() {
        // A constant step: first, span 0, centre; no payload.
        let v: Vec<i64> = (0..1000).map(|i| 5 + 3 * i).collect();
        let mut buf = Vec::new();
        assert!(encode(&v, First::Zigzag, &mut buf));
        assert_eq!(buf, vec![10, 0, 6]);
        let ok = |b: &[u8], n| decode_into::<i64>(b, n, First::Zigzag, &mut Vec::new(), "t", |x| x);
        assert!(ok(&buf, 1000).is_ok());
        assert!(ok(&[10, 0, 6, 1], 1000).is_err(), "payload with R = 1");
        assert!(ok(&[], 0).is_ok());
        assert!(ok(&[1], 0).is_err());
        assert!(ok(&[10], 1).is_ok());
        assert!(ok(&[10, 0], 1).is_err());
        assert!(ok(&[10, 0], 2).is_err(), "no centre");
        assert!(ok(&[10], MAX_VALUES + 1).is_err());
        // R = MAX_RANGE is the limit: a span of MAX_RANGE is refused.
        let mut wide = Vec::new();
        put_uvarint(&mut wide, 20);
        put_uvarint(&mut wide, MAX_RANGE << 1);
        put_uvarint(&mut wide, 0);
        wide.extend_from_slice(&[1, 0, 0, 0, 1]);
        assert!(ok(&wide, 2).is_err(), "span of MAX_RANGE + 1 values");
        // Deltas of i64::MAX, 1 and i64::MIN: the two extreme ones become exceptions.
        let v = [0, i64::MAX, i64::MIN, 0];
        let mut buf = Vec::new();
        assert!(encode(&v, First::Zigzag, &mut buf));
        // first 0, span 0 with exceptions, centre (one of the deltas), 2 exceptions (the others,
        // relative to it, wrapping, one taking 10 bytes); R = 1, no symbol stream.
        assert_eq!(&buf[..2], &[0, 1]);
        assert!(buf.len() <= 26, "{buf:?}");
        let mut out = Vec::new();
        decode_into(&buf, 4, First::Zigzag, &mut out, "t", |x| x).expect("decode");
        assert_eq!(out, v);
        // Too many extreme deltas on both sides for the exception list: refused.
        let v: Vec<i64> = (0..40)
            .map(|i| if i % 2 == 0 { 0 } else { i64::MAX })
            .collect();
        assert!(
            !encode(&v, First::Zigzag, &mut Vec::new()),
            "deltas span 2^64"
        );
        let v = [i64::MIN, i64::MAX, i64::MIN];
        let mut buf = Vec::new();
        assert!(
            encode(&v, First::Zigzag, &mut buf),
            "wrapping deltas -1 and 1"
        );
        let mut out = Vec::new();
        decode_into(&buf, 3, First::Zigzag, &mut out, "t", |x| x).expect("decode");
        assert_eq!(out, v);
    }
}
