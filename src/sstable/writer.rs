//! Writing an SSTable.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, IoContext, Result};
use crate::types::{Column, SeriesId};

use super::block::{self, BLOCK_POINTS};
use super::format::{self, BlockMeta, FieldEntry, Footer, Section, SeriesEntry};
use super::TableStats;

/// Writes one SSTable file. Runs are added in ascending (series, field name) order; `finish`
/// writes the metadata and syncs the file. If `add` or `finish` fails, or the writer is dropped
/// without `finish`, the file is incomplete and the caller should delete it.
pub struct TableWriter {
    path: PathBuf,
    out: BufWriter<File>,
    /// Bytes written so far.
    offset: u64,
    series: Vec<SeriesEntry>,
    scratch: Vec<u8>,
    /// Set when a write failed: the file no longer matches `series`.
    failed: bool,
}

impl TableWriter {
    /// Create the file (fails if it exists). Data is written through a BufWriter.
    pub fn create(path: &Path) -> Result<TableWriter> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .ctx(|| format!("create SSTable {}", path.display()))?;
        Ok(TableWriter {
            path: path.to_path_buf(),
            out: BufWriter::with_capacity(256 * 1024, file),
            offset: 0,
            series: Vec::new(),
            scratch: Vec::new(),
            failed: false,
        })
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
            if let Some(f) = self
                .series
                .last()
                .filter(|l| l.id == series && l.key == series_key)
                .and_then(|l| l.fields.last())
                .filter(|f| f.name == field)
            {
                let last_ts = f.blocks.last().map_or(i64::MIN, |b| b.max_ts);
                if f.field_type != column.values.field_type() {
                    return Err(self.invalid(format!(
                        "series {series} field {field:?}: continued with type {:?} after {:?}",
                        column.values.field_type(),
                        f.field_type
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
        let new_series = match self.series.last() {
            _ if continues => false,
            None => true,
            Some(last) if series > last.id => true,
            Some(last) if series == last.id => {
                if last.key != series_key {
                    return Err(self.invalid(format!(
                        "series {series} added with key {series_key:?} after key {:?}",
                        last.key
                    )));
                }
                match last.fields.last() {
                    Some(f)
                        if f.name == field
                            && f.field_type == column.values.field_type()
                            && f.blocks
                                .last()
                                .is_some_and(|b| b.max_ts < column.timestamps[0]) =>
                    {
                        continues = true;
                        false
                    }
                    Some(f) if f.name.as_str() >= field => {
                        return Err(self.invalid(format!(
                            "series {series}: field {field:?} added after field {:?}; fields \
                             must arrive in ascending name order",
                            f.name
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
            blocks.push(BlockMeta {
                offset: self.offset,
                len,
                min_ts: enc.min_ts,
                max_ts: enc.max_ts,
                count: enc.count,
                field_type: column.values.field_type(),
                agg: enc.agg,
            });
            self.offset += u64::from(len);
        }
        if continues {
            if let Some(f) = self.series.last_mut().and_then(|s| s.fields.last_mut()) {
                f.blocks.extend(blocks);
            }
            return Ok(());
        }
        let entry = FieldEntry {
            name: field.to_owned(),
            field_type: column.values.field_type(),
            blocks,
        };
        if new_series {
            self.series.push(SeriesEntry {
                id: series,
                key: series_key.to_owned(),
                fields: vec![entry],
            });
        } else if let Some(last) = self.series.last_mut() {
            last.fields.push(entry);
        }
        Ok(())
    }

    /// Write index, filter, stats, footer; flush and fsync the file (NOT the directory: the
    /// caller fsyncs the directory). Returns the stats.
    pub fn finish(mut self) -> Result<TableStats> {
        if self.failed {
            return Err(self.invalid("an earlier write to this file failed".into()));
        }
        let mut index = Vec::new();
        format::encode_index(&self.series, &mut index);
        let ids: Vec<SeriesId> = self.series.iter().map(|s| s.id).collect();
        let mut filter = Vec::new();
        format::encode_filter(&ids, &mut filter);
        let meta_len = (index.len() + filter.len()) as u64;
        let mut stats = format::stats_of(&self.series, 0);
        let mut stats_bytes = Vec::new();
        format::encode_stats(&stats, &mut stats_bytes);
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
            "wrote SSTable"
        );
        Ok(stats)
    }
}
