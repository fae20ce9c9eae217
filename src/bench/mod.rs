//! `strata bench`: generate TSBS cpu-only data ([`tsbs`]) into a file in the run directory
//! before any load (as TSBS's `tsbs_generate_data`), load it from there into strata embedded
//! (`Db::write_lines`) and through the daemon's Unix socket, run the TSBS devops query set
//! ([`queries`]), and print ingest rate, bytes per point on disk, query latency percentiles and
//! peak RSS; with `--peers` the same for InfluxDB 1.x and VictoriaMetrics, and the ratios.
//!
//! [`run`] is the whole command; the modules are its parts and are usable on their own
//! ([`tsbs`] is the data generator).

pub mod http;
pub mod peers;
pub mod process;
pub mod queries;
pub mod report;
pub mod stats;
pub mod tsbs;

mod phases;

use std::io::Write;
use std::path::PathBuf;

use report::Report;
use tsbs::TsbsSpec;

/// What can stop a bench run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BenchError {
    /// An I/O operation failed; `context` says what the bench was doing.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    /// The embedded database failed.
    #[error("strata (embedded): {0}")]
    Db(#[from] strata::Error),
    /// A server answered a write or a control request with an error.
    #[error("{0}")]
    Http(String),
    /// A server process failed to start, answer or stop.
    #[error("{0}")]
    Server(String),
    /// A peer's binary is not installed.
    #[error("--peers needs `{binary}`, which is not on PATH: install the Debian package `{package}` (apt-get install {package})")]
    PeerMissing {
        binary: &'static str,
        package: &'static str,
    },
    /// The options cannot be used.
    #[error("{0}")]
    Options(String),
    /// The run completed but a sanity check failed (the loaded data is not all there).
    #[error("sanity check failed: {0}")]
    Check(String),
}

impl BenchError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> BenchError {
        BenchError::Io {
            context: context.into(),
            source,
        }
    }
}

/// Which strata phases to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phases {
    Both,
    EmbeddedOnly,
    DaemonOnly,
}

/// Options of a run (the flags of `strata bench`).
#[derive(Clone, Debug)]
pub struct BenchOptions {
    /// The data to generate.
    pub spec: TsbsSpec,
    /// Writer threads (embedded) / client connections (daemon and peers).
    pub workers: usize,
    /// Lines per write request / `write_lines` call.
    pub batch_lines: usize,
    /// Timed runs of each query (after one warm-up run).
    pub query_runs: usize,
    pub phases: Phases,
    /// Also run InfluxDB 1.x and VictoriaMetrics.
    pub peers: bool,
    /// Where the data directories go (must be new or empty); a temporary directory if `None`.
    pub data_dir: Option<PathBuf>,
    /// Keep the data directories and the generated data set after the run.
    pub keep: bool,
    /// The strata executable to run as the daemon (`strata serve`).
    pub strata_exe: PathBuf,
    /// Show progress bars (on stderr, when it is a terminal).
    pub progress: bool,
}

/// The file in the run directory that holds the generated data set (line protocol, in the
/// order it is sent).
pub const DATA_FILE: &str = "data.lp";

/// Where the run keeps its data; removed at the end unless `keep`.
struct RunDir {
    path: PathBuf,
    temp: Option<tempfile::TempDir>,
    created: bool,
    keep: bool,
}

impl RunDir {
    fn new(opts: &BenchOptions) -> Result<RunDir, BenchError> {
        match &opts.data_dir {
            None => {
                let t = tempfile::Builder::new()
                    .prefix("strata-bench.")
                    .tempdir()
                    .map_err(|e| BenchError::io("create a temporary directory", e))?;
                Ok(RunDir {
                    path: t.path().to_path_buf(),
                    temp: Some(t),
                    created: true,
                    keep: opts.keep,
                })
            }
            Some(d) => {
                let existed = d.exists();
                if existed {
                    let mut entries = std::fs::read_dir(d).map_err(|e| {
                        BenchError::io(format!("list --data-dir {}", d.display()), e)
                    })?;
                    if entries.next().is_some() {
                        return Err(BenchError::Options(format!(
                            "--data-dir {} is not empty: give a new or empty directory (the bench creates {DATA_FILE}, embedded/, daemon/, influxdb/, victoriametrics/ in it)",
                            d.display()
                        )));
                    }
                }
                std::fs::create_dir_all(d)
                    .map_err(|e| BenchError::io(format!("create --data-dir {}", d.display()), e))?;
                Ok(RunDir {
                    path: d.clone(),
                    temp: None,
                    created: !existed,
                    keep: opts.keep,
                })
            }
        }
    }

    fn finish(self) -> Result<Option<PathBuf>, BenchError> {
        if self.keep {
            if let Some(t) = self.temp {
                return Ok(Some(t.keep()));
            }
            return Ok(Some(self.path));
        }
        if let Some(t) = self.temp {
            t.close()
                .map_err(|e| BenchError::io("remove the temporary directory", e))?;
        } else if self.created {
            std::fs::remove_dir_all(&self.path)
                .map_err(|e| BenchError::io(format!("remove {}", self.path.display()), e))?;
        } else {
            let data = self.path.join(DATA_FILE);
            if data.exists() {
                std::fs::remove_file(&data)
                    .map_err(|e| BenchError::io(format!("remove {}", data.display()), e))?;
            }
            for sub in ["embedded", "daemon", "influxdb", "victoriametrics"] {
                let p = self.path.join(sub);
                if p.exists() {
                    std::fs::remove_dir_all(&p)
                        .map_err(|e| BenchError::io(format!("remove {}", p.display()), e))?;
                }
            }
        }
        Ok(None)
    }
}

/// Run the bench; results go to `out` as they come, then the summary tables.
pub fn run(opts: &BenchOptions, out: &mut dyn Write) -> Result<(), BenchError> {
    if opts.spec.hosts == 0 || opts.spec.lines() == 0 {
        return Err(BenchError::Options(
            "nothing to generate: --hosts and --hours must give at least one line".into(),
        ));
    }
    if opts.workers == 0 || opts.batch_lines == 0 || opts.query_runs == 0 {
        return Err(BenchError::Options(
            "--workers, --batch and --query-runs must be at least 1".into(),
        ));
    }
    let peer_bins = if opts.peers {
        Some(peers::PeerBinaries::find()?)
    } else {
        None
    };
    let dir = RunDir::new(opts)?;
    let mut report = Report::new(out);
    let queries = queries::tsbs_queries(&opts.spec, opts.spec.seed);
    report.header(opts, &queries)?;

    let result = (|| {
        let data = phases::generate(opts, &dir.path.join(DATA_FILE))?;
        report.data(&data.file, data.generator_seconds)?;
        if opts.phases != Phases::DaemonOnly {
            phases::embedded(
                opts,
                &data,
                &dir.path.join("embedded"),
                &queries,
                &mut report,
            )?;
        }
        if opts.phases != Phases::EmbeddedOnly {
            phases::daemon(opts, &data, &dir.path.join("daemon"), &queries, &mut report)?;
        }
        if let Some(bins) = &peer_bins {
            peers::influxdb(
                opts,
                &data,
                bins,
                &dir.path.join("influxdb"),
                &queries,
                &mut report,
            )?;
            peers::victoriametrics(
                opts,
                &data,
                bins,
                &dir.path.join("victoriametrics"),
                &queries,
                &mut report,
            )?;
        }
        report.summary()
    })();
    let kept = dir.finish()?;
    if let Some(p) = kept {
        report.line(&format!("data kept in {}", p.display()))?;
    }
    result?;
    report.check()
}
