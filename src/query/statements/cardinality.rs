//! The cardinality statements (`SHOW SERIES [EXACT] CARDINALITY`, `SHOW MEASUREMENT …`, `SHOW
//! TAG KEY …`, `SHOW TAG VALUES … WITH KEY …`, `SHOW FIELD KEY …`), answered as InfluxDB 1.x
//! answers them:
//! - `SHOW SERIES CARDINALITY` and `SHOW MEASUREMENT CARDINALITY` with nothing but `ON` answer
//!   one `cardinality estimation` for the database (0 for a database that does not exist);
//!   strata's estimate is the exact count, read from the series index;
//! - every other form counts, like a `SELECT count(distinct(…)) AS count` 1.x rewrites it to:
//!   one `count` row per measurement (the whole database's for measurements), per group of
//!   `GROUP BY` tags (a series lacking a tag groups under ""), only where the count is not 0;
//!   `LIMIT` and `OFFSET` apply to that one row, so an `OFFSET` leaves nothing;
//! - the WHERE condition is over tags, and may not name time; a comparison naming a field, or
//!   ordering (`<`, `>=`, …), is false (series have no field values).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::{database_for, limit_offset, selected_measurements, show_series};
use crate::database::Database;
use crate::db::Databases as Db;
use crate::error::{Error, Result};
use crate::query::influxql::ast::{BinaryOp, Dimension, Expr};
use crate::query::influxql::{CardinalityOf, ShowCardinalityStatement};
use crate::query::{QueryOptions, SeriesResult, Value};
use crate::series::SeriesInfo;

/// Run a cardinality statement.
pub(super) fn show(
    db: &Db,
    opts: &QueryOptions,
    s: &ShowCardinalityStatement,
) -> Result<Vec<SeriesResult>> {
    let name = database_for(opts, s.database.as_deref())?;
    if is_estimate(s) {
        let count = match db.database(name) {
            Ok(d) => match s.of {
                CardinalityOf::Measurements => d.index().measurement_names().len(),
                _ => d.index().series_count(),
            },
            Err(Error::DatabaseNotFound(_)) => 0,
            Err(e) => return Err(e),
        };
        return Ok(vec![SeriesResult {
            name: String::new(),
            tags: None,
            columns: vec!["cardinality estimation".into()],
            values: vec![vec![Value::Integer(saturating_i64(count))]],
        }]);
    }
    if let Some(c) = &s.condition {
        if names_time(c) {
            return Err(Error::Query(format!(
                "{} EXACT CARDINALITY doesn't support time in WHERE clause",
                s.prefix()
            )));
        }
    }
    if s.dimensions
        .iter()
        .any(|d| matches!(d, Dimension::Time { .. }))
    {
        return Err(Error::Query(format!(
            "{} EXACT CARDINALITY does not group by time(): group by tags",
            s.prefix()
        )));
    }
    let d = db.database(name)?;
    let mut out = Vec::new();
    // Measurements: how many have a matching series in each group, over the database.
    let mut measurements_per_group: BTreeMap<Vec<(String, String)>, usize> = BTreeMap::new();
    for m in selected_measurements(&d, &s.sources) {
        let condition = s
            .condition
            .as_ref()
            .map(|c| without_field_comparisons(c, &|name| is_field(&d, &m, name)));
        let series = show_series(&d, &m, condition.as_ref())?;
        if series.is_empty() {
            continue;
        }
        let keys = group_keys(&d, &m, &s.dimensions);
        for (values, members) in groups(&keys, &series) {
            let tags: Vec<(String, String)> = keys.iter().cloned().zip(values).collect();
            let count = match &s.of {
                CardinalityOf::Measurements => {
                    *measurements_per_group.entry(tags).or_insert(0) += 1;
                    continue;
                }
                CardinalityOf::Series => members.len(),
                CardinalityOf::TagKeys => members
                    .iter()
                    .flat_map(|si| si.tags.iter().map(|(k, _)| k.as_str()))
                    .collect::<BTreeSet<&str>>()
                    .len(),
                CardinalityOf::TagValues(filter) => members
                    .iter()
                    .flat_map(|si| si.tags.iter())
                    .filter(|(k, _)| filter.matches(k))
                    .map(|(_, v)| v.as_str())
                    .collect::<BTreeSet<&str>>()
                    .len(),
                CardinalityOf::FieldKeys => {
                    d.index().measurement(&m).map_or(0, |mi| mi.fields().len())
                }
            };
            out.extend(count_series(s, &m, tags, count));
        }
    }
    for (tags, count) in measurements_per_group {
        out.extend(count_series(s, "", tags, count));
    }
    Ok(out)
}

/// Whether the statement answers the database's estimate rather than counting.
fn is_estimate(s: &ShowCardinalityStatement) -> bool {
    !s.exact
        && matches!(s.of, CardinalityOf::Series | CardinalityOf::Measurements)
        && s.sources.is_empty()
        && s.condition.is_none()
        && s.dimensions.is_empty()
        && s.limit.is_none()
        && s.offset.is_none()
}

/// Whether `name` is a field of measurement `m`.
fn is_field(d: &Database, m: &str, name: &str) -> bool {
    d.index()
        .measurement(m)
        .is_some_and(|mi| mi.field_type(name).is_some())
}

/// The condition with every comparison that cannot be about tags (naming a field, or ordering:
/// `<`, `>=`, …) made false: 1.x counts over series, which have no field values, so `host = 'a'
/// AND usage > 50` counts nothing and `host = 'a' OR usage > 50` the series of host a.
fn without_field_comparisons(c: &Expr, is_field: &dyn Fn(&str) -> bool) -> Expr {
    match c {
        Expr::Binary { op, lhs, rhs } if op.is_comparison() => {
            let names_field =
                |e: &Expr| matches!(e.unparen(), Expr::VarRef { name, .. } if is_field(name));
            let tag_operator = matches!(
                op,
                BinaryOp::Eq | BinaryOp::Neq | BinaryOp::EqRegex | BinaryOp::NeqRegex
            );
            if !tag_operator || names_field(lhs) || names_field(rhs) {
                Expr::Boolean(false)
            } else {
                c.clone()
            }
        }
        Expr::Binary { op, lhs, rhs } => Expr::Binary {
            op: *op,
            lhs: Box::new(without_field_comparisons(lhs, is_field)),
            rhs: Box::new(without_field_comparisons(rhs, is_field)),
        },
        Expr::Paren(x) => Expr::Paren(Box::new(without_field_comparisons(x, is_field))),
        Expr::Not(x) => Expr::Not(Box::new(without_field_comparisons(x, is_field))),
        other => other.clone(),
    }
}

/// Whether the condition names `time`.
fn names_time(c: &Expr) -> bool {
    let mut found = false;
    c.walk(&mut |e| {
        if matches!(e, Expr::VarRef { name, .. } if name == "time") {
            found = true;
        }
    });
    found
}

/// The tag keys measurement `m` groups by, sorted (1.x orders its groups that way): named
/// tags, every tag (`*`), the tags a regex matches.
fn group_keys(d: &Database, m: &str, dimensions: &[Dimension]) -> Vec<String> {
    let tag_keys = d
        .index()
        .measurement(m)
        .map(|mi| mi.tag_keys())
        .unwrap_or_default();
    let mut keys = BTreeSet::new();
    for dim in dimensions {
        match dim {
            Dimension::Tag(k) => {
                keys.insert(k.clone());
            }
            Dimension::Wildcard => keys.extend(tag_keys.iter().cloned()),
            Dimension::Regex(r) => keys.extend(tag_keys.iter().filter(|k| r.is_match(k)).cloned()),
            Dimension::Time { .. } => {}
        }
    }
    keys.into_iter().collect()
}

/// The series by their values of `keys` ("" where a series lacks one), in order of values.
fn groups<'a>(
    keys: &[String],
    series: &'a [Arc<SeriesInfo>],
) -> BTreeMap<Vec<String>, Vec<&'a SeriesInfo>> {
    let mut out: BTreeMap<Vec<String>, Vec<&SeriesInfo>> = BTreeMap::new();
    for si in series {
        let values = keys
            .iter()
            .map(|k| si.tag(k).unwrap_or_default().to_string())
            .collect();
        out.entry(values).or_default().push(si.as_ref());
    }
    out
}

/// One group's `count` series, unless the count is 0 or LIMIT/OFFSET leave no row.
fn count_series(
    s: &ShowCardinalityStatement,
    name: &str,
    tags: Vec<(String, String)>,
    count: usize,
) -> Option<SeriesResult> {
    if count == 0 {
        return None;
    }
    let rows = limit_offset(
        vec![vec![Value::Integer(saturating_i64(count))]],
        s.limit,
        s.offset,
    );
    if rows.is_empty() {
        return None;
    }
    let tags = (!s.dimensions.is_empty()).then(|| tags.into_iter().collect());
    Some(SeriesResult {
        name: name.to_string(),
        tags,
        columns: vec!["count".into()],
        values: rows,
    })
}

fn saturating_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}
