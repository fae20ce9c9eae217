//! The second phase of a group's aggregation: its buckets answered as rows (one row, or a row
//! per bucket filled as the statement says), multi-row functions, integrals and
//! transformations over the buckets.

use std::collections::BTreeMap;
use std::sync::Arc;

use super::accumulator::{Accumulator, AggregateValue};
use super::aggregate::{AggregateSetup, PartialAggregate, MAX_BUCKETS};
use super::expr::eval;
use super::fill::{fill_linear, fill_previous};
use super::group::GroupContext;
use super::integral::{finish_integrals, integral_rows, integral_streams};
use super::join::{join_calls, Stream};
use super::raw::limit_rows;
use super::transform::TransformState;
use super::windows::bucket_span;
use crate::error::{Error, Result};
use crate::query::plan::{AggFn, Fill};
use crate::query::result::Value;
use crate::series::SeriesInfo;

/// What answering a group's buckets shares between its branches.
struct Answering<'s> {
    setup: &'s AggregateSetup<'s>,
    /// Each integral's rows over the buckets (GROUP BY time), by call.
    integrals: BTreeMap<usize, Vec<(i64, f64)>>,
    /// The multi-row function (top, bottom, distinct) answering the rows, alone in its query.
    multi: Option<usize>,
    /// The multi-row function whose rows are transformations' input (`derivative(distinct(x))`).
    multi_input: Option<usize>,
}

/// What a branch answers.
enum Answered {
    /// Rows in bucket order, still to be reversed (ORDER BY time DESC) and cut (LIMIT).
    Rows(Vec<Vec<Value>>),
    /// The answer itself (streams joined on time have their LIMIT applied per column).
    Final(Vec<Vec<Value>>),
}

impl GroupContext<'_> {
    /// Answer the buckets of `partial` (the whole group's).
    pub(super) fn answer(
        &self,
        setup: &AggregateSetup<'_>,
        partial: PartialAggregate,
        members: &[Arc<SeriesInfo>],
    ) -> Result<Vec<Vec<Value>>> {
        let layout = self.layout;
        let (plan, interval) = (setup.plan.as_ref(), setup.interval);
        // The held buffers stay charged until the answer is made.
        let PartialAggregate {
            buckets,
            data_min,
            held: _held,
        } = partial;
        if buckets.is_empty() {
            return Ok(Vec::new());
        }
        let integrals: BTreeMap<usize, Vec<(i64, f64)>> = layout
            .aggs
            .iter()
            .enumerate()
            .filter(|(_, a)| interval > 0 && a.func == AggFn::Integral)
            .map(|(ai, a)| (ai, integral_rows(&buckets, ai, a.unit, interval, plan.desc)))
            .collect();
        // Multi-row functions (top, bottom, distinct) are alone in their query.
        let multi = layout
            .aggs
            .iter()
            .position(|a| a.func.is_multi_row() && !a.count_distinct);
        // … unless it feeds transformations (`derivative(distinct(x))`): then its rows are
        // the transformations' input, bucket by bucket.
        let (multi, multi_input) = if layout.trs.is_empty() {
            (multi, None)
        } else {
            (None, multi)
        };
        let answering = Answering {
            setup,
            integrals,
            multi,
            multi_input,
        };
        let answered = if interval == 0 {
            self.answer_whole_range(&answering, buckets, members)?
        } else {
            self.answer_buckets(&answering, buckets, data_min)?
        };
        match answered {
            Answered::Final(rows) => Ok(rows),
            Answered::Rows(mut rows) => {
                if plan.desc {
                    rows.reverse();
                }
                Ok(limit_rows(plan, rows))
            }
        }
    }

    /// Every call's value over its accumulator.
    fn finish_all(&self, accs: &mut [Accumulator]) -> Vec<AggregateValue> {
        self.layout
            .aggs
            .iter()
            .zip(accs.iter_mut())
            .map(|(a, acc)| acc.finish(a))
            .collect()
    }

    /// A row at `time` of the calls' values `outs`, with the selected point's values `pick_aux`
    /// and the transformations' `trv`.
    fn row_of(
        &self,
        time: i64,
        outs: &[AggregateValue],
        pick_aux: Option<&[Value]>,
        trv: &[Value],
    ) -> Vec<Value> {
        let aggv: Vec<Value> = outs.iter().map(|o| o.value.clone()).collect();
        // Without the selected point's values every var is null (`eval` reads a missing var as
        // null).
        let vars = pick_aux.unwrap_or(&[]);
        let mut row = Vec::with_capacity(1 + self.layout.exprs.len());
        row.push(Value::Time(time));
        for e in &self.layout.exprs {
            row.push(eval(e, vars, &aggv, trv));
        }
        row
    }

    /// Without GROUP BY time: one row (or a multi-row function's rows), or, beside
    /// transformations of raw points, their streams joined.
    fn answer_whole_range(
        &self,
        answering: &Answering<'_>,
        buckets: super::bucket_map::BucketMap,
        members: &[Arc<SeriesInfo>],
    ) -> Result<Answered> {
        let layout = self.layout;
        let plan = answering.setup.plan.as_ref();
        let (multi, single_selector) = (answering.multi, answering.setup.single_selector);
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let mut accs = buckets.into_first().unwrap_or_default();
        let base = if plan.has_tmin { plan.tmin } else { 0 };
        if let Some(mi) = multi {
            let points = accs[mi].finish_rows(&layout.aggs[mi]);
            for (ts, v, auxv) in bucket_order(points, plan.desc) {
                let time = if layout.aggs[mi].func == AggFn::Distinct {
                    base
                } else {
                    ts
                };
                let out = AggregateValue {
                    value: v,
                    time: Some(ts),
                    aux: None,
                };
                rows.push(self.row_of(time, std::slice::from_ref(&out), Some(&auxv), &[]));
            }
        } else if !layout.trs.is_empty() {
            // Aggregates beside transformations of raw points (1.x allows it without
            // GROUP BY time): each aggregate's one row at the query's start and each
            // transformation's rows, joined on time; an expression of both is null where
            // they do not meet.
            let mut outs = self.finish_all(&mut accs);
            let gone = finish_integrals(&layout.aggs, &accs, &mut outs, plan.desc);
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
            return Ok(Answered::Final(join_calls(plan, aggs, trs, &layout.exprs)));
        } else {
            let mut outs = self.finish_all(&mut accs);
            let gone = finish_integrals(&layout.aggs, &accs, &mut outs, plan.desc);
            let time = match (single_selector, outs.first().and_then(|o| o.time)) {
                (true, Some(t)) => t,
                _ => base,
            };
            let aux = outs.first().and_then(|o| o.aux.clone());
            if !gone.iter().all(|g| *g) {
                rows.push(self.row_of(time, &outs, aux.as_deref(), &[]));
            }
        }
        Ok(Answered::Rows(rows))
    }

    /// GROUP BY time: a row per bucket from the first to the last (filled as the statement
    /// says), then integrals or transformations over them.
    fn answer_buckets(
        &self,
        answering: &Answering<'_>,
        mut buckets: super::bucket_map::BucketMap,
        data_min: i64,
    ) -> Result<Answered> {
        let layout = self.layout;
        let setup = answering.setup;
        let (plan, read_min, interval) = (setup.plan.as_ref(), setup.read_min, setup.interval);
        let bucket_of = |t: i64| setup.bucket_of(t);
        let (multi, multi_input, single_selector) = (
            answering.multi,
            answering.multi_input,
            setup.single_selector,
        );
        let integrals = &answering.integrals;
        let mut multi_rows: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let (span_min, span_max) = bucket_span(self.plan, layout);
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
            return Ok(Answered::Final(Vec::new()));
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
        let calls = layout.aggs.len();
        let filled_row = (std::mem::size_of::<(i64, Vec<AggregateValue>, Vec<bool>)>()
            + calls * (std::mem::size_of::<AggregateValue>() + 1)) as u64;
        let out_row = (std::mem::size_of::<Vec<Value>>()
            + (1 + layout.names.len().max(calls)) * std::mem::size_of::<Value>())
            as u64;
        let mut filled_mem = self.snap.mem.empty_charge();
        // With a fill every interval makes a row: charge them all now, and make room once.
        let n_buckets = ((end - start) / interval + 1) as usize;
        // Integrals answer from their own rows ([`integral_streams`]), so when every call is
        // one the empty buckets (up to `now()` without an upper bound) are not made at all.
        let only_integrals =
            layout.trs.is_empty() && layout.aggs.iter().all(|a| a.func == AggFn::Integral);
        let precharged = plan.fill != Fill::None && multi.is_none() && !only_integrals;
        if precharged {
            filled_mem.add(n_buckets as u64 * filled_row)?;
            let answered = ((end - out_start.max(start)) / interval + 1).max(0) as u64;
            self.rows_mem.borrow_mut().add(answered * out_row)?;
        }
        let trs: Vec<TransformState> = layout
            .trs
            .iter()
            .map(|t| TransformState::new(t, interval))
            .collect();
        // Each bucket's values, and which calls had points there.
        let mut filled: Vec<(i64, Vec<AggregateValue>, Vec<bool>)> = Vec::new();
        if precharged {
            filled.reserve_exact(n_buckets);
        }
        // A call's value in a bucket it has no points in (None: no row, fill(none);
        // fill(previous) and fill(linear) are done after the buckets, [`fill_previous`],
        // [`fill_linear`]).
        let fill_value = |ai: usize| -> Option<Value> {
            let a = &layout.aggs[ai];
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
            self.token.check().map_err(Error::from)?;
            match buckets.get_mut(b) {
                Some(accs) => {
                    if let Some(mi) = multi {
                        let points = accs[mi].finish_rows(&layout.aggs[mi]);
                        for (ts, v, auxv) in bucket_order(points, plan.desc) {
                            let time = if layout.aggs[mi].func == AggFn::Distinct {
                                b
                            } else {
                                ts
                            };
                            if b >= out_start {
                                let out = AggregateValue {
                                    value: v,
                                    time: Some(ts),
                                    aux: None,
                                };
                                rows.push(self.row_of(
                                    time,
                                    std::slice::from_ref(&out),
                                    Some(&auxv),
                                    &[],
                                ));
                            }
                        }
                    } else {
                        if let Some(mi) = multi_input {
                            let vals = accs[mi].finish_rows(&layout.aggs[mi]);
                            multi_rows.insert(b, vals.into_iter().map(|(_, v, _)| v).collect());
                        }
                        // A call without points in a bucket others have points in is filled
                        // as in an empty bucket: 1.x fills every call's stream on its own.
                        if !precharged {
                            filled_mem.add(filled_row)?;
                        }
                        let has: Vec<bool> = accs.iter().map(Accumulator::has_points).collect();
                        let mut outs = self.finish_all(accs);
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
                    let outs = (0..layout.aggs.len())
                        .map(|ai| AggregateValue {
                            value: fill_value(ai).unwrap_or(Value::Null),
                            time: None,
                            aux: None,
                        })
                        .collect();
                    filled.push((b, outs, vec![false; layout.aggs.len()]));
                }
            }
            b += interval;
        }
        match plan.fill {
            Fill::Linear => fill_linear(&mut filled),
            Fill::Previous => fill_previous(&mut filled, plan.desc),
            _ => {}
        }
        if !layout.trs.is_empty() {
            let out = (out_start, bucket_of(self.plan.tmax));
            let multi = multi_input.map(|mi| (mi, multi_rows));
            return Ok(Answered::Final(self.bucket_transforms(
                filled, multi, integrals, trs, out, interval,
            )?));
        }
        if layout.aggs.iter().any(|a| a.func == AggFn::Integral) {
            return Ok(Answered::Final(integral_streams(
                plan, layout, filled, integrals, out_start, interval,
            )));
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
                rows.push(self.row_of(b, &outs, aux.as_deref(), &[]));
            }
        }
        Ok(Answered::Rows(rows))
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
