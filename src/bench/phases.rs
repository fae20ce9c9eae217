//! The strata phases of the bench (embedded and daemon) and the pieces every system shares:
//! the data set generated to a file before any load, the ingest loop (W writers reading
//! batches from that file and sending them) and the query timer.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use super::http::{influx_answer_error, Client, Target};
use super::process::Server;
use super::queries::{encode, BenchQuery};
use super::report::{IngestFigures, QueryFigure, Report, DAEMON, EMBEDDED};
use super::stats::{ms, own_peak_rss_kb, percentile, size};
use super::tsbs::DataFile;
use super::{BenchError, BenchOptions};
use strata::query::{Epoch, Value};
use strata::{Config, Db};

/// The database the bench writes to.
pub const DB: &str = "bench";

/// Writes one batch of line protocol somewhere; one per writer thread.
pub type Sink<'s> = Box<dyn FnMut(&str) -> Result<(), BenchError> + Send + 's>;

/// Runs one query on a system and times it; `None` when the system has no equivalent.
pub type Exec<'e> = dyn FnMut(&BenchQuery) -> Result<Option<(Duration, Answer)>, BenchError> + 'e;

/// A query's answer: its size in bytes, or the error it carried.
pub enum Answer {
    Ok { bytes: usize },
    Error(String),
}

pub fn bar(opts: &BenchOptions, len: u64, prefix: String, unit: &str) -> ProgressBar {
    if !opts.progress {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    let template = format!(
        "{{prefix:>24}} [{{bar:40}}] {{human_pos}}/{{human_len}} {unit} ({{per_sec}}, eta {{eta}})"
    );
    if let Ok(style) = ProgressStyle::with_template(&template) {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix(prefix);
    pb
}

/// The data set of a run, generated before any load.
pub struct Dataset {
    pub file: DataFile,
    /// Seconds it took to generate and fsync the file (outside every load's timing).
    pub generator_seconds: f64,
}

/// Generate the data set into `path` before any load (TSBS's `tsbs_generate_data` step), with
/// its own progress bar.
pub fn generate(opts: &BenchOptions, path: &Path) -> Result<Dataset, BenchError> {
    let pb = bar(opts, opts.spec.lines(), "generate data".into(), "lines");
    let t = Instant::now();
    let file = opts
        .spec
        .generate_file(opts.batch_lines, path, |n| pb.inc(n as u64))
        .map_err(|e| BenchError::io(format!("generate the data set into {}", path.display()), e))?;
    let generator_seconds = t.elapsed().as_secs_f64();
    pb.finish_and_clear();
    Ok(Dataset {
        file,
        generator_seconds,
    })
}

/// Send the pre-generated data through `sinks`, one thread each, every thread taking the next
/// batch in file order, reading it from the file (page cache) into its own buffer and writing
/// it (TSBS's `tsbs_load_*` step). The time runs from the start of the first read to the last
/// write acknowledged; generating the data is not in it.
pub fn ingest(
    opts: &BenchOptions,
    system: &str,
    dataset: &Dataset,
    sinks: Vec<Sink<'_>>,
) -> Result<IngestFigures, BenchError> {
    let data = &dataset.file;
    let pb = bar(opts, data.lines(), format!("{system} ingest"), "lines");
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let t0 = Instant::now();
    let results: Vec<Result<(u64, Duration), BenchError>> = std::thread::scope(|sc| {
        let (next, stop, pb) = (&next, &stop, &pb);
        let writers: Vec<_> = sinks
            .into_iter()
            .map(|mut sink| {
                sc.spawn(move || -> Result<(u64, Duration), BenchError> {
                    let mut buf = Vec::with_capacity(data.max_batch_bytes());
                    let (mut lines, mut reading) = (0u64, Duration::ZERO);
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let t = Instant::now();
                        let batch = data.read_batch(i, &mut buf).map_err(|e| {
                            stop.store(true, Ordering::Relaxed);
                            BenchError::io(format!("read {}", data.path().display()), e)
                        })?;
                        reading += t.elapsed();
                        let Some((text, n)) = batch else { break };
                        if let Err(e) = sink(text) {
                            stop.store(true, Ordering::Relaxed);
                            return Err(e);
                        }
                        lines += n as u64;
                        pb.inc(n as u64);
                    }
                    Ok((lines, reading))
                })
            })
            .collect();
        writers
            .into_iter()
            .map(|w| {
                w.join()
                    .unwrap_or_else(|_| Err(BenchError::Server("a writer thread panicked".into())))
            })
            .collect()
    });
    let seconds = t0.elapsed().as_secs_f64();
    pb.finish_and_clear();
    let (mut lines, mut reading) = (0u64, Duration::ZERO);
    for r in results {
        let (l, t) = r?;
        lines += l;
        reading += t;
    }
    if lines != opts.spec.lines() {
        return Err(BenchError::Check(format!(
            "{system}: wrote {lines} lines, the data set has {}",
            opts.spec.lines()
        )));
    }
    Ok(IngestFigures {
        lines,
        points: lines * super::tsbs::FIELDS.len() as u64,
        seconds,
        read_seconds: reading.as_secs_f64(),
        generator_seconds: dataset.generator_seconds,
    })
}

/// Run each query once (warm-up; an error there is reported as "not supported"), then
/// `opts.query_runs` timed runs. `exec` runs one query and times it itself; `None` means the
/// system has no equivalent.
pub fn time_queries(
    opts: &BenchOptions,
    system: &'static str,
    queries: &[BenchQuery],
    report: &mut Report<'_>,
    exec: &mut Exec<'_>,
) -> Result<(), BenchError> {
    let pb = bar(
        opts,
        (queries.len() * (opts.query_runs + 1)) as u64,
        format!("{system} queries"),
        "runs",
    );
    let mut figures = Vec::new();
    for q in queries {
        let warm = exec(q)?;
        pb.inc(1);
        let figure = match warm {
            None => QueryFigure::NotApplicable("no equivalent query for this system".into()),
            Some((_, Answer::Error(e))) => QueryFigure::NotSupported(e),
            Some((_, Answer::Ok { bytes })) => {
                let mut samples = Vec::with_capacity(opts.query_runs);
                let mut failed = None;
                for _ in 0..opts.query_runs {
                    match exec(q)? {
                        Some((t, Answer::Ok { .. })) => samples.push(t),
                        Some((_, Answer::Error(e))) => {
                            failed =
                                Some(format!("failed in a timed run after a good warm-up: {e}"));
                            break;
                        }
                        None => break,
                    }
                    pb.inc(1);
                }
                match (
                    failed,
                    percentile(&samples, 50.0),
                    percentile(&samples, 99.0),
                ) {
                    (Some(e), _, _) => QueryFigure::NotSupported(e),
                    (None, Some(p50), Some(p99)) => QueryFigure::Timed {
                        p50_ms: ms(p50),
                        p99_ms: ms(p99),
                        runs: samples.len(),
                        bytes,
                    },
                    _ => QueryFigure::NotSupported("no timed run".into()),
                }
            }
        };
        figures.push((q.name, figure));
    }
    pb.finish_and_clear();
    for (name, f) in figures {
        report.query(system, name, f)?;
    }
    Ok(())
}

/// `SELECT count(usage_user) FROM cpu`: the number that must equal the lines written.
pub const COUNT_QUERY: &str = "SELECT count(usage_user) FROM cpu";

/// The count in an InfluxDB-style JSON answer to [`COUNT_QUERY`].
pub fn count_from_json(status: u16, body: &[u8]) -> Result<u64, String> {
    if let Some(e) = influx_answer_error(status, body) {
        return Err(e);
    }
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let v = &json["results"][0]["series"][0]["values"][0][1];
    v.as_u64()
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
        .ok_or_else(|| format!("no count in the answer: {}", String::from_utf8_lossy(body)))
}

/// Query over HTTP (InfluxDB 1.x API), timed from sending to the last byte of the answer.
pub fn influx_exec(client: &mut Client, influxql: &str) -> Result<(Duration, Answer), BenchError> {
    let path = format!("/query?db={DB}&epoch=ns&q={}", encode(influxql));
    let t = Instant::now();
    let r = client.get(&path)?;
    let took = t.elapsed();
    Ok((
        took,
        match influx_answer_error(r.status, &r.body) {
            Some(e) => Answer::Error(e),
            None => Answer::Ok {
                bytes: r.body.len(),
            },
        },
    ))
}

/// `CREATE DATABASE bench` over HTTP.
pub fn create_database(client: &mut Client, system: &str) -> Result<(), BenchError> {
    let r = client.post(
        &format!("/query?q={}", encode("CREATE DATABASE bench")),
        b"",
    )?;
    match influx_answer_error(r.status, &r.body) {
        None => Ok(()),
        Some(e) => Err(BenchError::Http(format!(
            "{system}: CREATE DATABASE bench: {e}"
        ))),
    }
}

/// One writer: POST each batch to `/write?db=bench` on its own keep-alive connection; anything
/// but 204 stops the run.
pub fn http_sink<'s>(target: Target, system: &'s str) -> Sink<'s> {
    let mut client = Client::new(target);
    let path = format!("/write?db={DB}");
    Box::new(move |text: &str| {
        let r = client.post(&path, text.as_bytes())?;
        if r.status == 204 {
            Ok(())
        } else {
            let body = r.text();
            Err(BenchError::Http(format!(
                "{system}: POST {path} answered {}: {}",
                r.status,
                &body[..body.len().min(500)]
            )))
        }
    })
}

/// strata embedded: `Db::write_lines` from W threads, `Db::query`, `Db::close`.
pub fn embedded(
    opts: &BenchOptions,
    data: &Dataset,
    dir: &Path,
    queries: &[BenchQuery],
    report: &mut Report<'_>,
) -> Result<(), BenchError> {
    let db = Db::open(dir, Config::new())?;
    db.create_database(DB)?;
    let sinks: Vec<Sink<'_>> = (0..opts.workers)
        .map(|_| {
            let db = &db;
            Box::new(move |text: &str| {
                db.write_lines(DB, text)?;
                Ok(())
            }) as Sink<'_>
        })
        .collect();
    let figures = ingest(opts, EMBEDDED, data, sinks)?;
    report.ingest(EMBEDDED, &figures)?;

    let count = match db.query(DB, COUNT_QUERY) {
        Err(e) => Err(e.to_string()),
        Ok(r) => match r.results.first() {
            Some(s) if s.error.is_some() => Err(s.error.clone().unwrap_or_default()),
            Some(s) => match s
                .series
                .first()
                .and_then(|x| x.values.first())
                .and_then(|row| row.get(1))
            {
                Some(Value::Integer(n)) if *n >= 0 => Ok(*n as u64),
                Some(Value::Unsigned(n)) => Ok(*n),
                other => Err(format!("no count in the answer ({other:?})")),
            },
            None => Err("empty answer".into()),
        },
    };
    report.verify(EMBEDDED, count, figures.lines)?;

    time_queries(opts, EMBEDDED, queries, report, &mut |q| {
        let t = Instant::now();
        let r = db.query(DB, &q.influxql);
        let took = t.elapsed();
        Ok(Some((
            took,
            match r {
                Err(e) => Answer::Error(e.to_string()),
                Ok(r) => match r.results.iter().find_map(|s| s.error.clone()) {
                    Some(e) => Answer::Error(e),
                    // The answer's size as the daemon would send it (rendered outside the timing).
                    None => Answer::Ok {
                        bytes: r.to_json_epoch(Epoch::Nanosecond).len(),
                    },
                },
            },
        )))
    })?;
    report.peak_rss(
        EMBEDDED,
        own_peak_rss_kb(),
        "VmHWM of the bench process, which includes the writers' batch buffers; the data set is in a file, not in memory",
    )?;
    let t = Instant::now();
    db.close()?;
    report.line(&format!(
        "{EMBEDDED}: close_seconds={:.3} (Db::close drains memtables to SSTables)",
        t.elapsed().as_secs_f64()
    ))?;
    let bytes = size(&[dir])?;
    report.disk(
        EMBEDDED,
        bytes,
        figures.points,
        "data dir after Db::close, apparent size as du -sb",
    )?;
    // Reopen, compact everything into C7, close again.
    let db = Db::open(dir, Config::new())?;
    let t = Instant::now();
    db.major_compact(DB)?;
    let took = t.elapsed().as_secs_f64();
    db.close()?;
    let bytes = size(&[dir])?;
    report.disk_compacted(
        EMBEDDED,
        bytes,
        figures.points,
        &format!("after reopen, Db::major_compact ({took:.2} s) and Db::close"),
    )
}

/// SIGTERM the daemon and wait for it (it drains memtables to SSTables); an unclean exit is an
/// error.
fn stop_daemon(server: Server) -> Result<(std::process::ExitStatus, Duration), BenchError> {
    let (status, took) = server.stop("TERM", Duration::from_secs(600))?;
    if !status.success() {
        return Err(BenchError::Server(format!(
            "{DAEMON}: exited with {status} after SIGTERM"
        )));
    }
    Ok((status, took))
}

/// strata daemon: `strata serve` as a child process, writes and queries over its Unix socket.
pub fn daemon(
    opts: &BenchOptions,
    dataset: &Dataset,
    dir: &Path,
    queries: &[BenchQuery],
    report: &mut Report<'_>,
) -> Result<(), BenchError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| BenchError::io(format!("create {}", dir.display()), e))?;
    let data = dir.join("data");
    let socket = dir.join("strata.sock");
    let serve = || {
        let mut cmd = Command::new(&opts.strata_exe);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&data)
            .arg("--socket")
            .arg(&socket)
            .env("STRATA_LOG", "warn");
        cmd
    };
    let mut server = Server::start(DAEMON, serve(), &dir.join("strata.log"))?;
    let target = Target::Unix(socket.clone());
    let mut client = Client::new(target.clone());
    server.wait_ready(&mut client, "/ping", 204)?;
    create_database(&mut client, DAEMON)?;
    report.line(&format!(
        "{DAEMON}: pid={} {} serve --data-dir {} --socket {}",
        server.pid(),
        opts.strata_exe.display(),
        data.display(),
        target
    ))?;

    let sinks = (0..opts.workers)
        .map(|_| http_sink(target.clone(), DAEMON))
        .collect();
    let figures = ingest(opts, DAEMON, dataset, sinks)
        .map_err(|e| server.failure(format!("ingest failed: {e}")))?;
    report.ingest(DAEMON, &figures)?;
    // Ingest alone (issue #6's memory target), before any query adds its working set.
    report.line(&match server.peak_rss_kb() {
        Some(kb) => {
            format!("{DAEMON}: ingest_peak_rss_kb={kb} (VmHWM after the load, before any query)")
        }
        None => format!("{DAEMON}: ingest_peak_rss_kb=unknown"),
    })?;

    let count = client
        .get(&format!("/query?db={DB}&q={}", encode(COUNT_QUERY)))
        .map_err(|e| server.failure(e))
        .map(|r| count_from_json(r.status, &r.body));
    report.verify(DAEMON, count?, figures.lines)?;

    time_queries(opts, DAEMON, queries, report, &mut |q| {
        influx_exec(&mut client, &q.influxql).map(Some)
    })
    .map_err(|e| server.failure(format!("query failed: {e}")))?;

    report.peak_rss(DAEMON, server.peak_rss_kb(), "VmHWM of the daemon process")?;
    drop(client);
    let (status, took) = stop_daemon(server)?;
    report.line(&format!(
        "{DAEMON}: sigterm exit={} shutdown_seconds={:.3} (SIGTERM drains memtables to SSTables)",
        status
            .code()
            .map_or_else(|| status.to_string(), |c| c.to_string()),
        took.as_secs_f64()
    ))?;
    let bytes = size(&[&data])?;
    report.disk(
        DAEMON,
        bytes,
        figures.points,
        "data dir after SIGTERM, apparent size as du -sb",
    )?;
    // Restart, compact everything into C7, stop again.
    let mut server = Server::start(DAEMON, serve(), &dir.join("strata-compact.log"))?;
    let mut client = Client::new(target);
    server.wait_ready(&mut client, "/ping", 204)?;
    let t = Instant::now();
    let r = client
        .post(&format!("/internal/compact?db={DB}"), b"")
        .map_err(|e| server.failure(e))?;
    let took = t.elapsed().as_secs_f64();
    if r.status != 204 {
        return Err(server.failure(format!(
            "/internal/compact answered {}: {}",
            r.status,
            r.text()
        )));
    }
    drop(client);
    stop_daemon(server)?;
    let bytes = size(&[&data])?;
    report.disk_compacted(
        DAEMON,
        bytes,
        figures.points,
        &format!("after restart, POST /internal/compact ({took:.2} s) and SIGTERM"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bench::tsbs::TsbsSpec;
    use crate::bench::Phases;
    use std::sync::Mutex;

    fn options(spec: TsbsSpec, workers: usize, batch_lines: usize) -> BenchOptions {
        BenchOptions {
            spec,
            workers,
            batch_lines,
            query_runs: 1,
            phases: Phases::Both,
            peers: false,
            data_dir: None,
            keep: false,
            strata_exe: std::path::PathBuf::new(),
            progress: false,
        }
    }

    #[test]
    fn ingest_sends_every_pregenerated_batch_once() {
        let dir = tempfile::tempdir().unwrap();
        let opts = options(TsbsSpec::new(3, 0.5), 3, 7);
        let data = generate(&opts, &dir.path().join("data.lp")).unwrap();
        assert_eq!(data.file.lines(), opts.spec.lines());
        let got = Mutex::new(Vec::new());
        let sinks: Vec<Sink<'_>> = (0..opts.workers)
            .map(|_| {
                let got = &got;
                Box::new(move |text: &str| {
                    got.lock().unwrap().push(text.to_string());
                    Ok(())
                }) as Sink<'_>
            })
            .collect();
        let f = ingest(&opts, "test", &data, sinks).unwrap();
        assert_eq!(f.lines, opts.spec.lines());
        assert_eq!(f.points, opts.spec.points());
        assert_eq!(f.generator_seconds, data.generator_seconds);
        assert!(f.seconds > 0.0 && f.read_seconds <= f.seconds * opts.workers as f64);
        // Each batch exactly once: the writers race for batches, not for lines.
        let mut got = got.into_inner().unwrap();
        let mut want: Vec<String> = opts.spec.batches(7).map(|b| b.text).collect();
        got.sort();
        want.sort();
        assert_eq!(got, want);
    }

    #[test]
    fn a_failing_writer_stops_the_load() {
        let dir = tempfile::tempdir().unwrap();
        let opts = options(TsbsSpec::new(2, 0.5), 2, 5);
        let data = generate(&opts, &dir.path().join("data.lp")).unwrap();
        let sinks: Vec<Sink<'_>> = (0..opts.workers)
            .map(|_| Box::new(|_: &str| Err(BenchError::Http("nope".into()))) as Sink<'_>)
            .collect();
        match ingest(&opts, "test", &data, sinks) {
            Err(BenchError::Http(e)) => assert_eq!(e, "nope"),
            Err(e) => panic!("unexpected error {e}"),
            Ok(f) => panic!("a failed load succeeded: {f:?}"),
        }
    }

    #[test]
    fn counts_from_json() {
        let ok = br#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","count"],"values":[[0,720]]}]}]}"#;
        assert_eq!(count_from_json(200, ok), Ok(720));
        assert!(count_from_json(200, br#"{"results":[{"statement_id":0}]}"#).is_err());
        assert_eq!(
            count_from_json(200, br#"{"results":[{"statement_id":0,"error":"nope"}]}"#),
            Err("nope".into())
        );
    }
}
