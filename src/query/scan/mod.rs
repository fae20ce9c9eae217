//! Reading one snapshot for a SELECT: pruning of tables and blocks ([`Snapshot::prune`]),
//! merged reads that hand back whole blocks by their pre-aggregates when nothing newer
//! overrides them ([`Snapshot::read_segments`]), and the counters EXPLAIN ANALYZE reports.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::{Error, Result};
use crate::memtable::merge_columns;
use crate::query::limits::Charge;
use crate::sstable::BlockMeta;
use crate::types::{Column, SeriesId, Values};
use crate::version::TableRef;

mod snapshot;
pub use snapshot::Snapshot;

/// What one query's reads did (EXPLAIN ANALYZE and tests of the shortcuts).
#[derive(Debug, Default)]
pub struct ScanStats {
    /// Blocks answered from their pre-aggregates, never decoded.
    pub blocks_from_aggregates: AtomicU64,
    /// Blocks read and decoded.
    pub blocks_decoded: AtomicU64,
    /// Blocks whose timestamps alone were read: to prove that a block answered from its
    /// pre-aggregates shares no point with the other sources overlapping it.
    pub blocks_timestamps_read: AtomicU64,
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
    /// A whole block none of whose points another source overrides: use its pre-aggregates.
    /// Other sources' points within its time range, if any, come in later segments.
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
    let per = match b.field_type() {
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
    ///
    /// A statement running inline (see `SelectLimits::inline_estimate`) charges the points of
    /// each series' blocks as they are counted, so an estimate past its budget fails here, early,
    /// with the error that moves the query to the pool.
    pub fn prune(&self, ids: &[SeriesId], fields: &[String], min: i64, max: i64) -> Result<Pruned> {
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
                let before = out.estimated_points;
                for f in fields {
                    for b in overlapping(t.table.blocks(id, f), min, max) {
                        out.blocks += 1;
                        out.estimated_points += u64::from(b.count);
                    }
                }
                self.limits.inline_estimate(out.estimated_points - before)?;
            }
            out.tables.push(t.clone());
        }
        out.layers = layers.into_iter().map(|(l, (c, n))| (l, c, n)).collect();
        out.memtables = self
            .all_memtables()
            .iter()
            .filter(|m| ids.iter().any(|id| m.contains_series(*id)))
            .count();
        Ok(out)
    }

    /// Charge the rest of what a read of `ids` × `fields` is estimated to take against the
    /// statement's inline budget (`SelectLimits::inline_estimate`; [`Snapshot::prune`] charged
    /// the blocks): every point the memtables hold of those runs, whatever their time. Stops at
    /// the first charge past the budget, so an estimate costs little more than the budget
    /// allows.
    pub(crate) fn inline_estimate(
        &self,
        pruned: &Pruned,
        ids: &[SeriesId],
        fields: &[String],
    ) -> Result<()> {
        if pruned.memtables == 0 {
            return Ok(());
        }
        for m in self.all_memtables() {
            for &id in ids {
                for f in fields {
                    self.limits.inline_estimate(m.points_of(id, f) as u64)?;
                }
            }
        }
        Ok(())
    }

    /// The lower bounds a newest-first read of `id` × `fields` within `[min, max]` from
    /// `tables` (a pruned subset of the snapshot's) widens its window through, newest first,
    /// each with the number of blocks the window `[bound, max]` decodes. The candidates are the
    /// starts of the blocks overlapping `[min, max]` (raised to `min`) and the instants just
    /// after their ends (a window starting after every block's end decodes none: it reads only
    /// memtable points); of the candidates decoding the same blocks the oldest is kept, except
    /// that a window taking every block starts at `min` itself (so it also takes every
    /// memtable point).
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
        starts.extend(
            ends.iter()
                .filter_map(|e| e.checked_add(1))
                .filter(|&c| c <= max),
        );
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
    /// oldest-first subset of the snapshot's) and the memtables, in time order, as a stream of
    /// [`Segment`]s read block by block (see [`SegmentStream`]). A block lying wholly inside
    /// the range for which `use_agg` holds, and such that no other source has a point of this
    /// (series, field) at any of its times (no point within its time range, or, checked from
    /// the timestamps, none at the same times: [`Snapshot::shares_no_point`]), comes back as
    /// [`Segment::Block`] without its values being decoded; everything else is decoded,
    /// merged (newest wins) and comes back as [`Segment::Points`], the points within such a
    /// block's time range after it.
    pub fn segments<'a>(
        &'a self,
        tables: &'a [TableRef],
        id: SeriesId,
        field: &str,
        min: i64,
        max: i64,
        use_agg: &dyn Fn(&BlockMeta) -> bool,
    ) -> Result<SegmentStream<'a>> {
        let min = min.max(self.min_time());
        let mut stream = SegmentStream {
            snap: self,
            min,
            max,
            tables: Vec::new(),
            mem: Vec::new(),
            whole: VecDeque::new(),
            mem_bytes: 0,
            held: self.memory().empty_charge(),
            counted: true,
            raw: Vec::new(),
        };
        if min > max {
            return Ok(stream);
        }
        let runs: Vec<&[BlockMeta]> = tables
            .iter()
            .map(|t| {
                let s = t.table.stats();
                if s.max_ts < min || s.min_ts > max || !t.table.may_contain(id) {
                    &[][..]
                } else {
                    overlapping(t.table.blocks(id, field), min, max)
                }
            })
            .collect();
        for m in self.all_memtables() {
            if let Some(c) = m.read(id, field, min, max) {
                stream.held.add(column_bytes(&c))?;
                bump(&self.stats.memtable_points, c.len() as u64);
                stream.mem.push(Cursor { col: c, pos: 0 });
            }
        }
        stream.mem_bytes = stream.held.bytes();
        let overridden = |ti: usize, b: &BlockMeta| -> bool {
            runs.iter()
                .enumerate()
                .any(|(tj, r)| tj != ti && !overlapping(r, b.min_ts, b.max_ts).is_empty())
                || stream.mem.iter().any(|c| {
                    let ts = &c.col.timestamps;
                    let i = ts.partition_point(|&t| t < b.min_ts);
                    ts.get(i).is_some_and(|&t| t <= b.max_ts)
                })
        };
        let mut whole: Vec<BlockMeta> = Vec::new();
        let mut sources = Vec::with_capacity(tables.len());
        let mut times = TimeCheck::default();
        for (ti, (t, run)) in tables.iter().zip(&runs).enumerate() {
            let mut decode = Vec::new();
            for b in run.iter() {
                let answers = b.min_ts >= min
                    && b.max_ts <= max
                    && use_agg(b)
                    && (!overridden(ti, b)
                        || self.shares_no_point(tables, &runs, ti, b, &stream.mem, &mut times)?);
                if answers {
                    whole.push(b.clone());
                } else {
                    decode.push(b);
                }
            }
            if !decode.is_empty() {
                sources.push(TableSource {
                    table: t,
                    blocks: decode,
                    next: 0,
                    buf: None,
                });
            }
        }
        whole.sort_by_key(|b| b.min_ts);
        stream.whole = whole.into();
        stream.tables = sources;
        Ok(stream)
    }

    /// Whether no other source of the run has a point at any of block `b`'s times (`b` is
    /// `runs[ti]`'s, from `tables[ti]`; `mem` holds the memtables' points of the run). Then
    /// the newest-wins merge overrides none of `b`'s points, so its pre-aggregates still
    /// answer for them while the other sources' points within its time range are handed out
    /// beside it: the case of writers whose batches straddle a memtable freeze, which leaves
    /// two tables overlapping at their edges with no point in common. Reads `b`'s timestamps
    /// and those of the other tables' blocks overlapping it (not their values).
    fn shares_no_point(
        &self,
        tables: &[TableRef],
        runs: &[&[BlockMeta]],
        ti: usize,
        b: &BlockMeta,
        mem: &[Cursor],
        times: &mut TimeCheck,
    ) -> Result<bool> {
        let cache = self.block_cache.as_deref();
        let read = |t: &TableRef, c: &BlockMeta, raw: &mut Vec<u8>, out: &mut Vec<i64>| {
            bump(&self.stats.blocks_timestamps_read, 1);
            t.table.read_timestamps(c, cache, raw, out)
        };
        let Some(own) = tables.get(ti) else {
            return Ok(false);
        };
        let TimeCheck { raw, mine, other } = times;
        read(own, b, raw, mine)?;
        if mem.iter().any(|c| share_a_time(mine, &c.col.timestamps)) {
            return Ok(false);
        }
        let others = tables
            .iter()
            .zip(runs)
            .enumerate()
            .filter(|&(tj, _)| tj != ti);
        for (_, (t, r)) in others {
            for c in overlapping(r, b.min_ts, b.max_ts) {
                read(t, c, raw, other)?;
                if share_a_time(mine, other) {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// The time of the first point of (series, field) within `[min, max]` in `tables` (a
    /// pruned subset of the snapshot's) and the memtables: the first timestamp a
    /// [`Snapshot::segments`] read would hand out. Taken from the block index (a block's
    /// `min_ts` is one of its points) and the memtables without decoding or copying, unless a
    /// table's first block in the range starts before `min`: then that read answers.
    pub fn first_time(
        &self,
        tables: &[TableRef],
        id: SeriesId,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<Option<i64>> {
        let min = min.max(self.min_time());
        if min > max {
            return Ok(None);
        }
        let mut first: Option<i64> = None;
        for t in tables {
            let s = t.table.stats();
            if s.max_ts < min || s.min_ts > max || !t.table.may_contain(id) {
                continue;
            }
            let Some(b) = overlapping(t.table.blocks(id, field), min, max).first() else {
                continue;
            };
            if b.min_ts < min {
                // Its first point inside the range is known only decoded.
                let mut segs = self
                    .segments(tables, id, field, min, max, &|_| true)?
                    .uncounted();
                return Ok(match segs.next()? {
                    Some(Segment::Block(b)) => Some(b.min_ts),
                    Some(Segment::Points(c)) => c.timestamps.first().copied(),
                    None => None,
                });
            }
            first = Some(first.map_or(b.min_ts, |f| f.min(b.min_ts)));
        }
        for m in self.all_memtables() {
            if let Some(t) = m.first_time(id, field, min, max) {
                first = Some(first.map_or(t, |f| f.min(t)));
            }
        }
        Ok(first)
    }

    /// The merged points of (series, field) within `[min, max]` from `tables` and the
    /// memtables (no pre-aggregates), as one column.
    ///
    /// The returned [`Charge`] holds the query memory the column takes; drop it with it.
    pub fn read_in(
        &self,
        tables: &[TableRef],
        id: SeriesId,
        field: &str,
        min: i64,
        max: i64,
    ) -> Result<(Option<Column>, Charge)> {
        let mut stream = self.segments(tables, id, field, min, max, &|_| false)?;
        let mut held = self.memory().empty_charge();
        let mut chunks = Vec::new();
        while let Some(seg) = stream.next()? {
            if let Segment::Points(c) = seg {
                held.add(column_bytes(&c))?;
                chunks.push(c);
            }
        }
        // The chunks are disjoint and in time order: merging them appends.
        Ok((merge_columns(chunks), held))
    }
}

/// Buffers of [`Snapshot::shares_no_point`], reused from block to block.
#[derive(Default)]
struct TimeCheck {
    raw: Vec<u8>,
    mine: Vec<i64>,
    other: Vec<i64>,
}

/// Whether the ascending slices `a` and `b` have a value in common.
fn share_a_time(a: &[i64], b: &[i64]) -> bool {
    let (Some(&a0), Some(&a1), Some(&b0), Some(&b1)) = (a.first(), a.last(), b.first(), b.last())
    else {
        return false;
    };
    let (lo, hi) = (a0.max(b0), a1.min(b1));
    if lo > hi {
        return false;
    }
    let from_lo = |x: &[i64]| -> usize { x.partition_point(|&t| t < lo) };
    let (mut i, mut j) = (from_lo(a), from_lo(b));
    while let (Some(x), Some(y)) = (a.get(i).filter(|&&x| x <= hi), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// A column being consumed from `pos` on.
struct Cursor {
    col: Column,
    pos: usize,
}

impl Cursor {
    fn head(&self) -> Option<i64> {
        self.col.timestamps.get(self.pos).copied()
    }

    /// Copy out the points from `pos` up to and including time `h`, advancing past them.
    fn take_through(&mut self, h: i64) -> Option<Column> {
        let rest = self.col.timestamps.get(self.pos..).unwrap_or_default();
        let n = rest.partition_point(|&t| t <= h);
        if n == 0 {
            return None;
        }
        let (lo, hi) = (self.pos, self.pos + n);
        self.pos = hi;
        if lo == 0 && hi == self.col.len() {
            let empty = Column::new(self.col.values.field_type());
            return Some(std::mem::replace(&mut self.col, empty));
        }
        Some(self.col.copy_range(lo..hi))
    }
}

/// One table's blocks of a (series, field) that must be decoded, read one at a time.
struct TableSource<'a> {
    table: &'a TableRef,
    blocks: Vec<&'a BlockMeta>,
    next: usize,
    /// The decoded block being consumed (its points within the range).
    buf: Option<Cursor>,
}

/// The merged run of one (series, field) over a time range, produced in time order with
/// bounded memory: at most one decoded block per table plus the memtables' points of the
/// series (bounded by the memtable configuration), whatever the number of points in range.
///
/// Each [`SegmentStream::next`] call decodes the next block of every table whose current one
/// is used up and hands back, merged newest-wins, every point up to the *horizon*: the
/// earliest last timestamp among the decoded blocks (no table can have an unread point at or
/// before it), cut short before the next block answered from its pre-aggregates, which comes
/// back as its own segment at its first time (sharing no time with any other source, it
/// takes the place of its points; the other sources' points within its range follow it).
pub struct SegmentStream<'a> {
    snap: &'a Snapshot,
    min: i64,
    max: i64,
    /// Oldest first.
    tables: Vec<TableSource<'a>>,
    /// Memtable points, oldest memtable first (newer wins).
    mem: Vec<Cursor>,
    /// Blocks answered from their pre-aggregates, in time order.
    whole: VecDeque<BlockMeta>,
    /// Bytes of the memtable columns (charged for the stream's whole life).
    mem_bytes: u64,
    /// The query memory the stream holds.
    held: Charge,
    /// Points handed out count toward `max_select_points`.
    counted: bool,
    /// The bytes of the block being decoded, reused from block to block.
    raw: Vec<u8>,
}

impl SegmentStream<'_> {
    /// Do not count what this stream hands out toward `max_select_points` (a look at a
    /// stream's first point ahead of the read that counts it).
    pub fn uncounted(mut self) -> Self {
        self.counted = false;
        self
    }

    /// The next segment in time order, or `None` at the end.
    #[allow(clippy::should_implement_trait)] // fallible: Iterator<Item = Result<_>> reads worse
    pub fn next(&mut self) -> Result<Option<Segment>> {
        let snap = self.snap;
        loop {
            // The next point of the decoded blocks and memtables.
            let real = self
                .tables
                .iter()
                .filter_map(|s| s.buf.as_ref()?.head())
                .chain(self.mem.iter().filter_map(Cursor::head))
                .min();
            // The earliest point a table may have in a block not decoded yet: no block is
            // decoded before the merge reaches its start.
            let pending = self
                .tables
                .iter()
                .enumerate()
                .filter(|(_, s)| s.buf.as_ref().is_none_or(|c| c.head().is_none()))
                .filter_map(|(i, s)| Some((s.blocks.get(s.next)?.min_ts.max(self.min), i)))
                .min();
            let next = match (real, pending) {
                (Some(r), Some((p, _))) => Some(r.min(p)),
                (r, p) => r.or(p.map(|(p, _)| p)),
            };
            if let Some(b) = self.whole.front() {
                // No other source has a point at the block's first time: if none comes
                // before it, the block is next (theirs within its range, if any, follow).
                if next.is_none_or(|t| t > b.min_ts) {
                    let b = self.whole.pop_front();
                    if let Some(b) = b.as_ref().filter(|_| self.counted) {
                        // LIMITS CALL SITE 1 (max_select_points): every point read goes
                        // through here.
                        snap.limits.add_points(b.count as usize)?;
                        bump(&snap.stats.blocks_from_aggregates, 1);
                    }
                    return Ok(b.map(Segment::Block));
                }
            }
            let Some(next) = next else {
                self.held.set(0)?;
                return Ok(None);
            };
            if let Some((p, i)) = pending.filter(|&(p, _)| real.is_none_or(|r| p <= r)) {
                self.decode_next(i)?;
                debug_assert!(p <= next);
                continue;
            }
            // Points up to the horizon are complete: every table's unread points come after
            // its decoded block's last one, or at or after its next block's start.
            let mut horizon = self
                .tables
                .iter()
                .filter_map(|s| s.buf.as_ref())
                .filter(|c| c.head().is_some())
                .filter_map(|c| c.col.timestamps.last().copied())
                .min()
                .unwrap_or(i64::MAX);
            if let Some((p, _)) = pending {
                horizon = horizon.min(p.saturating_sub(1));
            }
            if let Some(b) = self.whole.front() {
                horizon = horizon.min(b.min_ts.saturating_sub(1));
            }
            debug_assert!(next <= horizon);
            let parts: Vec<Column> = self
                .tables
                .iter_mut()
                .filter_map(|s| s.buf.as_mut()?.take_through(horizon))
                .chain(self.mem.iter_mut().filter_map(|c| c.take_through(horizon)))
                .collect();
            for s in &mut self.tables {
                if s.buf.as_ref().is_some_and(|c| c.head().is_none()) {
                    s.buf = None; // used up: free it now
                }
            }
            let merged = merge_columns(parts);
            let n = merged.as_ref().map_or(0, Column::len);
            if self.counted {
                // LIMITS CALL SITE 1 (max_select_points): every point read goes through here.
                snap.limits.add_points(n)?;
            }
            // Held now: the decoded blocks still being consumed, the memtable columns and the
            // chunk handed out (until the next call).
            let bufs: u64 = self
                .tables
                .iter()
                .filter_map(|s| s.buf.as_ref())
                .map(|c| column_bytes(&c.col))
                .sum();
            self.held
                .set(bufs + self.mem_bytes + merged.as_ref().map_or(0, column_bytes))?;
            return Ok(merged.map(Segment::Points));
        }
    }

    /// Decode table `i`'s next block (its points within the range).
    fn decode_next(&mut self, i: usize) -> Result<()> {
        let snap = self.snap;
        let Some(src) = self.tables.get_mut(i) else {
            return Ok(());
        };
        let Some(b) = src.blocks.get(src.next).copied() else {
            return Ok(());
        };
        src.next += 1;
        // Charged before the block is read and decoded.
        self.held.add(block_bytes(b))?;
        let mut c = Column::new(b.field_type());
        let cache = snap.block_cache.as_deref();
        src.table
            .table
            .read_block_cached(b, self.max, cache, &mut self.raw, &mut c)?;
        bump(&snap.stats.blocks_decoded, 1);
        // Read through `max`: only the points before `min` are left to drop.
        let lo = c.timestamps.partition_point(|&x| x < self.min);
        let hi = c.len();
        let c = slice(c, lo, hi).ok_or_else(|| Error::Corrupt {
            path: src.table.table.path().to_path_buf(),
            reason: format!("block at offset {} has mixed value types", b.offset),
        })?;
        bump(&snap.stats.points_decoded, c.len() as u64);
        src.buf = Some(Cursor { col: c, pos: 0 });
        Ok(())
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
    c.values.truncate(hi);
    match &mut c.values {
        Values::Float(v) => drop(v.drain(..lo)),
        Values::Integer(v) => drop(v.drain(..lo)),
        Values::Unsigned(v) => drop(v.drain(..lo)),
        Values::Boolean(v) => drop(v.drain(..lo)),
        Values::String(v) => drop(v.drain(..lo)),
    }
    Some(c)
}

#[cfg(test)]
mod tests;
