//! The metadata sections of an SSTable file (series index, series filter, file stats) and the
//! fixed-size footer, with their encoders and validating decoders.

use crate::types::{FieldType, SeriesId};

use super::block::{self, BlockAgg, BLOCK_POINTS};
use super::codec::{put_str, put_uvarint, DecodeError, Input};
use super::{TableStats, FORMAT_VERSION, MAGIC, OLDEST_READABLE_VERSION};

/// Bytes of the footer: three (offset u64, length u64, crc32 u32) section entries, version u16,
/// magic (8 bytes) and the footer's own crc32.
pub(crate) const FOOTER_LEN: usize = 3 * (8 + 8 + 4) + 2 + 8 + 4;

/// Smallest possible block: fixed header, two bool aggregates, ts length, one timestamp byte,
/// one value byte, crc.
const MIN_BLOCK_LEN: u32 = 8 + 8 + 4 + 3 + 2 + 4 + 1 + 1 + 4;

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

/// Encode the series index: varint series count, then per series (ascending id): id u64, key
/// (varint length + UTF-8), varint field count, then per field (ascending name): name, field type
/// u8, varint block count, then per block: offset u64, len u32, min_ts i64, max_ts i64,
/// count u32, aggregates.
pub(crate) fn encode_index(series: &[SeriesEntry], out: &mut Vec<u8>) {
    put_uvarint(out, series.len() as u64);
    for s in series {
        out.extend_from_slice(&s.id.to_le_bytes());
        put_str(out, &s.key);
        put_uvarint(out, s.fields.len() as u64);
        for f in &s.fields {
            put_str(out, &f.name);
            out.push(f.field_type as u8);
            put_uvarint(out, f.blocks.len() as u64);
            for b in &f.blocks {
                out.extend_from_slice(&b.offset.to_le_bytes());
                out.extend_from_slice(&b.len.to_le_bytes());
                out.extend_from_slice(&b.min_ts.to_le_bytes());
                out.extend_from_slice(&b.max_ts.to_le_bytes());
                out.extend_from_slice(&b.count.to_le_bytes());
                block::encode_agg(&b.agg, out);
            }
        }
    }
}

fn bad<T>(msg: String) -> Result<T, DecodeError> {
    Err(DecodeError(msg))
}

/// Decode and validate the series index. `data_end` is where the data blocks end (the index
/// offset): blocks must tile `0..data_end` exactly, in index order.
pub(crate) fn decode_index(buf: &[u8], data_end: u64) -> Result<Vec<SeriesEntry>, DecodeError> {
    let mut input = Input::new(buf);
    let n_series = input.len(input.remaining(), "series count")?;
    let mut series: Vec<SeriesEntry> = Vec::new();
    let mut next_offset = 0u64;
    for _ in 0..n_series {
        let id = input.u64("series id")?;
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
            for _ in 0..n_blocks {
                let offset = input.u64("block offset")?;
                let len = input.u32("block length")?;
                let min_ts = input.i64("block min_ts")?;
                let max_ts = input.i64("block max_ts")?;
                let count = input.u32("block count")?;
                let agg = block::decode_agg(&mut input, field_type)?;
                let end = offset.checked_add(u64::from(len));
                if offset != next_offset || len < MIN_BLOCK_LEN || end.is_none_or(|e| e > data_end)
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

/// Encode the series filter: varint count, then the sorted series ids as u64 each.
pub(crate) fn encode_filter(ids: &[SeriesId], out: &mut Vec<u8>) {
    put_uvarint(out, ids.len() as u64);
    for id in ids {
        out.extend_from_slice(&id.to_le_bytes());
    }
}

/// Decode the series filter (strictly ascending ids).
pub(crate) fn decode_filter(buf: &[u8]) -> Result<Vec<SeriesId>, DecodeError> {
    let mut input = Input::new(buf);
    let n = input.len(input.remaining() / 8, "filter id count")?;
    let ids = (0..n)
        .map(|_| input.u64("filter series id"))
        .collect::<Result<Vec<_>, _>>()?;
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
