//! integral(): InfluxDB 1.x's trapezium rule per bucket, and its streams and rows.

use super::accumulator::{num, Accumulator, AggregateValue};
use super::bucket_map::BucketMap;
use super::join::{join_calls, Stream};
use super::layout::{AggregateCall, Layout, TransformCall, TransformInput};
use crate::query::plan::{AggFn, SelectPlan};
use crate::query::result::Value;
use crate::types::FieldValue;
use std::collections::BTreeMap;

/// The rows of GROUP BY time aggregates among which is an integral: as in 1.x each call is a
/// stream of its own, joined on time ([`join_calls`]); an integral's is its rows
/// ([`integral_rows`], not filled) from the first bucket answered on, each at its bucket's end
/// under ORDER BY time DESC (1.x's integral emits at the end of its newest-first window).
pub(super) fn integral_streams(
    plan: &SelectPlan,
    layout: &Layout,
    filled: Vec<(i64, Vec<AggregateValue>, Vec<bool>)>,
    integrals: &BTreeMap<usize, Vec<(i64, f64)>>,
    out_start: i64,
    interval: i64,
) -> Vec<Vec<Value>> {
    let mut streams: Vec<Stream> = vec![Vec::new(); layout.aggs.len()];
    for (b, outs, _) in filled.into_iter().filter(|f| f.0 >= out_start) {
        for (ai, o) in outs.into_iter().enumerate() {
            if !integrals.contains_key(&ai) {
                streams[ai].push((b, o.value));
            }
        }
    }
    if plan.desc {
        streams.iter_mut().for_each(|s| s.reverse());
    }
    for (&ai, rows) in integrals {
        if let Some(s) = streams.get_mut(ai) {
            *s = integral_stream(rows, out_start, interval, plan.desc);
        }
    }
    join_calls(plan, streams, Vec::new(), &layout.exprs)
}

/// The integrals among the values `outs` of calls `aggs` without GROUP BY time as 1.x
/// answers them: negative newest first (1.x integrates newest first), and, for those without
/// a row ([`integral_ends_at_epoch`]), null and `true` in the answer.
pub(super) fn finish_integrals(
    aggs: &[AggregateCall],
    accs: &[Accumulator],
    outs: &mut [AggregateValue],
    desc: bool,
) -> Vec<bool> {
    aggs.iter()
        .zip(accs)
        .zip(outs.iter_mut())
        .map(|((a, acc), o)| {
            if a.func != AggFn::Integral {
                return false;
            }
            if integral_ends_at_epoch(acc, desc) {
                o.value = Value::Null;
                return true;
            }
            if let (true, Value::Float(x)) = (desc, &mut o.value) {
                *x = -*x;
            }
            false
        })
        .collect()
}

/// Whether 1.x's integral without GROUP BY time gives no row: when the last point it reads
/// (newest first: the oldest) lies at its window's start, which is then 0 (the epoch), as at a
/// bucket's start with GROUP BY time ([`integral_rows`]).
pub(super) fn integral_ends_at_epoch(acc: &Accumulator, desc: bool) -> bool {
    let times = acc.held().iter().map(|h| h.0);
    let last = if desc { times.min() } else { times.max() };
    last == Some(0)
}

/// Each integral's rows ([`integral_rows`]) by call and bucket, in the order it emits them.
pub(super) fn integrals_by_bucket(
    integrals: &BTreeMap<usize, Vec<(i64, f64)>>,
) -> BTreeMap<usize, BTreeMap<i64, Vec<Value>>> {
    let mut by: BTreeMap<usize, BTreeMap<i64, Vec<Value>>> = BTreeMap::new();
    for (&ai, rows) in integrals {
        let at = by.entry(ai).or_default();
        for &(b, x) in rows {
            at.entry(b).or_default().push(Value::Float(x));
        }
    }
    by
}

/// How far past its bucket each transformation's points lie: `shift` (an integral's rows'
/// distance from their bucket) for those over an integral, directly or through other
/// transformations; 0 for the others.
pub(super) fn tr_shifts(
    trs: &[TransformCall],
    integrals: &BTreeMap<usize, Vec<(i64, f64)>>,
    shift: i64,
) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(trs.len());
    for t in trs {
        let s = match t.input {
            TransformInput::Agg(ai) if integrals.contains_key(&ai) => shift,
            TransformInput::Tr(j) => out.get(j).copied().unwrap_or(0),
            _ => 0,
        };
        out.push(s);
    }
    out
}

/// An integral's column from its rows ([`integral_rows`]): those of the buckets from
/// `out_start` on, at the bucket's start (newest first: its end).
pub(super) fn integral_stream(
    rows: &[(i64, f64)],
    out_start: i64,
    interval: i64,
    desc: bool,
) -> Stream {
    let shift = if desc { interval } else { 0 };
    rows.iter()
        .filter(|(b, _)| *b >= out_start)
        .map(|&(b, x)| (b.saturating_add(shift), Value::Float(x)))
        .collect()
}

/// InfluxDB 1.x's integral over GROUP BY time buckets, as its integral reducer emits it: the
/// trapezium rule over the points in time order (newest first for ORDER BY time DESC), a
/// bucket's row emitted when a point past its end arrives, the area up to that end
/// interpolated towards that point (the area over empty buckets between goes to the next
/// bucket with points). Rows are `(bucket, area)` in emission order. Newest first the areas
/// are negative and a bucket ends at its start, so a point exactly at its bucket's start after
/// a newer one of that bucket ends the bucket and opens it again: 1.x then emits the bucket a
/// second time, with 0. The last bucket is not emitted when its last point lies exactly at its
/// start (oldest first: 1.x sees no area in it). For integers 1.x keeps the previous point's
/// value after the interpolation and takes the interpolated value for the crossing point's (a
/// quirk kept).
pub(super) fn integral_rows(
    buckets: &BucketMap,
    ai: usize,
    unit: i64,
    interval: i64,
    desc: bool,
) -> Vec<(i64, f64)> {
    let unit = if unit > 0 { unit } else { 1_000_000_000 } as f64;
    // (time, value, integer, bucket) in the order 1.x feeds them.
    let mut pts: Vec<(i64, f64, bool, i64)> = buckets
        .iter()
        .filter_map(|(b, accs)| accs.get(ai).map(|acc| (*b, acc)))
        .flat_map(|(b, acc)| {
            acc.held()
                .iter()
                .map(move |h| (h.0, num(&h.1), matches!(h.1, FieldValue::Integer(_)), b))
        })
        .collect();
    pts.sort_by_key(|p| p.0);
    if desc {
        pts.reverse();
    }
    let mut rows = Vec::new();
    let mut prev: Option<(i64, f64)> = None;
    let mut window = 0;
    let mut sum = 0.0;
    for (t, v, integer, b) in pts {
        let Some((mut pt, mut pv)) = prev else {
            prev = Some((t, v));
            window = b;
            continue;
        };
        if pt == t {
            prev = Some((t, v));
            continue;
        }
        let mut cur = v;
        let end = if desc {
            window
        } else {
            window.saturating_add(interval)
        };
        if (!desc && t >= end) || (desc && t <= end) {
            if pt != end {
                let value = (v - pv) / (t - pt) as f64 * (end - pt) as f64 + pv;
                sum += 0.5 * (value + pv) * ((end - pt) as f64 / unit);
                if integer {
                    cur = value;
                } else {
                    pv = value;
                }
                pt = end;
            }
            rows.push((window, sum));
            window = b;
            sum = 0.0;
        }
        sum += 0.5 * (cur + pv) * ((t - pt) as f64 / unit);
        prev = Some((t, v));
    }
    let start = if desc {
        window.saturating_add(interval)
    } else {
        window
    };
    if prev.is_some_and(|(pt, _)| pt != start) {
        rows.push((window, sum));
    }
    rows
}
