//! The series index of one database: series key → SeriesId, tag postings per measurement, and
//! the field schema (name → type) per measurement. Rebuilt at open from the SSTables and the WAL.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::error::{Error, Result};
use crate::types::{parse_series_key, FastHash, FieldType, NewSeries, ParsedPoint, SeriesId};

/// One series.
#[derive(Debug)]
pub struct SeriesInfo {
    pub id: SeriesId,
    pub key: String,
    pub measurement: String,
    /// Sorted by key.
    pub tags: Vec<(String, String)>,
    /// Whether a WAL record or table naming this series is durable. Until then every batch that
    /// uses the series logs it again, so a batch never refers to a series the WAL does not know.
    durable: AtomicBool,
}

impl SeriesInfo {
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// A measurement's tag postings: tag key → tag value → series.
pub type Postings = BTreeMap<String, BTreeMap<String, BTreeSet<SeriesId>>>;

/// Per-measurement index.
#[derive(Default, Debug)]
pub struct MeasurementIndex {
    pub series: RwLock<BTreeSet<SeriesId>>,
    /// tag key → tag value → series.
    pub postings: RwLock<Postings>,
    pub fields: RwLock<BTreeMap<String, FieldType>>,
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// The record a writer must log before using `info`'s series, while it is not yet durable.
fn pending_record(info: &SeriesInfo) -> Option<NewSeries> {
    (!info.durable.load(Ordering::Acquire)).then(|| NewSeries {
        id: info.id,
        key: info.key.clone(),
    })
}

impl MeasurementIndex {
    /// The postings, read-locked (a poisoned lock is read as it is, as everywhere here).
    pub fn read_postings(&self) -> std::sync::RwLockReadGuard<'_, Postings> {
        read(&self.postings)
    }

    pub fn series_ids(&self) -> BTreeSet<SeriesId> {
        read(&self.series).clone()
    }

    /// Series whose tag `key` equals `value`.
    pub fn series_with_tag(&self, key: &str, value: &str) -> BTreeSet<SeriesId> {
        read(&self.postings)
            .get(key)
            .and_then(|vals| vals.get(value))
            .cloned()
            .unwrap_or_default()
    }

    pub fn tag_keys(&self) -> Vec<String> {
        read(&self.postings).keys().cloned().collect()
    }

    pub fn tag_values(&self, key: &str) -> Vec<String> {
        read(&self.postings)
            .get(key)
            .map(|v| v.keys().cloned().collect())
            .unwrap_or_default()
    }

    pub fn fields(&self) -> BTreeMap<String, FieldType> {
        read(&self.fields).clone()
    }

    pub fn field_type(&self, name: &str) -> Option<FieldType> {
        read(&self.fields).get(name).copied()
    }
}

/// The series index of one database. Its maps are looked up on every write (each distinct
/// series of a request), so they hash with [`FastHash`], not SipHash.
#[derive(Default)]
pub struct SeriesIndex {
    /// Series key → the series (what `by_id` holds too), so resolving a known series is one
    /// lookup.
    by_key: DashMap<String, Arc<SeriesInfo>, FastHash>,
    by_id: DashMap<SeriesId, Arc<SeriesInfo>, FastHash>,
    measurements: DashMap<String, Arc<MeasurementIndex>, FastHash>,
    next_id: AtomicU64,
}

impl SeriesIndex {
    pub fn new() -> SeriesIndex {
        SeriesIndex {
            next_id: AtomicU64::new(1),
            ..Default::default()
        }
    }

    /// Find or create the series of a point. Returns its id and, when the series is not yet
    /// durable, the record the writer must log before the point.
    pub fn resolve(&self, p: &ParsedPoint) -> (SeriesId, Option<NewSeries>) {
        let key = p.series_key();
        if let Some(e) = self.by_key.get(&key) {
            return (e.id, pending_record(e.value()));
        }
        match self.by_key.entry(key) {
            Entry::Occupied(e) => (e.get().id, pending_record(e.get())),
            Entry::Vacant(e) => {
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let info = self.register(id, e.key(), &p.measurement, p.tags.to_vec(), false);
                let record = pending_record(&info);
                e.insert(info);
                (id, record)
            }
        }
    }

    /// Mark series as durable once the WAL record naming them is acknowledged.
    pub fn mark_durable(&self, ids: impl IntoIterator<Item = SeriesId>) {
        for id in ids {
            if let Some(info) = self.by_id.get(&id) {
                info.durable.store(true, Ordering::Release);
            }
        }
    }

    /// Register a series found on disk (a table's index or a WAL record).
    pub fn insert_known(&self, id: SeriesId, key: &str) {
        if self.by_id.contains_key(&id) {
            return;
        }
        let (measurement, tags) = parse_series_key(key);
        let info = self.register(id, key, &measurement, tags, true);
        self.by_key.insert(key.to_string(), info);
        self.next_id.fetch_max(id + 1, Ordering::Relaxed);
    }

    fn register(
        &self,
        id: SeriesId,
        key: &str,
        measurement: &str,
        tags: Vec<(String, String)>,
        durable: bool,
    ) -> Arc<SeriesInfo> {
        let m = self.measurement_or_create(measurement);
        {
            let mut post = write(&m.postings);
            for (k, v) in &tags {
                post.entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .insert(id);
            }
        }
        write(&m.series).insert(id);
        let info = Arc::new(SeriesInfo {
            id,
            key: key.to_string(),
            measurement: measurement.to_string(),
            tags,
            durable: AtomicBool::new(durable),
        });
        self.by_id.insert(id, info.clone());
        info
    }

    fn measurement_or_create(&self, name: &str) -> Arc<MeasurementIndex> {
        if let Some(m) = self.measurements.get(name) {
            return m.clone();
        }
        self.measurements
            .entry(name.to_string())
            .or_default()
            .clone()
    }

    /// Check a field's type against the measurement's schema, registering it if new.
    pub fn check_field(&self, measurement: &str, field: &str, t: FieldType) -> Result<()> {
        let m = self.measurement_or_create(measurement);
        // Fast path under the read lock; the write lock only for a field seen the first time.
        let existing = match m.field_type(field) {
            Some(existing) => existing,
            None => *write(&m.fields).entry(field.to_string()).or_insert(t),
        };
        if existing == t {
            return Ok(());
        }
        Err(Error::FieldTypeConflict {
            measurement: measurement.to_string(),
            field: field.to_string(),
            got: t,
            existing,
        })
    }

    /// Record a field type found on disk (first one seen wins).
    pub fn insert_field(&self, measurement: &str, field: &str, t: FieldType) {
        let m = self.measurement_or_create(measurement);
        write(&m.fields).entry(field.to_string()).or_insert(t);
    }

    pub fn get(&self, id: SeriesId) -> Option<Arc<SeriesInfo>> {
        self.by_id.get(&id).map(|e| e.clone())
    }

    pub fn measurement(&self, name: &str) -> Option<Arc<MeasurementIndex>> {
        self.measurements.get(name).map(|m| m.clone())
    }

    /// Measurement names that have at least one series, sorted.
    pub fn measurement_names(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .measurements
            .iter()
            .filter(|e| !read(&e.value().series).is_empty())
            .map(|e| e.key().clone())
            .collect();
        v.sort();
        v
    }

    /// Forget a series whose data is all deleted: its key, its postings and its place in its
    /// measurement. A measurement left without series is forgotten whole, field schema included,
    /// so it can be written again with other field types (as after InfluxDB 1.x's `DROP
    /// MEASUREMENT`). The caller makes sure no data of the series remains anywhere and that no
    /// write is resolving series meanwhile (`Database::exclusive_writes`). A later write of the
    /// same key gets a new id.
    pub fn forget(&self, id: SeriesId) -> bool {
        let Some((_, info)) = self.by_id.remove(&id) else {
            return false;
        };
        self.by_key.remove_if(&info.key, |_, v| v.id == id);
        if let Some(m) = self.measurement(&info.measurement) {
            {
                let mut post = write(&m.postings);
                for (k, v) in &info.tags {
                    if let Some(vals) = post.get_mut(k) {
                        if let Some(ids) = vals.get_mut(v) {
                            ids.remove(&id);
                            if ids.is_empty() {
                                vals.remove(v);
                            }
                        }
                        if vals.is_empty() {
                            post.remove(k);
                        }
                    }
                }
            }
            let empty = {
                let mut series = write(&m.series);
                series.remove(&id);
                series.is_empty()
            };
            if empty {
                self.measurements
                    .remove_if(&info.measurement, |_, mi| read(&mi.series).is_empty());
            }
        }
        true
    }

    pub fn series_count(&self) -> usize {
        self.by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::FieldValue;

    fn point(m: &str, tags: &[(&str, &str)]) -> ParsedPoint {
        ParsedPoint {
            measurement: m.into(),
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            fields: vec![("v".into(), FieldValue::Float(1.0))],
            timestamp: None,
        }
    }

    #[test]
    fn resolve_is_stable_and_logs_until_durable() {
        let idx = SeriesIndex::new();
        let (a, rec) = idx.resolve(&point("cpu", &[("host", "a")]));
        assert!(rec.is_some());
        let (a2, rec2) = idx.resolve(&point("cpu", &[("host", "a")]));
        assert_eq!(a, a2);
        assert!(rec2.is_some(), "still not durable");
        idx.mark_durable([a]);
        assert!(idx.resolve(&point("cpu", &[("host", "a")])).1.is_none());
        let (b, _) = idx.resolve(&point("cpu", &[("host", "b")]));
        assert_ne!(a, b);
        let m = idx.measurement("cpu").unwrap();
        assert_eq!(
            m.series_with_tag("host", "b")
                .into_iter()
                .collect::<Vec<_>>(),
            vec![b]
        );
        assert_eq!(m.tag_values("host"), vec!["a", "b"]);
    }

    #[test]
    fn known_series_bump_next_id() {
        let idx = SeriesIndex::new();
        idx.insert_known(41, "cpu,host=x");
        let (id, _) = idx.resolve(&point("cpu", &[("host", "y")]));
        assert_eq!(id, 42);
        assert_eq!(idx.resolve(&point("cpu", &[("host", "x")])).0, 41);
    }

    #[test]
    fn forgotten_series_leave_no_trace() {
        let idx = SeriesIndex::new();
        let (a, _) = idx.resolve(&point("cpu", &[("host", "a")]));
        let (b, _) = idx.resolve(&point("cpu", &[("host", "b"), ("dc", "x")]));
        idx.check_field("cpu", "v", FieldType::Float).unwrap();
        assert!(idx.forget(b));
        assert!(!idx.forget(b));
        let m = idx.measurement("cpu").unwrap();
        assert_eq!(m.tag_keys(), vec!["host"]);
        assert_eq!(m.tag_values("host"), vec!["a"]);
        assert!(idx.get(b).is_none());
        assert!(idx.forget(a));
        assert!(idx.measurement("cpu").is_none());
        assert!(idx.measurement_names().is_empty());
        // The schema went with it; the key gets a new id.
        idx.check_field("cpu", "v", FieldType::Integer).unwrap();
        let (a2, rec) = idx.resolve(&point("cpu", &[("host", "a")]));
        assert!(a2 > b && rec.is_some());
    }

    #[test]
    fn field_type_conflicts_are_rejected() {
        let idx = SeriesIndex::new();
        idx.check_field("cpu", "v", FieldType::Float).unwrap();
        let e = idx.check_field("cpu", "v", FieldType::Integer).unwrap_err();
        assert!(e.to_string().contains("field type conflict"), "{e}");
        idx.check_field("mem", "v", FieldType::Integer).unwrap();
    }
}
