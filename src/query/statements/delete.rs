//! DELETE, DROP SERIES and DROP MEASUREMENT: the matching points deleted by rewriting the
//! tables that hold them (`crate::delete`).

use super::{database_for, selected_measurements, source_database};
use crate::database::Database;
use crate::db::Databases as Db;
use crate::error::{Error, Result};
use crate::query::influxql::ast::{Expr, Source};
use crate::query::{compile, QueryOptions, SeriesResult};

/// `DELETE FROM m [WHERE …]` / `DELETE WHERE …`.
pub(super) fn delete(
    db: &Db,
    opts: &QueryOptions,
    source: &Option<Source>,
    condition: &Option<Expr>,
    now: i64,
) -> Result<Vec<SeriesResult>> {
    let named = match source {
        Some(Source::Measurement(m)) => m.database.as_deref(),
        _ => None,
    };
    let d = db.database(database_for(opts, named)?)?;
    let measurements = match source {
        Some(s) => selected_measurements(&d, std::slice::from_ref(s)),
        None => d.index().measurement_names(),
    };
    delete_where(&d, &measurements, condition.as_ref(), now, true)?;
    Ok(Vec::new())
}

/// `DROP SERIES [FROM …] [WHERE …]`.
pub(super) fn drop_series(
    db: &Db,
    opts: &QueryOptions,
    sources: &[Source],
    condition: &Option<Expr>,
    now: i64,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database_for(opts, source_database(sources))?)?;
    let measurements = selected_measurements(&d, sources);
    delete_where(&d, &measurements, condition.as_ref(), now, false)?;
    Ok(Vec::new())
}

/// `DROP MEASUREMENT name`.
pub(super) fn drop_measurement(
    db: &Db,
    opts: &QueryOptions,
    name: &str,
    now: i64,
) -> Result<Vec<SeriesResult>> {
    let d = db.database(database_for(opts, None)?)?;
    delete_where(&d, &[name.to_string()], None, now, false)?;
    Ok(Vec::new())
}

/// Delete the points of `measurements` matching `cond` (tags and time bounds only). DROP SERIES
/// (`time_allowed` false) deletes whole series, so it refuses time bounds as InfluxDB 1.x does.
fn delete_where(
    d: &Database,
    measurements: &[String],
    cond: Option<&Expr>,
    now: i64,
    time_allowed: bool,
) -> Result<()> {
    let (tags, tmin, tmax) = compile::compile_delete_condition(d, measurements, cond, now)?;
    if !time_allowed && (tmin, tmax) != (compile::MIN_TIME, compile::MAX_TIME) {
        return Err(Error::Query(
            "DROP SERIES doesn't support time in WHERE clause".into(),
        ));
    }
    let index = d.index();
    let mut series = std::collections::BTreeSet::new();
    for m in measurements {
        let Some(mi) = index.measurement(m) else {
            continue;
        };
        let ids = tags.candidates(&mi);
        series.extend(ids.into_iter().filter(|id| {
            index
                .get(*id)
                .is_some_and(|s| tags.eval(&|k: &str| s.tag(k)))
        }));
    }
    // Delete the whole range InfluxQL can name: MIN_TIME/MAX_TIME stand for "unbounded".
    let lo = if tmin == compile::MIN_TIME {
        i64::MIN
    } else {
        tmin
    };
    let hi = if tmax == compile::MAX_TIME {
        i64::MAX
    } else {
        tmax
    };
    crate::delete::delete_points(d, series, lo, hi)?;
    Ok(())
}
