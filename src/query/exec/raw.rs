//! Raw answers (no aggregate): rows of points, and transformations over raw points.

use super::expr::{columns_are_distinct_vars, eval};
use super::group::GroupContext;
use super::join::{join_calls, Stream};
use super::layout::{ColumnExpr, TransformInput};
use super::transform::TransformState;
use crate::error::Result;
use crate::query::plan::SelectPlan;
use crate::query::result::Value;
use crate::series::SeriesInfo;
use crate::types::FieldValue;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Bytes result rows hold: a cell each, plus the strings a cell holds alone.
pub(super) fn rows_bytes(values: &[Vec<Value>]) -> u64 {
    values
        .iter()
        .flatten()
        .map(|v| std::mem::size_of::<Value>() as u64 + v.own_heap_bytes())
        .sum()
}

pub(super) fn limit_rows(plan: &SelectPlan, rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let it = rows.into_iter().skip(plan.offset);
    if plan.limit > 0 {
        it.take(plan.limit).collect()
    } else {
        it.collect()
    }
}

impl GroupContext<'_> {
    /// Raw rows: every column evaluated per point.
    pub(super) fn raw(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Vec<Value>>> {
        let plan = self.plan;
        let mut rows: Vec<(i64, Vec<Value>)> = Vec::new();
        let mut out_held = self.snap.mem.empty_charge();
        let cell = std::mem::size_of::<Value>() as u64;
        let out_row_bytes = cell * (self.layout.exprs.len() as u64 + 1) + 24;
        // ORDER BY time DESC LIMIT n: the group's rows are the newest offset + n of its series'
        // rows, so each series needs only its newest offset + n.
        let newest = (plan.desc && plan.limit > 0 && self.snap.early_stop)
            .then(|| plan.offset.saturating_add(plan.limit));
        for s in members {
            // The series' tag values, made once and shared by its rows.
            let tags: Vec<Option<Value>> = (0..self.layout.vars.len())
                .map(|v| (!self.is_field_var(v)).then(|| self.var_value(v, &[], s)))
                .collect();
            // The row's variables, refilled for each row.
            let mut vars: Vec<Value> = Vec::with_capacity(tags.len());
            let moves = columns_are_distinct_vars(&self.layout.exprs);
            let mut add = |ts: i64, vals: &[Option<FieldValue>]| -> Result<()> {
                vars.clear();
                vars.extend(tags.iter().enumerate().map(|(v, tag)| match tag {
                    Some(t) => t.clone(),
                    None => self.var_value(v, vals, s),
                }));
                let any_field =
                    (0..vars.len()).any(|v| self.is_field_var(v) && vars[v] != Value::Null);
                if !any_field {
                    return Ok(());
                }
                let mut row = Vec::with_capacity(self.layout.exprs.len() + 1);
                row.push(Value::Time(ts));
                if moves {
                    // Each variable is one column (`SELECT *`, plain field lists): moved, not
                    // cloned and dropped (a tag value's clone is an atomic increment).
                    for e in &self.layout.exprs {
                        let v = match e {
                            ColumnExpr::Var(v) => {
                                vars.get_mut(*v).map(|x| std::mem::replace(x, Value::Null))
                            }
                            _ => None,
                        };
                        row.push(v.unwrap_or(Value::Null));
                    }
                } else {
                    for e in &self.layout.exprs {
                        row.push(eval(e, &vars, &[], &[]));
                    }
                }
                // Strings the row holds alone (string fields) hold heap bytes of their own; tag
                // values are shared by the series' rows. (`vars` is emptied first: it shares
                // the row's field strings until then.)
                vars.clear();
                let heap: u64 = row.iter().map(Value::own_heap_bytes).sum();
                out_held.add(out_row_bytes + heap)?;
                rows.push((ts, row));
                Ok(())
            };
            match newest {
                Some(k) => {
                    let keep = |vals: &[Option<FieldValue>]| {
                        (0..self.layout.vars.len()).any(|v| {
                            self.is_field_var(v) && self.var_value(v, vals, s) != Value::Null
                        })
                    };
                    let (series_rows, _held) = self.newest(s, k, &keep)?;
                    for (ts, vals) in series_rows {
                        add(ts, &vals)?;
                    }
                }
                None => self.for_each_row(s, plan.tmin, plan.tmax, &mut add)?,
            }
        }
        rows.sort_by_key(|(t, _)| *t); // stable: series order kept within a timestamp
        if plan.desc {
            rows.reverse();
        }
        Ok(limit_rows(plan, rows.into_iter().map(|(_, r)| r).collect()))
    }

    /// Transformations over the raw points of fields: each answers its own stream, the streams
    /// are joined on time and every column is evaluated over the joined rows ([`join_calls`]).
    pub(super) fn raw_transform(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Vec<Value>>> {
        let trs = self.raw_tr_streams(members)?;
        Ok(join_calls(self.plan, Vec::new(), trs, &self.layout.exprs))
    }

    /// What each transformation over raw points ([`TransformInput::Var`]) answers, as (time, value)
    /// in output order (ORDER BY time DESC runs it over the points newest first, as 1.x does).
    /// Transformations over aggregates answer an empty stream here.
    pub(super) fn raw_tr_streams(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Stream>> {
        let plan = self.plan;
        let mut vars: Vec<usize> = self
            .layout
            .trs
            .iter()
            .filter_map(|t| match t.input {
                TransformInput::Var(v) => Some(v),
                TransformInput::Agg(_) | TransformInput::Tr(_) => None,
            })
            .collect();
        vars.sort_unstable();
        vars.dedup();
        let mut points: BTreeMap<usize, Vec<(i64, Value)>> = BTreeMap::new();
        let mut held = self.snap.mem.empty_charge();
        if !vars.is_empty() {
            for s in members {
                self.for_each_row(s, plan.tmin, plan.tmax, &mut |ts, vals| {
                    for &v in &vars {
                        let x = self.var_value(v, vals, s);
                        if x != Value::Null {
                            held.add(48)?;
                            points.entry(v).or_default().push((ts, x));
                        }
                    }
                    Ok(())
                })?;
            }
        }
        for p in points.values_mut() {
            p.sort_by_key(|(t, _)| *t); // stable: series order kept within a timestamp
            if plan.desc {
                p.reverse();
            }
        }
        let mut out = Vec::with_capacity(self.layout.trs.len());
        for tr in &self.layout.trs {
            let mut stream = Vec::new();
            if let TransformInput::Var(v) = tr.input {
                let mut state = TransformState::new(tr, 1_000_000_000);
                for (ts, x) in points.get(&v).into_iter().flatten() {
                    if let Some(y) = state.push(*ts, x) {
                        held.add(48)?;
                        stream.push((*ts, y));
                    }
                }
            }
            out.push(stream);
        }
        Ok(out)
    }
}
