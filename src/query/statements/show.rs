//! The SHOW statements that read a database's schema and catalog: databases, retention
//! policies, measurements, tag keys, field keys, tag values and series.

use std::collections::BTreeMap;

use super::{database_for, limit_offset, one_column, selected_measurements, show_series};
use crate::db::Databases as Db;
use crate::error::Result;
use crate::query::influxql::ast::{
    MeasurementName, ShowKeysStatement, ShowMeasurementsStatement, ShowTagValuesStatement,
};
use crate::query::{QueryOptions, SeriesResult, Value};
use crate::retention::go_duration;

/// `SHOW DATABASES` (only those the principal may see).
pub(super) fn databases(db: &Db, opts: &QueryOptions) -> Result<Vec<SeriesResult>> {
    let mut names = db.database_names();
    if let Some(who) = &opts.principal {
        names.retain(|n| db.users().may_see_database(who, n));
    }
    Ok(vec![one_column("databases", "name", names)])
}

/// `SHOW RETENTION POLICIES [ON db]`: the database's one policy.
pub(super) fn retention_policies(
    db: &Db,
    opts: &QueryOptions,
    database: &Option<String>,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database_for(opts, database.as_deref())?)?;
    let rp = d.retention();
    Ok(vec![SeriesResult {
        name: String::new(),
        tags: None,
        columns: [
            "name",
            "duration",
            "shardGroupDuration",
            "replicaN",
            "default",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect(),
        values: vec![vec![
            Value::string(rp.name),
            Value::string(go_duration(rp.duration)),
            Value::string(go_duration(rp.shard_group_duration)),
            Value::Integer(i64::from(rp.replica_n)),
            Value::Boolean(true),
        ]],
    }])
}

/// `SHOW MEASUREMENTS`.
pub(super) fn measurements(
    db: &Db,
    opts: &QueryOptions,
    s: &ShowMeasurementsStatement,
) -> Result<Vec<SeriesResult>> {
    // A database that does not exist has no measurements (1.x answers no error).
    let d = match db.database(database_for(opts, s.database.as_deref())?) {
        Ok(d) => d,
        Err(crate::error::Error::DatabaseNotFound(_)) => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut names = d.index().measurement_names();
    if let Some(c) = &s.condition {
        let mut keep = Vec::new();
        for n in names {
            if !show_series(&d, &n, Some(c))?.is_empty() {
                keep.push(n);
            }
        }
        names = keep;
    }
    if let Some(m) = &s.measurement {
        names.retain(|n| match m {
            MeasurementName::Name(x) => x == n,
            MeasurementName::Regex(r) => r.is_match(n),
        });
    }
    let names = limit_offset(names, s.limit, s.offset);
    Ok(if names.is_empty() {
        Vec::new()
    } else {
        vec![one_column("measurements", "name", names)]
    })
}

/// `SHOW TAG KEYS`.
pub(super) fn tag_keys(
    db: &Db,
    opts: &QueryOptions,
    s: &ShowKeysStatement,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database_for(opts, s.database.as_deref())?)?;
    let mut out = Vec::new();
    for m in selected_measurements(&d, &s.sources) {
        if let Some(mi) = d.index().measurement(&m) {
            let keys = match &s.condition {
                None => mi.tag_keys(),
                Some(c) => {
                    let mut keys: Vec<String> = show_series(&d, &m, Some(c))?
                        .iter()
                        .flat_map(|si| si.tags.iter().map(|(k, _)| k.clone()))
                        .collect();
                    keys.sort();
                    keys.dedup();
                    keys
                }
            };
            let keys = limit_offset(keys, s.limit, s.offset);
            if !keys.is_empty() {
                out.push(one_column(&m, "tagKey", keys));
            }
        }
    }
    Ok(out)
}

/// `SHOW FIELD KEYS`.
pub(super) fn field_keys(
    db: &Db,
    opts: &QueryOptions,
    s: &ShowKeysStatement,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database_for(opts, s.database.as_deref())?)?;
    let mut out = Vec::new();
    for m in selected_measurements(&d, &s.sources) {
        if let Some(mi) = d.index().measurement(&m) {
            let fields: Vec<(String, crate::types::FieldType)> =
                limit_offset(mi.fields().into_iter().collect(), s.limit, s.offset);
            if !fields.is_empty() {
                out.push(SeriesResult {
                    name: m.clone(),
                    tags: None,
                    columns: vec!["fieldKey".into(), "fieldType".into()],
                    values: fields
                        .into_iter()
                        .map(|(k, t)| vec![Value::string(k), Value::string(t.influx_name())])
                        .collect(),
                });
            }
        }
    }
    Ok(out)
}

/// `SHOW TAG VALUES`.
pub(super) fn tag_values(
    db: &Db,
    opts: &QueryOptions,
    s: &ShowTagValuesStatement,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database_for(opts, s.database.as_deref())?)?;
    let mut out = Vec::new();
    for m in selected_measurements(&d, &s.sources) {
        let Some(mi) = d.index().measurement(&m) else {
            continue;
        };
        let mut rows: Vec<(String, String)> = Vec::new();
        for k in mi.tag_keys() {
            if !s.key.matches(&k) {
                continue;
            }
            match &s.condition {
                None => {
                    for v in mi.tag_values(&k) {
                        rows.push((k.clone(), v));
                    }
                }
                Some(c) => {
                    let mut vals: Vec<String> = show_series(&d, &m, Some(c))?
                        .iter()
                        .filter_map(|si| si.tag(&k).map(str::to_string))
                        .collect();
                    vals.sort();
                    vals.dedup();
                    rows.extend(vals.into_iter().map(|v| (k.clone(), v)));
                }
            }
        }
        let rows = limit_offset(rows, s.limit, s.offset);
        if !rows.is_empty() {
            out.push(SeriesResult {
                name: m.clone(),
                tags: None,
                columns: vec!["key".into(), "value".into()],
                values: rows
                    .into_iter()
                    .map(|(k, v)| vec![Value::string(k), Value::string(v)])
                    .collect(),
            });
        }
    }
    Ok(out)
}

/// `SHOW SERIES`.
pub(super) fn series(
    db: &Db,
    opts: &QueryOptions,
    s: &ShowKeysStatement,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database_for(opts, s.database.as_deref())?)?;
    let mut keys: BTreeMap<String, ()> = BTreeMap::new();
    for m in selected_measurements(&d, &s.sources) {
        for info in show_series(&d, &m, s.condition.as_ref())? {
            keys.insert(info.key.clone(), ());
        }
    }
    let keys = limit_offset(keys.into_keys().collect(), s.limit, s.offset);
    Ok(if keys.is_empty() {
        Vec::new()
    } else {
        vec![one_column("", "key", keys)]
    })
}
