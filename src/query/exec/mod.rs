//! The executor: runs a [`SelectPlan`] against one [`Snapshot`] of a database.
//!
//! Every (series, field) run is read from every source of that one snapshot — tables oldest
//! first, then frozen memtables, then the active memtable — and merged so that the newest write
//! of a timestamp wins. Aggregations accumulate per (group, bucket, call); only median, mode,
//! percentile, distinct, integral and top/bottom (bounded to N) hold their bucket's values.
//!
//! One file per idea: the entry points and the merge of split tasks (here), the column layout
//! of a measurement ([`layout`]) and the time windows its calls read ([`windows`]), the series
//! of one measurement ([`measurement`]), the field condition ([`predicate`]), reading rows
//! ([`rows`]), raw answers ([`raw`]), aggregation ([`aggregate`], with one accumulator per call
//! and bucket in [`accumulator`] kept in a [`bucket_map`]), transformations ([`transform`]),
//! column expressions ([`expr`]), joining columns on time ([`join`]), integral ([`integral`])
//! and fill ([`fill`]).

mod accumulator;
mod aggregate;
mod answer;
mod bucket_map;
mod expr;
mod fill;
mod group;
mod integral;
mod join;
mod layout;
mod measurement;
mod physical;
mod predicate;
mod raw;
mod rows;
#[cfg(test)]
mod tests;
mod transform;
mod windows;

pub(crate) use measurement::matching_series;
pub use measurement::splits_by_series;

use aggregate::PartialAggregate;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::query::limits::{Charge, QueryMemory, SelectLimits};
use crate::query::plan::SelectPlan;
use crate::query::result::SeriesResult;
use crate::query::scan::Snapshot;
use crate::version::Version;
use measurement::{compute_measurement, select_series};
pub use physical::PhysicalPlan;
use std::collections::BTreeMap;
use std::sync::Arc;
use strata_actors::CancelToken;

fn check(token: &CancelToken) -> Result<()> {
    token.check().map_err(Error::from)
}

/// What the groups of every measurement of one task's execution share.
struct Scope<'a> {
    /// The statement's result rows, charged to the query's memory as they are made.
    rows: &'a std::cell::RefCell<Charge>,
}

/// What EXPLAIN collects while a SELECT's series are selected (and, for EXPLAIN ANALYZE, while
/// it runs).
#[derive(Debug, Default)]
pub struct Explain {
    /// Collect plan lines.
    pub on: bool,
    /// The plan, one line per entry.
    pub lines: Vec<String>,
    /// Series selected over all measurements.
    pub series: u64,
}

/// The key of one output series: its GROUP BY tags.
pub type GroupKey = Vec<(String, String)>;

/// The output series of one measurement, by group key, before SOFFSET/SLIMIT.
pub type MeasurementPart = (String, Vec<(GroupKey, SeriesResult)>);

/// Which of a statement's work one task does: task `index` of `of`.
#[derive(Clone, Debug)]
pub struct Part {
    pub index: usize,
    pub of: usize,
    /// How the statement is split.
    pub by: SplitBy,
}

/// How a statement is split into tasks.
#[derive(Clone, Debug)]
pub enum SplitBy {
    /// By (measurement, group) unit: a task computes those whose key hashes to its index
    /// modulo the number of tasks.
    Groups,
    /// By series within the statement's one group (an aggregate whose partial states merge
    /// exactly, [`splits_by_series`]): task `index` folds the `index`th of `of` runs of the
    /// group's series (in series order) into a partial aggregate; the last task to finish
    /// merges them in series order and answers.
    Series(Arc<SeriesSplit>),
}

/// The partial aggregates of the tasks of a statement split by series.
pub struct SeriesSplit {
    partials: std::sync::Mutex<SeriesPartials>,
}

struct SeriesPartials {
    /// By task index.
    done: Vec<Option<PartialAggregate>>,
    /// Tasks that have not handed theirs in.
    left: usize,
}

impl SeriesSplit {
    /// The shared state of a statement split by series into `of` tasks.
    pub fn new(of: usize) -> Arc<SeriesSplit> {
        Arc::new(SeriesSplit {
            partials: std::sync::Mutex::new(SeriesPartials {
                done: (0..of).map(|_| None).collect(),
                left: of,
            }),
        })
    }

    /// Hand in task `index`'s partial aggregate; for the last task, every task's merged in
    /// series order (task order).
    fn hand_in(
        &self,
        index: usize,
        partial: PartialAggregate,
        calls: &[layout::AggregateCall],
    ) -> Option<PartialAggregate> {
        let mut partials = self.partials.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = partials.done.get_mut(index) {
            *slot = Some(partial);
        }
        partials.left = partials.left.saturating_sub(1);
        if partials.left > 0 {
            return None;
        }
        let mut all = partials.done.drain(..).flatten();
        let mut merged = all.next()?;
        for other in all {
            merged.merge(other, calls);
        }
        Some(merged)
    }
}

impl std::fmt::Debug for SeriesSplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SeriesSplit")
    }
}

impl Part {
    fn owns(&self, measurement: &str, key: &GroupKey) -> bool {
        if let SplitBy::Series(_) = self.by {
            return true;
        }
        // FNV-1a: stable across tasks and runs.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(measurement);
        for (k, v) in key {
            eat(k);
            eat(v);
        }
        (h % self.of.max(1) as u64) as usize == self.index
    }
}

/// Run a SELECT plan.
pub fn execute_select(
    db: &Database,
    plan: SelectPlan,
    token: &CancelToken,
    limits: &SelectLimits,
    mem: &QueryMemory,
) -> Result<Vec<SeriesResult>> {
    let physical = PhysicalPlan::build(db, plan);
    let snap = snapshot(db, physical.select(), limits, mem);
    execute_on(db, &snap, &physical, token, &mut Explain::default())
}

/// The snapshot a SELECT reads: the database's current version under its retention cutoff.
pub fn snapshot(
    db: &Database,
    plan: &SelectPlan,
    limits: &SelectLimits,
    mem: &QueryMemory,
) -> Snapshot {
    snapshot_of(db, db.versions().current(), plan, limits, mem)
}

/// [`snapshot`] of a given version (the tasks of one query share theirs).
pub fn snapshot_of(
    db: &Database,
    version: Arc<Version>,
    plan: &SelectPlan,
    limits: &SelectLimits,
    mem: &QueryMemory,
) -> Snapshot {
    let mut snap = Snapshot::new(version).with_cutoff(db.retention_cutoff(plan.now));
    snap.limits = limits.clone();
    snap.mem = mem.clone();
    snap.block_cache = Some(db.block_cache().clone());
    snap
}

/// Run a SELECT's physical plan on `snap` (with `explain.on`, collecting what EXPLAIN ANALYZE
/// shows of its reads).
pub fn execute_on(
    db: &Database,
    snap: &Snapshot,
    physical: &PhysicalPlan,
    token: &CancelToken,
    explain: &mut Explain,
) -> Result<Vec<SeriesResult>> {
    let parts = execute_part(db, snap, physical, token, explain, None)?;
    Ok(merge_parts(physical.select(), vec![parts]))
}

/// EXPLAIN without ANALYZE: what each measurement of the physical plan would read of `snap`
/// (its series, and the files, blocks and memtables left after pruning), into `explain`.
/// Nothing is read beyond the tables' indexes; nothing is computed.
pub fn explain_plan(
    db: &Database,
    snap: &Snapshot,
    physical: &PhysicalPlan,
    explain: &mut Explain,
) -> Result<()> {
    for measurement in physical.measurements() {
        select_series(
            db.index(),
            snap,
            physical.select(),
            measurement,
            None,
            explain,
        )?;
    }
    Ok(())
}

/// Merge what the tasks of one statement computed ([`execute_part`]): measurements in the
/// statement's order, each measurement's series by group key, then ORDER BY time DESC,
/// SOFFSET and SLIMIT.
pub fn merge_parts(plan: &SelectPlan, parts: Vec<Vec<MeasurementPart>>) -> Vec<SeriesResult> {
    let mut by_name: BTreeMap<String, Vec<(GroupKey, SeriesResult)>> = BTreeMap::new();
    for part in parts {
        for (name, groups) in part {
            by_name.entry(name).or_default().extend(groups);
        }
    }
    let mut measurements: Vec<(String, Vec<(GroupKey, SeriesResult)>)> =
        by_name.into_iter().collect();
    if plan.desc {
        // ORDER BY time DESC also reverses the order of the series (1.x).
        measurements.reverse();
    }
    let mut out = Vec::new();
    for (_, mut groups) in measurements {
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        if plan.desc {
            groups.reverse();
        }
        let it = groups.into_iter().map(|(_, r)| r).skip(plan.soffset);
        if plan.slimit > 0 {
            out.extend(it.take(plan.slimit));
        } else {
            out.extend(it);
        }
    }
    out
}

/// Compute the output series of a SELECT, or of the part of it `part` says.
pub fn execute_part(
    db: &Database,
    snap: &Snapshot,
    physical: &PhysicalPlan,
    token: &CancelToken,
    explain: &mut Explain,
    part: Option<Part>,
) -> Result<Vec<MeasurementPart>> {
    let plan = physical.select();
    let mut out = Vec::new();
    // Result rows are held until the answer is sent: charged as each row is made (aggregates)
    // or each group is done (raw rows, whose buffers are charged while they are read).
    let rows = std::cell::RefCell::new(snap.mem.empty_charge());
    let scope = Scope { rows: &rows };
    for measurement in physical.measurements() {
        let selected = select_series(db.index(), snap, plan, measurement, part.as_ref(), explain)?;
        let groups = match selected {
            Some(selected) => {
                compute_measurement(snap, plan, &measurement.name, selected, &scope, token)?
            }
            None => Vec::new(),
        };
        out.push((measurement.name.clone(), groups));
    }
    // The charge ends with the statement's execution; its rows are in `out` now.
    drop(rows);
    Ok(out)
}
