//! Reading one snapshot for a SELECT: pruning of tables and blocks ([`Snapshot::prune`]),
//! merged reads that hand back whole blocks by their pre-aggregates when nothing newer
//! overrides them ([`Snapshot::read_segments`]), and the counters EXPLAIN ANALYZE reports.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::memtable::merge_columns;
use crate::query::exec::Snapshot;
use crate::query::limits::Charge;
use crate::sstable::BlockMeta;
use crate::types::{Column, SeriesId, Values};
use crate::version::TableRef;

/// What one query's reads did (EXPLAIN ANALYZE and tests of the shortcuts).
#[derive(Debug, Default)]
pub struct ScanStats {
    /// Blocks answered from their pre-aggregates, never decoded.
    pub blocks_from_aggregates: AtomicU64,
    /// Blocks read and decoded.
    pub blocks_decoded: AtomicU64,
    /// Points taken out of decoded blocks (within the time range).
    pub points_decoded: AtomicU64,
    /// Points read from memtables.
    pub memtable_points: AtomicU64,
}

fn bump(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

impl ScanStats {
    pub fn get(a: &AtomicU64) -> u64 {
        a.load(Ordering::Relaxed)
    }
}

/// The sources one measurement's SELECT reads after pruning.
#[derive(Default)]
pub struct Pruned {
    /// The chosen tables, oldest first (the order newer-wins merging needs).
    pub tables: Vec<TableRef>,
    /// Per layer that holds tables: (layer, tables chosen, tables in the layer).
    pub layers: Vec<(usize, usize, usize)>,
    /// Blocks of the selected (series, field) runs that overlap the time range.
    pub blocks: u64,
    /// Points of those blocks (an upper bound of the points read from tables).
    pub estimated_points: u64,
    /// Memtables holding any of the selected series.
    pub memtables: usize,
}

/// A piece of one (series, field) run, in time order.
#[derive(Debug)]
pub enum Segment {
    /// Merged points.
    Points(Column),
    /// A whole block no other source overrides: use its pre-aggregates.
    Block(BlockMeta),
}

/// The blocks of `blocks` (time-ordered, disjoint) overlapping `[min, max]`.
fn overlapping(blocks: &[BlockMeta], min: i64, max: i64) -> &[BlockMeta] {
    let start = blocks.partition_point(|b| b.max_ts < min);
    let rest = blocks.get(start..).unwrap_or_default();
    let n = rest.partition_point(|b| b.min_ts <= max);
    rest.get(..n).unwrap_or_default()
}

/// Bytes a decoded column of `points` values of this block's type takes (timestamps included).
pub fn block_bytes(b: &BlockMeta) -> u64 {
    let per = match b.field_type {
        crate::types::FieldType::Boolean => 9,
        crate::types::FieldType::String => 8 + 32,
        _ => 16,
    };
    u64::from(b.count) * per
}

/// Bytes a column holds (timestamps, values and string contents).
pub fn column_bytes(c: &Column) -> u64 {
    let vals = match &c.values {
        Values::Float(v) => v.len() * 8,
        Values::Integer(v) => v.len() * 8,
        Values::Unsigned(v) => v.len() * 8,
        Values::Boolean(v) => v.len(),
        Values::String(v) => v.iter().map(|s| s.len() + 24).sum(),
    };
    (c.timestamps.len() * 8 + vals) as u64
}

impl Snapshot {
    /// The tables a read of `ids` × `fields` within `[min, max]` needs: tables whose time range
    /// overlaps and whose series filter holds at least one of `ids`; with the blocks they would
    /// read and the memtables holding any of the series.
    pub fn prune(&self, ids: &[SeriesId], fields: &[String], min: i64, max: i64) -> Pruned {
        let min = min.max(self.min_time());
        let mut out = Pruned::default();
        let mut layers: std::collections::BTreeMap<usize, (usize, usize)> = Default::default();
        for t in self.all_tables() {
            let e = layers.entry(t.layer).or_default();
            e.1 += 1;
            let s = t.table.stats();
            if min > max || s.max_ts < min || s.min_ts > max {
                continue;
            }
            let held: Vec<SeriesId> = ids
                .iter()
                .copied()
                .filter(|id| t.table.may_contain(*id))
                .collect();
            if held.is_empty() {
                continue;
            }
            e.0 += 1;
            for id in held {
                for f in fields {
                    for b in overlapping(t.table.blocks(id, f), min, max) {
                        out.blocks += 1;
                        out.estimated_points += u64::from(b.count);
                    }
                }
            }
            out.tables.push(t.clone());
        }
        out.layers = layers.into_iter().map(|(l, (c, n))| (l, c, n)).collect();
        out.memtables = self
            .all_memtables()
            .iter()
            .filter(|m| ids.iter().any(|id| m.contains_series(*id)))
            .count();
        out
    }

    /// The lower bounds a newest-first read of `id` × `fields` within `[min, max]` from
    /// `tables` (a pruned subset of the snapshot's) widens its window through, newest first,
    /// each with the number of blocks the window `[bound, max]` decodes: of the starts of the
    /// blocks overlapping `[min, max]` (raised to `min`), the oldest of those decoding the same
    /// blocks, except that a window taking every block starts at `min` itself (so it also
    /// takes every memtable point).
    pub(crate) fn block_starts(
        &self,
        tables: &[TableRef],
        id: SeriesId,
        fields: &[String],
        min: i64,
        max: i64,
    ) -> Vec<(i64, usize)> {
        let min = min.max(self.min_time());
        let mut starts: Vec<i64> = Vec::new();
        let mut ends: Vec<i64> = Vec::new();
        if min > max {
            return Vec::new();
        }
        for t in tables {
            let s = t.table.stats();
            if s.max_ts < min || s.min_ts > max || !t.table.may_contain(id) {
                continue;
            }
            for f in fields {
                for b in overlapping(t.table.blocks(id, f), min, max) {
                    starts.push(b.min_ts.max(min));
                    ends.push(b.max_ts);
                }
            }
        }
        starts.sort_unstable_by(|a, b| b.cmp(a));
        starts.dedup();
        ends.sort_unstable();
        let total = ends.len();
        let mut out: Vec<(i64, usize)> = Vec::with_capacity(starts.len());
        for c in starts {
            let n = total - ends.partition_point(|&e| e < c);
            let c = if n == total { min } else { c };
            // Of the bounds decoding the same blocks, the oldest takes the most points.
            match out.last_mut() {
                Some(last) if last.1 == n => last.0 = c,
                _ => out.push((c, n)),
            }
            if n == total {
                break;
            }
        }
        out
    }

    /// The merged run of (series, field) within `[min, max]` read from `tables` (a pruned,
    /// oldest-first subset of the snapshot's) and the memtables, in time order. A block lying
    /// wholly inside the range for which `use_agg` holds, and such that no other source has a
    /// point of this (series, field) within its time range, comes back as
    /// [`Segment::Block`] without being decoded; everything else is decoded, merged (newest wins)
    /// and comes back as [`Segment::Points`] between those blocks.
    ///
    /// The returned [`Charge`] holds the query memory the merged points take; drop it with them.
    pub fn read_segments(
        &self,
        tables: &[TableRef],
        id: SeriesId,
        field: &str,
        min: i64,
        max: i64,
        use_agg: &dyn Fn(&BlockMeta) -> bool,
    ) -> Result<(Vec<Segment>, Charge)> {
        let min = min.max(self.min_time());
        let mut held = self.memory().charge(0)?;
        if min > max {
            return Ok((Vec::new(), held));
        }
        let mut runs: Vec<&[BlockMeta]> = Vec::new();
        for t in tables {
            let s = t.table.stats();
            if s.max_ts < min || s.min_ts > max || !t.table.may_contain(id) {
                runs.push(&[]);
                continue;
            }
            runs.push(overlapping(t.table.blocks(id, field), min, max));
        }
        let mut mem: Vec<Column> = Vec::new();
        for m in self.all_memtables() {
            if let Some(c) = m.read(id, field, min, max) {
                held.add(column_bytes(&c))?;
                bump(&self.stats.memtable_points, c.len() as u64);
                mem.push(c);
            }
        }
        let overridden = |ti: usize, b: &BlockMeta| -> bool {
            runs.iter()
                .enumerate()
                .any(|(tj, r)| tj != ti && !overlapping(r, b.min_ts, b.max_ts).is_empty())
                || mem.iter().any(|c| {
                    let i = c.timestamps.partition_point(|&t| t < b.min_ts);
                    c.timestamps.get(i).is_some_and(|&t| t <= b.max_ts)
                })
        };
        let mut whole: Vec<BlockMeta> = Vec::new();
        let mut srcs: Vec<Column> = Vec::new();
        for (ti, (t, run)) in tables.iter().zip(&runs).enumerate() {
            let mut col: Option<Column> = None;
            for b in run.iter() {
                if b.min_ts >= min && b.max_ts <= max && use_agg(b) && !overridden(ti, b) {
                    whole.push(b.clone());
                    continue;
                }
                // Charged before the block is read and decoded.
                held.add(block_bytes(b))?;
                let c = t.table.read_block(b)?;
                bump(&self.stats.blocks_decoded, 1);
                let lo = c.timestamps.partition_point(|&x| x < min);
                let hi = c.timestamps.partition_point(|&x| x <= max);
                let c = slice(c, lo, hi).ok_or_else(|| Error::Corrupt {
                    path: t.table.path().to_path_buf(),
                    reason: format!("block at offset {} has mixed value types", b.offset),
                })?;
                bump(&self.stats.points_decoded, c.len() as u64);
                // Blocks of one run are disjoint and in time order: this appends.
                col = merge_columns(col.into_iter().chain([c]).collect());
            }
            srcs.extend(col);
        }
        srcs.extend(mem);
        let merged = merge_columns(srcs);
        // What is held from here on is the merged column only.
        held.set(merged.as_ref().map_or(0, column_bytes))?;
        let points = merged.as_ref().map_or(0, Column::len)
            + whole.iter().map(|b| b.count as usize).sum::<usize>();
        // LIMITS CALL SITE 1 (max_select_points): every point read goes through here.
        self.limits.add_points(points)?;
        bump(&self.stats.blocks_from_aggregates, whole.len() as u64);
        let mut out = Vec::new();
        let Some(mut rest) = merged else {
            out.extend(whole.into_iter().map(Segment::Block));
            return Ok((out, held));
        };
        whole.sort_by_key(|b| b.min_ts);
        for b in whole {
            let cut = rest.timestamps.partition_point(|&t| t < b.min_ts);
            if cut > 0 {
                let tail = split_off(&mut rest, cut);
                out.push(Segment::Points(std::mem::replace(&mut rest, tail)));
            }
            out.push(Segment::Block(b));
        }
        if !rest.is_empty() {
            out.push(Segment::Points(rest));
        }
        Ok((out, held))
    }

    /// The merged points of (series, field) within `[min, max]` from `tables` and the
    /// memtables (no pre-aggregates).
    pub fn read_in(
        &self,
        tables: &[TableRef],
        id: SeriesId,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<(Option<Column>, Charge)> {
        let (segs, held) = self.read_segments(tables, id, field, min, max, &|_| false)?;
        let col = segs.into_iter().find_map(|s| match s {
            Segment::Points(c) => Some(c),
            Segment::Block(_) => None,
        });
        Ok((col, held))
    }
}

/// Points `lo..hi` of `c`; `None` if its values do not match its timestamps.
fn slice(mut c: Column, lo: usize, hi: usize) -> Option<Column> {
    if lo == 0 && hi == c.len() {
        return Some(c);
    }
    if lo > hi || hi > c.len() || c.values.len() != c.timestamps.len() {
        return None;
    }
    c.timestamps.truncate(hi);
    c.timestamps.drain(..lo);
    match &mut c.values {
        Values::Float(v) => drop(v.drain(hi..)),
        Values::Integer(v) => drop(v.drain(hi..)),
        Values::Unsigned(v) => drop(v.drain(hi..)),
        Values::Boolean(v) => drop(v.drain(hi..)),
        Values::String(v) => drop(v.drain(hi..)),
    }
    match &mut c.values {
        Values::Float(v) => drop(v.drain(..lo)),
        Values::Integer(v) => drop(v.drain(..lo)),
        Values::Unsigned(v) => drop(v.drain(..lo)),
        Values::Boolean(v) => drop(v.drain(..lo)),
        Values::String(v) => drop(v.drain(..lo)),
    }
    Some(c)
}

/// Split `c` at `at`: `c` keeps `..at`, the rest is returned.
fn split_off(c: &mut Column, at: usize) -> Column {
    let timestamps = c.timestamps.split_off(at);
    let values = match &mut c.values {
        Values::Float(v) => Values::Float(v.split_off(at)),
        Values::Integer(v) => Values::Integer(v.split_off(at)),
        Values::Unsigned(v) => Values::Unsigned(v.split_off(at)),
        Values::Boolean(v) => Values::Boolean(v.split_off(at)),
        Values::String(v) => Values::String(v.split_off(at)),
    };
    Column { timestamps, values }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Database;
    use crate::query::exec::{execute_on, snapshot, Explain};
    use crate::query::influxql::ast::Statement;
    use crate::query::limits::{QueryMemory, SelectLimits};
    use crate::query::{SeriesResult, Value};
    use proptest::prelude::*;
    use std::sync::Arc;
    use strata_actors::CancelToken;

    fn write(d: &Database, lines: &str) {
        let p = crate::lineproto::parse(lines, crate::lineproto::Precision::Nanosecond, 0, 1 << 16);
        assert!(p.errors.is_empty(), "{:?}", p.errors.first());
        let (_, rejected) = d.write_points(&p.points, 0).unwrap();
        assert!(rejected.is_empty());
    }

    /// Run `q`; with `preaggregates` false no block is answered from its aggregates.
    fn select(d: &Database, q: &str, preaggregates: bool) -> (Vec<SeriesResult>, Arc<ScanStats>) {
        select_with(d, q, preaggregates, true)
    }

    /// [`select`], with `early_stop` false reading every block a raw `ORDER BY time DESC
    /// LIMIT n` covers.
    fn select_with(
        d: &Database,
        q: &str,
        preaggregates: bool,
        early_stop: bool,
    ) -> (Vec<SeriesResult>, Arc<ScanStats>) {
        let st = crate::query::influxql::parse(q).unwrap();
        let Some(Statement::Select(s)) = st.first() else {
            panic!("not a select: {q}");
        };
        let plan = crate::query::compile::compile_select(d, s, 1_000_000 * S).unwrap();
        let mut snap = snapshot(
            d,
            &plan,
            &SelectLimits::unlimited(),
            &QueryMemory::default(),
        );
        snap.preaggregates = preaggregates;
        snap.early_stop = early_stop;
        let out = execute_on(
            d,
            &snap,
            &plan,
            &CancelToken::new(),
            &mut Explain::default(),
        )
        .unwrap_or_else(|e| panic!("{q}: {e}"));
        (out, snap.stats.clone())
    }

    fn close(a: &Value, b: &Value) -> bool {
        match (a, b) {
            // Block sums are added block by block: float sums may differ in the last bits.
            (Value::Float(x), Value::Float(y)) => {
                x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
            }
            _ => a == b,
        }
    }

    fn same(q: &str, a: &[SeriesResult], b: &[SeriesResult]) {
        assert_eq!(a.len(), b.len(), "{q}");
        for (x, y) in a.iter().zip(b) {
            assert_eq!(
                (&x.name, &x.tags, &x.columns),
                (&y.name, &y.tags, &y.columns),
                "{q}"
            );
            assert_eq!(x.values.len(), y.values.len(), "{q}");
            for (r, s) in x.values.iter().zip(&y.values) {
                assert!(
                    r.len() == s.len() && r.iter().zip(s).all(|(u, v)| close(u, v)),
                    "{q}: {r:?} != {s:?}"
                );
            }
        }
    }

    const S: i64 = 1_000_000_000;

    /// Lines for hosts a and b, fields f (float) and i (integer), one point per second over
    /// `[from, to)` seconds, values from `seed`.
    fn lines(from: i64, to: i64, seed: u64) -> String {
        let mut x = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as i64
        };
        let mut out = String::new();
        for t in from..to {
            for h in ["a", "b"] {
                let f = (next() % 20_000 - 10_000) as f64 / 100.0;
                let i = next() % 1_000_000 - 500_000;
                out.push_str(&format!("m,host={h} f={f},i={i}i {}\n", t * S));
            }
        }
        out
    }

    const CALLS: &[&str] = &[
        "count(f)",
        "sum(f)",
        "mean(f)",
        "min(f)",
        "max(f)",
        "first(f)",
        "last(f)",
        "spread(f)",
        "count(i)",
        "sum(i)",
        "mean(i)",
        "min(i)",
        "max(i)",
        "first(i)",
        "last(i)",
        "spread(i), sum(f)",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

        /// Random data in three overlapping tables (newer ones overwrite ranges of older ones)
        /// and a memtable: every aggregate the shortcut serves gives the same answer with and
        /// without it, over random time ranges and GROUP BY intervals.
        #[test]
        fn preaggregates_give_the_same_answers(
            seed in any::<u64>(),
            over in 0i64..2500,
            over_len in 1i64..600,
            mem in 0i64..2600,
            mem_len in 0i64..300,
            lo in 0i64..1500,
            len in 1i64..3000,
            interval in prop::sample::select(vec![0i64, 7, 100, 1000, 3000]),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
            write(&d, &lines(0, 2500, seed));
            d.flush().unwrap();
            write(&d, &lines(over, over + over_len, seed ^ 1));
            d.flush().unwrap();
            write(&d, &lines(mem, mem + mem_len, seed ^ 2));
            for call in CALLS {
                let group = if interval > 0 { format!(" GROUP BY time({interval}s)") } else { String::new() };
                for (q, tags) in [
                    (format!("SELECT {call} FROM m{group}"), ""),
                    (
                        format!(
                            "SELECT {call} FROM m WHERE time >= {} AND time < {}{group}",
                            lo * S,
                            (lo + len) * S
                        ),
                        "",
                    ),
                    (format!("SELECT {call} FROM m{group}, host"), "host"),
                ] {
                    let q = if tags.is_empty() || interval > 0 { q } else { q.replace(", host", " GROUP BY host") };
                    let (with, st) = select(&d, &q, true);
                    let (without, st0) = select(&d, &q, false);
                    same(&q, &with, &without);
                    prop_assert_eq!(ScanStats::get(&st0.blocks_from_aggregates), 0);
                    // Every block is either answered from its aggregates or decoded.
                    prop_assert!(
                        ScanStats::get(&st.blocks_from_aggregates) + ScanStats::get(&st.blocks_decoded)
                            <= ScanStats::get(&st0.blocks_decoded)
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

        /// Random data in three overlapping tables and a memtable (newer sources overwrite
        /// points of older ones, some points carry one field only): raw `ORDER BY time DESC
        /// LIMIT n` answers are identical with and without reading only the newest blocks, and
        /// the widening tries decode fewer than three times the blocks of one whole read.
        #[test]
        fn newest_first_reads_give_the_same_answers(
            seed in any::<u64>(),
            over in 0i64..2500,
            over_len in 1i64..1500,
            mem in 0i64..2600,
            mem_len in 0i64..300,
            sparse in prop::collection::vec((0i64..2700, any::<bool>(), any::<bool>()), 0..20),
            lo in 0i64..2600,
            len in 1i64..3000,
            limit in prop::sample::select(vec![1usize, 2, 5, 999, 1001, 2500]),
            offset in prop::sample::select(vec![0usize, 1, 998]),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
            write(&d, &lines(0, 2500, seed));
            d.flush().unwrap();
            write(&d, &lines(over, over + over_len, seed ^ 1));
            d.flush().unwrap();
            write(&d, &lines(over / 2, over / 2 + 700, seed ^ 3));
            d.flush().unwrap();
            write(&d, &lines(mem, mem + mem_len, seed ^ 2));
            let mut one_field = String::new();
            for (t, host_a, float) in &sparse {
                let h = if *host_a { "a" } else { "b" };
                let f = if *float { "f=0.5" } else { "i=7i" };
                one_field.push_str(&format!("m,host={h} {f} {}\n", t * S));
            }
            if !one_field.is_empty() {
                write(&d, &one_field);
            }
            let range = format!("WHERE time >= {} AND time < {}", lo * S, (lo + len) * S);
            for q in [
                "SELECT * FROM m".to_string(),
                "SELECT * FROM m GROUP BY host".to_string(),
                "SELECT f, host FROM m GROUP BY host".to_string(),
                "SELECT i FROM m".to_string(),
                "SELECT f FROM m WHERE i > 0 GROUP BY host".to_string(),
                "SELECT f FROM m WHERE host = 'a' OR f > 0".to_string(),
                format!("SELECT * FROM m {range} GROUP BY host"),
                format!("SELECT f, i FROM m {range} AND i < 0"),
            ] {
                let q = format!("{q} ORDER BY time DESC LIMIT {limit} OFFSET {offset}");
                let (with, st) = select_with(&d, &q, true, true);
                let (without, st0) = select_with(&d, &q, true, false);
                prop_assert_eq!(format!("{with:?}"), format!("{without:?}"), "{}", q);
                prop_assert!(
                    ScanStats::get(&st.blocks_decoded) < 3 * ScanStats::get(&st0.blocks_decoded).max(1),
                    "{}: {} vs {}", q, ScanStats::get(&st.blocks_decoded), ScanStats::get(&st0.blocks_decoded)
                );
            }
        }
    }

    /// `ORDER BY time DESC LIMIT n` reads only the newest blocks of each series: with three
    /// blocks per (series, field), the last point of each host decodes one block per field.
    #[test]
    fn lastpoint_decodes_only_the_newest_blocks() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        write(&d, &lines(0, 3000, 7));
        d.flush().unwrap();
        let q = "SELECT * FROM m GROUP BY host ORDER BY time DESC LIMIT 1";
        let (with, st) = select_with(&d, q, true, true);
        let (without, st0) = select_with(&d, q, true, false);
        assert_eq!(format!("{with:?}"), format!("{without:?}"));
        assert_eq!(with.len(), 2);
        assert_eq!(with[0].values.len(), 1);
        assert_eq!(with[0].values[0][0], Value::Time(2999 * S));
        // 2 series × 2 fields × 3 blocks against the newest block of each.
        assert_eq!(ScanStats::get(&st0.blocks_decoded), 12);
        assert_eq!(ScanStats::get(&st.blocks_decoded), 4);
        // A newer memtable point wins over the table's and is what comes back.
        write(&d, "m,host=a f=1e6 2999000000000\n");
        let (with, st) = select_with(&d, q, true, true);
        let (without, _) = select_with(&d, q, true, false);
        assert_eq!(format!("{with:?}"), format!("{without:?}"));
        assert_eq!(ScanStats::get(&st.blocks_decoded), 4);
        // Needing more rows than the newest block holds widens the window block by block.
        let q = "SELECT f FROM m WHERE host = 'b' ORDER BY time DESC LIMIT 1500";
        let (with, st) = select_with(&d, q, true, true);
        let (without, st0) = select_with(&d, q, true, false);
        assert_eq!(format!("{with:?}"), format!("{without:?}"));
        assert_eq!(with[0].values.len(), 1500);
        assert_eq!(ScanStats::get(&st0.blocks_decoded), 3);
        assert!(ScanStats::get(&st.blocks_decoded) < 1 + 3);
    }

    /// The shortcut is really taken: a GROUP BY time aligned with the blocks decodes nothing,
    /// a field condition decodes every block, and a newer table overriding part of one block
    /// makes exactly the blocks it overlaps be decoded.
    #[test]
    fn aligned_group_by_is_answered_without_decoding() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        // 3000 points per (series, field): blocks of 1000 at [0,1000) s, [1000,2000) s, …
        write(&d, &lines(0, 3000, 7));
        d.flush().unwrap();
        let q = "SELECT count(f), sum(i), max(f) FROM m GROUP BY time(1000s)";
        let (with, st) = select(&d, q, true);
        let (without, st0) = select(&d, q, false);
        same(q, &with, &without);
        // 2 series × 2 fields × 3 blocks.
        assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 12);
        assert_eq!(ScanStats::get(&st.blocks_decoded), 0);
        assert_eq!(ScanStats::get(&st.points_decoded), 0);
        assert_eq!(ScanStats::get(&st0.blocks_decoded), 12);
        // Blocks straddling buckets are decoded.
        let (_, st) = select(&d, "SELECT count(f) FROM m GROUP BY time(500s)", true);
        assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 0);
        assert_eq!(ScanStats::get(&st.blocks_decoded), 6);
        // A field condition forces decoding.
        let (_, st) = select(
            &d,
            "SELECT count(f) FROM m WHERE i > 0 GROUP BY time(1000s)",
            true,
        );
        assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 0);
        assert!(ScanStats::get(&st.blocks_decoded) >= 6);
        // A newer write inside the second block of host=a: that block is decoded (newer wins),
        // the others still come from their aggregates.
        write(&d, "m,host=a f=1e6 1500000000000\n");
        let q = "SELECT max(f) FROM m GROUP BY time(1000s), host";
        let (with, st) = select(&d, q, true);
        let (without, _) = select(&d, q, false);
        same(q, &with, &without);
        assert_eq!(ScanStats::get(&st.blocks_decoded), 1);
        assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 5);
        assert_eq!(with[0].values[1][1], Value::Float(1e6));
        // Outside every block's range nothing is decoded at all.
        let (_, st) = select(&d, "SELECT f FROM m WHERE time > 1000000s", true);
        assert_eq!(ScanStats::get(&st.blocks_decoded), 0);
    }

    /// Pruning: a narrow time range keeps only the tables it overlaps; a tag filter keeps only
    /// the tables holding the selected series.
    #[test]
    fn prune_by_time_and_series() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        write(&d, "m,host=a f=1 1000000000\n");
        d.flush().unwrap();
        write(&d, "m,host=b f=1 2000000000\n");
        d.flush().unwrap();
        write(&d, "m,host=a f=1 3000000000\n");
        d.flush().unwrap();
        let snap = Snapshot::new(d.versions().current());
        let a = d
            .index()
            .measurement("m")
            .unwrap()
            .series_with_tag("host", "a");
        let a: Vec<SeriesId> = a.into_iter().collect();
        let all: Vec<SeriesId> = d
            .index()
            .measurement("m")
            .unwrap()
            .series_ids()
            .into_iter()
            .collect();
        let f = vec!["f".to_string()];
        let p = snap.prune(&all, &f, i64::MIN, i64::MAX);
        assert_eq!((p.tables.len(), p.blocks, p.estimated_points), (3, 3, 3));
        let p = snap.prune(&a, &f, i64::MIN, i64::MAX);
        assert_eq!((p.tables.len(), p.blocks), (2, 2));
        let p = snap.prune(&all, &f, 2_500_000_000, i64::MAX);
        assert_eq!((p.tables.len(), p.blocks), (1, 1));
        assert_eq!(p.layers.iter().map(|l| l.2).sum::<usize>(), 3);
        assert_eq!(p.memtables, 0);
    }
}
