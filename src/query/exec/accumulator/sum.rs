//! sum() and mean(): the running sums (a float sum of every point, and the wrapping integer sum
//! that answers sum() of an integer field).

use super::{num, AggregateFunction, AggregateValue, AuxValues};
use crate::query::exec::layout::AggregateCall;
use crate::query::plan::AggFn;
use crate::query::result::Value;
use crate::sstable::{BlockMeta, NumericAgg};
use crate::types::{FieldType, FieldValue};

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct Sum {
    count: u64,
    float_sum: f64,
    integer_sum: i64,
    /// The last point (or block) added was an integer: sum() answers the integer sum.
    integers: bool,
}

impl AggregateFunction for Sum {
    fn add(&mut self, _: &AggregateCall, _: i64, value: FieldValue, _: &AuxValues<'_>) {
        self.count += 1;
        self.integers = matches!(value, FieldValue::Integer(_));
        if let FieldValue::Integer(x) = value {
            self.integer_sum = self.integer_sum.wrapping_add(x);
        }
        self.float_sum += num(&value);
    }

    fn add_floats(
        &mut self,
        _: &AggregateCall,
        _: &[i64],
        values: &[f64],
        _: &AuxValues<'_>,
    ) -> bool {
        for x in values {
            self.float_sum += x;
        }
        self.count += values.len() as u64;
        self.integers = false;
        true
    }

    fn add_block(&mut self, _: &AggregateCall, block: &BlockMeta) {
        self.count += u64::from(block.count);
        self.integers = block.field_type() == FieldType::Integer;
        match &block.agg().numeric {
            NumericAgg::Integer { sum, exact_sum, .. } => {
                // Truncation is the wrapping sum of the values, as adding them one by one.
                self.integer_sum = self.integer_sum.wrapping_add(*exact_sum as i64);
                self.float_sum += sum;
            }
            NumericAgg::Float { sum, .. } | NumericAgg::Unsigned { sum, .. } => {
                self.float_sum += sum
            }
            NumericAgg::None => {}
        }
    }

    /// The float sum of two parts is not the float sum of the points in one order (rounding),
    /// so a statement whose float sum or mean would be merged is not split
    /// ([`crate::query::exec::merge_is_exact`]).
    fn merge(&mut self, _: &AggregateCall, other: Sum) {
        self.count += other.count;
        self.float_sum += other.float_sum;
        self.integer_sum = self.integer_sum.wrapping_add(other.integer_sum);
        if other.count > 0 {
            self.integers = other.integers;
        }
    }

    fn finish(&mut self, call: &AggregateCall) -> AggregateValue {
        if self.count == 0 {
            return AggregateValue::null();
        }
        AggregateValue::of(match call.func {
            AggFn::Mean => Value::Float(self.float_sum / self.count as f64),
            _ if self.integers => Value::Integer(self.integer_sum),
            _ => Value::Float(self.float_sum),
        })
    }

    fn points(&self) -> u64 {
        self.count
    }
}
