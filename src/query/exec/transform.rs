//! Transformations (derivative, difference, moving_average, cumulative_sum, elapsed) over raw
//! points or over the buckets of aggregates.

use super::accumulator::AggregateValue;
use super::expr::{arith, call_refs, eval, has_agg};
use super::group::GroupContext;
use super::integral::{integrals_by_bucket, tr_shifts};
use super::join::{join_streams, Stream};
use super::layout::ColumnExpr;
use super::layout::{TransformCall, TransformInput};
use super::windows::tr_reaches;
use crate::error::{Error, Result};
use crate::query::analysis::Analysis;
use crate::query::holt_winters::HoltWinters;
use crate::query::plan::{AggFn, ArithOp, Fill};
use crate::query::result::Value;
use std::collections::{BTreeMap, BTreeSet};

impl GroupContext<'_> {
    /// Transformations over the buckets of aggregates, beside aggregates or other
    /// transformations. As in 1.x every column is its own stream: an aggregate's column has a
    /// row per (filled) bucket, a transformation's only where it yields; LIMIT/OFFSET apply to
    /// each, and the streams are joined on time. Each transformation reads only its own
    /// look-back before the first bucket answered (cumulative_sum none, even beside
    /// derivative); ORDER BY time DESC runs them over the buckets newest first, reading
    /// [`tr_reach`] buckets past the last one answered, `out` being the answered buckets.
    /// An integral's column, and a transformation of it, read its rows ([`integral_rows`],
    /// unfilled, at their time: newest first at the bucket's end), as in 1.x.
    pub(super) fn bucket_transforms(
        &self,
        mut filled: Vec<(i64, Vec<AggregateValue>, Vec<bool>)>,
        multi: Option<(usize, BTreeMap<i64, Vec<Value>>)>,
        integrals: &BTreeMap<usize, Vec<(i64, f64)>>,
        mut trs: Vec<TransformState>,
        (out_start, out_end): (i64, i64),
        interval: i64,
    ) -> Result<Vec<Vec<Value>>> {
        let layout = self.layout;
        let desc = self.plan.desc;
        if desc && !integrals.is_empty() {
            // Newest first an integral's rows lie at their bucket's end: a row of its own
            // where no call has a bucket (fill(none)), for the columns joining it with others.
            let have: BTreeSet<i64> = filled.iter().map(|f| f.0).collect();
            let ends: BTreeSet<i64> = integrals
                .values()
                .flatten()
                .map(|(b, _)| b.saturating_add(interval))
                .filter(|t| !have.contains(t))
                .collect();
            for t in ends {
                let none = || AggregateValue {
                    value: Value::Null,
                    time: None,
                    aux: None,
                };
                let outs = (0..layout.aggs.len()).map(|_| none()).collect();
                filled.push((t, outs, vec![false; layout.aggs.len()]));
            }
            filled.sort_by_key(|f| f.0);
        }
        if desc {
            filled.reverse();
        }
        // Each column's aggregates and transformations.
        let (agg_refs, refs): (Vec<Vec<usize>>, Vec<Vec<usize>>) = layout
            .exprs
            .iter()
            .map(|e| {
                let (mut a, mut r) = (Vec::new(), Vec::new());
                call_refs(e, &mut a, &mut r);
                (a, r)
            })
            .unzip();
        let fill_none = self.plan.fill == Fill::None;
        // Transformations of distinct(): every distinct value of a bucket is a point at the
        // bucket's time.
        let over_multi = |ti: usize| match (&layout.trs[ti].input, &multi) {
            (TransformInput::Agg(ai), Some((mi, _))) => ai == mi,
            _ => false,
        };
        let no_rows = Vec::new();
        // Each integral's rows, at `shift` past their bucket.
        let shift = if desc { interval } else { 0 };
        let integral_at = integrals_by_bucket(integrals);
        let tr_shift = tr_shifts(&layout.trs, integrals, shift);
        let reaches = tr_reaches(&layout.trs);
        let mut streams: Vec<Stream> = vec![Vec::new(); layout.exprs.len()];
        // A call's value in a joined row it has no point in, `prev` its value in the row
        // before: 1.x fills the row.
        let missing = |prev: &Value| match self.plan.fill {
            Fill::Value(x) => Value::Float(x),
            Fill::Previous => prev.clone(),
            _ => Value::Null,
        };
        // Each integral's value in the last row it was in.
        let mut last_integral: BTreeMap<usize, Value> = BTreeMap::new();
        // What each holt_winters reads: its input's values in the statement's buckets.
        let mut hw_inputs: Vec<Vec<(i64, f64)>> = vec![Vec::new(); trs.len()];
        for (b, outs, has) in filled {
            // What each transformation yields at this bucket (several over distinct()).
            let mut ys: Vec<Vec<Value>> = Vec::with_capacity(trs.len());
            for (ti, t) in layout.trs.iter().enumerate() {
                // Whether this transformation reads this bucket, in its order: the buckets of
                // its input's range ([`call_windows`]).
                let reach = reaches[ti].saturating_mul(interval);
                let reads = if desc {
                    b <= out_end.saturating_add(reach)
                } else {
                    b >= out_start.saturating_sub(reach)
                };
                let mut y = Vec::new();
                if t.func.is_holt_winters() {
                    if reads && b <= out_end {
                        let inputs: &[Value] = match &t.input {
                            TransformInput::Agg(ai) => outs
                                .get(*ai)
                                .map_or(&[], |o| std::slice::from_ref(&o.value)),
                            TransformInput::Tr(j) => ys.get(*j).map_or(&[], Vec::as_slice),
                            TransformInput::Var(_) => &[],
                        };
                        // Nulls are skipped, as 1.x skips nil points.
                        hw_inputs[ti]
                            .extend(inputs.iter().filter_map(Value::as_f64).map(|x| (b, x)));
                    }
                    ys.push(y);
                    continue;
                }
                match (&t.input, &multi) {
                    (_, _) if !reads => {}
                    (TransformInput::Agg(ai), Some((mi, rows))) if ai == mi => {
                        for v in rows.get(&b).unwrap_or(&no_rows) {
                            y.extend(trs[ti].push(b, v));
                        }
                    }
                    (TransformInput::Agg(ai), _) if integral_at.contains_key(ai) => {
                        let rows = integral_at.get(ai).and_then(|at| at.get(&b));
                        for v in rows.unwrap_or(&no_rows) {
                            y.extend(trs[ti].push(b.saturating_add(shift), v));
                        }
                    }
                    (TransformInput::Agg(ai), _) => {
                        y.extend(outs.get(*ai).and_then(|o| trs[ti].push(b, &o.value)));
                    }
                    (TransformInput::Tr(j), _) => {
                        for v in ys.get(*j).unwrap_or(&no_rows) {
                            y.extend(trs[ti].push(b, v));
                        }
                    }
                    (TransformInput::Var(_), _) => {}
                }
                ys.push(y);
            }
            let answered = b >= out_start && b <= out_end;
            let aggv: Vec<Value> = outs.iter().map(|o| o.value.clone()).collect();
            // … with each integral's (first) row at this bucket's time instead (newest first
            // that of the bucket before), null without one.
            let row_of = b.saturating_sub(shift);
            let integral_rows_here =
                |ai: &usize| integral_at.get(ai).and_then(|at| at.get(&row_of));
            let mut aggv_at = aggv.clone();
            for ai in integral_at.keys() {
                if let Some(x) = aggv_at.get_mut(*ai) {
                    *x = match integral_rows_here(ai).and_then(|r| r.first()) {
                        Some(v) => v.clone(),
                        None => missing(last_integral.get(ai).unwrap_or(&Value::Null)),
                    };
                }
            }
            let nth = |k: usize| -> Vec<Value> {
                ys.iter()
                    .map(|y| y.get(k).cloned().unwrap_or(Value::Null))
                    .collect()
            };
            for (((e, r), ar), stream) in layout
                .exprs
                .iter()
                .zip(&refs)
                .zip(&agg_refs)
                .zip(streams.iter_mut())
            {
                if has_agg(e) || r.is_empty() {
                    // One row per bucket answered (with the transformations' first points)
                    // where its aggregates have points or are filled, an integral has a row at
                    // its time, or its transformations yield (a column of neither: where any
                    // does).
                    let yields = |i: &usize| !ys[*i].is_empty();
                    let (ints, plain): (Vec<usize>, Vec<usize>) =
                        ar.iter().partition(|i| integral_at.contains_key(i));
                    // An integral's row answers at its time (newest first past its bucket).
                    let answered = answered
                        || (row_of >= out_start
                            && row_of <= out_end
                            && ints.iter().any(|i| integral_rows_here(i).is_some()));
                    let present = if ar.is_empty() && r.is_empty() {
                        (0..ys.len()).any(|i| yields(&i))
                    } else {
                        (!plain.is_empty() && (!fill_none || plain.iter().any(|&i| has[i])))
                            || ints.iter().any(|i| integral_rows_here(i).is_some())
                            || r.iter().any(yields)
                    };
                    if answered && present {
                        stream.push((b, eval(e, &[], &aggv_at, &nth(0))));
                        // An integral's further rows at this time (newest first, a bucket
                        // emitted twice) join with nothing from the other calls.
                        for k in 1.. {
                            let mut more = false;
                            let mut vals: Vec<Value> = aggv_at.iter().map(missing).collect();
                            for &ai in &ints {
                                let row = integral_rows_here(&ai).and_then(|r| r.get(k));
                                if let (Some(v), Some(x)) = (row, vals.get_mut(ai)) {
                                    *x = v.clone();
                                    more = true;
                                }
                            }
                            if !more {
                                break;
                            }
                            stream.push((b, eval(e, &[], &vals, &[])));
                        }
                    }
                    continue;
                }
                // A row per point every transformation of the column yields; over distinct()
                // 1.x answers those of the buckets read outside the statement's range too.
                if !answered && !r.iter().any(|&i| over_multi(i)) {
                    continue;
                }
                let n = r.iter().map(|&i| ys[i].len()).min().unwrap_or(0);
                let time = b.saturating_add(r.iter().map(|&i| tr_shift[i]).max().unwrap_or(0));
                for k in 0..n {
                    stream.push((time, eval(e, &[], &aggv, &nth(k))));
                }
            }
            for ai in integral_at.keys() {
                if let Some(v) = integral_rows_here(ai).and_then(|r| r.last()) {
                    last_integral.insert(*ai, v.clone());
                }
            }
        }
        // Each holt_winters column answers from all its buckets at once, at its own times
        // (the forecast past the last bucket).
        for (e, stream) in layout.exprs.iter().zip(streams.iter_mut()) {
            let ColumnExpr::Tr(ti) = e else {
                continue;
            };
            let t = &layout.trs[*ti];
            if !t.func.is_holt_winters() {
                continue;
            }
            let hw = HoltWinters::new(t.n, t.season, t.func == AggFn::HoltWintersWithFit, interval);
            let points = &hw_inputs[*ti];
            // What it holds, charged before it is made: the values on the grid, the fit and
            // forecast of each evaluation, the answer.
            let slots = hw.grid_len(points).saturating_add(t.n) as u64;
            let _held = self.snap.mem.charge(slots.saturating_mul(3 * 8 + 16))?;
            let answer = hw.answer(points, &mut || self.token.check().map_err(Error::from))?;
            stream.extend(answer.into_iter().map(|(time, v)| (time, Value::Float(v))));
        }
        Ok(join_streams(self.plan, streams))
    }
}

/// State of a transformation over a sequence of points or buckets.
pub(super) struct TransformState {
    pub(super) func: AggFn,
    pub(super) n: usize,
    pub(super) unit: i64,
    pub(super) prev: Option<(i64, Value)>,
    pub(super) window: std::collections::VecDeque<f64>,
    /// The sum of `window`.
    pub(super) window_sum: f64,
    pub(super) sum: Option<Value>,
    /// A technical-analysis function's state.
    pub(super) analysis: Option<Analysis>,
}

impl TransformState {
    /// `default_unit`: 1s over raw points, the interval over buckets.
    pub(super) fn new(t: &TransformCall, default_unit: i64) -> TransformState {
        let unit = if t.unit > 0 {
            t.unit
        } else if t.func == AggFn::Elapsed {
            1
        } else {
            default_unit
        };
        TransformState {
            func: t.func,
            n: t.n,
            unit,
            prev: None,
            window: std::collections::VecDeque::new(),
            window_sum: 0.0,
            sum: None,
            analysis: t
                .func
                .analysis()
                .map(|func| Analysis::new(func, t.n, t.analysis)),
        }
    }

    pub(super) fn push(&mut self, ts: i64, v: &Value) -> Option<Value> {
        if *v == Value::Null {
            return None;
        }
        let f = Value::as_f64;
        // derivative and difference keep the first of several points at one time (1.x: a
        // point that does not advance the stream is skipped).
        let differs = matches!(
            self.func,
            AggFn::Derivative
                | AggFn::NonNegativeDerivative
                | AggFn::Difference
                | AggFn::NonNegativeDifference
        );
        if differs && self.prev.as_ref().is_some_and(|(pt, _)| *pt == ts) {
            return None;
        }
        if let Some(analysis) = &mut self.analysis {
            return analysis.push(f(v)?).map(Value::Float);
        }
        let prev = self.prev.replace((ts, v.clone()));
        match self.func {
            AggFn::Derivative | AggFn::NonNegativeDerivative => {
                let (pt, pv) = prev?;
                // Over points newest first (ORDER BY time DESC) 1.x keeps the elapsed time
                // positive.
                let d = (f(v)? - f(&pv)?) / ((ts - pt).abs() as f64 / self.unit as f64);
                if self.func == AggFn::NonNegativeDerivative && d < 0.0 {
                    return None;
                }
                Some(Value::Float(d))
            }
            AggFn::Difference | AggFn::NonNegativeDifference => {
                let (_, pv) = prev?;
                let d = arith(ArithOp::Sub, v, &pv);
                if self.func == AggFn::NonNegativeDifference && f(&d)? < 0.0 {
                    return None;
                }
                Some(d)
            }
            AggFn::Elapsed => {
                let (pt, _) = prev?;
                Some(Value::Integer((ts - pt) / self.unit))
            }
            AggFn::MovingAverage => {
                // A running sum, as 1.x keeps it (in its order: the leaving value out, then
                // the new one in): O(1) a point whatever the window.
                let x = f(v)?;
                if self.window.len() == self.n {
                    if let Some(leaving) = self.window.pop_front() {
                        self.window_sum -= leaving;
                    }
                }
                self.window.push_back(x);
                self.window_sum += x;
                (self.window.len() == self.n).then(|| Value::Float(self.window_sum / self.n as f64))
            }
            AggFn::CumulativeSum => {
                let s = match self.sum.take() {
                    None => v.clone(),
                    Some(s) => arith(ArithOp::Add, &s, v),
                };
                self.sum = Some(s.clone());
                Some(s)
            }
            _ => None,
        }
    }
}
