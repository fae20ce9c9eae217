//! min(), max(), first(), last(): the selected point, with the row's other values beside it.

use std::cmp::Ordering;

use super::{
    block_min_max, cmp_values, picks, AggregateFunction, AggregateValue, AuxValues, HeldPoint,
};
use crate::query::exec::layout::AggregateCall;
use crate::query::plan::AggFn;
use crate::query::result::Value;
use crate::sstable::BlockMeta;
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct Selector {
    count: u64,
    pick: Option<HeldPoint>,
}

impl Selector {
    fn offer(&mut self, call: &AggregateCall, ts: i64, v: FieldValue, aux: &AuxValues<'_>) {
        let replace = match &self.pick {
            None => true,
            Some((pt, pv, _)) => picks(call.func, ts, *pt, || cmp_values(&v, pv)),
        };
        if replace {
            self.pick = Some((ts, v, aux()));
        }
    }
}

impl AggregateFunction for Selector {
    fn add(&mut self, call: &AggregateCall, ts: i64, value: FieldValue, aux: &AuxValues<'_>) {
        self.count += 1;
        self.offer(call, ts, value, aux);
    }

    /// The same replace rule against the running pick as [`Selector::add`] point by point.
    fn add_floats(
        &mut self,
        call: &AggregateCall,
        ts: &[i64],
        values: &[f64],
        aux: &AuxValues<'_>,
    ) -> bool {
        let mut best = match &self.pick {
            None => None,
            Some((t, FieldValue::Float(x), _)) => Some((*t, *x)),
            Some(_) => return false,
        };
        let mut changed = false;
        for (&t, &x) in ts.iter().zip(values) {
            let replace = match best {
                None => true,
                // cmp_values' order for two floats.
                Some((pt, pv)) => picks(call.func, t, pt, || {
                    x.partial_cmp(&pv).unwrap_or(Ordering::Equal)
                }),
            };
            if replace {
                best = Some((t, x));
                changed = true;
            }
        }
        if let Some((t, x)) = best.filter(|_| changed) {
            self.pick = Some((t, FieldValue::Float(x), aux()));
        }
        self.count += values.len() as u64;
        true
    }

    /// The selected point's time is not shown (see [`super::block_answers`]): any time of the
    /// block keeps the tie rule (equal values: the earlier point) across blocks.
    fn add_block(&mut self, call: &AggregateCall, block: &BlockMeta) {
        self.count += u64::from(block.count);
        let agg = block.agg();
        let (min, max) = block_min_max(block);
        let none = &|| Vec::new();
        match call.func {
            AggFn::Min => self.offer(call, block.min_ts, min, none),
            AggFn::Max => self.offer(call, block.min_ts, max, none),
            AggFn::First => self.offer(call, block.min_ts, agg.first, none),
            _ => self.offer(call, block.max_ts, agg.last, none),
        }
    }

    /// `other`'s pick replaces this one's only where it would have point by point: ties keep
    /// this (earlier series') point.
    fn merge(&mut self, call: &AggregateCall, other: Selector) {
        self.count += other.count;
        if let Some((ts, v, aux)) = other.pick {
            self.offer(call, ts, v, &move || aux.clone());
        }
    }

    fn finish(&mut self, _: &AggregateCall) -> AggregateValue {
        match self.pick.take() {
            Some((t, v, aux)) if self.count > 0 => AggregateValue {
                value: Value::from(v),
                time: Some(t),
                aux: Some(aux),
            },
            _ => AggregateValue::null(),
        }
    }

    fn points(&self) -> u64 {
        self.count
    }
}
