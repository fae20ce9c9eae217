//! SELECT and EXPLAIN [ANALYZE]: the statement compiled to its logical plan, the physical plan
//! built once, then run (or described) against one snapshot under the statement's limits and
//! memory budget ([`SelectBudget`]).

use super::{database_for, source_database, SelectBudget};
use crate::database::Database;
use crate::db::Databases as Db;
use crate::error::Result;
use crate::query::influxql::ast::SelectStatement;
use crate::query::{compile, exec, plan, scan, QueryOptions, SeriesResult, Value};
use strata_actors::CancelToken;

/// `SELECT …`.
pub(super) fn select(
    db: &Db,
    s: &SelectStatement,
    opts: &QueryOptions,
    now: i64,
    token: &CancelToken,
) -> Result<Vec<SeriesResult>> {
    let name = database_for(opts, source_database(&s.sources))?;
    let d = db.database(name)?;
    let plan = compile::compile_select(&d, s, now)?;
    let budget = SelectBudget::new(db.config(), opts.inline_max_points);
    exec::execute_select(&d, plan, token, &budget.limits, &budget.memory)
        .map_err(|e| d.quarantine_on_corrupt(e))
}

/// `EXPLAIN [ANALYZE] SELECT …`.
pub(super) fn explain_statement(
    db: &Db,
    statement: &SelectStatement,
    analyze: bool,
    opts: &QueryOptions,
    now: i64,
    token: &CancelToken,
) -> Result<Vec<SeriesResult>> {
    let name = database_for(opts, source_database(&statement.sources))?;
    let d = db.database(name)?;
    let plan = compile::compile_select(&d, statement, now)?;
    let budget = SelectBudget::new(db.config(), 0);
    explain(&d, plan, analyze, token, &budget).map_err(|e| d.quarantine_on_corrupt(e))
}

/// EXPLAIN [ANALYZE]: the plan as 1.x answers it, one series with the column `QUERY PLAN` and
/// one row per line: the physical plan, then what each measurement reads (its series, and the
/// files, blocks and memtables left after pruning). Plain EXPLAIN computes nothing; ANALYZE
/// runs the statement and adds what it really did.
fn explain(
    d: &Database,
    plan: plan::SelectPlan,
    analyze: bool,
    token: &CancelToken,
    budget: &SelectBudget,
) -> Result<Vec<SeriesResult>> {
    use scan::ScanStats;
    let physical = exec::PhysicalPlan::build(d, plan);
    let (limits, mem) = (&budget.limits, &budget.memory);
    let snap = exec::snapshot(d, physical.select(), limits, mem);
    let mut collected = exec::Explain {
        on: true,
        ..Default::default()
    };
    let started = std::time::Instant::now();
    let out = if analyze {
        exec::execute_on(d, &snap, &physical, token, &mut collected)?
    } else {
        exec::explain_plan(d, &snap, &physical, &mut collected)?;
        Vec::new()
    };
    let elapsed = started.elapsed();
    let mut lines = vec![format!("SELECT over {} series", collected.series)];
    lines.extend(physical.describe());
    lines.append(&mut collected.lines);
    if analyze {
        let s = &snap.stats;
        lines.push("EXECUTION:".to_string());
        lines.push(format!(
            "  BLOCKS FROM PRE-AGGREGATES: {}",
            ScanStats::get(&s.blocks_from_aggregates)
        ));
        lines.push(format!(
            "  BLOCKS DECODED: {}",
            ScanStats::get(&s.blocks_decoded)
        ));
        lines.push(format!(
            "  POINTS DECODED: {}",
            ScanStats::get(&s.points_decoded)
        ));
        lines.push(format!(
            "  BLOCKS WITH ONLY TIMESTAMPS DECODED: {}",
            ScanStats::get(&s.blocks_timestamps_read)
        ));
        lines.push(format!(
            "  MEMTABLE POINTS: {}",
            ScanStats::get(&s.memtable_points)
        ));
        lines.push(format!("  SERIES: {}", collected.series));
        lines.push(format!(
            "  RESULT ROWS: {}",
            out.iter().map(|r| r.values.len()).sum::<usize>()
        ));
        lines.push(format!("  PEAK MEMORY BYTES: {}", mem.peak()));
        lines.push(format!("  EXECUTION TIME: {elapsed:?}"));
    }
    Ok(vec![SeriesResult {
        name: String::new(),
        tags: None,
        columns: vec!["QUERY PLAN".to_string()],
        values: lines.into_iter().map(|l| vec![Value::string(l)]).collect(),
    }])
}
