//! The metadata sections of an SSTable file (series index, series filter, file stats) and the
//! fixed-size footer, with their encoders and validating decoders.

use crate::types::{FieldType, SeriesId};

use super::block::{self, BlockAgg, PackedAgg, BLOCK_POINTS};
use std::io::Write;

use super::codec::{put_str, put_uvarint, unzigzag, zigzag, DecodeError, Input};
use super::{Provenance, TableStats, FORMAT_VERSION, MAGIC, OLDEST_READABLE_VERSION};

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

/// Format version from which the stats section ends with the table's [`Provenance`].
pub(crate) const PROVENANCE_VERSION: u16 = 6;

/// Where one data block lives and what it holds, as recorded in the series index.
///
/// Every open table keeps one per block in memory, so it is kept small (96 bytes): the field
/// type is implied by the packed pre-aggregates, which [`BlockMeta::agg`] unpacks.
#[derive(Clone, Debug, PartialEq)]
pub struct BlockMeta {
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// Byte length of the block, including its trailing crc32.
    pub len: u32,
    /// Number of points, 1..=[`BLOCK_POINTS`].
    pub count: u32,
    /// Timestamp of the first point.
    pub min_ts: i64,
    /// Timestamp of the last point.
    pub max_ts: i64,
    agg: PackedAgg,
}

impl BlockMeta {
    /// A block's entry; `None` if `agg` is not of `field_type` throughout.
    pub(crate) fn new(
        offset: u64,
        len: u32,
        min_ts: i64,
        max_ts: i64,
        count: u32,
        field_type: FieldType,
        agg: BlockAgg,
    ) -> Option<BlockMeta> {
        Some(BlockMeta {
            offset,
            len,
            count,
            min_ts,
            max_ts,
            agg: PackedAgg::pack(agg, field_type)?,
        })
    }

    /// The type of the block's values.
    pub fn field_type(&self) -> FieldType {
        self.agg.field_type()
    }

    /// The block's pre-aggregates (the same as in a v1–v4 block header).
    pub fn agg(&self) -> BlockAgg {
        self.agg.unpack()
    }

    /// Whether the block's values are numeric (its aggregates have a sum, min and max).
    pub fn is_numeric(&self) -> bool {
        matches!(
            self.agg,
            PackedAgg::Float { .. } | PackedAgg::Integer { .. } | PackedAgg::Unsigned { .. }
        )
    }
}

/// A range of one of an [`Index`]'s flat arrays.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Span {
    start: u32,
    end: u32,
}

impl Span {
    fn range(self) -> std::ops::Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// One field of one series in the index: its name (an index into the table's field names),
/// type and blocks.
#[derive(Clone, Debug)]
pub(crate) struct FieldEntry {
    name: u32,
    pub field_type: FieldType,
    blocks: Span,
}

/// One series in the index.
#[derive(Clone, Debug)]
pub(crate) struct SeriesEntry {
    pub id: SeriesId,
    pub key: Box<str>,
    fields: Span,
}

/// The series index of one table as it is held in memory while the table is open: series in
/// ascending id, each with its fields in ascending name, each with its blocks in time order.
/// It is flat (three arrays, each entry pointing at a span of the next) and every field name
/// is stored once per table, so a (series, field) run costs its blocks plus 16 bytes, not a
/// name, two vectors and their allocations.
#[derive(Clone, Debug, Default)]
pub(crate) struct Index {
    names: Vec<Box<str>>,
    series: Vec<SeriesEntry>,
    fields: Vec<FieldEntry>,
    blocks: Vec<BlockMeta>,
}

impl Index {
    pub fn series(&self) -> &[SeriesEntry] {
        &self.series
    }

    pub fn fields(&self, s: &SeriesEntry) -> &[FieldEntry] {
        self.fields.get(s.fields.range()).unwrap_or(&[])
    }

    pub fn blocks(&self, f: &FieldEntry) -> &[BlockMeta] {
        self.blocks.get(f.blocks.range()).unwrap_or(&[])
    }

    pub fn name(&self, f: &FieldEntry) -> &str {
        self.names.get(f.name as usize).map_or("", |n| n)
    }

    /// Every block, in (series, field, time) order.
    pub fn all_blocks(&self) -> &[BlockMeta] {
        &self.blocks
    }

    /// Heap bytes the index holds (its arrays, names and series keys).
    #[cfg(test)]
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.names.capacity() * size_of::<Box<str>>()
            + self.names.iter().map(|n| n.len()).sum::<usize>()
            + self.series.capacity() * size_of::<SeriesEntry>()
            + self.series.iter().map(|s| s.key.len()).sum::<usize>()
            + self.fields.capacity() * size_of::<FieldEntry>()
            + self.blocks.capacity() * size_of::<BlockMeta>()
    }
}

/// Builds an [`Index`] in index order. The caller checks the order; the builder only refuses
/// an index too large for its 32-bit spans.
#[derive(Debug, Default)]
pub(crate) struct IndexBuilder {
    index: Index,
    name_ids: std::collections::HashMap<Box<str>, u32>,
}

fn span_end(len: usize) -> Result<u32, String> {
    u32::try_from(len).map_err(|_| format!("more than {} entries in one index", u32::MAX))
}

impl IndexBuilder {
    /// Start a series; its fields follow.
    pub fn push_series(&mut self, id: SeriesId, key: &str) -> Result<(), String> {
        let at = span_end(self.index.fields.len())?;
        self.index.series.push(SeriesEntry {
            id,
            key: key.into(),
            fields: Span { start: at, end: at },
        });
        Ok(())
    }

    /// Start a field of the last series; its blocks follow.
    pub fn push_field(&mut self, name: &str, field_type: FieldType) -> Result<(), String> {
        let name = match self.name_ids.get(name) {
            Some(&id) => id,
            None => {
                let id = span_end(self.index.names.len())?;
                self.index.names.push(name.into());
                self.name_ids.insert(name.into(), id);
                id
            }
        };
        let at = span_end(self.index.blocks.len())?;
        self.index.fields.push(FieldEntry {
            name,
            field_type,
            blocks: Span { start: at, end: at },
        });
        let end = span_end(self.index.fields.len())?;
        match self.index.series.last_mut() {
            Some(s) => s.fields.end = end,
            None => return Err("a field before any series".into()),
        }
        Ok(())
    }

    /// Add a block to the last field.
    pub fn push_block(&mut self, block: BlockMeta) -> Result<(), String> {
        self.index.blocks.push(block);
        let end = span_end(self.index.blocks.len())?;
        match self.index.fields.last_mut() {
            Some(f) => f.blocks.end = end,
            None => return Err("a block before any field".into()),
        }
        Ok(())
    }

    /// The last series started.
    pub fn last_series(&self) -> Option<&SeriesEntry> {
        self.index.series.last()
    }

    /// Name, type and blocks of the last field of the last series, if it has one.
    pub fn last_field(&self) -> Option<(&str, FieldType, &[BlockMeta])> {
        let s = self.index.series.last()?;
        let f = self.index.fields(s).last()?;
        Some((self.index.name(f), f.field_type, self.index.blocks(f)))
    }

    /// The index built so far (what a writer encodes; it drops the builder afterwards, so the
    /// arrays are not shrunk for it).
    pub fn index(&self) -> &Index {
        &self.index
    }

    /// The index, without growth slack: it stays in memory as long as the table is open.
    pub fn finish(self) -> Index {
        let mut index = self.index;
        index.names.shrink_to_fit();
        index.series.shrink_to_fit();
        index.fields.shrink_to_fit();
        index.blocks.shrink_to_fit();
        index
    }
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

/// Encode the series index (format v5 and on) as a varint raw length and the raw DEFLATE of: varint
/// series count, then per series (ascending id): the id as a varint delta from the previous
/// series' (the first from 0), key (varint length + UTF-8), varint field count, then per field
/// (ascending name): name, field type u8, varint block count, then per block: its length
/// (varint; blocks tile the data section in index order, so offsets are implied), `min_ts` as a
/// zigzag varint delta from the previous block's `max_ts` in the field (a field's first block:
/// from the first `min_ts` of the field before it, or 0), `max_ts - min_ts` and the count as
/// varints, then the aggregates ([`block::encode_agg_v5`]).
pub(crate) fn encode_index(index: &Index, out: &mut Vec<u8>) {
    let mut raw = Vec::new();
    put_uvarint(&mut raw, index.series.len() as u64);
    let (mut prev_id, mut prev_first) = (0u64, 0i64);
    for s in &index.series {
        put_uvarint(&mut raw, s.id.wrapping_sub(prev_id));
        prev_id = s.id;
        put_str(&mut raw, &s.key);
        let fields = index.fields(s);
        put_uvarint(&mut raw, fields.len() as u64);
        for f in fields {
            put_str(&mut raw, index.name(f));
            raw.push(f.field_type as u8);
            let blocks = index.blocks(f);
            put_uvarint(&mut raw, blocks.len() as u64);
            let mut prev = prev_first;
            if let Some(b) = blocks.first() {
                prev_first = b.min_ts;
            }
            for b in blocks {
                put_uvarint(&mut raw, u64::from(b.len));
                put_uvarint(&mut raw, zigzag(b.min_ts.wrapping_sub(prev)));
                put_uvarint(&mut raw, b.max_ts.wrapping_sub(b.min_ts) as u64);
                put_uvarint(&mut raw, u64::from(b.count));
                block::encode_agg_v5(&b.agg(), &mut raw);
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
pub(crate) fn decode_index(version: u16, buf: &[u8], data_end: u64) -> Result<Index, DecodeError> {
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
    let mut index = IndexBuilder::default();
    let mut next_offset = 0u64;
    let mut prev_first = 0i64;
    for _ in 0..n_series {
        let id = if compact {
            // A zero delta is refused by the ascending check below.
            let delta = input.uvarint("series id delta")?;
            index
                .last_series()
                .map_or(Some(delta), |prev| prev.id.checked_add(delta))
                .ok_or_else(|| DecodeError(format!("series id delta {delta} overflows")))?
        } else {
            input.u64("series id")?
        };
        if let Some(prev) = index.last_series() {
            if prev.id >= id {
                return bad(format!(
                    "series ids not ascending in index: {id} after {}",
                    prev.id
                ));
            }
        }
        let key = input.str("series key")?;
        let n_fields = input.len(input.remaining(), "field count")?;
        if n_fields == 0 {
            return bad(format!("series {id} has no fields"));
        }
        index.push_series(id, key).map_err(DecodeError)?;
        let mut prev_name: Option<&str> = None;
        for _ in 0..n_fields {
            let name = input.str("field name")?;
            if let Some(prev) = prev_name {
                if prev >= name {
                    return bad(format!(
                        "field names of series {id} not ascending: {name:?} after {prev:?}"
                    ));
                }
            }
            prev_name = Some(name);
            let ft = input.u8("field type")?;
            let field_type = FieldType::from_u8(ft)
                .ok_or_else(|| DecodeError(format!("unknown field type {ft} in index")))?;
            let n_blocks = input.len(input.remaining(), "block count")?;
            if n_blocks == 0 {
                return bad(format!("field {name:?} of series {id} has no blocks"));
            }
            index.push_field(name, field_type).map_err(DecodeError)?;
            let mut prev_max: Option<i64> = None;
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
                if let Some(prev_max) = prev_max {
                    if prev_max >= min_ts {
                        return bad(format!(
                            "blocks of series {id} field {name:?} overlap or are out of order \
                             at offset {offset}"
                        ));
                    }
                }
                prev_max = Some(max_ts);
                let meta = BlockMeta::new(offset, len, min_ts, max_ts, count, field_type, agg)
                    .ok_or_else(|| {
                        DecodeError(format!(
                            "aggregates of the block at offset {offset} are not {field_type:?}"
                        ))
                    })?;
                index.push_block(meta).map_err(DecodeError)?;
            }
        }
    }
    input.finish("series index")?;
    if next_offset != data_end {
        return bad(format!(
            "blocks end at {next_offset} but the data section ends at {data_end}"
        ));
    }
    Ok(index.finish())
}

/// Encode the series filter (format v5 and on): varint count, then the sorted series ids as varint
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

/// Encode the file stats (format v6): min_ts i64, max_ts i64, points u64, series u64, blocks
/// u64, then the provenance: layer u8, min_seq u64, max_seq u64.
pub(crate) fn encode_stats(s: &TableStats, provenance: &Provenance, out: &mut Vec<u8>) {
    out.extend_from_slice(&s.min_ts.to_le_bytes());
    out.extend_from_slice(&s.max_ts.to_le_bytes());
    out.extend_from_slice(&s.points.to_le_bytes());
    out.extend_from_slice(&s.series.to_le_bytes());
    out.extend_from_slice(&s.blocks.to_le_bytes());
    // `Provenance::check` keeps the layer below `LAYERS`, so it fits a byte.
    out.push(u8::try_from(provenance.layer).unwrap_or(u8::MAX));
    out.extend_from_slice(&provenance.min_seq.to_le_bytes());
    out.extend_from_slice(&provenance.max_seq.to_le_bytes());
}

/// Decode the file stats of a file of format `version`, and its provenance from v6 on (`None`
/// before); `file_bytes` is filled in by the caller.
pub(crate) fn decode_stats(
    version: u16,
    buf: &[u8],
    file_bytes: u64,
) -> Result<(TableStats, Option<Provenance>), DecodeError> {
    let mut input = Input::new(buf);
    let stats = TableStats {
        min_ts: input.i64("stats min_ts")?,
        max_ts: input.i64("stats max_ts")?,
        points: input.u64("stats points")?,
        series: input.u64("stats series")?,
        blocks: input.u64("stats blocks")?,
        file_bytes,
    };
    let provenance = if version >= PROVENANCE_VERSION {
        let p = Provenance {
            layer: usize::from(input.u8("provenance layer")?),
            min_seq: input.u64("provenance min_seq")?,
            max_seq: input.u64("provenance max_seq")?,
        };
        p.check().map_err(DecodeError)?;
        Some(p)
    } else {
        None
    };
    input.finish("file stats")?;
    Ok((stats, provenance))
}

/// Stats as implied by an index (empty tables have `min_ts = i64::MAX`, `max_ts = i64::MIN`).
pub(crate) fn stats_of(index: &Index, file_bytes: u64) -> TableStats {
    let mut s = TableStats {
        min_ts: i64::MAX,
        max_ts: i64::MIN,
        points: 0,
        series: index.series.len() as u64,
        blocks: 0,
        file_bytes,
    };
    for b in index.all_blocks() {
        s.min_ts = s.min_ts.min(b.min_ts);
        s.max_ts = s.max_ts.max(b.max_ts);
        s.points += u64::from(b.count);
        s.blocks += 1;
    }
    s
}
