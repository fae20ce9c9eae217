//! The metadata sections of an SSTable file (series index, series filter, file stats) and the
//! fixed-size footer, with their encoders and validating decoders.

use crate::types::{FieldType, SeriesId};

use super::block::{self, BlockAgg, BLOCK_POINTS};
use std::io::Write;

use super::codec::{put_str, put_uvarint, unzigzag, zigzag, DecodeError, Input};
use super::{TableStats, FORMAT_VERSION, MAGIC, OLDEST_READABLE_VERSION};

/// Bytes of the footer: three (offset u64, length u64, crc32 u32) section entries, version u16,
/// magic (8 bytes) and the footer's own crc32.
pub(crate) const FOOTER_LEN: usize = 3 * (8 + 8 + 4) + 2 + 8 + 4;

/// Smallest possible v1–v4 block: fixed header, two bool aggregates, ts length, one timestamp
/// byte, one value byte, crc.
const MIN_BLOCK_LEN_V4: u32 = 8 + 8 + 4 + 3 + 2 + 4 + 1 + 1 + 4;

/// Most bytes a v5 series index may inflate to.
const MAX_INDEX_BYTES: usize = 1 << 31;

/// Format version from which the index is compressed, block entries are delta-coded and
/// blocks carry no header (see [`super::block`]).
pub(crate) const COMPACT_VERSION: u16 = 5;

/// Where one data block lives and what it holds, as recorded in the series index.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockMeta {
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// Byte length of the block, including its trailing crc32.
    pub len: u32,
    /// Timestamp of the first point.
    pub min_ts: i64,
    /// Timestamp of the last point.
    pub max_ts: i64,
    /// Number of points, 1..=[`BLOCK_POINTS`].
    pub count: u32,
    pub field_type: FieldType,
    /// Pre-aggregates (the same as in the block header).
    pub agg: BlockAgg,
}

/// One field of one series in the index.
#[derive(Clone, Debug)]
pub(crate) struct FieldEntry {
    pub name: String,
    pub field_type: FieldType,
    pub blocks: Vec<BlockMeta>,
}

/// One series in the index.
#[derive(Clone, Debug)]
pub(crate) struct SeriesEntry {
    pub id: SeriesId,
    pub key: String,
    pub fields: Vec<FieldEntry>,
}

/// A section's place in the file and its checksum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Section {
    pub offset: u64,
    pub len: u64,
    pub crc: u32,
}

impl Section {
    pub fn of(offset: u64, bytes: &[u8]) -> Section {
        Section {
            offset,
            len: bytes.len() as u64,
            crc: crc32fast::hash(bytes),
        }
    }

    /// Offset just past the section.
    pub fn end(&self) -> Option<u64> {
        self.offset.checked_add(self.len)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Footer {
    /// Format version: [`FORMAT_VERSION`] when writing; whatever readable version was found
    /// when reading.
    pub version: u16,
    pub index: Section,
    pub filter: Section,
    pub stats: Section,
}

impl Footer {
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(FOOTER_LEN);
        for s in [self.index, self.filter, self.stats] {
            out.extend_from_slice(&s.offset.to_le_bytes());
            out.extend_from_slice(&s.len.to_le_bytes());
            out.extend_from_slice(&s.crc.to_le_bytes());
        }
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(MAGIC);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decode and verify a footer: magic first, then version, then the footer crc.
    pub fn decode(buf: &[u8]) -> Result<Footer, DecodeError> {
        if buf.len() != FOOTER_LEN {
            return Err(DecodeError(format!(
                "footer is {} bytes, expected {FOOTER_LEN}",
                buf.len()
            )));
        }
        let body = buf.get(..FOOTER_LEN - 4).unwrap_or_default();
        let mut tail = Input::new(buf.get(FOOTER_LEN - 14..).unwrap_or_default());
        let version = tail.u16("format version")?;
        let magic = tail.bytes(8, "magic")?;
        let stored_crc = tail.u32("footer crc")?;
        if magic != MAGIC {
            return Err(DecodeError(format!(
                "bad magic {magic:02x?} (expected {MAGIC:02x?}): not a strata SSTable or truncated"
            )));
        }
        if !(OLDEST_READABLE_VERSION..=FORMAT_VERSION).contains(&version) {
            return Err(DecodeError(format!(
                "unsupported format version {version} (this build reads versions \
                 {OLDEST_READABLE_VERSION} to {FORMAT_VERSION})"
            )));
        }
        let crc = crc32fast::hash(body);
        if crc != stored_crc {
            return Err(DecodeError(format!(
                "footer checksum mismatch (stored {stored_crc:#010x}, computed {crc:#010x})"
            )));
        }
        let mut input = Input::new(body);
        let mut section = |what: &str| -> Result<Section, DecodeError> {
            Ok(Section {
                offset: input.u64(what)?,
                len: input.u64(what)?,
                crc: input.u32(what)?,
            })
        };
        Ok(Footer {
            version,
            index: section("index section entry")?,
            filter: section("filter section entry")?,
            stats: section("stats section entry")?,
        })
    }
}

/// Encode the series index (format v5) as a varint raw length and the raw DEFLATE of: varint
/// series count, then per series (ascending id): the id as a varint delta from the previous
/// series' (the first from 0), key (varint length + UTF-8), varint field count, then per field
/// (ascending name): name, field type u8, varint block count, then per block: its length
/// (varint; blocks tile the data section in index order, so offsets are implied), `min_ts` as a
/// zigzag varint delta from the previous block's `max_ts` in the field (a field's first block:
/// from the first `min_ts` of the field before it, or 0), `max_ts - min_ts` and the count as
/// varints, then the aggregates ([`block::encode_agg_v5`]).
pub(crate) fn encode_index(series: &[SeriesEntry], out: &mut Vec<u8>) {
    let mut raw = Vec::new();
    put_uvarint(&mut raw, series.len() as u64);
    let (mut prev_id, mut prev_first) = (0u64, 0i64);
    for s in series {
        put_uvarint(&mut raw, s.id.wrapping_sub(prev_id));
        prev_id = s.id;
        put_str(&mut raw, &s.key);
        put_uvarint(&mut raw, s.fields.len() as u64);
        for f in &s.fields {
            put_str(&mut raw, &f.name);
            raw.push(f.field_type as u8);
            put_uvarint(&mut raw, f.blocks.len() as u64);
            let mut prev = prev_first;
            if let Some(b) = f.blocks.first() {
                prev_first = b.min_ts;
            }
            for b in &f.blocks {
                put_uvarint(&mut raw, u64::from(b.len));
                put_uvarint(&mut raw, zigzag(b.min_ts.wrapping_sub(prev)));
                put_uvarint(&mut raw, b.max_ts.wrapping_sub(b.min_ts) as u64);
                put_uvarint(&mut raw, u64::from(b.count));
                block::encode_agg_v5(&b.agg, &mut raw);
                prev = b.max_ts;
            }
        }
    }
    put_uvarint(out, raw.len() as u64);
    let mut z =
        flate2::write::DeflateEncoder::new(std::mem::take(out), flate2::Compression::new(6));
    // Writing into a Vec cannot fail.
    let _ = z.write_all(&raw);
    *out = z.finish().unwrap_or_default();
}

fn bad<T>(msg: String) -> Result<T, DecodeError> {
    Err(DecodeError(msg))
}

/// Decode and validate the series index of a file of format `version`. `data_end` is where the
/// data blocks end (the index offset): blocks must tile `0..data_end` exactly, in index order.
pub(crate) fn decode_index(
    version: u16,
    buf: &[u8],
    data_end: u64,
) -> Result<Vec<SeriesEntry>, DecodeError> {
    let compact = version >= COMPACT_VERSION;
    let inflated;
    let buf = if compact {
        inflated = super::codec::inflate_exact(buf, MAX_INDEX_BYTES, "compressed index")?;
        inflated.as_slice()
    } else {
        buf
    };
    let min_block_len = if compact {
        block::MIN_BLOCK_LEN_V5
    } else {
        MIN_BLOCK_LEN_V4
    };
    let mut input = Input::new(buf);
    let n_series = input.len(input.remaining(), "series count")?;
    let mut series: Vec<SeriesEntry> = Vec::new();
    let mut next_offset = 0u64;
    let mut prev_first = 0i64;
    for _ in 0..n_series {
        let id = if compact {
            // A zero delta is refused by the ascending check below.
            let delta = input.uvarint("series id delta")?;
            series
                .last()
                .map_or(Some(delta), |prev| prev.id.checked_add(delta))
                .ok_or_else(|| DecodeError(format!("series id delta {delta} overflows")))?
        } else {
            input.u64("series id")?
        };
        if let Some(prev) = series.last() {
            if prev.id >= id {
                return bad(format!(
                    "series ids not ascending in index: {id} after {}",
                    prev.id
                ));
            }
        }
        let key = input.str("series key")?.to_owned();
        let n_fields = input.len(input.remaining(), "field count")?;
        if n_fields == 0 {
            return bad(format!("series {id} has no fields"));
        }
        let mut fields: Vec<FieldEntry> = Vec::new();
        for _ in 0..n_fields {
            let name = input.str("field name")?.to_owned();
            if let Some(prev) = fields.last() {
                if prev.name >= name {
                    return bad(format!(
                        "field names of series {id} not ascending: {name:?} after {:?}",
                        prev.name
                    ));
                }
            }
            let ft = input.u8("field type")?;
            let field_type = FieldType::from_u8(ft)
                .ok_or_else(|| DecodeError(format!("unknown field type {ft} in index")))?;
            let n_blocks = input.len(input.remaining(), "block count")?;
            if n_blocks == 0 {
                return bad(format!("field {name:?} of series {id} has no blocks"));
            }
            let mut blocks: Vec<BlockMeta> = Vec::new();
            let mut prev_ts = prev_first;
            for i in 0..n_blocks {
                let (offset, len, min_ts, max_ts, count, agg);
                if compact {
                    offset = next_offset;
                    len = u32::try_from(input.uvarint("block length")?)
                        .map_err(|_| DecodeError("block length exceeds 32 bits".into()))?;
                    min_ts = prev_ts.wrapping_add(unzigzag(input.uvarint("block min_ts")?));
                    let span = input.uvarint("block span")?;
                    max_ts = min_ts.checked_add_unsigned(span).ok_or_else(|| {
                        DecodeError(format!("block span {span} from {min_ts} overflows"))
                    })?;
                    count = u32::try_from(input.uvarint("block count")?)
                        .map_err(|_| DecodeError("block count exceeds 32 bits".into()))?;
                    agg = block::decode_agg_v5(&mut input, field_type)?;
                    if i == 0 {
                        prev_first = min_ts;
                    }
                    prev_ts = max_ts;
                } else {
                    offset = input.u64("block offset")?;
                    len = input.u32("block length")?;
                    min_ts = input.i64("block min_ts")?;
                    max_ts = input.i64("block max_ts")?;
                    count = input.u32("block count")?;
                    agg = block::decode_agg(&mut input, field_type)?;
                }
                let end = offset.checked_add(u64::from(len));
                if offset != next_offset || len < min_block_len || end.is_none_or(|e| e > data_end)
                {
                    return bad(format!(
                        "block at offset {offset} length {len} of series {id} field {name:?} \
                         does not follow the previous block (expected offset {next_offset}, \
                         data ends at {data_end})"
                    ));
                }
                next_offset = end.unwrap_or(data_end);
                if count == 0 || count as usize > BLOCK_POINTS || min_ts > max_ts {
                    return bad(format!(
                        "block at offset {offset}: invalid count {count} or range {min_ts}..={max_ts}"
                    ));
                }
                if let Some(prev) = blocks.last() {
                    if prev.max_ts >= min_ts {
                        return bad(format!(
                            "blocks of series {id} field {name:?} overlap or are out of order \
                             at offset {offset}"
                        ));
                    }
                }
                blocks.push(BlockMeta {
                    offset,
                    len,
                    min_ts,
                    max_ts,
                    count,
                    field_type,
                    agg,
                });
            }
            // The index stays in memory as long as the table is open: no growth slack (a
            // one-block run would otherwise hold room for four).
            blocks.shrink_to_fit();
            fields.push(FieldEntry {
                name,
                field_type,
                blocks,
            });
        }
        fields.shrink_to_fit();
        series.push(SeriesEntry { id, key, fields });
    }
    series.shrink_to_fit();
    input.finish("series index")?;
    if next_offset != data_end {
        return bad(format!(
            "blocks end at {next_offset} but the data section ends at {data_end}"
        ));
    }
    Ok(series)
}

/// Encode the series filter (format v5): varint count, then the sorted series ids as varint
/// deltas (the first from 0).
pub(crate) fn encode_filter(ids: &[SeriesId], out: &mut Vec<u8>) {
    put_uvarint(out, ids.len() as u64);
    let mut prev = 0;
    for &id in ids {
        put_uvarint(out, id.wrapping_sub(prev));
        prev = id;
    }
}

/// Decode the series filter of a file of format `version` (strictly ascending ids): v5 as
/// [`encode_filter`] writes it, v1–v4 a varint count and a u64 per id.
pub(crate) fn decode_filter(version: u16, buf: &[u8]) -> Result<Vec<SeriesId>, DecodeError> {
    let mut input = Input::new(buf);
    let ids = if version >= COMPACT_VERSION {
        let n = input.len(input.remaining(), "filter id count")?;
        let mut ids = Vec::with_capacity(n);
        let mut prev = 0u64;
        // A zero delta is refused by the ascending check below.
        for _ in 0..n {
            let delta = input.uvarint("filter series id delta")?;
            prev = prev
                .checked_add(delta)
                .ok_or_else(|| DecodeError("series filter id overflows".into()))?;
            ids.push(prev);
        }
        ids
    } else {
        let n = input.len(input.remaining() / 8, "filter id count")?;
        (0..n)
            .map(|_| input.u64("filter series id"))
            .collect::<Result<Vec<_>, _>>()?
    };
    input.finish("series filter")?;
    if ids.windows(2).any(|w| w.first() >= w.get(1)) {
        return bad("series filter ids are not strictly ascending".into());
    }
    Ok(ids)
}

/// Encode the file stats: min_ts i64, max_ts i64, points u64, series u64, blocks u64.
pub(crate) fn encode_stats(s: &TableStats, out: &mut Vec<u8>) {
    out.extend_from_slice(&s.min_ts.to_le_bytes());
    out.extend_from_slice(&s.max_ts.to_le_bytes());
    out.extend_from_slice(&s.points.to_le_bytes());
    out.extend_from_slice(&s.series.to_le_bytes());
    out.extend_from_slice(&s.blocks.to_le_bytes());
}

/// Decode the file stats; `file_bytes` is filled in by the caller.
pub(crate) fn decode_stats(buf: &[u8], file_bytes: u64) -> Result<TableStats, DecodeError> {
    let mut input = Input::new(buf);
    let stats = TableStats {
        min_ts: input.i64("stats min_ts")?,
        max_ts: input.i64("stats max_ts")?,
        points: input.u64("stats points")?,
        series: input.u64("stats series")?,
        blocks: input.u64("stats blocks")?,
        file_bytes,
    };
    input.finish("file stats")?;
    Ok(stats)
}

/// Stats as implied by an index (empty tables have `min_ts = i64::MAX`, `max_ts = i64::MIN`).
pub(crate) fn stats_of(series: &[SeriesEntry], file_bytes: u64) -> TableStats {
    let mut s = TableStats {
        min_ts: i64::MAX,
        max_ts: i64::MIN,
        points: 0,
        series: series.len() as u64,
        blocks: 0,
        file_bytes,
    };
    for b in series
        .iter()
        .flat_map(|s| &s.fields)
        .flat_map(|f| &f.blocks)
    {
        s.min_ts = s.min_ts.min(b.min_ts);
        s.max_ts = s.max_ts.max(b.max_ts);
        s.points += u64::from(b.count);
        s.blocks += 1;
    }
    s
}
