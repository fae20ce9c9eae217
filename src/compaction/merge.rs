//! The streaming merge: a k-way merge of the inputs' (series, field) runs, restricted to one time
//! window, reading one block at a time per input, so memory is bounded by one decoded block per
//! input plus one output block, whatever the sizes of the files.
//!
//! Duplicates are resolved newest-wins: for equal (series, field, timestamp) the input that comes
//! later in the input list wins (callers list inputs oldest first: deeper layer first, then by
//! `max_seq`). A [`PointFilter`] may drop points after that resolution (deletes, retention), so
//! a dropped point never lets an older version of it resurface.

use std::collections::BTreeSet;

use crate::error::{Error, Result};
use crate::sstable::{BlockMeta, Table, TableWriter, BLOCK_POINTS};
use crate::types::{Column, FieldType, SeriesId};

use super::Window;

/// Decides, during a merge, which points survive (deletes and retention plug in here).
pub trait PointFilter: Sync {
    /// Keep the point of `series` at `ts`?
    fn keep(&self, series: SeriesId, ts: i64) -> bool;
}

impl<F: Fn(SeriesId, i64) -> bool + Sync> PointFilter for F {
    fn keep(&self, series: SeriesId, ts: i64) -> bool {
        self(series, ts)
    }
}

/// Counters of one or more merges.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct MergeStats {
    /// Bytes of blocks read from the inputs.
    pub bytes_read: u64,
    /// Points decoded from the inputs (inside the window).
    pub points_read: u64,
    /// Points written.
    pub points_written: u64,
    /// Points dropped by the filter.
    pub points_dropped: u64,
}

/// One input run of a (series, field): its blocks overlapping the window, read one at a time.
struct Cursor<'a> {
    table: &'a Table,
    blocks: &'a [BlockMeta],
    next_block: usize,
    col: Option<Column>,
    pos: usize,
    lo: i64,
    hi: i64,
}

impl<'a> Cursor<'a> {
    fn new(table: &'a Table, all: &'a [BlockMeta], lo: i64, hi: i64) -> Cursor<'a> {
        let start = all.partition_point(|b| b.max_ts < lo);
        let end = start + all[start..].partition_point(|b| b.min_ts < hi);
        Cursor {
            table,
            blocks: &all[start..end],
            next_block: 0,
            col: None,
            pos: 0,
            lo,
            hi,
        }
    }

    /// The next timestamp inside the window, loading the next block when the current one is done.
    fn peek(&mut self, stats: &mut MergeStats) -> Result<Option<i64>> {
        loop {
            if let Some(c) = &self.col {
                if let Some(&t) = c.timestamps.get(self.pos) {
                    if t >= self.hi {
                        self.col = None;
                        self.next_block = self.blocks.len();
                        return Ok(None);
                    }
                    return Ok(Some(t));
                }
            }
            let Some(b) = self.blocks.get(self.next_block) else {
                self.col = None;
                return Ok(None);
            };
            self.next_block += 1;
            let col = self.table.read_block(b)?;
            stats.bytes_read += u64::from(b.len);
            self.pos = col.timestamps.partition_point(|&t| t < self.lo);
            stats.points_read += col.timestamps[self.pos..]
                .iter()
                .take_while(|&&t| t < self.hi)
                .count() as u64;
            self.col = Some(col);
        }
    }
}

/// Merge every point of `inputs` (oldest first) with `lo <= ts < hi` into one new table made by
/// `create` (called only if at least one point survives). Returns the unfinished writer, if any:
/// the caller finishes it.
pub fn merge_window(
    inputs: &[&Table],
    lo: i64,
    hi: i64,
    filter: Option<&dyn PointFilter>,
    create: &mut dyn FnMut() -> Result<TableWriter>,
    stats: &mut MergeStats,
) -> Result<Option<TableWriter>> {
    merge_window_until(inputs, lo, hi, filter, create, stats, &|| false)
}

/// [`merge_window`] that asks `stop` before each (series, field) run and, once it answers
/// true, gives up with [`Error::CompactionStopped`] (the caller removes the unfinished output,
/// which is logged pending): how a compaction is abandoned at shutdown.
pub fn merge_window_until(
    inputs: &[&Table],
    lo: i64,
    hi: i64,
    filter: Option<&dyn PointFilter>,
    create: &mut dyn FnMut() -> Result<TableWriter>,
    stats: &mut MergeStats,
    stop: &dyn Fn() -> bool,
) -> Result<Option<TableWriter>> {
    // The (series, field) runs with blocks in the window, in the order the writer needs.
    let mut keys: BTreeSet<(SeriesId, &str)> = BTreeSet::new();
    for t in inputs {
        let s = t.stats();
        if s.max_ts < lo || s.min_ts >= hi {
            continue;
        }
        for (id, _) in t.series() {
            for (field, _) in t.fields(id) {
                let blocks = t.blocks(id, field);
                let i = blocks.partition_point(|b| b.max_ts < lo);
                if blocks.get(i).is_some_and(|b| b.min_ts < hi) {
                    keys.insert((id, field));
                }
            }
        }
    }
    let mut out: Option<TableWriter> = None;
    for (series, field) in keys {
        if stop() {
            return Err(Error::CompactionStopped);
        }
        // The newest input holding the run decides its type (a field re-created with another
        // type after a drop); older runs of another type are superseded.
        let Some(field_type) = inputs.iter().rev().find_map(|t| {
            t.fields(series)
                .find(|(f, _)| *f == field)
                .map(|(_, ft)| ft)
        }) else {
            continue;
        };
        let Some(key) = inputs.iter().rev().find_map(|t| t.series_key(series)) else {
            continue;
        };
        let mut cursors: Vec<Cursor<'_>> = inputs
            .iter()
            .filter(|t| {
                t.fields(series)
                    .any(|(f, ft)| f == field && ft == field_type)
            })
            .map(|t| Cursor::new(t, t.blocks(series, field), lo, hi))
            .collect();
        merge_run(
            series,
            key,
            field,
            field_type,
            &mut cursors,
            filter,
            create,
            &mut out,
            stats,
        )?;
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn merge_run(
    series: SeriesId,
    key: &str,
    field: &str,
    field_type: FieldType,
    cursors: &mut [Cursor<'_>],
    filter: Option<&dyn PointFilter>,
    create: &mut dyn FnMut() -> Result<TableWriter>,
    out: &mut Option<TableWriter>,
    stats: &mut MergeStats,
) -> Result<()> {
    let mut chunk = Column::new(field_type);
    let mut heads: Vec<Option<i64>> = Vec::with_capacity(cursors.len());
    loop {
        heads.clear();
        for c in cursors.iter_mut() {
            heads.push(c.peek(stats)?);
        }
        let Some(ts) = heads.iter().flatten().min().copied() else {
            break;
        };
        // The newest input (last in the list) with this timestamp wins; the others skip it.
        let mut winner = None;
        for (i, h) in heads.iter().enumerate() {
            if *h == Some(ts) {
                winner = Some(i);
            }
        }
        for (i, c) in cursors.iter_mut().enumerate() {
            if heads[i] != Some(ts) {
                continue;
            }
            if Some(i) == winner {
                let keep = filter.is_none_or(|f| f.keep(series, ts));
                if keep {
                    if let Some(col) = &c.col {
                        chunk.timestamps.push(ts);
                        chunk.values.push(col.values.get(c.pos));
                    }
                } else {
                    stats.points_dropped += 1;
                }
            }
            c.pos += 1;
        }
        if chunk.len() >= BLOCK_POINTS {
            flush_chunk(series, key, field, &mut chunk, create, out, stats)?;
        }
    }
    flush_chunk(series, key, field, &mut chunk, create, out, stats)
}

fn flush_chunk(
    series: SeriesId,
    key: &str,
    field: &str,
    chunk: &mut Column,
    create: &mut dyn FnMut() -> Result<TableWriter>,
    out: &mut Option<TableWriter>,
    stats: &mut MergeStats,
) -> Result<()> {
    if chunk.is_empty() {
        return Ok(());
    }
    let w = match out {
        Some(w) => w,
        None => out.insert(create()?),
    };
    w.append(series, key, field, chunk)?;
    stats.points_written += chunk.len() as u64;
    chunk.timestamps.clear();
    chunk.values = crate::types::Values::empty(chunk.values.field_type());
    Ok(())
}

/// Most windows one block may span before its timestamps are read to find the windows it really
/// has points in (a sparse block spanning years would otherwise name thousands of empty ones).
const MAX_WINDOWS_PER_BLOCK: usize = 64;

/// Add to `into` the start of every `window` holding points of `table`, from block metadata
/// where a block spans few windows and from the block's timestamps where it spans many (one
/// block in memory at a time).
pub fn windows_of(
    table: &Table,
    window: Window,
    into: &mut BTreeSet<i64>,
    stats: &mut MergeStats,
) -> Result<()> {
    let s = table.stats();
    if s.points == 0 {
        return Ok(());
    }
    if window.bounds(s.min_ts).0 == window.bounds(s.max_ts).0 {
        into.insert(window.bounds(s.min_ts).0);
        return Ok(());
    }
    for (id, _) in table.series() {
        for (field, _) in table.fields(id) {
            for b in table.blocks(id, field) {
                let first = window.bounds(b.min_ts).0;
                let last = window.bounds(b.max_ts).0;
                let mut starts = vec![first];
                let mut w = first;
                while w < last && starts.len() <= MAX_WINDOWS_PER_BLOCK {
                    w = window.next_start(w);
                    starts.push(w);
                }
                if w >= last {
                    into.extend(starts);
                    continue;
                }
                let col = table.read_block(b)?;
                stats.bytes_read += u64::from(b.len);
                let mut prev = None;
                for &t in &col.timestamps {
                    let start = window.bounds(t).0;
                    if prev != Some(start) {
                        into.insert(start);
                        prev = Some(start);
                    }
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Values;

    type Run<'a> = (SeriesId, &'a str, Vec<(i64, f64)>);

    const PROVENANCE: crate::sstable::Provenance = crate::sstable::Provenance {
        layer: 1,
        min_seq: 1,
        max_seq: 1,
    };

    fn table(dir: &std::path::Path, name: &str, runs: &[Run<'_>]) -> Table {
        let path = dir.join(name);
        let mut w = TableWriter::create(&path).unwrap();
        for (id, field, pts) in runs {
            let col = Column {
                timestamps: pts.iter().map(|p| p.0).collect(),
                values: Values::Float(pts.iter().map(|p| p.1).collect()),
            };
            w.add(*id, &format!("m,s={id}"), field, &col).unwrap();
        }
        w.set_provenance(PROVENANCE);
        w.finish().unwrap();
        Table::open(&path).unwrap()
    }

    fn all(t: &Table) -> Vec<(SeriesId, String, i64, f64)> {
        let mut v = Vec::new();
        for item in t.iter() {
            let (id, _, f, c) = item.unwrap();
            let Values::Float(vals) = c.values else {
                panic!()
            };
            for (ts, x) in c.timestamps.iter().zip(vals) {
                v.push((id, f.to_string(), *ts, x));
            }
        }
        v
    }

    fn run(
        dir: &std::path::Path,
        inputs: &[&Table],
        lo: i64,
        hi: i64,
        filter: Option<&dyn PointFilter>,
    ) -> (Option<Table>, MergeStats) {
        let path = dir.join(format!("out-{lo}-{hi}"));
        let mut stats = MergeStats::default();
        let w = merge_window(
            inputs,
            lo,
            hi,
            filter,
            &mut || TableWriter::create(&path),
            &mut stats,
        )
        .unwrap();
        let t = w.map(|mut w| {
            w.set_provenance(PROVENANCE);
            w.finish().unwrap();
            Table::open(&path).unwrap()
        });
        (t, stats)
    }

    #[test]
    fn newest_input_wins_duplicates_and_runs_interleave_in_order() {
        let d = tempfile::tempdir().unwrap();
        let old = table(
            d.path(),
            "old",
            &[
                (1, "a", vec![(1, 1.0), (2, 2.0), (5, 5.0)]),
                (2, "a", vec![(3, 3.0)]),
            ],
        );
        let new = table(
            d.path(),
            "new",
            &[
                (1, "a", vec![(2, 20.0), (3, 30.0)]),
                (1, "b", vec![(1, 9.0)]),
            ],
        );
        let (t, stats) = run(d.path(), &[&old, &new], i64::MIN, i64::MAX, None);
        assert_eq!(
            all(&t.unwrap()),
            vec![
                (1, "a".into(), 1, 1.0),
                (1, "a".into(), 2, 20.0),
                (1, "a".into(), 3, 30.0),
                (1, "a".into(), 5, 5.0),
                (1, "b".into(), 1, 9.0),
                (2, "a".into(), 3, 3.0),
            ]
        );
        assert_eq!((stats.points_read, stats.points_written), (7, 6));
    }

    #[test]
    fn window_bounds_are_respected_and_long_runs_stream_block_by_block() {
        let d = tempfile::tempdir().unwrap();
        let n = 3 * BLOCK_POINTS as i64 + 17;
        let a = table(
            d.path(),
            "a",
            &[(1, "v", (0..n).map(|i| (i * 2, i as f64)).collect())],
        );
        let b = table(
            d.path(),
            "b",
            &[(1, "v", (0..n).map(|i| (i * 2 + 1, -(i as f64))).collect())],
        );
        let (t, stats) = run(d.path(), &[&a, &b], 100, 5000, None);
        let t = t.unwrap();
        let pts = all(&t);
        assert_eq!(pts.len(), 4900);
        assert!(pts.windows(2).all(|w| w[0].2 < w[1].2));
        assert_eq!((pts[0].2, pts.last().unwrap().2), (100, 4999));
        // Blocks written full, and only the blocks overlapping the window were read.
        assert_eq!(t.stats().blocks, 5);
        assert!(
            a.blocks_read() + b.blocks_read() <= 6,
            "read {} blocks",
            a.blocks_read() + b.blocks_read()
        );
        assert!(stats.bytes_read > 0);
        let (none, _) = run(d.path(), &[&a, &b], 1 << 40, 1 << 41, None);
        assert!(none.is_none(), "no file for a window without points");
    }

    #[test]
    fn filter_drops_points_after_duplicates_are_resolved() {
        let d = tempfile::tempdir().unwrap();
        let old = table(
            d.path(),
            "old",
            &[(1, "v", vec![(1, 1.0), (2, 2.0)]), (2, "v", vec![(1, 7.0)])],
        );
        let new = table(d.path(), "new", &[(1, "v", vec![(2, 20.0), (3, 30.0)])]);
        // Drop series 1 at ts 2: neither the new nor the old value may survive.
        let f = |s: SeriesId, ts: i64| !(s == 1 && ts == 2);
        let (t, stats) = run(d.path(), &[&old, &new], i64::MIN, i64::MAX, Some(&f));
        assert_eq!(
            all(&t.unwrap()),
            vec![
                (1, "v".into(), 1, 1.0),
                (1, "v".into(), 3, 30.0),
                (2, "v".into(), 1, 7.0)
            ]
        );
        assert_eq!(stats.points_dropped, 1);
        let none = |_: SeriesId, _: i64| false;
        assert!(run(d.path(), &[&old], 0, 10, Some(&none)).0.is_none());
    }

    #[test]
    fn windows_come_from_points_not_from_sparse_block_ranges() {
        let d = tempfile::tempdir().unwrap();
        let year = 365 * 24 * 3600 * 1_000_000_000i64;
        let t = table(
            d.path(),
            "t",
            &[
                (1, "v", vec![(0, 1.0), (10 * year, 2.0)]),
                (2, "v", vec![(5, 1.0)]),
            ],
        );
        let mut set = BTreeSet::new();
        windows_of(&t, Window::MINUTES_30, &mut set, &mut MergeStats::default()).unwrap();
        assert_eq!(
            set.into_iter().collect::<Vec<_>>(),
            vec![0, 10 * year - (10 * year) % (1_800_000_000_000)]
        );
    }
}
