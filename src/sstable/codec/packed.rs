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
//!
//! # Patched variant (PFOR-style exceptions)
//!
//! One bit width for every value lets a single outlier (a gap in a regular series, a counter
//! reset) widen all of them. The patched variant packs most residuals at a small width and lists
//! the few that do not fit as exceptions:
//!
//! ```text
//! order u8 | seeds | base: zigzag varint | width u8 (0..=64) | exceptions e: varint (<= n - order)
//! | residuals: (n - order) slots of `width` bits, LSB-first, zero-padded to a byte
//! | e times: index gap varint | residual: zigzag varint of (r[i] - base), wrapping
//! ```
//!
//! The slot of an exception holds 0 (the decoder rejects anything else); its residual is stored
//! whole, relative to `base` and zigzagged, so exceptions may lie below `base` (here `base` is
//! the smallest residual of the values that are *not* exceptions, so a single large negative
//! step does not shift the frame for everyone). Exception indexes (into the slots, 0-based) are
//! strictly increasing: the first gap is the first index, each next gap is `index - previous - 1`.
//! Decoding unpacks every slot with the same loop as the plain layout, overwrites the `e`
//! exception slots, then rebuilds the values exactly as the plain layout does.
//!
//! The encoder minimises the exact encoded size over the order, `base` (the smallest residual,
//! one of the next [`LOW_TRIM`] distinct smallest, or the residual at rank 1/64, 1/16, 1/4 or
//! 1/2 of the sorted residuals; the ones below `base` become exceptions) and
//! the width: a histogram of residual bit widths gives a lower bound on the size for every
//! width, and widths are tried in increasing order of that bound until it reaches the best exact
//! size found. [`encode_best`] keeps the plain layout when the patched one is not smaller.

use super::bits::{self, Lane};
use super::{err, put_uvarint, unzigzag, zigzag, DecodeError, Input, MAX_VALUES};

pub(crate) fn uvarint_len(v: u64) -> usize {
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

/// Which of the two layouts a packed encoding uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variant {
    /// One width for every residual.
    Plain,
    /// A width for most residuals plus an exception list.
    Patched,
}

/// How many of the smallest distinct residuals (beyond the minimum) the patched encoder tries as
/// `base`, making the ones below it exceptions.
pub(crate) const LOW_TRIM: usize = 4;

/// The patched encoding of one residual sequence: `base`, `width` and the encoded size of
/// everything from `base` on.
#[derive(Clone, Copy, Debug)]
struct Plan {
    base: i64,
    width: u32,
    size: usize,
}

/// Whether residual `x` is an exception at (`base`, `w`).
#[inline]
fn is_exception(x: i64, base: i64, w: u32) -> bool {
    x < base || bits::width(x.wrapping_sub(base) as u64) > w
}

/// Exact size of the exception list at (`base`, `w`), and the exception count.
fn exceptions_size(r: &[i64], base: i64, w: u32) -> (usize, usize) {
    let (mut size, mut count, mut next) = (0usize, 0usize, 0usize);
    for (i, &x) in r.iter().enumerate() {
        if is_exception(x, base, w) {
            size += uvarint_len((i - next) as u64) + uvarint_len(zigzag(x.wrapping_sub(base)));
            count += 1;
            next = i + 1;
        }
    }
    (size, count)
}

/// The smallest patched encoding of residuals `r`.
fn plan(r: &[i64]) -> Plan {
    let m = r.len();
    let mut sorted = r.to_vec();
    sorted.sort_unstable();
    let quantiles = [64, 16, 4, 2].map(|q| sorted.get(m / q).copied());
    sorted.dedup();
    let mut candidates: Vec<i64> = sorted.iter().take(LOW_TRIM + 1).copied().collect();
    candidates.extend(quantiles.into_iter().flatten());
    candidates.sort_unstable();
    candidates.dedup();
    let mut best: Option<Plan> = None;
    for base in candidates {
        // Per fitting width b (0..=64; 65 = below base): how many residuals, and what they
        // would cost as exceptions.
        let mut count = [0usize; 66];
        let mut cost = [0usize; 66];
        for &x in r {
            let d = x.wrapping_sub(base);
            let b = if x < base {
                65
            } else {
                bits::width(d as u64) as usize
            };
            if let (Some(c), Some(k)) = (count.get_mut(b), cost.get_mut(b)) {
                *c += 1;
                *k += uvarint_len(zigzag(d));
            }
        }
        let fixed = uvarint_len(zigzag(base)) + 1;
        // Lower bound of the size at each width: every exception index takes at least a byte.
        let mut bounds: Vec<(usize, u32)> = Vec::with_capacity(65);
        let (mut e, mut ec) = (0usize, 0usize);
        for w in (0..=64u32).rev() {
            let above = w as usize + 1;
            e += count.get(above).copied().unwrap_or(0);
            ec += cost.get(above).copied().unwrap_or(0);
            let packed = bits::packed_len(m, w).unwrap_or(usize::MAX);
            bounds.push((
                fixed
                    .saturating_add(packed)
                    .saturating_add(uvarint_len(e as u64) + ec + e),
                w,
            ));
        }
        bounds.sort_unstable();
        for (bound, w) in bounds {
            if best.is_some_and(|b| bound >= b.size) {
                break;
            }
            let (xs, e) = exceptions_size(r, base, w);
            let size = fixed
                .saturating_add(uvarint_len(e as u64))
                .saturating_add(bits::packed_len(m, w).unwrap_or(usize::MAX))
                .saturating_add(xs);
            if best.is_none_or(|b| size < b.size) {
                best = Some(Plan {
                    base,
                    width: w,
                    size,
                });
            }
        }
    }
    best.unwrap_or(Plan {
        base: 0,
        width: 0,
        size: 3,
    })
}

/// Append `v` in the patched layout at the best order of `orders` (each 0, 1 or 2).
pub(crate) fn encode_patched(v: &[i64], orders: &[usize], out: &mut Vec<u8>) {
    let mut scratch = Vec::with_capacity(v.len());
    let s = seeds(v);
    let mut best: Option<(usize, usize, Plan)> = None; // size, order, plan
    for &order in orders {
        let order = order.min(2).min(v.len());
        residuals(v, order, &mut scratch);
        let p = plan(&scratch);
        let size = 1
            + s.iter()
                .take(order)
                .map(|&x| uvarint_len(zigzag(x)))
                .sum::<usize>()
            + p.size;
        if best.is_none_or(|b| size < b.0) {
            best = Some((size, order, p));
        }
    }
    let Some((size, order, p)) = best else {
        return;
    };
    residuals(v, order, &mut scratch);
    let (base, w) = (p.base, p.width);
    out.reserve(size);
    out.push(order as u8);
    for &x in s.iter().take(order) {
        put_uvarint(out, zigzag(x));
    }
    put_uvarint(out, zigzag(base));
    out.push(w as u8);
    let (_, e) = exceptions_size(&scratch, base, w);
    put_uvarint(out, e as u64);
    bits::pack(
        scratch.iter().map(|&x| {
            if is_exception(x, base, w) {
                0
            } else {
                x.wrapping_sub(base) as u64
            }
        }),
        w,
        out,
    );
    let mut next = 0usize;
    for (i, &x) in scratch.iter().enumerate() {
        if is_exception(x, base, w) {
            put_uvarint(out, (i - next) as u64);
            put_uvarint(out, zigzag(x.wrapping_sub(base)));
            next = i + 1;
        }
    }
}

/// Append `v` at the best order of `orders` in whichever of the plain and patched layouts is
/// smaller (plain on a tie: it decodes a little faster). Returns the layout used.
pub(crate) fn encode_best(v: &[i64], orders: &[usize], out: &mut Vec<u8>) -> Variant {
    let start = out.len();
    encode(v, orders, out);
    let plain_len = out.len() - start;
    if !worth_patching(v, orders, &out[start..]) {
        return Variant::Plain;
    }
    let mut patched = Vec::new();
    encode_patched(v, orders, &mut patched);
    if patched.len() < plain_len {
        out.truncate(start);
        out.extend_from_slice(&patched);
        Variant::Patched
    } else {
        Variant::Plain
    }
}

/// Whether the (much slower) patched search can pay off: only when, at one of `orders`, all
/// but a few residuals lie within a range at least [`PATCH_GAIN_BITS`] - 1 bits narrower than
/// the plain layout spends on every value — the signature of a few outliers (a gap in a regular
/// series, a counter reset, a spike). Smooth data (random walks, jitter) has no such gap and
/// keeps the plain encoder's speed. A couple of branch-free passes per order; no sort.
fn worth_patching(v: &[i64], orders: &[usize], plain: &[u8]) -> bool {
    let n = v.len();
    // At most about one bit per value already: there is little left to win.
    if plain.len() <= 16 + n / 8 {
        return false;
    }
    // Bits per value of the plain layout (its header is a few bytes: order, seeds, base, width).
    let plain_bits = (plain.len().saturating_sub(4) * 8).div_ceil(n.max(1)) as u32;
    let Some(target) = plain_bits.checked_sub(PATCH_GAIN_BITS) else {
        return false;
    };
    let mut r = Vec::with_capacity(n);
    orders.iter().any(|&order| {
        residuals(v, order.min(2).min(n), &mut r);
        let m = r.len();
        // Outliers allowed: 2% of the block, and at least a dozen (a few outliers at order 2
        // make up to three exceptions each) while that leaves half the block.
        let allowed = (m / 50).max(12.min(m / 4));
        // Residuals within ±2^target of a reference residual span target + 1 bits, so fitting
        // saves at least PATCH_GAIN_BITS - 1 bits per value. Two references, in case one is
        // itself an outlier; outliers may lie on both sides (a gap at order 2 gives +gap then
        // -gap).
        [m / 3, 2 * m / 3]
            .iter()
            .filter_map(|&i| r.get(i).copied())
            .any(|reference| {
                let fit = r
                    .iter()
                    .filter(|&&x| bits::width(zigzag(x.wrapping_sub(reference))) <= target + 1)
                    .count();
                m > 0 && fit + allowed >= m
            })
    })
}

/// Bits per value the middle of a block must save before the patched layout is tried.
const PATCH_GAIN_BITS: u32 = 3;

/// A parsed header with its packed residuals.
struct Header<'a> {
    order: usize,
    seeds: [i64; 2],
    base: i64,
    width: u32,
    packed: &'a [u8],
    /// Patched layout: the exception count and the exception list bytes.
    exceptions: usize,
    patches: &'a [u8],
}

fn header<'a>(
    buf: &'a [u8],
    n: usize,
    variant: Variant,
    what: &str,
) -> Result<Header<'a>, DecodeError> {
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
    let exceptions = match variant {
        Variant::Plain => 0,
        Variant::Patched => input.len(count, what)?,
    };
    let packed_len = match variant {
        Variant::Plain => input.remaining(),
        Variant::Patched => bits::packed_len(count, width).unwrap_or(usize::MAX),
    };
    let packed = input.bytes(packed_len, what)?;
    if Some(packed.len()) != bits::packed_len(count, width) {
        return err(format!(
            "bad {what}: {} packed bytes for {count} values of {width} bits",
            packed.len()
        ));
    }
    bits::check_padding(packed, count * width as usize, what)?;
    let patches = input.bytes(input.remaining(), what)?;
    Ok(Header {
        order,
        seeds,
        base,
        width,
        packed,
        exceptions,
        patches,
    })
}

/// Overwrite the exception slots of `slots` (raw residuals, all 0) with their residuals.
fn patch<T: Lane>(h: &Header<'_>, slots: &mut [T], what: &str) -> Result<(), DecodeError> {
    let n = slots.len();
    exceptions(h, n, what, |i, residual| {
        // `exceptions` checked `i < n`.
        let Some(slot) = slots.get_mut(i).filter(|s| s.raw() == 0) else {
            return err(format!("bad {what}: exception slot {i} is not zero"));
        };
        *slot = T::from_raw(residual as u64);
        Ok(())
    })
}

/// Read the exception list of `h` (over `slots` slots): `f(slot, residual relative to base)`
/// for each, in increasing slot order. Rejects a slot past the last, a truncated list and
/// trailing bytes.
fn exceptions(
    h: &Header<'_>,
    slots: usize,
    what: &str,
    mut f: impl FnMut(usize, i64) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let mut input = Input::new(h.patches);
    let mut next = 0usize;
    for _ in 0..h.exceptions {
        let gap = input.uvarint(what)?;
        let Some(i) = usize::try_from(gap).ok().and_then(|g| next.checked_add(g)) else {
            return err(format!("bad {what}: exception index gap {gap}"));
        };
        if i >= slots {
            return err(format!(
                "bad {what}: exception index {i} past {slots} slots"
            ));
        }
        f(i, unzigzag(input.uvarint(what)?))?;
        next = i + 1;
    }
    input.finish(what)
}

/// An upper bound of `|x|` over the values [`decode_into`] produces from `buf` (before
/// `finish`), from the header alone: residuals lie in `[base, base + 2^width)`, and each order
/// sums at most `n` of them (with the seeds), so nothing wraps below the bound. `None` for
/// the patched layout with exceptions (whose residuals the header does not bound) and for
/// malformed input (the decoder reports it).
pub(crate) fn magnitude_bound(buf: &[u8], n: usize, variant: Variant) -> Option<u128> {
    let h = header(buf, n, variant, "packed values").ok()?;
    if h.exceptions != 0 {
        return None;
    }
    // Residuals lie in [base, base + 2^width - 1]. With width <= 64 and n <= MAX_VALUES = 2^20
    // the bound is at most 2^20 * (2^63 + 2^20 * 2^65) < 2^128.
    let hi = i128::from(h.base) + (1i128 << h.width) - 1;
    let r = u128::from(h.base.unsigned_abs()).max(hi.unsigned_abs());
    let [s0, s1] = h.seeds.map(|s| u128::from(s.unsigned_abs()));
    let n = n as u128;
    Some(match h.order {
        0 => r,
        1 => s0 + n * r,
        _ => s0 + n * (s1 + n * r),
    })
}

/// Whether the header alone proves that the values [`decode_into`] produces from `buf` are
/// strictly ascending: a constant positive step (order 1, width 0, no exceptions) whose last
/// value does not pass `i64::MAX`. `false` says nothing (the values may still ascend).
pub(crate) fn ascending_by_header(buf: &[u8], n: usize, variant: Variant) -> bool {
    let what = "packed values";
    let Ok(h) = header(buf, n, variant, what) else {
        return false;
    };
    if h.order != 1 || h.width != 0 {
        return false;
    }
    // Every step is positive and their exact sum keeps the last value within i64: no step
    // wraps, so the values ascend strictly.
    let slots = n - 1;
    let mut positive = h.base > 0 || h.exceptions == slots;
    let mut sum = i128::from(h.base) * (slots - h.exceptions) as i128;
    let steps = exception_steps(&h, slots, what, |_, step| {
        positive &= step > 0;
        sum += i128::from(step);
    });
    steps.is_ok() && positive && i128::from(h.seeds[0]) + sum <= i128::from(i64::MAX)
}

/// Decode exactly `n` values in layout `variant` from all of `buf`, appending `finish(x)` for
/// each to `out`. On error `out` is left as it was.
#[inline]
pub(crate) fn decode_into<T: Lane>(
    buf: &[u8],
    n: usize,
    variant: Variant,
    out: &mut Vec<T>,
    what: &str,
    finish: impl Fn(i64) -> T,
) -> Result<(), DecodeError> {
    let h = header(buf, n, variant, what)?;
    if h.width == 0 && h.exceptions == 0 && h.patches.is_empty() {
        constant_residuals(&h, n, out, finish);
        return Ok(());
    }
    if h.width == 0 && h.order == 1 {
        return constant_steps_with_exceptions(&h, n, out, what, finish);
    }
    let start = out.len();
    out.resize(start + n, T::default());
    let (head, tail) = out[start..].split_at_mut(h.order);
    bits::unpack(h.packed, h.width, tail);
    if h.exceptions != 0 || !h.patches.is_empty() {
        if let Err(e) = patch(&h, tail, what) {
            out.truncate(start);
            return Err(e);
        }
    }
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

/// The steps of a width-0 order-1 patched layout: `base`, except at the exception slots.
/// `f(slot, step)` is called for each exception, in increasing slot order (see
/// [`exceptions`]).
fn exception_steps(
    h: &Header<'_>,
    slots: usize,
    what: &str,
    mut f: impl FnMut(usize, i64),
) -> Result<(), DecodeError> {
    exceptions(h, slots, what, |i, residual| {
        f(i, h.base.wrapping_add(residual));
        Ok(())
    })
}

/// [`decode_into`] for a width-0 order-1 layout with exceptions (a regular series with a few
/// gaps): runs of the constant step between the exceptions, with nothing to unpack. The same
/// values as unpacking zeros, patching and summing. On error `out` is left as it was.
fn constant_steps_with_exceptions<T: Lane>(
    h: &Header<'_>,
    n: usize,
    out: &mut Vec<T>,
    what: &str,
    finish: impl Fn(i64) -> T,
) -> Result<(), DecodeError> {
    let start = out.len();
    let slots = n - h.order;
    out.reserve(n);
    let mut acc = h.seeds[0];
    out.push(finish(acc));
    let mut done = 0usize; // slots written
    let read = exception_steps(h, slots, what, |i, step| {
        // `i >= done`: exception slots strictly increase.
        extend_steps(out, &mut acc, h.base, i - done, &finish);
        acc = acc.wrapping_add(step);
        out.push(finish(acc));
        done = i + 1;
    });
    if let Err(e) = read {
        out.truncate(start);
        return Err(e);
    }
    extend_steps(out, &mut acc, h.base, slots - done, &finish);
    Ok(())
}

/// Append `k` values, each `step` past the previous (`acc`, which ends at the last).
#[inline]
fn extend_steps<T: Lane>(
    out: &mut Vec<T>,
    acc: &mut i64,
    step: i64,
    k: usize,
    finish: &impl Fn(i64) -> T,
) {
    let mut x = *acc;
    out.extend((0..k).map(|_| {
        x = x.wrapping_add(step);
        finish(x)
    }));
    *acc = x;
}

/// [`decode_into`] when every residual is `base` (width 0, no exceptions: a constant, a
/// constant step, a constant second difference): no residuals to unpack or zero-fill.
fn constant_residuals<T: Lane>(
    h: &Header<'_>,
    n: usize,
    out: &mut Vec<T>,
    finish: impl Fn(i64) -> T,
) {
    let (base, [s0, s1]) = (h.base, h.seeds);
    // The recurrences of `decode_into` with every residual `base` (wrapping): x[i] = x[i-1] +
    // base at order 1 (a linear induction, which vectorises as such), x[i] = x[i-1] + d[i],
    // d[i] = d[i-1] + base at order 2 (two independent one-cycle chains).
    let (mut x, mut d) = (s0, s1);
    match h.order {
        0 => out.extend((0..n).map(|_| finish(base))),
        1 => out.extend((0..n).map(|_| {
            let y = x;
            x = x.wrapping_add(base);
            finish(y)
        })),
        _ => out.extend((0..n).map(|_| {
            let y = x;
            x = x.wrapping_add(d);
            d = d.wrapping_add(base);
            finish(y)
        })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn round_trip(v: &[i64], orders: &[usize]) -> (usize, Vec<i64>) {
        let mut buf = Vec::new();
        encode(v, orders, &mut buf);
        let mut out = vec![42];
        decode_into(&buf, v.len(), Variant::Plain, &mut out, "test", |x| x).expect("decode");
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
        let ok =
            |b: &[u8], n| decode_into::<i64>(b, n, Variant::Plain, &mut Vec::new(), "t", |x| x);
        assert!(ok(&[0, 0, 0], 5).is_ok());
        assert!(ok(&[3, 0, 0], 5).is_err(), "order 3");
        assert!(ok(&[2, 0, 0, 0, 0], 1).is_err(), "order above n");
        assert!(ok(&[0, 0, 65], 0).is_err(), "width 65");
        assert!(ok(&[0, 0, 1, 0b1], 1).is_ok());
        assert!(ok(&[0, 0, 1, 0b11], 1).is_err(), "padding bits");
        assert!(ok(&[0, 0, 1, 0, 0], 1).is_err(), "trailing byte");
        assert!(ok(&[0, 0, 0], MAX_VALUES + 1).is_err(), "too many values");
        let mut out = vec![1i64];
        assert!(decode_into(&[0, 0, 8], 2, Variant::Plain, &mut out, "t", |x| x).is_err());
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

    fn round_trip_best(v: &[i64], orders: &[usize]) -> (Variant, usize, Vec<i64>) {
        let mut buf = Vec::new();
        let variant = encode_best(v, orders, &mut buf);
        let mut out = vec![42];
        decode_into(&buf, v.len(), variant, &mut out, "test", |x| x).expect("decode");
        assert_eq!(out.first(), Some(&42), "appends");
        (variant, buf.len(), out.split_off(1))
    }

    #[test]
    fn one_gap_is_an_exception_not_a_width() {
        let mut ts: Vec<i64> = (0..1000)
            .map(|i| 1_700_000_000_000_000_000 + i * 10_000_000_000)
            .collect();
        ts.drain(400..460);
        let (variant, len, back) = round_trip_best(&ts, &[1, 2]);
        assert_eq!(back, ts);
        assert_eq!(variant, Variant::Patched);
        assert!(len <= 32, "{len} bytes");
    }

    #[test]
    fn a_negative_outlier_does_not_shift_the_frame() {
        // A counter that resets once: the one negative delta is an exception below `base`.
        let v: Vec<i64> = (0..1000).map(|i| (i % 700) * 3 + 1_000_000).collect();
        let (variant, len, back) = round_trip_best(&v, &[0, 1, 2]);
        assert_eq!(back, v);
        assert_eq!(variant, Variant::Patched);
        assert!(len <= 24, "{len} bytes");
    }

    #[test]
    fn constant_steps_with_exceptions_decode_and_reject_like_patching() {
        let dec = |b: &[u8], n| {
            let mut out = vec![9i64];
            decode_into::<i64>(b, n, Variant::Patched, &mut out, "t", |x| x).map(|()| out)
        };
        // order 1, seed 0, base 1 (zigzag 2), width 0, 1 exception at slot 1 of base + 2.
        assert_eq!(dec(&[1, 0, 2, 0, 1, 1, 4], 3), Ok(vec![9, 0, 1, 4]));
        assert!(ascending_by_header(
            &[1, 0, 2, 0, 1, 1, 4],
            3,
            Variant::Patched
        ));
        // The exception steps back (base - 3 = -2): not ascending.
        assert_eq!(dec(&[1, 0, 2, 0, 1, 1, 5], 3), Ok(vec![9, 0, 1, -1]));
        assert!(!ascending_by_header(
            &[1, 0, 2, 0, 1, 1, 5],
            3,
            Variant::Patched
        ));
        // A seed near i64::MAX whose steps would wrap is not proven ascending.
        let mut near = vec![1];
        put_uvarint(&mut near, zigzag(i64::MAX - 2));
        near.extend_from_slice(&[2, 0, 1, 1, 4]);
        assert!(!ascending_by_header(&near, 3, Variant::Patched));
        for (bad, why) in [
            (&[1, 0, 2, 0, 1, 2, 4][..], "index past the slots"),
            (&[1, 0, 2, 0, 2, 0, 4], "missing exception"),
            (&[1, 0, 2, 0, 1, 1, 4, 0], "trailing byte"),
            (&[1, 0, 2, 0, 1, 1], "truncated residual"),
        ] {
            let mut out = vec![1i64];
            let r = decode_into::<i64>(bad, 3, Variant::Patched, &mut out, "t", |x| x);
            assert!(r.is_err(), "{why}");
            assert_eq!(out, vec![1], "unchanged on error: {why}");
            assert!(!ascending_by_header(bad, 3, Variant::Patched), "{why}");
        }
    }

    proptest! {
        /// A regular series with gaps (the timestamps of a table whose writers straddled a
        /// memtable freeze) round-trips at order 1, and when it is coded at width 0 the header
        /// and exceptions prove it ascending exactly when it is.
        #[test]
        fn constant_steps_with_gaps_round_trip(
            start in -1_000_000_000_000i64..1_000_000_000_000,
            step in 1i64..100_000_000_000,
            len in 2usize..1000,
            gaps in prop::collection::vec(
                (any::<prop::sample::Index>(), -200_000_000_000i64..200_000_000_000),
                0..5,
            ),
        ) {
            let mut steps = vec![step; len - 1];
            for (i, g) in &gaps {
                steps[i.index(len - 1)] = *g;
            }
            let mut v = vec![start];
            for st in steps {
                let last = *v.last().unwrap();
                v.push(last + st);
            }
            let mut buf = Vec::new();
            encode_patched(&v, &[1], &mut buf);
            let mut out = vec![7i64];
            decode_into(&buf, len, Variant::Patched, &mut out, "t", |x| x).unwrap();
            prop_assert_eq!(&out[1..], &v[..]);
            let strictly = v.windows(2).all(|w| w[0] < w[1]);
            let claimed = ascending_by_header(&buf, len, Variant::Patched);
            prop_assert!(!claimed || strictly);
            if header(&buf, len, Variant::Patched, "t").unwrap().width == 0 {
                prop_assert_eq!(claimed, strictly);
            }
        }
    }

    #[test]
    fn rejects_malformed_exceptions() {
        let ok =
            |b: &[u8], n| decode_into::<i64>(b, n, Variant::Patched, &mut Vec::new(), "t", |x| x);
        // order 0, base 0, width 0, 1 exception at index 1 of value zigzag 4 = 2.
        assert_eq!(
            decode_into::<i64>(
                &[0, 0, 0, 1, 1, 4],
                3,
                Variant::Patched,
                &mut Vec::new(),
                "t",
                |x| x
            ),
            Ok(())
        );
        let mut out = vec![9i64];
        decode_into(
            &[0, 0, 0, 1, 1, 4],
            3,
            Variant::Patched,
            &mut out,
            "t",
            |x| x,
        )
        .expect("ok");
        assert_eq!(out, vec![9, 0, 2, 0]);
        assert!(ok(&[0, 0, 0, 1, 3, 4], 3).is_err(), "index past the slots");
        assert!(
            ok(&[0, 0, 0, 4, 0, 1, 0, 1, 0, 1, 0, 1], 3).is_err(),
            "more exceptions than slots"
        );
        assert!(ok(&[0, 0, 0, 2, 1, 4], 3).is_err(), "missing exception");
        assert!(ok(&[0, 0, 0, 1, 1, 4, 0], 3).is_err(), "trailing byte");
        assert!(ok(&[0, 0, 0, 1, 1], 3).is_err(), "truncated residual");
        assert!(
            ok(&[0, 0, 1, 1, 0b010, 1, 4], 3).is_err(),
            "exception slot not zero"
        );
        assert!(ok(&[0, 0, 1, 1, 0b000, 1, 4], 3).is_ok());
        assert!(ok(
            &[0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 4],
            3
        )
        .is_err());
        let mut out = vec![1i64];
        assert!(decode_into(
            &[0, 0, 0, 1, 5, 4],
            2,
            Variant::Patched,
            &mut out,
            "t",
            |x| x
        )
        .is_err());
        assert_eq!(out, vec![1], "unchanged on error");
    }

    proptest! {
        #[test]
        fn any_sequence_round_trips_patched(
            v in prop::collection::vec(prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -3i64..3], 0..300),
            orders in prop::sample::subsequence(vec![0usize, 1, 2], 1..=3),
        ) {
            let mut buf = Vec::new();
            encode_patched(&v, &orders, &mut buf);
            let mut out = Vec::new();
            decode_into(&buf, v.len(), Variant::Patched, &mut out, "t", |x| x).map_err(|e| TestCaseError::fail(e.0))?;
            prop_assert_eq!(&out, &v);
            let (_, best_len, back) = round_trip_best(&v, &orders);
            prop_assert_eq!(back, v.clone());
            let mut plain = Vec::new();
            encode(&v, &orders, &mut plain);
            // The patched search runs only where it can pay off (`worth_patching`), so the best
            // encoding is never larger than plain but may miss a marginally smaller patched one.
            prop_assert!(best_len <= plain.len());
        }

        #[test]
        fn outliers_round_trip_and_cost_little(
            start in any::<i64>(),
            step in 1i64..1_000_000_000_000,
            len in 2usize..1000,
            outliers in prop::collection::vec((any::<prop::sample::Index>(), any::<i64>()), 0..4),
        ) {
            let mut v: Vec<i64> = (0..len as i64).map(|i| start.wrapping_add(step.wrapping_mul(i))).collect();
            for (i, x) in &outliers {
                let i = i.index(len);
                v[i] = *x;
            }
            let (_, n, back) = round_trip_best(&v, &[0, 1, 2]);
            prop_assert_eq!(back, v);
            // Seeds, base and width, plus each outlier as up to 3 exceptions (order 2) of at most
            // 12 bytes (index varint up to 2, residual varint up to 10).
            prop_assert!(n <= 2 + 30 + 1 + 2 + outliers.len() * 3 * 12, "{} bytes", n);
        }

        #[test]
        fn constant_residuals_round_trip_at_every_order(
            start in prop_oneof![any::<i64>(), -3i64..3],
            step in prop_oneof![any::<i64>(), -3i64..3],
            accel in prop_oneof![any::<i64>(), -3i64..3],
            len in 0usize..300,
        ) {
            // Constant, arithmetic and quadratic sequences (wrapping): width 0 at some order.
            let (mut x, mut d) = (start, step);
            let v: Vec<i64> = (0..len)
                .map(|_| {
                    let y = x;
                    x = x.wrapping_add(d);
                    d = d.wrapping_add(accel);
                    y
                })
                .collect();
            for orders in [&[0usize][..], &[1], &[2], &[0, 1, 2]] {
                prop_assert_eq!(&round_trip(&v, orders).1, &v);
                prop_assert_eq!(&round_trip_best(&v, orders).2, &v);
            }
        }

        #[test]
        fn magnitude_bound_bounds_every_value(
            v in prop_oneof![
                prop::collection::vec(prop_oneof![any::<i64>(), -3i64..3], 0..300),
                prop::collection::vec(-(1i64 << 40)..(1i64 << 40), 0..300),
                (any::<i32>(), prop::collection::vec(-100i64..100, 0..300)).prop_map(|(s, d)| {
                    d.iter().scan(i64::from(s), |x, &d| { *x += d; Some(*x) }).collect()
                }),
            ],
            orders in prop::sample::subsequence(vec![0usize, 1, 2], 1..=3),
        ) {
            let max = v.iter().map(|x| u128::from(x.unsigned_abs())).max().unwrap_or(0);
            let mut buf = Vec::new();
            encode(&v, &orders, &mut buf);
            let bound = magnitude_bound(&buf, v.len(), Variant::Plain);
            prop_assert!(bound.is_some_and(|b| b >= max), "{:?} < {}", bound, max);
            buf.clear();
            let variant = encode_best(&v, &orders, &mut buf);
            if let Some(b) = magnitude_bound(&buf, v.len(), variant) {
                prop_assert!(b >= max, "{} < {}", b, max);
            }
        }

        #[test]
        fn patched_decoder_never_panics(
            buf in prop::collection::vec(any::<u8>(), 0..64),
            n in prop_oneof![0usize..40, Just(MAX_VALUES), Just(MAX_VALUES + 1), Just(usize::MAX)],
        ) {
            let _ = decode_into::<i64>(&buf, n, Variant::Patched, &mut Vec::new(), "t", |x| x);
            let _ = decode_into::<f64>(&buf, n, Variant::Patched, &mut Vec::new(), "t", |x| x as f64);
        }
    }
}
