//! Reading one snapshot for a SELECT: pruning of tables and blocks ([`Snapshot::prune`]),
//! merged reads that hand back whole blocks by their pre-aggregates when nothing newer
//! overrides them ([`Snapshot::read_segments`]), and the counters EXPLAIN ANALYZE reports.

use std::collections::VecDeque;
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
            held: self.memory().charge(0)?,
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
        let mut held = self.memory().charge(0)?;
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
mod tests {
    use super::*;
    use crate::database::Database;
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

    /// Run `q` against `d` charging `mem`.
    fn run_with_memory(d: &Database, q: &str, mem: &QueryMemory) -> Result<Vec<SeriesResult>> {
        let st = crate::query::influxql::parse(q).unwrap();
        let Some(Statement::Select(s)) = st.first() else {
            panic!("not a select: {q}")
        };
        let plan = crate::query::compile::compile_select(d, s, 1_000_000 * S).unwrap();
        let snap = snapshot(d, &plan, &SelectLimits::unlimited(), mem);
        execute_on(
            d,
            &snap,
            &plan,
            &CancelToken::new(),
            &mut Explain::default(),
        )
    }

    /// Lines for hosts a and b, fields f (float) and i (integer), one point per second over
    /// `[from, to)` seconds, values from `seed`.
    fn lines(from: i64, to: i64, seed: u64) -> String {
        lines_at(from, to, 0, seed)
    }

    /// [`lines`] at `shift` nanoseconds past each second (`S / 2`: no time in common with
    /// [`lines`]' points).
    fn lines_at(from: i64, to: i64, shift: i64, seed: u64) -> String {
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
                out.push_str(&format!("m,host={h} f={f},i={i}i {}\n", t * S + shift));
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

        /// Random data in four overlapping tables (newer ones overwrite ranges of older ones,
        /// or fall between their points) and a memtable: every aggregate the shortcut serves gives the same answer with and
        /// without it, over random time ranges and GROUP BY intervals.
        #[test]
        fn preaggregates_give_the_same_answers(
            seed in any::<u64>(),
            over in 0i64..2500,
            over_len in 1i64..600,
            mem in 0i64..2600,
            mem_len in 0i64..300,
            half in 0i64..2600,
            half_len in 0i64..400,
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
            // Overlapping the others with no time in common: their blocks may keep their
            // pre-aggregates ([`Snapshot::shares_no_point`]).
            write(&d, &lines_at(half, half + half_len, S / 2, seed ^ 3));
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

    /// Every source of (series, field) within `[min, max]` decoded whole and merged: what a
    /// [`SegmentStream`] must hand out, computed without it.
    fn reference(snap: &Snapshot, id: SeriesId, field: &str, min: i64, max: i64) -> Option<Column> {
        let mut srcs = Vec::new();
        for t in snap.all_tables() {
            let mut blocks = Vec::new();
            for b in t.table.blocks(id, field) {
                let c = t.table.read_block(b).unwrap();
                let lo = c.timestamps.partition_point(|&x| x < min);
                let hi = c.timestamps.partition_point(|&x| x <= max);
                blocks.push(slice(c, lo, hi).unwrap());
            }
            srcs.extend(merge_columns(blocks));
        }
        for m in snap.all_memtables() {
            srcs.extend(m.read(id, field, min, max));
        }
        merge_columns(srcs)
    }

    /// The timestamps of block `b` (found in whichever table of `snap` holds it).
    fn block_times(snap: &Snapshot, b: &BlockMeta) -> Vec<i64> {
        for t in snap.all_tables() {
            for (id, _) in t.table.series() {
                for (f, _) in t.table.fields(id) {
                    if t.table.blocks(id, f).contains(b) {
                        let mut out = Vec::new();
                        t.table
                            .read_timestamps(b, None, &mut Vec::new(), &mut out)
                            .unwrap();
                        return out;
                    }
                }
            }
        }
        panic!("no table holds {b:?}")
    }

    /// Drain a stream: the points it hands out (concatenated), the blocks it answers whole,
    /// and the largest chunk.
    fn drain(mut st: SegmentStream<'_>) -> (Option<Column>, Vec<BlockMeta>, usize) {
        let (mut chunks, mut blocks, mut largest) = (Vec::new(), Vec::new(), 0);
        let mut last = i64::MIN;
        while let Some(seg) = st.next().unwrap() {
            match seg {
                Segment::Points(c) => {
                    assert!(
                        c.timestamps.first().is_some_and(|&t| t > last),
                        "time order"
                    );
                    last = *c.timestamps.last().unwrap();
                    largest = largest.max(c.len());
                    chunks.push(c);
                }
                Segment::Block(b) => {
                    assert!(b.min_ts > last, "time order");
                    // Other sources' points within its range may follow it.
                    last = b.min_ts;
                    blocks.push(b);
                }
            }
        }
        (merge_columns(chunks), blocks, largest)
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

        /// Random data in tables that overlap (newer overwrite older) or not, and a memtable:
        /// the stream hands out exactly the merged points of every source, in time order and
        /// in chunks of at most a few blocks; with pre-aggregates allowed, the points it hands
        /// out plus the whole blocks it answers are the same points.
        #[test]
        fn segment_stream_is_the_merge_of_every_source(
            seed in any::<u64>(),
            writes in prop::collection::vec((0i64..6000, 1i64..2500, any::<bool>()), 1..6),
            mem in 0i64..6000,
            mem_len in 0i64..400,
            lo in 0i64..6000,
            len in 1i64..7000,
        ) {
            let dir = tempfile::tempdir().unwrap();
            let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
            for (i, (from, n, half)) in writes.iter().enumerate() {
                // Half a second off: overlapping the others with no time in common.
                let shift = if *half { S / 2 } else { 0 };
                write(&d, &lines_at(*from, from + n, shift, seed ^ i as u64));
                d.flush().unwrap();
            }
            write(&d, &lines(mem, mem + mem_len, seed ^ 99));
            let snap = Snapshot::new(d.versions().current());
            let ids: Vec<SeriesId> = d.index().measurement("m").unwrap().series_ids().into_iter().collect();
            for (min, max) in [(i64::MIN, i64::MAX), (lo * S, (lo + len) * S)] {
                for &id in &ids {
                    for field in ["f", "i"] {
                        let want = reference(&snap, id, field, min, max);
                        let tables = snap.all_tables();
                        prop_assert_eq!(
                            snap.first_time(tables, id, field, min, max).unwrap(),
                            want.as_ref().and_then(|w| w.timestamps.first().copied())
                        );
                        let st = snap.segments(tables, id, field, min, max, &|_| false).unwrap();
                        let (got, blocks, largest) = drain(st);
                        prop_assert!(blocks.is_empty());
                        prop_assert_eq!(&got, &want);
                        // A chunk never exceeds one block per source plus the memtable.
                        prop_assert!(largest <= 1000 * (tables.len() + 1) + mem_len as usize);
                        let st = snap.segments(tables, id, field, min, max, &|_| true).unwrap();
                        let (got, blocks, _) = drain(st);
                        // The points handed out and the whole blocks' points are the merge.
                        let mut all: Vec<i64> = got.map(|c| c.timestamps).unwrap_or_default();
                        for b in &blocks {
                            all.extend(block_times(&snap, b));
                        }
                        all.sort_unstable();
                        prop_assert_eq!(&all, &want.map(|w| w.timestamps).unwrap_or_default());
                    }
                }
            }
        }
    }

    /// What a read holds does not grow with the points it scans: one series in 30 tables of
    /// 1000 points each (disjoint in time) plus two tables overlapping all of them is read
    /// holding a few decoded blocks at most, far below the 30 × 16 kB its decoded column takes.
    #[test]
    fn a_stream_holds_a_few_blocks_whatever_the_points_scanned() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        for k in 0..30 {
            write(&d, &lines(k * 1000, (k + 1) * 1000, k as u64));
            d.flush().unwrap();
        }
        write(&d, &lines(500, 501, 1));
        write(&d, &lines(29_500, 29_501, 1));
        d.flush().unwrap();
        let mut snap = Snapshot::new(d.versions().current());
        snap.mem = QueryMemory::new(0);
        let id = d
            .index()
            .measurement("m")
            .unwrap()
            .series_ids()
            .into_iter()
            .next()
            .unwrap();
        let st = snap
            .segments(snap.all_tables(), id, "f", i64::MIN, i64::MAX, &|_| false)
            .unwrap();
        let (got, _, largest) = drain(st);
        assert_eq!(got.unwrap().len(), 30_000);
        assert!(largest <= 2000, "largest chunk {largest}");
        // One block of the table being read, the overlapping table's block and the chunk.
        let peak = snap.mem.peak();
        assert!(peak <= 4 * 16_000, "peak {peak}");
        assert_eq!(snap.mem.used(), 0);
        // A query over all of it holds as little.
        let mem = QueryMemory::new(100_000);
        let out = run_with_memory(&d, "SELECT count(f), max(i) FROM m WHERE f > 0", &mem).unwrap();
        assert_eq!(out.len(), 1);
        assert!(mem.peak() <= 100_000, "peak {}", mem.peak());
    }

    /// Raw rows share their series' tag values (one string, not a copy per row) and are
    /// charged for the strings they hold alone (here a 1000-byte string field per row) as they
    /// are built, so `query_memory_limit` stays near what the process really holds.
    #[test]
    fn raw_rows_share_tags_and_are_charged_for_their_own_strings() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        let tag = "t".repeat(1000);
        let mut lp = String::new();
        for t in 0..200 {
            let s = format!("{t:04}").repeat(250);
            lp.push_str(&format!("m,host={tag} s=\"{s}\",f={t} {}\n", t * S));
        }
        write(&d, &lp);
        d.flush().unwrap();
        let mem = QueryMemory::new(0);
        let out = run_with_memory(&d, "SELECT * FROM m", &mem).unwrap();
        let rows = &out[0].values;
        assert_eq!(rows.len(), 200);
        // Columns: time, f, host, s.
        let (Value::String(h0), Value::String(h1)) = (&rows[0][2], &rows[199][2]) else {
            panic!("{:?}", rows[0])
        };
        assert!(std::sync::Arc::ptr_eq(h0, h1), "rows copy the tag");
        assert!(mem.peak() >= 200 * 1000, "peak {}", mem.peak());
        // The decoded block (~205 kB) plus the rows' cells (~25 kB) fit in 300 kB; with the
        // rows' own strings (~200 kB more) they do not: the query stops while building rows,
        // on one row's charge (charging cells only, it would answer).
        match run_with_memory(&d, "SELECT * FROM m", &QueryMemory::new(300_000)) {
            Err(Error::QueryMemoryLimitExceeded { wanted, .. }) => {
                assert!(wanted < 2_000, "stopped on a charge of {wanted} bytes")
            }
            other => panic!(
                "expected the memory error, got {:?}",
                other.map(|r| r.len())
            ),
        }
    }

    /// `GROUP BY time … LIMIT n` without a lower time bound reads only the first buckets of
    /// each group: the same rows as the unlimited query cut by OFFSET/LIMIT, from a fraction
    /// of the blocks (groups whose data starts at different times included).
    #[test]
    fn limited_group_by_time_reads_only_its_first_buckets() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        write(&d, &lines(0, 3000, 7));
        d.flush().unwrap();
        let mut late = String::new();
        for t in 1234..3000 {
            late.push_str(&format!("m,host=c f={},i={}i {}\n", t % 17, t % 5, t * S));
        }
        write(&d, &late);
        d.flush().unwrap();
        for (q, cut) in [
            (
                "SELECT max(f), count(i) FROM m WHERE time < 2900s GROUP BY time(100s)",
                " LIMIT 3",
            ),
            (
                "SELECT max(f), count(i) FROM m WHERE time < 2900s GROUP BY time(100s)",
                " LIMIT 2 OFFSET 4",
            ),
            (
                "SELECT max(f), sum(i) FROM m WHERE time < 2900s GROUP BY time(100s), host",
                " LIMIT 3",
            ),
            (
                "SELECT mean(f) FROM m WHERE host = 'c' GROUP BY time(70s, 30s) fill(previous)",
                " LIMIT 5",
            ),
            (
                "SELECT first(f), last(i) FROM m GROUP BY time(1000s), host fill(0)",
                " LIMIT 1",
            ),
        ] {
            let limited = format!("{q}{cut}");
            let (with, st) = select(&d, &limited, false);
            let (all, st0) = select(&d, q, false);
            let (offset, limit) = if cut.contains("OFFSET") {
                (4, 2)
            } else {
                (0, cut.trim_start_matches(" LIMIT ").parse().unwrap())
            };
            let want: Vec<SeriesResult> = all
                .into_iter()
                .map(|mut r| {
                    r.values = r.values.into_iter().skip(offset).take(limit).collect();
                    r
                })
                .filter(|r| !r.values.is_empty())
                .collect();
            assert_eq!(format!("{with:?}"), format!("{want:?}"), "{limited}");
            assert!(
                ScanStats::get(&st.blocks_decoded) < ScanStats::get(&st0.blocks_decoded),
                "{limited}: {} vs {}",
                ScanStats::get(&st.blocks_decoded),
                ScanStats::get(&st0.blocks_decoded)
            );
        }
        // Not bounded: a lower time bound, DESC, fill(linear), a field condition.
        for q in [
            "SELECT max(f) FROM m WHERE time >= 0s AND time < 2900s GROUP BY time(100s) LIMIT 3",
            "SELECT max(f) FROM m WHERE time < 2900s GROUP BY time(100s) ORDER BY time DESC LIMIT 3",
            "SELECT max(f) FROM m WHERE time < 2900s GROUP BY time(100s) fill(linear) LIMIT 3",
            "SELECT max(f) FROM m WHERE time < 2900s AND i > 1 GROUP BY time(100s) LIMIT 3",
        ] {
            let (_, st) = select(&d, q, false);
            let (_, st0) = select(&d, &q.replace(" LIMIT 3", ""), false);
            let n = ScanStats::get(&st0.blocks_decoded);
            assert!(n >= 6 && ScanStats::get(&st.blocks_decoded) == n, "{q}");
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
        // A memtable point after every block's end (both fields of host a): the first window
        // starts after the blocks and decodes none of host a's; host b still decodes its two.
        write(&d, "m,host=a f=2.5,i=3i 3000000000000\n");
        let (with, st) = select_with(&d, q, true, true);
        let (without, _) = select_with(&d, q, true, false);
        assert_eq!(format!("{with:?}"), format!("{without:?}"));
        assert_eq!(with[1].values[0][0], Value::Time(3000 * S), "{with:?}");
        assert_eq!(ScanStats::get(&st.blocks_decoded), 2);
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

    /// Two tables that overlap at their edges without a point in common (writers whose
    /// batches straddled a memtable freeze): the older table's block lies in one bucket and
    /// is still answered from its pre-aggregates, after reading the timestamps of both
    /// blocks; the newer one, straddling buckets, is decoded. A point at one of the block's
    /// times, in a table or in the memtable, makes it decoded again.
    #[test]
    fn a_block_sharing_no_time_with_an_overlapping_table_keeps_its_preaggregates() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        let pts = |ts: &mut dyn Iterator<Item = i64>| -> String {
            ts.map(|t| format!("m f={}.5 {}\n", t % 97, t * S))
                .collect()
        };
        // Every 10 s over [0, 600) s but 550, 560, 570; then those three and [600, 1200) s.
        write(
            &d,
            &pts(&mut (0..600).step_by(10).filter(|t| !(550..=570).contains(t))),
        );
        d.flush().unwrap();
        write(
            &d,
            &pts(&mut (550..=570).step_by(10).chain((600..1200).step_by(10))),
        );
        d.flush().unwrap();
        let q = "SELECT count(f), sum(f), max(f), first(f), last(f) FROM m WHERE time < 1200s GROUP BY time(10m)";
        let (with, st) = select(&d, q, true);
        let (without, st0) = select(&d, q, false);
        same(q, &with, &without);
        assert_eq!(with[0].values[0][1], Value::Integer(60), "{with:?}");
        assert_eq!(ScanStats::get(&st0.blocks_decoded), 2);
        assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 1);
        assert_eq!(ScanStats::get(&st.blocks_decoded), 1);
        assert_eq!(ScanStats::get(&st.blocks_timestamps_read), 2);

        // A newer point at one of the first block's times (a table's or the memtable's):
        // newest wins, so the block is decoded and merged.
        for flush in [false, true] {
            write(&d, "m f=1000.5 300000000000\n");
            if flush {
                d.flush().unwrap();
            }
            let (with, st) = select(&d, q, true);
            let (without, _) = select(&d, q, false);
            same(q, &with, &without);
            assert_eq!(with[0].values[0][1], Value::Integer(60), "{with:?}");
            assert_eq!(with[0].values[0][3], Value::Float(1000.5), "{with:?}");
            assert_eq!(
                ScanStats::get(&st.blocks_from_aggregates),
                0,
                "flush {flush}"
            );
            assert_eq!(ScanStats::get(&st.blocks_decoded), 2 + u64::from(flush));
        }
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
        let p = snap.prune(&all, &f, i64::MIN, i64::MAX).unwrap();
        assert_eq!((p.tables.len(), p.blocks, p.estimated_points), (3, 3, 3));
        let p = snap.prune(&a, &f, i64::MIN, i64::MAX).unwrap();
        assert_eq!((p.tables.len(), p.blocks), (2, 2));
        let p = snap.prune(&all, &f, 2_500_000_000, i64::MAX).unwrap();
        assert_eq!((p.tables.len(), p.blocks), (1, 1));
        assert_eq!(p.layers.iter().map(|l| l.2).sum::<usize>(), 3);
        assert_eq!(p.memtables, 0);
    }
}
