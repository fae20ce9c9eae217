//! Reading an SSTable.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, IoContext, Result};
use crate::types::{Column, FieldType, SeriesId, Values};

use super::block;
use super::cache::BlockCache;
use super::format::{self, BlockMeta, Footer, Index, SeriesEntry, FOOTER_LEN};
use super::{Provenance, TableStats};

/// An open SSTable. The stats and the series index (which also answers the filter's lookups) are
/// held in memory; blocks are read on demand with positional reads, so a `Table` is
/// `Send + Sync` and can be shared by readers.
#[derive(Debug)]
pub struct Table {
    path: PathBuf,
    file: File,
    stats: TableStats,
    /// The series index; it doubles as the series filter (the filter section holds the same
    /// ids, checked at open).
    index: Index,
    /// Format version from the footer.
    version: u16,
    /// From the stats section (format v6 on).
    provenance: Option<Provenance>,
    /// Blocks decoded by this table so far (for metrics and tests of pruning).
    blocks_read: AtomicU64,
    /// Blocks read from the file so far (the others came from a [`BlockCache`]).
    file_reads: AtomicU64,
    /// Unique among the tables this process opened: the [`BlockCache`]'s key.
    uid: u64,
}

/// The next [`Table::uid`].
static NEXT_UID: AtomicU64 = AtomicU64::new(1);

fn corrupt(path: &Path, reason: impl Into<String>) -> Error {
    Error::Corrupt {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

impl Table {
    /// Open a table: read the footer, then the stats, index and filter, verifying every
    /// section's crc and the consistency of the sections with each other.
    pub fn open(path: &Path) -> Result<Table> {
        let file = File::open(path).ctx(|| format!("open SSTable {}", path.display()))?;
        let file_len = file
            .metadata()
            .ctx(|| format!("stat SSTable {}", path.display()))?
            .len();
        let footer_len = FOOTER_LEN as u64;
        let Some(meta_end) = file_len.checked_sub(footer_len) else {
            return Err(corrupt(
                path,
                format!("file is {file_len} bytes, shorter than the {FOOTER_LEN}-byte footer"),
            ));
        };
        let mut footer_buf = [0u8; FOOTER_LEN];
        file.read_exact_at(&mut footer_buf, meta_end)
            .ctx(|| format!("read footer of SSTable {}", path.display()))?;
        let footer = Footer::decode(&footer_buf).map_err(|e| corrupt(path, e.0))?;

        let Footer {
            version,
            index,
            filter,
            stats,
        } = footer;
        let contiguous = index.end() == Some(filter.offset)
            && filter.end() == Some(stats.offset)
            && stats.end() == Some(meta_end);
        if !contiguous {
            return Err(corrupt(
                path,
                format!(
                    "footer section layout is inconsistent (index {}+{}, filter {}+{}, \
                     stats {}+{}, footer at {meta_end})",
                    index.offset, index.len, filter.offset, filter.len, stats.offset, stats.len
                ),
            ));
        }
        let layout_err = || corrupt(path, "footer section lengths do not fit the file");
        let meta_len = meta_end
            .checked_sub(index.offset)
            .and_then(|n| usize::try_from(n).ok())
            .ok_or_else(layout_err)?;
        let mut meta = vec![0u8; meta_len];
        file.read_exact_at(&mut meta, index.offset)
            .ctx(|| format!("read index, filter and stats of SSTable {}", path.display()))?;
        let (index_buf, rest) = usize::try_from(index.len)
            .ok()
            .and_then(|n| meta.split_at_checked(n))
            .ok_or_else(layout_err)?;
        let (filter_buf, stats_buf) = usize::try_from(filter.len)
            .ok()
            .and_then(|n| rest.split_at_checked(n))
            .ok_or_else(layout_err)?;
        for (name, sec, buf) in [
            ("series index", index, index_buf),
            ("series filter", filter, filter_buf),
            ("file stats", stats, stats_buf),
        ] {
            let crc = crc32fast::hash(buf);
            if crc != sec.crc {
                return Err(corrupt(
                    path,
                    format!(
                        "{name} checksum mismatch (stored {:#010x}, computed {crc:#010x})",
                        sec.crc
                    ),
                ));
            }
        }
        let (stats, provenance) = format::decode_stats(version, stats_buf, file_len)
            .map_err(|e| corrupt(path, format!("file stats: {e}")))?;
        let filter_ids = format::decode_filter(version, filter_buf)
            .map_err(|e| corrupt(path, format!("series filter: {e}")))?;
        let decoded = format::decode_index(version, index_buf, index.offset)
            .map_err(|e| corrupt(path, format!("series index: {e}")))?;
        if format::stats_of(&decoded, file_len) != stats {
            return Err(corrupt(
                path,
                format!("file stats {stats:?} do not match the series index"),
            ));
        }
        if !filter_ids.iter().eq(decoded.series().iter().map(|s| &s.id)) {
            return Err(corrupt(
                path,
                "series filter does not match the series index",
            ));
        }
        Ok(Table {
            path: path.to_path_buf(),
            file,
            stats,
            index: decoded,
            version,
            provenance,
            blocks_read: AtomicU64::new(0),
            file_reads: AtomicU64::new(0),
            uid: NEXT_UID.fetch_add(1, Ordering::Relaxed),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The format version of the file (see [`super::FORMAT_VERSION`]).
    pub fn format_version(&self) -> u16 {
        self.version
    }

    pub fn stats(&self) -> &TableStats {
        &self.stats
    }

    /// The layer this table was written for and the WAL seqno range of its data, as the file
    /// records them; `None` for files older than format v6, which do not.
    pub fn provenance(&self) -> Option<Provenance> {
        self.provenance
    }

    /// Whether this file may contain points of `series` (exact for the v1 sorted-id filter).
    pub fn may_contain(&self, series: SeriesId) -> bool {
        self.find(series).is_some()
    }

    /// Number of blocks decoded through this table so far.
    pub fn blocks_read(&self) -> u64 {
        self.blocks_read.load(Ordering::Relaxed)
    }

    /// Number of blocks read from the file so far (not from a [`BlockCache`]).
    pub fn file_reads(&self) -> u64 {
        self.file_reads.load(Ordering::Relaxed)
    }

    /// This table's id, unique among the tables this process has opened (two opens of one
    /// file get two ids).
    pub fn uid(&self) -> u64 {
        self.uid
    }

    fn find(&self, series: SeriesId) -> Option<&SeriesEntry> {
        let all = self.index.series();
        let i = all.binary_search_by_key(&series, |s| s.id).ok()?;
        all.get(i)
    }

    /// Id and series key of every series, ascending id.
    pub fn series(&self) -> impl Iterator<Item = (SeriesId, &str)> {
        self.index.series().iter().map(|s| (s.id, &*s.key))
    }

    /// The key of `series`, if the table holds it.
    pub fn series_key(&self, series: SeriesId) -> Option<&str> {
        self.find(series).map(|s| &*s.key)
    }

    /// Name and type of every field of `series`, ascending name; empty if the series is absent.
    pub fn fields(&self, series: SeriesId) -> impl Iterator<Item = (&str, FieldType)> {
        self.find(series).into_iter().flat_map(|s| {
            self.index
                .fields(s)
                .iter()
                .map(|f| (self.index.name(f), f.field_type))
        })
    }

    /// Heap bytes of the in-memory index.
    #[cfg(test)]
    pub(crate) fn index_heap_bytes(&self) -> usize {
        self.index.heap_bytes()
    }

    /// The blocks of (series, field) in time order; empty if absent.
    pub fn blocks(&self, series: SeriesId, field: &str) -> &[BlockMeta] {
        self.find(series)
            .and_then(|s| {
                let fields = self.index.fields(s);
                let i = fields
                    .binary_search_by(|f| self.index.name(f).cmp(field))
                    .ok()?;
                fields.get(i)
            })
            .map_or(&[], |f| self.index.blocks(f))
    }

    /// Read and decode one block, verifying its crc and that it matches `block`.
    pub fn read_block(&self, block: &BlockMeta) -> Result<Column> {
        let mut column = Column::new(block.field_type());
        self.read_block_into(block, &mut Vec::new(), &mut column)?;
        Ok(column)
    }

    /// [`Table::read_block`] reusing the caller's buffers: `buf` receives the raw block bytes
    /// and `column` is cleared and filled with the decoded points, so a scan that calls this in
    /// a loop allocates nothing per block once the buffers have grown. On error `column`'s
    /// contents are unspecified.
    pub fn read_block_into(
        &self,
        block: &BlockMeta,
        buf: &mut Vec<u8>,
        column: &mut Column,
    ) -> Result<()> {
        self.read_block_through(block, i64::MAX, buf, column)
    }

    /// [`Table::read_block_into`] keeping only the points at or before `through`. A format v5
    /// block decodes little more than those values (a read whose range ends inside a block
    /// skips the rest of it); an older block is decoded whole and cut.
    pub fn read_block_through(
        &self,
        block: &BlockMeta,
        through: i64,
        buf: &mut Vec<u8>,
        column: &mut Column,
    ) -> Result<()> {
        self.read_block_cached(block, through, None, buf, column)
    }

    /// [`Table::read_block_through`] through `cache` ([`Table::with_bytes`]).
    pub fn read_block_cached(
        &self,
        block: &BlockMeta,
        through: i64,
        cache: Option<&BlockCache>,
        buf: &mut Vec<u8>,
        column: &mut Column,
    ) -> Result<()> {
        self.with_bytes(block, cache, buf, |bytes| {
            self.decode_through(bytes, block, through, column)
        })
    }

    /// The timestamps of `block` alone (checked against the index entry, the block's crc
    /// verified; its values are not decoded) into `out`, cleared first, reading through
    /// `cache` ([`Table::with_bytes`]). A v1–v4 block is decoded whole.
    pub fn read_timestamps(
        &self,
        block: &BlockMeta,
        cache: Option<&BlockCache>,
        buf: &mut Vec<u8>,
        out: &mut Vec<i64>,
    ) -> Result<()> {
        if self.version < format::COMPACT_VERSION {
            let mut column = Column::new(block.field_type());
            self.read_block_cached(block, i64::MAX, cache, buf, &mut column)?;
            *out = column.timestamps;
            return Ok(());
        }
        self.with_bytes(block, cache, buf, |bytes| {
            block::decode_block_v5_timestamps(bytes, block, out)
                .map_err(|e| corrupt(&self.path, format!("{}: {e}", Self::what(block))))
        })
    }

    /// `decode` run on the raw bytes of `block`: from `cache` if it holds them, else read
    /// from the file into `buf`, and then kept in `cache` once `decode` accepted them (a
    /// corrupt block never enters it).
    fn with_bytes<T>(
        &self,
        block: &BlockMeta,
        cache: Option<&BlockCache>,
        buf: &mut Vec<u8>,
        decode: impl FnOnce(&[u8]) -> Result<T>,
    ) -> Result<T> {
        if let Some(bytes) = cache.and_then(|c| c.get(self.uid, block.offset)) {
            return decode(&bytes);
        }
        self.read_raw(block, buf)?;
        let decoded = decode(buf)?;
        if let Some(c) = cache {
            c.insert(self.uid, block.offset, buf);
        }
        Ok(decoded)
    }

    fn what(block: &BlockMeta) -> String {
        format!("block at offset {} length {}", block.offset, block.len)
    }

    /// The raw bytes of `block` from the file, into `buf`.
    fn read_raw(&self, block: &BlockMeta, buf: &mut Vec<u8>) -> Result<()> {
        buf.clear();
        buf.resize(block.len as usize, 0);
        self.file.read_exact_at(buf, block.offset).ctx(|| {
            format!(
                "read {} of SSTable {}",
                Self::what(block),
                self.path.display()
            )
        })?;
        self.file_reads.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    /// Verify and decode the raw bytes `buf` of `block`, keeping the points at or before
    /// `through`.
    fn decode_through(
        &self,
        buf: &[u8],
        block: &BlockMeta,
        through: i64,
        column: &mut Column,
    ) -> Result<()> {
        self.blocks_read.fetch_add(1, Ordering::Relaxed);
        self.decode_block(buf, block, through, column)
            .map_err(|e| corrupt(&self.path, format!("{}: {e}", Self::what(block))))
    }

    /// Verify the crc of the raw bytes `buf` of `block` and decode them against the index
    /// entry, keeping the points at or before `through`.
    fn decode_block(
        &self,
        buf: &[u8],
        block: &BlockMeta,
        through: i64,
        column: &mut Column,
    ) -> Result<(), super::codec::DecodeError> {
        if self.version >= format::COMPACT_VERSION {
            block::decode_block_v5_through(buf, block, through, column)
        } else {
            block::decode_block_v4_into(buf, column)
                .map(|header| {
                    let mut agg = Vec::new();
                    block::encode_agg(&block.agg(), &mut agg);
                    header.min_ts == block.min_ts
                        && header.max_ts == block.max_ts
                        && header.count == block.count
                        && header.field_type == block.field_type()
                        && header.agg_bytes == agg.as_slice()
                })
                .and_then(|matches| {
                    if matches {
                        // Decoded whole: keep the points at or before `through`.
                        let keep = column.timestamps.partition_point(|&t| t <= through);
                        column.timestamps.truncate(keep);
                        column.values.truncate(keep);
                        Ok(())
                    } else {
                        Err(super::codec::DecodeError(
                            "block header does not match the series index".into(),
                        ))
                    }
                })
        }
    }

    /// All points of (series, field) with `min <= ts <= max`, decoding only blocks that overlap.
    /// `None` if the run is absent or has no points in the range.
    pub fn read_range(
        &self,
        series: SeriesId,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<Column>> {
        if min > max {
            return Ok(None);
        }
        let blocks = self.blocks(series, field);
        let start = blocks.partition_point(|b| b.max_ts < min);
        let mut out: Option<Column> = None;
        for b in blocks.iter().skip(start).take_while(|b| b.min_ts <= max) {
            let col = self.read_block(b)?;
            let lo = col.timestamps.partition_point(|&t| t < min);
            let hi = col.timestamps.partition_point(|&t| t <= max);
            match &mut out {
                None if lo == 0 && hi == col.len() => out = Some(col),
                None => {
                    let mut c = Column::new(b.field_type());
                    append(&mut c, col, lo, hi).map_err(|r| corrupt(&self.path, r))?;
                    out = Some(c);
                }
                Some(c) => append(c, col, lo, hi).map_err(|r| corrupt(&self.path, r))?,
            }
        }
        Ok(out.filter(|c| !c.is_empty()))
    }

    /// Every block of the table in (series, field, time) order, decoded one at a time: a run
    /// longer than one block comes as several consecutive items with the same series and field.
    pub fn iter(&self) -> impl Iterator<Item = Result<(SeriesId, &str, &str, Column)>> + '_ {
        let index = &self.index;
        index.series().iter().flat_map(move |s| {
            index.fields(s).iter().flat_map(move |f| {
                index.blocks(f).iter().map(move |b| {
                    self.read_block(b)
                        .map(|c| (s.id, &*s.key, index.name(f), c))
                })
            })
        })
    }
}

/// What is wrong with a damaged block (see [`TableDamage`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DamageKind {
    /// The block's bytes could not be read (an I/O error, or the file is now shorter).
    Unreadable,
    /// The block's bytes do not match its crc32.
    Checksum,
    /// The crc holds but the block does not decode, or decodes to other points than its index
    /// entry says (count, time range, type or pre-aggregates).
    Mismatch,
}

impl std::fmt::Display for DamageKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DamageKind::Unreadable => "unreadable",
            DamageKind::Checksum => "checksum mismatch",
            DamageKind::Mismatch => "does not match the index",
        })
    }
}

/// One damaged data block found by [`Table::verify`]: where it is in the file and whose points
/// it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDamage {
    /// Byte offset of the block in the file.
    pub offset: u64,
    /// Byte length of the block, including its crc32.
    pub len: u32,
    /// The series whose points the block holds, and its key.
    pub series: SeriesId,
    pub series_key: String,
    /// The field whose points the block holds.
    pub field: String,
    /// The block's time range and point count as the index records them (what is lost).
    pub min_ts: i64,
    pub max_ts: i64,
    pub count: u32,
    pub kind: DamageKind,
    /// What failed, in words.
    pub reason: String,
}

impl std::fmt::Display for TableDamage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "block at offset {} length {} (series {} {:?} field {:?}, {} points {}..={}): {}: {}",
            self.offset,
            self.len,
            self.series,
            self.series_key,
            self.field,
            self.count,
            self.min_ts,
            self.max_ts,
            self.kind,
            self.reason
        )
    }
}

/// The outcome of [`Table::verify`]: every block checked, and those found damaged.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// The file verified.
    pub path: PathBuf,
    /// Format version of the file.
    pub format_version: u16,
    /// Blocks checked (every block of the index).
    pub blocks: u64,
    /// Points in the blocks that verified.
    pub points: u64,
    /// The damaged blocks, in file order.
    pub damage: Vec<TableDamage>,
}

impl VerifyReport {
    /// Whether no block is damaged.
    pub fn is_clean(&self) -> bool {
        self.damage.is_empty()
    }
}

impl Table {
    /// Check every data block of the table, read-only: read its bytes from the file, check its
    /// crc32, decode it against its index entry (count, time range, type) and check that the
    /// pre-aggregates the index holds for it are those of its values. One block is in memory
    /// at a time, and the block cache and read counters are not touched. The footer, index,
    /// filter and stats sections were verified by [`Table::open`].
    pub fn verify(&self) -> VerifyReport {
        let mut report = VerifyReport {
            path: self.path.clone(),
            format_version: self.version,
            ..VerifyReport::default()
        };
        let (mut buf, mut column) = (Vec::new(), Column::new(FieldType::Float));
        let index = &self.index;
        for s in index.series() {
            for f in index.fields(s) {
                for b in index.blocks(f) {
                    report.blocks += 1;
                    match self.verify_block(b, &mut buf, &mut column) {
                        Ok(()) => report.points += u64::from(b.count),
                        Err((kind, reason)) => report.damage.push(TableDamage {
                            offset: b.offset,
                            len: b.len,
                            series: s.id,
                            series_key: s.key.to_string(),
                            field: index.name(f).to_string(),
                            min_ts: b.min_ts,
                            max_ts: b.max_ts,
                            count: b.count,
                            kind,
                            reason,
                        }),
                    }
                }
            }
        }
        report
    }

    /// Open the table at `path` and [`Table::verify`] it. An `Err` says the file cannot be
    /// opened at all: [`Error::Io`] or [`Error::Corrupt`], naming the file and what failed (the
    /// footer, or which metadata section).
    pub fn verify_file(path: &Path) -> Result<VerifyReport> {
        Ok(Table::open(path)?.verify())
    }

    fn verify_block(
        &self,
        block: &BlockMeta,
        buf: &mut Vec<u8>,
        column: &mut Column,
    ) -> std::result::Result<(), (DamageKind, String)> {
        buf.clear();
        buf.resize(block.len as usize, 0);
        self.file
            .read_exact_at(buf, block.offset)
            .map_err(|e| (DamageKind::Unreadable, format!("read failed: {e}")))?;
        // Every version's block ends with a crc32 of its other bytes.
        let body_len = buf.len().saturating_sub(4);
        let (body, crc) = buf.split_at(body_len);
        let stored = <[u8; 4]>::try_from(crc)
            .map(u32::from_le_bytes)
            .map_err(|_| {
                (
                    DamageKind::Mismatch,
                    format!("block of {} bytes is too short", block.len),
                )
            })?;
        let computed = crc32fast::hash(body);
        if stored != computed {
            return Err((
                DamageKind::Checksum,
                format!("stored crc {stored:#010x}, computed {computed:#010x}"),
            ));
        }
        self.decode_block(buf, block, i64::MAX, column)
            .map_err(|e| (DamageKind::Mismatch, e.0))?;
        let n = column.timestamps.len();
        if n != block.count as usize || column.values.len() != n {
            return Err((
                DamageKind::Mismatch,
                format!(
                    "decoded {n} timestamps and {} values, the index says {}",
                    column.values.len(),
                    block.count
                ),
            ));
        }
        // Compared as encoded bytes: float aggregates bit for bit (a sum may be NaN).
        let (mut want, mut got) = (Vec::new(), Vec::new());
        block::encode_agg(&block.agg(), &mut want);
        match block::compute_agg(&column.values, 0, n) {
            Some(agg) => block::encode_agg(&agg, &mut got),
            None => {
                return Err((
                    DamageKind::Mismatch,
                    "the block's values have no aggregates".into(),
                ))
            }
        }
        if want != got {
            return Err((
                DamageKind::Mismatch,
                "the index's pre-aggregates are not those of the block's values".into(),
            ));
        }
        Ok(())
    }
}

/// Append points `lo..hi` of `src` to `dst`.
fn append(dst: &mut Column, src: Column, lo: usize, hi: usize) -> Result<(), String> {
    let ts = src
        .timestamps
        .get(lo..hi)
        .ok_or_else(|| format!("range {lo}..{hi} out of a block of {}", src.len()))?;
    let ok = match (&mut dst.values, src.values) {
        (Values::Float(d), Values::Float(s)) => s.get(lo..hi).map(|s| d.extend_from_slice(s)),
        (Values::Integer(d), Values::Integer(s)) => s.get(lo..hi).map(|s| d.extend_from_slice(s)),
        (Values::Unsigned(d), Values::Unsigned(s)) => s.get(lo..hi).map(|s| d.extend_from_slice(s)),
        (Values::Boolean(d), Values::Boolean(s)) => s.get(lo..hi).map(|s| d.extend_from_slice(s)),
        (Values::String(d), Values::String(mut s)) => {
            (hi <= s.len() && lo <= hi).then(|| d.extend(s.drain(lo..hi)))
        }
        _ => None,
    };
    ok.ok_or_else(|| "block values do not match the run's field type".to_string())?;
    dst.timestamps.extend_from_slice(ts);
    Ok(())
}
