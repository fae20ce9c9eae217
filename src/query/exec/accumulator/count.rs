//! count(): the number of points.

use super::{AggregateFunction, AggregateValue, AuxValues};
use crate::query::exec::layout::AggregateCall;
use crate::query::result::Value;
use crate::sstable::BlockMeta;
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct Count {
    count: u64,
}

impl AggregateFunction for Count {
    fn add(&mut self, _: &AggregateCall, _: i64, _: FieldValue, _: &AuxValues<'_>) {
        self.count += 1;
    }

    fn add_floats(&mut self, _: &AggregateCall, ts: &[i64], _: &[f64], _: &AuxValues<'_>) -> bool {
        self.count += ts.len() as u64;
        true
    }

    fn add_block(&mut self, _: &AggregateCall, block: &BlockMeta) {
        self.count += u64::from(block.count);
    }

    fn merge(&mut self, _: &AggregateCall, other: Count) {
        self.count += other.count;
    }

    fn finish(&mut self, _: &AggregateCall) -> AggregateValue {
        AggregateValue::of(Value::Integer(self.count as i64))
    }

    fn points(&self) -> u64 {
        self.count
    }
}
