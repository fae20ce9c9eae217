//! vq SELECT → the logical plan InfluxQL builds ([`SelectPlan`], DESIGN.md §6: one planner,
//! one executor). `SELECT AVG m FROM t BETWEEN a AND b WHERE k=v` is the plan of
//! `SELECT mean(m) FROM t WHERE time >= <a>s AND time <= <b>s AND k = 'v'`; `SELECT DATA` is
//! the plan of `SELECT m FROM t WHERE … GROUP BY *` (raw rows with their tag sets). The tests
//! below compile both texts and compare the plans.

use crate::query::compile::{balanced_tags, call, MAX_TIME, MIN_TIME};
use crate::query::plan::{AggFn, Fill, GroupTags, PlanExpr, Projection, SelectPlan, TagPred};

use super::ast::SelectType;

/// Seconds → nanoseconds.
pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// The InfluxQL function a vq select type runs as (`None`: DATA, raw rows).
pub fn function(kind: SelectType) -> Option<AggFn> {
    match kind {
        SelectType::Data => None,
        SelectType::Avg => Some(AggFn::Mean),
        SelectType::Sum => Some(AggFn::Sum),
        SelectType::Count => Some(AggFn::Count),
        SelectType::Min => Some(AggFn::Min),
        SelectType::Max => Some(AggFn::Max),
    }
}

/// The plan of a vq SELECT whose literals are checked: `function` of `metric` (raw values by
/// tag set when `None`) from `table`, times in `range` (inclusive, seconds; `None`: all), and
/// the point's tags containing each of `filter` (keys distinct).
pub fn select_plan(
    function: Option<AggFn>,
    metric: &str,
    table: &str,
    range: Option<(u64, u64)>,
    filter: &[(String, String)],
    now: i64,
) -> SelectPlan {
    let (projection, group_tags) = match function {
        None => (
            Projection {
                expr: PlanExpr::Var(metric.to_string()),
                name: metric.to_string(),
                aliased: false,
            },
            GroupTags::All,
        ),
        Some(f) => (
            Projection {
                expr: PlanExpr::Call(Box::new(call(f, PlanExpr::Var(metric.to_string())))),
                name: f.name().to_string(),
                aliased: false,
            },
            GroupTags::None,
        ),
    };
    let terms = filter
        .iter()
        .map(|(k, v)| TagPred::Eq(k.clone(), v.clone()))
        .collect();
    let seconds = |s: u64| (s as i64).saturating_mul(NANOS_PER_SECOND);
    SelectPlan {
        measurements: vec![table.to_string()],
        measurement_regexes: Vec::new(),
        tag_filter: balanced_tags(TagPred::True, terms),
        field_filter: None,
        tmin: range.map_or(MIN_TIME, |(a, _)| seconds(a)),
        tmax: range.map_or(MAX_TIME, |(_, b)| seconds(b)),
        has_tmin: range.is_some(),
        has_tmax: range.is_some(),
        projections: vec![projection],
        group_regexes: Vec::new(),
        group_time: None,
        group_tags,
        fill: Fill::Null,
        desc: false,
        limit: 0,
        offset: 0,
        slimit: 0,
        soffset: 0,
        now,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::query::influxql::ast::Statement;

    /// vq's plan is exactly the plan of the InfluxQL text that means the same.
    #[test]
    fn vq_selects_compile_to_the_influxql_plan() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(dir.path(), crate::Config::new()).unwrap();
        db.create_database("vq").unwrap();
        db.write_lines("vq", "t,k=v,j=w m=1 5000000000\n").unwrap();
        let d = db.database("vq").unwrap();
        let now = 42;
        let influx = |q: &str| {
            let st = crate::query::influxql::parse(q).unwrap();
            let Statement::Select(s) = &st[0] else {
                panic!("{q}")
            };
            format!(
                "{:?}",
                crate::query::compile::compile_select(&d, s, now).unwrap()
            )
        };
        let kv = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let cases = [
            (
                "SELECT mean(m) FROM t WHERE time >= 1s AND time <= 9s AND k = 'v'",
                select_plan(
                    Some(AggFn::Mean),
                    "m",
                    "t",
                    Some((1, 9)),
                    &kv(&[("k", "v")]),
                    now,
                ),
            ),
            (
                "SELECT sum(m) FROM t",
                select_plan(Some(AggFn::Sum), "m", "t", None, &[], now),
            ),
            (
                "SELECT count(m) FROM t WHERE time >= 5s AND time <= 5s AND k = 'v' AND j = 'w'",
                select_plan(
                    Some(AggFn::Count),
                    "m",
                    "t",
                    Some((5, 5)),
                    &kv(&[("k", "v"), ("j", "w")]),
                    now,
                ),
            ),
            (
                "SELECT min(m) FROM t WHERE a = 'x' AND b = 'y' AND c = 'z'",
                select_plan(
                    Some(AggFn::Min),
                    "m",
                    "t",
                    None,
                    &kv(&[("a", "x"), ("b", "y"), ("c", "z")]),
                    now,
                ),
            ),
            (
                "SELECT max(m) FROM t",
                select_plan(Some(AggFn::Max), "m", "t", None, &[], now),
            ),
            (
                "SELECT m FROM t WHERE time >= 0s AND time <= 7s AND k = 'v' GROUP BY *",
                select_plan(None, "m", "t", Some((0, 7)), &kv(&[("k", "v")]), now),
            ),
        ];
        for (q, plan) in cases {
            assert_eq!(format!("{plan:?}"), influx(q), "{q}");
        }
    }
}
