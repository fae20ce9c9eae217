//! One accumulator per aggregate function family: the state of one call over one bucket (what
//! the function keeps of the points it is given) and the value, or rows, it answers.
//!
//! Every family implements [`AggregateFunction`]: `add` (a point), `add_floats` (a run of float
//! points at once), `add_block` (a whole block from its pre-aggregates), `merge` (the partial
//! state of the same call and bucket computed over other series), `finish` and `size` (the
//! bytes it holds, charged to the query's memory). [`Accumulator`] is the one type the executor
//! keeps per (bucket, call): an enum over the families, so that the buckets of a group lie in
//! one vector without a box each. A new function is a new file here plus its variant.

mod count;
mod distinct;
mod held;
mod selector;
mod spread;
mod stddev;
mod sum;
#[cfg(test)]
mod tests;
mod top_bottom;

use std::cmp::Ordering;

pub(super) use held::HeldPoints;

use super::layout::AggregateCall;
use crate::query::limits::Reservation;
use crate::query::plan::AggFn;
use crate::query::result::Value;
use crate::sstable::{BlockMeta, NumericAgg};
use crate::types::{FieldType, FieldValue};

/// A finished aggregate: its value, the selected point's time and aux values (selectors).
#[derive(Clone, Debug)]
pub(super) struct AggregateValue {
    pub(super) value: Value,
    pub(super) time: Option<i64>,
    pub(super) aux: Option<Vec<Value>>,
}

impl AggregateValue {
    /// No value (a call without points).
    pub(super) fn null() -> AggregateValue {
        AggregateValue {
            value: Value::Null,
            time: None,
            aux: None,
        }
    }

    fn of(value: Value) -> AggregateValue {
        AggregateValue {
            value,
            ..AggregateValue::null()
        }
    }
}

/// A held point: time, value, aux values (the row's other variables, for selectors and
/// top/bottom).
pub(super) type HeldPoint = (i64, FieldValue, Vec<Value>);

/// Builds a held point's aux values, only when the point is kept.
pub(super) type AuxValues<'a> = dyn Fn() -> Vec<Value> + 'a;

/// What every aggregate function family does with the points of one call in one bucket.
pub(super) trait AggregateFunction {
    /// Add one point.
    fn add(&mut self, call: &AggregateCall, ts: i64, value: FieldValue, aux: &AuxValues<'_>);

    /// Add a run of float points (`ts` and `values` alike long, in time order) at once: the
    /// same result as [`AggregateFunction::add`] point by point, without a `FieldValue` each.
    /// `false` (nothing done) where the family has no such shortcut.
    fn add_floats(
        &mut self,
        call: &AggregateCall,
        ts: &[i64],
        values: &[f64],
        aux: &AuxValues<'_>,
    ) -> bool {
        let _ = (call, ts, values, aux);
        false
    }

    /// Add a whole block from its pre-aggregates ([`block_answers`] said the call can).
    fn add_block(&mut self, call: &AggregateCall, block: &BlockMeta) {
        let _ = (call, block);
    }

    /// Fold in `other`, the state of the same call and bucket over series that come after
    /// this one's in series order: the result is what adding `other`'s points after this
    /// one's would have given.
    fn merge(&mut self, call: &AggregateCall, other: Self)
    where
        Self: Sized;

    /// The value of a one-row aggregate.
    fn finish(&mut self, call: &AggregateCall) -> AggregateValue;

    /// Points added.
    fn points(&self) -> u64;

    /// Bytes held beyond the accumulator itself (points kept for the answer).
    fn size(&self) -> u64 {
        0
    }

    /// The most [`AggregateFunction::size`] can grow by when `value` is added with `aux_len`
    /// aux values: what is charged to the query's memory before the point is kept.
    fn most_held_by_add(&self, value: &FieldValue, aux_len: usize) -> u64 {
        let _ = (value, aux_len);
        0
    }
}

/// The accumulator of one (bucket, aggregate call).
#[derive(Clone, Debug)]
pub(super) enum Accumulator {
    Count(count::Count),
    /// sum() and mean().
    Sum(sum::Sum),
    Stddev(stddev::Stddev),
    Spread(spread::Spread),
    /// min(), max(), first(), last().
    Selector(selector::Selector),
    /// median(), mode(), percentile(), integral(): every point held.
    HeldPoint(HeldPoints),
    /// top(), bottom().
    TopBottom(top_bottom::TopBottom),
    /// distinct() and count(distinct()).
    Distinct(distinct::Distinct),
}

/// Run `$body` with `$inner` bound to the family inside `$acc`.
macro_rules! each_family {
    ($acc:expr, $inner:ident => $body:expr) => {
        match $acc {
            Accumulator::Count($inner) => $body,
            Accumulator::Sum($inner) => $body,
            Accumulator::Stddev($inner) => $body,
            Accumulator::Spread($inner) => $body,
            Accumulator::Selector($inner) => $body,
            Accumulator::HeldPoint($inner) => $body,
            Accumulator::TopBottom($inner) => $body,
            Accumulator::Distinct($inner) => $body,
        }
    };
}

impl Accumulator {
    /// An empty accumulator for `call`.
    pub(super) fn new(call: &AggregateCall) -> Accumulator {
        if call.count_distinct {
            return Accumulator::Distinct(Default::default());
        }
        match call.func {
            AggFn::Count => Accumulator::Count(Default::default()),
            AggFn::Sum | AggFn::Mean => Accumulator::Sum(Default::default()),
            AggFn::Stddev => Accumulator::Stddev(Default::default()),
            AggFn::Spread => Accumulator::Spread(Default::default()),
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => {
                Accumulator::Selector(Default::default())
            }
            AggFn::Top | AggFn::Bottom => Accumulator::TopBottom(Default::default()),
            AggFn::Distinct => Accumulator::Distinct(Default::default()),
            _ => Accumulator::HeldPoint(Default::default()),
        }
    }

    /// Whether the call had points in this bucket.
    pub(super) fn has_points(&self) -> bool {
        self.points() > 0
    }

    /// Points added.
    pub(super) fn points(&self) -> u64 {
        each_family!(self, inner => inner.points())
    }

    /// Bytes held beyond the accumulator itself.
    pub(super) fn size(&self) -> u64 {
        each_family!(self, inner => inner.size())
    }

    /// Add one point, taking what it may make the accumulator hold from `held` first: the most
    /// it can hold more ([`AggregateFunction::most_held_by_add`]) is taken before the point is
    /// added, and what it did not keep is given back after. Past the query's memory limit the
    /// take fails and the point is not added. `aux` makes `aux_len` values.
    pub(super) fn add_charged(
        &mut self,
        call: &AggregateCall,
        ts: i64,
        value: FieldValue,
        aux: &AuxValues<'_>,
        aux_len: usize,
        held: &mut Reservation,
    ) -> crate::error::Result<()> {
        let most = each_family!(self, inner => inner.most_held_by_add(&value, aux_len));
        if most == 0 {
            // Families that keep nothing: nothing to take, and no size to measure.
            #[cfg(debug_assertions)]
            let before = self.size();
            each_family!(self, inner => inner.add(call, ts, value, aux));
            #[cfg(debug_assertions)]
            debug_assert_eq!(
                self.size(),
                before,
                "{self:?} kept bytes it did not announce"
            );
            return Ok(());
        }
        held.take(most)?;
        let grew = self.add(call, ts, value, aux);
        debug_assert!(grew <= most, "{self:?} kept {grew} bytes, announced {most}");
        held.give_back(most.saturating_sub(grew));
        Ok(())
    }

    /// Add one point; returns the bytes it made the accumulator hold. Charging them is the
    /// caller's ([`Accumulator::add_charged`] charges them before).
    pub(super) fn add(
        &mut self,
        call: &AggregateCall,
        ts: i64,
        value: FieldValue,
        aux: &AuxValues<'_>,
    ) -> u64 {
        let before = self.size();
        each_family!(self, inner => inner.add(call, ts, value, aux));
        self.size().saturating_sub(before)
    }

    /// [`AggregateFunction::add_floats`].
    pub(super) fn add_floats(
        &mut self,
        call: &AggregateCall,
        ts: &[i64],
        values: &[f64],
        aux: &AuxValues<'_>,
    ) -> bool {
        each_family!(self, inner => inner.add_floats(call, ts, values, aux))
    }

    /// [`AggregateFunction::add_block`].
    pub(super) fn add_block(&mut self, call: &AggregateCall, block: &BlockMeta) {
        each_family!(self, inner => inner.add_block(call, block))
    }

    /// [`AggregateFunction::merge`]; both were made for `call`.
    pub(super) fn merge(&mut self, call: &AggregateCall, other: Accumulator) {
        match (self, other) {
            (Accumulator::Count(a), Accumulator::Count(b)) => a.merge(call, b),
            (Accumulator::Sum(a), Accumulator::Sum(b)) => a.merge(call, b),
            (Accumulator::Stddev(a), Accumulator::Stddev(b)) => a.merge(call, b),
            (Accumulator::Spread(a), Accumulator::Spread(b)) => a.merge(call, b),
            (Accumulator::Selector(a), Accumulator::Selector(b)) => a.merge(call, b),
            (Accumulator::HeldPoint(a), Accumulator::HeldPoint(b)) => a.merge(call, b),
            (Accumulator::TopBottom(a), Accumulator::TopBottom(b)) => a.merge(call, b),
            (Accumulator::Distinct(a), Accumulator::Distinct(b)) => a.merge(call, b),
            (this, other) => debug_assert!(
                false,
                "accumulators of one call differ: {this:?} and {other:?}"
            ),
        }
    }

    /// [`AggregateFunction::finish`].
    pub(super) fn finish(&mut self, call: &AggregateCall) -> AggregateValue {
        each_family!(self, inner => inner.finish(call))
    }

    /// The rows of a multi-row function (top, bottom, distinct), in time order.
    pub(super) fn finish_rows(&mut self, call: &AggregateCall) -> Vec<(i64, Value, Vec<Value>)> {
        let held = match self {
            Accumulator::TopBottom(t) => t.take_rows(call),
            Accumulator::Distinct(d) => d.take_rows(),
            _ => Vec::new(),
        };
        held.into_iter()
            .map(|(t, v, aux)| (t, Value::from(v), aux))
            .collect()
    }

    /// The points held (median, mode, percentile, integral), in the order they were added.
    pub(super) fn held(&self) -> &[HeldPoint] {
        match self {
            Accumulator::HeldPoint(h) => h.held(),
            _ => &[],
        }
    }
}

/// Whether merging partial states of `call` (over a field of type `field_type`) gives exactly
/// what adding every point in one pass does. Float sums (sum, mean) and stddev round
/// differently when added in parts; everything else keeps its values, or keeps them in order.
pub(in crate::query::exec) fn merge_is_exact(
    call: &AggregateCall,
    field_type: Option<FieldType>,
) -> bool {
    match call.func {
        AggFn::Sum => !call.count_distinct && field_type == Some(FieldType::Integer),
        AggFn::Mean | AggFn::Stddev => false,
        _ => true,
    }
}

/// The bytes a held point is charged: its slot, its value's own bytes and its aux values.
fn held_bytes(value: &FieldValue, aux: &[Value]) -> u64 {
    held_bytes_of(value, aux.len())
}

/// [`held_bytes`] of a point with `aux_len` aux values, before they are made.
fn held_bytes_of(value: &FieldValue, aux_len: usize) -> u64 {
    48 + value.mem_size() as u64 + 32 * aux_len as u64
}

/// A block's smallest and largest values from its pre-aggregates (for a block that is not
/// numeric: its first and last).
fn block_min_max(block: &BlockMeta) -> (FieldValue, FieldValue) {
    let agg = block.agg();
    match &agg.numeric {
        NumericAgg::Float { min, max, .. } => (FieldValue::Float(*min), FieldValue::Float(*max)),
        NumericAgg::Integer { min, max, .. } => {
            (FieldValue::Integer(*min), FieldValue::Integer(*max))
        }
        NumericAgg::Unsigned { min, max, .. } => {
            (FieldValue::Unsigned(*min), FieldValue::Unsigned(*max))
        }
        NumericAgg::None => (agg.first.clone(), agg.last.clone()),
    }
}

/// Whether call `a` can take block `b` from its pre-aggregates. `time_free`: the selected
/// point's time is not shown (GROUP BY time, or beside other calls), so min/max may too.
pub(super) fn block_answers(a: &AggregateCall, b: &BlockMeta, time_free: bool) -> bool {
    let numeric = b.is_numeric();
    if a.count_distinct {
        return false;
    }
    match a.func {
        AggFn::Count | AggFn::First | AggFn::Last => true,
        AggFn::Sum | AggFn::Mean | AggFn::Spread => numeric,
        AggFn::Min | AggFn::Max => numeric && time_free,
        _ => false,
    }
}

/// Whether selector `func` (first, last, min, max) takes a point at `ts` over the one it holds
/// at `held`; `cmp` orders the new value against the held one. Ties keep the earliest point.
pub(super) fn picks(func: AggFn, ts: i64, held: i64, cmp: impl FnOnce() -> Ordering) -> bool {
    match func {
        AggFn::First => ts < held,
        AggFn::Last => ts > held,
        AggFn::Min => {
            let o = cmp();
            o.is_lt() || (o.is_eq() && ts < held)
        }
        _ => {
            let o = cmp();
            o.is_gt() || (o.is_eq() && ts < held)
        }
    }
}

/// The order of two field values: by value within a type, numerically across numeric types.
pub(super) fn cmp_values(a: &FieldValue, b: &FieldValue) -> Ordering {
    match (a, b) {
        (FieldValue::Integer(x), FieldValue::Integer(y)) => x.cmp(y),
        (FieldValue::Unsigned(x), FieldValue::Unsigned(y)) => x.cmp(y),
        (FieldValue::Boolean(x), FieldValue::Boolean(y)) => x.cmp(y),
        (FieldValue::String(x), FieldValue::String(y)) => x.cmp(y),
        _ => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(Ordering::Equal),
    }
}

/// A field value as a number (booleans as 0 and 1, strings as 0).
pub(super) fn num(v: &FieldValue) -> f64 {
    match v {
        FieldValue::Float(x) => *x,
        FieldValue::Integer(x) => *x as f64,
        FieldValue::Unsigned(x) => *x as f64,
        FieldValue::Boolean(b) => f64::from(u8::from(*b)),
        FieldValue::String(_) => 0.0,
    }
}

/// Best first (largest for top, smallest for bottom); ties by earlier time.
pub(super) fn sort_top(held: &mut [HeldPoint], top: bool) {
    held.sort_by(|x, y| {
        let o = cmp_values(&x.1, &y.1);
        let o = if top { o.reverse() } else { o };
        o.then(x.0.cmp(&y.0))
    });
}
