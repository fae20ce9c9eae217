//! The `strata` command.

// The `strata bench` workload harness: part of the command, not of the library's API (it uses
// only strata's public API, like any client).
mod bench;
// `strata query`, `import`, `export` and `repl`: the command line for people at a terminal.
mod cli;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use strata::server::{serve, HttpLimits, ServeOptions};
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
    Serve(Box<ServeArgs>),
    /// Describe a data directory: per database and compaction layer, the SSTables with their
    /// windows, sizes and point counts, and the compaction debt (read-only).
    Inspect(InspectArgs),
    /// Verify everything on disk (read-only): every manifest record, every SSTable's footer,
    /// index and block checksums, every WAL record. Prints what is damaged (file, byte offset,
    /// what it holds) and exits 1 if anything is.
    Check(CheckArgs),
    /// Rebuild each database's catalog (its manifest) from the SSTables themselves, for a
    /// damaged or missing manifest. Deletes nothing: the old manifests are copied and damaged
    /// or superseded tables moved into DB/repair-<time>/. Refuses to run beside a daemon.
    Repair(RepairArgs),
    /// Benchmark: generate TSBS cpu-only data, load it into strata embedded and through the
    /// daemon's Unix socket, run the TSBS devops queries; print points/s, bytes/point, query
    /// p50/p99 and peak RSS (with --peers, beside InfluxDB 1.x and VictoriaMetrics, as ratios).
    Bench(BenchArgs),
    /// Run InfluxQL statements and print the answer (table, csv or json); exit 1 if any fails.
    /// Through the daemon's socket when one runs, else on the data directory embedded.
    Query(cli::query::QueryArgs),
    /// Import line protocol, CSV, JSON or an `influx_inspect export` file (gzip too), in
    /// batches; bad lines are reported by file and line and the good ones kept.
    Import(cli::import::ImportArgs),
    /// Export a database, measurement or time range as line protocol or CSV.
    Export(cli::export::ExportArgs),
    /// An interactive InfluxQL shell (line editing, history, USE, format, precision, timing).
    Repl(cli::repl::ReplArgs),
    /// Run vq (vkdb's query language): `strata vq FILE.vq` runs a file (exit 0, 64 not a .vq
    /// file, 65 parse error, 66 unreadable, 70 runtime error); with no file, the vq REPL.
    Vq(strata::vq::cli::VqArgs),
}

#[derive(Args)]
struct BenchArgs {
    /// Hosts (series per field) of the generated data.
    #[arg(long, default_value_t = 1000)]
    hosts: usize,
    /// Hours of data (one line per host every 10 s).
    #[arg(long, default_value_t = 4.0)]
    hours: f64,
    /// Seed of the generated data and of the queries' random windows and hosts.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Writer threads (embedded) and client connections (daemon, peers).
    #[arg(long, default_value_t = 2)]
    workers: usize,
    /// Lines per write request.
    #[arg(long = "batch", value_name = "LINES", default_value_t = 5000)]
    batch: usize,
    /// Timed runs of each query, after one warm-up run.
    #[arg(long, default_value_t = 5)]
    query_runs: usize,
    /// Also run InfluxDB 1.x (influxd) and VictoriaMetrics on loopback and print ratios.
    #[arg(long)]
    peers: bool,
    /// Only the embedded phase (Db::write_lines, Db::query).
    #[arg(long, conflicts_with = "daemon_only")]
    embedded_only: bool,
    /// Only the daemon phase (strata serve, Unix socket).
    #[arg(long)]
    daemon_only: bool,
    /// A new or empty directory for the data (default: a temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Keep the data directories (and the generated data set, data.lp) after the run.
    #[arg(long)]
    keep: bool,
    /// No progress bars.
    #[arg(long)]
    no_progress: bool,
}

fn run_bench(a: BenchArgs) -> Result<(), String> {
    use bench::{tsbs::TsbsSpec, BenchOptions, Phases};
    if !(a.hours > 0.0 && a.hours.is_finite()) {
        return Err(format!("--hours {} must be a positive number", a.hours));
    }
    let exe = std::env::current_exe()
        .map_err(|e| format!("cannot find the strata executable to run as the daemon: {e}"))?;
    let opts = BenchOptions {
        spec: TsbsSpec::new(a.hosts, a.hours).with_seed(a.seed),
        workers: a.workers,
        batch_lines: a.batch,
        query_runs: a.query_runs,
        phases: if a.embedded_only {
            Phases::EmbeddedOnly
        } else if a.daemon_only {
            Phases::DaemonOnly
        } else {
            Phases::Both
        },
        peers: a.peers,
        data_dir: a.data_dir,
        keep: a.keep,
        strata_exe: exe,
        progress: !a.no_progress,
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    bench::run(&opts, &mut out).map_err(|e| e.to_string())
}

#[derive(Args)]
struct CheckArgs {
    /// Data directory.
    data_dir: PathBuf,
}

#[derive(Args)]
struct RepairArgs {
    /// Data directory.
    data_dir: PathBuf,
    /// Repair only this database.
    #[arg(long)]
    db: Option<String>,
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
    /// Require credentials (HTTP Basic, u/p parameters, `Token user:password`) and check each
    /// statement's privileges, as InfluxDB 1.x's auth-enabled. Needed for --tcp beyond
    /// loopback. The environment variable takes true/false, 1/0, yes/no or on/off.
    #[arg(
        long,
        env = "STRATA_AUTH_ENABLED",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    auth_enabled: bool,
    #[command(flatten)]
    http: HttpArgs,
    #[command(flatten)]
    engine: EngineArgs,
}

/// Connection limits and shutdown (see `strata::server::HttpLimits`).
#[derive(Args)]
struct HttpArgs {
    /// Seconds a request's head (request line and headers) may take to arrive, from the
    /// connection's accept or the request's first byte; then the connection is closed (0: no
    /// limit).
    #[arg(long, env = "STRATA_HTTP_HEADER_TIMEOUT_SECS", default_value_t = 10.0)]
    http_header_timeout_secs: f64,
    /// Seconds a request's body may take to arrive after its head (0: no limit); past it
    /// /write answers 408 and the connection is closed.
    #[arg(long, env = "STRATA_HTTP_BODY_TIMEOUT_SECS", default_value_t = 30.0)]
    http_body_timeout_secs: f64,
    /// Seconds a keep-alive connection may wait for its next request (0: no limit).
    #[arg(long, env = "STRATA_HTTP_IDLE_TIMEOUT_SECS", default_value_t = 60.0)]
    http_idle_timeout_secs: f64,
    /// Seconds an answer may wait for its client to take any of its bytes; then the
    /// connection is closed (a client that stops reading). Every byte taken restarts it (0: no
    /// limit).
    #[arg(long, env = "STRATA_HTTP_SEND_TIMEOUT_SECS", default_value_t = 30.0)]
    http_send_timeout_secs: f64,
    /// Connections open at once over every listener; more are answered 503 and closed
    /// [default: 1024, or half the open-file limit if lower].
    #[arg(long, env = "STRATA_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Seconds a shutdown (SIGTERM, SIGINT, SIGHUP) may take: requests in flight get all but
    /// min(5 s, half) of it, then the databases are closed; past it strata exits anyway (the
    /// WAL replays at the next start) (0: no limit).
    #[arg(long, env = "STRATA_SHUTDOWN_TIMEOUT_SECS", default_value_t = 30.0)]
    shutdown_timeout_secs: f64,
}

/// `secs` as a timeout: `None` for 0; an error naming `flag` if negative or not finite.
fn timeout_arg(flag: &str, secs: f64) -> strata::Result<Option<Duration>> {
    if !secs.is_finite() || secs < 0.0 {
        return Err(strata::Error::Config(format!(
            "--{flag} {secs}: expected a number of seconds, 0 or more"
        )));
    }
    Ok((secs > 0.0).then(|| Duration::from_secs_f64(secs)))
}

impl HttpArgs {
    fn limits(&self) -> strata::Result<HttpLimits> {
        let max_connections = match self.max_connections {
            Some(0) => {
                return Err(strata::Error::Config(
                    "--max-connections 0: at least 1 connection is needed".to_string(),
                ))
            }
            Some(n) => n,
            None => strata::server::listener::default_max_connections(),
        };
        Ok(HttpLimits {
            header_timeout: timeout_arg("http-header-timeout-secs", self.http_header_timeout_secs)?,
            body_timeout: timeout_arg("http-body-timeout-secs", self.http_body_timeout_secs)?,
            idle_timeout: timeout_arg("http-idle-timeout-secs", self.http_idle_timeout_secs)?,
            send_timeout: timeout_arg("http-send-timeout-secs", self.http_send_timeout_secs)?,
            max_connections,
        })
    }
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
    /// On open, skip a corrupt WAL record that is not the torn tail of the newest segment
    /// (logging segment, offset and bytes) and replay everything after it, instead of refusing
    /// to start. The environment variable takes true/false, 1/0, yes/no or on/off.
    #[arg(
        long,
        env = "STRATA_WAL_SKIP_CORRUPT",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    wal_skip_corrupt: bool,
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
    /// Most GROUP BY time() buckets one SELECT may produce (0: unlimited), as InfluxDB 1.x's
    /// max-select-buckets.
    #[arg(long, env = "STRATA_MAX_SELECT_BUCKETS", default_value_t = 0)]
    max_select_buckets: u64,
    /// Most series one database may hold (0: unlimited), as InfluxDB 1.x's
    /// max-series-per-database: points that would create more are dropped (a partial write).
    #[arg(long, env = "STRATA_MAX_SERIES_PER_DATABASE", default_value_t = strata::cardinality::DEFAULT_MAX_SERIES_PER_DATABASE)]
    max_series_per_database: u64,
    /// Most values one tag key of a measurement may have (0: unlimited), as InfluxDB 1.x's
    /// max-values-per-tag: points that would create more are dropped (a partial write).
    #[arg(long, env = "STRATA_MAX_VALUES_PER_TAG", default_value_t = strata::cardinality::DEFAULT_MAX_VALUES_PER_TAG)]
    max_values_per_tag: u64,
    /// Most bytes one query may hold (decoded columns, accumulator buffers, result rows);
    /// past it the query fails naming query_memory_limit (0: unlimited).
    #[arg(long, env = "STRATA_QUERY_MEMORY_LIMIT", default_value_t = 256 << 20)]
    query_memory_limit: u64,
    /// Tasks one SELECT is split into on the query pool's workers [default: number of cores].
    #[arg(long, env = "STRATA_QUERY_PARALLELISM")]
    query_parallelism: Option<usize>,
    /// Most points a query may be estimated to read and still run on the connection's own
    /// thread instead of a query-pool worker (0: every query on the pool).
    #[arg(long, env = "STRATA_QUERY_INLINE_MAX_POINTS", default_value_t = strata::config::DEFAULT_QUERY_INLINE_MAX_POINTS)]
    query_inline_max_points: u64,
    /// Bytes of SSTable blocks kept in memory for queries, shared by every database; a block
    /// read again comes from memory instead of its file (0: no cache).
    #[arg(long, env = "STRATA_BLOCK_CACHE_BYTES", default_value_t = strata::config::DEFAULT_BLOCK_CACHE_BYTES)]
    block_cache_bytes: u64,
    /// Seconds between retention checks (dropping tables past each database's retention).
    #[arg(
        long,
        env = "STRATA_RETENTION_CHECK_INTERVAL_SECS",
        default_value_t = 1800.0
    )]
    retention_check_interval_secs: f64,
    #[command(flatten)]
    layers: LayerArgs,
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
            .wal_skip_corrupt(self.wal_skip_corrupt)
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
            .max_select_buckets(self.max_select_buckets)
            .max_series_per_database(self.max_series_per_database)
            .max_values_per_tag(self.max_values_per_tag)
            .query_memory_limit(self.query_memory_limit)
            .query_inline_max_points(self.query_inline_max_points)
            .block_cache_bytes(self.block_cache_bytes)
            .testing_query_delay(Duration::from_millis(delay_ms));
        if let Some(n) = self.max_concurrent_queries {
            cfg = cfg.max_concurrent_queries(n);
        }
        if let Some(n) = self.query_parallelism {
            cfg = cfg.query_parallelism(n);
        }
        self.layers.apply(cfg)
    }
}

fn run_serve(args: ServeArgs) -> strata::Result<()> {
    let mode = u32::from_str_radix(&args.socket_mode, 8).map_err(|_| {
        strata::Error::Config(format!("--socket-mode {:?} is not octal", args.socket_mode))
    })?;
    // Connections, WAL segments and tables all take descriptors: use what the hard limit
    // allows (before the default connection cap is derived from it).
    strata::server::listener::raise_nofile_limit();
    let opts = ServeOptions {
        socket: args.socket,
        socket_mode: mode,
        tcp: args.tcp,
        auth_enabled: args.auth_enabled,
        limits: args.http.limits()?,
        shutdown_timeout: timeout_arg("shutdown-timeout-secs", args.http.shutdown_timeout_secs)?,
    };
    // Before the data directory is opened: a refused --tcp changes nothing.
    opts.validate()?;
    let db = Arc::new(Db::open(&args.data_dir, args.engine.config()?)?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| strata::Error::io("start tokio runtime", e))?;
    // `serve` closes the databases (within the shutdown timeout) before it returns.
    let r = rt.block_on(serve(db.clone(), opts));
    // Writes whose connection was cut may still run on blocking threads: they end on their
    // own (the databases are closed), and are not waited for.
    rt.shutdown_background();
    r
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // vq's stderr carries its error lines: only warnings and worse are logged beside them.
    let level = if matches!(cli.command, Command::Vq(_)) {
        "warn"
    } else {
        "info"
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("STRATA_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level)),
        )
        .with_writer(std::io::stderr)
        .init();
    let r = match cli.command {
        Command::Query(a) => return cli::exit_code("query", cli::query::run(&a)),
        Command::Import(a) => return cli::exit_code("import", cli::import::run(&a)),
        Command::Export(a) => return cli::exit_code("export", cli::export::run(&a)),
        Command::Repl(a) => return cli::exit_code("repl", cli::repl::run(&a)),
        Command::Vq(a) => return ExitCode::from(strata::vq::cli::main(&a)),
        Command::Check(a) => match strata::check::check(&a.data_dir) {
            Ok(report) => {
                print!("{}", report.text);
                if !report.is_clean() {
                    return ExitCode::FAILURE;
                }
                Ok(())
            }
            Err(e) => Err(format!("strata check: {e}")),
        },
        Command::Repair(a) => strata::repair::repair(&a.data_dir, a.db.as_deref())
            .map(|reports| print!("{}", strata::repair::render(&reports)))
            .map_err(|e| format!("strata repair: {e}")),
        Command::Serve(a) => run_serve(*a).map_err(|e| format!("strata: {e}")),
        Command::Bench(a) => run_bench(a).map_err(|e| format!("strata bench: {e}")),
        Command::Inspect(a) => a
            .layers
            .apply(Config::new())
            .and_then(|cfg| strata::inspect::inspect(&a.data_dir, &cfg))
            .map(|text| print!("{text}"))
            .map_err(|e| format!("strata inspect: {e}")),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
