//! Bit-level building blocks of the v2 codecs: fixed-width packing of 64-bit lanes and an
//! LSB-first bit writer and reader (for the Gorilla float stream).
//!
//! Bit order everywhere is LSB-first: bit `k` of the stream is bit `k % 8` of byte `k / 8`.

use super::DecodeError;

/// A 64-bit value that can hold a raw packed lane while it is being decoded in place.
///
/// Decoders unpack residuals straight into the caller's output buffer (as raw bits) and then
/// rebuild the values in the same slots, so decoding needs no scratch allocation.
pub(crate) trait Lane: Copy + Default {
    fn from_raw(raw: u64) -> Self;
    fn raw(self) -> u64;
}

impl Lane for u64 {
    #[inline(always)]
    fn from_raw(raw: u64) -> Self {
        raw
    }
    #[inline(always)]
    fn raw(self) -> u64 {
        self
    }
}

impl Lane for i64 {
    #[inline(always)]
    fn from_raw(raw: u64) -> Self {
        raw as i64
    }
    #[inline(always)]
    fn raw(self) -> u64 {
        self as u64
    }
}

impl Lane for f64 {
    /// A plain bit reinterpretation (`to_bits(from_bits(x)) == x` for every `x`).
    #[inline(always)]
    fn from_raw(raw: u64) -> Self {
        f64::from_bits(raw)
    }
    #[inline(always)]
    fn raw(self) -> u64 {
        self.to_bits()
    }
}

/// Bits needed to represent `v` (0 for 0, 64 for values with the top bit set).
pub(crate) fn width(v: u64) -> u32 {
    64 - v.leading_zeros()
}

#[inline(always)]
pub(crate) fn mask(w: u32) -> u64 {
    if w >= 64 {
        u64::MAX
    } else {
        (1u64 << w) - 1
    }
}

/// Bytes that `count` values of `w` bits occupy when packed.
pub(crate) fn packed_len(count: usize, w: u32) -> Option<usize> {
    count.checked_mul(w as usize).map(|bits| bits.div_ceil(8))
}

/// Append `vals` packed at `w` bits each (LSB-first) in exactly `packed_len(len, w)` bytes.
/// Bits of a value above `w` are ignored.
pub(crate) fn pack(vals: impl Iterator<Item = u64>, w: u32, out: &mut Vec<u8>) {
    if w == 0 {
        return;
    }
    let m = mask(w);
    let mut acc: u128 = 0;
    let mut n: u32 = 0;
    for v in vals {
        acc |= u128::from(v & m) << n;
        n += w;
        if n >= 64 {
            out.extend_from_slice(&(acc as u64).to_le_bytes());
            acc >>= 64;
            n -= 64;
        }
    }
    let tail = (acc as u64).to_le_bytes();
    out.extend_from_slice(tail.get(..n.div_ceil(8) as usize).unwrap_or_default());
}

/// The 8 bytes at `at`, zero-padded past the end of `src`.
#[inline]
fn load8_padded(src: &[u8], at: usize) -> u64 {
    let mut a = [0u8; 8];
    let tail = src.get(at..).unwrap_or_default();
    let k = tail.len().min(8);
    a[..k].copy_from_slice(&tail[..k]);
    u64::from_le_bytes(a)
}

/// The 16 bytes at `at`, zero-padded past the end of `src`.
#[inline]
fn load16_padded(src: &[u8], at: usize) -> u128 {
    let mut a = [0u8; 16];
    let tail = src.get(at..).unwrap_or_default();
    let k = tail.len().min(16);
    a[..k].copy_from_slice(&tail[..k]);
    u128::from_le_bytes(a)
}

/// Unpack `out.len()` values of `w` bits (`w <= 64`) from `src` into `out` as raw lanes.
/// Bits past the end of `src` read as zero (callers check the exact length beforehand).
///
/// The main loop does one unaligned 8-byte load, a shift and a mask per value, with no
/// data-dependent branch; only the last few values (whose 8-byte window would run past the
/// end of `src`) and widths above 56 take the padded path.
pub(crate) fn unpack<T: Lane>(src: &[u8], w: u32, out: &mut [T]) {
    if w == 0 {
        out.fill(T::from_raw(0));
        return;
    }
    // Most of the values go through a loop specialised for their width; the rest (the last
    // groups, whose windows would run past `src`, and widths above 56) through the generic one.
    let done = unpack_groups(src, w, out);
    let out = out.get_mut(done..).unwrap_or_default();
    let src = src.get(done * w as usize / 8..).unwrap_or_default();
    let m = mask(w);
    let wu = w as usize;
    if w <= 56 {
        // Value i starts at byte i*w/8; its 8-byte window fits when i*w/8 + 8 <= len.
        let fast = match src.len().checked_sub(8) {
            Some(room) => (room * 8 / wu + 1).min(out.len()),
            None => 0,
        };
        let (head, tail) = out.split_at_mut(fast);
        for (i, slot) in head.iter_mut().enumerate() {
            let bit = i * wu;
            let word = match src.get(bit / 8..).and_then(|s| s.first_chunk::<8>()) {
                Some(b) => u64::from_le_bytes(*b),
                None => load8_padded(src, bit / 8),
            };
            *slot = T::from_raw((word >> (bit % 8)) & m);
        }
        for (i, slot) in tail.iter_mut().enumerate() {
            let bit = (fast + i) * wu;
            *slot = T::from_raw((load8_padded(src, bit / 8) >> (bit % 8)) & m);
        }
    } else {
        for (i, slot) in out.iter_mut().enumerate() {
            let bit = i * wu;
            let word = load16_padded(src, bit / 8) >> (bit % 8);
            *slot = T::from_raw((word as u64) & m);
        }
    }
}

/// Unpack whole groups of 8 values of `W` bits (`1 <= W <= 56`; a group is exactly `W` bytes)
/// into `out` while each group's window of `W + 8` bytes lies inside `src`. Returns the number
/// of values unpacked (a multiple of 8).
///
/// With the width a constant every shift and byte offset is too: per value one unaligned 8-byte
/// load, a shift and a mask, no branch, and one bounds check per group.
#[inline(always)]
fn unpack_fixed<const W: usize, T: Lane>(src: &[u8], out: &mut [T]) -> usize {
    let m = mask(W as u32);
    let mut done = 0;
    for (g, group) in out.chunks_exact_mut(8).enumerate() {
        let Some(window) = src.get(g * W..g * W + W + 8) else {
            break;
        };
        for (j, slot) in group.iter_mut().enumerate() {
            let bit = j * W;
            let word = window
                .get(bit / 8..bit / 8 + 8)
                .and_then(|b| b.first_chunk::<8>())
                .map_or(0, |b| u64::from_le_bytes(*b));
            *slot = T::from_raw((word >> (bit % 8)) & m);
        }
        done += 8;
    }
    done
}

/// [`unpack_fixed`] at run-time width `w`: the number of values unpacked (0 for widths it does
/// not specialise).
fn unpack_groups<T: Lane>(src: &[u8], w: u32, out: &mut [T]) -> usize {
    macro_rules! widths {
        ($($w:literal)*) => {
            match w {
                $($w => unpack_fixed::<$w, T>(src, out),)*
                _ => 0,
            }
        };
    }
    widths!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28
        29 30 31 32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56)
}

/// Check that the bits of `src` past the first `bits` bits are zero (canonical padding).
pub(crate) fn check_padding(src: &[u8], bits: usize, what: &str) -> Result<(), DecodeError> {
    let used = bits % 8;
    match src.last() {
        Some(&b) if used != 0 && b >> used != 0 => Err(DecodeError(format!(
            "bad {what}: non-zero padding bits in the last byte"
        ))),
        _ => Ok(()),
    }
}

/// Writes a stream of bit fields, LSB-first.
pub(crate) struct BitWriter<'a> {
    out: &'a mut Vec<u8>,
    acc: u64,
    n: u32,
}

impl<'a> BitWriter<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> BitWriter<'a> {
        BitWriter { out, acc: 0, n: 0 }
    }

    /// Append the low `k` bits of `v` (`k <= 64`).
    pub fn put(&mut self, v: u64, k: u32) {
        if k > 32 {
            self.put32(v & mask(32), 32);
            self.put32(v >> 32, k - 32);
        } else {
            self.put32(v, k);
        }
    }

    fn put32(&mut self, v: u64, k: u32) {
        self.acc |= (v & mask(k)) << self.n;
        self.n += k;
        while self.n >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.n -= 8;
        }
    }

    /// Flush the last partial byte (zero-padded).
    pub fn finish(self) {
        if self.n > 0 {
            self.out.push(self.acc as u8);
        }
    }
}

/// Reads a stream written by [`BitWriter`]; running past the end is an error.
pub(crate) struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
    acc: u64,
    n: u32,
}

impl<'a> BitReader<'a> {
    pub fn new(buf: &'a [u8]) -> BitReader<'a> {
        BitReader {
            buf,
            pos: 0,
            acc: 0,
            n: 0,
        }
    }

    fn get32(&mut self, k: u32, what: &str) -> Result<u64, DecodeError> {
        while self.n < k {
            let Some(&b) = self.buf.get(self.pos) else {
                return Err(DecodeError(format!(
                    "truncated {what}: bit stream of {} bytes ends early",
                    self.buf.len()
                )));
            };
            self.acc |= u64::from(b) << self.n;
            self.n += 8;
            self.pos += 1;
        }
        let v = self.acc & mask(k);
        self.acc >>= k;
        self.n -= k;
        Ok(v)
    }

    /// The next `k` bits (`k <= 64`).
    pub fn get(&mut self, k: u32, what: &str) -> Result<u64, DecodeError> {
        if k > 32 {
            let lo = self.get32(32, what)?;
            let hi = self.get32(k - 32, what)?;
            Ok(lo | (hi << 32))
        } else {
            self.get32(k, what)
        }
    }

    /// One bit.
    #[inline]
    pub fn bit(&mut self, what: &str) -> Result<bool, DecodeError> {
        Ok(self.get32(1, what)? == 1)
    }

    /// Fail unless every byte was consumed and the padding bits are zero.
    pub fn finish(&self, what: &str) -> Result<(), DecodeError> {
        if self.pos != self.buf.len() || self.acc != 0 {
            return Err(DecodeError(format!(
                "bad {what}: {} unused bytes or non-zero padding after the last value",
                self.buf.len() - self.pos
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widths_and_masks() {
        assert_eq!(width(0), 0);
        assert_eq!(width(1), 1);
        assert_eq!(width(255), 8);
        assert_eq!(width(u64::MAX), 64);
        assert_eq!(mask(0), 0);
        assert_eq!(mask(64), u64::MAX);
        assert_eq!(packed_len(3, 3), Some(2));
        assert_eq!(packed_len(usize::MAX, 2), None);
    }

    proptest! {
        #[test]
        fn pack_unpack_round_trip(w in 0u32..=64, raw in prop::collection::vec(any::<u64>(), 0..300)) {
            let vals: Vec<u64> = raw.iter().map(|v| v & mask(w)).collect();
            let mut buf = Vec::new();
            pack(vals.iter().copied(), w, &mut buf);
            prop_assert_eq!(Some(buf.len()), packed_len(vals.len(), w));
            prop_assert!(check_padding(&buf, vals.len() * w as usize, "x").is_ok());
            let mut out = vec![0u64; vals.len()];
            unpack(&buf, w, &mut out);
            prop_assert_eq!(&out, &vals);
        }

        #[test]
        fn bit_stream_round_trip(fields in prop::collection::vec((any::<u64>(), 0u32..=64), 0..100)) {
            let mut buf = Vec::new();
            let mut w = BitWriter::new(&mut buf);
            for &(v, k) in &fields {
                w.put(v, k);
            }
            w.finish();
            let mut r = BitReader::new(&buf);
            for &(v, k) in &fields {
                prop_assert_eq!(r.get(k, "x"), Ok(v & mask(k)));
            }
            prop_assert!(r.finish("x").is_ok());
            prop_assert!(r.get(8, "x").is_err());
        }
    }
}
