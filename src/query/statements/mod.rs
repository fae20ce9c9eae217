//! Statement execution, one file per statement family: SELECT and EXPLAIN ([`select`]), the
//! SHOW statements ([`show`]), databases and retention policies ([`database`]), deletes
//! ([`delete`]) and the query registry ([`queries`]); users and grants are in
//! `crate::auth::statements`. A SELECT's limits and memory budget are built once, here
//! ([`SelectBudget`]).

mod cardinality;
mod database;
mod delete;
mod queries;
mod select;
mod show;

use crate::config::Config;
use crate::database::Database;
use crate::db::Databases as Db;
use crate::error::{Error, Result};
use crate::query::influxql::ast::{MeasurementName, Source, Statement};
use crate::query::limits::{QueryMemory, SelectLimits};
use crate::query::{compile, exec, plan, QueryOptions, SeriesResult, Value};
use strata_actors::CancelToken;

/// The limits and the memory budget of one SELECT, from the configuration.
pub(crate) struct SelectBudget {
    /// max_select_points, max_select_series, max_select_buckets (and the inline budget).
    pub(crate) limits: SelectLimits,
    /// query_memory_limit.
    pub(crate) memory: QueryMemory,
}

impl SelectBudget {
    /// The budget of a SELECT under `config`; `inline_max_points` > 0 for one that runs on the
    /// caller's thread (`SelectLimits::inline_budget`).
    pub(crate) fn new(config: &Config, inline_max_points: u64) -> SelectBudget {
        let limits = SelectLimits::new(
            config.get_max_select_points(),
            config.get_max_select_series(),
        )
        .with_buckets(config.get_max_select_buckets());
        let limits = if inline_max_points > 0 {
            limits.inline_budget(inline_max_points)
        } else {
            limits
        };
        SelectBudget {
            limits,
            memory: QueryMemory::new(config.get_query_memory_limit()),
        }
    }
}

/// Run one statement.
pub(crate) fn run_statement(
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
        Statement::Select(s) => select::select(db, s, opts, now, token),
        Statement::Explain { analyze, statement } => {
            select::explain_statement(db, statement, *analyze, opts, now, token)
        }
        Statement::ShowQueries => queries::show(db),
        Statement::KillQuery { id } => queries::kill(db, *id),
        Statement::ShowDatabases => show::databases(db, opts),
        Statement::ShowRetentionPolicies { database } => {
            show::retention_policies(db, opts, database)
        }
        Statement::ShowMeasurements(s) => show::measurements(db, opts, s),
        Statement::ShowTagKeys(s) => show::tag_keys(db, opts, s),
        Statement::ShowFieldKeys(s) => show::field_keys(db, opts, s),
        Statement::ShowTagValues(s) => show::tag_values(db, opts, s),
        Statement::ShowSeries(s) => show::series(db, opts, s),
        Statement::ShowCardinality(s) => cardinality::show(db, opts, s),
        Statement::CreateDatabase { name, retention } => database::create(db, name, retention),
        Statement::DropDatabase { name } => database::drop(db, name),
        Statement::AlterRetentionPolicy {
            name,
            database,
            duration,
            replication,
            shard_duration,
            default: _,
        } => database::alter_retention_policy(
            db,
            name,
            database,
            duration,
            replication,
            shard_duration,
        ),
        Statement::Delete { source, condition } => delete::delete(db, opts, source, condition, now),
        Statement::DropSeries { sources, condition } => {
            delete::drop_series(db, opts, sources, condition, now)
        }
        Statement::DropMeasurement { name } => delete::drop_measurement(db, opts, name, now),
        other => Err(Error::Query(format!(
            "statement not supported by strata yet: {other}"
        ))),
    }
}

pub(crate) fn database_for<'a>(opts: &'a QueryOptions, named: Option<&'a str>) -> Result<&'a str> {
    match named.filter(|n| !n.is_empty()) {
        Some(n) => Ok(n),
        None if !opts.database.is_empty() => Ok(&opts.database),
        None => Err(Error::Query("database name required".into())),
    }
}

pub(crate) fn source_database(sources: &[Source]) -> Option<&str> {
    sources.iter().find_map(|s| match s {
        Source::Measurement(m) => m.database.as_deref(),
        Source::Subquery(_) => None,
    })
}

/// Measurement names selected by FROM (all of the database's when FROM is absent).
pub(crate) fn selected_measurements(d: &Database, sources: &[Source]) -> Vec<String> {
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
pub(crate) fn show_series(
    d: &Database,
    m: &str,
    cond: Option<&crate::query::influxql::Expr>,
) -> Result<Vec<std::sync::Arc<crate::series::SeriesInfo>>> {
    let pred = match cond {
        Some(c) => compile::tag_condition(c)?,
        None => plan::TagPred::True,
    };
    Ok(exec::matching_series(d.index(), m, &pred))
}

pub(crate) fn one_column(name: &str, column: &str, values: Vec<String>) -> SeriesResult {
    SeriesResult {
        name: name.to_string(),
        tags: None,
        columns: vec![column.to_string()],
        values: values.into_iter().map(|v| vec![Value::string(v)]).collect(),
    }
}

pub(crate) fn limit_offset<T>(v: Vec<T>, limit: Option<u64>, offset: Option<u64>) -> Vec<T> {
    let it = v.into_iter().skip(offset.unwrap_or(0) as usize);
    match limit {
        Some(n) if n > 0 => it.take(n as usize).collect(),
        _ => it.collect(),
    }
}
