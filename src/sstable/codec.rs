//! Column codecs of SSTable blocks and the little-endian byte helpers the format is built from.
//!
//! Every column encoding is tagged on disk with a one-byte codec id (per field type), so a block
//! says how to decode itself. Format v1 files use only the v1 codecs (id 1); format v2 writers
//! pick, per block, the smallest of the codecs available for the type. Decoders accept every
//! id listed here, so v1 blocks stay readable.
//!
//! | type | id | codec |
//! |---|---|---|
//! | timestamps | 1 | v1: zigzag varints of the deltas |
//! | timestamps | 2 | frame-of-reference bit packing of deltas or deltas of deltas ([`packed`]) |
//! | timestamps | 3 | as id 2, patched: outliers listed as exceptions ([`packed`]) |
//! | float | 1 | raw IEEE-754 bits, 8 bytes each |
//! | float | 2 | Gorilla XOR bit stream ([`float::encode_gorilla`]) |
//! | float | 3 | decimal-scaled integers, packed ([`float::encode_decimal`]) |
//! | float | 4 | as id 3, the integers in the patched packed layout |
//! | float | 5 | as id 3, decoded by multiplication ([`float::DecimalRule::Multiply`]) |
//! | float | 6 | as id 5, the integers in the patched packed layout |
//! | float | 7 | as id 5 (decoded by multiplication), the integers' deltas range-coded ([`range`]) |
//! | float | 8 | as id 3 (decoded by division), the integers' deltas range-coded ([`range`]) |
//! | integer | 1 | v1: zigzag varints of the deltas |
//! | integer | 2 | frame-of-reference bit packing of values, deltas or deltas of deltas |
//! | integer | 3 | as id 2, patched: outliers listed as exceptions |
//! | integer | 4 | deltas range-coded: uniform rANS over the block's delta range ([`range`]) |
//! | unsigned | 1 | v1: LEB128 varints |
//! | unsigned | 2 | as integer id 2, on the values with their top bit flipped (order-preserving) |
//! | unsigned | 3 | as id 2, patched |
//! | unsigned | 4 | as integer id 4 (wrapping deltas), the first value a plain varint |
//! | boolean | 1 | v1: one byte each |
//! | boolean | 2 | bitmap, LSB-first, zero-padded |
//! | string | 1 | varint length + UTF-8 bytes, each |
//! | string | 2 | varint raw length + raw DEFLATE of the id-1 encoding |
//!
//! The patched ids (timestamps, integers and unsigned 3, float 4) are the [`packed`] layout with
//! PFOR-style exceptions; writers use them for a block only when they are strictly smaller than
//! the plain id, so a regular series with a gap or a counter reset no longer pays the outlier's
//! bit width on every value. They came with format version 3 (see [`super::FORMAT_VERSION`]).
//!
//! Float ids 5 and 6 (format version 4) store the same integers as ids 3 and 4 with one more
//! exponent in the same byte, and decode them with two multiplications instead of a division;
//! the encoder picks them only when every value of the block decodes bit for bit that way, and
//! ids 3 and 4 (which keep their division rule) otherwise.
//!
//! The range-coded ids (float 7 and 8, integer and unsigned 4; format version 5) code each
//! delta in `log2 R` bits for a block whose deltas take `R` values, where bit packing spends
//! `ceil(log2 R)`: a TSBS random walk (`R = 201`) costs 7.65 bits a value instead of 8. A few
//! outlying deltas (a gap, a reset) are listed as exceptions rather than widening `R`. They
//! apply to blocks whose other deltas span at most [`range::MAX_RANGE`] values, and writers use
//! them only when they are strictly smaller than every other candidate of the type.
//!
//! Decoders never panic: malformed input gives a [`DecodeError`], which the reader turns into
//! [`crate::Error::Corrupt`] naming the file. The `decode_*_into` variants append to a
//! caller-provided buffer (left unchanged on error) so a scan can reuse its buffers.

use std::fmt;
use std::io::{Read, Write};

use crate::types::{FieldType, Values};
use float::{DecimalRule, Ints};
use packed::Variant;

mod bits;
pub mod float;
pub mod packed;
pub mod range;

#[cfg(test)]
mod tests;

/// Timestamps v1: first value as a zigzag varint, then the deltas as zigzag varints.
pub const TS_DELTA_ZIGZAG: u8 = 1;
/// Timestamps v2: [`packed`] bit packing of deltas (order 1) or deltas of deltas (order 2).
pub const TS_PACKED: u8 = 2;
/// Timestamps v3: [`packed`] bit packing with exceptions (the patched layout).
pub const TS_PACKED_PATCHED: u8 = 3;
/// Floats: the raw IEEE-754 bits, 8 bytes little-endian each (bit-exact, NaN payloads kept).
pub const FLOAT_RAW: u8 = 1;
/// Floats: Gorilla XOR bit stream (bit-exact for every value).
pub const FLOAT_GORILLA: u8 = 2;
/// Floats: decimal-scaled integers (only for blocks whose values are all short decimals).
pub const FLOAT_DECIMAL: u8 = 3;
/// Floats: decimal-scaled integers in the patched [`packed`] layout.
pub const FLOAT_DECIMAL_PATCHED: u8 = 4;
/// Floats: decimal-scaled integers decoded by multiplication ([`float::DecimalRule::Multiply`]).
pub const FLOAT_DECIMAL_MUL: u8 = 5;
/// Floats: as [`FLOAT_DECIMAL_MUL`] in the patched [`packed`] layout.
pub const FLOAT_DECIMAL_MUL_PATCHED: u8 = 6;
/// Floats: decimal-scaled integers decoded by multiplication, their deltas range-coded
/// ([`range`]).
pub const FLOAT_DECIMAL_MUL_RANGE: u8 = 7;
/// Floats: decimal-scaled integers decoded by division, their deltas range-coded ([`range`]).
pub const FLOAT_DECIMAL_RANGE: u8 = 8;
/// Integers v1: zigzag varints of the deltas (the first delta is from 0).
pub const INT_DELTA_ZIGZAG: u8 = 1;
/// Integers v2: [`packed`] bit packing.
pub const INT_PACKED: u8 = 2;
/// Integers v3: [`packed`] bit packing with exceptions (the patched layout).
pub const INT_PACKED_PATCHED: u8 = 3;
/// Integers v5: deltas range-coded ([`range`]).
pub const INT_RANGE: u8 = 4;
/// Unsigned integers v1: plain LEB128 varints.
pub const UNSIGNED_VARINT: u8 = 1;
/// Unsigned integers v2: [`packed`] bit packing of `v ^ (1 << 63)` as i64.
pub const UNSIGNED_PACKED: u8 = 2;
/// Unsigned integers v3: as [`UNSIGNED_PACKED`] in the patched layout.
pub const UNSIGNED_PACKED_PATCHED: u8 = 3;
/// Unsigned integers v5: wrapping deltas range-coded ([`range`]).
pub const UNSIGNED_RANGE: u8 = 4;
/// Booleans v1: one byte each, 0 or 1.
pub const BOOL_BYTE: u8 = 1;
/// Booleans v2: a bitmap, LSB-first, zero-padded to a byte.
pub const BOOL_BITMAP: u8 = 2;
/// Strings v1: varint byte length followed by the UTF-8 bytes, each.
pub const STRING_LEN_PREFIXED: u8 = 1;
/// Strings v2: varint length of the [`STRING_LEN_PREFIXED`] encoding, then that encoding
/// compressed with raw DEFLATE.
pub const STRING_DEFLATE: u8 = 2;

/// Most values one call of a packed decoder produces (a block holds far fewer); protects
/// against a corrupt count with a zero bit width asking for a huge allocation.
pub const MAX_VALUES: usize = 1 << 20;

/// Most bytes a compressed string column may inflate to.
pub const MAX_STRING_COLUMN_BYTES: usize = 1 << 30;

/// The value codec id format v1 uses for a field type.
pub fn value_codec(t: FieldType) -> u8 {
    match t {
        FieldType::Float => FLOAT_RAW,
        FieldType::Integer => INT_DELTA_ZIGZAG,
        FieldType::Unsigned => UNSIGNED_VARINT,
        FieldType::Boolean => BOOL_BYTE,
        FieldType::String => STRING_LEN_PREFIXED,
    }
}

/// Why some bytes could not be decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodeError(pub String);

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for DecodeError {}

fn err<T>(msg: impl Into<String>) -> Result<T, DecodeError> {
    Err(DecodeError(msg.into()))
}

/// Zigzag-map a signed integer so small magnitudes become small unsigned numbers.
pub fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag`].
pub fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Append `v` as an unsigned LEB128 varint (1 to 10 bytes).
pub fn put_uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A bounds-checked reading position over a byte slice.
#[derive(Clone, Debug)]
pub struct Input<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(buf: &'a [u8]) -> Input<'a> {
        Input { buf, pos: 0 }
    }

    /// Bytes consumed so far.
    pub fn position(&self) -> usize {
        self.pos
    }

    /// Bytes not consumed yet.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Fail unless every byte was consumed.
    pub fn finish(&self, what: &str) -> Result<(), DecodeError> {
        if self.remaining() != 0 {
            return err(format!("{} trailing bytes after {what}", self.remaining()));
        }
        Ok(())
    }

    /// The next `n` bytes.
    pub fn bytes(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        match end.and_then(|e| self.buf.get(self.pos..e).map(|s| (e, s))) {
            Some((e, s)) => {
                self.pos = e;
                Ok(s)
            }
            None => err(format!(
                "truncated {what}: need {n} bytes at offset {}, have {}",
                self.pos,
                self.remaining()
            )),
        }
    }

    fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], DecodeError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.bytes(N, what)?);
        Ok(a)
    }

    pub fn u8(&mut self, what: &str) -> Result<u8, DecodeError> {
        let [b] = self.array::<1>(what)?;
        Ok(b)
    }
    pub fn u16(&mut self, what: &str) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    pub fn u32(&mut self, what: &str) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    pub fn u64(&mut self, what: &str) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    pub fn i64(&mut self, what: &str) -> Result<i64, DecodeError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }
    pub fn u128(&mut self, what: &str) -> Result<u128, DecodeError> {
        Ok(u128::from_le_bytes(self.array(what)?))
    }
    pub fn i128(&mut self, what: &str) -> Result<i128, DecodeError> {
        Ok(i128::from_le_bytes(self.array(what)?))
    }
    pub fn f64(&mut self, what: &str) -> Result<f64, DecodeError> {
        Ok(f64::from_bits(self.u64(what)?))
    }

    /// A boolean stored as one byte, 0 or 1.
    pub fn bool(&mut self, what: &str) -> Result<bool, DecodeError> {
        match self.u8(what)? {
            0 => Ok(false),
            1 => Ok(true),
            b => err(format!("bad {what}: boolean byte {b}")),
        }
    }

    /// An unsigned LEB128 varint of at most 10 bytes that fits in a u64.
    pub fn uvarint(&mut self, what: &str) -> Result<u64, DecodeError> {
        let rest = self.buf.get(self.pos..).unwrap_or_default();
        let mut v: u64 = 0;
        for (i, &b) in rest.iter().take(10).enumerate() {
            if i == 9 && b > 1 {
                return err(format!("bad {what}: varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                self.pos += i + 1;
                return Ok(v);
            }
        }
        if rest.len() < 10 {
            return err(format!(
                "truncated {what}: varint runs past the end at offset {}",
                self.pos + rest.len()
            ));
        }
        err(format!("bad {what}: varint longer than 10 bytes"))
    }

    /// A varint that is used as a length or count, checked against `max`.
    pub fn len(&mut self, max: usize, what: &str) -> Result<usize, DecodeError> {
        let v = self.uvarint(what)?;
        match usize::try_from(v) {
            Ok(n) if n <= max => Ok(n),
            _ => err(format!("bad {what}: {v} exceeds the limit {max}")),
        }
    }

    /// A varint length followed by that many UTF-8 bytes.
    pub fn str(&mut self, what: &str) -> Result<&'a str, DecodeError> {
        let n = self.len(self.remaining(), what)?;
        let b = self.bytes(n, what)?;
        std::str::from_utf8(b).or_else(|e| err(format!("bad {what}: invalid UTF-8: {e}")))
    }
}

/// Append a string as varint length + bytes.
pub fn put_str(out: &mut Vec<u8>, s: &str) {
    put_uvarint(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn unknown<T>(codec: u8, what: &str) -> Result<T, DecodeError> {
    err(format!("unknown {what} codec id {codec}"))
}

/// Run `f` appending to `out`; on error, restore `out` to its previous length.
fn appending<T>(
    out: &mut Vec<T>,
    f: impl FnOnce(&mut Vec<T>) -> Result<(), DecodeError>,
) -> Result<(), DecodeError> {
    let start = out.len();
    let r = f(out);
    if r.is_err() {
        out.truncate(start);
    }
    r
}

/// Zigzag-varint deltas (v1 timestamps and integers): exactly `n` values from all of `buf`.
fn decode_delta_varints(
    buf: &[u8],
    n: usize,
    out: &mut Vec<i64>,
    what: &str,
) -> Result<(), DecodeError> {
    let mut input = Input::new(buf);
    out.reserve(n.min(buf.len()));
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(unzigzag(input.uvarint(what)?));
        out.push(prev);
    }
    input.finish(what)
}

fn encode_delta_varints(v: &[i64], out: &mut Vec<u8>) {
    let mut prev = 0i64;
    for &x in v {
        put_uvarint(out, zigzag(x.wrapping_sub(prev)));
        prev = x;
    }
}

/// Encode timestamps with the smaller of [`TS_PACKED`] and [`TS_PACKED_PATCHED`] (any order of
/// values, duplicates included, round-trips). Returns the codec id.
pub fn encode_timestamps(ts: &[i64], out: &mut Vec<u8>) -> u8 {
    match packed::encode_best(ts, &[1, 2], out) {
        Variant::Plain => TS_PACKED,
        Variant::Patched => TS_PACKED_PATCHED,
    }
}

/// Encode timestamps with the v1 codec [`TS_DELTA_ZIGZAG`]. Returns the codec id.
pub fn encode_timestamps_v1(ts: &[i64], out: &mut Vec<u8>) -> u8 {
    encode_delta_varints(ts, out);
    TS_DELTA_ZIGZAG
}

/// Decode exactly `n` timestamps from all of `buf`.
pub fn decode_timestamps(codec: u8, buf: &[u8], n: usize) -> Result<Vec<i64>, DecodeError> {
    let mut out = Vec::new();
    decode_timestamps_into(codec, buf, n, &mut out)?;
    Ok(out)
}

/// Decode exactly `n` timestamps from all of `buf`, appending them to `out`.
pub fn decode_timestamps_into(
    codec: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<i64>,
) -> Result<(), DecodeError> {
    match codec {
        TS_DELTA_ZIGZAG => appending(out, |o| decode_delta_varints(buf, n, o, "timestamps")),
        TS_PACKED => packed::decode_into(buf, n, Variant::Plain, out, "timestamps", |x| x),
        TS_PACKED_PATCHED => {
            packed::decode_into(buf, n, Variant::Patched, out, "timestamps", |x| x)
        }
        c => unknown(c, "timestamp"),
    }
}

/// Whether the encoded timestamps `buf` (`n` of them, codec `codec`) are strictly ascending by
/// their header alone (a regular series), so that a reader can skip comparing every pair.
/// `false` says nothing either way.
pub fn timestamps_ascend_by_header(codec: u8, buf: &[u8], n: usize) -> bool {
    match codec {
        TS_PACKED => packed::ascending_by_header(buf, n, Variant::Plain),
        TS_PACKED_PATCHED => packed::ascending_by_header(buf, n, Variant::Patched),
        _ => false,
    }
}

/// Encode floats with the smallest of the decimal codecs (when every value is a short decimal;
/// see [`encode_floats_decimal`]), [`FLOAT_GORILLA`] and [`FLOAT_RAW`]; or with the range-coded
/// decimal codec ([`encode_floats_decimal_range`]) if it is strictly smaller than all of them.
/// Returns the codec id.
pub fn encode_floats(v: &[f64], out: &mut Vec<u8>) -> u8 {
    let dec = float::Decimal::new(v, DecimalRule::Multiply);
    let mut decimal = Vec::new();
    let decimal_id = dec
        .as_ref()
        .and_then(|d| decimal_id((d.rule(), d.encode_packed(&mut decimal))));
    let mut gorilla = Vec::new();
    float::encode_gorilla(v, &mut gorilla);
    let raw_len = v.len().saturating_mul(8);
    let mut range = Vec::new();
    if let Some(d) = dec.filter(|d| d.encode_range(&mut range)) {
        let smallest = decimal_id
            .map_or(usize::MAX, |_| decimal.len())
            .min(gorilla.len())
            .min(raw_len);
        if range.len() < smallest {
            out.extend_from_slice(&range);
            return range_decimal_id(d.rule());
        }
    }
    match decimal_id {
        Some(id) if decimal.len() <= gorilla.len() && decimal.len() <= raw_len => {
            out.extend_from_slice(&decimal);
            return id;
        }
        _ => {}
    }
    if gorilla.len() < raw_len {
        out.extend_from_slice(&gorilla);
        FLOAT_GORILLA
    } else {
        encode_floats_raw(v, out)
    }
}

/// Encode floats with [`FLOAT_GORILLA`]. Returns the codec id.
pub fn encode_floats_gorilla(v: &[f64], out: &mut Vec<u8>) -> u8 {
    float::encode_gorilla(v, out);
    FLOAT_GORILLA
}

/// Encode floats as decimal-scaled integers if every value is a short decimal (nothing is
/// appended otherwise), in the smaller packed layout: [`FLOAT_DECIMAL_MUL`] or
/// [`FLOAT_DECIMAL_MUL_PATCHED`] when every value decodes bit for bit by multiplication, else
/// [`FLOAT_DECIMAL`] or [`FLOAT_DECIMAL_PATCHED`] (the same size). Returns the codec id.
pub fn encode_floats_decimal(v: &[f64], out: &mut Vec<u8>) -> Option<u8> {
    decimal_id(float::encode_decimal(v, DecimalRule::Multiply, out)?)
}

/// [`encode_floats_decimal`] as format v3 writers did it: only [`FLOAT_DECIMAL`] or
/// [`FLOAT_DECIMAL_PATCHED`] (decoded by division). For tests and benchmarks of those ids.
pub fn encode_floats_decimal_v3(v: &[f64], out: &mut Vec<u8>) -> Option<u8> {
    decimal_id(float::encode_decimal(v, DecimalRule::Divide, out)?)
}

/// Encode floats as decimal-scaled integers whose deltas are range-coded, if every value is a
/// short decimal and the deltas span at most [`range::MAX_RANGE`] values (nothing is appended
/// otherwise): [`FLOAT_DECIMAL_MUL_RANGE`] when every value decodes bit for bit by
/// multiplication, else [`FLOAT_DECIMAL_RANGE`]. Returns the codec id.
pub fn encode_floats_decimal_range(v: &[f64], out: &mut Vec<u8>) -> Option<u8> {
    float::encode_decimal_range(v, DecimalRule::Multiply, out).map(range_decimal_id)
}

fn range_decimal_id(rule: DecimalRule) -> u8 {
    match rule {
        DecimalRule::Multiply => FLOAT_DECIMAL_MUL_RANGE,
        DecimalRule::Divide => FLOAT_DECIMAL_RANGE,
    }
}

fn decimal_id(chosen: (DecimalRule, Variant)) -> Option<u8> {
    Some(match chosen {
        (DecimalRule::Divide, Variant::Plain) => FLOAT_DECIMAL,
        (DecimalRule::Divide, Variant::Patched) => FLOAT_DECIMAL_PATCHED,
        (DecimalRule::Multiply, Variant::Plain) => FLOAT_DECIMAL_MUL,
        (DecimalRule::Multiply, Variant::Patched) => FLOAT_DECIMAL_MUL_PATCHED,
    })
}

/// Encode floats with [`FLOAT_RAW`]. Returns the codec id.
pub fn encode_floats_raw(v: &[f64], out: &mut Vec<u8>) -> u8 {
    out.reserve(v.len() * 8);
    for x in v {
        out.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    FLOAT_RAW
}

/// Decode exactly `n` floats from all of `buf`.
pub fn decode_floats(codec: u8, buf: &[u8], n: usize) -> Result<Vec<f64>, DecodeError> {
    let mut out = Vec::new();
    decode_floats_into(codec, buf, n, &mut out)?;
    Ok(out)
}

/// Decode exactly `n` floats from all of `buf`, appending them to `out`.
pub fn decode_floats_into(
    codec: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<f64>,
) -> Result<(), DecodeError> {
    match codec {
        FLOAT_RAW => {
            if Some(buf.len()) != n.checked_mul(8) {
                return err(format!(
                    "float column of {n} values has {} bytes, expected {}",
                    buf.len(),
                    n.saturating_mul(8)
                ));
            }
            out.extend(
                buf.chunks_exact(8)
                    .filter_map(|c| c.first_chunk::<8>())
                    .map(|c| f64::from_bits(u64::from_le_bytes(*c))),
            );
            Ok(())
        }
        FLOAT_GORILLA => float::decode_gorilla_into(buf, n, out),
        FLOAT_DECIMAL | FLOAT_DECIMAL_PATCHED | FLOAT_DECIMAL_MUL | FLOAT_DECIMAL_MUL_PATCHED => {
            let rule = match codec {
                FLOAT_DECIMAL | FLOAT_DECIMAL_PATCHED => DecimalRule::Divide,
                _ => DecimalRule::Multiply,
            };
            let variant = match codec {
                FLOAT_DECIMAL | FLOAT_DECIMAL_MUL => Variant::Plain,
                _ => Variant::Patched,
            };
            float::decode_decimal_into(buf, n, rule, variant, out)
        }
        FLOAT_DECIMAL_MUL_RANGE => {
            float::decode_decimal_ints_into(buf, n, DecimalRule::Multiply, Ints::Range, out)
        }
        FLOAT_DECIMAL_RANGE => {
            float::decode_decimal_ints_into(buf, n, DecimalRule::Divide, Ints::Range, out)
        }
        c => unknown(c, "float"),
    }
}

/// Encode integers with the smallest of [`INT_PACKED`], [`INT_PACKED_PATCHED`] and
/// [`INT_DELTA_ZIGZAG`], or with [`INT_RANGE`] if it is strictly smaller than all of them.
/// Returns the codec id.
pub fn encode_integers(v: &[i64], out: &mut Vec<u8>) -> u8 {
    let start = out.len();
    let variant = packed::encode_best(v, &[0, 1, 2], out);
    let mut varints = Vec::new();
    encode_delta_varints(v, &mut varints);
    let id = packed_or_smaller(
        out,
        start,
        variant,
        [INT_PACKED, INT_PACKED_PATCHED],
        &varints,
        INT_DELTA_ZIGZAG,
    );
    range_if_smaller(v, range::First::Zigzag, out, start, id, INT_RANGE)
}

/// After the best other encoding of `v` (codec `id`) was appended at `start`: replace it with
/// the [`range`] delta encoding (returning `range_id`) if that is strictly smaller.
fn range_if_smaller(
    v: &[i64],
    first: range::First,
    out: &mut Vec<u8>,
    start: usize,
    id: u8,
    range_id: u8,
) -> u8 {
    let mut range = Vec::new();
    if range::encode(v, first, &mut range) && range.len() < out.len() - start {
        out.truncate(start);
        out.extend_from_slice(&range);
        return range_id;
    }
    id
}

/// After a packed encoding was appended at `start`: keep it (returning the id of its `variant`,
/// `[plain, patched]`) unless `alt` is strictly smaller, in which case `alt` replaces it and
/// `alt_id` is returned.
fn packed_or_smaller(
    out: &mut Vec<u8>,
    start: usize,
    variant: Variant,
    [plain_id, patched_id]: [u8; 2],
    alt: &[u8],
    alt_id: u8,
) -> u8 {
    if alt.len() < out.len() - start {
        out.truncate(start);
        out.extend_from_slice(alt);
        return alt_id;
    }
    match variant {
        Variant::Plain => plain_id,
        Variant::Patched => patched_id,
    }
}

/// Decode exactly `n` integers from all of `buf`.
pub fn decode_integers(codec: u8, buf: &[u8], n: usize) -> Result<Vec<i64>, DecodeError> {
    let mut out = Vec::new();
    decode_integers_into(codec, buf, n, &mut out)?;
    Ok(out)
}

/// Decode exactly `n` integers from all of `buf`, appending them to `out`.
pub fn decode_integers_into(
    codec: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<i64>,
) -> Result<(), DecodeError> {
    match codec {
        INT_DELTA_ZIGZAG => appending(out, |o| decode_delta_varints(buf, n, o, "integer values")),
        INT_PACKED => packed::decode_into(buf, n, Variant::Plain, out, "integer values", |x| x),
        INT_PACKED_PATCHED => {
            packed::decode_into(buf, n, Variant::Patched, out, "integer values", |x| x)
        }
        INT_RANGE => range::decode_into(buf, n, range::First::Zigzag, out, "integer values", |x| x),
        c => unknown(c, "integer"),
    }
}

const SIGN: u64 = 1 << 63;

/// Encode unsigned integers with the smallest of [`UNSIGNED_PACKED`], [`UNSIGNED_PACKED_PATCHED`]
/// and [`UNSIGNED_VARINT`], or with [`UNSIGNED_RANGE`] if it is strictly smaller than all of
/// them. Returns the codec id.
pub fn encode_unsigned(v: &[u64], out: &mut Vec<u8>) -> u8 {
    let start = out.len();
    let flipped: Vec<i64> = v.iter().map(|&x| (x ^ SIGN) as i64).collect();
    let variant = packed::encode_best(&flipped, &[0, 1, 2], out);
    let mut varints = Vec::new();
    for &x in v {
        put_uvarint(&mut varints, x);
    }
    let id = packed_or_smaller(
        out,
        start,
        variant,
        [UNSIGNED_PACKED, UNSIGNED_PACKED_PATCHED],
        &varints,
        UNSIGNED_VARINT,
    );
    // Wrapping deltas of the values as i64 are the deltas of the u64 values, mod 2^64.
    let bits: Vec<i64> = v.iter().map(|&x| x as i64).collect();
    range_if_smaller(&bits, range::First::Plain, out, start, id, UNSIGNED_RANGE)
}

/// Decode exactly `n` unsigned integers from all of `buf`.
pub fn decode_unsigned(codec: u8, buf: &[u8], n: usize) -> Result<Vec<u64>, DecodeError> {
    let mut out = Vec::new();
    decode_unsigned_into(codec, buf, n, &mut out)?;
    Ok(out)
}

/// Decode exactly `n` unsigned integers from all of `buf`, appending them to `out`.
pub fn decode_unsigned_into(
    codec: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<u64>,
) -> Result<(), DecodeError> {
    match codec {
        UNSIGNED_VARINT => appending(out, |o| {
            let mut input = Input::new(buf);
            o.reserve(n.min(buf.len()));
            for _ in 0..n {
                o.push(input.uvarint("unsigned value")?);
            }
            input.finish("unsigned values")
        }),
        UNSIGNED_PACKED => {
            packed::decode_into(buf, n, Variant::Plain, out, "unsigned values", |x| {
                (x as u64) ^ SIGN
            })
        }
        UNSIGNED_PACKED_PATCHED => {
            packed::decode_into(buf, n, Variant::Patched, out, "unsigned values", |x| {
                (x as u64) ^ SIGN
            })
        }
        UNSIGNED_RANGE => {
            range::decode_into(buf, n, range::First::Plain, out, "unsigned values", |x| {
                x as u64
            })
        }
        c => unknown(c, "unsigned"),
    }
}

/// Encode booleans with [`BOOL_BITMAP`]. Returns the codec id.
pub fn encode_bools(v: &[bool], out: &mut Vec<u8>) -> u8 {
    out.extend(v.chunks(8).map(|c| {
        c.iter()
            .enumerate()
            .fold(0u8, |acc, (i, &b)| acc | (u8::from(b) << i))
    }));
    BOOL_BITMAP
}

/// Decode exactly `n` booleans from all of `buf`.
pub fn decode_bools(codec: u8, buf: &[u8], n: usize) -> Result<Vec<bool>, DecodeError> {
    let mut out = Vec::new();
    decode_bools_into(codec, buf, n, &mut out)?;
    Ok(out)
}

/// Decode exactly `n` booleans from all of `buf`, appending them to `out`.
pub fn decode_bools_into(
    codec: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<bool>,
) -> Result<(), DecodeError> {
    match codec {
        BOOL_BYTE => {
            if buf.len() != n {
                return err(format!(
                    "boolean column of {n} values has {} bytes",
                    buf.len()
                ));
            }
            appending(out, |o| {
                let mut input = Input::new(buf);
                o.reserve(n);
                for _ in 0..n {
                    o.push(input.bool("boolean value")?);
                }
                Ok(())
            })
        }
        BOOL_BITMAP => {
            if buf.len() != n.div_ceil(8) {
                return err(format!(
                    "boolean bitmap of {n} values has {} bytes, expected {}",
                    buf.len(),
                    n.div_ceil(8)
                ));
            }
            bits::check_padding(buf, n, "boolean bitmap")?;
            out.extend((0..n).map(|i| buf.get(i / 8).is_some_and(|b| (b >> (i % 8)) & 1 == 1)));
            Ok(())
        }
        c => unknown(c, "boolean"),
    }
}

/// Encode strings with the smaller of [`STRING_DEFLATE`] and [`STRING_LEN_PREFIXED`]. Returns
/// the codec id.
pub fn encode_strings(v: &[String], out: &mut Vec<u8>) -> u8 {
    let mut raw = Vec::new();
    for s in v {
        put_str(&mut raw, s);
    }
    let mut z = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    // Writing into a Vec cannot fail; if it somehow did, the uncompressed form is used.
    let deflated = z.write_all(&raw).and_then(|()| z.finish()).ok();
    let mut header = Vec::new();
    put_uvarint(&mut header, raw.len() as u64);
    match deflated {
        Some(d) if header.len() + d.len() < raw.len() => {
            out.extend_from_slice(&header);
            out.extend_from_slice(&d);
            STRING_DEFLATE
        }
        _ => {
            out.extend_from_slice(&raw);
            STRING_LEN_PREFIXED
        }
    }
}

/// Decode exactly `n` strings from all of `buf`.
pub fn decode_strings(codec: u8, buf: &[u8], n: usize) -> Result<Vec<String>, DecodeError> {
    let mut out = Vec::new();
    decode_strings_into(codec, buf, n, &mut out)?;
    Ok(out)
}

fn decode_len_prefixed(buf: &[u8], n: usize, out: &mut Vec<String>) -> Result<(), DecodeError> {
    appending(out, |o| {
        let mut input = Input::new(buf);
        o.reserve(n.min(buf.len()));
        for _ in 0..n {
            o.push(input.str("string value")?.to_owned());
        }
        input.finish("string values")
    })
}

/// Decode exactly `n` strings from all of `buf`, appending them to `out`.
pub fn decode_strings_into(
    codec: u8,
    buf: &[u8],
    n: usize,
    out: &mut Vec<String>,
) -> Result<(), DecodeError> {
    match codec {
        STRING_LEN_PREFIXED => decode_len_prefixed(buf, n, out),
        STRING_DEFLATE => {
            let raw = inflate_exact(buf, MAX_STRING_COLUMN_BYTES, "compressed strings")?;
            decode_len_prefixed(&raw, n, out)
        }
        c => unknown(c, "string"),
    }
}

/// Inflate `buf`: a varint raw length (at most `max`) and the raw DEFLATE of exactly that many
/// bytes. At most one byte more than announced is inflated, so a bomb cannot grow the buffer.
pub(crate) fn inflate_exact(buf: &[u8], max: usize, what: &str) -> Result<Vec<u8>, DecodeError> {
    let mut input = Input::new(buf);
    let raw_len = input.len(max, &format!("{what} length"))?;
    let body = input.bytes(input.remaining(), what)?;
    let mut raw = Vec::with_capacity(raw_len.min(body.len().saturating_mul(4)));
    flate2::read::DeflateDecoder::new(body)
        .take(raw_len as u64 + 1)
        .read_to_end(&mut raw)
        .map_err(|e| DecodeError(format!("bad {what}: {e}")))?;
    if raw.len() != raw_len {
        return err(format!(
            "{what} inflate to {} bytes, expected {raw_len}",
            raw.len()
        ));
    }
    Ok(raw)
}

/// Encode a whole column of values with the best codec of its type. Returns the codec id.
pub fn encode_values(values: &Values, out: &mut Vec<u8>) -> u8 {
    match values {
        Values::Float(v) => encode_floats(v, out),
        Values::Integer(v) => encode_integers(v, out),
        Values::Unsigned(v) => encode_unsigned(v, out),
        Values::Boolean(v) => encode_bools(v, out),
        Values::String(v) => encode_strings(v, out),
    }
}

/// Decode exactly `n` values of type `t` from all of `buf`.
pub fn decode_values(t: FieldType, codec: u8, buf: &[u8], n: usize) -> Result<Values, DecodeError> {
    let mut out = Values::empty(t);
    decode_values_into(t, codec, buf, n, &mut out)?;
    Ok(out)
}

/// Decode exactly `n` values of type `t` from all of `buf`, appending them to `out` (which is
/// replaced by an empty column of type `t` first if it has another type).
pub fn decode_values_into(
    t: FieldType,
    codec: u8,
    buf: &[u8],
    n: usize,
    out: &mut Values,
) -> Result<(), DecodeError> {
    if out.field_type() != t {
        *out = Values::empty(t);
    }
    match out {
        Values::Float(v) => decode_floats_into(codec, buf, n, v),
        Values::Integer(v) => decode_integers_into(codec, buf, n, v),
        Values::Unsigned(v) => decode_unsigned_into(codec, buf, n, v),
        Values::Boolean(v) => decode_bools_into(codec, buf, n, v),
        Values::String(v) => decode_strings_into(codec, buf, n, v),
    }
}

/// [`decode_values_into`] of a column of `n` values that appends only the first `want` (at most
/// `n`). Range-coded decimal floats, the layout compaction picks for most float data, are
/// decoded little further than those; every other layout is decoded whole and cut.
pub fn decode_values_prefix_into(
    t: FieldType,
    codec: u8,
    buf: &[u8],
    n: usize,
    want: usize,
    out: &mut Values,
) -> Result<(), DecodeError> {
    let want = want.min(n);
    if let (FieldType::Float, FLOAT_DECIMAL_MUL_RANGE | FLOAT_DECIMAL_RANGE) = (t, codec) {
        if out.field_type() != t {
            *out = Values::empty(t);
        }
        if let Values::Float(v) = out {
            let rule = if codec == FLOAT_DECIMAL_RANGE {
                DecimalRule::Divide
            } else {
                DecimalRule::Multiply
            };
            return float::decode_decimal_ints_prefix_into(buf, n, want, rule, Ints::Range, v);
        }
    }
    decode_values_into(t, codec, buf, n, out)?;
    out.truncate(want);
    Ok(())
}

/// The format v2 encoders (before the patched ids), kept so tests can compare sizes against them
/// and prove their output still decodes.
#[cfg(test)]
pub(crate) fn encode_values_v2_plain(values: &Values, out: &mut Vec<u8>) -> u8 {
    let packed_or_varints = |ints: &[i64], varints: Vec<u8>, out: &mut Vec<u8>| {
        let start = out.len();
        packed::encode(ints, &[0, 1, 2], out);
        if varints.len() < out.len() - start {
            out.truncate(start);
            out.extend_from_slice(&varints);
            false
        } else {
            true
        }
    };
    match values {
        Values::Float(v) => {
            let mut decimal = Vec::new();
            let has_decimal = float::encode_decimal_plain(v, &mut decimal).is_some();
            let mut gorilla = Vec::new();
            float::encode_gorilla(v, &mut gorilla);
            let raw_len = v.len().saturating_mul(8);
            if has_decimal && decimal.len() <= gorilla.len() && decimal.len() <= raw_len {
                out.extend_from_slice(&decimal);
                FLOAT_DECIMAL
            } else if gorilla.len() < raw_len {
                out.extend_from_slice(&gorilla);
                FLOAT_GORILLA
            } else {
                encode_floats_raw(v, out)
            }
        }
        Values::Integer(v) => {
            let mut varints = Vec::new();
            encode_delta_varints(v, &mut varints);
            if packed_or_varints(v, varints, out) {
                INT_PACKED
            } else {
                INT_DELTA_ZIGZAG
            }
        }
        Values::Unsigned(v) => {
            let flipped: Vec<i64> = v.iter().map(|&x| (x ^ SIGN) as i64).collect();
            let mut varints = Vec::new();
            for &x in v {
                put_uvarint(&mut varints, x);
            }
            if packed_or_varints(&flipped, varints, out) {
                UNSIGNED_PACKED
            } else {
                UNSIGNED_VARINT
            }
        }
        Values::Boolean(_) | Values::String(_) => encode_values(values, out),
    }
}

/// The format v2 timestamp encoder (before the patched id).
#[cfg(test)]
pub(crate) fn encode_timestamps_v2_plain(ts: &[i64], out: &mut Vec<u8>) -> u8 {
    packed::encode(ts, &[1, 2], out);
    TS_PACKED
}

/// The format v1 encoders, kept so tests can write v1 blocks and prove they still decode.
#[cfg(test)]
pub(crate) fn encode_values_v1(values: &Values, out: &mut Vec<u8>) -> u8 {
    match values {
        Values::Float(v) => encode_floats_raw(v, out),
        Values::Integer(v) => {
            encode_delta_varints(v, out);
            INT_DELTA_ZIGZAG
        }
        Values::Unsigned(v) => {
            for &x in v {
                put_uvarint(out, x);
            }
            UNSIGNED_VARINT
        }
        Values::Boolean(v) => {
            out.extend(v.iter().map(|&b| u8::from(b)));
            BOOL_BYTE
        }
        Values::String(v) => {
            for s in v {
                put_str(out, s);
            }
            STRING_LEN_PREFIXED
        }
    }
}
