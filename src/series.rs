//! The series index of one database: series key → SeriesId, tag postings per measurement, and
//! the field schema (name → type) per measurement. Rebuilt at open from the SSTables and the WAL.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use dashmap::mapref::entry::Entry;
use dashmap::DashMap;

use crate::cardinality::{check_tag_values, CardinalityLimits, LimitExceeded, SeriesBudget};
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
    limits: CardinalityLimits,
    /// The series of `by_id`, charged before a new one is created (`max_series_per_database`).
    /// The values of a tag key need no count of their own: a measurement's postings hold each
    /// value once, and a forgotten series' values go with their last series.
    budget: SeriesBudget,
}

impl SeriesIndex {
    /// An index without cardinality limits.
    pub fn new() -> SeriesIndex {
        SeriesIndex::with_limits(CardinalityLimits::default())
    }

    /// An index that refuses new series past `limits` (series found on disk always count).
    pub fn with_limits(limits: CardinalityLimits) -> SeriesIndex {
        SeriesIndex {
            next_id: AtomicU64::new(1),
            limits,
            ..Default::default()
        }
    }

    /// Find or create the series of a point. Returns its id and, when the series is not yet
    /// durable, the record the writer must log before the point. A new series past a
    /// cardinality limit is refused (nothing of it is created): first `max_values_per_tag` for
    /// each new tag value, then `max_series_per_database`, as InfluxDB 1.x checks them.
    pub fn resolve(&self, p: &ParsedPoint) -> Result<(SeriesId, Option<NewSeries>), LimitExceeded> {
        let key = p.series_key();
        if let Some(e) = self.by_key.get(&key) {
            return Ok((e.id, pending_record(e.value())));
        }
        match self.by_key.entry(key) {
            Entry::Occupied(e) => Ok((e.get().id, pending_record(e.get()))),
            Entry::Vacant(e) => {
                let m = self.measurement_or_create(&p.measurement);
                // Checked and charged under the postings' lock the series is registered under:
                // no other writer adds a value to this measurement meanwhile.
                let mut post = write(&m.postings);
                if let Err(refused) = self.admit(&post, p) {
                    drop(post);
                    // A measurement made for this point alone goes with it (field schema
                    // included): refused points of new measurements leave nothing behind. No
                    // other writer can be adding a series to it meanwhile: a measurement
                    // without series has no tag values, so only the series budget refuses
                    // here, and it refuses every writer until a delete gives places back, which
                    // it does only while no write is resolving (`Database::exclusive_writes`).
                    if read(&m.series).is_empty() {
                        self.measurements
                            .remove_if(&*p.measurement, |_, mi| read(&mi.series).is_empty());
                    }
                    return Err(refused);
                }
                let id = self.next_id.fetch_add(1, Ordering::Relaxed);
                let info = self.register_locked(
                    &m,
                    &mut post,
                    id,
                    e.key(),
                    &p.measurement,
                    p.tags.to_vec(),
                    false,
                );
                drop(post);
                let record = pending_record(&info);
                e.insert(info);
                Ok((id, record))
            }
        }
    }

    /// Check a new series of `p` against `max_values_per_tag` (each tag value its measurement's
    /// `postings`, held locked, does not have yet) and then take its place in the
    /// `max_series_per_database` budget.
    fn admit(&self, postings: &Postings, p: &ParsedPoint) -> Result<(), LimitExceeded> {
        let max_values = self.limits.max_values_per_tag;
        if max_values > 0 {
            for (k, v) in p.tags.iter() {
                let vals = postings.get(k);
                if !vals.is_some_and(|vals| vals.contains_key(v)) {
                    let count = vals.map_or(0, BTreeMap::len);
                    check_tag_values(max_values, count, &p.measurement, k, v)?;
                }
            }
        }
        self.budget.charge(self.limits.max_series_per_database)
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
        // Counted whatever the limits: a series on disk exists.
        self.budget.count_known();
        let m = self.measurement_or_create(&measurement);
        let info = {
            let mut post = write(&m.postings);
            self.register_locked(&m, &mut post, id, key, &measurement, tags, true)
        };
        self.by_key.insert(key.to_string(), info);
        self.next_id.fetch_max(id + 1, Ordering::Relaxed);
    }

    /// Add a series (its place in the budget already taken) to measurement `m`, whose postings
    /// the caller holds locked.
    #[allow(clippy::too_many_arguments)]
    fn register_locked(
        &self,
        m: &MeasurementIndex,
        post: &mut Postings,
        id: SeriesId,
        key: &str,
        measurement: &str,
        tags: Vec<(String, String)>,
        durable: bool,
    ) -> Arc<SeriesInfo> {
        for (k, v) in &tags {
            post.entry(k.clone())
                .or_default()
                .entry(v.clone())
                .or_default()
                .insert(id);
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

    /// The id of the series whose canonical key is `key` ([`crate::types::series_key`]), if the
    /// index knows it.
    pub fn id_of(&self, key: &str) -> Option<SeriesId> {
        self.by_key.get(key).map(|e| e.id)
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
        self.budget.release();
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

    /// Series in the index (what `max_series_per_database` counts).
    pub fn series_count(&self) -> usize {
        usize::try_from(self.budget.held()).unwrap_or(usize::MAX)
    }

    /// Values tag `key` of `measurement` has (what `max_values_per_tag` counts).
    pub fn tag_value_count(&self, measurement: &str, key: &str) -> usize {
        self.measurement(measurement)
            .and_then(|m| m.read_postings().get(key).map(BTreeMap::len))
            .unwrap_or(0)
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
        let (a, rec) = idx.resolve(&point("cpu", &[("host", "a")])).unwrap();
        assert!(rec.is_some());
        let (a2, rec2) = idx.resolve(&point("cpu", &[("host", "a")])).unwrap();
        assert_eq!(a, a2);
        assert!(rec2.is_some(), "still not durable");
        idx.mark_durable([a]);
        assert!(idx
            .resolve(&point("cpu", &[("host", "a")]))
            .unwrap()
            .1
            .is_none());
        let (b, _) = idx.resolve(&point("cpu", &[("host", "b")])).unwrap();
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
        let (id, _) = idx.resolve(&point("cpu", &[("host", "y")])).unwrap();
        assert_eq!(id, 42);
        assert_eq!(idx.resolve(&point("cpu", &[("host", "x")])).unwrap().0, 41);
    }

    #[test]
    fn forgotten_series_leave_no_trace() {
        let idx = SeriesIndex::new();
        let (a, _) = idx.resolve(&point("cpu", &[("host", "a")])).unwrap();
        let (b, _) = idx
            .resolve(&point("cpu", &[("host", "b"), ("dc", "x")]))
            .unwrap();
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
        let (a2, rec) = idx.resolve(&point("cpu", &[("host", "a")])).unwrap();
        assert!(a2 > b && rec.is_some());
    }

    #[test]
    fn new_series_past_a_limit_are_refused_and_leave_no_trace() {
        let idx = SeriesIndex::with_limits(CardinalityLimits {
            max_series_per_database: 3,
            max_values_per_tag: 2,
        });
        let a = idx.resolve(&point("cpu", &[("host", "a")])).unwrap().0;
        idx.resolve(&point("cpu", &[("host", "b")])).unwrap();
        // A third host value: refused by max_values_per_tag, nothing created.
        let e = idx.resolve(&point("cpu", &[("host", "c")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "max-values-per-tag limit exceeded (2/2): measurement=\"cpu\" tag=\"host\" value=\"c\""
        );
        assert_eq!(idx.tag_value_count("cpu", "host"), 2);
        assert_eq!(idx.series_count(), 2);
        // Values the key has already are fine; other measurements count their own.
        idx.resolve(&point("cpu", &[("host", "a"), ("dc", "x")]))
            .unwrap();
        assert_eq!(idx.series_count(), 3);
        // The fourth series: refused by max_series_per_database; existing ones still resolve.
        let e = idx.resolve(&point("mem", &[("host", "a")])).unwrap_err();
        assert_eq!(e, LimitExceeded::Series { limit: 3 });
        assert_eq!(idx.resolve(&point("cpu", &[("host", "a")])).unwrap().0, a);
        assert!(idx.measurement("mem").is_none(), "refused alone: not kept");
        // Forgetting a series gives back its place and, with its last series, its tag value.
        assert!(idx.forget(a));
        assert_eq!(idx.series_count(), 2);
        idx.resolve(&point("mem", &[("host", "a")])).unwrap();
        assert!(idx.forget(idx.resolve(&point("cpu", &[("host", "b")])).unwrap().0));
        assert_eq!(idx.tag_value_count("cpu", "host"), 1);
        idx.resolve(&point("cpu", &[("host", "c")])).unwrap();
        assert_eq!(idx.tag_value_count("cpu", "host"), 2);
        assert_eq!(idx.series_count(), 3);
    }

    #[test]
    fn series_found_on_disk_count_whatever_the_limit() {
        let idx = SeriesIndex::with_limits(CardinalityLimits {
            max_series_per_database: 2,
            max_values_per_tag: 0,
        });
        for (id, key) in [(1, "cpu,host=a"), (2, "cpu,host=b"), (3, "cpu,host=c")] {
            idx.insert_known(id, key);
        }
        idx.insert_known(3, "cpu,host=c"); // seen again (a table and the WAL): counted once
        assert_eq!(idx.series_count(), 3);
        assert!(idx.resolve(&point("cpu", &[("host", "d")])).is_err());
        assert_eq!(idx.resolve(&point("cpu", &[("host", "c")])).unwrap().0, 3);
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
