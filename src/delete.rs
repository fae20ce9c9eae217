//! Deletes and retention drops: removing points from a database's tables.
//!
//! A delete (`DELETE`, `DROP MEASUREMENT`, `DROP SERIES`) is applied by **rewriting**:
//!
//! 1. flush the database, so every point acknowledged before the statement is in a table;
//! 2. turn the statement into a [`PointFilter`]: the affected series (from the series index:
//!    measurement and tag predicate through the postings) and a time range;
//! 3. for every table the filter touches (its series filter and block index say so without
//!    reading data), stream a replacement block by block without the filtered points (new file
//!    fsynced, directory fsynced); a table left empty is dropped instead;
//! 4. install every replacement in one catalog edit (`VersionSet::replace_tables`: manifest
//!    append + fsync, then publish). If a concurrent edit (a compaction) replaced one of the
//!    inputs, the outputs are discarded and the delete plans again against the new version;
//! 5. forget the series that have no data left anywhere ([`forget_empty_series`]), so SHOW
//!    statements stop listing them and a restart does not bring them back.
//!
//! The statement returns after step 4: queries stop seeing the points at once, and the old files
//! are deleted as soon as no reader's version references them. Points written *while* the delete
//! runs (after its flush barrier) may or may not be deleted; points written after it returned
//! never are.
//!
//! Retention drops whole tables whose newest point is past the cutoff ([`expire`]) with one
//! catalog edit and no rewriting; queries filter the rest at read time.
//!
//! [`PointFilter`] is the predicate a compaction merge can share: `PointFilter::before(cutoff)`
//! drops expired points, and [`PointFilter::retain`] filters one decoded column.

use std::collections::BTreeSet;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::manifest::sync_dir_with;
use crate::sstable::{Provenance, Table, TableWriter};
use crate::types::{Column, NewSeries, SeriesId, Values};
use crate::version::{TableHandle, TableRef, VersionSet};

/// How often a rewrite is planned again after concurrent edits replaced its inputs.
const MAX_ATTEMPTS: usize = 16;

/// The points a delete removes: those of the given series (or of every series) whose timestamp
/// is in `[min, max]`.
#[derive(Clone, Debug, PartialEq)]
pub struct PointFilter {
    /// `None`: every series.
    series: Option<BTreeSet<SeriesId>>,
    min: i64,
    max: i64,
    /// `Some`: only the values of this field (vq's DELETE removes one metric of a point, the
    /// series' other fields at that time stay). `None`: every field.
    field: Option<String>,
}

impl PointFilter {
    /// Points of `series` with `min <= ts <= max`.
    pub fn new(series: impl IntoIterator<Item = SeriesId>, min: i64, max: i64) -> PointFilter {
        PointFilter {
            series: Some(series.into_iter().collect()),
            min,
            max,
            field: None,
        }
    }

    /// The same filter, removing only the values of `field`.
    pub fn only_field(mut self, field: &str) -> PointFilter {
        self.field = Some(field.to_string());
        self
    }

    /// Whether the filter removes values of `field`.
    pub fn matches_field(&self, field: &str) -> bool {
        self.field.as_deref().is_none_or(|f| f == field)
    }

    /// Points of every series older than `cutoff` (retention).
    pub fn before(cutoff: i64) -> PointFilter {
        PointFilter {
            series: None,
            min: i64::MIN,
            max: cutoff.saturating_sub(1),
            field: None,
        }
    }

    /// Whether the filter removes any point of `series`.
    pub fn matches_series(&self, series: SeriesId) -> bool {
        self.min <= self.max && self.series.as_ref().is_none_or(|s| s.contains(&series))
    }

    /// Whether the filter removes the point of `series` at `ts`.
    pub fn matches(&self, series: SeriesId, ts: i64) -> bool {
        ts >= self.min && ts <= self.max && self.matches_series(series)
    }

    /// Whether `table` holds any point the filter removes, decided from its stats, series filter
    /// and block index (no data is read).
    pub fn touches(&self, table: &Table) -> bool {
        let st = table.stats();
        if st.points == 0 {
            return false;
        }
        if st.max_ts < self.min || st.min_ts > self.max {
            return false;
        }
        table
            .series()
            .filter(|(id, _)| self.matches_series(*id))
            .any(|(id, _)| {
                table.fields(id).any(|(f, _)| {
                    self.matches_field(f)
                        && table
                            .blocks(id, f)
                            .iter()
                            .any(|b| b.max_ts >= self.min && b.min_ts <= self.max)
                })
            })
    }

    /// The points of `col` (a sorted run of `series`) that the filter keeps.
    pub fn retain(&self, series: SeriesId, col: Column) -> Column {
        if !self.matches_series(series) {
            return col;
        }
        let lo = col.timestamps.partition_point(|&t| t < self.min);
        let hi = col.timestamps.partition_point(|&t| t <= self.max);
        if lo >= hi {
            return col;
        }
        let Column {
            mut timestamps,
            values,
        } = col;
        timestamps.drain(lo..hi);
        fn cut<T>(mut v: Vec<T>, lo: usize, hi: usize) -> Vec<T> {
            v.drain(lo..hi);
            v
        }
        let values = match values {
            Values::Float(v) => Values::Float(cut(v, lo, hi)),
            Values::Integer(v) => Values::Integer(cut(v, lo, hi)),
            Values::Unsigned(v) => Values::Unsigned(cut(v, lo, hi)),
            Values::Boolean(v) => Values::Boolean(cut(v, lo, hi)),
            Values::String(v) => Values::String(cut(v, lo, hi)),
        };
        Column { timestamps, values }
    }
}

/// What a rewrite or a retention drop changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DeleteOutcome {
    /// Tables replaced by a rewritten table.
    pub tables_rewritten: usize,
    /// Tables removed without replacement (left empty, or expired).
    pub tables_dropped: usize,
    /// Points no longer stored.
    pub points_removed: u64,
    /// Series forgotten by the index (no data left).
    pub series_forgotten: usize,
}

/// Write a copy of `t` without the points `filter` removes, streaming block by block (one
/// decoded block in memory at a time). `None` if nothing would remain (no file is left behind).
pub fn rewrite_table(
    versions: &VersionSet,
    t: &TableRef,
    filter: &PointFilter,
) -> Result<Option<TableRef>> {
    let (file, path) = versions.new_table()?;
    let written = (|| {
        let mut w = TableWriter::create_with(versions.io().clone(), &path)?;
        for item in t.table.iter() {
            let (id, key, field, col) = item?;
            let col = if filter.matches_field(field) {
                filter.retain(id, col)
            } else {
                col
            };
            w.add(id, key, field, &col)?;
        }
        w.set_provenance(Provenance {
            layer: t.layer,
            min_seq: t.min_seq,
            max_seq: t.max_seq,
        });
        w.finish()
    })();
    let stats = match written {
        Ok(s) => s,
        Err(e) => {
            // Our own unfinished output (logged pending): garbage by construction.
            let _ = versions.io().remove(&path);
            return Err(e);
        }
    };
    if stats.points == 0 {
        versions
            .io()
            .remove(&path)
            .map_err(|e| Error::io(format!("remove empty table {}", path.display()), e))?;
        return Ok(None);
    }
    if let Some(dir) = path.parent() {
        sync_dir_with(versions.io().as_ref(), dir)?;
    }
    let table = Table::open(&path)?;
    Ok(Some(versions.table_ref(TableHandle::new(
        file, t.layer, t.min_seq, t.max_seq, table,
    ))))
}

/// Tables written but not installed: delete them now.
fn discard(outputs: Vec<TableRef>) {
    for o in outputs {
        o.mark_obsolete();
    }
}

/// Remove the points `filter` selects from every table of `db` (steps 3 and 4 of the module
/// docs): rewrite the tables it touches, install the replacements in one catalog edit, and plan
/// again if a concurrent compaction replaced an input. Memtables are not touched: flush first.
pub fn rewrite_tables(db: &Database, filter: &PointFilter) -> Result<DeleteOutcome> {
    let versions = db.versions();
    for attempt in 1..=MAX_ATTEMPTS {
        let targets: Vec<TableRef> = {
            let v = versions.current();
            v.layers
                .iter()
                .flatten()
                .filter(|t| filter.touches(&t.table))
                .cloned()
                .collect()
        };
        if targets.is_empty() {
            return Ok(DeleteOutcome::default());
        }
        let mut outputs = Vec::new();
        for t in &targets {
            match rewrite_table(versions, t, filter) {
                Ok(Some(o)) => outputs.push(o),
                Ok(None) => {}
                Err(e) => {
                    discard(outputs);
                    return Err(e);
                }
            }
        }
        let before: u64 = targets.iter().map(|t| t.table.stats().points).sum();
        let after: u64 = outputs.iter().map(|t| t.table.stats().points).sum();
        let outcome = DeleteOutcome {
            tables_rewritten: outputs.len(),
            tables_dropped: targets.len() - outputs.len(),
            points_removed: before - after,
            series_forgotten: 0,
        };
        match versions.replace_tables(&targets, outputs.clone()) {
            Ok(()) => {
                tracing::info!(
                    db = db.name(),
                    rewritten = outcome.tables_rewritten,
                    dropped = outcome.tables_dropped,
                    points = outcome.points_removed,
                    "deleted points"
                );
                return Ok(outcome);
            }
            Err(Error::VersionConflict { file }) => {
                tracing::debug!(
                    db = db.name(),
                    file,
                    attempt,
                    "delete raced a compaction; planning again"
                );
                discard(outputs);
            }
            Err(e) => {
                discard(outputs);
                return Err(e);
            }
        }
    }
    Err(Error::DeleteContended {
        attempts: MAX_ATTEMPTS,
    })
}

/// Forget the `candidates` that no table and no memtable holds any more (they were deleted or
/// expired), with writes held off meanwhile. A candidate whose only remaining points are in a
/// memtable (written while the delete ran) stays, and its key is logged again in the WAL: the
/// tables that named it are gone, and a restart must still be able to replay those points.
pub fn forget_empty_series(
    db: &Database,
    candidates: impl IntoIterator<Item = SeriesId>,
) -> Result<usize> {
    let _writes = db.exclusive_writes();
    let v = db.versions().current();
    let tables: Vec<&TableRef> = v.layers.iter().flatten().collect();
    let memtables = v.memtables_oldest_first();
    let mut forgotten = 0;
    let mut relog = Vec::new();
    for id in candidates {
        if tables.iter().any(|t| t.table.may_contain(id)) {
            continue;
        }
        if memtables.iter().any(|m| m.contains_series(id)) {
            if let Some(info) = db.index().get(id) {
                relog.push(NewSeries {
                    id,
                    key: info.key.clone(),
                });
            }
            continue;
        }
        if db.index().forget(id) {
            forgotten += 1;
        }
    }
    if !relog.is_empty() {
        db.log_series(relog)?;
    }
    Ok(forgotten)
}

/// Delete the points of `series` with `min <= ts <= max` (the whole statement: flush barrier,
/// rewrite, install, forget emptied series).
pub fn delete_points(
    db: &Database,
    series: BTreeSet<SeriesId>,
    min: i64,
    max: i64,
) -> Result<DeleteOutcome> {
    delete_matching(db, series, PointFilter::new([], min, max))
}

/// Delete the values of `field` of `series` with `min <= ts <= max`, leaving the series'
/// other fields (vq's DELETE of one metric of a point); otherwise as [`delete_points`].
pub fn delete_field_points(
    db: &Database,
    series: BTreeSet<SeriesId>,
    field: &str,
    min: i64,
    max: i64,
) -> Result<DeleteOutcome> {
    delete_matching(db, series, PointFilter::new([], min, max).only_field(field))
}

/// `filter` (whose series are replaced by `series`) applied to every table.
fn delete_matching(
    db: &Database,
    series: BTreeSet<SeriesId>,
    filter: PointFilter,
) -> Result<DeleteOutcome> {
    if series.is_empty() || filter.min > filter.max {
        return Ok(DeleteOutcome::default());
    }
    db.flush()?;
    let filter = PointFilter {
        series: Some(series.clone()),
        ..filter
    };
    let mut out = rewrite_tables(db, &filter)?;
    out.series_forgotten = forget_empty_series(db, series)?;
    Ok(out)
}

/// Drop every table of `db` whose newest point is older than `cutoff`, in one catalog edit
/// (again if a compaction raced it), then forget the series left without data.
pub fn expire(db: &Database, cutoff: i64) -> Result<DeleteOutcome> {
    let versions = db.versions();
    for attempt in 1..=MAX_ATTEMPTS {
        let expired: Vec<TableRef> = {
            let v = versions.current();
            v.layers
                .iter()
                .flatten()
                .filter(|t| t.table.stats().max_ts < cutoff)
                .cloned()
                .collect()
        };
        if expired.is_empty() {
            return Ok(DeleteOutcome::default());
        }
        match versions.replace_tables(&expired, Vec::new()) {
            Ok(()) => {
                let series: BTreeSet<SeriesId> = expired
                    .iter()
                    .flat_map(|t| t.table.series().map(|(id, _)| id).collect::<Vec<_>>())
                    .collect();
                let points = expired.iter().map(|t| t.table.stats().points).sum();
                let dropped = expired.len();
                drop(expired);
                let forgotten = forget_empty_series(db, series)?;
                tracing::info!(
                    db = db.name(),
                    tables = dropped,
                    points,
                    series_forgotten = forgotten,
                    "retention dropped expired tables"
                );
                return Ok(DeleteOutcome {
                    tables_rewritten: 0,
                    tables_dropped: dropped,
                    points_removed: points,
                    series_forgotten: forgotten,
                });
            }
            Err(Error::VersionConflict { file }) => {
                tracing::debug!(
                    db = db.name(),
                    file,
                    attempt,
                    "retention raced a compaction; planning again"
                );
            }
            Err(e) => return Err(e),
        }
    }
    Err(Error::RetentionContended {
        attempts: MAX_ATTEMPTS,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::version::VersionSet;

    fn col(ts: &[i64]) -> Column {
        Column {
            timestamps: ts.to_vec(),
            values: Values::Integer(ts.to_vec()),
        }
    }

    #[test]
    fn filter_keeps_what_it_does_not_match() {
        let f = PointFilter::new([1, 3], 10, 20);
        assert!(f.matches(1, 10) && f.matches(3, 20));
        assert!(!f.matches(1, 21) && !f.matches(2, 15));
        let kept = f.retain(1, col(&[5, 10, 15, 20, 25]));
        assert_eq!(kept.timestamps, vec![5, 25]);
        assert_eq!(kept.values, Values::Integer(vec![5, 25]));
        assert_eq!(f.retain(2, col(&[15])).timestamps, vec![15]);
        let r = PointFilter::before(100);
        assert!(r.matches(42, 99) && !r.matches(42, 100));
    }

    /// A table with series 1 (ts 0..n) and series 2 (ts 0..n), fields v.
    fn table(vs: &VersionSet, n: i64) -> TableRef {
        let (file, path) = vs.new_table().unwrap();
        let mut w = TableWriter::create(&path).unwrap();
        let ts: Vec<i64> = (0..n).collect();
        w.add(1, "m,k=a", "v", &col(&ts)).unwrap();
        w.add(2, "m,k=b", "v", &col(&ts)).unwrap();
        w.set_provenance(Provenance {
            layer: 2,
            min_seq: 1,
            max_seq: 4,
        });
        w.finish().unwrap();
        vs.table_ref(TableHandle::new(file, 2, 1, 4, Table::open(&path).unwrap()))
    }

    /// Every table of `d` records the layer and seqno range the catalog has for it.
    fn assert_provenance_matches_catalog(d: &Database) {
        let v = d.versions().current();
        let tables: Vec<_> = v.layers.iter().flatten().collect();
        assert!(!tables.is_empty());
        for t in tables {
            let want = Provenance {
                layer: t.layer,
                min_seq: t.min_seq,
                max_seq: t.max_seq,
            };
            assert_eq!(
                t.table.provenance(),
                Some(want),
                "{}",
                t.table.path().display()
            );
        }
    }

    fn write(d: &Database, lines: &str) {
        let p = crate::lineproto::parse(lines, crate::lineproto::Precision::Nanosecond, 0, 1 << 16);
        assert!(p.errors.is_empty());
        let (_, rejected) = d.write_points(&p.points, 0).unwrap();
        assert!(rejected.is_empty());
    }

    /// A series whose tables are all rewritten away while newer points of it sit in the memtable
    /// (written after the delete's flush barrier) stays in the index, and its key is logged again
    /// so that a crash before the next flush still replays those points.
    #[test]
    fn series_still_in_the_memtable_survive_a_crash_after_its_tables_went() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::Config::new();
        let d = Database::open("t", dir.path(), &cfg).unwrap();
        write(&d, "m,k=x v=1 1\nm,k=x v=2 2\nm,k=y v=3 3\n");
        d.flush().unwrap();
        assert_provenance_matches_catalog(&d);
        let x = d
            .index()
            .measurement("m")
            .unwrap()
            .series_with_tag("k", "x");
        let x = *x.iter().next().unwrap();
        // Durable already: this record does not name the series again.
        write(&d, "m,k=x v=100 100\n");
        let out = rewrite_tables(&d, &PointFilter::new([x], 0, 50)).unwrap();
        assert_eq!((out.tables_rewritten, out.points_removed), (1, 2));
        assert_provenance_matches_catalog(&d);
        assert_eq!(
            forget_empty_series(&d, [x]).unwrap(),
            0,
            "still in the memtable"
        );
        assert!(d.index().get(x).is_some());

        // Crash: the actors never drain (their threads are leaked with the database).
        std::mem::forget(d);
        let d = Database::open("t", dir.path(), &cfg).unwrap();
        assert_eq!(d.index().get(x).unwrap().key, "m,k=x");
        let snap = crate::query::scan::Snapshot::new(d.versions().current());
        let c = snap.read(x, "v", i64::MIN, i64::MAX).unwrap().unwrap();
        assert_eq!(c.timestamps, vec![100]);
        // Nothing left of x once the last point goes: forgotten, also after a restart.
        let all = delete_points(&d, [x].into(), i64::MIN, i64::MAX).unwrap();
        assert_eq!(all.series_forgotten, 1);
        assert!(d.index().get(x).is_none());
        d.close().unwrap();
        drop(d);
        let d = Database::open("t", dir.path(), &cfg).unwrap();
        assert!(d.index().get(x).is_none());
        assert_eq!(d.index().series_count(), 1);
        d.close().unwrap();
    }

    #[test]
    fn rewrite_streams_blocks_and_drops_empty_results() {
        let dir = tempfile::tempdir().unwrap();
        let vs = VersionSet::open(dir.path()).unwrap();
        let n = 3 * crate::sstable::BLOCK_POINTS as i64 + 7;
        let t = table(&vs, n);
        let f = PointFilter::new([1], 100, n - 100);
        assert!(f.touches(&t.table));
        assert!(!PointFilter::new([1], n, n + 5).touches(&t.table));
        assert!(!PointFilter::new([9], 0, n).touches(&t.table));
        let out = rewrite_table(&vs, &t, &f).unwrap().unwrap();
        assert_eq!((out.layer, out.min_seq, out.max_seq), (2, 1, 4));
        assert_eq!(
            out.table.provenance(),
            Some(Provenance {
                layer: 2,
                min_seq: 1,
                max_seq: 4
            }),
            "the rewritten table keeps the original's layer and seqnos"
        );
        let c1 = out
            .table
            .read_range(1, "v", i64::MIN, i64::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(c1.len(), 200 - 1);
        assert_eq!(c1.timestamps[99..101], [99, n - 99]);
        let c2 = out
            .table
            .read_range(2, "v", i64::MIN, i64::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(c2.len() as i64, n);
        assert_eq!(out.table.stats().points as i64, n + 199);

        let all = PointFilter::new([1, 2], i64::MIN, i64::MAX);
        let files_before = std::fs::read_dir(dir.path().join("sst")).unwrap().count();
        assert!(rewrite_table(&vs, &t, &all).unwrap().is_none());
        let files_after = std::fs::read_dir(dir.path().join("sst")).unwrap().count();
        assert_eq!(files_before, files_after, "no empty file left behind");
    }
}
