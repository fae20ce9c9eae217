//! Aggregation of one group: every call's points folded into per-bucket accumulators (from
//! pre-aggregated blocks where a whole block answers), then the buckets answered, filled and
//! handed to transformations.

use super::accumulator::{block_answers, Acc, Out};
use super::bucket_map::BucketMap;
use super::check;
use super::expr::{collect_vars, eval, value_to_field};
use super::fill::{fill_linear, fill_previous};
use super::group::GroupCtx;
use super::integral::{finish_integrals, integral_rows, integral_streams};
use super::join::{join_calls, Stream};
use super::layout::VarSrc;
use super::raw::limit_rows;
use super::transform::TrState;
use super::windows::{bucket_span, read_window};
use crate::error::{Error, Result};
use crate::query::plan::{AggFn, Fill, SelectPlan};
use crate::query::result::Value;
use crate::query::scan::Segment;
use crate::series::SeriesInfo;
use crate::sstable::BlockMeta;
use crate::types::FieldValue;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Most GROUP BY time buckets one query may produce.
pub(super) const MAX_BUCKETS: i64 = 10_000_000;

/// The end of the run of `ts` (sorted) from `j` on whose times are before `next`: `j` plus the
/// run's length, found by galloping from `j` (a bucket's run is usually short) then bisecting.
pub(super) fn run_end(ts: &[i64], j: usize, next: i64) -> usize {
    let mut lo = j;
    let mut step = 1;
    while let Some(&t) = ts.get(lo + step - 1) {
        if t >= next {
            break;
        }
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(ts.len());
    lo + ts[lo..hi].partition_point(|&t| t < next)
}

impl GroupCtx<'_> {
    /// Aggregates per (bucket), then expressions, transformations and fill.
    pub(super) fn aggregate(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Vec<Value>>> {
        let l = self.l;
        // Transformations read past the statement's range ([`call_windows`]): the buckets are
        // computed over the widened range, every call over its own, and the columns cut at
        // the statement's buckets.
        let (read_min, read_max) = read_window(self.plan, l);
        let widened;
        let plan = match read_max {
            t if t != self.plan.tmax => {
                widened = SelectPlan {
                    tmax: t,
                    ..self.plan.clone()
                };
                &widened
            }
            _ => self.plan,
        };
        let (interval, offset) = plan.group_time.unwrap_or((0, 0));
        let bucket_of = |t: i64| -> i64 {
            if interval > 0 {
                (t - offset).div_euclid(interval) * interval + offset
            } else {
                0
            }
        };
        // Aux columns beside a single selector come from the selected point.
        let aux: Vec<usize> = {
            let mut v = Vec::new();
            for e in &l.exprs {
                collect_vars(e, &mut v);
            }
            for a in &l.aggs {
                v.extend(a.tags.iter().copied());
            }
            v.sort();
            v.dedup();
            v
        };
        let mut buckets = BucketMap::default();
        let mut data_min = i64::MAX;
        // Held accumulator buffers (median, distinct, top, …) until the buckets are answered.
        let mut held = self.snap.mem.charge(0)?;
        // Beside a transformation a selector's row is the bucket's (or the query's start).
        let single_selector = l.aggs.len() == 1 && l.aggs[0].func.is_selector() && l.trs.is_empty();
        // Without a field condition or columns taken from the selected point, every call
        // reads its field alone: (series, field) runs stream in, and whole blocks inside one
        // bucket may be answered from their pre-aggregates.
        let per_field = plan.field_filter.is_none()
            && aux.is_empty()
            && l.aggs.iter().all(|a| self.is_field_var(a.field));
        if per_field {
            // No column comes from the selected point (`aux` is empty): a pick holds no values
            // beside it (no allocation per pick), and `eval` reads a missing var as null.
            let no_aux = Vec::new;
            // min/max from a block lose the selected point's time: only when it is not shown.
            let time_free = interval > 0 || !single_selector;
            let mut field_vars: Vec<usize> = l.aggs.iter().map(|a| a.field).collect();
            field_vars.sort_unstable();
            field_vars.dedup();
            let read_max =
                self.first_buckets_end(plan, members, &field_vars, read_min, &bucket_of)?;
            // The (call, first, end) points each call reads of a chunk, and of a bucket's run
            // within it; reused.
            let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(l.aggs.len());
            let mut reads: Vec<(usize, usize, usize)> = Vec::with_capacity(l.aggs.len());
            for s in members {
                check(self.token)?;
                for &fv in &field_vars {
                    let VarSrc::Field(fi) = self.srcs[fv] else {
                        continue;
                    };
                    let calls: Vec<usize> = (0..l.aggs.len())
                        .filter(|&ai| l.aggs[ai].field == fv)
                        .collect();
                    let use_agg = |b: &BlockMeta| {
                        self.snap.preaggregates
                            && bucket_of(b.min_ts) == bucket_of(b.max_ts)
                            && calls.iter().all(|&ai| {
                                let a = &l.aggs[ai];
                                a.reads(b.min_ts)
                                    && a.reads(b.max_ts)
                                    && block_answers(a, b, time_free)
                            })
                    };
                    let mut segs = self.snap.segments(
                        self.tables,
                        s.id,
                        &self.fields[fi],
                        read_min,
                        read_max,
                        &use_agg,
                    )?;
                    while let Some(seg) = segs.next()? {
                        check(self.token)?;
                        match seg {
                            Segment::Block(b) => {
                                data_min = data_min.min(b.min_ts);
                                let accs = buckets.entry(bucket_of(b.min_ts), l.aggs.len());
                                for &ai in &calls {
                                    accs[ai].add_block(&l.aggs[ai], &b);
                                }
                            }
                            Segment::Points(col) => {
                                // The chunk is in time order: each bucket's points are one run,
                                // and each call's window a run within it, so the bucket is
                                // looked up once per run and a call folds its run at once.
                                let ts = &col.timestamps;
                                // Each call's points of the chunk: its window, found once.
                                spans.clear();
                                spans.extend(calls.iter().map(|&ai| {
                                    let a = &l.aggs[ai];
                                    let lo = ts.partition_point(|&t| t < a.from);
                                    (ai, lo, lo + ts[lo..].partition_point(|&t| t <= a.to))
                                }));
                                let mut j = 0;
                                while j < ts.len() {
                                    let b = bucket_of(ts[j]);
                                    let end = if interval > 0 {
                                        run_end(ts, j, b.saturating_add(interval))
                                    } else {
                                        ts.len()
                                    };
                                    reads.clear();
                                    reads.extend(
                                        spans
                                            .iter()
                                            .map(|&(ai, lo, hi)| (ai, lo.max(j), hi.min(end)))
                                            .filter(|&(_, lo, hi)| lo < hi),
                                    );
                                    if let Some(first) = reads.iter().map(|r| ts[r.1]).min() {
                                        data_min = data_min.min(first);
                                        let accs = buckets.entry(b, l.aggs.len());
                                        for &(ai, lo, hi) in &reads {
                                            let a = &l.aggs[ai];
                                            if accs[ai].add_floats(
                                                a,
                                                ts,
                                                &col.values,
                                                lo..hi,
                                                &no_aux,
                                            ) {
                                                continue;
                                            }
                                            for (k, &t) in ts.iter().enumerate().take(hi).skip(lo) {
                                                let v = col.values.get(k);
                                                held.add(accs[ai].add(a, t, v, &no_aux))?;
                                            }
                                        }
                                    }
                                    j = end;
                                }
                            }
                        }
                    }
                }
            }
        }
        for s in members.iter().filter(|_| !per_field) {
            self.for_each_row(s, read_min, plan.tmax, &mut |ts, vals| {
                let b = bucket_of(ts);
                let xs: Vec<Option<FieldValue>> = l
                    .aggs
                    .iter()
                    .map(|a| {
                        a.reads(ts)
                            .then(|| value_to_field(&self.var_value(a.field, vals, s)))
                            .flatten()
                    })
                    .collect();
                if xs.iter().all(Option::is_none) {
                    return Ok(());
                }
                data_min = data_min.min(ts);
                let accs = buckets.entry(b, l.aggs.len());
                let auxv = || -> Vec<Value> {
                    let mut all = vec![Value::Null; l.vars.len()];
                    for v in &aux {
                        all[*v] = self.var_value(*v, vals, s);
                    }
                    all
                };
                for (ai, (a, x)) in l.aggs.iter().zip(xs).enumerate() {
                    if let Some(fv) = x {
                        held.add(accs[ai].add(a, ts, fv, &auxv))?;
                    }
                }
                Ok(())
            })?;
        }
        if buckets.is_empty() {
            return Ok(Vec::new());
        }
        // Each integral's rows over the buckets (GROUP BY time), by call.
        let integrals: BTreeMap<usize, Vec<(i64, f64)>> = l
            .aggs
            .iter()
            .enumerate()
            .filter(|(_, a)| interval > 0 && a.func == AggFn::Integral)
            .map(|(ai, a)| (ai, integral_rows(&buckets, ai, a.unit, interval, plan.desc)))
            .collect();
        let finals = |accs: &mut [Acc]| -> Vec<Out> {
            l.aggs
                .iter()
                .zip(accs.iter_mut())
                .map(|(a, acc)| acc.finish(a))
                .collect()
        };

        // Multi-row functions (top, bottom, distinct) are alone in their query.
        let multi = l
            .aggs
            .iter()
            .position(|a| a.func.is_multi_row() && !a.count_distinct);
        // … unless it feeds transformations (`derivative(distinct(x))`): then its rows are
        // the transformations' input, bucket by bucket.
        let (multi, multi_input) = if l.trs.is_empty() {
            (multi, None)
        } else {
            (None, multi)
        };
        let mut multi_rows: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let row_of = |time: i64, outs: &[Out], pick_aux: Option<&[Value]>, trv: &[Value]| {
            let aggv: Vec<Value> = outs.iter().map(|o| o.value.clone()).collect();
            // Without the selected point's values every var is null (`eval` reads a missing
            // var as null).
            let vars = pick_aux.unwrap_or(&[]);
            let mut row = Vec::with_capacity(1 + l.exprs.len());
            row.push(Value::Time(time));
            for e in &l.exprs {
                row.push(eval(e, vars, &aggv, trv));
            }
            row
        };
        if interval == 0 {
            let mut accs = buckets.into_first().unwrap_or_default();
            let base = if plan.has_tmin { plan.tmin } else { 0 };
            if let Some(mi) = multi {
                let points = accs[mi].finish_rows(&l.aggs[mi]);
                for (ts, v, auxv) in bucket_order(points, plan.desc) {
                    let time = if l.aggs[mi].func == AggFn::Distinct {
                        base
                    } else {
                        ts
                    };
                    let out = Out {
                        value: v,
                        time: Some(ts),
                        aux: None,
                    };
                    rows.push(row_of(time, std::slice::from_ref(&out), Some(&auxv), &[]));
                }
            } else if !l.trs.is_empty() {
                // Aggregates beside transformations of raw points (1.x allows it without
                // GROUP BY time): each aggregate's one row at the query's start and each
                // transformation's rows, joined on time; an expression of both is null where
                // they do not meet.
                let mut outs = finals(&mut accs);
                let gone = finish_integrals(&l.aggs, &accs, &mut outs, plan.desc);
                let aggs: Vec<Stream> = outs
                    .into_iter()
                    .zip(gone)
                    .map(|(o, gone)| {
                        if gone {
                            Vec::new()
                        } else {
                            vec![(base, o.value)]
                        }
                    })
                    .collect();
                let trs = self.raw_tr_streams(members)?;
                return Ok(join_calls(plan, aggs, trs, &l.exprs));
            } else {
                let mut outs = finals(&mut accs);
                let gone = finish_integrals(&l.aggs, &accs, &mut outs, plan.desc);
                let time = match (single_selector, outs.first().and_then(|o| o.time)) {
                    (true, Some(t)) => t,
                    _ => base,
                };
                let aux = outs.first().and_then(|o| o.aux.clone());
                if !gone.iter().all(|g| *g) {
                    rows.push(row_of(time, &outs, aux.as_deref(), &[]));
                }
            }
        } else {
            let (span_min, span_max) = bucket_span(self.plan, l);
            let start = bucket_of(if plan.has_tmin {
                span_min.min(read_min)
            } else {
                data_min
            });
            let out_start = if plan.has_tmin {
                bucket_of(plan.tmin)
            } else {
                start
            };
            let end = bucket_of(span_max.max(plan.tmax));
            if end < start {
                return Ok(Vec::new());
            }
            if (end - start) / interval >= MAX_BUCKETS {
                return Err(Error::Query(format!(
                    "GROUP BY time({interval}ns) over this time range gives more than {MAX_BUCKETS} buckets; use a larger interval or a narrower time range"
                )));
            }
            // LIMITS: max_select_buckets, before any bucket is made; then every bucket's row is
            // charged to the query's memory before it is made (fill makes one per interval,
            // with or without points).
            self.snap
                .limits
                .check_buckets(((end - start) / interval + 1) as u64)?;
            let calls = l.aggs.len();
            let filled_row = (std::mem::size_of::<(i64, Vec<Out>, Vec<bool>)>()
                + calls * (std::mem::size_of::<Out>() + 1)) as u64;
            let out_row = (std::mem::size_of::<Vec<Value>>()
                + (1 + l.names.len().max(calls)) * std::mem::size_of::<Value>())
                as u64;
            let mut filled_mem = self.snap.mem.charge(0)?;
            // With a fill every interval makes a row: charge them all now, and make room once.
            let n_buckets = ((end - start) / interval + 1) as usize;
            // Integrals answer from their own rows ([`integral_streams`]), so when every call is
            // one the empty buckets (up to `now()` without an upper bound) are not made at all.
            let only_integrals =
                l.trs.is_empty() && l.aggs.iter().all(|a| a.func == AggFn::Integral);
            let precharged = plan.fill != Fill::None && multi.is_none() && !only_integrals;
            if precharged {
                filled_mem.add(n_buckets as u64 * filled_row)?;
                let answered = ((end - out_start.max(start)) / interval + 1).max(0) as u64;
                self.rows_mem.borrow_mut().add(answered * out_row)?;
            }
            let trs: Vec<TrState> = l.trs.iter().map(|t| TrState::new(t, interval)).collect();
            // Each bucket's values, and which calls had points there.
            let mut filled: Vec<(i64, Vec<Out>, Vec<bool>)> = Vec::new();
            if precharged {
                filled.reserve_exact(n_buckets);
            }
            // A call's value in a bucket it has no points in (None: no row, fill(none);
            // fill(previous) and fill(linear) are done after the buckets, [`fill_previous`],
            // [`fill_linear`]).
            let fill_value = |ai: usize| -> Option<Value> {
                let a = &l.aggs[ai];
                match &plan.fill {
                    Fill::None => None,
                    Fill::Linear => Some(Value::Null),
                    Fill::Null if a.func == AggFn::Count => Some(Value::Integer(0)),
                    Fill::Null => Some(Value::Null),
                    Fill::Previous => Some(Value::Null),
                    Fill::Value(x) => Some(
                        if a.func == AggFn::Count
                            || (matches!(
                                a.func,
                                AggFn::Sum
                                    | AggFn::Min
                                    | AggFn::Max
                                    | AggFn::First
                                    | AggFn::Last
                                    | AggFn::Spread
                                    | AggFn::Mode
                            ) && self.field_is_int(a.field))
                        {
                            Value::Integer(*x as i64)
                        } else {
                            Value::Float(*x)
                        },
                    ),
                }
            };
            let mut b = start;
            while b <= end {
                self.token.check().map_err(Error::QueryStopped)?;
                match buckets.get_mut(b) {
                    Some(accs) => {
                        if let Some(mi) = multi {
                            let points = accs[mi].finish_rows(&l.aggs[mi]);
                            for (ts, v, auxv) in bucket_order(points, plan.desc) {
                                let time = if l.aggs[mi].func == AggFn::Distinct {
                                    b
                                } else {
                                    ts
                                };
                                if b >= out_start {
                                    let out = Out {
                                        value: v,
                                        time: Some(ts),
                                        aux: None,
                                    };
                                    rows.push(row_of(
                                        time,
                                        std::slice::from_ref(&out),
                                        Some(&auxv),
                                        &[],
                                    ));
                                }
                            }
                        } else {
                            if let Some(mi) = multi_input {
                                let vals = accs[mi].finish_rows(&l.aggs[mi]);
                                multi_rows.insert(b, vals.into_iter().map(|(_, v, _)| v).collect());
                            }
                            // A call without points in a bucket others have points in is filled
                            // as in an empty bucket: 1.x fills every call's stream on its own.
                            if !precharged {
                                filled_mem.add(filled_row)?;
                            }
                            let has: Vec<bool> = accs.iter().map(Acc::has_points).collect();
                            let mut outs = finals(accs);
                            for (ai, o) in outs.iter_mut().enumerate() {
                                if !has[ai] {
                                    o.value = fill_value(ai).unwrap_or(Value::Null);
                                }
                            }
                            filled.push((b, outs, has));
                        }
                    }
                    None if multi.is_some() => {}
                    None if plan.fill == Fill::None || only_integrals => {}
                    None => {
                        let outs = (0..l.aggs.len())
                            .map(|ai| Out {
                                value: fill_value(ai).unwrap_or(Value::Null),
                                time: None,
                                aux: None,
                            })
                            .collect();
                        filled.push((b, outs, vec![false; l.aggs.len()]));
                    }
                }
                b += interval;
            }
            match plan.fill {
                Fill::Linear => fill_linear(&mut filled),
                Fill::Previous => fill_previous(&mut filled, plan.desc),
                _ => {}
            }
            if !l.trs.is_empty() {
                let out = (out_start, bucket_of(self.plan.tmax));
                let multi = multi_input.map(|mi| (mi, multi_rows));
                return Ok(self.bucket_transforms(filled, multi, &integrals, trs, out, interval));
            }
            if l.aggs.iter().any(|a| a.func == AggFn::Integral) {
                return Ok(integral_streams(
                    plan, l, filled, &integrals, out_start, interval,
                ));
            }
            for (b, outs, _) in filled {
                let aux = if single_selector {
                    outs.first().and_then(|o| o.aux.clone())
                } else {
                    None
                };
                if b >= out_start {
                    if !precharged {
                        self.rows_mem.borrow_mut().add(out_row)?;
                    }
                    rows.push(row_of(b, &outs, aux.as_deref(), &[]));
                }
            }
        }
        if plan.desc {
            rows.reverse();
        }
        Ok(limit_rows(plan, rows))
    }

    /// The end of the reads of an aggregate whose rows are its group's first buckets: ascending,
    /// `GROUP BY time` without a lower time bound, `LIMIT n`, a fill that does not look ahead,
    /// one row per bucket and no transformation. Its rows are then the `offset + n` buckets
    /// from the one holding the group's first point, so nothing past them is read (TSBS
    /// groupby-orderby-limit reads minutes, not the whole history). The first point comes
    /// from the head of each (series, field) stream, which decodes at most a block per source.
    /// Otherwise the statement's end.
    /// `plan` is the one the aggregate reads with (its end may lie past the statement's).
    pub(super) fn first_buckets_end(
        &self,
        plan: &SelectPlan,
        members: &[Arc<SeriesInfo>],
        field_vars: &[usize],
        read_min: i64,
        bucket_of: &dyn Fn(i64) -> i64,
    ) -> Result<i64> {
        let Some((interval, _)) = plan.group_time.filter(|g| g.0 > 0) else {
            return Ok(plan.tmax);
        };
        let eligible =
            !plan.has_tmin
                && !plan.desc
                && plan.limit > 0
                && self.l.trs.is_empty()
                && !matches!(plan.fill, Fill::Linear | Fill::None)
                && self.l.aggs.iter().all(|a| {
                    a.func != AggFn::Integral && (!a.func.is_multi_row() || a.count_distinct)
                });
        if !eligible {
            return Ok(plan.tmax);
        }
        let mut first = i64::MAX;
        for s in members {
            for &fv in field_vars {
                let VarSrc::Field(fi) = self.srcs[fv] else {
                    continue;
                };
                let t = self.snap.first_time(
                    self.tables,
                    s.id,
                    &self.fields[fi],
                    read_min,
                    plan.tmax.min(first),
                )?;
                first = first.min(t.unwrap_or(i64::MAX));
            }
        }
        if first == i64::MAX {
            return Ok(plan.tmax);
        }
        let rows = i64::try_from(plan.offset.saturating_add(plan.limit)).unwrap_or(i64::MAX);
        let end = bucket_of(first)
            .saturating_add(rows.saturating_mul(interval))
            .saturating_sub(1);
        Ok(end.min(plan.tmax))
    }
}

/// A multi-row function's rows of one bucket (in time order) in the order to push them before
/// the answer's rows are reversed for ORDER BY time DESC: 1.x answers the buckets newest first
/// but a bucket's rows still oldest first.
pub(super) fn bucket_order<T>(mut rows: Vec<T>, desc: bool) -> Vec<T> {
    if desc {
        rows.reverse();
    }
    rows
}
