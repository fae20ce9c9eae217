//! distinct() and count(distinct()): each distinct value once, at the time of the point 1.x
//! reads first (the earliest; newest first the latest), found by hash.

use super::{held_bytes, AggregateFunction, AggregateValue, AuxValues, HeldPoint};
use crate::query::exec::layout::AggregateCall;
use crate::query::result::Value;
use crate::query::value_set::{DistinctPositions, DISTINCT_INDEX_BYTES};
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct Distinct {
    count: u64,
    /// The distinct values, in the order first met.
    held: Vec<HeldPoint>,
    /// Where each value of `held` is, by hash.
    positions: Option<Box<DistinctPositions>>,
    bytes: u64,
}

impl Distinct {
    fn take(&mut self, call: &AggregateCall, ts: i64, value: FieldValue) {
        let held = &self.held;
        let found = self
            .positions
            .get_or_insert_with(Box::default)
            .find_or_record(&value, |i| held.get(i).map(|h| &h.1));
        match found.and_then(|i| self.held.get_mut(i)) {
            Some(h) => {
                let first = if call.newest_first {
                    ts > h.0
                } else {
                    ts < h.0
                };
                if first {
                    h.0 = ts;
                }
            }
            None => {
                self.bytes += held_bytes(&value, &[]) + DISTINCT_INDEX_BYTES;
                self.held.push((ts, value, Vec::new()));
            }
        }
    }

    /// The distinct values at their times, in time order.
    pub(super) fn take_rows(&mut self) -> Vec<HeldPoint> {
        let mut held = std::mem::take(&mut self.held);
        self.positions = None;
        self.bytes = 0;
        held.sort_by_key(|h| h.0);
        held
    }
}

impl AggregateFunction for Distinct {
    fn add(&mut self, call: &AggregateCall, ts: i64, value: FieldValue, _: &AuxValues<'_>) {
        self.count += 1;
        self.take(call, ts, value);
    }

    /// `other`'s values in the order it met them, after this part's: the same values, times
    /// and order as adding its points one by one.
    fn merge(&mut self, call: &AggregateCall, other: Distinct) {
        self.count += other.count;
        for (ts, value, _) in other.held {
            self.take(call, ts, value);
        }
    }

    /// count(distinct()): the number of distinct values, 0 without points. (distinct() itself
    /// answers rows, [`super::Accumulator::finish_rows`].)
    fn finish(&mut self, call: &AggregateCall) -> AggregateValue {
        if !call.count_distinct {
            return AggregateValue::null();
        }
        AggregateValue::of(Value::Integer(self.held.len() as i64))
    }

    fn points(&self) -> u64 {
        self.count
    }

    fn size(&self) -> u64 {
        self.bytes
    }

    /// A value not met before is kept, with its index entry.
    fn most_held_by_add(&self, value: &FieldValue, _: usize) -> u64 {
        held_bytes(value, &[]) + DISTINCT_INDEX_BYTES
    }
}
