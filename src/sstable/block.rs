//! Data blocks and their pre-aggregates.
//!
//! Block layout (little-endian):
//!
//! ```text
//! min_ts i64 | max_ts i64 | count u32 | field type u8 | ts codec u8 | value codec u8
//! | aggregates (see encode_agg) | ts_len u32 | timestamps (ts_len bytes) | values | crc32 u32
//! ```
//!
//! The crc32 covers every byte of the block before it. The layout is the same in format v1 and
//! v2; v2 writers choose the codecs per block (see [`super::codec`]) and record their ids, so
//! the block decodes itself. The pre-aggregates are computed from the values, whatever the
//! codec.

use crate::types::{Column, FieldType, FieldValue, Timestamp, Values};

use super::codec::{self, DecodeError, Input};

/// Most points in one data block; the writer splits longer runs.
pub const BLOCK_POINTS: usize = 1000;

/// Fixed bytes of a block header before the aggregates.
const HEADER_FIXED: usize = 8 + 8 + 4 + 3;

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

/// Compute the aggregates of a non-empty slice of values (given as the full column + range).
fn compute_agg(values: &Values, lo: usize, hi: usize) -> Option<BlockAgg> {
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

/// Encode points `lo..hi` of `column` (non-empty, at most [`BLOCK_POINTS`], already validated by
/// the writer) as one block appended to `out`. `None` if the range is empty or out of bounds.
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
    let t = column.values.field_type();
    let start = out.len();
    out.extend_from_slice(&min_ts.to_le_bytes());
    out.extend_from_slice(&max_ts.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.push(t as u8);
    // The codec ids are filled in once the columns are encoded.
    let codecs_at = out.len();
    out.extend_from_slice(&[0, 0]);
    encode_agg(&agg, out);
    let len_at = out.len();
    out.extend_from_slice(&[0; 4]);
    let ts_codec = codec::encode_timestamps(ts, out);
    let ts_len = u32::try_from(out.len() - len_at - 4).ok()?;
    out.get_mut(len_at..len_at + 4)?
        .copy_from_slice(&ts_len.to_le_bytes());
    let value_codec = encode_value_range(&column.values, lo, hi, out)?;
    out.get_mut(codecs_at..codecs_at + 2)?
        .copy_from_slice(&[ts_codec, value_codec]);
    let crc = crc32fast::hash(out.get(start..)?);
    out.extend_from_slice(&crc.to_le_bytes());
    Some(EncodedBlock {
        min_ts,
        max_ts,
        count,
        agg,
    })
}

/// The header fields of a block, as read back.
pub(crate) struct BlockHeader<'a> {
    pub min_ts: Timestamp,
    pub max_ts: Timestamp,
    pub count: u32,
    pub field_type: FieldType,
    /// The raw bytes of the aggregates, for comparison with the index copy.
    pub agg_bytes: &'a [u8],
}

/// Verify the crc of a block and decode it into a caller-provided column, whose buffers are
/// reused: it is cleared (and given the block's type) first. On error its contents are
/// unspecified. The caller compares the header with its index entry.
pub(crate) fn decode_block_into<'a>(
    buf: &'a [u8],
    column: &mut Column,
) -> Result<BlockHeader<'a>, DecodeError> {
    let body_len = buf
        .len()
        .checked_sub(4)
        .filter(|&n| n >= HEADER_FIXED)
        .ok_or_else(|| DecodeError(format!("block of {} bytes is too short", buf.len())))?;
    let (body, crc) = buf.split_at(body_len);
    let stored = Input::new(crc).u32("block crc")?;
    let actual = crc32fast::hash(body);
    if stored != actual {
        return Err(DecodeError(format!(
            "block checksum mismatch (stored {stored:#010x}, computed {actual:#010x})"
        )));
    }
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
    let timestamps = &column.timestamps;
    // Branch-free over the whole block (it vectorises; an early-exit `any` does not), unless
    // the timestamp header already proves it (a regular series).
    let later = timestamps.get(1..).unwrap_or_default();
    if !codec::timestamps_ascend_by_header(ts_codec, ts_buf, n)
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
            "block header range {min_ts}..={max_ts} does not match its timestamps"
        )));
    }
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
