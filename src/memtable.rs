//! The memtable: recent writes in memory, written by the memtable actor alone and read by
//! queries concurrently (per-series locks via dashmap shards, held only while copying).

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use dashmap::DashMap;

use crate::types::{Column, FieldType, FieldValue, SeqNo, SeriesId, Timestamp, Values, WriteBatch};

/// Bytes charged for a series' entry in the map, and for a field's entry beside its name.
const SERIES_OVERHEAD: usize = 64;
const FIELD_OVERHEAD: usize = 64;

#[derive(Default)]
struct SeriesBuf {
    /// One buffer per field, in the order fields first appeared. The names are the memtable's
    /// own (see `Memtable::names`), so equal names are the same `Arc`.
    fields: Vec<(Arc<str>, FieldBuf)>,
}

impl SeriesBuf {
    /// The buffer of field `name`, if the series has one.
    fn field(&self, name: &str) -> Option<&FieldBuf> {
        self.fields
            .iter()
            .find(|(n, _)| &**n == name)
            .map(|(_, fb)| fb)
    }

    fn field_mut(&mut self, name: &str) -> Option<&mut FieldBuf> {
        self.fields
            .iter_mut()
            .find(|(n, _)| &**n == name)
            .map(|(_, fb)| fb)
    }
}

/// One field's points as typed columns (16 bytes a numeric point, not a 40-byte
/// `(Timestamp, FieldValue)`), appended in seqno order (single writer), so among equal
/// timestamps the last one wins.
struct FieldBuf {
    col: Column,
    /// Timestamps never decrease (equal ones may repeat, in write order). A late point clears
    /// it; the next read sorts the buffer in place ([`FieldBuf::sort`]) and sets it again.
    sorted: bool,
    /// The greatest timestamp while `sorted`, else the last one appended (`i64::MIN` before
    /// the first), kept here beside the vectors' headers so that an append does not read the
    /// column's end, which is rarely in cache: appending is then stores only.
    last: Timestamp,
}

impl FieldBuf {
    fn new(t: FieldType) -> FieldBuf {
        FieldBuf {
            col: Column::new(t),
            sorted: true,
            last: Timestamp::MIN,
        }
    }

    fn field_type(&self) -> FieldType {
        self.col.values.field_type()
    }

    /// Bytes the vectors have allocated (capacity, not length: growth slack counts); what
    /// [`FieldBuf::push`] counts, as it goes.
    #[cfg(test)]
    fn capacity_bytes(&self) -> usize {
        let vals = match &self.col.values {
            Values::Float(v) => v.capacity() * 8,
            Values::Integer(v) => v.capacity() * 8,
            Values::Unsigned(v) => v.capacity() * 8,
            Values::Boolean(v) => v.capacity(),
            Values::String(v) => v.capacity() * std::mem::size_of::<String>(),
        };
        self.col.timestamps.capacity() * 8 + vals
    }

    /// Append a point; the bytes newly allocated (what [`FieldBuf::capacity_bytes`] grew by,
    /// plus a string's own bytes), or `None` (nothing appended) if its type is not the field's.
    fn push(&mut self, ts: Timestamp, value: &FieldValue) -> Option<usize> {
        /// Push `x`; the bytes the vector's allocation grew by, at `size` bytes an element.
        fn put<T>(v: &mut Vec<T>, x: T, size: usize) -> usize {
            let before = v.capacity();
            v.push(x);
            (v.capacity() - before) * size
        }
        let grown = match (&mut self.col.values, value) {
            (Values::Float(v), FieldValue::Float(x)) => put(v, *x, 8),
            (Values::Integer(v), FieldValue::Integer(x)) => put(v, *x, 8),
            (Values::Unsigned(v), FieldValue::Unsigned(x)) => put(v, *x, 8),
            (Values::Boolean(v), FieldValue::Boolean(x)) => put(v, *x, 1),
            (Values::String(v), FieldValue::String(x)) => {
                put(v, x.clone(), std::mem::size_of::<String>()) + x.len()
            }
            _ => return None,
        };
        if self.last > ts {
            self.sorted = false;
        }
        self.last = ts;
        Some(grown + put(&mut self.col.timestamps, ts, 8))
    }

    /// Put the points in time order, in place (capacities unchanged, so the memtable's byte
    /// count stays exact); equal timestamps keep their write order. Writes of concurrent
    /// writers arrive a little out of order, so the stable sort meets nearly sorted runs.
    fn sort(&mut self) {
        fn permute<T: Default>(v: &mut [T], order: &[usize]) {
            let mut taken: Vec<T> = order.iter().map(|&i| std::mem::take(&mut v[i])).collect();
            for (slot, x) in v.iter_mut().zip(taken.drain(..)) {
                *slot = x;
            }
        }
        if self.sorted {
            return;
        }
        let ts = &self.col.timestamps;
        let mut order: Vec<usize> = (0..ts.len()).collect();
        order.sort_by_key(|&i| ts[i]); // stable: equal timestamps keep write order
        permute(&mut self.col.timestamps, &order);
        match &mut self.col.values {
            Values::Float(v) => permute(v, &order),
            Values::Integer(v) => permute(v, &order),
            Values::Unsigned(v) => permute(v, &order),
            Values::Boolean(v) => permute(v, &order),
            Values::String(v) => permute(v, &order),
        }
        self.sorted = true;
        self.last = self
            .col
            .timestamps
            .last()
            .copied()
            .unwrap_or(Timestamp::MIN);
    }

    /// The earliest timestamp with `min <= ts <= max`, without copying anything.
    fn first_time(&self, min: Timestamp, max: Timestamp) -> Option<Timestamp> {
        let ts = &self.col.timestamps;
        let first = if self.sorted {
            ts.get(ts.partition_point(|&t| t < min)).copied()
        } else {
            ts.iter().copied().filter(|&t| t >= min).min()
        };
        first.filter(|&t| t <= max)
    }

    /// The points with `min <= ts <= max` in time order, the last write of a timestamp winning.
    fn read(&self, min: Timestamp, max: Timestamp) -> Column {
        let ts = &self.col.timestamps;
        let picked: Vec<usize> = if self.sorted {
            let lo = ts.partition_point(|&t| t < min);
            let hi = ts.partition_point(|&t| t <= max);
            if ts[lo..hi].windows(2).all(|w| w[0] < w[1]) {
                // In order and no timestamp written twice: the range itself.
                return self.col.copy_range(lo..hi);
            }
            (lo..hi).collect()
        } else {
            let mut idx: Vec<usize> = (0..ts.len())
                .filter(|&i| ts[i] >= min && ts[i] <= max)
                .collect();
            idx.sort_by_key(|&i| ts[i]); // stable: equal timestamps keep write order
            idx
        };
        // Of a run of equal timestamps the last (latest write) is kept.
        let keep: Vec<usize> = picked
            .iter()
            .enumerate()
            .filter(|&(k, &i)| picked.get(k + 1).is_none_or(|&j| ts[j] != ts[i]))
            .map(|(_, &i)| i)
            .collect();
        let timestamps = keep.iter().map(|&i| ts[i]).collect();
        let values = match &self.col.values {
            Values::Float(v) => Values::Float(keep.iter().map(|&i| v[i]).collect()),
            Values::Integer(v) => Values::Integer(keep.iter().map(|&i| v[i]).collect()),
            Values::Unsigned(v) => Values::Unsigned(keep.iter().map(|&i| v[i]).collect()),
            Values::Boolean(v) => Values::Boolean(keep.iter().map(|&i| v[i]).collect()),
            Values::String(v) => Values::String(keep.iter().map(|&i| v[i].clone()).collect()),
        };
        Column { timestamps, values }
    }
}

/// One memtable. Active while the memtable actor applies to it; frozen (never written again)
/// once handed to the flusher.
pub struct Memtable {
    series: DashMap<SeriesId, SeriesBuf, crate::types::FastHash>,
    /// One `Arc` per field name in this memtable, shared by every series' buffer of that
    /// name: a row's field is found by comparing pointers, without reading the stored name
    /// (one allocation per series and field, rarely in cache). Only `apply` uses it.
    names: Mutex<std::collections::HashSet<Arc<str>, crate::types::FastHash>>,
    bytes: AtomicUsize,
    points: AtomicU64,
    min_seq: AtomicU64,
    max_seq: AtomicU64,
    min_ts: AtomicI64,
    max_ts: AtomicI64,
}

impl Default for Memtable {
    fn default() -> Self {
        Memtable::new()
    }
}

impl Memtable {
    pub fn new() -> Memtable {
        Memtable {
            series: DashMap::default(),
            names: Mutex::default(),
            bytes: AtomicUsize::new(0),
            points: AtomicU64::new(0),
            min_seq: AtomicU64::new(u64::MAX),
            max_seq: AtomicU64::new(0),
            min_ts: AtomicI64::new(i64::MAX),
            max_ts: AtomicI64::new(i64::MIN),
        }
    }

    /// Apply one durable batch. Only the memtable actor (or recovery) calls this.
    /// Values whose type differs from the field's type in this memtable are skipped (the writer
    /// already rejected them against the series index; this only guards the invariant).
    pub fn apply(&self, seqno: SeqNo, batch: &WriteBatch) {
        let mut added = 0usize;
        let mut points = 0u64;
        let (mut lo, mut hi) = (i64::MAX, i64::MIN);
        let mut names = self.names.lock().unwrap_or_else(|p| p.into_inner());
        // The memtable's name for the row field at each position, by the address of the
        // batch's name: rows of a batch usually share their names' allocations, in the same
        // order, so this is looked up in `names` about once per field and batch.
        let mut own: Vec<(*const u8, Arc<str>)> = Vec::new();
        for row in &batch.rows {
            let mut sb = self.series.entry(row.series).or_insert_with(|| {
                added += SERIES_OVERHEAD;
                SeriesBuf::default()
            });
            for (pos, (name, value)) in row.fields.iter().enumerate() {
                let addr = Arc::as_ptr(name).cast::<u8>();
                let name = match own.get(pos) {
                    Some((a, n)) if *a == addr => n,
                    _ => {
                        let n = match names.get(&**name) {
                            Some(n) => n.clone(),
                            None => {
                                names.insert(name.clone());
                                name.clone()
                            }
                        };
                        // Positions before `pos` were just filled: `own` has `pos` or more.
                        if pos < own.len() {
                            own[pos] = (addr, n);
                        } else {
                            own.push((addr, n));
                        }
                        &own[pos].1
                    }
                };
                // Rows of a series usually list its fields in the same order: try the same
                // position first.
                let at = match sb.fields.get(pos) {
                    Some((n, _)) if Arc::ptr_eq(n, name) => Some(pos),
                    _ => sb.fields.iter().position(|(n, _)| Arc::ptr_eq(n, name)),
                };
                let fb = match at {
                    Some(i) => &mut sb.fields[i].1,
                    None => {
                        sb.fields
                            .push((name.clone(), FieldBuf::new(value.field_type())));
                        added += name.len() + FIELD_OVERHEAD;
                        let last = sb.fields.len() - 1;
                        &mut sb.fields[last].1
                    }
                };
                if let Some(n) = fb.push(row.timestamp, value) {
                    added += n;
                    points += 1;
                }
            }
            lo = lo.min(row.timestamp);
            hi = hi.max(row.timestamp);
        }
        self.bytes.fetch_add(added, Ordering::Relaxed);
        self.points.fetch_add(points, Ordering::Relaxed);
        self.min_seq.fetch_min(seqno, Ordering::Relaxed);
        self.max_seq.fetch_max(seqno, Ordering::Relaxed);
        if !batch.rows.is_empty() {
            self.min_ts.fetch_min(lo, Ordering::Relaxed);
            self.max_ts.fetch_max(hi, Ordering::Relaxed);
        }
    }

    /// Approximate bytes held.
    pub fn bytes(&self) -> usize {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Values applied (duplicates counted).
    pub fn points(&self) -> u64 {
        self.points.load(Ordering::Relaxed)
    }

    pub fn is_empty(&self) -> bool {
        self.points() == 0
    }

    /// Highest seqno applied (0 if none).
    pub fn max_seqno(&self) -> SeqNo {
        self.max_seq.load(Ordering::Relaxed)
    }

    /// Lowest seqno applied (`u64::MAX` if none).
    pub fn min_seqno(&self) -> SeqNo {
        self.min_seq.load(Ordering::Relaxed)
    }

    /// Time range of the data held, if any.
    pub fn time_range(&self) -> Option<(Timestamp, Timestamp)> {
        let lo = self.min_ts.load(Ordering::Relaxed);
        let hi = self.max_ts.load(Ordering::Relaxed);
        (lo <= hi).then_some((lo, hi))
    }

    pub fn contains_series(&self, id: SeriesId) -> bool {
        self.series.contains_key(&id)
    }

    /// Series ids held, ascending.
    pub fn series_ids(&self) -> Vec<SeriesId> {
        let mut ids: Vec<SeriesId> = self.series.iter().map(|e| *e.key()).collect();
        ids.sort_unstable();
        ids
    }

    /// How many points (series, field) holds, whatever their time: an upper bound of what a
    /// read of it returns, found without copying or sorting anything.
    pub fn points_of(&self, id: SeriesId, field: &str) -> usize {
        self.series
            .get(&id)
            .and_then(|sb| sb.field(field).map(|fb| fb.col.timestamps.len()))
            .unwrap_or(0)
    }

    /// Field names and types of one series, sorted by name.
    pub fn fields(&self, id: SeriesId) -> Vec<(Arc<str>, FieldType)> {
        let mut out: Vec<(Arc<str>, FieldType)> = match self.series.get(&id) {
            Some(sb) => sb
                .fields
                .iter()
                .map(|(n, fb)| (n.clone(), fb.field_type()))
                .collect(),
            None => Vec::new(),
        };
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// The values of (series, field) with `min <= ts <= max`, sorted by time, duplicates resolved
    /// (the latest write of a timestamp wins).
    pub fn read(
        &self,
        id: SeriesId,
        field: &str,
        min: Timestamp,
        max: Timestamp,
    ) -> Option<Column> {
        self.with_sorted(id, field, |fb| fb.read(min, max))
            .filter(|col| !col.is_empty())
    }

    /// The earliest timestamp of (series, field) with `min <= ts <= max` (what the first point
    /// of [`Memtable::read`] would be), without copying the points.
    pub fn first_time(
        &self,
        id: SeriesId,
        field: &str,
        min: Timestamp,
        max: Timestamp,
    ) -> Option<Timestamp> {
        self.with_sorted(id, field, |fb| fb.first_time(min, max))
            .flatten()
    }

    /// `f` of (series, field)'s buffer, sorted first if late points left it out of order.
    fn with_sorted<R>(
        &self,
        id: SeriesId,
        field: &str,
        f: impl FnOnce(&FieldBuf) -> R,
    ) -> Option<R> {
        self.sort_field(id, field);
        let sb = self.series.get(&id)?;
        Some(f(sb.field(field)?))
    }

    /// Sort (series, field)'s buffer in place if late points left it out of order, so that
    /// this read and the next ones copy a range instead of sorting what they copy. Takes the
    /// series' shard for writing only then (a read finds the buffer sorted almost always).
    fn sort_field(&self, id: SeriesId, field: &str) {
        let unsorted = |sb: &SeriesBuf| sb.field(field).is_some_and(|fb| !fb.sorted);
        if !self.series.get(&id).is_some_and(|sb| unsorted(&sb)) {
            return;
        }
        if let Some(mut sb) = self.series.get_mut(&id) {
            if let Some(fb) = sb.field_mut(field) {
                fb.sort();
            }
        }
    }

    /// Every (series, field) run, series ascending and fields by name, handed to `f` one at a
    /// time (what the flusher writes; one run is copied at a time, never the whole memtable).
    pub fn for_each_run<E>(
        &self,
        mut f: impl FnMut(SeriesId, &Arc<str>, &Column) -> Result<(), E>,
    ) -> Result<(), E> {
        for id in self.series_ids() {
            for (name, _) in self.fields(id) {
                if let Some(col) = self.read(id, &name, i64::MIN, i64::MAX) {
                    f(id, &name, &col)?;
                }
            }
        }
        Ok(())
    }
}

/// Merge runs of one (series, field) from several sources, given oldest first: for equal
/// timestamps the newer source wins. Each input is sorted with unique timestamps.
pub fn merge_columns(sources: Vec<Column>) -> Option<Column> {
    let mut it = sources.into_iter().filter(|c| !c.is_empty());
    let mut acc = it.next()?;
    for newer in it {
        acc = merge_two(acc, newer);
    }
    Some(acc)
}

fn merge_two(older: Column, newer: Column) -> Column {
    if older.timestamps.last() < newer.timestamps.first() {
        let mut out = older;
        out.timestamps.extend_from_slice(&newer.timestamps);
        append_values(&mut out.values, newer.values);
        return out;
    }
    let (at, bt) = (&older.timestamps, &newer.timestamps);
    // One arm per value type; another type in the newer source wins the whole run.
    macro_rules! by_type {
        ($($t:ident),*) => {
            match (&older.values, &newer.values) {
                $((Values::$t(a), Values::$t(b)) => {
                    let (timestamps, v) = merge_typed(at, a, bt, b);
                    Column { timestamps, values: Values::$t(v) }
                })*
                _ => newer,
            }
        };
    }
    by_type!(Float, Integer, Unsigned, Boolean, String)
}

/// Two time-ordered runs merged, the newer's value winning a timestamp both hold. The older
/// run's points before the newer's first and the newer's after the older's last are copied
/// whole; only the span where both have points is merged point by point (sources overlap
/// there only, e.g. around a flush that concurrent writers straddled).
fn merge_typed<T: Clone>(at: &[i64], av: &[T], bt: &[i64], bv: &[T]) -> (Vec<i64>, Vec<T>) {
    let mut ot = Vec::with_capacity(at.len() + bt.len());
    let mut ov = Vec::with_capacity(av.len() + bv.len());
    let (Some(&b_first), Some(&a_last)) = (bt.first(), at.last()) else {
        ot.extend_from_slice(at);
        ot.extend_from_slice(bt);
        ov.extend_from_slice(av);
        ov.extend_from_slice(bv);
        return (ot, ov);
    };
    let mut i = at.partition_point(|&t| t < b_first);
    let b_end = bt.partition_point(|&t| t <= a_last);
    ot.extend_from_slice(&at[..i]);
    ov.extend_from_slice(&av[..i]);
    let mut j = 0;
    while i < at.len() || j < b_end {
        if j < b_end && (i >= at.len() || bt[j] <= at[i]) {
            if i < at.len() && at[i] == bt[j] {
                i += 1; // the newer value replaces the older
            }
            ot.push(bt[j]);
            ov.push(bv[j].clone());
            j += 1;
        } else {
            ot.push(at[i]);
            ov.push(av[i].clone());
            i += 1;
        }
    }
    ot.extend_from_slice(&bt[b_end..]);
    ov.extend_from_slice(&bv[b_end..]);
    (ot, ov)
}

fn append_values(into: &mut Values, from: Values) {
    match (into, from) {
        (Values::Float(a), Values::Float(b)) => a.extend(b),
        (Values::Integer(a), Values::Integer(b)) => a.extend(b),
        (Values::Unsigned(a), Values::Unsigned(b)) => a.extend(b),
        (Values::Boolean(a), Values::Boolean(b)) => a.extend(b),
        (Values::String(a), Values::String(b)) => a.extend(b),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Row;

    fn batch(rows: &[(SeriesId, i64, f64)]) -> WriteBatch {
        let f: Arc<str> = Arc::from("v");
        WriteBatch {
            new_series: vec![],
            rows: rows
                .iter()
                .map(|&(s, t, v)| Row {
                    series: s,
                    timestamp: t,
                    fields: vec![(f.clone(), FieldValue::Float(v))],
                })
                .collect(),
        }
    }

    #[test]
    fn latest_write_of_a_timestamp_wins_and_output_is_sorted() {
        let m = Memtable::new();
        m.apply(1, &batch(&[(1, 30, 1.0), (1, 10, 2.0)]));
        m.apply(2, &batch(&[(1, 10, 3.0), (1, 20, 4.0)]));
        let c = m.read(1, "v", i64::MIN, i64::MAX).unwrap();
        assert_eq!(c.timestamps, vec![10, 20, 30]);
        assert_eq!(c.values, Values::Float(vec![3.0, 4.0, 1.0]));
        assert_eq!(m.points(), 4);
        assert_eq!((m.min_seqno(), m.max_seqno()), (1, 2));
        assert_eq!(m.time_range(), Some((10, 30)));
        let c = m.read(1, "v", 15, 25).unwrap();
        assert_eq!(c.timestamps, vec![20]);
        assert!(m.read(2, "v", 0, 100).is_none());
    }

    /// Batches of concurrent writers applied out of order (each a few points late) leave the
    /// buffer unsorted; the first read sorts it in place (write order kept among equal
    /// timestamps, capacities and the byte count unchanged), so later reads copy a range.
    #[test]
    fn a_read_sorts_late_points_in_place_once() {
        let m = Memtable::new();
        let state = |m: &Memtable| {
            let sb = m.series.get(&1).unwrap();
            let fb = &sb.fields[0].1;
            (fb.sorted, fb.capacity_bytes())
        };
        // Batches of 5 timestamps, applied in the order 1, 0, 3, 2, …; each timestamp twice,
        // the second write winning.
        let mut seq = 0;
        for pair in (0..40i64).collect::<Vec<_>>().chunks(2) {
            for &b in pair.iter().rev() {
                for w in 0..2 {
                    seq += 1;
                    let rows: Vec<(SeriesId, i64, f64)> = (b * 5..b * 5 + 5)
                        .map(|t| (1, t, (t * 10 + w) as f64))
                        .collect();
                    m.apply(seq, &batch(&rows));
                }
            }
        }
        let (sorted, capacity) = state(&m);
        assert!(!sorted);
        let bytes = m.bytes();
        let c = m.read(1, "v", 3, 197).unwrap();
        assert_eq!(c.timestamps, (3..=197).collect::<Vec<_>>());
        let want: Vec<f64> = (3..=197).map(|t| (t * 10 + 1) as f64).collect();
        assert_eq!(c.values, Values::Float(want));
        assert_eq!(state(&m), (true, capacity));
        assert_eq!(m.bytes(), bytes);
        // In order again: stays sorted. A late point: the next read sorts again.
        m.apply(seq + 1, &batch(&[(1, 200, 7.0)]));
        assert!(state(&m).0);
        m.apply(seq + 2, &batch(&[(1, 2, -1.0)]));
        assert!(!state(&m).0);
        let c = m.read(1, "v", 0, 4).unwrap();
        assert_eq!(c.timestamps, vec![0, 1, 2, 3, 4]);
        assert_eq!(c.values, Values::Float(vec![1.0, 11.0, -1.0, 31.0, 41.0]));
        assert_eq!(m.first_time(1, "v", 150, 300), Some(150));
        assert!(state(&m).0);
        assert_eq!(m.points(), 402);
    }

    /// Rows that list a series' fields in another order, or with fields added or missing, land
    /// each value in its own field (lookup by name, whatever the position).
    #[test]
    fn fields_in_any_order_find_their_buffers() {
        let m = Memtable::new();
        let (a, b, c): (Arc<str>, Arc<str>, Arc<str>) = ("a".into(), "b".into(), "c".into());
        let row = |t: i64, fields: &[(&Arc<str>, f64)]| Row {
            series: 1,
            timestamp: t,
            fields: fields
                .iter()
                .map(|(n, v)| (Arc::clone(n), FieldValue::Float(*v)))
                .collect(),
        };
        m.apply(
            1,
            &WriteBatch {
                new_series: vec![],
                rows: vec![
                    row(1, &[(&a, 1.0), (&b, 10.0)]),
                    row(2, &[(&b, 20.0), (&a, 2.0)]),
                    row(3, &[(&c, 300.0), (&a, 3.0)]),
                    // Equal names in other allocations.
                    row(4, &[(&Arc::from("a"), 4.0), (&Arc::from("c"), 400.0)]),
                ],
            },
        );
        let read = |f: &str| m.read(1, f, i64::MIN, i64::MAX).unwrap();
        assert_eq!(read("a").timestamps, vec![1, 2, 3, 4]);
        assert_eq!(read("a").values, Values::Float(vec![1.0, 2.0, 3.0, 4.0]));
        assert_eq!(read("b").values, Values::Float(vec![10.0, 20.0]));
        assert_eq!(read("c").timestamps, vec![3, 4]);
        assert_eq!(read("c").values, Values::Float(vec![300.0, 400.0]));
        assert_eq!(m.fields(1).len(), 3);
        assert_eq!(m.points(), 8);
    }

    proptest::proptest! {
        /// Whatever the order and repetition of the writes, a read answers, for each timestamp
        /// in range, the value written last, in time order (a naive model checks it). `order`
        /// 1 writes in time order, 2 in time order with each timestamp once (the read that
        /// copies a range).
        #[test]
        fn reads_answer_the_last_write_of_each_timestamp(
            mut writes in proptest::collection::vec((0i64..60, -1000i32..1000), 0..200),
            order in 0u8..3,
            min in 0i64..60,
            len in 0i64..70,
        ) {
            if order > 0 {
                writes.sort_by_key(|w| w.0); // stable: equal timestamps keep write order
            }
            if order > 1 {
                writes.dedup_by_key(|w| w.0);
            }
            let m = Memtable::new();
            let mut model = std::collections::BTreeMap::new();
            for (k, chunk) in writes.chunks(7).enumerate() {
                let rows: Vec<(SeriesId, i64, f64)> =
                    chunk.iter().map(|&(t, v)| (1, t, f64::from(v))).collect();
                m.apply(k as u64 + 1, &batch(&rows));
                for &(t, v) in chunk {
                    model.insert(t, f64::from(v));
                }
            }
            let want: Vec<(i64, f64)> = model.range(min..=min + len).map(|(t, v)| (*t, *v)).collect();
            let got = m.read(1, "v", min, min + len);
            let got: Vec<(i64, f64)> = match got {
                Some(Column { timestamps, values: Values::Float(v) }) => timestamps.into_iter().zip(v).collect(),
                Some(c) => panic!("wrong type: {c:?}"),
                None => Vec::new(),
            };
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert_eq!(m.points(), writes.len() as u64);
        }
    }

    /// The bytes a memtable counts (what `memtable_size_bytes` bounds) cover what its vectors
    /// really allocate, growth slack included, and a float point costs 16 bytes, not a 40-byte
    /// `(timestamp, FieldValue)` entry.
    #[test]
    fn counted_bytes_cover_the_allocations() {
        let m = Memtable::new();
        let n = 100_000i64;
        for k in 0..n / 1000 {
            let rows: Vec<(SeriesId, i64, f64)> = (k * 1000..(k + 1) * 1000)
                .map(|t| (1, t, t as f64))
                .collect();
            m.apply(k as u64 + 1, &batch(&rows));
        }
        let allocated: usize = m
            .series
            .iter()
            .flat_map(|e| {
                e.fields
                    .iter()
                    .map(|(_, fb)| fb.capacity_bytes())
                    .collect::<Vec<_>>()
            })
            .sum();
        assert!(allocated >= 16 * n as usize);
        // Exactly the allocations plus the series' and its one field's ("v") entries.
        assert_eq!(
            m.bytes(),
            allocated + SERIES_OVERHEAD + FIELD_OVERHEAD + 1,
            "{} vs {allocated}",
            m.bytes()
        );
        // Doubling growth: at most twice the payload, plus the entries' overhead.
        assert!(m.bytes() <= 2 * 16 * n as usize + 256, "{}", m.bytes());
        // A string's heap bytes count too.
        let before = m.bytes();
        let f: Arc<str> = Arc::from("s");
        m.apply(
            1_000,
            &WriteBatch {
                new_series: vec![],
                rows: vec![Row {
                    series: 2,
                    timestamp: 1,
                    fields: vec![(f, FieldValue::String("x".repeat(1000)))],
                }],
            },
        );
        assert!(m.bytes() >= before + 1000 + 24 + 8);
    }

    proptest::proptest! {
        /// Any number of sources, each time-ordered without repeats, merged: one point per
        /// timestamp, the newest source's value, in time order (against a map filled oldest
        /// source first).
        #[test]
        fn merge_columns_matches_a_newest_wins_map(
            sources in proptest::collection::vec(
                proptest::collection::btree_map(-50i64..50, -1000i64..1000, 0..40),
                0..5,
            ),
        ) {
            let mut want = std::collections::BTreeMap::new();
            let mut cols = Vec::new();
            for (k, src) in sources.iter().enumerate() {
                for (&t, &v) in src {
                    want.insert(t, v * 10 + k as i64);
                }
                cols.push(Column {
                    timestamps: src.keys().copied().collect(),
                    values: Values::Integer(src.values().map(|&v| v * 10 + k as i64).collect()),
                });
            }
            let got = merge_columns(cols);
            if want.is_empty() {
                proptest::prop_assert!(got.is_none());
            } else {
                let got = got.unwrap();
                proptest::prop_assert_eq!(got.timestamps, want.keys().copied().collect::<Vec<_>>());
                proptest::prop_assert_eq!(
                    got.values,
                    Values::Integer(want.values().copied().collect())
                );
            }
        }
    }

    #[test]
    fn merge_prefers_newer_sources() {
        let old = Column {
            timestamps: vec![1, 2, 3],
            values: Values::Float(vec![1.0, 2.0, 3.0]),
        };
        let new = Column {
            timestamps: vec![2, 4],
            values: Values::Float(vec![20.0, 40.0]),
        };
        let m = merge_columns(vec![old, new]).unwrap();
        assert_eq!(m.timestamps, vec![1, 2, 3, 4]);
        assert_eq!(m.values, Values::Float(vec![1.0, 20.0, 3.0, 40.0]));
    }
}
