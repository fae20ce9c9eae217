//! Aggregation of one group, in two phases: every call's points folded into per-bucket
//! accumulators ([`GroupContext::accumulate`], from pre-aggregated blocks where a whole block
//! answers), then the buckets answered ([`GroupContext::answer`], in `answer.rs`). The first phase
//! over parts of a group's series can run on several workers, its [`PartialAggregate`]s merged
//! before the second.

use std::borrow::Cow;
use std::sync::Arc;

use super::accumulator::block_answers;
use super::bucket_map::BucketMap;
use super::check;
use super::expr::{collect_vars, value_to_field};
use super::group::GroupContext;
use super::layout::{AggregateCall, VariableSource};
use super::windows::read_window;
use crate::error::Result;
use crate::query::limits::Reservation;
use crate::query::plan::{AggFn, Fill, SelectPlan};
use crate::query::result::Value;
use crate::query::scan::Segment;
use crate::series::SeriesInfo;
use crate::sstable::BlockMeta;
use crate::types::{FieldValue, Values};

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

/// What both phases of one group's aggregation read: the statement as the calls read it and its
/// buckets.
pub(super) struct AggregateSetup<'p> {
    /// The statement, its end widened as far as a transformation's input reads
    /// ([`read_window`]).
    pub(super) plan: Cow<'p, SelectPlan>,
    /// The earliest time any call reads.
    pub(super) read_min: i64,
    /// GROUP BY time's interval (0: none) and offset.
    pub(super) interval: i64,
    pub(super) offset: i64,
    /// The variables taken from the selected point (columns beside a single selector, the tag
    /// arguments of top/bottom).
    pub(super) aux: Vec<usize>,
    /// One selector and nothing else: its row is at the selected point's time.
    pub(super) single_selector: bool,
    /// Every call reads its field alone ([`GroupContext::accumulate_fields`]).
    pub(super) per_field: bool,
}

impl AggregateSetup<'_> {
    /// The start of the bucket holding time `t` (0 without GROUP BY time).
    pub(super) fn bucket_of(&self, t: i64) -> i64 {
        if self.interval > 0 {
            (t - self.offset).div_euclid(self.interval) * self.interval + self.offset
        } else {
            0
        }
    }
}

/// The first phase's result over some of a group's series: every bucket's accumulators.
pub(super) struct PartialAggregate {
    pub(super) buckets: BucketMap,
    /// The earliest time of a point added.
    pub(super) data_min: i64,
    /// The accumulators' held buffers (median, distinct, top, …), charged to the query's memory
    /// until the buckets are answered.
    pub(super) held: Vec<Reservation>,
}

impl PartialAggregate {
    /// Fold in `other`, computed over series that come after this one's in series order.
    pub(super) fn merge(&mut self, other: PartialAggregate, calls: &[AggregateCall]) {
        self.buckets.merge(other.buckets, calls);
        self.data_min = self.data_min.min(other.data_min);
        self.held.extend(other.held);
    }
}

impl GroupContext<'_> {
    /// Aggregates per (bucket), then expressions, transformations and fill.
    pub(super) fn aggregate(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Vec<Value>>> {
        let setup = self.aggregate_setup();
        let partial = self.accumulate(&setup, members)?;
        self.answer(&setup, partial, members)
    }

    /// What both phases read, from the statement and the layout.
    pub(super) fn aggregate_setup(&self) -> AggregateSetup<'_> {
        let layout = self.layout;
        // Transformations read past the statement's range ([`call_windows`]): the buckets are
        // computed over the widened range, every call over its own, and the columns cut at
        // the statement's buckets.
        let (read_min, read_max) = read_window(self.plan, layout);
        let plan = match read_max {
            t if t != self.plan.tmax => Cow::Owned(SelectPlan {
                tmax: t,
                ..self.plan.clone()
            }),
            _ => Cow::Borrowed(self.plan),
        };
        let (interval, offset) = plan.group_time.unwrap_or((0, 0));
        // Aux columns beside a single selector come from the selected point.
        let aux: Vec<usize> = {
            let mut v = Vec::new();
            for e in &layout.exprs {
                collect_vars(e, &mut v);
            }
            for a in &layout.aggs {
                v.extend(a.tags.iter().copied());
            }
            v.sort();
            v.dedup();
            v
        };
        // Beside a transformation a selector's row is the bucket's (or the query's start).
        let single_selector =
            layout.aggs.len() == 1 && layout.aggs[0].func.is_selector() && layout.trs.is_empty();
        // Without a field condition or columns taken from the selected point, every call
        // reads its field alone: (series, field) runs stream in, and whole blocks inside one
        // bucket may be answered from their pre-aggregates.
        let per_field = plan.field_filter.is_none()
            && aux.is_empty()
            && layout.aggs.iter().all(|a| self.is_field_var(a.field));
        AggregateSetup {
            plan,
            read_min,
            interval,
            offset,
            aux,
            single_selector,
            per_field,
        }
    }

    /// The first phase over `members` (some or all of a group's series, in series order).
    pub(super) fn accumulate(
        &self,
        setup: &AggregateSetup<'_>,
        members: &[Arc<SeriesInfo>],
    ) -> Result<PartialAggregate> {
        let mut partial = PartialAggregate {
            buckets: BucketMap::default(),
            data_min: i64::MAX,
            held: vec![Reservation::new(&self.snap.mem)],
        };
        if setup.per_field {
            self.accumulate_fields(setup, members, &mut partial)?;
        } else {
            self.accumulate_rows(setup, members, &mut partial)?;
        }
        Ok(partial)
    }

    /// Every call reads its field alone: (series, field) runs stream in, folded a bucket's run
    /// at a time, and whole blocks inside one bucket may be answered from their
    /// pre-aggregates.
    fn accumulate_fields(
        &self,
        setup: &AggregateSetup<'_>,
        members: &[Arc<SeriesInfo>],
        partial: &mut PartialAggregate,
    ) -> Result<()> {
        let layout = self.layout;
        let (plan, read_min, interval) = (setup.plan.as_ref(), setup.read_min, setup.interval);
        let single_selector = setup.single_selector;
        let bucket_of = |t: i64| setup.bucket_of(t);
        let PartialAggregate {
            buckets,
            data_min,
            held,
        } = partial;
        let held = &mut held[0];
        // No column comes from the selected point (`aux` is empty): a pick holds no values
        // beside it (no allocation per pick), and `eval` reads a missing var as null.
        let no_aux = Vec::new;
        // min/max from a block lose the selected point's time: only when it is not shown.
        let time_free = interval > 0 || !single_selector;
        let mut field_vars: Vec<usize> = layout.aggs.iter().map(|a| a.field).collect();
        field_vars.sort_unstable();
        field_vars.dedup();
        let read_max = self.first_buckets_end(plan, members, &field_vars, read_min, &bucket_of)?;
        // The (call, first, end) points each call reads of a chunk, and of a bucket's run
        // within it; reused.
        let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(layout.aggs.len());
        let mut reads: Vec<(usize, usize, usize)> = Vec::with_capacity(layout.aggs.len());
        for s in members {
            check(self.token)?;
            for &fv in &field_vars {
                let VariableSource::Field(fi) = self.sources[fv] else {
                    continue;
                };
                let calls: Vec<usize> = (0..layout.aggs.len())
                    .filter(|&ai| layout.aggs[ai].field == fv)
                    .collect();
                let use_agg = |b: &BlockMeta| {
                    self.snap.preaggregates
                        && bucket_of(b.min_ts) == bucket_of(b.max_ts)
                        && calls.iter().all(|&ai| {
                            let a = &layout.aggs[ai];
                            a.reads(b.min_ts) && a.reads(b.max_ts) && block_answers(a, b, time_free)
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
                            *data_min = (*data_min).min(b.min_ts);
                            let accs = buckets.entry(bucket_of(b.min_ts), &layout.aggs);
                            for &ai in &calls {
                                accs[ai].add_block(&layout.aggs[ai], &b);
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
                                let a = &layout.aggs[ai];
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
                                    *data_min = (*data_min).min(first);
                                    let accs = buckets.entry(b, &layout.aggs);
                                    for &(ai, lo, hi) in &reads {
                                        let a = &layout.aggs[ai];
                                        if let Values::Float(values) = &col.values {
                                            if accs[ai].add_floats(
                                                a,
                                                &ts[lo..hi],
                                                &values[lo..hi],
                                                &no_aux,
                                            ) {
                                                continue;
                                            }
                                        }
                                        for (k, &t) in ts.iter().enumerate().take(hi).skip(lo) {
                                            let v = col.values.get(k);
                                            accs[ai].add_charged(a, t, v, &no_aux, 0, held)?;
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
        Ok(())
    }

    /// Rows joined on time (a field condition, or columns beside the selected point): each row
    /// adds to every call that reads its time.
    fn accumulate_rows(
        &self,
        setup: &AggregateSetup<'_>,
        members: &[Arc<SeriesInfo>],
        partial: &mut PartialAggregate,
    ) -> Result<()> {
        let layout = self.layout;
        let (plan, read_min, aux) = (setup.plan.as_ref(), setup.read_min, &setup.aux);
        let bucket_of = |t: i64| setup.bucket_of(t);
        let PartialAggregate {
            buckets,
            data_min,
            held,
        } = partial;
        let held = &mut held[0];
        for s in members {
            self.for_each_row(s, read_min, plan.tmax, &mut |ts, vals| {
                let b = bucket_of(ts);
                let xs: Vec<Option<FieldValue>> = layout
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
                *data_min = (*data_min).min(ts);
                let accs = buckets.entry(b, &layout.aggs);
                let auxv = || -> Vec<Value> {
                    let mut all = vec![Value::Null; layout.vars.len()];
                    for v in aux {
                        all[*v] = self.var_value(*v, vals, s);
                    }
                    all
                };
                for (ai, (a, x)) in layout.aggs.iter().zip(xs).enumerate() {
                    if let Some(fv) = x {
                        accs[ai].add_charged(a, ts, fv, &auxv, layout.vars.len(), held)?;
                    }
                }
                Ok(())
            })?;
        }
        Ok(())
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
                && self.layout.trs.is_empty()
                && !matches!(plan.fill, Fill::Linear | Fill::None)
                && self.layout.aggs.iter().all(|a| {
                    a.func != AggFn::Integral && (!a.func.is_multi_row() || a.count_distinct)
                });
        if !eligible {
            return Ok(plan.tmax);
        }
        let mut first = i64::MAX;
        for s in members {
            for &fv in field_vars {
                let VariableSource::Field(fi) = self.sources[fv] else {
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
