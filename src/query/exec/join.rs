//! Joining columns answered as separate streams on time, as InfluxDB 1.x joins the iterators
//! of a statement's calls.

use super::expr::eval;
use super::layout::ColumnExpr;
use crate::query::plan::{Fill, SelectPlan};
use crate::query::result::Value;

/// One column's answer: (time, value) in output order.
pub(super) type Stream = Vec<(i64, Value)>;

/// Join columns answered separately on time, as InfluxDB 1.x joins the iterators of a
/// statement's calls: OFFSET and LIMIT apply to each column; each row takes the earliest (DESC:
/// latest) time any column has next, with a value from every column whose next point has that
/// time and null from the others.
pub(super) fn join_streams(plan: &SelectPlan, streams: Vec<Stream>) -> Vec<Vec<Value>> {
    let mut its: Vec<_> = streams
        .into_iter()
        .map(|s| {
            let it = s.into_iter().skip(plan.offset);
            let s: Stream = if plan.limit > 0 {
                it.take(plan.limit).collect()
            } else {
                it.collect()
            };
            s.into_iter().peekable()
        })
        .collect();
    // A column without a point at a row's time: null, or fill(<number>)'s number (1.x fills
    // the joined row with it).
    let missing = match plan.fill {
        Fill::Value(x) if plan.group_time.is_some() => Value::Float(x),
        _ => Value::Null,
    };
    let mut rows = Vec::new();
    loop {
        let heads = its.iter_mut().filter_map(|it| it.peek().map(|p| p.0));
        let next = if plan.desc { heads.max() } else { heads.min() };
        let Some(t) = next else {
            break;
        };
        let mut row = Vec::with_capacity(its.len() + 1);
        row.push(Value::Time(t));
        for (c, it) in its.iter_mut().enumerate() {
            let v = match it.next_if(|p| p.0 == t) {
                Some((_, v)) => v,
                // fill(previous): the column's value in the row before (1.x fills the joined
                // row so).
                None if plan.fill == Fill::Previous => rows
                    .last()
                    .and_then(|r: &Vec<Value>| r.get(c + 1).cloned())
                    .unwrap_or(Value::Null),
                None => missing.clone(),
            };
            row.push(v);
        }
        rows.push(row);
    }
    rows
}

/// The rows of columns over calls that each answer their own stream (the aggregates', then
/// the transformations'), as InfluxDB 1.x evaluates a statement over its calls' iterators: the
/// streams are joined on time ([`join_streams`]: OFFSET and LIMIT apply to each), and every
/// column is evaluated over each joined row, a call without a point at that time being null
/// (so `derivative(a) + difference(b)` is null where only one of them yields).
pub(super) fn join_calls(
    plan: &SelectPlan,
    aggs: Vec<Stream>,
    trs: Vec<Stream>,
    exprs: &[ColumnExpr],
) -> Vec<Vec<Value>> {
    let naggs = aggs.len();
    let joined = join_streams(plan, aggs.into_iter().chain(trs).collect());
    joined
        .into_iter()
        .map(|row| {
            let (time, calls) = row.split_at(1);
            let (aggv, trv) = calls.split_at(naggs.min(calls.len()));
            let mut out = Vec::with_capacity(exprs.len() + 1);
            out.extend_from_slice(time);
            out.extend(exprs.iter().map(|e| eval(e, &[], aggv, trv)));
            out
        })
        .collect()
}
