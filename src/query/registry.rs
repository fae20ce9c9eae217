//! The queries in the pool, for `SHOW QUERIES` and `KILL QUERY` (InfluxDB 1.x's task manager).
//!
//! A query is registered when it is handed to the query pool and unregistered when its
//! [`Registration`] is dropped — when its caller has its answer, or gave up on it (an HTTP client
//! that went away drops the request's future, and with it the registration and the pool handle,
//! which cancels the query). Each entry holds the query's [`CancelToken`], so `KILL QUERY n`
//! trips it; the query's tasks see it at their next check and the worker is freed.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::query::result::{SeriesResult, Value};
use strata_actors::CancelToken;

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const KILLED: u8 = 2;

/// The registered queries of one `Db`.
#[derive(Default)]
pub struct QueryRegistry {
    next_id: AtomicU64,
    queries: Mutex<BTreeMap<u64, Arc<Entry>>>,
}

struct Entry {
    text: String,
    database: String,
    started: Instant,
    token: CancelToken,
    state: Arc<AtomicU8>,
}

/// What the query's own task reports: that it has started (queued → running).
#[derive(Clone, Debug)]
pub struct QueryStatus {
    state: Arc<AtomicU8>,
}

impl QueryStatus {
    /// A status in the queued state.
    pub fn new() -> QueryStatus {
        QueryStatus {
            state: Arc::new(AtomicU8::new(QUEUED)),
        }
    }

    /// The query's task has a worker and runs (a killed query stays killed).
    pub fn set_running(&self) {
        let _ = self
            .state
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire);
    }

    /// Whether `KILL QUERY` named this query.
    pub fn is_killed(&self) -> bool {
        self.state.load(Ordering::Acquire) == KILLED
    }
}

impl Default for QueryStatus {
    fn default() -> Self {
        QueryStatus::new()
    }
}

/// A registered query; dropping it removes the query from the registry.
pub struct Registration {
    registry: Arc<QueryRegistry>,
    id: u64,
    status: QueryStatus,
}

impl Registration {
    /// The query id `SHOW QUERIES` shows and `KILL QUERY` takes.
    pub fn id(&self) -> u64 {
        self.id
    }

    pub fn status(&self) -> &QueryStatus {
        &self.status
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        lock(&self.registry.queries).remove(&self.id);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl QueryRegistry {
    pub fn new() -> QueryRegistry {
        QueryRegistry::default()
    }

    /// Register a query that starts now (ids start at 1, as in InfluxDB 1.x).
    pub fn register(
        self: &Arc<Self>,
        text: &str,
        database: &str,
        token: CancelToken,
        status: QueryStatus,
    ) -> Registration {
        self.register_since(text, database, token, status, Instant::now())
    }

    /// Register a query received at `started`: `SHOW QUERIES` counts its duration from then,
    /// including what it did before it was registered (parsing, planning, an inline attempt
    /// that moved it to the pool, the wait for a queue place).
    pub fn register_since(
        self: &Arc<Self>,
        text: &str,
        database: &str,
        token: CancelToken,
        status: QueryStatus,
        started: Instant,
    ) -> Registration {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed) + 1;
        let entry = Entry {
            text: text.to_string(),
            database: database.to_string(),
            started,
            token,
            state: status.state.clone(),
        };
        lock(&self.queries).insert(id, Arc::new(entry));
        Registration {
            registry: self.clone(),
            id,
            status,
        }
    }

    /// `KILL QUERY id`: cancel the query; its caller gets [`Error::QueryInterrupted`].
    pub fn kill(&self, id: u64) -> Result<()> {
        let entry = lock(&self.queries)
            .get(&id)
            .cloned()
            .ok_or(Error::NoSuchQuery(id))?;
        entry.state.store(KILLED, Ordering::Release);
        entry.token.cancel();
        tracing::info!(qid = id, query = %entry.text, "query killed");
        Ok(())
    }

    /// How many queries are registered.
    pub fn len(&self) -> usize {
        lock(&self.queries).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The answer to `SHOW QUERIES`, in InfluxDB 1.x's shape: one unnamed series with columns
    /// `qid, query, database, duration, status`, ordered by id.
    pub fn show(&self) -> SeriesResult {
        let now = Instant::now();
        let values = lock(&self.queries)
            .iter()
            .map(|(id, e)| {
                let status = match e.state.load(Ordering::Acquire) {
                    QUEUED => "queued",
                    RUNNING => "running",
                    _ => "killed",
                };
                vec![
                    Value::Integer(i64::try_from(*id).unwrap_or(i64::MAX)),
                    Value::string(e.text.clone()),
                    Value::string(e.database.clone()),
                    Value::string(influx_duration(now.saturating_duration_since(e.started))),
                    Value::string(status.to_string()),
                ]
            })
            .collect();
        SeriesResult {
            name: String::new(),
            tags: None,
            columns: ["qid", "query", "database", "duration", "status"]
                .iter()
                .map(|c| c.to_string())
                .collect(),
            values,
        }
    }
}

/// A query's age as InfluxDB 1.x's `SHOW QUERIES` renders it: truncated to whole seconds
/// (from 1 s), milliseconds (from 1 ms) or microseconds, then in Go's `Duration.String()` form
/// (`"2m5s"`, `"1h0m0s"`, `"56ms"`, `"31µs"`, `"0s"`).
pub fn influx_duration(d: Duration) -> String {
    let ns = d.as_nanos();
    if ns == 0 {
        return "0s".to_string();
    }
    if ns < 1_000 {
        return format!("{ns}ns");
    }
    if ns < 1_000_000 {
        return format!("{}µs", ns / 1_000);
    }
    if ns < 1_000_000_000 {
        return format!("{}ms", ns / 1_000_000);
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_render_as_influxdb_1x() {
        let ms = Duration::from_millis;
        assert_eq!(influx_duration(Duration::ZERO), "0s");
        assert_eq!(influx_duration(Duration::from_nanos(999)), "999ns");
        assert_eq!(influx_duration(Duration::from_nanos(31_999)), "31µs");
        assert_eq!(influx_duration(Duration::from_micros(56_700)), "56ms");
        assert_eq!(influx_duration(ms(1_234)), "1s");
        assert_eq!(influx_duration(ms(59_999)), "59s");
        assert_eq!(influx_duration(ms(60_000)), "1m0s");
        assert_eq!(influx_duration(ms(125_500)), "2m5s");
        assert_eq!(influx_duration(ms(3_600_000)), "1h0m0s");
        assert_eq!(influx_duration(ms(90_061_000)), "25h1m1s");
    }

    #[test]
    fn register_show_kill_and_unregister() {
        let reg = Arc::new(QueryRegistry::new());
        let token = CancelToken::new();
        let status = QueryStatus::new();
        let a = reg.register("SELECT 1", "db", token.clone(), status.clone());
        let b = reg.register("SELECT 2", "", CancelToken::new(), QueryStatus::new());
        assert_eq!((a.id(), b.id()), (1, 2));
        status.set_running();
        let s = reg.show();
        assert_eq!(
            s.columns,
            ["qid", "query", "database", "duration", "status"]
        );
        assert_eq!(s.values[0][0], Value::Integer(1));
        assert_eq!(s.values[0][1], Value::String("SELECT 1".into()));
        assert_eq!(s.values[0][2], Value::String("db".into()));
        assert_eq!(s.values[0][4], Value::String("running".into()));
        assert_eq!(s.values[1][4], Value::String("queued".into()));

        reg.kill(1).unwrap();
        assert!(token.is_cancelled());
        assert!(a.status().is_killed());
        status.set_running(); // a killed query stays killed
        assert_eq!(reg.show().values[0][4], Value::String("killed".into()));
        assert!(matches!(reg.kill(7), Err(Error::NoSuchQuery(7))));
        assert_eq!(reg.kill(7).unwrap_err().to_string(), "no such query id: 7");

        drop(a);
        assert_eq!(reg.len(), 1);
        assert!(matches!(reg.kill(1), Err(Error::NoSuchQuery(1))));
        drop(b);
        assert!(reg.is_empty());
    }
}
