//! Query languages and their execution: the InfluxQL front end ([`influxql`]), the logical
//! plan ([`plan`]) every front end compiles to ([`compile`]), the executor of its physical plan
//! ([`exec`], reading through [`scan`]), statement execution per family (`statements/`), a
//! SELECT split into pool tasks ([`SplitSelect`]) and the answer shapes ([`result`]).

pub mod analysis;
pub mod compile;
pub mod exec;
pub mod holt_winters;
pub mod influxql;
pub mod limits;
pub mod math;
pub mod plan;
pub mod prometheus_read;
pub mod registry;
pub mod result;
pub mod scan;
mod split;
mod statements;
mod value_set;

pub use split::SplitSelect;

use crate::database::now_ns;
use crate::db::Databases as Db;
use crate::error::{Error, StopReason};
use influxql::ast::Statement;
pub use result::{Epoch, QueryResponse, SeriesResult, StatementResult, Value};
use statements::run_statement;
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
