//! top() and bottom(): the best N points (with the tag values asked for), bounded while they
//! are added.

use super::{held_bytes, sort_top, AggregateFunction, AggregateValue, AuxValues, HeldPoint};
use crate::query::exec::layout::AggregateCall;
use crate::query::plan::AggFn;
use crate::query::value_set::SeenKeys;
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct TopBottom {
    count: u64,
    held: Vec<HeldPoint>,
    bytes: u64,
}

impl TopBottom {
    /// Without tag arguments only the best N can be answered: once twice that many (at least
    /// 32) are held, the rest are dropped.
    fn bound(&mut self, call: &AggregateCall) {
        if call.tags.is_empty() && self.held.len() >= 2 * call.n.max(16) {
            sort_top(&mut self.held, call.func == AggFn::Top);
            self.held.truncate(call.n);
            self.bytes = self.held.iter().map(|h| held_bytes(&h.1, &h.2)).sum();
        }
    }

    /// The answer's points in time order: the best of each tag combination, then the best N.
    pub(super) fn take_rows(&mut self, call: &AggregateCall) -> Vec<HeldPoint> {
        let mut held = std::mem::take(&mut self.held);
        self.bytes = 0;
        sort_top(&mut held, call.func == AggFn::Top);
        if !call.tags.is_empty() {
            let mut seen = SeenKeys::default();
            held.retain(|(_, _, aux)| {
                seen.first(call.tags.iter().map(|t| aux[*t].clone()).collect())
            });
        }
        held.truncate(call.n);
        held.sort_by_key(|h| h.0);
        held
    }
}

impl AggregateFunction for TopBottom {
    fn add(&mut self, call: &AggregateCall, ts: i64, value: FieldValue, aux: &AuxValues<'_>) {
        self.count += 1;
        let aux = aux();
        self.bytes += held_bytes(&value, &aux);
        self.held.push((ts, value, aux));
        self.bound(call);
    }

    /// Appended after this part's points: the best N by (value, time, order added) are the
    /// same as adding them one by one would keep.
    fn merge(&mut self, call: &AggregateCall, mut other: TopBottom) {
        self.count += other.count;
        self.bytes += other.bytes;
        self.held.append(&mut other.held);
        self.bound(call);
    }

    /// A multi-row function answers rows ([`super::Accumulator::finish_rows`]), not a value.
    fn finish(&mut self, _: &AggregateCall) -> AggregateValue {
        AggregateValue::null()
    }

    fn points(&self) -> u64 {
        self.count
    }

    fn size(&self) -> u64 {
        self.bytes
    }

    fn most_held_by_add(&self, value: &FieldValue, aux_len: usize) -> u64 {
        super::held_bytes_of(value, aux_len)
    }
}
