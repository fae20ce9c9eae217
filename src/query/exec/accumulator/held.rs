//! median(), mode(), percentile() and integral(): every point of the bucket is held; the value
//! is computed from all of them when the bucket is answered. (integral() over GROUP BY time
//! reads the points of every bucket together: [`crate::query::exec::integral`].)

use super::{cmp_values, held_bytes, num, AggregateFunction, AggregateValue, AuxValues, HeldPoint};
use crate::query::exec::layout::AggregateCall;
use crate::query::plan::AggFn;
use crate::query::result::Value;
use crate::types::FieldValue;

#[derive(Clone, Debug, Default)]
pub(in crate::query::exec) struct HeldPoints {
    points: Vec<HeldPoint>,
    bytes: u64,
}

impl HeldPoints {
    /// The points, in the order they were added.
    pub(in crate::query::exec) fn held(&self) -> &[HeldPoint] {
        &self.points
    }

    fn median(&mut self) -> Value {
        self.points.sort_by(|x, y| cmp_values(&x.1, &y.1));
        let n = self.points.len();
        if n % 2 == 1 {
            Value::Float(num(&self.points[n / 2].1))
        } else {
            let (lo, hi) = (num(&self.points[n / 2 - 1].1), num(&self.points[n / 2].1));
            Value::Float(lo + (hi - lo) / 2.0)
        }
    }

    /// The most frequent value; among equally frequent ones the smallest. (1.x breaks such
    /// ties by the order Go's unstable sort leaves equal points in.)
    fn mode(&mut self) -> Value {
        self.points
            .sort_by(|x, y| cmp_values(&x.1, &y.1).then(x.0.cmp(&y.0)));
        let mut best: Option<(usize, &FieldValue)> = None;
        let mut i = 0;
        while i < self.points.len() {
            let mut j = i;
            while j < self.points.len() && cmp_values(&self.points[j].1, &self.points[i].1).is_eq()
            {
                j += 1;
            }
            if best.is_none_or(|(c, _)| j - i > c) {
                best = Some((j - i, &self.points[i].1));
            }
            i = j;
        }
        best.map_or(Value::Null, |(_, v)| Value::from(v.clone()))
    }

    /// The point at the `p`th percentile, nearest rank (its time and values too).
    fn percentile(&mut self, p: f64) -> AggregateValue {
        self.points
            .sort_by(|x, y| cmp_values(&x.1, &y.1).then(x.0.cmp(&y.0)));
        let n = self.points.len();
        let i = (n as f64 * p / 100.0 + 0.5).floor() as i64 - 1;
        if i < 0 || i as usize >= n {
            return AggregateValue::null();
        }
        let (t, v, aux) = self.points[i as usize].clone();
        AggregateValue {
            value: Value::from(v),
            time: Some(t),
            aux: Some(aux),
        }
    }

    /// The trapezium rule over the points in time order, in `unit`s (default 1s).
    fn area(&mut self, unit: i64) -> Value {
        self.points.sort_by_key(|h| h.0);
        let unit = if unit > 0 { unit } else { 1_000_000_000 } as f64;
        let mut area = 0.0;
        for w in self.points.windows(2) {
            let (t0, v0) = (w[0].0, num(&w[0].1));
            let (t1, v1) = (w[1].0, num(&w[1].1));
            area += (v0 + v1) / 2.0 * ((t1 - t0) as f64 / unit);
        }
        Value::Float(area)
    }
}

impl AggregateFunction for HeldPoints {
    fn add(&mut self, _: &AggregateCall, ts: i64, value: FieldValue, _: &AuxValues<'_>) {
        self.bytes += held_bytes(&value, &[]);
        self.points.push((ts, value, Vec::new()));
    }

    /// Appended after this part's points: the order adding them one by one would give, which
    /// the stable sorts of the answers keep for equal values.
    fn merge(&mut self, _: &AggregateCall, mut other: HeldPoints) {
        self.bytes += other.bytes;
        self.points.append(&mut other.points);
    }

    fn finish(&mut self, call: &AggregateCall) -> AggregateValue {
        if self.points.is_empty() {
            return AggregateValue::null();
        }
        match call.func {
            AggFn::Median => AggregateValue::of(self.median()),
            AggFn::Mode => AggregateValue::of(self.mode()),
            AggFn::Percentile => self.percentile(call.p),
            AggFn::Integral => AggregateValue::of(self.area(call.unit)),
            _ => AggregateValue::null(),
        }
    }

    fn points(&self) -> u64 {
        self.points.len() as u64
    }

    fn size(&self) -> u64 {
        self.bytes
    }

    fn most_held_by_add(&self, value: &FieldValue, _: usize) -> u64 {
        held_bytes(value, &[])
    }
}
