//! Scenario: `query_parallelism` through the daemon's HTTP API. With two workers
//! (`max_concurrent_queries` 2) and `query_parallelism` 2, one SELECT is split into two pool
//! tasks that occupy both workers, so a second query stays `queued` in `SHOW QUERIES` while the
//! first runs (the testing aid `STRATA_TEST_QUERY_DELAY_MS` holds every task); with
//! `query_parallelism` 1 the same second query runs beside it. The split answer equals the
//! unsplit one.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::Path;
use std::time::{Duration, Instant};

const A: &str = "SELECT count(v), sum(v), max(v) FROM m, n GROUP BY host";
const B: &str = "SELECT count(v) FROM m";
const QUERIES: &[&str] = &[
    A,
    "SELECT mean(v) FROM m GROUP BY host ORDER BY time DESC SLIMIT 3 SOFFSET 1",
    "SELECT v FROM m WHERE host =~ /h[12]/ GROUP BY * LIMIT 2",
    "SELECT median(v) FROM m, n WHERE time < 300s GROUP BY time(100s), host fill(none)",
    // One (measurement, group) unit, split by series: every accumulator that merges exactly.
    "SELECT max(v), min(v), count(v), first(v), last(v), spread(v), median(v), mode(v), \
     percentile(v, 90), count(distinct(v)) FROM m WHERE time < 290s GROUP BY time(50s) fill(none)",
    "SELECT max(v), integral(v) FROM m WHERE time < 300s GROUP BY time(100s)",
    "SELECT top(v, host, 3) FROM m",
    "SELECT bottom(v, 4) FROM m WHERE time >= 10s",
    "SELECT distinct(v) FROM m WHERE time < 120s GROUP BY time(60s)",
    "SELECT last(v), host FROM m WHERE v > 3",
    "SELECT max(v) FROM m ORDER BY time DESC",
    "SELECT first(v) FROM m WHERE time < 300s GROUP BY time(30s) ORDER BY time DESC LIMIT 4 OFFSET 2",
];

fn load(sock: &Path) {
    assert_eq!(query(sock, "", "CREATE DATABASE p").status, 200);
    let mut lines = String::new();
    for t in 0..300i64 {
        for h in 0..6 {
            lines.push_str(&format!(
                "m,host=h{h} v={} {}\n",
                (t * h) % 17,
                t * 1_000_000_000
            ));
            lines.push_str(&format!("n,host=h{h} v={} {}\n", t % 5, t * 1_000_000_000));
        }
    }
    assert_eq!(write(sock, "p", &lines).status, 204);
}

fn status(sock: &Path, q: &str) -> Option<String> {
    listed(sock, q).map(|r| r[4].as_str().unwrap().to_string())
}

/// Start A, wait until it runs, start B; return B's status over A's running time.
fn second_query_while_first_runs(sock: &Path) -> Vec<String> {
    let (s1, s2) = (sock.to_path_buf(), sock.to_path_buf());
    let a = std::thread::spawn(move || query_json(&s1, "p", A));
    wait_until("A running", || {
        status(sock, A).as_deref() == Some("running")
    });
    let started = Instant::now();
    let b = std::thread::spawn(move || query_json(&s2, "p", B));
    wait_until("B listed", || status(sock, B).is_some());
    let mut seen = Vec::new();
    // A holds its workers for 3 s from its start: sample B for 1.5 s of it.
    while started.elapsed() < Duration::from_millis(1500) {
        if let Some(s) = status(sock, B) {
            seen.push(s);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let (va, vb) = (a.join().unwrap(), b.join().unwrap());
    assert_eq!(
        va["results"][0]["series"].as_array().unwrap().len(),
        12,
        "{va}"
    );
    assert_eq!(vb["results"][0]["series"][0]["values"][0][1], 1800, "{vb}");
    seen
}

#[test]
fn one_query_occupies_query_parallelism_workers() {
    let delay = [("STRATA_TEST_QUERY_DELAY_MS", "3000")];
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start_with_env(
        &dir.path().join("data"),
        &sock,
        &["--max-concurrent-queries", "2", "--query-parallelism", "2"],
        &delay,
    );
    load(&sock);
    let seen = second_query_while_first_runs(&sock);
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|s| s == "queued"), "B must wait: {seen:?}");
    drop(d);

    let dir1 = tempfile::tempdir().unwrap();
    let sock1 = dir1.path().join("s.sock");
    let _d1 = Daemon::start_with_env(
        &dir1.path().join("data"),
        &sock1,
        &["--max-concurrent-queries", "2"],
        &[
            ("STRATA_TEST_QUERY_DELAY_MS", "3000"),
            ("STRATA_QUERY_PARALLELISM", "1"),
        ],
    );
    load(&sock1);
    let seen = second_query_while_first_runs(&sock1);
    assert!(
        seen.iter().any(|s| s == "running"),
        "B runs beside A: {seen:?}"
    );
}

#[test]
fn split_answers_equal_unsplit_answers() {
    let dirs = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let mut answers = Vec::new();
    for (dir, par) in dirs.iter().zip(["1", "4"]) {
        let sock = dir.path().join("s.sock");
        let _d = Daemon::start(
            &dir.path().join("data"),
            &sock,
            &["--query-parallelism", par],
        );
        load(&sock);
        answers.push(
            QUERIES
                .iter()
                .map(|q| query(&sock, "p", q).body)
                .collect::<Vec<_>>(),
        );
    }
    for (q, (one, four)) in QUERIES.iter().zip(answers[0].iter().zip(&answers[1])) {
        assert!(!one.contains("error"), "{q}: {one}");
        assert_eq!(one, four, "{q}");
    }
}
