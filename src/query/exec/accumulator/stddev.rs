//! stddev(): Welford's running mean and sum of squared deviations.

use super::{num, AggregateFunction, AggregateValue, AuxValues};
use crate::query::exec::layout::AggregateCall;
use crate::query::result::Value;
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct Stddev {
    count: u64,
    mean: f64,
    squared_deviations: f64,
}

impl AggregateFunction for Stddev {
    fn add(&mut self, _: &AggregateCall, _: i64, value: FieldValue, _: &AuxValues<'_>) {
        self.count += 1;
        let x = num(&value);
        let d = x - self.mean;
        self.mean += d / self.count as f64;
        self.squared_deviations += d * (x - self.mean);
    }

    /// Chan et al.'s combination of two parts' means and squared deviations.
    fn merge(&mut self, _: &AggregateCall, other: Stddev) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = other;
            return;
        }
        let (n_a, n_b) = (self.count as f64, other.count as f64);
        let n = n_a + n_b;
        let delta = other.mean - self.mean;
        self.mean += delta * n_b / n;
        self.squared_deviations += other.squared_deviations + delta * delta * n_a * n_b / n;
        self.count += other.count;
    }

    fn finish(&mut self, _: &AggregateCall) -> AggregateValue {
        if self.count < 2 {
            return AggregateValue::null();
        }
        AggregateValue::of(Value::Float(
            (self.squared_deviations / (self.count - 1) as f64).sqrt(),
        ))
    }

    fn points(&self) -> u64 {
        self.count
    }
}
