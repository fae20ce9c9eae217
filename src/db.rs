//! The embedded API: a data directory holding named databases.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::engine::{now_ns, Database, WriteOutcome};
use crate::error::{Error, IoContext, Result};
use crate::lineproto::{self, Precision};
use crate::query::{self, QueryOptions, QueryResponse};
use crate::retention::{Enforcer, RetentionChange, RetentionPolicy};
use strata_actors::query_pool::DEADLINE_EXCEEDED;
use strata_actors::{CancelToken, FlumeMailbox, Query, QueryPool};

/// An open strata data directory.
///
/// ```no_run
/// # fn main() -> strata::Result<()> {
/// let db = strata::Db::open("./strata-data", strata::Config::new())?;
/// db.create_database("demo")?;
/// db.write_lines("demo", "cpu,host=a usage=0.5 1700000000000000000\n")?;
/// let answer = db.query("demo", "SELECT mean(usage) FROM cpu")?;
/// println!("{}", answer.to_json());
/// db.close()?;
/// # Ok(()) }
/// ```
pub struct Db {
    dbs: Arc<Databases>,
    /// Runs every query: a bounded queue, a fixed set of workers, deadlines and cancellation
    /// (`strata_actors::query_pool`, model-checked in `loom_tests/tests/query_pool.rs`).
    pool: QueryPool<FlumeMailbox>,
    /// Drops expired tables every `retention_check_interval`.
    retention: Arc<Enforcer>,
    _lock: File,
}

/// Prefix of a dropped database's directory while it is being removed (never a valid database
/// name, so a crash half-way leaves nothing that opens as a database; the next open removes it).
const TRASH_PREFIX: &str = ".dropped-";

/// Waiting queries beyond which a query is refused with [`Error::QueryQueueFull`] (HTTP 503).
pub const QUERY_QUEUE_DEPTH: usize = 64;

/// The databases of a data directory (shared by the embedded API and the query workers).
pub struct Databases {
    root: PathBuf,
    config: Config,
    map: RwLock<BTreeMap<String, Arc<Database>>>,
}

/// What [`Db::write_lines`] accomplished.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WriteSummary {
    /// Field values written.
    pub points: usize,
    /// Lines written.
    pub lines: usize,
}

fn valid_db_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

impl Db {
    /// Open (or create) the data directory at `path`. Fails with [`Error::Locked`] if another
    /// process has it open.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Db> {
        config.validate()?;
        let root = path.as_ref().to_path_buf();
        fs::create_dir_all(&root).ctx(|| format!("create data directory {}", root.display()))?;
        let lock_path = root.join("LOCK");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .ctx(|| format!("open {}", lock_path.display()))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(Error::Locked { path: root }),
            Err(fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("lock {}", lock_path.display()), e))
            }
        }
        let mut databases = BTreeMap::new();
        for e in fs::read_dir(&root)
            .ctx(|| format!("list {}", root.display()))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().to_string();
            if e.path().is_dir() && name.starts_with(TRASH_PREFIX) {
                tracing::info!(dir = %e.path().display(), "removing a dropped database's leftovers");
                fs::remove_dir_all(e.path())
                    .ctx(|| format!("remove dropped database {}", e.path().display()))?;
                continue;
            }
            if e.path().is_dir() && valid_db_name(&name) {
                let db = Database::open(&name, &e.path(), &config)?;
                databases.insert(name, Arc::new(db));
            }
        }
        let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
        let interval = config.get_retention_check_interval();
        let dbs = Arc::new(Databases {
            root,
            config,
            map: RwLock::new(databases),
        });
        let retention = {
            let dbs = Arc::downgrade(&dbs);
            Enforcer::start(interval, move || {
                if let Some(dbs) = dbs.upgrade() {
                    dbs.enforce_retention(now_ns());
                }
            })?
        };
        Ok(Db {
            dbs,
            pool: QueryPool::new(workers, QUERY_QUEUE_DEPTH, workers),
            retention,
            _lock: lock,
        })
    }

    pub fn config(&self) -> &Config {
        &self.dbs.config
    }

    pub fn path(&self) -> &Path {
        &self.dbs.root
    }

    /// Create a database (no error if it exists, as InfluxDB 1.x).
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.dbs.create_database(name)
    }

    /// Create a database with retention policy options (`CREATE DATABASE ... WITH ...`). If it
    /// exists already, options that differ from its policy are an error, as in InfluxDB 1.x.
    pub fn create_database_with(&self, name: &str, rp: &RetentionChange) -> Result<()> {
        self.dbs.create_database_with(name, rp)
    }

    /// Drop a database: stop its actors, remove it and its files (no error if it does not
    /// exist, as InfluxDB 1.x). Writes to it afterwards fail with `DatabaseNotFound`.
    pub fn drop_database(&self, name: &str) -> Result<()> {
        self.dbs.drop_database(name)
    }

    /// Run the retention check now (it also runs every `retention_check_interval`): drop the
    /// tables that are wholly past each database's retention.
    pub fn enforce_retention(&self) {
        self.dbs.enforce_retention(now_ns());
    }

    /// Names of the databases, sorted.
    pub fn database_names(&self) -> Vec<String> {
        self.dbs.database_names()
    }

    /// The named database.
    pub fn database(&self, name: &str) -> Result<Arc<Database>> {
        self.dbs.database(name)
    }

    /// Write line protocol (nanosecond timestamps) to a database.
    pub fn write_lines(&self, db: &str, text: &str) -> Result<WriteSummary> {
        self.write_lines_with(db, text, Precision::Nanosecond)
    }

    /// Write line protocol with the given timestamp precision. Good lines are written even when
    /// others are bad; then the result is [`Error::PartialWrite`] naming every bad line.
    pub fn write_lines_with(
        &self,
        db: &str,
        text: &str,
        precision: Precision,
    ) -> Result<WriteSummary> {
        let database = self.database(db)?;
        let now = now_ns();
        let default_ts = now - now.rem_euclid(precision_nanos(precision));
        let parsed = lineproto::parse(
            text,
            precision,
            default_ts,
            self.config().get_max_line_bytes(),
        );
        let mut messages: Vec<String> = parsed.errors.iter().map(|e| e.to_string()).collect();
        let mut dropped = parsed.errors.len();
        let (outcome, rejected): (WriteOutcome, _) =
            database.write_points(&parsed.points, default_ts)?;
        for (i, e) in &rejected {
            let line = parsed.lines.get(*i).copied().unwrap_or(0);
            messages.push(format!("line {line}: {e}"));
        }
        dropped += rejected.len();
        if dropped > 0 {
            return Err(Error::PartialWrite {
                message: messages.join("\n"),
                dropped,
            });
        }
        Ok(WriteSummary {
            points: outcome.points,
            lines: parsed.points.len(),
        })
    }

    /// Run one or more `;`-separated InfluxQL statements against `db` (may be empty for
    /// statements that name no database, like `SHOW DATABASES`).
    pub fn query(&self, db: &str, q: &str) -> Result<QueryResponse> {
        self.query_with(q, &QueryOptions::new(db))
    }

    /// Run a query with options. The text is parsed here (a syntax error fails the request with
    /// [`Error::Parse`]); the statements then run as one task on the query pool, under
    /// `query_timeout`. Dropping the caller (a client that goes away) cancels it.
    pub fn query_with(&self, q: &str, opts: &QueryOptions) -> Result<QueryResponse> {
        let statements = crate::query::influxql::parse(q)?;
        let dbs = self.dbs.clone();
        let opts = opts.clone();
        let timeout = self.config().get_query_timeout();
        let task = Query::new(1)
            .task(move |token: &CancelToken| query::run(&dbs, &statements, &opts, token))
            .timeout((!timeout.is_zero()).then_some(timeout));
        let handle = self
            .pool
            .submit(task)
            .map_err(|_| Error::QueryQueueFull(QUERY_QUEUE_DEPTH))?;
        match handle.wait() {
            Ok(mut r) => Ok(r.pop().unwrap_or_default()),
            Err(e) if e == DEADLINE_EXCEEDED => Err(Error::QueryStopped(format!(
                "it ran longer than query_timeout ({timeout:?})"
            ))),
            Err(e) => Err(Error::QueryStopped(e)),
        }
    }

    /// Flush every database: afterwards everything acknowledged is in tables.
    pub fn flush(&self) -> Result<()> {
        let dbs = self.dbs.all();
        for d in dbs {
            d.flush()?;
        }
        Ok(())
    }

    /// Drain every database's actors to disk and release the directory lock.
    pub fn close(self) -> Result<()> {
        self.close_all()
    }

    fn close_all(&self) -> Result<()> {
        self.retention.stop();
        let dbs = self.dbs.all();
        let mut first_err = None;
        for d in dbs {
            if let Err(e) = d.close() {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }
}

impl Databases {
    /// Every open database.
    fn all(&self) -> Vec<Arc<Database>> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .cloned()
            .collect()
    }

    /// Create a database (no error if it exists, as InfluxDB 1.x).
    pub fn create_database(&self, name: &str) -> Result<()> {
        self.create_database_with(name, &RetentionChange::default())
    }

    /// Create a database with retention policy options (see [`Db::create_database_with`]).
    pub fn create_database_with(&self, name: &str, rp: &RetentionChange) -> Result<()> {
        if !valid_db_name(name) {
            return Err(Error::InvalidDatabaseName(name.to_string()));
        }
        let policy = RetentionPolicy::default().with(rp)?;
        let mut dbs = self.map.write().unwrap_or_else(|p| p.into_inner());
        if let Some(existing) = dbs.get(name) {
            if *rp != RetentionChange::default() && existing.retention() != policy {
                return Err(Error::RetentionPolicy(
                    "retention policy conflicts with an existing policy".into(),
                ));
            }
            return Ok(());
        }
        let dir = self.root.join(name);
        if policy != RetentionPolicy::default() {
            fs::create_dir_all(&dir).ctx(|| format!("create {}", dir.display()))?;
            policy.store(&dir)?;
        }
        let db = Database::open(name, &dir, &self.config)?;
        crate::version::sync_dir(&self.root)?;
        dbs.insert(name.to_string(), Arc::new(db));
        Ok(())
    }

    /// Drop a database (see [`Db::drop_database`]): writes are refused from now on, the actors
    /// stop, and the directory is renamed to a trash name (parent fsynced: a restart does not
    /// bring it back) and then removed.
    pub fn drop_database(&self, name: &str) -> Result<()> {
        let mut dbs = self.map.write().unwrap_or_else(|p| p.into_inner());
        let Some(db) = dbs.remove(name) else {
            return Ok(());
        };
        db.mark_dropped();
        if let Err(e) = db.close() {
            tracing::warn!(db = name, error = %e, "error while closing a dropped database");
        }
        let trash = self.root.join(format!("{TRASH_PREFIX}{name}-{}", now_ns()));
        fs::rename(db.dir(), &trash).ctx(|| {
            format!(
                "rename dropped database {} to {}",
                db.dir().display(),
                trash.display()
            )
        })?;
        crate::version::sync_dir(&self.root)?;
        drop(dbs);
        fs::remove_dir_all(&trash).ctx(|| format!("remove {}", trash.display()))?;
        tracing::info!(db = name, "dropped database");
        Ok(())
    }

    /// Drop the expired tables of every database with a retention duration.
    pub fn enforce_retention(&self, now: i64) {
        for d in self.all() {
            let Some(cutoff) = d.retention_cutoff(now) else {
                continue;
            };
            if let Err(e) = crate::delete::expire(&d, cutoff) {
                tracing::warn!(db = d.name(), error = %e, "retention check failed");
            }
        }
    }

    /// Names of the databases, sorted.
    pub fn database_names(&self) -> Vec<String> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .keys()
            .cloned()
            .collect()
    }

    /// The named database.
    pub fn database(&self, name: &str) -> Result<Arc<Database>> {
        self.map
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(name)
            .cloned()
            .ok_or_else(|| Error::DatabaseNotFound(name.to_string()))
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        if let Err(e) = self.close_all() {
            tracing::error!(error = %e, "error while closing strata");
        }
    }
}

fn precision_nanos(p: Precision) -> i64 {
    p.to_nanos(1).unwrap_or(1).max(1)
}
