//! The time ranges an aggregate call reads and the buckets a statement computes, widened for
//! transformations that look back.

use super::layout::{Layout, TransformCall, TransformInput};
use crate::query::plan::{AggFn, SelectPlan};

/// The time range every aggregate call reads. As in InfluxDB 1.x each call is its own
/// iterator: an aggregate column reads the statement's range, so its first and last buckets
/// may be partial; the aggregate a transformation reads over GROUP BY time reads [`tr_reach`]
/// intervals more (not buckets: its range is shifted, so the statement's first bucket is whole
/// and the one before it partial), before the start, or newest first past the end.
pub(super) fn call_windows(plan: &SelectPlan, layout: &mut Layout) {
    for a in &mut layout.aggs {
        (a.from, a.to) = (plan.tmin, plan.tmax);
    }
    let interval = plan.group_time.map_or(0, |g| g.0);
    if interval <= 0 {
        return;
    }
    let extra = extra_intervals(&layout.trs);
    for (t, reach) in layout.trs.iter().zip(tr_reaches(&layout.trs)) {
        let TransformInput::Agg(ai) = t.input else {
            continue;
        };
        let reach = reach.min(extra).saturating_mul(interval);
        let a = &mut layout.aggs[ai];
        if plan.desc {
            a.to = plan.tmax.saturating_add(reach);
        } else if plan.has_tmin {
            a.from = plan.tmin.saturating_sub(reach);
        }
    }
}

/// GROUP BY time intervals the aggregate under a transformation reads beyond the statement's
/// range, before its start (newest first: past its end): as InfluxDB 1.x does, one for any
/// transformation that looks back at all (moving_average of any window too), none for
/// cumulative_sum.
pub(super) fn tr_reach(t: &TransformCall) -> i64 {
    match t.func {
        // holt_winters reads only the statement's buckets, as in 1.x.
        AggFn::CumulativeSum | AggFn::HoltWinters | AggFn::HoltWintersWithFit => 0,
        _ => 1,
    }
}

/// The intervals each transformation reads beyond the statement's range: its own
/// [`tr_reach`] and those of the transformations its output feeds (1.x widens the range at
/// every level of `derivative(difference(mean(x)))`).
pub(super) fn tr_reaches(trs: &[TransformCall]) -> Vec<i64> {
    let mut total: Vec<i64> = trs.iter().map(tr_reach).collect();
    // An input transformation comes before the one it feeds.
    for i in (0..trs.len()).rev() {
        if let TransformInput::Tr(j) = trs[i].input {
            if j < i {
                total[j] = total[j].saturating_add(total[i]);
            }
        }
    }
    total
}

/// The intervals InfluxDB 1.x reads data beyond the statement's range at most, whatever the
/// transformations' own ranges ([`tr_reaches`]): the largest any transformation asks for
/// (moving_average its window). Under a transformation of a transformation the buckets reach
/// further than the data: those are empty (filled).
pub(super) fn extra_intervals(trs: &[TransformCall]) -> i64 {
    trs.iter()
        .map(|t| match t.func {
            AggFn::MovingAverage => t.n as i64,
            _ => tr_reach(t),
        })
        .max()
        .unwrap_or(0)
}

/// The buckets a GROUP BY time statement computes, as a time range: the statement's, widened
/// as far as a transformation reads ([`tr_reaches`]), before the start (newest first: past
/// the end).
pub(super) fn bucket_span(plan: &SelectPlan, layout: &Layout) -> (i64, i64) {
    let interval = plan.group_time.map_or(0, |g| g.0);
    let reach = tr_reaches(&layout.trs)
        .into_iter()
        .max()
        .unwrap_or(0)
        .saturating_mul(interval.max(0));
    if plan.desc {
        (plan.tmin, plan.tmax.saturating_add(reach))
    } else if plan.has_tmin {
        (plan.tmin.saturating_sub(reach), plan.tmax)
    } else {
        (plan.tmin, plan.tmax)
    }
}

/// The time range a statement reads: every aggregate call's ([`call_windows`]).
pub(super) fn read_window(plan: &SelectPlan, layout: &Layout) -> (i64, i64) {
    let from = layout
        .aggs
        .iter()
        .map(|a| a.from)
        .min()
        .unwrap_or(plan.tmin);
    let to = layout.aggs.iter().map(|a| a.to).max().unwrap_or(plan.tmax);
    (from.min(plan.tmin), to.max(plan.tmax))
}
