//! The memtable: recent writes in memory, written by the memtable actor alone and read by
//! queries concurrently (per-series locks via dashmap shards, held only while copying).

use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;

use dashmap::DashMap;

use crate::types::{Column, FieldType, FieldValue, SeqNo, SeriesId, Timestamp, Values, WriteBatch};

/// Bytes of bookkeeping charged per stored value on top of the value itself.
const ENTRY_OVERHEAD: usize = 16;

#[derive(Default)]
struct SeriesBuf {
    /// One buffer per field, in the order fields first appeared.
    fields: Vec<(Arc<str>, FieldBuf)>,
}

struct FieldBuf {
    field_type: FieldType,
    /// Appended in seqno order (single writer), so among equal timestamps the last one wins.
    entries: Vec<(Timestamp, FieldValue)>,
    sorted: bool,
}

/// One memtable. Active while the memtable actor applies to it; frozen (never written again)
/// once handed to the flusher.
pub struct Memtable {
    series: DashMap<SeriesId, SeriesBuf>,
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
            series: DashMap::new(),
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
        for row in &batch.rows {
            let mut sb = self.series.entry(row.series).or_default();
            for (name, value) in &row.fields {
                let fb = match sb.fields.iter().position(|(n, _)| n == name) {
                    Some(i) => &mut sb.fields[i].1,
                    None => {
                        sb.fields.push((
                            name.clone(),
                            FieldBuf {
                                field_type: value.field_type(),
                                entries: Vec::new(),
                                sorted: true,
                            },
                        ));
                        added += name.len() + 32;
                        let last = sb.fields.len() - 1;
                        &mut sb.fields[last].1
                    }
                };
                if fb.field_type != value.field_type() {
                    continue;
                }
                if let Some((last_ts, _)) = fb.entries.last() {
                    if *last_ts > row.timestamp {
                        fb.sorted = false;
                    }
                }
                fb.entries.push((row.timestamp, value.clone()));
                added += ENTRY_OVERHEAD + value.mem_size();
                points += 1;
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

    /// Field names and types of one series, sorted by name.
    pub fn fields(&self, id: SeriesId) -> Vec<(Arc<str>, FieldType)> {
        let mut out: Vec<(Arc<str>, FieldType)> = match self.series.get(&id) {
            Some(sb) => sb
                .fields
                .iter()
                .map(|(n, fb)| (n.clone(), fb.field_type))
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
        let sb = self.series.get(&id)?;
        let (_, fb) = sb.fields.iter().find(|(n, _)| &**n == field)?;
        let mut picked: Vec<(Timestamp, &FieldValue)> = fb
            .entries
            .iter()
            .filter(|(t, _)| *t >= min && *t <= max)
            .map(|(t, v)| (*t, v))
            .collect();
        if !fb.sorted {
            picked.sort_by_key(|(t, _)| *t); // stable: equal timestamps keep write order
        }
        let mut col = Column::new(fb.field_type);
        let n = picked.len();
        for i in 0..n {
            if i + 1 < n && picked[i + 1].0 == picked[i].0 {
                continue; // a later write of the same timestamp follows
            }
            col.timestamps.push(picked[i].0);
            col.values.push(picked[i].1.clone());
        }
        drop(sb);
        (!col.is_empty()).then_some(col)
    }

    /// Every (series, field) run, series ascending and fields by name: what the flusher writes.
    pub fn runs(&self) -> Vec<(SeriesId, Arc<str>, Column)> {
        let mut out = Vec::new();
        for id in self.series_ids() {
            for (name, _) in self.fields(id) {
                if let Some(col) = self.read(id, &name, i64::MIN, i64::MAX) {
                    out.push((id, name, col));
                }
            }
        }
        out
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
    let t = older.values.field_type();
    if t != newer.values.field_type() {
        return newer;
    }
    let mut out = Column::new(t);
    let (mut i, mut j) = (0, 0);
    let (a, b) = (&older, &newer);
    while i < a.len() || j < b.len() {
        let take_b = j < b.len() && (i >= a.len() || b.timestamps[j] <= a.timestamps[i]);
        if take_b {
            if i < a.len() && a.timestamps[i] == b.timestamps[j] {
                i += 1; // the newer value replaces the older
            }
            out.timestamps.push(b.timestamps[j]);
            out.values.push(b.values.get(j));
            j += 1;
        } else {
            out.timestamps.push(a.timestamps[i]);
            out.values.push(a.values.get(i));
            i += 1;
        }
    }
    out
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
