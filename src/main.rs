//! The `strata` command.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use strata::server::{serve, ServeOptions};
use strata::{Config, Db};

#[derive(Parser)]
#[command(name = "strata", version, about = "strata: a time-series database")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon: InfluxDB 1.x HTTP API on a Unix socket.
    Serve(ServeArgs),
}

#[derive(Args)]
struct ServeArgs {
    /// Data directory.
    #[arg(long, env = "STRATA_DATA_DIR", default_value = "./strata-data")]
    data_dir: PathBuf,
    /// Unix socket path.
    #[arg(long, env = "STRATA_SOCKET", default_value = "./strata.sock")]
    socket: PathBuf,
    /// Also listen on this TCP address (e.g. 127.0.0.1:8086).
    #[arg(long, env = "STRATA_TCP")]
    tcp: Option<String>,
    /// Socket file permissions, octal.
    #[arg(long, env = "STRATA_SOCKET_MODE", default_value = "600")]
    socket_mode: String,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Engine knobs (see `strata::Config` for what each does).
#[derive(Args)]
struct EngineArgs {
    /// Freeze threshold of the active memtable in bytes.
    #[arg(long, env = "STRATA_MEMTABLE_SIZE_BYTES", default_value_t = 64 << 20)]
    memtable_size_bytes: usize,
    /// Frozen memtables that may wait for the flusher before writers wait.
    #[arg(long, env = "STRATA_MAX_FROZEN_MEMTABLES", default_value_t = 2)]
    max_frozen_memtables: usize,
    /// WAL segment size in bytes.
    #[arg(long, env = "STRATA_WAL_SEGMENT_BYTES", default_value_t = 64 << 20)]
    wal_segment_bytes: u64,
    /// Most bytes one group commit takes.
    #[arg(long, env = "STRATA_WAL_BATCH_MAX_BYTES", default_value_t = 8 << 20)]
    wal_batch_max_bytes: usize,
    /// Seconds a write may wait to be queued before it gets 503.
    #[arg(long, env = "STRATA_WRITE_TIMEOUT_SECS", default_value_t = 10.0)]
    write_timeout_secs: f64,
    /// Largest request body in bytes.
    #[arg(long, env = "STRATA_MAX_BODY_BYTES", default_value_t = 25_000_000)]
    max_body_bytes: usize,
    /// Longest line-protocol line in bytes.
    #[arg(long, env = "STRATA_MAX_LINE_BYTES", default_value_t = 64 << 10)]
    max_line_bytes: usize,
    /// Seconds a query may run before it is stopped (0: no limit).
    #[arg(long, env = "STRATA_QUERY_TIMEOUT_SECS", default_value_t = 30.0)]
    query_timeout_secs: f64,
    /// Queries executing at once; more wait in the queue [default: number of cores].
    #[arg(long, env = "STRATA_MAX_CONCURRENT_QUERIES")]
    max_concurrent_queries: Option<usize>,
    /// Queries that may wait for a worker; beyond it a query gets 503.
    #[arg(long, env = "STRATA_QUERY_QUEUE_DEPTH", default_value_t = 64)]
    query_queue_depth: usize,
    /// Most points one SELECT may read (0: unlimited), as InfluxDB 1.x's max-select-point.
    #[arg(long, env = "STRATA_MAX_SELECT_POINTS", default_value_t = 0)]
    max_select_points: u64,
    /// Most series one SELECT may select (0: unlimited), as InfluxDB 1.x's max-select-series.
    #[arg(long, env = "STRATA_MAX_SELECT_SERIES", default_value_t = 0)]
    max_select_series: u64,
    /// Most bytes one query may hold (decoded columns, accumulator buffers, result rows);
    /// past it the query fails naming query_memory_limit (0: unlimited).
    #[arg(long, env = "STRATA_QUERY_MEMORY_LIMIT", default_value_t = 256 << 20)]
    query_memory_limit: u64,
    /// Tasks one SELECT is split into on the query pool's workers [default: number of cores].
    #[arg(long, env = "STRATA_QUERY_PARALLELISM")]
    query_parallelism: Option<usize>,
    /// Seconds between retention checks (dropping tables past each database's retention).
    #[arg(
        long,
        env = "STRATA_RETENTION_CHECK_INTERVAL_SECS",
        default_value_t = 1800.0
    )]
    retention_check_interval_secs: f64,
}

/// Testing aid, read once at start-up: every query with a SELECT first waits this many
/// milliseconds on its worker, checking its cancel token every 10 ms (see
/// `Config::testing_query_delay`). Integration tests use it to hold workers deterministically.
const TEST_QUERY_DELAY_ENV: &str = "STRATA_TEST_QUERY_DELAY_MS";

impl EngineArgs {
    fn config(&self) -> strata::Result<Config> {
        let delay_ms = match std::env::var(TEST_QUERY_DELAY_ENV) {
            Ok(v) => v.trim().parse::<u64>().map_err(|_| {
                strata::Error::Config(format!(
                    "{TEST_QUERY_DELAY_ENV}={v:?} is not a number of milliseconds"
                ))
            })?,
            Err(_) => 0,
        };
        if delay_ms > 0 {
            tracing::warn!(
                delay_ms,
                "{TEST_QUERY_DELAY_ENV} is set: every SELECT query is delayed (testing aid)"
            );
        }
        let mut cfg = Config::new()
            .memtable_size_bytes(self.memtable_size_bytes)
            .max_frozen_memtables(self.max_frozen_memtables)
            .wal_segment_bytes(self.wal_segment_bytes)
            .wal_batch_max_bytes(self.wal_batch_max_bytes)
            .write_timeout(Duration::from_secs_f64(self.write_timeout_secs.max(0.0)))
            .max_body_bytes(self.max_body_bytes)
            .max_line_bytes(self.max_line_bytes)
            .query_timeout(Duration::from_secs_f64(self.query_timeout_secs.max(0.0)))
            .retention_check_interval(Duration::from_secs_f64(
                self.retention_check_interval_secs.max(0.0),
            ))
            .query_queue_depth(self.query_queue_depth)
            .max_select_points(self.max_select_points)
            .max_select_series(self.max_select_series)
            .query_memory_limit(self.query_memory_limit)
            .testing_query_delay(Duration::from_millis(delay_ms));
        if let Some(n) = self.max_concurrent_queries {
            cfg = cfg.max_concurrent_queries(n);
        }
        if let Some(n) = self.query_parallelism {
            cfg = cfg.query_parallelism(n);
        }
        Ok(cfg)
    }
}

fn run_serve(args: ServeArgs) -> strata::Result<()> {
    let mode = u32::from_str_radix(&args.socket_mode, 8).map_err(|_| {
        strata::Error::Config(format!("--socket-mode {:?} is not octal", args.socket_mode))
    })?;
    let db = Arc::new(Db::open(&args.data_dir, args.engine.config()?)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| strata::Error::io("start tokio runtime", e))?;
    rt.block_on(serve(
        db.clone(),
        ServeOptions {
            socket: args.socket,
            socket_mode: mode,
            tcp: args.tcp,
        },
    ))?;
    drop(rt);
    match Arc::try_unwrap(db) {
        Ok(db) => db.close(),
        Err(db) => db.flush(),
    }
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let r = match cli.command {
        Command::Serve(a) => run_serve(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: {e}");
            ExitCode::FAILURE
        }
    }
}
