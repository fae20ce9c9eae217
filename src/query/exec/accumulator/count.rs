//! count(): the number of points.

use super::{AggregateFunction, AuxValues, Out};
use crate::query::exec::layout::AggSpec;
use crate::query::result::Value;
use crate::sstable::BlockMeta;
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct Count {
    count: u64,
}

impl AggregateFunction for Count {
    fn add(&mut self, _: &AggSpec, _: i64, _: FieldValue, _: &AuxValues<'_>) {
        self.count += 1;
    }

    fn add_floats(&mut self, _: &AggSpec, ts: &[i64], _: &[f64], _: &AuxValues<'_>) -> bool {
        self.count += ts.len() as u64;
        true
    }

    fn add_block(&mut self, _: &AggSpec, block: &BlockMeta) {
        self.count += u64::from(block.count);
    }

    fn merge(&mut self, _: &AggSpec, other: Count) {
        self.count += other.count;
    }

    fn finish(&mut self, _: &AggSpec) -> Out {
        Out::of(Value::Integer(self.count as i64))
    }

    fn points(&self) -> u64 {
        self.count
    }
}
