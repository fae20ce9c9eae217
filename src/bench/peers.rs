//! The peers of `--peers`: InfluxDB 1.x (`influxd`, Debian package `influxdb`) and
//! VictoriaMetrics (`victoria-metrics`, Debian package `victoria-metrics`) on loopback, in the
//! run's directory, configured as `../shared/bench/peers.sh` configures them (on free ports
//! instead of its fixed ones), loaded over HTTP with the same data, workers and batches as
//! strata, and stopped gracefully (SIGINT) before their data directories are measured.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use super::http::{prom_answer_error, Client, Target};
use super::phases::{
    count_from_json, create_database, http_sink, influx_exec, ingest, time_queries, Answer,
    Dataset, COUNT_QUERY, DB,
};
use super::process::{find_program, Server};
use super::queries::{encode, BenchQuery};
use super::report::{Report, INFLUXDB, VICTORIAMETRICS};
use super::stats::size;
use super::{BenchError, BenchOptions};

/// The peers' executables.
#[derive(Clone, Debug)]
pub struct PeerBinaries {
    pub influxd: PathBuf,
    pub victoria_metrics: PathBuf,
}

impl PeerBinaries {
    /// Find both on `PATH`, or fail naming the Debian package to install.
    pub fn find() -> Result<PeerBinaries, BenchError> {
        let influxd = find_program("influxd").ok_or(BenchError::PeerMissing {
            binary: "influxd",
            package: "influxdb",
        })?;
        let victoria_metrics = find_program("victoria-metrics").ok_or(BenchError::PeerMissing {
            binary: "victoria-metrics",
            package: "victoria-metrics",
        })?;
        Ok(PeerBinaries {
            influxd,
            victoria_metrics,
        })
    }
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16, BenchError> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| BenchError::io("find a free TCP port on 127.0.0.1", e))?;
    l.local_addr()
        .map(|a| a.port())
        .map_err(|e| BenchError::io("find a free TCP port on 127.0.0.1", e))
}

fn mkdir(p: &Path) -> Result<(), BenchError> {
    std::fs::create_dir_all(p).map_err(|e| BenchError::io(format!("create {}", p.display()), e))
}

/// The configuration `peers.sh` writes, with the given directory and ports.
pub fn influx_config(dir: &Path, http_port: u16, rpc_port: u16) -> String {
    let d = dir.display();
    format!(
        r#"reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"
[meta]
  dir = "{d}/meta"
[data]
  dir = "{d}/data"
  wal-dir = "{d}/wal"
  query-log-enabled = false
[http]
  bind-address = "127.0.0.1:{http_port}"
  log-enabled = false
  max-body-size = 0
[monitor]
  store-enabled = false
[continuous_queries]
  enabled = false
"#
    )
}

fn stop(server: Server, report: &mut Report<'_>, system: &'static str) -> Result<(), BenchError> {
    let (status, took) = server.stop("INT", Duration::from_secs(600))?;
    report.line(&format!(
        "{system}: sigint exit={} shutdown_seconds={:.3}",
        status
            .code()
            .map_or_else(|| status.to_string(), |c| c.to_string()),
        took.as_secs_f64()
    ))
}

/// InfluxDB 1.x: load, count, the InfluxQL queries, peak RSS, SIGINT, size of data + wal.
pub fn influxdb(
    opts: &BenchOptions,
    data: &Dataset,
    bins: &PeerBinaries,
    dir: &Path,
    queries: &[BenchQuery],
    report: &mut Report<'_>,
) -> Result<(), BenchError> {
    mkdir(dir)?;
    let (http_port, rpc_port) = (free_port()?, free_port()?);
    let conf = dir.join("influx.conf");
    std::fs::write(&conf, influx_config(dir, http_port, rpc_port))
        .map_err(|e| BenchError::io(format!("write {}", conf.display()), e))?;
    let mut cmd = Command::new(&bins.influxd);
    cmd.arg("-config").arg(&conf);
    let mut server = Server::start(INFLUXDB, cmd, &dir.join("influxd.log"))?;
    let target = Target::Tcp(format!("127.0.0.1:{http_port}"));
    let mut client = Client::new(target.clone());
    server.wait_ready(&mut client, "/ping", 204)?;
    create_database(&mut client, INFLUXDB)?;
    report.line(&format!(
        "{INFLUXDB}: pid={} {} -config {} ({target})",
        server.pid(),
        bins.influxd.display(),
        conf.display()
    ))?;

    let sinks = (0..opts.workers)
        .map(|_| http_sink(target.clone(), INFLUXDB))
        .collect();
    let figures = ingest(opts, INFLUXDB, data, sinks)
        .map_err(|e| server.failure(format!("ingest failed: {e}")))?;
    report.ingest(INFLUXDB, &figures)?;
    let r = client.get(&format!("/query?db={DB}&q={}", encode(COUNT_QUERY)))?;
    report.verify(INFLUXDB, count_from_json(r.status, &r.body), figures.lines)?;

    time_queries(opts, INFLUXDB, queries, report, &mut |q| {
        influx_exec(&mut client, &q.influxql).map(Some)
    })
    .map_err(|e| server.failure(format!("query failed: {e}")))?;
    report.peak_rss(INFLUXDB, server.peak_rss_kb(), "VmHWM of influxd")?;
    drop(client);
    stop(server, report, INFLUXDB)?;
    let bytes = size(&[dir.join("data"), dir.join("wal")])?;
    report.disk(
        INFLUXDB,
        bytes,
        figures.points,
        "data + wal dirs after SIGINT, as peers.sh",
    )
}

/// The sum of a Prometheus-API vector answer's first sample (`sum(count_over_time(…))`).
pub fn prom_scalar(status: u16, body: &[u8]) -> Result<u64, String> {
    if let Some(e) = prom_answer_error(status, body) {
        return Err(e);
    }
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let v = &json["data"]["result"][0]["value"][1];
    v.as_str()
        .and_then(|s| s.parse::<f64>().ok())
        .map(|f| f as u64)
        .ok_or_else(|| format!("no value in the answer: {}", String::from_utf8_lossy(body)))
}

/// VictoriaMetrics: load, `/internal/force_flush` (the "until flushed" rate), count, the PromQL
/// queries, peak RSS, SIGINT, size of its storage directory.
pub fn victoriametrics(
    opts: &BenchOptions,
    data: &Dataset,
    bins: &PeerBinaries,
    dir: &Path,
    queries: &[BenchQuery],
    report: &mut Report<'_>,
) -> Result<(), BenchError> {
    mkdir(dir)?;
    let storage = dir.join("vm");
    let port = free_port()?;
    let vm = |port: u16| {
        let mut cmd = Command::new(&bins.victoria_metrics);
        cmd.arg(format!("-storageDataPath={}", storage.display()))
            .arg(format!("-httpListenAddr=127.0.0.1:{port}"))
            .arg("-retentionPeriod=100y")
            .arg("-search.disableCache")
            .arg("-search.latencyOffset=0s");
        cmd
    };
    let mut server = Server::start(VICTORIAMETRICS, vm(port), &dir.join("victoria-metrics.log"))?;
    let target = Target::Tcp(format!("127.0.0.1:{port}"));
    let mut client = Client::new(target.clone());
    server.wait_ready(&mut client, "/health", 200)?;
    report.line(&format!(
        "{VICTORIAMETRICS}: pid={} {} -storageDataPath={} ({target})",
        server.pid(),
        bins.victoria_metrics.display(),
        storage.display()
    ))?;

    let sinks = (0..opts.workers)
        .map(|_| http_sink(target.clone(), VICTORIAMETRICS))
        .collect();
    let figures = ingest(opts, VICTORIAMETRICS, data, sinks)
        .map_err(|e| server.failure(format!("ingest failed: {e}")))?;
    let t = Instant::now();
    let r = client.get("/internal/force_flush")?;
    let flush = t.elapsed().as_secs_f64();
    if r.status / 100 != 2 {
        return Err(server.failure(format!(
            "/internal/force_flush answered {}: {}",
            r.status,
            r.text()
        )));
    }
    report.ingest(VICTORIAMETRICS, &figures)?;
    report.until_flushed(VICTORIAMETRICS, figures.points, figures.seconds + flush)?;

    // Every sample of usage_user: the window (last - span, last] holds all of them.
    let spec = &opts.spec;
    let last = spec.end_s() - spec.interval_s;
    let span = spec.end_s() - spec.start_s;
    let count_q = format!("sum(count_over_time(cpu_usage_user[{span}s]))");
    let r = client.get(&format!(
        "/api/v1/query?time={last}&query={}",
        encode(&count_q)
    ))?;
    report.verify(
        VICTORIAMETRICS,
        prom_scalar(r.status, &r.body),
        figures.lines,
    )?;

    time_queries(opts, VICTORIAMETRICS, queries, report, &mut |q| {
        let Some(p) = &q.promql else { return Ok(None) };
        let path = p.path();
        let t = Instant::now();
        let r = client.get(&path)?;
        let took = t.elapsed();
        Ok(Some((
            took,
            match prom_answer_error(r.status, &r.body) {
                Some(e) => Answer::Error(e),
                None => Answer::Ok {
                    bytes: r.body.len(),
                },
            },
        )))
    })
    .map_err(|e| server.failure(format!("query failed: {e}")))?;
    report.peak_rss(
        VICTORIAMETRICS,
        server.peak_rss_kb(),
        "VmHWM of victoria-metrics",
    )?;
    drop(client);
    stop(server, report, VICTORIAMETRICS)?;
    let bytes = size(std::slice::from_ref(&storage))?;
    report.disk(
        VICTORIAMETRICS,
        bytes,
        figures.points,
        "storage dir after force_flush + SIGINT, as peers.sh",
    )?;
    // Restart, force-merge every partition (in VictoriaMetrics' background: done when its log
    // says so), stop again.
    let port = free_port()?;
    let log = dir.join("victoria-metrics-merge.log");
    let mut server = Server::start(VICTORIAMETRICS, vm(port), &log)?;
    let mut client = Client::new(Target::Tcp(format!("127.0.0.1:{port}")));
    server.wait_ready(&mut client, "/health", 200)?;
    let t = Instant::now();
    let r = client.get("/internal/force_merge")?;
    if r.status / 100 != 2 {
        return Err(server.failure(format!(
            "/internal/force_merge answered {}: {}",
            r.status,
            r.text()
        )));
    }
    let deadline = t + Duration::from_secs(600);
    loop {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        if text.contains("error in forced merge") {
            return Err(server.failure(format!("forced merge failed: see {}", log.display())));
        }
        if text.contains("has been successfully finished") {
            break;
        }
        if Instant::now() > deadline {
            return Err(server.failure("forced merge did not finish within 600 s"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let took = t.elapsed().as_secs_f64();
    drop(client);
    stop(server, report, VICTORIAMETRICS)?;
    let bytes = size(&[storage])?;
    report.disk_compacted(
        VICTORIAMETRICS,
        bytes,
        figures.points,
        &format!("after restart, /internal/force_merge ({took:.2} s) and SIGINT"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn influx_config_is_peers_sh_with_ports() {
        let c = influx_config(Path::new("/x"), 1234, 5678);
        assert!(c.contains("bind-address = \"127.0.0.1:5678\""));
        assert!(c.contains("  bind-address = \"127.0.0.1:1234\""));
        assert!(c.contains("dir = \"/x/meta\""));
        assert!(c.contains("wal-dir = \"/x/wal\""));
        assert!(c.contains("max-body-size = 0"));
    }

    #[test]
    fn prom_scalars() {
        assert_eq!(
            prom_scalar(
                200,
                br#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700003590,"720"]}]}}"#
            ),
            Ok(720)
        );
        assert!(prom_scalar(200, br#"{"status":"success","data":{"result":[]}}"#).is_err());
    }
}
