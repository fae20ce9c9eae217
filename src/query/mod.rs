//! Query languages and their execution: the InfluxQL front end ([`influxql`]), the logical
//! plan ([`plan`]) every front end compiles to, the executor ([`exec`]) and the answer shapes
//! ([`result`]).

pub mod compile;
pub mod exec;
pub mod influxql;
pub mod limits;
pub mod plan;
pub mod registry;
pub mod result;
pub mod scan;
mod value_set;

use std::collections::BTreeMap;

use crate::database::{now_ns, Database};
use crate::db::Databases as Db;
use crate::error::{Error, Result, StopReason};
use crate::retention::{go_duration, RetentionChange};
use influxql::ast::{MeasurementName, Source, Statement, TagKeyFilter};
pub use result::{Epoch, QueryResponse, SeriesResult, StatementResult, Value};
use strata_actors::CancelToken;

/// Per-request query options.
#[derive(Clone, Debug, Default)]
pub struct QueryOptions {
    /// The database named by the request (`db=`); statements may name their own.
    pub database: String,
    /// Set by `Db::submit_query` for a query it runs on the caller's thread: a SELECT's
    /// estimated points beyond this stop it (to be resubmitted to the pool). 0: not inline.
    pub(crate) inline_max_points: u64,
    /// Who runs the query. `None` (the embedded default): every statement may run. `Some`:
    /// each statement is authorized for it first (`src/auth/authorize.rs`) and `SHOW
    /// DATABASES` lists only the databases it may read or write.
    pub principal: Option<crate::auth::Principal>,
}

impl QueryOptions {
    pub fn new(database: &str) -> QueryOptions {
        QueryOptions {
            database: database.to_string(),
            inline_max_points: 0,
            principal: None,
        }
    }

    /// The same options, run as `who` (see [`QueryOptions::principal`]).
    pub fn as_principal(mut self, who: crate::auth::Principal) -> QueryOptions {
        self.principal = Some(who);
        self
    }
}

/// Run parsed statements (on a query-pool worker). An error in one statement is reported in
/// that statement's result and the others still run; a tripped `token` (deadline, kill, client
/// gone) stops the whole query with its reason.
pub fn run(
    db: &Db,
    statements: &[Statement],
    opts: &QueryOptions,
    token: &CancelToken,
) -> Result<QueryResponse, StopReason> {
    let now = now_ns();
    let mut results = Vec::with_capacity(statements.len());
    for (i, st) in statements.iter().enumerate() {
        token.check()?;
        let r = match run_statement(db, st, opts, now, token) {
            Err(Error::QueryStopped(reason)) => return Err(reason),
            Ok(series) => StatementResult {
                statement_id: i,
                series,
                error: None,
            },
            Err(e) => StatementResult::error(i, e.to_string()),
        };
        results.push(r);
    }
    Ok(QueryResponse { results })
}

/// One SELECT split into tasks on the query pool (`query_parallelism`): task `k` of `n`
/// computes the (measurement, group) units that [`exec::Part`] `k` of `n` owns, or, for a
/// statement of one unit whose aggregates merge exactly, folds the `k`th run of its series
/// ([`exec::SplitBy::Series`]); all tasks read
/// the same Version snapshot and `now()`, share the statement's limits and memory budget, and
/// the last task to finish merges the parts into the answer.
pub struct SplitSelect {
    /// The database the statement reads.
    database: String,
    /// Built once, when the statement is split; `now()` is the time it was built.
    physical: std::sync::Arc<exec::PhysicalPlan>,
    of: usize,
    by: exec::SplitBy,
    limits: limits::SelectLimits,
    mem: limits::QueryMemory,
    version: std::sync::OnceLock<std::sync::Arc<crate::version::Version>>,
    parts: std::sync::Mutex<SplitParts>,
}

type PartResult = Result<Vec<exec::MeasurementPart>>;

#[derive(Default)]
struct SplitParts {
    done: Vec<Option<PartResult>>,
    left: usize,
}

impl SplitSelect {
    /// `Some` when `statements` is one SELECT and `of` > 1: what runs as `of` pool tasks.
    pub fn new(
        db: &Db,
        statements: &[Statement],
        opts: &QueryOptions,
        of: usize,
    ) -> Option<std::sync::Arc<SplitSelect>> {
        let [Statement::Select(s)] = statements else {
            return None;
        };
        if of < 2 {
            return None;
        }
        // A statement that does not compile runs unsplit, which reports its error.
        let name = database_for(opts, source_database(&s.sources)).ok()?;
        let d = db.database(name).ok()?;
        let plan = compile::compile_select(&d, s, now_ns()).ok()?;
        let physical = exec::PhysicalPlan::build(&d, plan);
        // One (measurement, group) unit is split by its series, when its aggregates merge
        // exactly; otherwise it runs as one task.
        let by = if one_unit(s) {
            if !exec::splits_by_series(&d, &physical, of) {
                return None;
            }
            exec::SplitBy::Series(exec::SeriesSplit::new(of))
        } else {
            exec::SplitBy::Groups
        };
        let cfg = db.config();
        Some(std::sync::Arc::new(SplitSelect {
            database: name.to_string(),
            physical: std::sync::Arc::new(physical),
            of,
            by,
            limits: limits::SelectLimits::new(
                cfg.get_max_select_points(),
                cfg.get_max_select_series(),
            )
            .with_buckets(cfg.get_max_select_buckets()),
            mem: limits::QueryMemory::new(cfg.get_query_memory_limit()),
            version: std::sync::OnceLock::new(),
            parts: std::sync::Mutex::new(SplitParts {
                done: (0..of).map(|_| None).collect(),
                left: of,
            }),
        }))
    }

    /// How many tasks the statement is split into.
    pub fn tasks(&self) -> usize {
        self.of
    }

    /// Run part `index`; the last part to finish returns the merged answer. A stopped query
    /// (kill, deadline, client gone) is `Err` with the reason, which stops the other tasks.
    pub fn run_part(
        &self,
        db: &Db,
        index: usize,
        token: &CancelToken,
    ) -> Result<Option<QueryResponse>, StopReason> {
        token.check()?;
        let r = self.compute(db, index, token);
        if let Err(Error::QueryStopped(reason)) = r {
            return Err(reason);
        }
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(slot) = parts.done.get_mut(index) {
            *slot = Some(r);
        }
        parts.left = parts.left.saturating_sub(1);
        if parts.left > 0 {
            return Ok(None);
        }
        let mut all = Vec::with_capacity(self.of);
        let mut error = None;
        for r in parts.done.drain(..).flatten() {
            match r {
                Ok(groups) => all.push(groups),
                Err(e) => {
                    error.get_or_insert(e);
                }
            }
        }
        let result = match error {
            Some(e) => StatementResult::error(0, e.to_string()),
            None => StatementResult {
                statement_id: 0,
                series: exec::merge_parts(self.physical.select(), all),
                error: None,
            },
        };
        Ok(Some(QueryResponse {
            results: vec![result],
        }))
    }

    fn compute(&self, db: &Db, index: usize, token: &CancelToken) -> PartResult {
        let d = db.database(&self.database)?;
        let plan = self.physical.select();
        let version = self.version.get_or_init(|| d.versions().current()).clone();
        let snap = exec::snapshot_of(&d, version, plan, &self.limits, &self.mem);
        let part = exec::Part {
            index,
            of: self.of,
            by: self.by.clone(),
        };
        exec::execute_part(
            &d,
            &snap,
            &self.physical,
            token,
            &mut exec::Explain::default(),
            Some(part),
        )
        .map_err(|e| d.quarantine_on_corrupt(e))
    }
}

/// Whether `s` computes at most one (measurement, group) unit: one named measurement and no
/// `GROUP BY` tag. Split into tasks, all but one would only repeat the planning and wake a worker
/// to find nothing to do.
fn one_unit(s: &influxql::ast::SelectStatement) -> bool {
    use influxql::ast::Dimension;
    let one_measurement = matches!(
        s.sources.as_slice(),
        [Source::Measurement(m)] if matches!(m.name, MeasurementName::Name(_))
    );
    one_measurement
        && s.dimensions
            .iter()
            .all(|d| matches!(d, Dimension::Time { .. }))
}

fn database_for<'a>(opts: &'a QueryOptions, named: Option<&'a str>) -> Result<&'a str> {
    match named.filter(|n| !n.is_empty()) {
        Some(n) => Ok(n),
        None if !opts.database.is_empty() => Ok(&opts.database),
        None => Err(Error::Query("database name required".into())),
    }
}

fn source_database(sources: &[Source]) -> Option<&str> {
    sources.iter().find_map(|s| match s {
        Source::Measurement(m) => m.database.as_deref(),
        Source::Subquery(_) => None,
    })
}

/// Measurement names selected by FROM (all of the database's when FROM is absent).
fn selected_measurements(d: &Database, sources: &[Source]) -> Vec<String> {
    let all = d.index().measurement_names();
    if sources.is_empty() {
        return all;
    }
    let mut out: Vec<String> = all
        .into_iter()
        .filter(|m| {
            sources.iter().any(|s| match s {
                Source::Measurement(x) => match &x.name {
                    MeasurementName::Name(n) => n == m,
                    MeasurementName::Regex(r) => r.is_match(m),
                },
                Source::Subquery(_) => false,
            })
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The series of measurement `m` a SHOW statement's WHERE selects (all without one).
fn show_series(
    d: &Database,
    m: &str,
    cond: Option<&influxql::Expr>,
) -> Result<Vec<std::sync::Arc<crate::series::SeriesInfo>>> {
    let pred = match cond {
        Some(c) => compile::tag_condition(c)?,
        None => plan::TagPred::True,
    };
    Ok(exec::matching_series(d.index(), m, &pred))
}

fn one_column(name: &str, column: &str, values: Vec<String>) -> SeriesResult {
    SeriesResult {
        name: name.to_string(),
        tags: None,
        columns: vec![column.to_string()],
        values: values.into_iter().map(|v| vec![Value::string(v)]).collect(),
    }
}

fn limit_offset<T>(v: Vec<T>, limit: Option<u64>, offset: Option<u64>) -> Vec<T> {
    let it = v.into_iter().skip(offset.unwrap_or(0) as usize);
    match limit {
        Some(n) if n > 0 => it.take(n as usize).collect(),
        _ => it.collect(),
    }
}

/// Delete the points of `measurements` matching `cond` (tags and time bounds only). DROP SERIES
/// (`time_allowed` false) deletes whole series, so it refuses time bounds as InfluxDB 1.x does.
fn delete_where(
    d: &Database,
    measurements: &[String],
    cond: Option<&influxql::ast::Expr>,
    now: i64,
    time_allowed: bool,
) -> Result<()> {
    let (tags, tmin, tmax) = compile::compile_delete_condition(d, measurements, cond, now)?;
    if !time_allowed && (tmin, tmax) != (compile::MIN_TIME, compile::MAX_TIME) {
        return Err(Error::Query(
            "DROP SERIES doesn't support time in WHERE clause".into(),
        ));
    }
    let index = d.index();
    let mut series = std::collections::BTreeSet::new();
    for m in measurements {
        let Some(mi) = index.measurement(m) else {
            continue;
        };
        let ids = tags.candidates(&mi);
        series.extend(ids.into_iter().filter(|id| {
            index
                .get(*id)
                .is_some_and(|s| tags.eval(&|k: &str| s.tag(k)))
        }));
    }
    // Delete the whole range InfluxQL can name: MIN_TIME/MAX_TIME stand for "unbounded".
    let lo = if tmin == compile::MIN_TIME {
        i64::MIN
    } else {
        tmin
    };
    let hi = if tmax == compile::MAX_TIME {
        i64::MAX
    } else {
        tmax
    };
    crate::delete::delete_points(d, series, lo, hi)?;
    Ok(())
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
    limits: &limits::SelectLimits,
    mem: &limits::QueryMemory,
) -> Result<Vec<SeriesResult>> {
    use scan::ScanStats;
    let physical = exec::PhysicalPlan::build(d, plan);
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

fn run_statement(
    db: &Db,
    st: &Statement,
    opts: &QueryOptions,
    now: i64,
    token: &CancelToken,
) -> Result<Vec<SeriesResult>> {
    if let Some(r) = crate::auth::statements::execute(db, st) {
        return r;
    }
    match st {
        Statement::Select(s) => {
            let name = database_for(opts, source_database(&s.sources))?;
            let d = db.database(name)?;
            let plan = compile::compile_select(&d, s, now)?;
            let cfg = db.config();
            let limits =
                limits::SelectLimits::new(cfg.get_max_select_points(), cfg.get_max_select_series())
                    .with_buckets(cfg.get_max_select_buckets())
                    .inline_budget(opts.inline_max_points);
            let mem = limits::QueryMemory::new(cfg.get_query_memory_limit());
            exec::execute_select(&d, plan, token, &limits, &mem)
                .map_err(|e| d.quarantine_on_corrupt(e))
        }
        Statement::Explain { analyze, statement } => {
            let name = database_for(opts, source_database(&statement.sources))?;
            let d = db.database(name)?;
            let plan = compile::compile_select(&d, statement, now)?;
            let cfg = db.config();
            let limits =
                limits::SelectLimits::new(cfg.get_max_select_points(), cfg.get_max_select_series())
                    .with_buckets(cfg.get_max_select_buckets());
            let mem = limits::QueryMemory::new(cfg.get_query_memory_limit());
            explain(&d, plan, *analyze, token, &limits, &mem)
                .map_err(|e| d.quarantine_on_corrupt(e))
        }
        Statement::ShowQueries => Ok(vec![db.queries().show()]),
        Statement::KillQuery { id } => {
            db.queries().kill(*id)?;
            Ok(Vec::new())
        }
        Statement::ShowDatabases => {
            let mut names = db.database_names();
            if let Some(who) = &opts.principal {
                names.retain(|n| db.users().may_see_database(who, n));
            }
            Ok(vec![one_column("databases", "name", names)])
        }
        Statement::CreateDatabase { name, retention } => {
            let change = retention
                .as_ref()
                .map(|r| RetentionChange {
                    duration: r.duration,
                    shard_group_duration: r.shard_duration,
                    replica_n: r.replication,
                    name: r.name.clone(),
                })
                .unwrap_or_default();
            db.create_database_with(name, &change)?;
            Ok(Vec::new())
        }
        Statement::DropDatabase { name } => {
            db.drop_database(name)?;
            Ok(Vec::new())
        }
        Statement::AlterRetentionPolicy {
            name,
            database,
            duration,
            replication,
            shard_duration,
            default: _,
        } => {
            let d = db.database(database)?;
            if d.retention().name != *name {
                return Err(Error::RetentionPolicyNotFound(name.clone()));
            }
            d.alter_retention(&RetentionChange {
                duration: *duration,
                shard_group_duration: *shard_duration,
                replica_n: *replication,
                name: None,
            })?;
            Ok(Vec::new())
        }
        Statement::Delete { source, condition } => {
            let named = match source {
                Some(Source::Measurement(m)) => m.database.as_deref(),
                _ => None,
            };
            let d = db.database(database_for(opts, named)?)?;
            let measurements = match source {
                Some(s) => selected_measurements(&d, std::slice::from_ref(s)),
                None => d.index().measurement_names(),
            };
            delete_where(&d, &measurements, condition.as_ref(), now, true)?;
            Ok(Vec::new())
        }
        Statement::DropSeries { sources, condition } => {
            let d = db.database(database_for(opts, source_database(sources))?)?;
            let measurements = selected_measurements(&d, sources);
            delete_where(&d, &measurements, condition.as_ref(), now, false)?;
            Ok(Vec::new())
        }
        Statement::DropMeasurement { name } => {
            let d = db.database(database_for(opts, None)?)?;
            delete_where(&d, std::slice::from_ref(name), None, now, false)?;
            Ok(Vec::new())
        }
        Statement::ShowRetentionPolicies { database } => {
            let d = db.database(database_for(opts, database.as_deref())?)?;
            let rp = d.retention();
            Ok(vec![SeriesResult {
                name: String::new(),
                tags: None,
                columns: [
                    "name",
                    "duration",
                    "shardGroupDuration",
                    "replicaN",
                    "default",
                ]
                .iter()
                .map(|s| s.to_string())
                .collect(),
                values: vec![vec![
                    Value::string(rp.name),
                    Value::string(go_duration(rp.duration)),
                    Value::string(go_duration(rp.shard_group_duration)),
                    Value::Integer(i64::from(rp.replica_n)),
                    Value::Boolean(true),
                ]],
            }])
        }
        Statement::ShowMeasurements(s) => {
            let d = db.database(database_for(opts, s.database.as_deref())?)?;
            let mut names = d.index().measurement_names();
            if let Some(c) = &s.condition {
                let mut keep = Vec::new();
                for n in names {
                    if !show_series(&d, &n, Some(c))?.is_empty() {
                        keep.push(n);
                    }
                }
                names = keep;
            }
            if let Some(m) = &s.measurement {
                names.retain(|n| match m {
                    MeasurementName::Name(x) => x == n,
                    MeasurementName::Regex(r) => r.is_match(n),
                });
            }
            let names = limit_offset(names, s.limit, s.offset);
            Ok(if names.is_empty() {
                Vec::new()
            } else {
                vec![one_column("measurements", "name", names)]
            })
        }
        Statement::ShowTagKeys(s) => {
            let d = db.database(database_for(opts, s.database.as_deref())?)?;
            let mut out = Vec::new();
            for m in selected_measurements(&d, &s.sources) {
                if let Some(mi) = d.index().measurement(&m) {
                    let keys = match &s.condition {
                        None => mi.tag_keys(),
                        Some(c) => {
                            let mut keys: Vec<String> = show_series(&d, &m, Some(c))?
                                .iter()
                                .flat_map(|si| si.tags.iter().map(|(k, _)| k.clone()))
                                .collect();
                            keys.sort();
                            keys.dedup();
                            keys
                        }
                    };
                    let keys = limit_offset(keys, s.limit, s.offset);
                    if !keys.is_empty() {
                        out.push(one_column(&m, "tagKey", keys));
                    }
                }
            }
            Ok(out)
        }
        Statement::ShowFieldKeys(s) => {
            let d = db.database(database_for(opts, s.database.as_deref())?)?;
            let mut out = Vec::new();
            for m in selected_measurements(&d, &s.sources) {
                if let Some(mi) = d.index().measurement(&m) {
                    let fields: Vec<(String, crate::types::FieldType)> =
                        limit_offset(mi.fields().into_iter().collect(), s.limit, s.offset);
                    if !fields.is_empty() {
                        out.push(SeriesResult {
                            name: m.clone(),
                            tags: None,
                            columns: vec!["fieldKey".into(), "fieldType".into()],
                            values: fields
                                .into_iter()
                                .map(|(k, t)| {
                                    vec![Value::string(k), Value::string(t.influx_name())]
                                })
                                .collect(),
                        });
                    }
                }
            }
            Ok(out)
        }
        Statement::ShowTagValues(s) => {
            let d = db.database(database_for(opts, s.database.as_deref())?)?;
            let mut out = Vec::new();
            for m in selected_measurements(&d, &s.sources) {
                let Some(mi) = d.index().measurement(&m) else {
                    continue;
                };
                let mut rows: Vec<(String, String)> = Vec::new();
                for k in mi.tag_keys() {
                    let keep = match &s.key {
                        TagKeyFilter::Eq(x) => &k == x,
                        TagKeyFilter::Neq(x) => &k != x,
                        TagKeyFilter::EqRegex(r) => r.is_match(&k),
                        TagKeyFilter::NeqRegex(r) => !r.is_match(&k),
                        TagKeyFilter::In(xs) => xs.contains(&k),
                    };
                    if !keep {
                        continue;
                    }
                    match &s.condition {
                        None => {
                            for v in mi.tag_values(&k) {
                                rows.push((k.clone(), v));
                            }
                        }
                        Some(c) => {
                            let mut vals: Vec<String> = show_series(&d, &m, Some(c))?
                                .iter()
                                .filter_map(|si| si.tag(&k).map(str::to_string))
                                .collect();
                            vals.sort();
                            vals.dedup();
                            rows.extend(vals.into_iter().map(|v| (k.clone(), v)));
                        }
                    }
                }
                let rows = limit_offset(rows, s.limit, s.offset);
                if !rows.is_empty() {
                    out.push(SeriesResult {
                        name: m.clone(),
                        tags: None,
                        columns: vec!["key".into(), "value".into()],
                        values: rows
                            .into_iter()
                            .map(|(k, v)| vec![Value::string(k), Value::string(v)])
                            .collect(),
                    });
                }
            }
            Ok(out)
        }
        Statement::ShowSeries(s) => {
            let d = db.database(database_for(opts, s.database.as_deref())?)?;
            let mut keys: BTreeMap<String, ()> = BTreeMap::new();
            for m in selected_measurements(&d, &s.sources) {
                for info in show_series(&d, &m, s.condition.as_ref())? {
                    keys.insert(info.key.clone(), ());
                }
            }
            let keys = limit_offset(keys.into_keys().collect(), s.limit, s.offset);
            Ok(if keys.is_empty() {
                Vec::new()
            } else {
                vec![one_column("", "key", keys)]
            })
        }
        other => Err(Error::Query(format!(
            "statement not supported by strata yet: {other}"
        ))),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn select(q: &str) -> influxql::ast::SelectStatement {
        match influxql::parse(q).unwrap().pop() {
            Some(Statement::Select(s)) => *s,
            other => panic!("not a SELECT: {other:?}"),
        }
    }

    #[test]
    fn one_unit_is_one_measurement_without_group_by_tags() {
        for q in [
            "SELECT max(v) FROM cpu WHERE host = 'a' GROUP BY time(1m)",
            "SELECT max(v) FROM cpu WHERE host = 'a' OR host = 'b' GROUP BY time(1m) LIMIT 5",
            "SELECT * FROM cpu",
        ] {
            assert!(one_unit(&select(q)), "{q}");
        }
        for q in [
            "SELECT max(v) FROM cpu GROUP BY host",
            "SELECT max(v) FROM cpu GROUP BY time(1h), host",
            "SELECT max(v) FROM cpu GROUP BY *",
            "SELECT max(v) FROM cpu GROUP BY /h/",
            "SELECT max(v) FROM cpu, mem",
            "SELECT max(v) FROM /c/",
            "SELECT max(m) FROM (SELECT max(v) AS m FROM cpu GROUP BY host)",
        ] {
            assert!(!one_unit(&select(q)), "{q}");
        }
    }
}
