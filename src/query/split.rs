//! One SELECT split into tasks on the query pool (`query_parallelism`).

use std::sync::Arc;

use crate::database::now_ns;
use crate::db::Databases as Db;
use crate::error::{Error, Result, StopReason};
use crate::query::influxql::ast::{MeasurementName, SelectStatement, Source, Statement};
use crate::query::statements::{database_for, source_database, SelectBudget};
use crate::query::{compile, exec, QueryOptions, QueryResponse, StatementResult};
use strata_actors::CancelToken;

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
    physical: Arc<exec::PhysicalPlan>,
    of: usize,
    by: exec::SplitBy,
    /// The statement's limits and memory budget, shared by its tasks.
    budget: SelectBudget,
    version: std::sync::OnceLock<Arc<crate::version::Version>>,
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
    ) -> Option<Arc<SplitSelect>> {
        let [Statement::Select(s)] = statements else {
            return None;
        };
        if of < 2 {
            return None;
        }
        // One unit of raw rows (no call among the columns) runs as one task: checked before
        // anything is compiled.
        if one_unit(s)
            && !s
                .fields
                .iter()
                .all(|f| matches!(f.expr.unparen(), crate::query::influxql::Expr::Call { .. }))
        {
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
        Some(Arc::new(SplitSelect {
            database: name.to_string(),
            physical: Arc::new(physical),
            of,
            by,
            budget: SelectBudget::new(db.config(), 0),
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
        let snap = exec::snapshot_of(&d, version, plan, &self.budget.limits, &self.budget.memory);
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
fn one_unit(s: &SelectStatement) -> bool {
    use crate::query::influxql::ast::Dimension;
    let one_measurement = matches!(
        s.sources.as_slice(),
        [Source::Measurement(m)] if matches!(m.name, MeasurementName::Name(_))
    );
    one_measurement
        && s.dimensions
            .iter()
            .all(|d| matches!(d, Dimension::Time { .. }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::query::influxql;

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
