//! Data blocks and their pre-aggregates.
//!
//! Block layout of format v5 and on (v6 changed no block; little-endian):
//!
//! ```text
//! codecs u8 | [ts_len uvarint | timestamps (ts_len bytes)] | values | crc32 u32
//! ```
//!
//! The codec byte holds the timestamp codec id in its low four bits and the value codec id in
//! its high four; the timestamps' length and bytes are absent when their id is [`TS_REGULAR`].
//!
//! A v5 block does not repeat what its series-index entry ([`super::BlockMeta`]) records: the
//! field type, the point count, the time range and the pre-aggregates live only there, and the
//! reader decodes a block against its entry. Timestamps that step regularly from the entry's
//! `min_ts` to its `max_ts` are stored as nothing at all ([`TS_REGULAR`]).
//!
//! Blocks of formats v1–v4 (still read) carry a fixed header:
//!
//! ```text
//! min_ts i64 | max_ts i64 | count u32 | field type u8 | ts codec u8 | value codec u8
//! | aggregates (see encode_agg) | ts_len u32 | timestamps (ts_len bytes) | values | crc32 u32
//! ```
//!
//! which the reader checks against the index entry. In every version the crc32 covers every
//! byte of the block before it, writers choose the codecs per block (see [`super::codec`]) and
//! record their ids, and the pre-aggregates are computed from the values, whatever the codec.

use crate::types::{Column, FieldType, FieldValue, Timestamp, Values};

use super::codec::{self, put_uvarint, zigzag, DecodeError, Input};
use super::format::BlockMeta;

/// Most points in one data block; the writer splits longer runs.
pub const BLOCK_POINTS: usize = 1000;

/// Fixed bytes of a v1–v4 block header before the aggregates.
const HEADER_FIXED: usize = 8 + 8 + 4 + 3;

/// Timestamp codec id of format v5 blocks whose points step regularly (the same positive
/// delta) from the index entry's `min_ts` to its `max_ts`, or a single point: no bytes stored,
/// the timestamps follow from the entry's range and count. Only blocks decode it (the column
/// codecs of [`super::codec`] don't know the entry); its id follows the timestamp ids there.
pub const TS_REGULAR: u8 = 4;

/// Smallest v5 block: the codec byte and the crc.
pub(crate) const MIN_BLOCK_LEN_V5: u32 = 1 + 4;

/// Pre-aggregates of one block, stored both in the block header and in the series index so a
/// query can answer `count/sum/min/max/first/last` for whole blocks without reading them.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockAgg {
    /// The value at the block's `min_ts`.
    pub first: FieldValue,
    /// The value at the block's `max_ts`.
    pub last: FieldValue,
    /// Numeric aggregates; [`NumericAgg::None`] for boolean and string blocks.
    pub numeric: NumericAgg,
}

/// Numeric pre-aggregates of one block, in the column's native type.
///
/// Float `min`/`max` follow `f64::min`/`f64::max`: NaNs are ignored unless every value is NaN.
/// `sum` is the f64 sum; integer and unsigned blocks also carry the exact sum (a block of at
/// most [`BLOCK_POINTS`] values cannot overflow i128/u128).
#[derive(Clone, Debug, PartialEq)]
pub enum NumericAgg {
    None,
    Float {
        sum: f64,
        min: f64,
        max: f64,
    },
    Integer {
        sum: f64,
        exact_sum: i128,
        min: i64,
        max: i64,
    },
    Unsigned {
        sum: f64,
        exact_sum: u128,
        min: u64,
        max: u64,
    },
}

/// A block's pre-aggregates as the in-memory series index keeps them: one variant per field
/// type, so the type needs no byte of its own and a numeric block no `FieldValue`s (a
/// `BlockAgg` is 96 bytes, this at most 64; every open table holds one per block). The
/// 128-bit exact sums are split into two words so the enum keeps 8-byte alignment.
/// [`PackedAgg::unpack`] gives back the [`BlockAgg`] it was packed from, bit for bit.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PackedAgg {
    Float {
        first: f64,
        last: f64,
        sum: f64,
        min: f64,
        max: f64,
    },
    Integer {
        first: i64,
        last: i64,
        sum: f64,
        min: i64,
        max: i64,
        exact_sum: [u64; 2],
    },
    Unsigned {
        first: u64,
        last: u64,
        sum: f64,
        min: u64,
        max: u64,
        exact_sum: [u64; 2],
    },
    Boolean {
        first: bool,
        last: bool,
    },
    String(Box<(String, String)>),
}

/// An i128/u128 as (low, high) words.
fn split128(v: u128) -> [u64; 2] {
    [v as u64, (v >> 64) as u64]
}

fn join128([lo, hi]: [u64; 2]) -> u128 {
    u128::from(lo) | (u128::from(hi) << 64)
}

impl PackedAgg {
    /// Pack `agg`, which must be of `field_type` throughout (`None` if a part disagrees).
    pub(crate) fn pack(agg: BlockAgg, field_type: FieldType) -> Option<PackedAgg> {
        Some(match (field_type, agg.first, agg.last, agg.numeric) {
            (
                FieldType::Float,
                FieldValue::Float(first),
                FieldValue::Float(last),
                NumericAgg::Float { sum, min, max },
            ) => PackedAgg::Float {
                first,
                last,
                sum,
                min,
                max,
            },
            (
                FieldType::Integer,
                FieldValue::Integer(first),
                FieldValue::Integer(last),
                NumericAgg::Integer {
                    sum,
                    exact_sum,
                    min,
                    max,
                },
            ) => PackedAgg::Integer {
                first,
                last,
                sum,
                min,
                max,
                exact_sum: split128(exact_sum as u128),
            },
            (
                FieldType::Unsigned,
                FieldValue::Unsigned(first),
                FieldValue::Unsigned(last),
                NumericAgg::Unsigned {
                    sum,
                    exact_sum,
                    min,
                    max,
                },
            ) => PackedAgg::Unsigned {
                first,
                last,
                sum,
                min,
                max,
                exact_sum: split128(exact_sum),
            },
            (
                FieldType::Boolean,
                FieldValue::Boolean(first),
                FieldValue::Boolean(last),
                NumericAgg::None,
            ) => PackedAgg::Boolean { first, last },
            (
                FieldType::String,
                FieldValue::String(first),
                FieldValue::String(last),
                NumericAgg::None,
            ) => PackedAgg::String(Box::new((first, last))),
            _ => return None,
        })
    }

    /// The aggregates as they were packed.
    pub(crate) fn unpack(&self) -> BlockAgg {
        match self {
            PackedAgg::Float {
                first,
                last,
                sum,
                min,
                max,
            } => BlockAgg {
                first: FieldValue::Float(*first),
                last: FieldValue::Float(*last),
                numeric: NumericAgg::Float {
                    sum: *sum,
                    min: *min,
                    max: *max,
                },
            },
            PackedAgg::Integer {
                first,
                last,
                sum,
                min,
                max,
                exact_sum,
            } => BlockAgg {
                first: FieldValue::Integer(*first),
                last: FieldValue::Integer(*last),
                numeric: NumericAgg::Integer {
                    sum: *sum,
                    exact_sum: join128(*exact_sum) as i128,
                    min: *min,
                    max: *max,
                },
            },
            PackedAgg::Unsigned {
                first,
                last,
                sum,
                min,
                max,
                exact_sum,
            } => BlockAgg {
                first: FieldValue::Unsigned(*first),
                last: FieldValue::Unsigned(*last),
                numeric: NumericAgg::Unsigned {
                    sum: *sum,
                    exact_sum: join128(*exact_sum),
                    min: *min,
                    max: *max,
                },
            },
            PackedAgg::Boolean { first, last } => BlockAgg {
                first: FieldValue::Boolean(*first),
                last: FieldValue::Boolean(*last),
                numeric: NumericAgg::None,
            },
            PackedAgg::String(fl) => BlockAgg {
                first: FieldValue::String(fl.0.clone()),
                last: FieldValue::String(fl.1.clone()),
                numeric: NumericAgg::None,
            },
        }
    }

    pub(crate) fn field_type(&self) -> FieldType {
        match self {
            PackedAgg::Float { .. } => FieldType::Float,
            PackedAgg::Integer { .. } => FieldType::Integer,
            PackedAgg::Unsigned { .. } => FieldType::Unsigned,
            PackedAgg::Boolean { .. } => FieldType::Boolean,
            PackedAgg::String(_) => FieldType::String,
        }
    }
}

/// Compute the aggregates of a non-empty slice of values (given as the full column + range).
pub(crate) fn compute_agg(values: &Values, lo: usize, hi: usize) -> Option<BlockAgg> {
    Some(match values {
        Values::Float(v) => {
            let v = v.get(lo..hi)?;
            let (&first, &last) = (v.first()?, v.last()?);
            let (mut sum, mut min, mut max) = (0.0f64, first, first);
            for &x in v {
                sum += x;
                min = min.min(x);
                max = max.max(x);
            }
            BlockAgg {
                first: FieldValue::Float(first),
                last: FieldValue::Float(last),
                numeric: NumericAgg::Float { sum, min, max },
            }
        }
        Values::Integer(v) => {
            let v = v.get(lo..hi)?;
            let (&first, &last) = (v.first()?, v.last()?);
            let exact_sum: i128 = v.iter().map(|&x| i128::from(x)).sum();
            BlockAgg {
                first: FieldValue::Integer(first),
                last: FieldValue::Integer(last),
                numeric: NumericAgg::Integer {
                    sum: exact_sum as f64,
                    exact_sum,
                    min: v.iter().copied().min()?,
                    max: v.iter().copied().max()?,
                },
            }
        }
        Values::Unsigned(v) => {
            let v = v.get(lo..hi)?;
            let (&first, &last) = (v.first()?, v.last()?);
            let exact_sum: u128 = v.iter().map(|&x| u128::from(x)).sum();
            BlockAgg {
                first: FieldValue::Unsigned(first),
                last: FieldValue::Unsigned(last),
                numeric: NumericAgg::Unsigned {
                    sum: exact_sum as f64,
                    exact_sum,
                    min: v.iter().copied().min()?,
                    max: v.iter().copied().max()?,
                },
            }
        }
        Values::Boolean(v) => {
            let v = v.get(lo..hi)?;
            BlockAgg {
                first: FieldValue::Boolean(*v.first()?),
                last: FieldValue::Boolean(*v.last()?),
                numeric: NumericAgg::None,
            }
        }
        Values::String(v) => {
            let v = v.get(lo..hi)?;
            BlockAgg {
                first: FieldValue::String(v.first()?.clone()),
                last: FieldValue::String(v.last()?.clone()),
                numeric: NumericAgg::None,
            }
        }
    })
}

fn put_value(out: &mut Vec<u8>, v: &FieldValue) {
    match v {
        FieldValue::Float(x) => out.extend_from_slice(&x.to_bits().to_le_bytes()),
        FieldValue::Integer(x) => out.extend_from_slice(&x.to_le_bytes()),
        FieldValue::Unsigned(x) => out.extend_from_slice(&x.to_le_bytes()),
        FieldValue::Boolean(x) => out.push(u8::from(*x)),
        FieldValue::String(x) => codec::put_str(out, x),
    }
}

fn get_value(input: &mut Input<'_>, t: FieldType, what: &str) -> Result<FieldValue, DecodeError> {
    Ok(match t {
        FieldType::Float => FieldValue::Float(input.f64(what)?),
        FieldType::Integer => FieldValue::Integer(input.i64(what)?),
        FieldType::Unsigned => FieldValue::Unsigned(input.u64(what)?),
        FieldType::Boolean => FieldValue::Boolean(input.bool(what)?),
        FieldType::String => FieldValue::String(input.str(what)?.to_owned()),
    })
}

/// Append the on-disk form of `agg`:
/// float: sum f64, min f64, max f64, first f64, last f64;
/// integer: sum f64, exact sum i128, min i64, max i64, first i64, last i64;
/// unsigned: sum f64, exact sum u128, min u64, max u64, first u64, last u64;
/// boolean: first u8, last u8; string: first and last as varint length + UTF-8.
pub(crate) fn encode_agg(agg: &BlockAgg, out: &mut Vec<u8>) {
    match &agg.numeric {
        NumericAgg::None => {}
        NumericAgg::Float { sum, min, max } => {
            for x in [sum, min, max] {
                out.extend_from_slice(&x.to_bits().to_le_bytes());
            }
        }
        NumericAgg::Integer {
            sum,
            exact_sum,
            min,
            max,
        } => {
            out.extend_from_slice(&sum.to_bits().to_le_bytes());
            out.extend_from_slice(&exact_sum.to_le_bytes());
            out.extend_from_slice(&min.to_le_bytes());
            out.extend_from_slice(&max.to_le_bytes());
        }
        NumericAgg::Unsigned {
            sum,
            exact_sum,
            min,
            max,
        } => {
            out.extend_from_slice(&sum.to_bits().to_le_bytes());
            out.extend_from_slice(&exact_sum.to_le_bytes());
            out.extend_from_slice(&min.to_le_bytes());
            out.extend_from_slice(&max.to_le_bytes());
        }
    }
    put_value(out, &agg.first);
    put_value(out, &agg.last);
}

/// Read the aggregates of a block of type `t` (inverse of [`encode_agg`]).
pub(crate) fn decode_agg(input: &mut Input<'_>, t: FieldType) -> Result<BlockAgg, DecodeError> {
    let numeric = match t {
        FieldType::Float => NumericAgg::Float {
            sum: input.f64("aggregate sum")?,
            min: input.f64("aggregate min")?,
            max: input.f64("aggregate max")?,
        },
        FieldType::Integer => NumericAgg::Integer {
            sum: input.f64("aggregate sum")?,
            exact_sum: input.i128("aggregate exact sum")?,
            min: input.i64("aggregate min")?,
            max: input.i64("aggregate max")?,
        },
        FieldType::Unsigned => NumericAgg::Unsigned {
            sum: input.f64("aggregate sum")?,
            exact_sum: input.u128("aggregate exact sum")?,
            min: input.u64("aggregate min")?,
            max: input.u64("aggregate max")?,
        },
        FieldType::Boolean | FieldType::String => NumericAgg::None,
    };
    Ok(BlockAgg {
        first: get_value(input, t, "aggregate first")?,
        last: get_value(input, t, "aggregate last")?,
        numeric,
    })
}

/// Largest power-of-ten exponent a v5 float aggregate is scaled by.
const AGG_MAX_EXP: u32 = 15;

/// The smallest `e <= AGG_MAX_EXP` such that every value of `vs` is bit for bit
/// `m as f64 / 10^e` for an integer `|m| < 2^53` (NaNs, infinities and -0.0 never are), and
/// those integers.
fn decimal_scaled<const N: usize>(vs: [f64; N]) -> Option<(u32, [i64; N])> {
    const LIMIT: f64 = (1u64 << 53) as f64;
    'exp: for e in 0..=AGG_MAX_EXP {
        let p = 10f64.powi(e as i32);
        let mut ms = [0i64; N];
        for (m, &v) in ms.iter_mut().zip(&vs) {
            let scaled = (v * p).round();
            if !scaled.is_finite() || scaled.abs() >= LIMIT {
                continue 'exp;
            }
            // Checked on the integer, so -0.0 (which scales to 0) is refused.
            let k = scaled as i64;
            if (k as f64 / p).to_bits() != v.to_bits() {
                continue 'exp;
            }
            *m = k;
        }
        return Some((e, ms));
    }
    None
}

/// A float block's sum as the integer `k` nearest `sum * 10^e` and the bits by which `sum`
/// differs from `k as f64 / 10^e` (XOR; a sum of decimals of scale `e` lies within a few ulps of
/// that, so the residual is small), when both take fewer varint bytes than the 8 of the sum.
fn predicted_sum(sum: f64, e: u32) -> Option<(i64, u64)> {
    let p = 10f64.powi(e as i32);
    let scaled = (sum * p).round();
    if !scaled.is_finite() || scaled.abs() >= 9.0e18 {
        return None;
    }
    let k = scaled as i64;
    let residual = (k as f64 / p).to_bits() ^ sum.to_bits();
    let varint_len = |v: u64| (64 - v.leading_zeros()).max(1).div_ceil(7);
    (varint_len(zigzag(k)) + varint_len(residual) < 8).then_some((k, residual))
}

fn put_uvarint128(out: &mut Vec<u8>, mut v: u128) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_uvarint128(input: &mut Input<'_>, what: &str) -> Result<u128, DecodeError> {
    let mut v = 0u128;
    for i in 0..19 {
        let b = input.u8(what)?;
        if i == 18 && b > 0x03 {
            break;
        }
        v |= u128::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err(DecodeError(format!(
        "bad {what}: varint overflows 128 bits"
    )))
}

fn zigzag128(v: i128) -> u128 {
    ((v << 1) ^ (v >> 127)) as u128
}

fn unzigzag128(v: u128) -> i128 {
    ((v >> 1) as i128) ^ -((v & 1) as i128)
}

/// `min`, then `max`, `first` and `last` as unsigned offsets from `min` (which they are at
/// least), for integer aggregates.
fn put_spread(out: &mut Vec<u8>, min: u64, rest: [u64; 3]) {
    put_uvarint(out, min);
    for v in rest {
        put_uvarint(out, v.wrapping_sub(min));
    }
}

fn get_spread(input: &mut Input<'_>, what: &str) -> Result<(u64, [u64; 3]), DecodeError> {
    let min = input.uvarint(what)?;
    let mut rest = [0u64; 3];
    for v in &mut rest {
        let off = input.uvarint(what)?;
        *v = min
            .checked_add(off)
            .ok_or_else(|| DecodeError(format!("bad {what}: offset {off} overflows")))?;
    }
    Ok((min, rest))
}

/// Flip the top bit: an order-preserving map between i64 and u64.
fn flip(v: i64) -> u64 {
    (v as u64) ^ (1 << 63)
}

fn unflip(v: u64) -> i64 {
    (v ^ (1 << 63)) as i64
}

/// Append the format v5 (series index) form of `agg`, for a block of type `t`:
/// * float: a tag byte; tag 1: the exponent `e` (u8), then `sum` as f64 bits, then `min` as a
///   zigzag varint and `max`, `first`, `last` as varint offsets from it, all four as integers
///   `m` with `value == m as f64 / 10^e` bit for bit; tag 2: as tag 1 with the sum as a zigzag
///   varint `k` and a varint residual ([`predicted_sum`]); tag 0: sum, min, max, first, last as
///   f64;
/// * integer: the exact sum as a zigzag LEB128 (up to 128 bits), then min (order-preserving
///   flip of its top bit) and max, first, last as offsets from it; the f64 sum is the exact sum
///   rounded;
/// * unsigned: the exact sum as a LEB128, then min and max, first, last as offsets from it;
/// * boolean: one byte, bit 0 first, bit 1 last;
/// * string: first and last as varint length + UTF-8.
pub(crate) fn encode_agg_v5(agg: &BlockAgg, out: &mut Vec<u8>) {
    match (&agg.numeric, &agg.first, &agg.last) {
        (NumericAgg::Float { sum, min, max }, FieldValue::Float(f), FieldValue::Float(l)) => {
            match decimal_scaled([*min, *max, *f, *l]) {
                Some((e, [m_min, m_max, m_f, m_l])) => {
                    match predicted_sum(*sum, e) {
                        Some((k, residual)) => {
                            out.push(2);
                            out.push(e as u8);
                            put_uvarint(out, zigzag(k));
                            put_uvarint(out, residual);
                        }
                        None => {
                            out.push(1);
                            out.push(e as u8);
                            out.extend_from_slice(&sum.to_bits().to_le_bytes());
                        }
                    }
                    put_uvarint(out, zigzag(m_min));
                    for m in [m_max, m_f, m_l] {
                        // max, first and last are at least min (as decimals of one scale).
                        put_uvarint(out, m.wrapping_sub(m_min) as u64);
                    }
                }
                None => {
                    out.push(0);
                    for x in [sum, min, max, f, l] {
                        out.extend_from_slice(&x.to_bits().to_le_bytes());
                    }
                }
            }
        }
        (
            NumericAgg::Integer {
                exact_sum,
                min,
                max,
                ..
            },
            FieldValue::Integer(f),
            FieldValue::Integer(l),
        ) => {
            put_uvarint128(out, zigzag128(*exact_sum));
            put_spread(out, flip(*min), [flip(*max), flip(*f), flip(*l)]);
        }
        (
            NumericAgg::Unsigned {
                exact_sum,
                min,
                max,
                ..
            },
            FieldValue::Unsigned(f),
            FieldValue::Unsigned(l),
        ) => {
            put_uvarint128(out, *exact_sum);
            put_spread(out, *min, [*max, *f, *l]);
        }
        (NumericAgg::None, FieldValue::Boolean(f), FieldValue::Boolean(l)) => {
            out.push(u8::from(*f) | (u8::from(*l) << 1));
        }
        (NumericAgg::None, FieldValue::String(f), FieldValue::String(l)) => {
            codec::put_str(out, f);
            codec::put_str(out, l);
        }
        // Aggregates whose parts disagree in type are never computed; the v1–v4 form (which
        // the decoder below never sees) keeps the encoder total.
        _ => encode_agg(agg, out),
    }
}

/// Read the v5 aggregates of a block of type `t` (inverse of [`encode_agg_v5`]), checking that
/// `min <= first, last <= max` where they are ordered.
pub(crate) fn decode_agg_v5(input: &mut Input<'_>, t: FieldType) -> Result<BlockAgg, DecodeError> {
    Ok(match t {
        FieldType::Float => match input.u8("float aggregate tag")? {
            tag @ (1 | 2) => {
                let e = u32::from(input.u8("aggregate exponent")?);
                if e > AGG_MAX_EXP {
                    return Err(DecodeError(format!("bad aggregate exponent {e}")));
                }
                let p = 10f64.powi(e as i32);
                let sum = if tag == 1 {
                    input.f64("aggregate sum")?
                } else {
                    let k = codec::unzigzag(input.uvarint("aggregate sum")?);
                    let residual = input.uvarint("aggregate sum residual")?;
                    f64::from_bits((k as f64 / p).to_bits() ^ residual)
                };
                let m_min = codec::unzigzag(input.uvarint("aggregate min")?);
                let mut rest = [0.0f64; 3];
                for v in &mut rest {
                    let off = input.uvarint("aggregate offset")?;
                    let m = i64::try_from(off)
                        .ok()
                        .and_then(|o| m_min.checked_add(o))
                        .ok_or_else(|| DecodeError(format!("bad aggregate offset {off}")))?;
                    *v = m as f64 / p;
                }
                let [max, first, last] = rest;
                BlockAgg {
                    first: FieldValue::Float(first),
                    last: FieldValue::Float(last),
                    numeric: NumericAgg::Float {
                        sum,
                        min: m_min as f64 / p,
                        max,
                    },
                }
            }
            0 => {
                let sum = input.f64("aggregate sum")?;
                let min = input.f64("aggregate min")?;
                let max = input.f64("aggregate max")?;
                BlockAgg {
                    first: FieldValue::Float(input.f64("aggregate first")?),
                    last: FieldValue::Float(input.f64("aggregate last")?),
                    numeric: NumericAgg::Float { sum, min, max },
                }
            }
            tag => return Err(DecodeError(format!("unknown float aggregate tag {tag}"))),
        },
        FieldType::Integer => {
            let exact_sum = unzigzag128(get_uvarint128(input, "aggregate exact sum")?);
            let (min, [max, first, last]) = get_spread(input, "integer aggregates")?;
            BlockAgg {
                first: FieldValue::Integer(unflip(first)),
                last: FieldValue::Integer(unflip(last)),
                numeric: NumericAgg::Integer {
                    sum: exact_sum as f64,
                    exact_sum,
                    min: unflip(min),
                    max: unflip(max),
                },
            }
        }
        FieldType::Unsigned => {
            let exact_sum = get_uvarint128(input, "aggregate exact sum")?;
            let (min, [max, first, last]) = get_spread(input, "unsigned aggregates")?;
            BlockAgg {
                first: FieldValue::Unsigned(first),
                last: FieldValue::Unsigned(last),
                numeric: NumericAgg::Unsigned {
                    sum: exact_sum as f64,
                    exact_sum,
                    min,
                    max,
                },
            }
        }
        FieldType::Boolean => {
            let b = input.u8("boolean aggregates")?;
            if b > 3 {
                return Err(DecodeError(format!("bad boolean aggregates byte {b}")));
            }
            BlockAgg {
                first: FieldValue::Boolean(b & 1 != 0),
                last: FieldValue::Boolean(b & 2 != 0),
                numeric: NumericAgg::None,
            }
        }
        FieldType::String => BlockAgg {
            first: FieldValue::String(input.str("aggregate first")?.to_owned()),
            last: FieldValue::String(input.str("aggregate last")?.to_owned()),
            numeric: NumericAgg::None,
        },
    })
}

/// What the writer learns from encoding one block.
pub(crate) struct EncodedBlock {
    pub min_ts: Timestamp,
    pub max_ts: Timestamp,
    pub count: u32,
    pub agg: BlockAgg,
}

/// Encode `values[lo..hi]` with the best codec of its type (`None` if out of range).
fn encode_value_range(values: &Values, lo: usize, hi: usize, out: &mut Vec<u8>) -> Option<u8> {
    Some(match values {
        Values::Float(v) => codec::encode_floats(v.get(lo..hi)?, out),
        Values::Integer(v) => codec::encode_integers(v.get(lo..hi)?, out),
        Values::Unsigned(v) => codec::encode_unsigned(v.get(lo..hi)?, out),
        Values::Boolean(v) => codec::encode_bools(v.get(lo..hi)?, out),
        Values::String(v) => codec::encode_strings(v.get(lo..hi)?, out),
    })
}

/// Whether `ts` (strictly ascending, non-empty) steps by one positive delta throughout, so a v5
/// block can store it as [`TS_REGULAR`].
fn is_regular(ts: &[i64]) -> bool {
    let [first, second, ..] = ts else {
        return ts.len() == 1;
    };
    let step = second.wrapping_sub(*first);
    // Branch-free over the whole slice (vectorises).
    step > 0
        && ts
            .windows(2)
            .fold(true, |ok, w| ok & (w[1].wrapping_sub(w[0]) == step))
}

/// Encode points `lo..hi` of `column` (non-empty, at most [`BLOCK_POINTS`], already validated by
/// the writer) as one format v5 block appended to `out`. `None` if the range is empty or out of
/// bounds. The caller records the returned range, count and aggregates in the series index.
pub(crate) fn encode_block(
    column: &Column,
    lo: usize,
    hi: usize,
    out: &mut Vec<u8>,
) -> Option<EncodedBlock> {
    let ts = column.timestamps.get(lo..hi)?;
    let (&min_ts, &max_ts) = (ts.first()?, ts.last()?);
    let count = u32::try_from(ts.len()).ok()?;
    let agg = compute_agg(&column.values, lo, hi)?;
    let start = out.len();
    // The codec byte is filled in once the columns are encoded.
    out.push(0);
    let ts_codec = if is_regular(ts) {
        TS_REGULAR
    } else {
        let ts_at = out.len();
        let id = codec::encode_timestamps(ts, out);
        let mut len = Vec::with_capacity(3);
        put_uvarint(&mut len, (out.len() - ts_at) as u64);
        out.splice(ts_at..ts_at, len);
        id
    };
    let value_codec = encode_value_range(&column.values, lo, hi, out)?;
    if ts_codec > 0x0f || value_codec > 0x0f {
        return None;
    }
    *out.get_mut(start)? = ts_codec | (value_codec << 4);
    let crc = crc32fast::hash(out.get(start..)?);
    out.extend_from_slice(&crc.to_le_bytes());
    Some(EncodedBlock {
        min_ts,
        max_ts,
        count,
        agg,
    })
}

/// Verify the crc of a v5 block and decode it against its index entry `meta` into a
/// caller-provided column, whose buffers are reused: it is cleared (and given the entry's type)
/// first. Only the points at or before `through` are kept (`i64::MAX`: all): every timestamp
/// is decoded and checked, then only the values of the kept points (see
/// [`codec::decode_values_prefix_into`]). On error its contents are unspecified.
pub(crate) fn decode_block_v5_through(
    buf: &[u8],
    meta: &BlockMeta,
    through: i64,
    column: &mut Column,
) -> Result<(), DecodeError> {
    let (value_codec, values) = decode_v5_timestamps(buf, meta, &mut column.timestamps)?;
    let n = column.timestamps.len();
    let keep = column.timestamps.partition_point(|&t| t <= through);
    column.timestamps.truncate(keep);
    clear_values(&mut column.values, meta.field_type());
    codec::decode_values_prefix_into(
        meta.field_type(),
        value_codec,
        values,
        n,
        keep,
        &mut column.values,
    )
}

/// Verify the crc of a v5 block and decode only its timestamps (checked against its index
/// entry `meta`) into `out`, which is cleared first. On error its contents are unspecified.
pub(crate) fn decode_block_v5_timestamps(
    buf: &[u8],
    meta: &BlockMeta,
    out: &mut Vec<i64>,
) -> Result<(), DecodeError> {
    decode_v5_timestamps(buf, meta, out).map(|_| ())
}

/// The crc check and timestamps of a v5 block (into `out`, cleared first): its value codec
/// and the bytes of its values.
fn decode_v5_timestamps<'a>(
    buf: &'a [u8],
    meta: &BlockMeta,
    out: &mut Vec<i64>,
) -> Result<(u8, &'a [u8]), DecodeError> {
    let body_len = buf
        .len()
        .checked_sub(4)
        .filter(|&n| n + 4 >= MIN_BLOCK_LEN_V5 as usize)
        .ok_or_else(|| DecodeError(format!("block of {} bytes is too short", buf.len())))?;
    let (body, crc) = buf.split_at(body_len);
    check_crc(body, crc)?;
    let n = meta.count as usize;
    if n == 0 || n > BLOCK_POINTS {
        return Err(DecodeError(format!(
            "block count {} outside 1..={BLOCK_POINTS}",
            meta.count
        )));
    }
    let mut input = Input::new(body);
    let codecs = input.u8("block codecs")?;
    let (ts_codec, value_codec) = (codecs & 0x0f, codecs >> 4);
    out.clear();
    let ascending = if ts_codec == TS_REGULAR {
        fill_regular(meta.min_ts, meta.max_ts, n, out)?;
        true
    } else {
        let ts_len = input.len(input.remaining(), "block timestamps length")?;
        let ts_buf = input.bytes(ts_len, "block timestamps")?;
        codec::decode_timestamps_into(ts_codec, ts_buf, n, out)?;
        codec::timestamps_ascend_by_header(ts_codec, ts_buf, n)
    };
    check_timestamps(out, ascending, meta.min_ts, meta.max_ts)?;
    let rest = input.remaining();
    Ok((value_codec, input.bytes(rest, "block values")?))
}

/// The timestamps of a [`TS_REGULAR`] block: `n` points from `min_ts` to `max_ts` by one
/// positive step (`n == 1` needs `min_ts == max_ts`).
fn fill_regular(min_ts: i64, max_ts: i64, n: usize, out: &mut Vec<i64>) -> Result<(), DecodeError> {
    let bad = || {
        DecodeError(format!(
            "regular timestamps cannot step from {min_ts} to {max_ts} in {n} points"
        ))
    };
    if n == 1 {
        if min_ts != max_ts {
            return Err(bad());
        }
        out.push(min_ts);
        return Ok(());
    }
    let span = i128::from(max_ts) - i128::from(min_ts);
    let gaps = i128::try_from(n - 1).map_err(|_| bad())?;
    if span <= 0 || span % gaps != 0 {
        return Err(bad());
    }
    // The step can exceed i64::MAX only for two points more than i64::MAX apart (refused as
    // corrupt: no writer makes them regular). Every point lies in min_ts..=max_ts.
    let step = i64::try_from(span / gaps).map_err(|_| bad())?;
    // An exact-size extend of independent products: it vectorises (a running sum does not).
    out.extend((0..n as i64).map(|i| min_ts.wrapping_add(step.wrapping_mul(i))));
    Ok(())
}

fn check_crc(body: &[u8], crc: &[u8]) -> Result<(), DecodeError> {
    let stored = Input::new(crc).u32("block crc")?;
    let actual = crc32fast::hash(body);
    if stored != actual {
        return Err(DecodeError(format!(
            "block checksum mismatch (stored {stored:#010x}, computed {actual:#010x})"
        )));
    }
    Ok(())
}

/// The decoded timestamps ascend strictly (checked unless `ascending` already proves it) and
/// span exactly `min_ts..=max_ts`.
fn check_timestamps(
    timestamps: &[i64],
    ascending: bool,
    min_ts: i64,
    max_ts: i64,
) -> Result<(), DecodeError> {
    let later = timestamps.get(1..).unwrap_or_default();
    // Branch-free over the whole block (it vectorises; an early-exit `any` does not).
    if !ascending
        && timestamps
            .iter()
            .zip(later)
            .fold(false, |bad, (a, b)| bad | (a >= b))
    {
        return Err(DecodeError(
            "block timestamps are not strictly ascending".into(),
        ));
    }
    if timestamps.first() != Some(&min_ts) || timestamps.last() != Some(&max_ts) {
        return Err(DecodeError(format!(
            "block range {min_ts}..={max_ts} does not match its timestamps"
        )));
    }
    Ok(())
}

/// The header fields of a v1–v4 block, as read back.
pub(crate) struct BlockHeader<'a> {
    pub min_ts: Timestamp,
    pub max_ts: Timestamp,
    pub count: u32,
    pub field_type: FieldType,
    /// The raw bytes of the aggregates, for comparison with the index copy.
    pub agg_bytes: &'a [u8],
}

/// Verify the crc of a v1–v4 block and decode it into a caller-provided column, whose buffers
/// are reused: it is cleared (and given the block's type) first. On error its contents are
/// unspecified. The caller compares the header with its index entry.
pub(crate) fn decode_block_v4_into<'a>(
    buf: &'a [u8],
    column: &mut Column,
) -> Result<BlockHeader<'a>, DecodeError> {
    let body_len = buf
        .len()
        .checked_sub(4)
        .filter(|&n| n >= HEADER_FIXED)
        .ok_or_else(|| DecodeError(format!("block of {} bytes is too short", buf.len())))?;
    let (body, crc) = buf.split_at(body_len);
    check_crc(body, crc)?;
    let mut input = Input::new(body);
    let min_ts = input.i64("block min_ts")?;
    let max_ts = input.i64("block max_ts")?;
    let count = input.u32("block count")?;
    let ft = input.u8("block field type")?;
    let field_type = FieldType::from_u8(ft)
        .ok_or_else(|| DecodeError(format!("unknown field type {ft} in block")))?;
    let ts_codec = input.u8("block timestamp codec")?;
    let value_codec = input.u8("block value codec")?;
    let agg_start = input.position();
    decode_agg(&mut input, field_type)?;
    let agg_bytes = body.get(agg_start..input.position()).unwrap_or_default();
    let n = count as usize;
    if n == 0 || n > BLOCK_POINTS {
        return Err(DecodeError(format!(
            "block count {count} outside 1..={BLOCK_POINTS}"
        )));
    }
    let ts_len = input.u32("block timestamps length")? as usize;
    let ts_buf = input.bytes(ts_len, "block timestamps")?;
    column.timestamps.clear();
    codec::decode_timestamps_into(ts_codec, ts_buf, n, &mut column.timestamps)?;
    let rest = input.remaining();
    clear_values(&mut column.values, field_type);
    codec::decode_values_into(
        field_type,
        value_codec,
        input.bytes(rest, "block values")?,
        n,
        &mut column.values,
    )?;
    check_timestamps(
        &column.timestamps,
        codec::timestamps_ascend_by_header(ts_codec, ts_buf, n),
        min_ts,
        max_ts,
    )?;
    Ok(BlockHeader {
        min_ts,
        max_ts,
        count,
        field_type,
        agg_bytes,
    })
}

/// Empty `values`, keeping its allocation when it already has type `t`.
fn clear_values(values: &mut Values, t: FieldType) {
    match values {
        Values::Float(v) if t == FieldType::Float => v.clear(),
        Values::Integer(v) if t == FieldType::Integer => v.clear(),
        Values::Unsigned(v) if t == FieldType::Unsigned => v.clear(),
        Values::Boolean(v) if t == FieldType::Boolean => v.clear(),
        Values::String(v) if t == FieldType::String => v.clear(),
        _ => *values = Values::empty(t),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The v5 aggregates of `values` read back bit for bit (compared in the v1–v4 form, which
    /// stores every float's bits), and take fewer bytes than that form.
    fn round_trips(values: Values) -> Result<usize, TestCaseError> {
        let agg = compute_agg(&values, 0, values.len()).unwrap();
        let mut v5 = Vec::new();
        encode_agg_v5(&agg, &mut v5);
        let mut input = Input::new(&v5);
        let back =
            decode_agg_v5(&mut input, values.field_type()).map_err(|e| TestCaseError::fail(e.0))?;
        prop_assert_eq!(input.remaining(), 0);
        let (mut want, mut got) = (Vec::new(), Vec::new());
        encode_agg(&agg, &mut want);
        encode_agg(&back, &mut got);
        prop_assert_eq!(got, want.clone());
        Ok(want.len() - v5.len().min(want.len()))
    }

    fn special_float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            (-1_000_000i64..1_000_000, 0u32..6).prop_map(|(m, e)| m as f64 / 10f64.powi(e as i32)),
            Just(-0.0),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
            Just(f64::MAX),
            Just(f64::MIN_POSITIVE),
        ]
    }

    proptest! {
        #[test]
        fn v5_aggregates_round_trip(
            floats in prop::collection::vec(special_float(), 1..40),
            ints in prop::collection::vec(prop_oneof![any::<i64>(), Just(i64::MIN), Just(i64::MAX), -5i64..5], 1..40),
            uints in prop::collection::vec(prop_oneof![any::<u64>(), Just(u64::MAX), 0u64..5], 1..40),
            bools in prop::collection::vec(any::<bool>(), 1..5),
            strings in prop::collection::vec(".{0,8}", 1..5),
        ) {
            round_trips(Values::Float(floats))?;
            round_trips(Values::Integer(ints))?;
            round_trips(Values::Unsigned(uints))?;
            round_trips(Values::Boolean(bools))?;
            round_trips(Values::String(strings))?;
        }
    }

    #[test]
    fn decimal_float_aggregates_are_small() {
        let walk: Vec<f64> = (0..1000)
            .map(|i| f64::from((i * 37) % 10_000) / 100.0)
            .collect();
        // 40 bytes of f64s become a tag, an exponent, the sum as a predicted integer and a small
        // residual, and four short varints.
        assert!(round_trips(Values::Float(walk.clone())).unwrap() >= 40 - 17);
        let agg = compute_agg(&Values::Float(walk), 0, 1000).unwrap();
        let mut v5 = Vec::new();
        encode_agg_v5(&agg, &mut v5);
        assert_eq!(v5[0], 2, "predicted sum");
        // Any sum reads back bit for bit, whatever its residual.
        for sum in [
            0.1 + 0.2,
            1e300,
            -7.000000000000001,
            f64::MIN_POSITIVE,
            12345.67,
        ] {
            let agg = BlockAgg {
                first: FieldValue::Float(1.5),
                last: FieldValue::Float(2.5),
                numeric: NumericAgg::Float {
                    sum,
                    min: 1.5,
                    max: 2.5,
                },
            };
            let mut v5 = Vec::new();
            encode_agg_v5(&agg, &mut v5);
            let back = decode_agg_v5(&mut Input::new(&v5), FieldType::Float).unwrap();
            let NumericAgg::Float { sum: got, .. } = back.numeric else {
                panic!("float")
            };
            assert_eq!(got.to_bits(), sum.to_bits(), "{sum} as tag {}", v5[0]);
        }
        // -0.0 is not a decimal of any scale (it would read back as +0.0).
        let agg = compute_agg(&Values::Float(vec![-0.0, 1.5]), 0, 2).unwrap();
        let mut v5 = Vec::new();
        encode_agg_v5(&agg, &mut v5);
        assert_eq!(v5[0], 0, "raw form");
        round_trips(Values::Float(vec![-0.0, 1.5])).unwrap();
    }

    #[test]
    fn malformed_v5_aggregates_are_errors() {
        for (t, bytes) in [
            (FieldType::Float, vec![3u8]),
            (FieldType::Float, vec![2u8, 1, 0x80]),
            (
                FieldType::Float,
                vec![1, 16, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0],
            ),
            (
                FieldType::Float,
                vec![1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff],
            ),
            (FieldType::Boolean, vec![4]),
            (
                FieldType::Unsigned,
                vec![
                    0, 5, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0,
                ],
            ),
            (FieldType::Integer, vec![0x80; 20]),
            (FieldType::String, vec![3, b'a']),
        ] {
            assert!(
                decode_agg_v5(&mut Input::new(&bytes), t).is_err(),
                "{t:?} {bytes:?}"
            );
        }
    }

    #[test]
    fn regular_timestamps_are_recognised() {
        assert!(is_regular(&[5]));
        assert!(is_regular(&[5, 8, 11, 14]));
        assert!(!is_regular(&[5, 8, 12, 14]));
        assert!(!is_regular(&[i64::MIN, 0, i64::MAX]));
        let mut out = Vec::new();
        fill_regular(5, 14, 4, &mut out).unwrap();
        assert_eq!(out, [5, 8, 11, 14]);
        out.clear();
        fill_regular(i64::MIN, i64::MAX, 2, &mut out).unwrap_err();
        fill_regular(i64::MIN + 1, i64::MAX, 3, &mut out).unwrap();
        assert_eq!(out, [i64::MIN + 1, 0, i64::MAX]);
    }

    #[test]
    fn packed_aggregates_unpack_bit_for_bit_and_refuse_a_mixed_type() {
        let same = |agg: BlockAgg, t: FieldType| {
            let packed = PackedAgg::pack(agg.clone(), t).unwrap();
            assert_eq!(packed.field_type(), t);
            let (mut want, mut got) = (Vec::new(), Vec::new());
            encode_agg(&agg, &mut want);
            encode_agg(&packed.unpack(), &mut got);
            assert_eq!(got, want, "{agg:?}");
        };
        for exact_sum in [
            0,
            -1,
            i128::from(i64::MIN) * 1000,
            i128::from(i64::MAX) * 1000,
        ] {
            same(
                BlockAgg {
                    first: FieldValue::Integer(i64::MIN),
                    last: FieldValue::Integer(-7),
                    numeric: NumericAgg::Integer {
                        sum: exact_sum as f64,
                        exact_sum,
                        min: i64::MIN,
                        max: i64::MAX,
                    },
                },
                FieldType::Integer,
            );
        }
        for exact_sum in [0, u128::from(u64::MAX) * 1000 + 5] {
            same(
                BlockAgg {
                    first: FieldValue::Unsigned(u64::MAX),
                    last: FieldValue::Unsigned(0),
                    numeric: NumericAgg::Unsigned {
                        sum: 1.5,
                        exact_sum,
                        min: 0,
                        max: u64::MAX,
                    },
                },
                FieldType::Unsigned,
            );
        }
        let float = BlockAgg {
            first: FieldValue::Float(-0.0),
            last: FieldValue::Float(f64::from_bits(0x7ff8_0000_0000_0001)),
            numeric: NumericAgg::Float {
                sum: f64::NAN,
                min: f64::NEG_INFINITY,
                max: f64::INFINITY,
            },
        };
        same(float.clone(), FieldType::Float);
        same(
            BlockAgg {
                first: FieldValue::Boolean(false),
                last: FieldValue::Boolean(true),
                numeric: NumericAgg::None,
            },
            FieldType::Boolean,
        );
        same(
            BlockAgg {
                first: FieldValue::String("a".into()),
                last: FieldValue::String(String::new()),
                numeric: NumericAgg::None,
            },
            FieldType::String,
        );
        assert!(PackedAgg::pack(float.clone(), FieldType::Integer).is_none());
        let mixed = BlockAgg {
            last: FieldValue::Integer(1),
            ..float
        };
        assert!(PackedAgg::pack(mixed, FieldType::Float).is_none());
        assert!(std::mem::size_of::<PackedAgg>() <= 64);
    }
}
