//! Writing an SSTable.

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, IoContext, Result};
use crate::file_io::{self, FileIo, IoFile};
use crate::types::{Column, SeriesId};

use super::block::{self, BLOCK_POINTS};
use super::format::{self, BlockMeta, Footer, IndexBuilder, Section};
use super::{Provenance, TableStats};

/// Writes one SSTable file. Runs are added in ascending (series, field name) order; the table's
/// [`Provenance`] is given with [`TableWriter::set_provenance`] (at any time before `finish`,
/// which refuses to write a table without one); `finish` writes the metadata and syncs the
/// file. If `add` or `finish` fails, or the writer is dropped
/// without `finish`, the file is incomplete and the caller should delete it.
pub struct TableWriter {
    path: PathBuf,
    out: BufWriter<IoFile>,
    /// Bytes written so far.
    offset: u64,
    index: IndexBuilder,
    scratch: Vec<u8>,
    /// Set when a write failed: the file no longer matches `series`.
    failed: bool,
    /// Recorded in the stats section by `finish`; required.
    provenance: Option<Provenance>,
}

impl TableWriter {
    /// Create the file (fails if it exists) with the operating system's files. Data is written
    /// through a BufWriter.
    pub fn create(path: &Path) -> Result<TableWriter> {
        TableWriter::create_with(file_io::real(), path)
    }

    /// [`TableWriter::create`] whose writes and fsync go through `io`.
    pub fn create_with(io: Arc<dyn FileIo>, path: &Path) -> Result<TableWriter> {
        let file =
            IoFile::create(io, path, true).ctx(|| format!("create SSTable {}", path.display()))?;
        Ok(TableWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            offset: 0,
            index: IndexBuilder::default(),
            scratch: Vec::new(),
            failed: false,
            provenance: None,
        })
    }

    /// Record where the table belongs: the layer it is written for and the WAL seqno range of
    /// its data (for a flush, the memtable's; for a compaction output, its inputs'; for a
    /// rewrite, the rewritten table's). Required before [`TableWriter::finish`]; a later call
    /// replaces an earlier one. Checked by `finish`.
    pub fn set_provenance(&mut self, provenance: Provenance) {
        self.provenance = Some(provenance);
    }

    fn invalid(&self, reason: String) -> Error {
        Error::Corrupt {
            path: self.path.clone(),
            reason: format!("refusing to write invalid input: {reason}"),
        }
    }

    /// Add one (series, field) run, or continue the run added last.
    ///
    /// Runs must arrive in strictly ascending (series, field name) order, a series must keep the
    /// same key, `column.timestamps` must be strictly ascending and as long as the values. A run
    /// may be given in several consecutive calls (streaming, e.g. block by block) as long as each
    /// call's first timestamp is after the previous call's last one and the type is the same. A
    /// violation is a caller bug: it is reported as `Error::Corrupt` (the file would be) and
    /// nothing is written, so the writer stays usable. Empty columns are skipped.
    pub fn add(
        &mut self,
        series: SeriesId,
        series_key: &str,
        field: &str,
        column: &Column,
    ) -> Result<()> {
        self.add_inner(series, series_key, field, column, false)
    }

    /// Like [`TableWriter::add`], but the run may continue the last one added (same series and
    /// field, timestamps after its last): how a streaming merge writes a run one block at a time.
    pub fn append(
        &mut self,
        series: SeriesId,
        series_key: &str,
        field: &str,
        column: &Column,
    ) -> Result<()> {
        self.add_inner(series, series_key, field, column, true)
    }

    /// Bytes written to the file so far (data blocks only until `finish`).
    pub fn bytes_written(&self) -> u64 {
        self.offset
    }

    fn add_inner(
        &mut self,
        series: SeriesId,
        series_key: &str,
        field: &str,
        column: &Column,
        continuing: bool,
    ) -> Result<()> {
        if self.failed {
            return Err(self.invalid("an earlier write to this file failed".into()));
        }
        if column.values.len() != column.timestamps.len() {
            return Err(self.invalid(format!(
                "series {series} field {field:?}: {} timestamps but {} values",
                column.timestamps.len(),
                column.values.len()
            )));
        }
        if column.is_empty() {
            return Ok(());
        }
        if let Some(i) = column.timestamps.windows(2).position(|w| w[0] >= w[1]) {
            return Err(self.invalid(format!(
                "series {series} field {field:?}: timestamps not strictly ascending at index {}",
                i + 1
            )));
        }
        let mut continues = false;
        if continuing {
            let same_series = self
                .index
                .last_series()
                .is_some_and(|l| l.id == series && &*l.key == series_key);
            if let Some((_, field_type, blocks)) = self
                .index
                .last_field()
                .filter(|(name, ..)| same_series && *name == field)
            {
                let last_ts = blocks.last().map_or(i64::MIN, |b| b.max_ts);
                if field_type != column.values.field_type() {
                    return Err(self.invalid(format!(
                        "series {series} field {field:?}: continued with type {:?} after {:?}",
                        column.values.field_type(),
                        field_type
                    )));
                }
                if column.timestamps.first().is_some_and(|&t| t <= last_ts) {
                    return Err(self.invalid(format!(
                        "series {series} field {field:?}: continued at a timestamp not after \
                         the run's last ({last_ts})"
                    )));
                }
                continues = true;
            }
        }
        let new_series = match self.index.last_series() {
            _ if continues => false,
            None => true,
            Some(last) if series > last.id => true,
            Some(last) if series == last.id => {
                if &*last.key != series_key {
                    return Err(self.invalid(format!(
                        "series {series} added with key {series_key:?} after key {:?}",
                        last.key
                    )));
                }
                match self.index.last_field() {
                    Some((name, field_type, blocks))
                        if name == field
                            && field_type == column.values.field_type()
                            && blocks
                                .last()
                                .is_some_and(|b| b.max_ts < column.timestamps[0]) =>
                    {
                        continues = true;
                        false
                    }
                    Some((name, ..)) if name >= field => {
                        return Err(self.invalid(format!(
                            "series {series}: field {field:?} added after field {name:?}; \
                             fields must arrive in ascending name order"
                        )));
                    }
                    _ => false,
                }
            }
            Some(last) => {
                return Err(self.invalid(format!(
                    "series {series} added after series {}; series must arrive in ascending \
                     id order",
                    last.id
                )));
            }
        };

        let mut blocks = Vec::with_capacity(column.len().div_ceil(BLOCK_POINTS));
        for lo in (0..column.len()).step_by(BLOCK_POINTS) {
            let hi = (lo + BLOCK_POINTS).min(column.len());
            self.scratch.clear();
            let Some(enc) = block::encode_block(column, lo, hi, &mut self.scratch) else {
                return Err(self.invalid(format!("cannot encode points {lo}..{hi}")));
            };
            let Ok(len) = u32::try_from(self.scratch.len()) else {
                return Err(self.invalid(format!(
                    "block of {} bytes is too large",
                    self.scratch.len()
                )));
            };
            if let Err(e) = self.out.write_all(&self.scratch) {
                self.failed = true;
                return Err(Error::io(
                    format!("write SSTable {}", self.path.display()),
                    e,
                ));
            }
            let field_type = column.values.field_type();
            let Some(meta) = BlockMeta::new(
                self.offset,
                len,
                enc.min_ts,
                enc.max_ts,
                enc.count,
                field_type,
                enc.agg,
            ) else {
                return Err(self.invalid(format!(
                    "aggregates of points {lo}..{hi} are not {field_type:?}"
                )));
            };
            blocks.push(meta);
            self.offset += u64::from(len);
        }
        let built = if continues {
            Ok(())
        } else if new_series {
            self.index
                .push_series(series, series_key)
                .and_then(|()| self.index.push_field(field, column.values.field_type()))
        } else {
            self.index.push_field(field, column.values.field_type())
        };
        built
            .and_then(|()| {
                blocks
                    .into_iter()
                    .try_for_each(|b| self.index.push_block(b))
            })
            .map_err(|e| {
                self.failed = true;
                self.invalid(e)
            })
    }

    /// Write index, filter, stats (with the provenance), footer; flush and fsync the file (NOT
    /// the directory: the caller fsyncs the directory). Returns the stats. Fails, writing
    /// nothing more, if [`TableWriter::set_provenance`] was never called or its provenance is
    /// invalid (layer not below [`crate::version::LAYERS`], or `min_seq > max_seq`).
    pub fn finish(mut self) -> Result<TableStats> {
        if self.failed {
            return Err(self.invalid("an earlier write to this file failed".into()));
        }
        let Some(provenance) = self.provenance else {
            return Err(self.invalid(
                "no provenance (layer and seqno range) was given: call \
                 TableWriter::set_provenance before finish"
                    .into(),
            ));
        };
        provenance.check().map_err(|e| self.invalid(e))?;
        let built = self.index.index();
        let mut index = Vec::new();
        format::encode_index(built, &mut index);
        let ids: Vec<SeriesId> = built.series().iter().map(|s| s.id).collect();
        let mut filter = Vec::new();
        format::encode_filter(&ids, &mut filter);
        let meta_len = (index.len() + filter.len()) as u64;
        let mut stats = format::stats_of(built, 0);
        let mut stats_bytes = Vec::new();
        format::encode_stats(&stats, &provenance, &mut stats_bytes);
        stats.file_bytes =
            self.offset + meta_len + stats_bytes.len() as u64 + format::FOOTER_LEN as u64;

        let index_sec = Section::of(self.offset, &index);
        let filter_sec = Section::of(index_sec.offset + index_sec.len, &filter);
        let stats_sec = Section::of(filter_sec.offset + filter_sec.len, &stats_bytes);
        let footer = Footer {
            version: super::FORMAT_VERSION,
            index: index_sec,
            filter: filter_sec,
            stats: stats_sec,
        }
        .encode();

        let path = self.path;
        let ctx = || format!("write SSTable {}", path.display());
        for part in [&index, &filter, &stats_bytes, &footer] {
            self.out.write_all(part).ctx(ctx)?;
        }
        let file = self
            .out
            .into_inner()
            .map_err(|e| Error::io(ctx(), e.into_error()))?;
        file.sync_all()
            .ctx(|| format!("fsync SSTable {}", path.display()))?;
        tracing::debug!(
            path = %path.display(),
            points = stats.points,
            series = stats.series,
            blocks = stats.blocks,
            bytes = stats.file_bytes,
            layer = provenance.layer,
            min_seq = provenance.min_seq,
            max_seq = provenance.max_seq,
            "wrote SSTable"
        );
        Ok(stats)
    }
}
