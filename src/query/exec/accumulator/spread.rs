//! spread(): the difference between the largest and the smallest value.

use super::{block_min_max, cmp_values, num, AggregateFunction, AggregateValue, AuxValues};
use crate::query::exec::layout::AggregateCall;
use crate::query::result::Value;
use crate::sstable::BlockMeta;
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct Spread {
    count: u64,
    min: Option<FieldValue>,
    max: Option<FieldValue>,
}

impl Spread {
    fn take(&mut self, v: FieldValue) {
        if self.min.as_ref().is_none_or(|m| cmp_values(&v, m).is_lt()) {
            self.min = Some(v.clone());
        }
        if self.max.as_ref().is_none_or(|m| cmp_values(&v, m).is_gt()) {
            self.max = Some(v);
        }
    }
}

impl AggregateFunction for Spread {
    fn add(&mut self, _: &AggregateCall, _: i64, value: FieldValue, _: &AuxValues<'_>) {
        self.count += 1;
        self.take(value);
    }

    fn add_block(&mut self, _: &AggregateCall, block: &BlockMeta) {
        self.count += u64::from(block.count);
        let (min, max) = block_min_max(block);
        self.take(min);
        self.take(max);
    }

    fn merge(&mut self, _: &AggregateCall, other: Spread) {
        self.count += other.count;
        for v in [other.min, other.max].into_iter().flatten() {
            self.take(v);
        }
    }

    fn finish(&mut self, _: &AggregateCall) -> AggregateValue {
        if self.count == 0 {
            return AggregateValue::null();
        }
        AggregateValue::of(match (&self.min, &self.max) {
            (Some(FieldValue::Integer(a)), Some(FieldValue::Integer(b))) => Value::Integer(b - a),
            (Some(a), Some(b)) => Value::Float(num(b) - num(a)),
            _ => Value::Null,
        })
    }

    fn points(&self) -> u64 {
        self.count
    }
}
