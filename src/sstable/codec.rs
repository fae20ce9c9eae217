//! Value codecs of SSTable format v1 and the little-endian byte helpers the format is built from.
//!
//! Every column encoding is tagged on disk with a one-byte codec id, so later format versions can
//! add better codecs next to these simple ones. Decoders never panic: malformed input gives a
//! [`DecodeError`], which the reader turns into [`crate::Error::Corrupt`] naming the file.

use std::fmt;

use crate::types::{FieldType, Values};

/// Timestamps: first value as a zigzag varint, then the deltas as zigzag varints.
pub const TS_DELTA_ZIGZAG: u8 = 1;
/// Floats: the raw IEEE-754 bits, 8 bytes little-endian each (bit-exact, NaN payloads kept).
pub const FLOAT_RAW: u8 = 1;
/// Integers: zigzag varints of the deltas (the first delta is from 0).
pub const INT_DELTA_ZIGZAG: u8 = 1;
/// Unsigned integers: plain LEB128 varints.
pub const UNSIGNED_VARINT: u8 = 1;
/// Booleans: one byte each, 0 or 1.
pub const BOOL_BYTE: u8 = 1;
/// Strings: varint byte length followed by the UTF-8 bytes, each.
pub const STRING_LEN_PREFIXED: u8 = 1;

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
        let mut v: u64 = 0;
        for i in 0..10 {
            let b = self.u8(what)?;
            if i == 9 && b > 1 {
                return err(format!("bad {what}: varint overflows 64 bits"));
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok(v);
            }
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

fn check_codec(codec: u8, expected: u8, what: &str) -> Result<(), DecodeError> {
    if codec != expected {
        return err(format!("unknown {what} codec id {codec}"));
    }
    Ok(())
}

/// Encode timestamps with [`TS_DELTA_ZIGZAG`]. Returns the codec id.
pub fn encode_timestamps(ts: &[i64], out: &mut Vec<u8>) -> u8 {
    let mut prev = 0i64;
    for &t in ts {
        put_uvarint(out, zigzag(t.wrapping_sub(prev)));
        prev = t;
    }
    TS_DELTA_ZIGZAG
}

/// Decode exactly `n` timestamps from all of `buf`.
pub fn decode_timestamps(codec: u8, buf: &[u8], n: usize) -> Result<Vec<i64>, DecodeError> {
    check_codec(codec, TS_DELTA_ZIGZAG, "timestamp")?;
    let mut input = Input::new(buf);
    let mut out = Vec::with_capacity(n.min(buf.len()));
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(unzigzag(input.uvarint("timestamp")?));
        out.push(prev);
    }
    input.finish("timestamps")?;
    Ok(out)
}

/// Encode floats with [`FLOAT_RAW`]. Returns the codec id.
pub fn encode_floats(v: &[f64], out: &mut Vec<u8>) -> u8 {
    out.reserve(v.len() * 8);
    for x in v {
        out.extend_from_slice(&x.to_bits().to_le_bytes());
    }
    FLOAT_RAW
}

/// Decode exactly `n` floats from all of `buf`.
pub fn decode_floats(codec: u8, buf: &[u8], n: usize) -> Result<Vec<f64>, DecodeError> {
    check_codec(codec, FLOAT_RAW, "float")?;
    if Some(buf.len()) != n.checked_mul(8) {
        return err(format!(
            "float column of {n} values has {} bytes, expected {}",
            buf.len(),
            n.saturating_mul(8)
        ));
    }
    let mut input = Input::new(buf);
    (0..n).map(|_| input.f64("float value")).collect()
}

/// Encode integers with [`INT_DELTA_ZIGZAG`]. Returns the codec id.
pub fn encode_integers(v: &[i64], out: &mut Vec<u8>) -> u8 {
    let mut prev = 0i64;
    for &x in v {
        put_uvarint(out, zigzag(x.wrapping_sub(prev)));
        prev = x;
    }
    INT_DELTA_ZIGZAG
}

/// Decode exactly `n` integers from all of `buf`.
pub fn decode_integers(codec: u8, buf: &[u8], n: usize) -> Result<Vec<i64>, DecodeError> {
    check_codec(codec, INT_DELTA_ZIGZAG, "integer")?;
    let mut input = Input::new(buf);
    let mut out = Vec::with_capacity(n.min(buf.len()));
    let mut prev = 0i64;
    for _ in 0..n {
        prev = prev.wrapping_add(unzigzag(input.uvarint("integer value")?));
        out.push(prev);
    }
    input.finish("integer values")?;
    Ok(out)
}

/// Encode unsigned integers with [`UNSIGNED_VARINT`]. Returns the codec id.
pub fn encode_unsigned(v: &[u64], out: &mut Vec<u8>) -> u8 {
    for &x in v {
        put_uvarint(out, x);
    }
    UNSIGNED_VARINT
}

/// Decode exactly `n` unsigned integers from all of `buf`.
pub fn decode_unsigned(codec: u8, buf: &[u8], n: usize) -> Result<Vec<u64>, DecodeError> {
    check_codec(codec, UNSIGNED_VARINT, "unsigned")?;
    let mut input = Input::new(buf);
    let mut out = Vec::with_capacity(n.min(buf.len()));
    for _ in 0..n {
        out.push(input.uvarint("unsigned value")?);
    }
    input.finish("unsigned values")?;
    Ok(out)
}

/// Encode booleans with [`BOOL_BYTE`]. Returns the codec id.
pub fn encode_bools(v: &[bool], out: &mut Vec<u8>) -> u8 {
    out.extend(v.iter().map(|&b| u8::from(b)));
    BOOL_BYTE
}

/// Decode exactly `n` booleans from all of `buf`.
pub fn decode_bools(codec: u8, buf: &[u8], n: usize) -> Result<Vec<bool>, DecodeError> {
    check_codec(codec, BOOL_BYTE, "boolean")?;
    if buf.len() != n {
        return err(format!(
            "boolean column of {n} values has {} bytes",
            buf.len()
        ));
    }
    let mut input = Input::new(buf);
    (0..n).map(|_| input.bool("boolean value")).collect()
}

/// Encode strings with [`STRING_LEN_PREFIXED`]. Returns the codec id.
pub fn encode_strings(v: &[String], out: &mut Vec<u8>) -> u8 {
    for s in v {
        put_str(out, s);
    }
    STRING_LEN_PREFIXED
}

/// Decode exactly `n` strings from all of `buf`.
pub fn decode_strings(codec: u8, buf: &[u8], n: usize) -> Result<Vec<String>, DecodeError> {
    check_codec(codec, STRING_LEN_PREFIXED, "string")?;
    let mut input = Input::new(buf);
    let mut out = Vec::with_capacity(n.min(buf.len()));
    for _ in 0..n {
        out.push(input.str("string value")?.to_owned());
    }
    input.finish("string values")?;
    Ok(out)
}

/// Encode a whole column of values with the v1 codec of its type. Returns the codec id.
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
    Ok(match t {
        FieldType::Float => Values::Float(decode_floats(codec, buf, n)?),
        FieldType::Integer => Values::Integer(decode_integers(codec, buf, n)?),
        FieldType::Unsigned => Values::Unsigned(decode_unsigned(codec, buf, n)?),
        FieldType::Boolean => Values::Boolean(decode_bools(codec, buf, n)?),
        FieldType::String => Values::String(decode_strings(codec, buf, n)?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn zigzag_extremes() {
        for v in [0, 1, -1, i64::MIN, i64::MAX, 63, -64] {
            assert_eq!(unzigzag(zigzag(v)), v);
        }
        assert_eq!(zigzag(-1), 1);
        assert_eq!(zigzag(1), 2);
    }

    #[test]
    fn varint_rejects_overflow_and_truncation() {
        let mut buf = Vec::new();
        put_uvarint(&mut buf, u64::MAX);
        assert_eq!(buf.len(), 10);
        assert_eq!(Input::new(&buf).uvarint("x"), Ok(u64::MAX));
        let mut bad = buf.clone();
        bad[9] = 2;
        assert!(Input::new(&bad).uvarint("x").is_err());
        assert!(Input::new(&buf[..9]).uvarint("x").is_err());
        assert!(Input::new(&[0x80; 11]).uvarint("x").is_err());
    }

    #[test]
    fn decoders_reject_bad_input() {
        assert!(decode_bools(BOOL_BYTE, &[2], 1).is_err());
        assert!(decode_bools(BOOL_BYTE, &[1, 0], 1).is_err());
        assert!(decode_floats(FLOAT_RAW, &[0; 7], 1).is_err());
        assert!(decode_floats(FLOAT_RAW, &[0; 8], usize::MAX).is_err());
        assert!(decode_strings(STRING_LEN_PREFIXED, &[2, 0xff, 0xfe], 1).is_err());
        assert!(decode_strings(STRING_LEN_PREFIXED, &[5, b'a'], 1).is_err());
        assert!(decode_unsigned(UNSIGNED_VARINT, &[1, 2], 1).is_err());
        assert!(decode_integers(2, &[], 0).is_err());
        assert!(decode_timestamps(TS_DELTA_ZIGZAG, &[0x80], 1).is_err());
    }

    fn values_strategy() -> impl Strategy<Value = Values> {
        prop_oneof![
            prop::collection::vec(any::<u64>().prop_map(f64::from_bits), 0..50)
                .prop_map(Values::Float),
            prop::collection::vec(any::<i64>(), 0..50).prop_map(Values::Integer),
            prop::collection::vec(any::<u64>(), 0..50).prop_map(Values::Unsigned),
            prop::collection::vec(any::<bool>(), 0..50).prop_map(Values::Boolean),
            prop::collection::vec(".{0,12}", 0..50).prop_map(Values::String),
        ]
    }

    /// Bit-exact equality (so NaN payloads and -0.0 count).
    pub(crate) fn same_values(a: &Values, b: &Values) -> bool {
        match (a, b) {
            (Values::Float(x), Values::Float(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits())
            }
            _ => a == b,
        }
    }

    proptest! {
        #[test]
        fn timestamps_round_trip(ts in prop::collection::vec(any::<i64>(), 0..100)) {
            let mut buf = Vec::new();
            let c = encode_timestamps(&ts, &mut buf);
            prop_assert_eq!(decode_timestamps(c, &buf, ts.len()), Ok(ts));
        }

        #[test]
        fn values_round_trip(v in values_strategy()) {
            let mut buf = Vec::new();
            let c = encode_values(&v, &mut buf);
            let back = decode_values(v.field_type(), c, &buf, v.len());
            prop_assert!(back.as_ref().is_ok_and(|b| same_values(b, &v)), "{:?} != {:?}", back, v);
        }

        #[test]
        fn decoders_never_panic(t in 0u8..5, buf in prop::collection::vec(any::<u8>(), 0..64), n in 0usize..40) {
            let t = FieldType::from_u8(t).ok_or_else(|| TestCaseError::fail("type"))?;
            let _ = decode_values(t, value_codec(t), &buf, n);
            let _ = decode_timestamps(TS_DELTA_ZIGZAG, &buf, n);
        }
    }
}
