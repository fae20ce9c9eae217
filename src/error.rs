//! The error type of the strata library.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use strata_actors::{ActorError, Stopped};

use crate::types::SeriesId;

/// Why a storage actor (WAL writer, memtable, flusher, compactor) failed a request or poisoned
/// the database: the step that failed, with strata's own error inside it, unchanged.
pub type ActorFailure = ActorError<Arc<Error>>;

/// Everything that can go wrong in strata. Messages are written for the person who has to act on
/// them: they name the file, the line, the limit or the database involved.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An I/O operation failed; `context` says what strata was doing.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: io::Error,
    },

    /// Another process (or another `Db` in this process) holds the data directory.
    #[error("data directory {path} is locked by another strata process (lock file {path}/LOCK); stop it or choose another --data-dir")]
    Locked { path: PathBuf },

    /// A file on disk is not what strata wrote: bad magic, checksum or version.
    #[error("corrupt file {path}: {reason}")]
    Corrupt { path: PathBuf, reason: String },

    /// A query read a corrupt block (or a table that no longer opens): the table was
    /// quarantined, taken out of the catalog and moved aside. This query failed; later ones
    /// answer from the rest of the database. Boxed: it would make every `Result` larger.
    #[error("{0}")]
    TableQuarantined(Box<QuarantinedRead>),

    /// A manifest is damaged: a record whose checksum or length does not match, an undecodable
    /// edit, or a file too short to hold the snapshot every manifest begins with. Nothing was
    /// changed on disk.
    #[error("manifest {path} is damaged at byte {offset}: {reason}; strata stopped without changing or deleting any file. Run `strata check DATA_DIR` to list the damage and `strata repair DATA_DIR` to rebuild the catalog from the SSTables (it keeps a backup of the manifest it replaces)")]
    ManifestCorrupt {
        path: PathBuf,
        offset: u64,
        reason: String,
    },

    /// A database directory holds table files or WAL segments but no manifest.
    #[error("database directory {dir} has no manifest but holds {what}; strata stopped without changing or deleting any file. Run `strata repair DATA_DIR` to rebuild the catalog from the SSTables")]
    ManifestMissing { dir: PathBuf, what: String },

    /// A table file the manifest does not account for (neither live, removed nor being
    /// written): the manifest may have lost records, and the file may hold the only copy of its
    /// data.
    #[error("table file {path} is not named by manifest {manifest}; strata stopped without changing or deleting any file. The manifest may have lost records: run `strata check DATA_DIR`, then `strata repair DATA_DIR` to rebuild the catalog from the SSTables (or move the file away if you know it is not needed)")]
    UnaccountedTable { path: PathBuf, manifest: PathBuf },

    /// WAL replay met a bad record that is not the torn tail of the newest segment: acknowledged
    /// writes may sit in it or after it, so the open stopped without changing any file.
    #[error("corrupt WAL record in {segment} at byte offset {offset}: {reason}. Nothing was truncated or deleted. Acknowledged writes may be in or after this record, so the database was not opened: restore the segment from a backup, or start with --wal-skip-corrupt (STRATA_WAL_SKIP_CORRUPT=true, Config::wal_skip_corrupt) to skip only the bad bytes and replay every record after them")]
    WalCorrupt {
        /// The segment file holding the bad record.
        segment: PathBuf,
        /// Byte offset of the bad record in `segment`.
        offset: u64,
        /// What is wrong with it (crc mismatch, short payload, undecodable payload, ...).
        reason: String,
    },

    /// The named database does not exist. (A `/write` quotes the name, as 1.x's does:
    /// `database not found: "db"`; a statement does not.)
    #[error("database not found: {0}")]
    DatabaseNotFound(String),

    /// A database name that cannot be used as a directory name.
    #[error(
        "invalid database name {0:?}: use letters, digits, '_', '-' and '.', not starting with '.'"
    )]
    InvalidDatabaseName(String),

    /// A JSON or CSV body that cannot be written at all (a CSV header without the timestamp
    /// or value column); nothing of it was written.
    #[error("{0}")]
    Records(#[from] crate::ingest::BodyError),

    /// A Prometheus remote write or read body that is not one (not snappy, not the message)
    /// or that would decompress past `max_body_bytes`; nothing of it was written or read.
    #[error("{0}")]
    RemoteBody(#[from] crate::ingest::prometheus::RemoteBodyError),

    /// Some or all lines of a line-protocol batch were rejected; the good ones were written.
    #[error("partial write: {message} dropped={dropped}")]
    PartialWrite { message: String, dropped: usize },

    /// A point was dropped because it would have created a series past a cardinality limit
    /// (`max_series_per_database`, `max_values_per_tag`); a write reports it as part of an
    /// [`Error::PartialWrite`]. Shared: every dropped point of a series refers to one.
    #[error("{0}")]
    CardinalityLimit(std::sync::Arc<crate::cardinality::LimitExceeded>),

    /// A field was written with a different type than it already has in this measurement.
    #[error("field type conflict: input field \"{field}\" on measurement \"{measurement}\" is type {got}, already exists as type {existing}")]
    FieldTypeConflict {
        measurement: String,
        field: String,
        got: crate::types::FieldType,
        existing: crate::types::FieldType,
    },

    /// A query could not be parsed; `line` and `column` are 1-based.
    #[error("error parsing query: {message} at line {line}, char {column}")]
    Parse {
        message: String,
        line: usize,
        column: usize,
    },

    /// A query parsed but cannot be run as written.
    #[error("{0}")]
    Query(String),

    /// The write was not acknowledged within `write_timeout` because the database is busy
    /// flushing. If `committing` is false it was withdrawn and nothing of it was written; if
    /// true it had already been taken into a group commit and will become visible as a whole
    /// once the backlog clears. Either way retrying is safe: the same points overwrite.
    #[error("timeout after {duration:?}: the database is busy flushing; {}", if *committing {
        "the write was already being committed and will become visible as a whole when the backlog clears (retrying is safe)"
    } else {
        "nothing from this request was written, retry later"
    })]
    WriteTimeout {
        duration: std::time::Duration,
        committing: bool,
    },

    /// A query was stopped before it finished: its deadline (`query_timeout`) passed, it was
    /// cancelled (killed, or its client went away), the pool stopped, a task panicked, or (never
    /// shown) it was moved from the caller's thread to the pool.
    #[error("query stopped: {0}")]
    QueryStopped(StopReason),

    /// The query was stopped by `KILL QUERY` (InfluxDB 1.x's text, which clients match on).
    #[error("query interrupted")]
    QueryInterrupted,

    /// `KILL QUERY` named a query that is not running or queued (InfluxDB 1.x's text).
    #[error("no such query id: {0}")]
    NoSuchQuery(u64),

    /// Too many queries are waiting; try again later (HTTP 503).
    #[error("too many queries: all {0} places in the query queue are taken (query_queue_depth); retry later")]
    QueryQueueFull(usize),

    /// A SELECT statement read more points than `max_select_points` allows (InfluxDB 1.x's
    /// `max-select-point` text: points read so far / the limit).
    #[error("max-select-point limit exceeded: ({read}/{limit})")]
    MaxSelectPointsExceeded { read: u64, limit: u64 },

    /// A SELECT statement selected more series than `max_select_series` allows (InfluxDB 1.x's
    /// `max-select-series` text: series selected / the limit).
    #[error("max-select-series limit exceeded: ({selected}/{limit})")]
    MaxSelectSeriesExceeded { selected: u64, limit: u64 },

    /// A SELECT statement's `GROUP BY time()` would produce more buckets than
    /// `max_select_buckets` allows (InfluxDB 1.x's `max-select-buckets` text).
    #[error("max-select-buckets limit exceeded: ({buckets}/{limit})")]
    MaxSelectBucketsExceeded { buckets: u64, limit: u64 },

    /// A query needed more memory than `query_memory_limit` allows.
    #[error("query_memory_limit exceeded: the query holds {held} bytes and needs {wanted} more, past the limit of {limit} bytes")]
    QueryMemoryLimitExceeded { limit: u64, held: u64, wanted: u64 },

    /// The daemon's answers that clients have not yet taken hold what answers may hold
    /// (`max_concurrent_queries` × `query_memory_limit`): this answer was refused before it was
    /// made. Clients that read their answers slowly, or not at all, hold it; retry.
    #[error("server busy: answers waiting for their clients hold {held} bytes and this one needs {wanted} more, past the {limit} bytes answers may hold (max_concurrent_queries x query_memory_limit); retry later")]
    AnswersBacklog { limit: u64, held: u64, wanted: u64 },

    /// The WAL could not write or fsync this write's group commit (a full disk, a failing
    /// device). Nothing of it was acknowledged or applied; later writes succeed once the cause
    /// clears.
    #[error("write failed and was not acknowledged: {0}; nothing of it was applied, retry once the cause is fixed (free disk space)")]
    WriteFailed(ActorFailure),

    /// A flush could not write its table (a full disk, a failing device). The data stays in
    /// memory and in the WAL, so nothing is lost; the flusher tries again.
    #[error("flush failed: {0}; the data stays in memory and in the WAL (nothing is lost) and the flusher tries again until the cause is fixed")]
    FlushFailed(ActorFailure),

    /// A compaction could not complete (a full disk, a failing device). Nothing changed in the
    /// catalog; the compactor tries again.
    #[error("compaction failed: {0}; the catalog is unchanged and the compactor tries again until the cause is fixed")]
    CompactionFailed(ActorFailure),

    /// A background worker failed (an fsync error, a panic); the database refuses writes.
    #[error("database is poisoned and refuses writes: {0}; restart strata after fixing the cause")]
    Poisoned(ActorFailure),

    /// A flush met a point of a series the series index does not know: a bug, not an I/O
    /// failure, so the flusher does not retry it.
    #[error("series {series} missing from the index")]
    SeriesNotIndexed { series: SeriesId },

    /// Something inside strata broke an invariant or a helper thread failed (a query task that
    /// ended without an answer, a blocking task that panicked): a bug to report, not a problem
    /// of the request.
    #[error("{0}")]
    Internal(String),

    /// The database is shutting down.
    #[error("database is closed")]
    Closed,
    /// A compaction gave up at a safe point because the database is shutting down
    /// ([`crate::Db::stop_compactions`]); its unfinished outputs are removed.
    #[error("compaction stopped: the database is shutting down")]
    CompactionStopped,
    /// The daemon's shutdown did not finish within `shutdown_timeout`; acknowledged writes are
    /// in the WAL and replay at the next start.
    #[error("shutdown did not finish within {timeout:?} (still {waiting_for}); exiting anyway: acknowledged writes are in the WAL and replay at the next start")]
    ShutdownTimedOut {
        timeout: std::time::Duration,
        waiting_for: String,
    },

    /// A catalog edit (a compaction, a delete rewrite, a retention drop) named a table that a
    /// concurrent edit had already removed. Nothing was changed; plan again against the current
    /// Version and retry.
    #[error("table {file} is no longer in the current version (a concurrent compaction or delete replaced it); nothing was changed, retry against the current version")]
    VersionConflict { file: u64 },

    /// A delete kept finding its tables replaced by concurrent compactions and gave up; nothing
    /// was deleted.
    #[error("delete gave up after {attempts} attempts: concurrent compactions kept replacing its tables; run it again")]
    DeleteContended { attempts: usize },

    /// A retention check kept finding the expired tables replaced by concurrent compactions and
    /// gave up; the next check tries again.
    #[error("retention gave up after {attempts} attempts: concurrent compactions kept replacing its tables")]
    RetentionContended { attempts: usize },

    /// A retention policy option InfluxDB 1.x would refuse (too short a duration, a duration
    /// shorter than the shard duration, a conflicting `CREATE DATABASE ... WITH`).
    #[error("{0}")]
    RetentionPolicy(String),

    /// `ALTER RETENTION POLICY` named a policy the database does not have (each strata database
    /// has exactly one, shown by `SHOW RETENTION POLICIES`).
    #[error("retention policy not found: {0}")]
    RetentionPolicyNotFound(String),

    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),

    /// Users, credentials and privileges (`src/auth/`): 1.x's texts.
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),

    /// `--tcp` names an address beyond loopback while authentication is off.
    #[error("refusing to listen on TCP {addr}: it is not a loopback address, and without authentication anyone who can reach it could read, write and drop every database. Start with --auth-enabled (STRATA_AUTH_ENABLED=true) and create an admin user, or listen on 127.0.0.1 / [::1] only")]
    TcpWithoutAuth { addr: String },
}

/// What [`Error::TableQuarantined`] says: the table a query found corrupt, and where it went.
#[derive(Debug, thiserror::Error)]
#[error("table {path} of database \"{db}\" is corrupt ({reason}); it was quarantined (moved to {moved_to}): this query failed, later queries answer from the rest of the data; /health and `strata check` list it")]
pub struct QuarantinedRead {
    pub db: String,
    /// Where the table file was (`DB/sst/NNNNNNNN.sst`).
    pub path: PathBuf,
    /// Where it is now (`DB/quarantine/NNNNNNNN.sst`).
    pub moved_to: PathBuf,
    pub reason: String,
}

/// Why a query stopped before it finished ([`Error::QueryStopped`]). The texts are the ones
/// users and InfluxDB clients see after `query stopped: `.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StopReason {
    /// Cancelled: killed by `KILL QUERY` (answered as [`Error::QueryInterrupted`]) or its client
    /// went away.
    #[error("query cancelled")]
    Cancelled,
    /// It ran past its deadline; `timeout` is `query_timeout` (unknown only in models of the
    /// pool that expire a token by hand).
    #[error("{}", match timeout {
        Some(timeout) => format!("it ran longer than query_timeout ({timeout:?})"),
        None => "query deadline exceeded".to_string(),
    })]
    DeadlineExceeded { timeout: Option<Duration> },
    /// The query pool shut down before the query ran.
    #[error("the query pool has stopped")]
    PoolStopped,
    /// A task of the query panicked; the panic's message.
    #[error("query task panicked: {0}")]
    TaskPanicked(String),
    /// A statement run on the caller's thread was estimated to read more than
    /// `Config::query_inline_max_points`: the caller stops it and submits the query to the pool
    /// instead. Never shown to a user.
    #[error("estimated read over query_inline_max_points: run it on the query pool")]
    OverInlineBudget,
}

impl From<Stopped> for StopReason {
    fn from(stopped: Stopped) -> StopReason {
        match stopped {
            Stopped::Cancelled => StopReason::Cancelled,
            Stopped::DeadlineExceeded { timeout } => StopReason::DeadlineExceeded { timeout },
            Stopped::PoolStopped => StopReason::PoolStopped,
            Stopped::Panicked(message) => StopReason::TaskPanicked(message),
        }
    }
}

impl From<Stopped> for Error {
    fn from(stopped: Stopped) -> Error {
        Error::QueryStopped(stopped.into())
    }
}

/// Shorthand for results whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The HTTP status the daemon answers this error with (every handler of `src/server/` asks
    /// here): 404 for a database that does not exist, 400 for a request strata cannot take as
    /// written, 503 for one to retry later, an authorization error's own status, 500 for the
    /// rest.
    pub fn http_status(&self) -> u16 {
        match self {
            Error::DatabaseNotFound(_) => 404,
            Error::PartialWrite { .. }
            | Error::FieldTypeConflict { .. }
            | Error::Parse { .. }
            | Error::Records(_)
            | Error::Query(_)
            | Error::QueryMemoryLimitExceeded { .. } => 400,
            Error::RemoteBody(crate::ingest::prometheus::RemoteBodyError::TooLarge { .. }) => 413,
            Error::RemoteBody(_) => 400,
            Error::WriteTimeout { .. }
            | Error::Closed
            | Error::QueryQueueFull(_)
            | Error::AnswersBacklog { .. } => 503,
            Error::Auth(e) => e.http_status(),
            _ => 500,
        }
    }

    /// Wrap an I/O error with what strata was doing when it happened.
    pub fn io(context: impl Into<String>, source: io::Error) -> Error {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Attach context to I/O results: `file.sync_all().ctx(|| format!("fsync {path:?}"))?`.
pub trait IoContext<T> {
    fn ctx<F: FnOnce() -> String>(self, f: F) -> Result<T>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|e| Error::io(f(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_reasons_keep_the_texts_clients_match() {
        let timed_out = Error::from(Stopped::DeadlineExceeded {
            timeout: Some(Duration::from_secs(5)),
        });
        assert_eq!(
            timed_out.to_string(),
            "query stopped: it ran longer than query_timeout (5s)"
        );
        assert_eq!(
            Error::from(Stopped::Cancelled).to_string(),
            "query stopped: query cancelled"
        );
        assert_eq!(
            Error::from(Stopped::PoolStopped).to_string(),
            "query stopped: the query pool has stopped"
        );
        assert_eq!(
            Error::from(Stopped::Panicked("boom".to_string())).to_string(),
            "query stopped: query task panicked: boom"
        );
        assert_eq!(
            StopReason::from(Stopped::DeadlineExceeded { timeout: None }).to_string(),
            "query deadline exceeded"
        );
    }

    #[test]
    fn actor_failures_carry_the_typed_cause_with_the_step_in_the_text() {
        let cause = Arc::new(Error::io("fsync wal/00000001.wal", io::Error::other("EIO")));
        let failed = Error::WriteFailed(ActorError::WalSync(cause));
        assert!(failed.to_string().starts_with(
            "write failed and was not acknowledged: WAL fsync failed: fsync wal/00000001.wal: EIO;"
        ));
        match &failed {
            Error::WriteFailed(failure) => {
                assert!(matches!(
                    failure.cause().map(|c| &**c),
                    Some(Error::Io { .. })
                ));
            }
            other => panic!("{other:?}"),
        }
        let poisoned = Error::Poisoned(ActorError::Panicked {
            actor: "flush-db".to_string(),
        });
        assert_eq!(
            poisoned.to_string(),
            "database is poisoned and refuses writes: actor flush-db panicked; restart strata after fixing the cause"
        );
    }

    #[test]
    fn http_statuses() {
        let cases = [
            (Error::DatabaseNotFound("d".into()), 404),
            (
                Error::PartialWrite {
                    message: "line 1: bad".into(),
                    dropped: 1,
                },
                400,
            ),
            (
                Error::Parse {
                    message: "bad".into(),
                    line: 1,
                    column: 1,
                },
                400,
            ),
            (
                Error::WriteTimeout {
                    duration: Duration::from_secs(1),
                    committing: false,
                },
                503,
            ),
            (Error::Closed, 503),
            (Error::QueryQueueFull(64), 503),
            (
                Error::AnswersBacklog {
                    limit: 2,
                    held: 2,
                    wanted: 1,
                },
                503,
            ),
            (Error::Auth(crate::auth::AuthError::UserExists), 400),
            (Error::Query("bad matcher".into()), 400),
            (
                Error::QueryMemoryLimitExceeded {
                    limit: 1,
                    held: 1,
                    wanted: 1,
                },
                400,
            ),
            (
                Error::RemoteBody(crate::ingest::prometheus::RemoteBodyError::TooLarge {
                    bytes: 2,
                    limit: 1,
                }),
                413,
            ),
            (Error::Internal("lost".into()), 500),
            (Error::Poisoned(ActorError::FlusherStopped), 500),
        ];
        for (error, status) in cases {
            assert_eq!(error.http_status(), status, "{error}");
        }
    }
}
