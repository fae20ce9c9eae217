//! fill(previous) and fill(linear) over a group's buckets.

use super::accumulator::AggregateValue;
use crate::query::result::Value;

/// Fill each call's empty buckets with its value in the nearest bucket before with data, in
/// the answer's order as 1.x does (ORDER BY time DESC: the next newer bucket's).
pub(super) fn fill_previous(rows: &mut [(i64, Vec<AggregateValue>, Vec<bool>)], desc: bool) {
    let ncols = rows.first().map_or(0, |r| r.1.len());
    for c in 0..ncols {
        let mut prev = Value::Null;
        let mut fill = |row: &mut (i64, Vec<AggregateValue>, Vec<bool>)| {
            if row.2.get(c) == Some(&true) {
                prev = row.1[c].value.clone();
            } else {
                row.1[c].value = prev.clone();
            }
        };
        if desc {
            rows.iter_mut().rev().for_each(&mut fill);
        } else {
            rows.iter_mut().for_each(&mut fill);
        }
    }
}

/// Interpolate each call's empty buckets linearly between its nearest buckets with data
/// (`rows[i].2[c]`: call `c` has points in bucket `i`).
pub(super) fn fill_linear(rows: &mut [(i64, Vec<AggregateValue>, Vec<bool>)]) {
    let numv = |v: &Value| match v {
        Value::Float(x) => Some(*x),
        Value::Integer(x) => Some(*x as f64),
        Value::Unsigned(x) => Some(*x as f64),
        _ => None,
    };
    let ncols = rows.first().map_or(0, |r| r.1.len());
    for c in 0..ncols {
        let data_idx: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].2.get(c) == Some(&true))
            .collect();
        for w in data_idx.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b - a < 2 {
                continue;
            }
            let (Some(va), Some(vb)) = (numv(&rows[a].1[c].value), numv(&rows[b].1[c].value))
            else {
                continue;
            };
            let is_int = matches!(rows[a].1[c].value, Value::Integer(_));
            for (k, row) in rows.iter_mut().enumerate().take(b).skip(a + 1) {
                let frac = (k - a) as f64 / (b - a) as f64;
                let v = va + (vb - va) * frac;
                row.1[c].value = if is_int {
                    Value::Integer(v as i64)
                } else {
                    Value::Float(v)
                };
            }
        }
    }
}
