//! One measurement of a SELECT: its matching series grouped by the GROUP BY tags, the limits
//! charged, the tables pruned ([`select_series`]), and each group computed
//! ([`compute_measurement`]).

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use super::accumulator::merge_is_exact;
use super::group::GroupContext;
use super::layout::Layout;
use super::physical::{MeasurementPlan, MeasurementShape, PhysicalPlan, Reads};
use super::raw::rows_bytes;
use super::{Explain, GroupKey, Part, Scope, SeriesSplit, SplitBy};
use crate::database::Database;
use crate::error::Result;
use crate::query::plan::{GroupTags, SelectPlan, TagPred};
use crate::query::result::SeriesResult;
use crate::query::scan::{Pruned, Snapshot};
use crate::series::{SeriesIndex, SeriesInfo};
use crate::types::{FieldType, SeriesId};
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

/// One measurement's series selected for a task: grouped, counted against the limits and the
/// tables they need pruned.
pub(super) struct Selected<'m> {
    shape: &'m MeasurementShape,
    layout: &'m Layout,
    reads: &'m Reads,
    groups: BTreeMap<GroupKey, Vec<Arc<SeriesInfo>>>,
    /// Split by series: (this task's index, the split, its run of the one group's series).
    series_run: Option<(usize, Arc<SeriesSplit>, Range<usize>)>,
    pruned: Pruned,
}

/// Select measurement `measurement`'s series for this task (`scope.part`): match them, group
/// them, charge max_select_series, and prune the tables. `None`: nothing to compute. With
/// `explain`, its lines for the measurement are added.
pub(super) fn select_series<'m>(
    index: &SeriesIndex,
    snap: &Snapshot,
    plan: &SelectPlan,
    measurement: &'m MeasurementPlan,
    part: Option<&Part>,
    explain: &mut Explain,
) -> Result<Option<Selected<'m>>> {
    let name = measurement.name.as_str();
    let Some(shape) = &measurement.shape else {
        return Ok(None);
    };
    let mut series = matching_series_unordered(index, name, &plan.tag_filter);
    if series.is_empty() {
        if explain.on {
            explain.lines.push(format!("MEASUREMENT: {name}"));
            explain.lines.push("  SERIES: 0".to_string());
        }
        return Ok(None);
    }
    // Inline (see `SelectLimits::inline_estimate`), the estimate comes before the series are
    // grouped: a query estimated past the budget moves to the pool having done little.
    let early = match &shape.reads {
        Some(reads) if snap.limits.is_inline() => {
            let mut ids: Vec<SeriesId> = series.iter().map(|s| s.id).collect();
            ids.sort_unstable();
            let pruned = snap.prune(&ids, &reads.fields, reads.min, reads.max)?;
            snap.inline_estimate(&pruned, &ids, &reads.fields)?;
            Some(pruned)
        }
        _ => None,
    };
    sort_by_key(&mut series);
    let mut groups: BTreeMap<GroupKey, Vec<Arc<SeriesInfo>>> = BTreeMap::new();
    for s in series {
        let key: GroupKey = shape
            .group_keys
            .iter()
            .map(|k| (k.clone(), s.tag(k).unwrap_or("").to_string()))
            .collect();
        if part.is_none_or(|p| p.owns(name, &key)) {
            groups.entry(key).or_default().push(s);
        }
    }
    // Split by series, this task folds one run of the one group's series. Where the group
    // cannot be split so (its layout changed since the statement was split), the first task
    // computes it whole.
    let series_run = match (part.map(|p| (p, &p.by)), shape.layout()) {
        (Some((p, SplitBy::Series(split))), Ok(layout))
            if groups.len() == 1 && merges_exactly(layout, &shape.var_types) =>
        {
            let members = groups.values().next().map_or(&[][..], Vec::as_slice);
            let per_task = members.len().div_ceil(p.of.max(1));
            let from = (p.index * per_task).min(members.len());
            let to = (from + per_task).min(members.len());
            Some((p.index, split.clone(), from..to))
        }
        (Some((p, SplitBy::Series(_))), _) if p.index != 0 => return Ok(None),
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

    let layout = shape.layout()?;
    let Some(reads) = &shape.reads else {
        return Ok(None); // nothing to compute
    };
    // Split by series there is one group, and this task reads its run of it.
    let ids = match &series_run {
        Some((_, _, run)) => series_ids(groups.values().flatten().skip(run.start).take(run.len())),
        None => series_ids(groups.values().flatten()),
    };
    // What the inline estimate pruned is the same: an inline statement is never split, so
    // every matching series is in `groups`.
    let pruned = match early {
        Some(p) => p,
        None => snap.prune(&ids, &reads.fields, reads.min, reads.max)?,
    };
    if explain.on {
        explain_lines(explain, name, &ids, &reads.fields, &pruned, snap);
    }
    Ok(Some(Selected {
        shape,
        layout,
        reads,
        groups,
        series_run,
        pruned,
    }))
}

/// Compute the groups of a measurement's selected series.
pub(super) fn compute_measurement(
    snap: &Snapshot,
    plan: &SelectPlan,
    name: &str,
    selected: Selected<'_>,
    scope: &Scope,
    token: &CancelToken,
) -> Result<Vec<(GroupKey, SeriesResult)>> {
    let Selected {
        shape,
        layout,
        reads,
        groups,
        series_run,
        pruned,
    } = selected;
    let ctx = GroupContext {
        rows_mem: scope.rows,
        snap,
        tables: &pruned.tables,
        plan,
        layout,
        sources: &reads.sources,
        fields: &reads.fields,
        var_types: &shape.var_types,
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
            name: name.to_string(),
            tags: (!matches!(plan.group_tags, GroupTags::None))
                .then(|| gkey.iter().cloned().collect()),
            columns: shape.columns.clone(),
            values,
        };
        out.push((gkey, result));
    }
    Ok(out)
}

/// The ids of `series`, sorted.
fn series_ids<'a>(series: impl Iterator<Item = &'a Arc<SeriesInfo>>) -> Vec<SeriesId> {
    let mut ids: Vec<SeriesId> = series.map(|s| s.id).collect();
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

/// Whether `physical`, a statement of one (measurement, group) unit, would be split by series
/// ([`SplitBy::Series`]): one measurement whose layout [`merges_exactly`], with at least
/// `tasks` series of `db` to split.
pub fn splits_by_series(db: &Database, physical: &PhysicalPlan, tasks: usize) -> bool {
    let [measurement] = physical.measurements() else {
        return false;
    };
    let Some(shape) = &measurement.shape else {
        return false;
    };
    let Ok(layout) = shape.layout() else {
        return false;
    };
    merges_exactly(layout, &shape.var_types)
        && matching_series_unordered(db.index(), &measurement.name, &physical.select().tag_filter)
            .len()
            >= tasks.max(2)
}
