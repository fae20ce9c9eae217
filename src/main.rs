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
    /// Seconds between retention checks (dropping tables past each database's retention).
    #[arg(
        long,
        env = "STRATA_RETENTION_CHECK_INTERVAL_SECS",
        default_value_t = 1800.0
    )]
    retention_check_interval_secs: f64,
}

impl EngineArgs {
    fn config(&self) -> Config {
        Config::new()
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
    }
}

fn run_serve(args: ServeArgs) -> strata::Result<()> {
    let mode = u32::from_str_radix(&args.socket_mode, 8).map_err(|_| {
        strata::Error::Config(format!("--socket-mode {:?} is not octal", args.socket_mode))
    })?;
    let db = Arc::new(Db::open(&args.data_dir, args.engine.config())?);
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
