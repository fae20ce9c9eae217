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
    /// Describe a data directory: per database and compaction layer, the SSTables with their
    /// windows, sizes and point counts, and the compaction debt (read-only).
    Inspect(InspectArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// Data directory.
    data_dir: PathBuf,
    #[command(flatten)]
    layers: LayerArgs,
}

/// Compaction layer knobs (see `strata::Config::layer_max_tables` / `layer_window`).
#[derive(Args)]
struct LayerArgs {
    /// SSTable limit of each layer C0..C7, comma-separated (8 numbers).
    #[arg(
        long,
        env = "STRATA_LAYER_MAX_TABLES",
        default_value = "10,100,100,1000,1000,1000,10000,10000"
    )]
    layer_max_tables: String,
    /// Time window of each layer C1..C7, comma-separated (7 windows; fixed windows are
    /// epoch-aligned, mo/y are calendar months/years in UTC).
    #[arg(
        long,
        env = "STRATA_LAYER_WINDOWS",
        default_value = "30m,1h,1d,1w,1mo,3mo,1y"
    )]
    layer_windows: String,
}

impl LayerArgs {
    fn apply(&self, mut cfg: Config) -> strata::Result<Config> {
        let limits: Vec<&str> = self.layer_max_tables.split(',').map(str::trim).collect();
        if limits.len() != 8 {
            return Err(strata::Error::Config(format!(
                "--layer-max-tables {:?}: expected 8 comma-separated numbers (C0..C7)",
                self.layer_max_tables
            )));
        }
        for (layer, n) in limits.iter().enumerate() {
            let n: usize = n.parse().map_err(|_| {
                strata::Error::Config(format!(
                    "--layer-max-tables: {n:?} (C{layer}) is not a number"
                ))
            })?;
            cfg = cfg.layer_max_tables(layer, n);
        }
        let windows: Vec<&str> = self.layer_windows.split(',').map(str::trim).collect();
        if windows.len() != 7 {
            return Err(strata::Error::Config(format!(
                "--layer-windows {:?}: expected 7 comma-separated windows (C1..C7)",
                self.layer_windows
            )));
        }
        for (i, w) in windows.iter().enumerate() {
            cfg = cfg.layer_window(i + 1, strata::compaction::Window::parse(w)?);
        }
        Ok(cfg)
    }
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
    #[command(flatten)]
    layers: LayerArgs,
}

impl EngineArgs {
    fn config(&self) -> strata::Result<Config> {
        let cfg = Config::new()
            .memtable_size_bytes(self.memtable_size_bytes)
            .max_frozen_memtables(self.max_frozen_memtables)
            .wal_segment_bytes(self.wal_segment_bytes)
            .wal_batch_max_bytes(self.wal_batch_max_bytes)
            .write_timeout(Duration::from_secs_f64(self.write_timeout_secs.max(0.0)))
            .max_body_bytes(self.max_body_bytes)
            .max_line_bytes(self.max_line_bytes)
            .query_timeout(Duration::from_secs_f64(self.query_timeout_secs.max(0.0)));
        self.layers.apply(cfg)
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
        Command::Inspect(a) => a
            .layers
            .apply(Config::new())
            .and_then(|cfg| strata::inspect::inspect(&a.data_dir, &cfg))
            .map(|text| print!("{text}")),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("strata: {e}");
            ExitCode::FAILURE
        }
    }
}
