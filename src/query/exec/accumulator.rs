//! The state of one aggregate call over one bucket: what each function keeps of the points it
//! is given, and the value (or rows) it answers.

use super::layout::AggSpec;
use crate::query::plan::AggFn;
use crate::query::result::Value;
use crate::query::value_set::{DistinctPositions, SeenKeys, DISTINCT_INDEX_BYTES};
use crate::sstable::{BlockMeta, NumericAgg};
use crate::types::{FieldType, FieldValue, Values};

/// A finished aggregate: its value, the selected point's time and aux values (selectors).
#[derive(Clone, Debug)]
pub(super) struct Out {
    pub(super) value: Value,
    pub(super) time: Option<i64>,
    pub(super) aux: Option<Vec<Value>>,
}

/// A held point: time, value, aux values.
pub(super) type Held = (i64, FieldValue, Vec<Value>);

/// Accumulator of one (bucket, aggregate call).
#[derive(Clone, Debug, Default)]
pub(super) struct Acc {
    pub(super) count: u64,
    pub(super) sum_f: f64,
    pub(super) sum_i: i64,
    pub(super) is_int: bool,
    /// Welford's running mean and sum of squared deviations (stddev).
    pub(super) mean: f64,
    pub(super) m2: f64,
    pub(super) min: Option<FieldValue>,
    pub(super) max: Option<FieldValue>,
    /// Selected point (min/max/first/last).
    pub(super) pick: Option<Held>,
    /// Held points (median, mode, percentile, distinct, integral, top, bottom).
    pub(super) held: Vec<Held>,
    /// distinct() and count(distinct()): where each value of `held` is, by hash.
    pub(super) distinct: Option<Box<DistinctPositions>>,
}

/// Whether call `a` can take block `b` from its pre-aggregates. `time_free`: the selected
/// point's time is not shown (GROUP BY time, or beside other calls), so min/max may too.
pub(super) fn block_answers(a: &AggSpec, b: &BlockMeta, time_free: bool) -> bool {
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
pub(super) fn picks(
    func: AggFn,
    ts: i64,
    held: i64,
    cmp: impl FnOnce() -> std::cmp::Ordering,
) -> bool {
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

pub(super) fn cmp_values(a: &FieldValue, b: &FieldValue) -> std::cmp::Ordering {
    match (a, b) {
        (FieldValue::Integer(x), FieldValue::Integer(y)) => x.cmp(y),
        (FieldValue::Unsigned(x), FieldValue::Unsigned(y)) => x.cmp(y),
        (FieldValue::Boolean(x), FieldValue::Boolean(y)) => x.cmp(y),
        (FieldValue::String(x), FieldValue::String(y)) => x.cmp(y),
        _ => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
    }
}

pub(super) fn num(v: &FieldValue) -> f64 {
    match v {
        FieldValue::Float(x) => *x,
        FieldValue::Integer(x) => *x as f64,
        FieldValue::Unsigned(x) => *x as f64,
        FieldValue::Boolean(b) => f64::from(u8::from(*b)),
        FieldValue::String(_) => 0.0,
    }
}

impl Acc {
    /// Whether the call had points in this bucket.
    pub(super) fn has_points(&self) -> bool {
        self.count > 0
    }

    /// Add one point; returns the bytes it made the accumulator hold (buffers of points).
    pub(super) fn add(
        &mut self,
        a: &AggSpec,
        ts: i64,
        v: FieldValue,
        aux: &dyn Fn() -> Vec<Value>,
    ) -> u64 {
        let before = self.held.len();
        let mut point_bytes = 48 + v.mem_size() as u64;
        if matches!(a.func, AggFn::Distinct) || a.count_distinct {
            point_bytes += DISTINCT_INDEX_BYTES;
        }
        self.add_point(a, ts, v, aux);
        let grew = self.held.len().saturating_sub(before) as u64;
        grew * (point_bytes + self.held.last().map_or(0, |h| 32 * h.2.len() as u64))
    }

    /// Fold points `range` of a float column (`ts` its timestamps) at once for count, sum,
    /// mean and the selectors min, max, first and last: the same additions in the same order,
    /// and the same replace rule against a running pick, as [`Acc::add`] point by point, without
    /// a `FieldValue` per point. `false` (nothing done) for any other call or column type.
    pub(super) fn add_floats(
        &mut self,
        a: &AggSpec,
        ts: &[i64],
        values: &Values,
        range: std::ops::Range<usize>,
        aux: &dyn Fn() -> Vec<Value>,
    ) -> bool {
        let (Values::Float(v), Some(ts)) = (values, ts.get(range.clone())) else {
            return false;
        };
        let Some(v) = v.get(range) else {
            return false;
        };
        match a.func {
            AggFn::Count if !a.count_distinct => {}
            AggFn::Sum | AggFn::Mean => {
                for x in v {
                    self.sum_f += x;
                }
            }
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => {
                let mut best = match &self.pick {
                    None => None,
                    Some((t, FieldValue::Float(x), _)) => Some((*t, *x)),
                    Some(_) => return false,
                };
                let mut changed = false;
                for (&t, &x) in ts.iter().zip(v) {
                    let replace = match best {
                        None => true,
                        // cmp_values' order for two floats.
                        Some((pt, pv)) => picks(a.func, t, pt, || {
                            x.partial_cmp(&pv).unwrap_or(std::cmp::Ordering::Equal)
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
            }
            _ => return false,
        }
        self.count += v.len() as u64;
        self.is_int = false;
        true
    }

    /// Add a whole block from its pre-aggregates ([`block_answers`] said it can).
    pub(super) fn add_block(&mut self, a: &AggSpec, b: &BlockMeta) {
        self.count += u64::from(b.count);
        self.is_int = b.field_type() == FieldType::Integer;
        let agg = b.agg();
        let (min, max) = match &agg.numeric {
            NumericAgg::Float { min, max, .. } => {
                (FieldValue::Float(*min), FieldValue::Float(*max))
            }
            NumericAgg::Integer { min, max, .. } => {
                (FieldValue::Integer(*min), FieldValue::Integer(*max))
            }
            NumericAgg::Unsigned { min, max, .. } => {
                (FieldValue::Unsigned(*min), FieldValue::Unsigned(*max))
            }
            NumericAgg::None => (agg.first.clone(), agg.last.clone()),
        };
        let none = &|| Vec::new();
        match a.func {
            AggFn::Sum | AggFn::Mean => match &agg.numeric {
                NumericAgg::Integer { sum, exact_sum, .. } => {
                    // Truncation is the wrapping sum of the values, as adding them one by one.
                    self.sum_i = self.sum_i.wrapping_add(*exact_sum as i64);
                    self.sum_f += sum;
                }
                NumericAgg::Float { sum, .. } | NumericAgg::Unsigned { sum, .. } => {
                    self.sum_f += sum
                }
                NumericAgg::None => {}
            },
            AggFn::Spread => {
                self.spread(min);
                self.spread(max);
            }
            // The selected point's time is not shown (see `block_answers`): any time of the
            // block keeps the tie rule (equal values: the earlier point) across blocks.
            AggFn::Min => self.pick(a, b.min_ts, min, none),
            AggFn::Max => self.pick(a, b.min_ts, max, none),
            AggFn::First => self.pick(a, b.min_ts, agg.first, none),
            AggFn::Last => self.pick(a, b.max_ts, agg.last, none),
            _ => {}
        }
    }

    pub(super) fn spread(&mut self, v: FieldValue) {
        if self.min.as_ref().is_none_or(|m| cmp_values(&v, m).is_lt()) {
            self.min = Some(v.clone());
        }
        if self.max.as_ref().is_none_or(|m| cmp_values(&v, m).is_gt()) {
            self.max = Some(v);
        }
    }

    pub(super) fn pick(
        &mut self,
        a: &AggSpec,
        ts: i64,
        v: FieldValue,
        aux: &dyn Fn() -> Vec<Value>,
    ) {
        let replace = match &self.pick {
            None => true,
            Some((pt, pv, _)) => picks(a.func, ts, *pt, || cmp_values(&v, pv)),
        };
        if replace {
            self.pick = Some((ts, v, aux()));
        }
    }

    pub(super) fn add_point(
        &mut self,
        a: &AggSpec,
        ts: i64,
        v: FieldValue,
        aux: &dyn Fn() -> Vec<Value>,
    ) {
        self.count += 1;
        self.is_int = matches!(v, FieldValue::Integer(_));
        match a.func {
            AggFn::Count if !a.count_distinct => {}
            AggFn::Sum | AggFn::Mean => {
                if let FieldValue::Integer(x) = v {
                    self.sum_i = self.sum_i.wrapping_add(x);
                }
                self.sum_f += num(&v);
            }
            AggFn::Stddev => {
                let x = num(&v);
                let d = x - self.mean;
                self.mean += d / self.count as f64;
                self.m2 += d * (x - self.mean);
            }
            AggFn::Spread => self.spread(v),
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => self.pick(a, ts, v, aux),
            AggFn::Top | AggFn::Bottom => {
                self.held.push((ts, v, aux()));
                if a.tags.is_empty() && self.held.len() >= 2 * a.n.max(16) {
                    sort_top(&mut self.held, a.func == AggFn::Top);
                    self.held.truncate(a.n);
                }
            }
            AggFn::Distinct | AggFn::Count => {
                // Distinct values: keep the point of each that 1.x reads first (the earliest,
                // newest first the latest). The value is found by hash, not by a scan.
                let held = &self.held;
                let found = self
                    .distinct
                    .get_or_insert_with(Box::default)
                    .find_or_record(&v, |i| held.get(i).map(|h| &h.1));
                match found.and_then(|i| self.held.get_mut(i)) {
                    Some(h) => {
                        let first = if a.newest_first { ts > h.0 } else { ts < h.0 };
                        if first {
                            h.0 = ts;
                        }
                    }
                    None => self.held.push((ts, v, Vec::new())),
                }
            }
            _ => self.held.push((ts, v, Vec::new())),
        }
    }

    /// The value of a one-row aggregate.
    pub(super) fn finish(&mut self, a: &AggSpec) -> Out {
        let mut out = Out {
            value: Value::Null,
            time: None,
            aux: None,
        };
        if self.count == 0 {
            if a.func == AggFn::Count {
                out.value = Value::Integer(0);
            }
            return out;
        }
        out.value = match a.func {
            AggFn::Count if a.count_distinct => Value::Integer(self.held.len() as i64),
            AggFn::Count => Value::Integer(self.count as i64),
            AggFn::Mean => Value::Float(self.sum_f / self.count as f64),
            AggFn::Sum => {
                if self.is_int {
                    Value::Integer(self.sum_i)
                } else {
                    Value::Float(self.sum_f)
                }
            }
            AggFn::Stddev => {
                if self.count < 2 {
                    Value::Null
                } else {
                    Value::Float((self.m2 / (self.count - 1) as f64).sqrt())
                }
            }
            AggFn::Spread => match (&self.min, &self.max) {
                (Some(FieldValue::Integer(a)), Some(FieldValue::Integer(b))) => {
                    Value::Integer(b - a)
                }
                (Some(a), Some(b)) => Value::Float(num(b) - num(a)),
                _ => Value::Null,
            },
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => match self.pick.take() {
                Some((t, v, aux)) => {
                    out.time = Some(t);
                    out.aux = Some(aux);
                    Value::from(v)
                }
                None => Value::Null,
            },
            AggFn::Median => {
                self.held.sort_by(|x, y| cmp_values(&x.1, &y.1));
                let n = self.held.len();
                if n % 2 == 1 {
                    Value::Float(num(&self.held[n / 2].1))
                } else {
                    let (lo, hi) = (num(&self.held[n / 2 - 1].1), num(&self.held[n / 2].1));
                    Value::Float(lo + (hi - lo) / 2.0)
                }
            }
            AggFn::Mode => {
                // The most frequent value; among equally frequent ones the smallest. (1.x
                // breaks such ties by the order Go's unstable sort leaves equal points in.)
                self.held
                    .sort_by(|x, y| cmp_values(&x.1, &y.1).then(x.0.cmp(&y.0)));
                let mut best: Option<(usize, &FieldValue)> = None;
                let mut i = 0;
                while i < self.held.len() {
                    let mut j = i;
                    while j < self.held.len()
                        && cmp_values(&self.held[j].1, &self.held[i].1).is_eq()
                    {
                        j += 1;
                    }
                    if best.is_none_or(|(c, _)| j - i > c) {
                        best = Some((j - i, &self.held[i].1));
                    }
                    i = j;
                }
                best.map_or(Value::Null, |(_, v)| Value::from(v.clone()))
            }
            AggFn::Percentile => {
                self.held
                    .sort_by(|x, y| cmp_values(&x.1, &y.1).then(x.0.cmp(&y.0)));
                let n = self.held.len();
                let i = (n as f64 * a.p / 100.0 + 0.5).floor() as i64 - 1;
                if i < 0 || i as usize >= n {
                    Value::Null
                } else {
                    let (t, v, aux) = self.held[i as usize].clone();
                    out.time = Some(t);
                    out.aux = Some(aux);
                    Value::from(v)
                }
            }
            AggFn::Integral => {
                self.held.sort_by_key(|h| h.0);
                let unit = if a.unit > 0 { a.unit } else { 1_000_000_000 } as f64;
                let mut area = 0.0;
                for w in self.held.windows(2) {
                    let (t0, v0) = (w[0].0, num(&w[0].1));
                    let (t1, v1) = (w[1].0, num(&w[1].1));
                    area += (v0 + v1) / 2.0 * ((t1 - t0) as f64 / unit);
                }
                Value::Float(area)
            }
            _ => Value::Null,
        };
        out
    }

    /// The rows of a multi-row function (top, bottom, distinct), in time order.
    pub(super) fn finish_rows(&mut self, a: &AggSpec) -> Vec<(i64, Value, Vec<Value>)> {
        let mut held = std::mem::take(&mut self.held);
        self.distinct = None;
        match a.func {
            AggFn::Distinct => {
                held.sort_by_key(|h| h.0);
            }
            _ => {
                let top = a.func == AggFn::Top;
                sort_top(&mut held, top);
                if !a.tags.is_empty() {
                    // The best point of each tag combination, then the best N of those.
                    let mut seen = SeenKeys::default();
                    held.retain(|(_, _, aux)| {
                        seen.first(a.tags.iter().map(|t| aux[*t].clone()).collect())
                    });
                }
                held.truncate(a.n);
                held.sort_by_key(|h| h.0);
            }
        }
        held.into_iter()
            .map(|(t, v, aux)| (t, Value::from(v), aux))
            .collect()
    }
}

/// Best first (largest for top, smallest for bottom); ties by earlier time.
pub(super) fn sort_top(held: &mut [Held], top: bool) {
    held.sort_by(|x, y| {
        let o = cmp_values(&x.1, &y.1);
        let o = if top { o.reverse() } else { o };
        o.then(x.0.cmp(&y.0))
    });
}
