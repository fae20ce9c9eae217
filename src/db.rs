//! The embedded API: a data directory holding named databases.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};

use crate::auth::Users;
use crate::config::Config;
use crate::database::{now_ns, Database};
use crate::error::{Error, IoContext, Result, StopReason};
use crate::ingest::write::{write_body, Records};
use crate::ingest::{RecordFormat, RecordOptions};
use crate::lineproto::Precision;
use crate::query::influxql::ast::Statement;
use crate::query::registry::{QueryRegistry, QueryStatus, Registration};
use crate::query::{self, QueryOptions, QueryResponse};
use crate::retention::{Enforcer, RetentionChange, RetentionPolicy};
use crate::sstable::{BlockCache, BlockCacheStats};
use strata_actors::{CancelToken, FlumeMailbox, Handle, Query, QueryPool};

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
    /// Runs every query: a bounded queue (`query_queue_depth`), `max_concurrent_queries`
    /// workers and permits, deadlines and cancellation (`strata_actors::query_pool`,
    /// model-checked in `loom_tests/tests/query_pool.rs`).
    pool: QueryPool<FlumeMailbox>,
    /// Drops expired tables every `retention_check_interval`.
    retention: Arc<Enforcer>,
    /// Where queries ran ([`Db::query_paths`]).
    paths: PathCounters,
    _lock: File,
}

#[derive(Default)]
struct PathCounters {
    inline: std::sync::atomic::AtomicU64,
    pooled: std::sync::atomic::AtomicU64,
    moved: std::sync::atomic::AtomicU64,
}

/// Where the queries of a [`Db`] have run since it opened (see
/// [`Config::query_inline_max_points`]); the daemon exports them as `strata_queries_total`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryPaths {
    /// Answered on the caller's own thread.
    pub inline: u64,
    /// Handed to the query pool (including those moved there).
    pub pooled: u64,
    /// Started inline, estimated past `query_inline_max_points`, and moved to the pool.
    pub moved: u64,
}

/// Prefix of a dropped database's directory while it is being removed (never a valid database
/// name, so a crash half-way leaves nothing that opens as a database; the next open removes it).
const TRASH_PREFIX: &str = ".dropped-";

/// The databases of a data directory (shared by the embedded API and the query workers).
pub struct Databases {
    root: PathBuf,
    config: Config,
    map: RwLock<BTreeMap<String, Arc<Database>>>,
    /// The queries in the pool (`SHOW QUERIES`, `KILL QUERY`).
    queries: Arc<QueryRegistry>,
    /// Every database's query block reads go through it ([`Config::block_cache_bytes`]).
    block_cache: Arc<BlockCache>,
    /// The users (`DATA_DIR/.users`): what `CREATE USER`, `GRANT`, ... change and what
    /// authorization checks.
    users: Users,
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

/// Take the data directory's lock (`DIR/LOCK`): one process owns a data directory. Held until
/// the returned file is dropped. Fails with [`Error::Locked`] if another process has it.
pub fn lock_data_dir(root: &Path) -> Result<fs::File> {
    let lock_path = root.join("LOCK");
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .ctx(|| format!("open {}", lock_path.display()))?;
    match lock.try_lock() {
        Ok(()) => Ok(lock),
        Err(fs::TryLockError::WouldBlock) => Err(Error::Locked {
            path: root.to_path_buf(),
        }),
        Err(fs::TryLockError::Error(e)) => {
            Err(Error::io(format!("lock {}", lock_path.display()), e))
        }
    }
}

/// The databases of a data directory: (name, directory), by name. Leftovers of dropped
/// databases are not listed.
pub fn database_dirs(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    for e in fs::read_dir(root).ctx(|| format!("list data directory {}", root.display()))? {
        let e = e.ctx(|| format!("list data directory {}", root.display()))?;
        let name = e.file_name().to_string_lossy().to_string();
        if e.path().is_dir() && valid_db_name(&name) {
            out.push((name, e.path()));
        }
    }
    out.sort();
    Ok(out)
}

impl Db {
    /// Open (or create) the data directory at `path`. Fails with [`Error::Locked`] if another
    /// process has it open.
    pub fn open(path: impl AsRef<Path>, config: Config) -> Result<Db> {
        config.validate()?;
        let root = path.as_ref().to_path_buf();
        config
            .get_file_io()
            .create_dir_all(&root)
            .ctx(|| format!("create data directory {}", root.display()))?;
        let lock = lock_data_dir(&root)?;
        let users = Users::open(&root)?;
        let block_cache = Arc::new(BlockCache::new(config.get_block_cache_bytes()));
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
                let db = Database::open_with_cache(&name, &e.path(), &config, block_cache.clone())?;
                databases.insert(name, Arc::new(db));
            }
        }
        // One worker per permit: a query taken off the queue runs at once, so exactly
        // `query_queue_depth` queries can wait.
        let running = config.get_max_concurrent_queries();
        let pool = QueryPool::new(running, config.get_query_queue_depth(), running);
        let interval = config.get_retention_check_interval();
        let dbs = Arc::new(Databases {
            root,
            config,
            map: RwLock::new(databases),
            queries: Arc::new(QueryRegistry::new()),
            block_cache,
            users,
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
            pool,
            retention,
            paths: PathCounters::default(),
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

    /// The users of this data directory (`CREATE USER`, `GRANT`, ... change them; the daemon
    /// checks credentials and privileges against them when authentication is on).
    pub fn users(&self) -> &Users {
        &self.dbs.users
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
        let database = self.dbs.database(db)?;
        write_body(
            &self.dbs,
            &database,
            text,
            precision,
            &Records::LineProtocol,
        )
    }

    /// Write a body in line protocol, vctsdb's JSON or its CSV (`format`; `shared/
    /// INGEST_FORMATS.md` §2): each JSON element or CSV row becomes one point (`options` say
    /// which columns and default measurement), with timestamps in `precision`. As for line
    /// protocol, good records are written even when others are bad; then the result is
    /// [`Error::PartialWrite`] naming every bad one (`element 2 (line 3): …`,
    /// `record 4 (line 5): …`). A CSV body whose header lacks a required column is refused
    /// whole ([`Error::Records`]).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use strata::ingest::{RecordFormat, RecordOptions};
    /// let dir = tempfile::tempdir()?;
    /// let db = strata::Db::open(dir.path(), strata::Config::new())?;
    /// db.create_database("metrics")?;
    /// let csv = "timestamp,value,series,host\n1,0.5,cpu,a\n2,0.7,cpu,b\n";
    /// let written = db.write_records("metrics", csv, RecordFormat::Csv,
    ///     &RecordOptions::default(), strata::lineproto::Precision::Second)?;
    /// assert_eq!(written.points, 2);
    /// # Ok(()) }
    /// ```
    pub fn write_records(
        &self,
        db: &str,
        body: &str,
        format: RecordFormat,
        options: &RecordOptions,
        precision: Precision,
    ) -> Result<WriteSummary> {
        if format == RecordFormat::LineProtocol {
            return self.write_lines_with(db, body, precision);
        }
        // The database first: a body for one that does not exist is not converted.
        let database = self.dbs.database(db)?;
        let max_record_bytes = self.dbs.config().get_max_line_bytes();
        let converted =
            crate::ingest::body_to_line_protocol(body, format, options, max_record_bytes)?;
        write_body(
            &self.dbs,
            &database,
            &converted.text,
            precision,
            &Records::Converted {
                origins: &converted.origins,
                rejected: &converted.rejected,
            },
        )
    }

    /// Write a Prometheus remote write body (snappy-compressed protobuf `WriteRequest`), as
    /// InfluxDB 1.x's `/api/v1/prom/write` does ([`crate::ingest::prometheus`]): each sample a
    /// point of its metric's measurement, labels as tags, field `value`. It decompresses to at
    /// most `max_body_bytes`. NaN samples are dropped (counted in the log); a sample that
    /// cannot be written is named in [`Error::PartialWrite`] by series and sample, the others
    /// written.
    pub fn write_prometheus(&self, db: &str, body: &[u8]) -> Result<WriteSummary> {
        use crate::ingest::prometheus::{decode_write_request, write_request_to_line_protocol};
        // The database first: a body for one that does not exist is not decoded.
        let database = self.dbs.database(db)?;
        let request = decode_write_request(body, self.dbs.config().get_max_body_bytes())?;
        let (converted, dropped_nan) = write_request_to_line_protocol(&request);
        drop(request);
        if dropped_nan > 0 {
            tracing::debug!(
                db,
                dropped_nan,
                "prometheus remote write: NaN samples dropped"
            );
        }
        write_body(
            &self.dbs,
            &database,
            &converted.text,
            Precision::Millisecond,
            &Records::Converted {
                origins: &converted.origins,
                rejected: &converted.rejected,
            },
        )
    }

    /// Answer a Prometheus remote read body (snappy-compressed protobuf `ReadRequest`) with
    /// its snappy-compressed `ReadResponse`, as InfluxDB 1.x's `/api/v1/prom/read` does over
    /// what [`Db::write_prometheus`] stored ([`crate::query::prometheus_read`]). Each query
    /// runs as an InfluxQL SELECT through the query pool, with its limits and admission, and
    /// as `principal` (its READ grant checked) when given. The body decompresses to at most
    /// `max_body_bytes`. The answer (its series, the protobuf, the compressed body) is charged
    /// to one `query_memory_limit` across all the request's queries before each part is made:
    /// past it the read fails with [`Error::QueryMemoryLimitExceeded`].
    pub fn read_prometheus(
        &self,
        db: &str,
        body: &[u8],
        principal: Option<crate::auth::Principal>,
    ) -> Result<Vec<u8>> {
        use crate::ingest::prometheus::decode_snappy_protobuf;
        use crate::query::limits::QueryMemory;
        use crate::query::prometheus_read::{
            query_text, time_series, time_series_bytes, QueryResult, ReadRequest, ReadResponse,
        };
        let database = self.dbs.database(db)?;
        let request: ReadRequest =
            decode_snappy_protobuf(body, self.dbs.config().get_max_body_bytes(), "ReadRequest")?;
        let measurements = database.index().measurement_names();
        let mut opts = QueryOptions::new(db);
        opts.principal = principal;
        // The answer is charged to one query_memory_limit across all the request's queries,
        // before each part is made: the series as Prometheus samples, then the protobuf, then
        // the compressed body. (Each query's own rows are bounded by its own limit.)
        let memory = QueryMemory::new(self.dbs.config().get_query_memory_limit());
        let mut series_memory = memory.empty_charge();
        let mut response = ReadResponse::default();
        for query in &request.queries {
            let mut timeseries = Vec::new();
            if let Some(text) = query_text(query, &measurements)? {
                let answer = self.query_with(&text, &opts)?;
                for result in answer.results {
                    if let Some(e) = result.error {
                        return Err(Error::Query(e));
                    }
                    series_memory.add(time_series_bytes(&result.series))?;
                    timeseries.extend(time_series(&result.series));
                }
            }
            response.results.push(QueryResult { timeseries });
        }
        let encoded_len = prost::Message::encoded_len(&response);
        let mut body_memory = memory.charge(encoded_len as u64)?;
        let encoded = prost::Message::encode_to_vec(&response);
        drop(response);
        drop(series_memory);
        body_memory.add(snap::raw::max_compress_len(encoded.len()) as u64)?;
        snap::raw::Encoder::new()
            .compress_vec(&encoded)
            .map_err(|e| Error::Internal(format!("compressing a remote read answer: {e}")))
    }

    /// [`Db::write_lines`] for async callers (tokio): the parse, the WAL write and its fsync and
    /// the apply run on tokio's blocking pool, so the task awaiting the acknowledgement does not
    /// hold its thread. Must be called within a tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let dir = tempfile::tempdir()?;
    /// let db = strata::Db::open(dir.path(), strata::Config::new())?;
    /// db.create_database("metrics")?;
    /// let written = db.write_lines_async("metrics", "cpu,host=a usage=0.5 1\n".to_string()).await?;
    /// assert_eq!(written.points, 1);
    /// let answer = db.query_async("metrics", "SELECT count(usage) FROM cpu").await?;
    /// assert_eq!(answer.results[0].series[0].values[0][1], strata::query::Value::Integer(1));
    /// # Ok(()) }
    /// ```
    pub async fn write_lines_async(&self, db: &str, text: String) -> Result<WriteSummary> {
        let (dbs, db) = (self.dbs.clone(), db.to_string());
        tokio::task::spawn_blocking(move || {
            let database = dbs.database(&db)?;
            write_body(
                &dbs,
                &database,
                &text,
                Precision::Nanosecond,
                &Records::LineProtocol,
            )
        })
        .await
        .map_err(|e| Error::Internal(format!("the write task ended without an answer: {e}")))?
    }

    /// [`Db::query`] for async callers (tokio): the answer is awaited, not waited for. A
    /// query small enough to run inline (`query_inline_max_points`) runs on the calling task
    /// before it first yields, as it would on a thread; any other waits for its pool worker
    /// without holding the caller's thread.
    pub async fn query_async(&self, db: &str, q: &str) -> Result<QueryResponse> {
        self.submit_query(q, &QueryOptions::new(db))?.finish().await
    }

    /// Run one or more `;`-separated InfluxQL statements against `db` (may be empty for
    /// statements that name no database, like `SHOW DATABASES`).
    pub fn query(&self, db: &str, q: &str) -> Result<QueryResponse> {
        self.query_with(q, &QueryOptions::new(db))
    }

    /// Run a query with options and wait for its answer (see [`Db::submit_query`]).
    pub fn query_with(&self, q: &str, opts: &QueryOptions) -> Result<QueryResponse> {
        self.submit_query(q, opts)?.wait()
    }

    /// Start a query without waiting for it. The text is parsed here (a syntax error fails with
    /// [`Error::Parse`]). A request made only of `SHOW QUERIES` / `KILL QUERY` is answered at
    /// once, outside the pool, so an operator can see and kill queries while every worker is
    /// busy. Anything else is registered (see `SHOW QUERIES`) and runs under `query_timeout`:
    /// a request of one SELECT estimated to read at most `query_inline_max_points` points is
    /// answered on this thread before this returns, if a query permit is free and nothing
    /// waits in the queue (see [`Config::query_inline_max_points`]); otherwise it is queued on
    /// the query pool; a full queue is [`Error::QueryQueueFull`].
    ///
    /// Dropping the returned [`PendingQuery`] (a client that went away) cancels the query and
    /// removes it from `SHOW QUERIES`; its worker is freed at the query's next cancel check.
    pub fn submit_query(&self, q: &str, opts: &QueryOptions) -> Result<PendingQuery> {
        // `SHOW QUERIES` counts a query's duration from here, whatever path it then takes.
        let received = std::time::Instant::now();
        let statements = crate::query::influxql::parse(q)?;
        if let Some(who) = &opts.principal {
            self.dbs
                .users
                .authorize_query(who, &statements, &opts.database)?;
        }
        // A password stays out of SHOW QUERIES: such a query is listed as 1.x prints it.
        let redacted;
        let q = if statements.iter().any(Statement::has_password) {
            redacted = statements
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>()
                .join("; ");
            redacted.as_str()
        } else {
            q
        };
        let registry = self.dbs.queries.clone();
        if statements
            .iter()
            .all(|s| matches!(s, Statement::ShowQueries | Statement::KillQuery { .. }))
        {
            // Listed while it runs, as InfluxDB 1.x lists SHOW QUERIES itself.
            let token = CancelToken::new();
            let status = QueryStatus::new();
            status.set_running();
            let reg = registry.register(q, &opts.database, token.clone(), status);
            let answer =
                query::run(&self.dbs, &statements, opts, &token).map_err(Error::QueryStopped);
            drop(reg);
            return Ok(PendingQuery {
                state: Pending::Ready(answer),
            });
        }
        if let Some(answer) = self.try_inline(q, &statements, opts, received) {
            return Ok(PendingQuery {
                state: Pending::Ready(answer),
            });
        }
        let dbs = self.dbs.clone();
        let run_opts = opts.clone();
        let timeout = self.config().get_query_timeout();
        let delay = self.config().get_testing_query_delay();
        let status = QueryStatus::new();
        let task_status = status.clone();
        let (tx, rx) = tokio::sync::oneshot::channel();
        // More tasks than workers would only wait for each other (and take queue places).
        let parallelism = self
            .config()
            .get_query_parallelism()
            .min(self.config().get_max_concurrent_queries());
        let task =
            match crate::query::SplitSelect::new(&self.dbs, &statements, opts, parallelism) {
                // One SELECT: split into `query_parallelism` tasks the pool runs at once.
                Some(split) => {
                    let tx = Arc::new(std::sync::Mutex::new(Some(tx)));
                    let mut q = Query::new(parallelism);
                    for index in 0..split.tasks() {
                        let (split, dbs, tx, task_status) =
                            (split.clone(), dbs.clone(), tx.clone(), task_status.clone());
                        q = q.task(move |token: &CancelToken| {
                            task_status.set_running();
                            testing_delay(delay, token)?;
                            if let Some(answer) = split.run_part(&dbs, index, token)? {
                                let sender = tx.lock().unwrap_or_else(|p| p.into_inner()).take();
                                if let Some(sender) = sender {
                                    // The receiver is gone only if nobody waits any more.
                                    let _ = sender.send(answer);
                                }
                            }
                            Ok(())
                        });
                    }
                    q
                }
                None => Query::new(1).task(move |token: &CancelToken| {
                    task_status.set_running();
                    if statements.iter().any(|s| matches!(s, Statement::Select(_))) {
                        testing_delay(delay, token)?;
                    }
                    let answer = query::run(&dbs, &statements, &run_opts, token)?;
                    // The receiver is gone only if nobody waits for the answer any more.
                    let _ = tx.send(answer);
                    Ok(())
                }),
            }
            .timeout((!timeout.is_zero()).then_some(timeout));
        let handle = self
            .pool
            .submit(task)
            .map_err(|_| Error::QueryQueueFull(self.config().get_query_queue_depth()))?;
        self.paths.pooled.fetch_add(1, Ordering::Relaxed);
        let reg =
            registry.register_since(q, &opts.database, handle.token().clone(), status, received);
        Ok(PendingQuery {
            state: Pending::Pooled {
                handle,
                answer: rx,
                reg,
            },
        })
    }

    /// Run a request of one SELECT on this thread under a query permit, if
    /// `query_inline_max_points` allows, a permit is free and nothing is queued. `None`: it did
    /// not run, or its estimate went past the limit and it stopped before reading anything;
    /// either way the caller submits it to the pool.
    fn try_inline(
        &self,
        q: &str,
        statements: &[Statement],
        opts: &QueryOptions,
        received: std::time::Instant,
    ) -> Option<Result<QueryResponse>> {
        let cfg = self.config();
        let max_points = cfg.get_query_inline_max_points();
        // The testing delay stands for a slow query: those run on the pool.
        if max_points == 0
            || !cfg.get_testing_query_delay().is_zero()
            || !matches!(statements, [Statement::Select(_)])
        {
            return None;
        }
        let permit = self.pool.try_inline()?;
        let timeout = cfg.get_query_timeout();
        let token = CancelToken::with_timeout((!timeout.is_zero()).then_some(timeout));
        let status = QueryStatus::new();
        status.set_running();
        let reg =
            self.dbs
                .queries
                .register_since(q, &opts.database, token.clone(), status, received);
        let mut inline_opts = opts.clone();
        inline_opts.inline_max_points = max_points;
        let outcome = permit.run(&token, |token| {
            query::run(&self.dbs, statements, &inline_opts, token)
        });
        match outcome {
            Err(StopReason::OverInlineBudget) => {
                self.paths.moved.fetch_add(1, Ordering::Relaxed);
                None
            }
            Ok(answer) => {
                self.paths.inline.fetch_add(1, Ordering::Relaxed);
                Some(Ok(answer))
            }
            Err(reason) => {
                self.paths.inline.fetch_add(1, Ordering::Relaxed);
                Some(Err(stopped(reason, &reg)))
            }
        }
    }

    /// Where queries have run since this `Db` opened: on the caller's thread or on the pool.
    pub fn query_paths(&self) -> QueryPaths {
        QueryPaths {
            inline: self.paths.inline.load(Ordering::Relaxed),
            pooled: self.paths.pooled.load(Ordering::Relaxed),
            moved: self.paths.moved.load(Ordering::Relaxed),
        }
    }

    /// What the block cache shared by every database's queries has done and holds (see
    /// [`Config::block_cache_bytes`]).
    pub fn block_cache_stats(&self) -> BlockCacheStats {
        self.dbs.block_cache.stats()
    }

    /// The queries in the pool (what `SHOW QUERIES` lists).
    pub fn queries(&self) -> &QueryRegistry {
        &self.dbs.queries
    }

    /// Flush every database: afterwards everything acknowledged is in tables.
    pub fn flush(&self) -> Result<()> {
        let dbs = self.dbs.all();
        for d in dbs {
            d.flush()?;
        }
        Ok(())
    }

    /// A major compaction of database `db`: everything acknowledged before the call ends up
    /// in the last layer, C7 (see [`Database::major_compact`]).
    pub fn major_compact(&self, db: &str) -> Result<()> {
        self.database(db)?.major_compact()
    }

    /// Drain every database's actors to disk and release the directory lock.
    pub fn close(self) -> Result<()> {
        self.close_all()
    }

    /// Ask every database's compactors to stop at their next safe point instead of finishing
    /// their backlog (see [`Database::stop_compactions`]); the daemon does this when it starts
    /// shutting down, so that [`Db::close_shared`] is prompt. Writes and flushes go on.
    pub fn stop_compactions(&self) {
        for d in self.dbs.all() {
            d.stop_compactions();
        }
    }

    /// [`Db::close`] through a shared reference (the daemon's handlers may still hold the
    /// `Db`): drain every database's actors to disk, calling `closing` with each database's
    /// name as its turn comes. Closing again is harmless; the directory lock is released when
    /// the `Db` is dropped.
    pub fn close_shared(&self, mut closing: impl FnMut(&str)) -> Result<()> {
        self.retention.stop();
        let mut first_err = None;
        for d in self.dbs.all() {
            closing(d.name());
            if let Err(e) = d.close() {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    fn close_all(&self) -> Result<()> {
        self.close_shared(|_| {})
    }
}

/// A query handed to the pool (or already answered). Wait for it with [`PendingQuery::wait`]
/// or, from async code, [`PendingQuery::finish`]; dropping it cancels the query.
pub struct PendingQuery {
    state: Pending,
}

enum Pending {
    Ready(Result<QueryResponse>),
    Pooled {
        /// Dropping it cancels the query (the pool's contract).
        handle: Handle<(), StopReason>,
        /// The task sends its answer here just before it finishes.
        answer: tokio::sync::oneshot::Receiver<QueryResponse>,
        /// Keeps the query in `SHOW QUERIES` until it is answered or abandoned.
        reg: Registration,
    },
}

impl PendingQuery {
    /// The query id `SHOW QUERIES` lists it under (`None` if it was answered at once).
    pub fn id(&self) -> Option<u64> {
        match &self.state {
            Pending::Ready(_) => None,
            Pending::Pooled { reg, .. } => Some(reg.id()),
        }
    }

    /// Block until the query has finished.
    pub fn wait(self) -> Result<QueryResponse> {
        match self.state {
            Pending::Ready(r) => r,
            Pending::Pooled {
                handle,
                mut answer,
                reg,
            } => {
                let outcome = handle.wait();
                stopped_or_answered(outcome, answer.try_recv().ok(), &reg)
            }
        }
    }

    /// Wait for the query without blocking the async runtime. Dropping this future (an HTTP
    /// client that disconnected) drops the pool handle, which cancels the query.
    pub async fn finish(self) -> Result<QueryResponse> {
        match self.state {
            Pending::Ready(r) => r,
            Pending::Pooled {
                handle,
                mut answer,
                reg,
            } => {
                if let Ok(resp) = (&mut answer).await {
                    return Ok(resp);
                }
                // The task ended without an answer (stopped, failed, never ran): the pool has
                // the reason and records it right after the task returns.
                let outcome = tokio::task::spawn_blocking(move || handle.wait())
                    .await
                    .map_err(|e| Error::Internal(format!("query wait task failed: {e}")))?;
                stopped_or_answered(outcome, None, &reg)
            }
        }
    }
}

/// The answer of a finished pooled query, or why it stopped.
fn stopped_or_answered(
    outcome: std::result::Result<Vec<()>, StopReason>,
    answer: Option<QueryResponse>,
    reg: &Registration,
) -> Result<QueryResponse> {
    match outcome {
        Ok(_) => answer
            .ok_or_else(|| Error::Internal("the query finished without an answer".to_string())),
        Err(reason) => Err(stopped(reason, reg)),
    }
}

/// The error of a query stopped with `reason` (killed, past its deadline, failed). A deadline
/// reason carries the query's `query_timeout`, which its text names.
fn stopped(reason: StopReason, reg: &Registration) -> Error {
    if reg.status().is_killed() {
        Error::QueryInterrupted
    } else {
        Error::QueryStopped(reason)
    }
}

/// The testing aid `Config::testing_query_delay`: wait `delay` in 10 ms steps, stopping early
/// (with the token's reason) when the query is cancelled or past its deadline.
fn testing_delay(
    delay: std::time::Duration,
    token: &CancelToken,
) -> std::result::Result<(), StopReason> {
    if delay.is_zero() {
        return Ok(());
    }
    let end = std::time::Instant::now() + delay;
    loop {
        token.check()?;
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(std::time::Duration::from_millis(10)));
    }
}

impl Databases {
    /// The configuration the databases were opened with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The queries in the pool (`SHOW QUERIES`, `KILL QUERY`).
    pub fn queries(&self) -> &QueryRegistry {
        &self.queries
    }

    /// The users of the data directory.
    pub fn users(&self) -> &Users {
        &self.users
    }

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
            let io = self.config.get_file_io();
            io.create_dir_all(&dir)
                .ctx(|| format!("create {}", dir.display()))?;
            policy.store(&dir, &io)?;
        }
        let db = Database::open_with_cache(name, &dir, &self.config, self.block_cache.clone())?;
        crate::version::sync_dir(&self.root)?;
        dbs.insert(name.to_string(), Arc::new(db));
        Ok(())
    }

    /// Drop a database (see [`Db::drop_database`]): writes are refused from now on, the actors
    /// stop, and the directory is renamed to a trash name (parent fsynced: a restart does not
    /// bring it back) and then removed; every user's privileges on it are forgotten.
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
        // As 1.x: the users' privileges on it go with it.
        self.users.forget_database(name)
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

/// Write line protocol to database `db` of `dbs` ([`Db::write_lines_with`]).
impl Drop for Db {
    fn drop(&mut self) {
        if let Err(e) = self.close_all() {
            tracing::error!(error = %e, "error while closing strata");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A SELECT with several (measurement, group) units is split by unit. One with a single
    /// unit is split by series when its aggregates merge exactly and it has a series for each
    /// task; otherwise it runs as one pool task (a second would find nothing to do).
    #[test]
    fn selects_are_split_by_unit_or_by_series() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config::new().max_concurrent_queries(2).query_parallelism(2);
        let db = Db::open(dir.path(), cfg).unwrap();
        db.create_database("d").unwrap();
        let lines = "cpu,host=a v=1,n=1i 1\ncpu,host=b v=2,n=2i 1\ncpu,host=c v=3,n=3i 1\n";
        db.write_lines("d", lines).unwrap();
        let opts = QueryOptions::new("d");
        let split = |q: &str| {
            let statements = crate::query::influxql::parse(q).unwrap();
            crate::query::SplitSelect::new(&db.dbs, &statements, &opts, 2).map(|s| s.tasks())
        };
        assert_eq!(split("SELECT max(v) FROM cpu GROUP BY host"), Some(2));
        // One unit: split by series.
        assert_eq!(
            split("SELECT max(v), count(v) FROM cpu GROUP BY time(1m)"),
            Some(2)
        );
        assert_eq!(
            split("SELECT sum(n), median(v), spread(v) FROM cpu"),
            Some(2)
        );
        // … but not a float sum or mean, stddev (rounding differs in parts), a transformation,
        // raw rows, or a single series.
        for q in [
            "SELECT sum(v) FROM cpu",
            "SELECT mean(n) FROM cpu",
            "SELECT stddev(v) FROM cpu",
            "SELECT derivative(max(v)) FROM cpu GROUP BY time(1m)",
            "SELECT v FROM cpu",
            "SELECT max(v) FROM cpu WHERE host = 'a' GROUP BY time(1m)",
        ] {
            assert_eq!(split(q), None, "{q}");
        }
    }
}
