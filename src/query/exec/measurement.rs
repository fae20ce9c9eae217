//! One measurement of a SELECT: its matching series grouped by the GROUP BY tags, the limits
//! charged, the tables pruned, and each group computed.

use super::accumulator::merge_is_exact;
use super::group::GroupCtx;
use super::layout::{build_layout, dedup_names, read_fields, Layout};
use super::raw::rows_bytes;
use super::windows::read_window;
use super::{Explain, GroupKey, Scope, SplitBy};
use crate::engine::Database;
use crate::error::Result;
use crate::query::plan::{GroupTags, SelectPlan, TagPred};
use crate::query::result::SeriesResult;
use crate::query::scan::Snapshot;
use crate::series::{SeriesIndex, SeriesInfo};
use crate::types::{FieldType, SeriesId};
use std::collections::BTreeMap;
use std::sync::Arc;
use strata_actors::CancelToken;

/// The series of `measurement` whose tags satisfy `pred`, in series-key order.
pub(crate) fn matching_series(
    index: &SeriesIndex,
    measurement: &str,
    pred: &TagPred,
) -> Vec<Arc<SeriesInfo>> {
    let mut series = matching_series_unordered(index, measurement, pred);
    sort_by_key(&mut series);
    series
}

/// [`matching_series`] in no particular order.
pub(super) fn matching_series_unordered(
    index: &SeriesIndex,
    measurement: &str,
    pred: &TagPred,
) -> Vec<Arc<SeriesInfo>> {
    let Some(m) = index.measurement(measurement) else {
        return Vec::new();
    };
    let ids = pred.candidates(&m);
    ids.into_iter()
        .filter_map(|id| index.get(id))
        .filter(|s| pred.eval(&|k: &str| s.tag(k)))
        .collect()
}

/// Series in key order.
pub(super) fn sort_by_key(series: &mut [Arc<SeriesInfo>]) {
    // Series keys are unique: the unstable sort gives the same order, with fewer moves.
    series.sort_unstable_by(|a, b| a.key.cmp(&b.key));
}

pub(super) fn select_measurement(
    index: &SeriesIndex,
    snap: &Snapshot,
    plan: &SelectPlan,
    measurement: &str,
    scope: &Scope,
    token: &CancelToken,
    explain: &mut Explain,
) -> Result<Vec<(GroupKey, SeriesResult)>> {
    let (union, part) = (scope.union, scope.part.as_ref());
    let Some(mi) = index.measurement(measurement) else {
        return Ok(Vec::new());
    };
    let schema = mi.fields();
    let tag_keys = mi.tag_keys();
    let mut series = matching_series_unordered(index, measurement, &plan.tag_filter);
    if series.is_empty() {
        if explain.on {
            explain.lines.push(format!("MEASUREMENT: {measurement}"));
            explain.lines.push("  SERIES: 0".to_string());
        }
        return Ok(Vec::new());
    }
    let group_keys: Vec<String> = match &plan.group_tags {
        GroupTags::None => Vec::new(),
        GroupTags::Keys(k) => {
            let mut k = k.clone();
            for t in &tag_keys {
                if plan.group_regexes.iter().any(|r| r.is_match(t)) {
                    k.push(t.clone());
                }
            }
            k.sort();
            k.dedup();
            k
        }
        GroupTags::All => tag_keys.clone(),
    };
    // The layout, and the fields and window it reads, are known before the series are
    // grouped (a layout error is still reported after the series limit, below).
    let laid = build_layout(plan, &union.fields, &union.tags, &group_keys);
    let reads = match &laid {
        Ok(layout) if !layout.exprs.is_empty() => Some((
            read_fields(plan, layout, &schema, &tag_keys),
            read_window(plan, layout),
        )),
        _ => None,
    };
    // Inline (see `SelectLimits::inline_estimate`), the estimate comes before the series are
    // grouped: a query estimated past the budget moves to the pool having done little.
    let early = match &reads {
        Some(((fields, _), (read_min, read_max))) if snap.limits.is_inline() => {
            let mut ids: Vec<SeriesId> = series.iter().map(|s| s.id).collect();
            ids.sort_unstable();
            let pruned = snap.prune(&ids, fields, *read_min, *read_max)?;
            snap.inline_estimate(&pruned, &ids, fields)?;
            Some(pruned)
        }
        _ => None,
    };
    sort_by_key(&mut series);
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<Arc<SeriesInfo>>> = BTreeMap::new();
    for s in series {
        let key: Vec<(String, String)> = group_keys
            .iter()
            .map(|k| (k.clone(), s.tag(k).unwrap_or("").to_string()))
            .collect();
        if part.is_none_or(|p| p.owns(measurement, &key)) {
            groups.entry(key).or_default().push(s);
        }
    }
    // Split by series, this task folds one run of the one group's series: (its index, the
    // split, the run). Where the group cannot be split so (its layout changed since the
    // statement was split), the first task computes it whole.
    let var_types: Option<Vec<Option<FieldType>>> = laid
        .as_ref()
        .ok()
        .map(|layout| layout.vars.iter().map(|v| schema.get(v).copied()).collect());
    let series_run = match (part.map(|p| (p, &p.by)), &laid, &var_types) {
        (Some((p, SplitBy::Series(split))), Ok(layout), Some(types))
            if groups.len() == 1 && merges_exactly(layout, types) =>
        {
            let members = groups.values().next().map_or(&[][..], Vec::as_slice);
            let per_task = members.len().div_ceil(p.of.max(1));
            let from = (p.index * per_task).min(members.len());
            let to = (from + per_task).min(members.len());
            Some((p.index, split.clone(), from..to))
        }
        (Some((p, SplitBy::Series(_))), _, _) if p.index != 0 => return Ok(Vec::new()),
        _ => None,
    };
    // LIMITS CALL SITE 2 (max_select_series): the series this statement (this part of it)
    // selects.
    let selected = match &series_run {
        Some((_, _, run)) => run.len(),
        None => groups.values().map(Vec::len).sum::<usize>(),
    };
    snap.limits.add_series(selected)?;
    explain.series += selected as u64;

    let layout = laid?;
    let Some(((fields, srcs), (read_min, read_max))) = reads else {
        return Ok(Vec::new()); // nothing to compute
    };
    let var_types = var_types.unwrap_or_default();
    let mut columns = vec!["time".to_string()];
    columns.extend(dedup_names(&layout.names));

    let ids: Vec<SeriesId> = match &series_run {
        Some((_, _, run)) => {
            let members = groups.values().next().map_or(&[][..], Vec::as_slice);
            let mut ids: Vec<SeriesId> = members[run.clone()].iter().map(|s| s.id).collect();
            ids.sort_unstable();
            ids
        }
        None => series_ids(&groups),
    };
    // What the inline estimate pruned is the same: an inline statement is never split, so
    // every matching series is in `groups`.
    let pruned = match early {
        Some(p) => p,
        None => snap.prune(&ids, &fields, read_min, read_max)?,
    };
    if explain.on {
        explain_lines(explain, measurement, &ids, &fields, &pruned, snap);
        if explain.plan_only {
            return Ok(Vec::new());
        }
    }
    let ctx = GroupCtx {
        rows_mem: scope.rows,
        snap,
        tables: &pruned.tables,
        plan,
        layout: &layout,
        srcs: &srcs,
        fields: &fields,
        var_types: &var_types,
        token,
    };
    let mut out = Vec::new();
    for (gkey, members) in groups {
        let values = if let Some((index, split, run)) = &series_run {
            let setup = ctx.aggregate_setup();
            let partial = ctx.accumulate(&setup, &members[run.clone()])?;
            match split.hand_in(*index, partial, &layout.aggs) {
                // The last task: every task's partial merged; charges its rows as it makes
                // them.
                Some(merged) => ctx.answer(&setup, merged, &members)?,
                None => continue,
            }
        } else if !layout.aggs.is_empty() {
            // Charges its rows as it makes them.
            ctx.aggregate(&members)?
        } else {
            let values = if !layout.trs.is_empty() {
                ctx.raw_transform(&members)?
            } else {
                ctx.raw(&members)?
            };
            scope.rows.borrow_mut().add(rows_bytes(&values))?;
            values
        };
        if values.is_empty() {
            continue;
        }
        let result = SeriesResult {
            name: measurement.to_string(),
            tags: (!matches!(plan.group_tags, GroupTags::None))
                .then(|| gkey.iter().cloned().collect()),
            columns: columns.clone(),
            values,
        };
        out.push((gkey, result));
    }
    Ok(out)
}

pub(super) fn series_ids(
    groups: &BTreeMap<Vec<(String, String)>, Vec<Arc<SeriesInfo>>>,
) -> Vec<SeriesId> {
    let mut ids: Vec<SeriesId> = groups.values().flatten().map(|s| s.id).collect();
    ids.sort_unstable();
    ids
}

pub(super) fn explain_lines(
    explain: &mut Explain,
    measurement: &str,
    ids: &[SeriesId],
    fields: &[String],
    p: &crate::query::scan::Pruned,
    snap: &Snapshot,
) {
    explain.lines.push(format!("MEASUREMENT: {measurement}"));
    explain.lines.push(format!("  SERIES: {}", ids.len()));
    explain
        .lines
        .push(format!("  FIELDS: {}", fields.join(", ")));
    let (chosen, total) = p
        .layers
        .iter()
        .fold((0, 0), |(c, t), (_, lc, lt)| (c + lc, t + lt));
    explain.lines.push(format!(
        "  FILES: {chosen} chosen, {} pruned, of {total}",
        total - chosen
    ));
    for (layer, c, t) in &p.layers {
        explain.lines.push(format!(
            "    LAYER C{layer}: {c} chosen, {} pruned, of {t}",
            t - c
        ));
    }
    explain.lines.push(format!("  BLOCKS: {}", p.blocks));
    explain
        .lines
        .push(format!("  ESTIMATED POINTS: {}", p.estimated_points));
    explain.lines.push(format!(
        "  MEMTABLES: {} read, of {}",
        p.memtables,
        snap.all_memtables().len()
    ));
}

/// Whether a group of `layout` can be split by series ([`SplitBy::Series`]): aggregates only
/// (no transformation, no raw rows) whose partial states merge into exactly what one pass
/// gives ([`merge_is_exact`]).
fn merges_exactly(layout: &Layout, var_types: &[Option<FieldType>]) -> bool {
    !layout.aggs.is_empty()
        && layout.trs.is_empty()
        && layout
            .aggs
            .iter()
            .all(|a| merge_is_exact(a, var_types.get(a.field).copied().flatten()))
}

/// Whether statement `plan` of `db`, computing one (measurement, group) unit, would be split by
/// series ([`SplitBy::Series`]): one measurement whose layout [`merges_exactly`] and at least
/// `tasks` series to split.
pub fn splits_by_series(db: &Database, plan: &SelectPlan, tasks: usize) -> bool {
    let index = db.index();
    let ([name], true) = (
        plan.measurements.as_slice(),
        plan.measurement_regexes.is_empty(),
    ) else {
        return false;
    };
    let Some(mi) = index.measurement(name) else {
        return false;
    };
    let schema = mi.fields();
    let Ok(layout) = build_layout(plan, &schema, &mi.tag_keys(), &[]) else {
        return false;
    };
    let var_types: Vec<Option<FieldType>> =
        layout.vars.iter().map(|v| schema.get(v).copied()).collect();
    merges_exactly(&layout, &var_types)
        && matching_series_unordered(index, name, &plan.tag_filter).len() >= tasks.max(2)
}
