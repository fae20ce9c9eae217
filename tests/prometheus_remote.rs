//! Scenario: Prometheus remote write and read against `strata serve`, as against InfluxDB 1.x's
//! `/api/v1/prom/write` and `/api/v1/prom/read`.
//!
//! - A real Prometheus (Debian package `prometheus`) scrapes itself every second and remote
//!   writes to strata over TCP; its `up` and `prometheus_build_info` series arrive as
//!   measurements, labels as tags (`__name__` too), values in the field `value`, and agree with
//!   what Prometheus itself answers. It also remote reads from strata: a metric only strata
//!   holds is answered by Prometheus' own query API. If `prometheus` is missing the test fails
//!   with the install command (it never skips).
//! - Hand-made remote reads: matchers on the name and on labels (regexes anchored), labels and
//!   samples back in milliseconds, a bad regex a 400; an answer is charged to one
//!   `query_memory_limit` across the request's queries as it is made (past it, a 400).
//! - Hand-made requests through the Unix socket: NaN samples are dropped as 1.x drops them,
//!   an infinity is refused by series and sample while the rest is written, a body that is not a
//!   remote write is a 400, one decompressing past `max_body_bytes` a 413 (decided from the
//!   snappy header, before decompressing), a missing database a 404.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use prost::Message as _;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use strata::ingest::prometheus::{TimeSeries, WriteRequest};
use strata::query::prometheus_read::{LabelMatcher, MatchType, Query, ReadRequest, ReadResponse};

const PROMETHEUS: &str = "/usr/bin/prometheus";

struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(sock: &Path, path: &str, body: &[u8]) -> Answer {
    request_with(
        sock,
        "POST",
        path,
        &[
            ("Content-Encoding", "snappy"),
            ("Content-Type", "application/x-protobuf"),
        ],
        body,
    )
}

fn snappy_protobuf(request: &WriteRequest) -> Vec<u8> {
    snap::raw::Encoder::new()
        .compress_vec(&request.encode_to_vec())
        .unwrap()
}

fn values(sock: &Path, q: &str) -> serde_json::Value {
    query_json(sock, "prom", q)["results"][0]["series"][0]["values"].clone()
}

#[test]
fn hand_made_remote_writes_are_written_as_1x_writes_them() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let _d = Daemon::start(
        &dir.path().join("data"),
        &sock,
        &["--max-body-bytes", "100000"],
    );
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+prom", b"").status,
        200
    );
    let t = 1_700_000_000_000i64;
    let body = snappy_protobuf(&WriteRequest {
        timeseries: vec![
            TimeSeries::new(
                &[("__name__", "http_requests_total"), ("code", "200")],
                &[(3.0, t), (f64::NAN, t + 1000), (5.0, t + 2000)],
            ),
            TimeSeries::new(&[("job", "x")], &[(1.5, t), (f64::INFINITY, t + 1000)]),
        ],
    });
    let a = post(&sock, "/api/v1/prom/write?db=prom", &body);
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(
        a.body.contains("series 1, sample 1: inf is not a value"),
        "{}",
        a.body
    );
    assert!(a.body.contains("dropped=1"), "{}", a.body);
    // The good samples were written; the NaN dropped without a word, as 1.x does.
    assert_eq!(
        values(
            &sock,
            "SELECT value, code, __name__ FROM http_requests_total"
        ),
        serde_json::json!([
            [t * 1_000_000, 3, "200", "http_requests_total"],
            [(t + 2000) * 1_000_000, 5, "200", "http_requests_total"]
        ])
    );
    assert_eq!(
        values(&sock, "SELECT value FROM prom_metric_not_specified"),
        serde_json::json!([[t * 1_000_000, 1.5]])
    );
    // A request of only good samples: 204.
    let body = snappy_protobuf(&WriteRequest {
        timeseries: vec![TimeSeries::new(&[("__name__", "g")], &[(0.25, t)])],
    });
    let a = post(&sock, "/api/v1/prom/write?db=prom", &body);
    assert_eq!(a.status, 204, "{}", a.body);

    // Bodies refused whole.
    let a = post(&sock, "/api/v1/prom/write?db=prom", b"g value=1");
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(
        a.body.contains("snappy") || a.body.contains("WriteRequest"),
        "{}",
        a.body
    );
    let bomb = snap::raw::Encoder::new()
        .compress_vec(&vec![0u8; 1 << 20])
        .unwrap();
    assert!(bomb.len() < 100_000);
    let a = post(&sock, "/api/v1/prom/write?db=prom", &bomb);
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.body.contains("max_body_bytes"), "{}", a.body);
    let a = post(&sock, "/api/v1/prom/write?db=nope", &body);
    assert_eq!(a.status, 404, "{}", a.body);
    assert!(
        a.body.contains("database not found: \\\"nope\\\""),
        "{}",
        a.body
    );
    let a = post(&sock, "/api/v1/prom/write", &body);
    assert_eq!(a.status, 400, "{}", a.body);
    let a = request(&sock, "GET", "/api/v1/prom/write?db=prom", b"");
    assert_eq!(a.status, 405, "{}", a.body);
}

/// A series as (labels, samples as (value, milliseconds)).
type SeriesShape = (Vec<(String, String)>, Vec<(f64, i64)>);

fn read(sock: &Path, db: &str, queries: Vec<Query>) -> Answer {
    let body = snap::raw::Encoder::new()
        .compress_vec(&ReadRequest { queries }.encode_to_vec())
        .unwrap();
    post(sock, &format!("/api/v1/prom/read?db={db}"), &body)
}

fn matcher(kind: MatchType, name: &str, value: &str) -> LabelMatcher {
    LabelMatcher {
        r#type: kind as i32,
        name: name.into(),
        value: value.into(),
    }
}

#[test]
fn hand_made_remote_reads_answer_what_was_written() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let _d = Daemon::start(&dir.path().join("data"), &sock, &[]);
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+prom", b"").status,
        200
    );
    let t = 1_700_000_000_000i64;
    let body = snappy_protobuf(&WriteRequest {
        timeseries: vec![
            TimeSeries::new(
                &[("__name__", "up"), ("job", "api"), ("instance", "a:1")],
                &[(1.0, t), (0.0, t + 15_000)],
            ),
            TimeSeries::new(&[("__name__", "up"), ("job", "web")], &[(1.0, t)]),
            TimeSeries::new(&[("__name__", "up_time"), ("job", "api")], &[(42.0, t)]),
        ],
    });
    assert_eq!(post(&sock, "/api/v1/prom/write?db=prom", &body).status, 204);

    let range = |matchers| Query {
        start_timestamp_ms: t,
        end_timestamp_ms: t + 15_000,
        matchers,
    };
    let a = read(
        &sock,
        "prom",
        vec![
            range(vec![
                matcher(MatchType::Eq, "__name__", "up"),
                matcher(MatchType::Re, "job", "ap"),
            ]),
            range(vec![
                matcher(MatchType::Re, "__name__", "up"),
                matcher(MatchType::Re, "job", "api|web"),
            ]),
            range(vec![matcher(MatchType::Neq, "__name__", "up")]),
        ],
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let answer = ReadResponse::decode(
        snap::raw::Decoder::new()
            .decompress_vec(&a.bytes)
            .unwrap()
            .as_slice(),
    )
    .unwrap();
    let shape = |result: usize| -> Vec<SeriesShape> {
        answer.results[result]
            .timeseries
            .iter()
            .map(|ts| {
                (
                    ts.labels
                        .iter()
                        .map(|l| (l.name.clone(), l.value.clone()))
                        .collect(),
                    ts.samples.iter().map(|s| (s.value, s.timestamp)).collect(),
                )
            })
            .collect()
    };
    let labels = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(answer.results.len(), 3);
    // `job =~ "ap"` is anchored: it matches no job.
    assert_eq!(shape(0), vec![]);
    assert_eq!(
        shape(1),
        vec![
            (
                labels(&[("__name__", "up"), ("instance", "a:1"), ("job", "api")]),
                vec![(1.0, t), (0.0, t + 15_000)]
            ),
            (
                labels(&[("__name__", "up"), ("job", "web")]),
                vec![(1.0, t)]
            ),
        ]
    );
    assert_eq!(
        shape(2),
        vec![(
            labels(&[("__name__", "up_time"), ("job", "api")]),
            vec![(42.0, t)]
        )]
    );
    // A bad regex is the client's error; a missing database a 404.
    let a = read(
        &sock,
        "prom",
        vec![range(vec![matcher(MatchType::Re, "job", "(")])],
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("not a regex"), "{}", a.body);
    let a = read(&sock, "nope", vec![range(vec![])]);
    assert_eq!(a.status, 404, "{}", a.body);
}

/// A remote read's answer is charged to one `query_memory_limit` across all its queries, before
/// it is made: queries each well under the limit, repeated until their answers together pass
/// it, are refused with a 400 naming the limit, while one of them alone is answered.
#[test]
fn a_remote_read_answer_is_bounded_by_query_memory_limit_across_its_queries() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let limit = 512 << 10;
    let _d = Daemon::start(
        &dir.path().join("data"),
        &sock,
        &["--query-memory-limit", &limit.to_string()],
    );
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+prom", b"").status,
        200
    );
    let t = 1_700_000_000_000i64;
    let samples: Vec<(f64, i64)> = (0..1000).map(|i| (i as f64, t + i * 1000)).collect();
    let body = snappy_protobuf(&WriteRequest {
        timeseries: vec![TimeSeries::new(
            &[("__name__", "load"), ("host", "a")],
            &samples,
        )],
    });
    assert_eq!(post(&sock, "/api/v1/prom/write?db=prom", &body).status, 204);
    let query = || Query {
        start_timestamp_ms: t,
        end_timestamp_ms: t + 1_000_000,
        matchers: vec![matcher(MatchType::Eq, "__name__", "load")],
    };
    let decoded = |a: &Answer| {
        ReadResponse::decode(
            snap::raw::Decoder::new()
                .decompress_vec(&a.bytes)
                .unwrap()
                .as_slice(),
        )
        .unwrap()
    };
    // One query, and a few: answered in full.
    for n in [1, 4] {
        let a = read(&sock, "prom", (0..n).map(|_| query()).collect());
        assert_eq!(a.status, 200, "{n} queries: {}", a.body);
        let answer = decoded(&a);
        assert_eq!(answer.results.len(), n);
        assert!(answer
            .results
            .iter()
            .all(|r| r.timeseries.len() == 1 && r.timeseries[0].samples.len() == 1000));
    }
    // 40 of them: 16 KB of samples each, 640 KB in all, past the 512 KiB the request may hold.
    let a = read(&sock, "prom", (0..40).map(|_| query()).collect());
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("query_memory_limit exceeded"), "{}", a.body);
    // Charged as it is made, query by query: refused at the query whose series pass the limit
    // (holding the earlier ones' and asking for one query's 16 KB), not once everything was made.
    let number_after = |text: &str| -> u64 {
        let rest = &a.body[a.body.find(text).unwrap() + text.len()..];
        rest.split(' ').next().unwrap().parse().unwrap()
    };
    let (held, wanted) = (number_after("holds "), number_after("needs "));
    assert!(held > limit / 2 && wanted < 64 << 10, "{}", a.body);
    // The daemon answers on.
    assert_eq!(read(&sock, "prom", vec![query()]).status, 200);
}

#[test]
fn a_real_prometheus_remote_writes_its_metrics_and_reads_back_strata_s() {
    assert!(
        Path::new(PROMETHEUS).exists(),
        "{PROMETHEUS} is missing: this test needs a real Prometheus. Install it with \
         `sudo apt-get install -y prometheus` (scripts/test.sh does it)"
    );
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let strata_port = free_port();
    let _d = Daemon::start(
        &dir.path().join("data"),
        &sock,
        &["--tcp", &format!("127.0.0.1:{strata_port}")],
    );
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+prom", b"").status,
        200
    );
    // A metric only strata holds, for Prometheus to read back.
    let now_ms = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis(),
    )
    .unwrap();
    let body = snappy_protobuf(&WriteRequest {
        timeseries: vec![TimeSeries::new(
            &[("__name__", "strata_only_metric"), ("source", "strata")],
            &[(41.5, now_ms - 20_000), (42.5, now_ms - 10_000)],
        )],
    });
    assert_eq!(post(&sock, "/api/v1/prom/write?db=prom", &body).status, 204);
    let prom_port = free_port();
    let config = dir.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
             scrape_configs:\n  - job_name: self\n    static_configs:\n      \
             - targets: ['127.0.0.1:{prom_port}']\n\
             remote_write:\n  - url: http://127.0.0.1:{strata_port}/api/v1/prom/write?db=prom\n    \
             queue_config:\n      batch_send_deadline: 1s\n      min_backoff: 100ms\n\
             remote_read:\n  - url: http://127.0.0.1:{strata_port}/api/v1/prom/read?db=prom\n    \
             read_recent: true\n"
        ),
    )
    .unwrap();
    let log = std::fs::File::create(dir.path().join("prometheus.log")).unwrap();
    let _prometheus = Prometheus(
        Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("tsdb").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{prom_port}"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {PROMETHEUS}: {e}")),
    );

    // Its scrapes of itself arrive within seconds.
    let deadline = Instant::now() + Duration::from_secs(60);
    let up = loop {
        let v = values(
            &sock,
            "SELECT last(value), job, instance FROM up WHERE job = 'self'",
        );
        if v.is_array() {
            break v;
        }
        assert!(
            Instant::now() < deadline,
            "no `up` from Prometheus in 60 s; its log: {}",
            std::fs::read_to_string(dir.path().join("prometheus.log"))
                .unwrap_or_default()
                .lines()
                .rev()
                .take(20)
                .collect::<Vec<_>>()
                .join("\n")
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    assert_eq!(up[0][1], 1, "{up}");
    assert_eq!(up[0][2], "self");
    assert_eq!(up[0][3], format!("127.0.0.1:{prom_port}"));
    // Labels are tags, `__name__` among them, as 1.x writes them.
    let keys = query_json(&sock, "prom", "SHOW TAG KEYS FROM prometheus_build_info");
    let keys = keys["results"][0]["series"][0]["values"].to_string();
    for k in ["__name__", "instance", "job", "version", "goversion"] {
        assert!(keys.contains(&format!("\"{k}\"")), "{k} in {keys}");
    }
    // The build info agrees with what Prometheus itself answers.
    let answer = Command::new("curl")
        .args([
            "-s",
            &format!("http://127.0.0.1:{prom_port}/api/v1/query?query=prometheus_build_info"),
        ])
        .output()
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer.stdout).unwrap();
    let version = answer["data"]["result"][0]["metric"]["version"]
        .as_str()
        .unwrap()
        .to_string();
    let ours = values(
        &sock,
        "SELECT last(value), version FROM prometheus_build_info",
    );
    assert_eq!(ours[0][1], 1, "{ours}");
    assert_eq!(ours[0][2], version.as_str(), "{ours}");
    // Prometheus reads back from strata what only strata holds: its own query API answers it.
    let answer = Command::new("curl")
        .args([
            "-s",
            &format!("http://127.0.0.1:{prom_port}/api/v1/query?query=strata_only_metric"),
        ])
        .output()
        .unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&answer.stdout).unwrap();
    let result = &answer["data"]["result"][0];
    assert_eq!(result["metric"]["source"], "strata", "{answer}");
    assert_eq!(
        result["metric"]["__name__"], "strata_only_metric",
        "{answer}"
    );
    assert_eq!(result["value"][1], "42.5", "{answer}");
    // The series Prometheus makes for each scrape arrive too, one point a scrape.
    let n = values(
        &sock,
        "SELECT count(value), last(value) FROM scrape_samples_scraped WHERE job = 'self'",
    );
    assert!(n[0][1].as_i64().unwrap_or(0) >= 1, "{n}");
    assert!(
        n[0][2].as_f64().unwrap_or(0.0) > 100.0,
        "a scrape of Prometheus: {n}"
    );
}
