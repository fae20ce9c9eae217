//! The accumulators of one group, by GROUP BY time bucket.

use super::accumulator::Accumulator;
use super::layout::AggregateCall;

/// The accumulators of each bucket (one per call), by bucket start. Lookups come in runs of
/// ascending buckets (a field's points in time order, then the answer's buckets in order), so
/// the map is a sorted vector that first tries the bucket after the one found last: a
/// lookup is a comparison or two instead of a tree descent.
#[derive(Default)]
pub(super) struct BucketMap {
    pub(super) keys: Vec<i64>,
    /// The accumulators of bucket `keys[i]`: `accs[i * calls..(i + 1) * calls]`, in one
    /// vector (no allocation per bucket).
    pub(super) accs: Vec<Accumulator>,
    /// Accumulators per bucket (the statement's calls; the same for every bucket).
    pub(super) calls: usize,
    /// Where the last lookup found or put its bucket.
    pub(super) hint: usize,
}

impl BucketMap {
    /// The position of bucket `b`: `Ok` where it is, `Err` where it would go.
    pub(super) fn find(&self, b: i64) -> std::result::Result<usize, usize> {
        for i in [self.hint, self.hint + 1] {
            match self.keys.get(i) {
                Some(&k) if k == b => return Ok(i),
                Some(&k) if k > b && (i == 0 || self.keys[i - 1] < b) => return Err(i),
                None if i == self.keys.len() && self.keys.last().is_none_or(|&last| last < b) => {
                    return Err(i)
                }
                _ => {}
            }
        }
        self.keys.binary_search(&b)
    }

    /// The accumulators of the bucket at position `i`.
    pub(super) fn at(&mut self, i: usize) -> &mut [Accumulator] {
        let n = self.calls;
        self.accs.get_mut(i * n..(i + 1) * n).unwrap_or_default()
    }

    /// Bucket `b`'s accumulators, made (one per call of `calls`) if it has none yet. `calls`
    /// are the same for every bucket of a map.
    pub(super) fn entry(&mut self, b: i64, calls: &[AggregateCall]) -> &mut [Accumulator] {
        let n = calls.len();
        debug_assert!(self.keys.is_empty() || self.calls == n);
        self.calls = n;
        let i = match self.find(b) {
            Ok(i) => i,
            Err(i) => {
                self.keys.insert(i, b);
                let at = i * n;
                let made = calls.iter().map(Accumulator::new);
                if at == self.accs.len() {
                    // The usual case: buckets come in ascending order.
                    self.accs.extend(made);
                } else {
                    self.accs.splice(at..at, made);
                }
                i
            }
        };
        self.hint = i;
        self.at(i)
    }

    /// Fold in `other`, the buckets of the same calls over series that come after this map's
    /// in series order ([`Accumulator::merge`]); each bucket's accumulators are charged again
    /// by neither: they move.
    pub(super) fn merge(&mut self, other: BucketMap, calls: &[AggregateCall]) {
        let n = other.calls;
        let mut accs = other.accs.into_iter();
        for b in other.keys {
            let theirs: Vec<Accumulator> = accs.by_ref().take(n).collect();
            let ours = self.entry(b, calls);
            for ((acc, other), call) in ours.iter_mut().zip(theirs).zip(calls) {
                acc.merge(call, other);
            }
        }
    }

    pub(super) fn get_mut(&mut self, b: i64) -> Option<&mut [Accumulator]> {
        let i = self.find(b).ok()?;
        self.hint = i;
        Some(self.at(i))
    }

    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// (bucket start, accumulators), ascending.
    pub(super) fn iter(&self) -> impl Iterator<Item = (&i64, &[Accumulator])> {
        let n = self.calls;
        self.keys.iter().enumerate().map(move |(i, k)| {
            let accs = self.accs.get(i * n..(i + 1) * n).unwrap_or_default();
            (k, accs)
        })
    }

    /// The first bucket's accumulators.
    pub(super) fn into_first(self) -> Option<Vec<Accumulator>> {
        if self.keys.is_empty() {
            return None;
        }
        Some(self.accs.into_iter().take(self.calls).collect())
    }
}
