//! Scenario: query admission through the daemon's HTTP API. With `max_concurrent_queries` = 1
//! and `query_queue_depth` = 1 (set through `STRATA_*` variables), one query runs, the next
//! waits in the queue and the third gets 503; `SHOW QUERIES` lists them (running / queued) in
//! InfluxDB 1.x's shape; `KILL QUERY` stops the running one (its client gets 1.x's "query
//! interrupted"), its permit comes back and the queued query runs and succeeds. With
//! `--max-concurrent-queries 2` (and `--query-parallelism 1`) two queries run at once.
//!
//! Queries are held deterministically by the testing aid `STRATA_TEST_QUERY_DELAY_MS`: every
//! query with a SELECT waits that long (10 minutes here, so only a kill, a disconnect or a
//! deadline ends it), checking its cancel token; other statements run at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;

const HOLD: &str = "600000"; // ms: longer than any test; only a kill or a disconnect ends it

fn start(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
    let mut env = env.to_vec();
    env.push(("STRATA_TEST_QUERY_DELAY_MS", HOLD));
    let d = Daemon::start_with_env(&dir.join("data"), &dir.join("s.sock"), extra, &env);
    let a = query(&d.socket, "", "CREATE DATABASE q");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(write(&d.socket, "q", "m v=1 1000000000\n").status, 204);
    d
}

/// Send `q` from another thread; the handle yields its answer.
fn send(socket: &Path, q: &str) -> JoinHandle<Answer> {
    let (socket, q): (PathBuf, String) = (socket.to_path_buf(), q.to_string());
    std::thread::spawn(move || query(&socket, "q", &q))
}

fn status_of(socket: &Path, q: &str) -> Option<String> {
    listed(socket, q).map(|r| r[4].as_str().unwrap_or_default().to_string())
}

#[test]
fn one_runs_one_waits_the_third_gets_503_and_kill_frees_the_permit() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(
        dir.path(),
        &[],
        &[
            ("STRATA_MAX_CONCURRENT_QUERIES", "1"),
            ("STRATA_QUERY_QUEUE_DEPTH", "1"),
        ],
    );
    let sock = d.socket.clone();

    let slow = "SELECT v FROM m";
    let first = send(&sock, slow);
    wait_until("the SELECT to run", || {
        status_of(&sock, slow).as_deref() == Some("running")
    });

    // The only worker is busy: the next query waits in the queue...
    let waiting = "SHOW MEASUREMENTS";
    let second = send(&sock, waiting);
    wait_until("SHOW MEASUREMENTS to be queued", || {
        status_of(&sock, waiting).as_deref() == Some("queued")
    });

    // ...and the queue (depth 1) is full: 503 with a 1.x-style JSON error.
    let third = query(&sock, "q", "SHOW DATABASES");
    assert_eq!(third.status, 503, "{}", third.body);
    let msg = third.json()["error"].as_str().unwrap().to_string();
    assert!(msg.contains("query_queue_depth"), "{msg}");
    assert!(msg.contains("all 1 places"), "{msg}");

    // SHOW QUERIES: 1.x's columns, ids, texts, databases, durations, statuses.
    let rows = show_queries(&sock);
    let running = rows.iter().find(|r| r[1] == slow).unwrap();
    assert_eq!(running[2], "q");
    let dur = running[3].as_str().unwrap();
    let unit_ok = ["ns", "µs", "ms", "s"].iter().any(|u| {
        dur.strip_suffix(u)
            .is_some_and(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
    }) || dur.contains('m') && dur.ends_with('s');
    assert!(unit_ok, "duration {dur:?} is not in 1.x's form");
    let me = rows.iter().find(|r| r[1] == "SHOW QUERIES").unwrap();
    assert_eq!(me[4], "running", "SHOW QUERIES lists itself, as 1.x does");
    let qid = running[0].as_u64().unwrap();

    // Unknown id: 1.x's error, as a statement error.
    let a = query(&sock, "", "KILL QUERY 987654");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.json(),
        serde_json::json!({"results":[{"statement_id":0,"error":"no such query id: 987654"}]})
    );

    // KILL QUERY stops the running query; its client gets 1.x's answer.
    let a = query(&sock, "", &format!("KILL QUERY {qid}"));
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.json(),
        serde_json::json!({"results":[{"statement_id":0}]})
    );
    let killed = first.join().unwrap();
    assert_eq!(killed.status, 200, "{}", killed.body);
    assert_eq!(
        killed.json(),
        serde_json::json!({"results":[{"statement_id":0,"error":"query interrupted"}]})
    );

    // The permit came back: the queued query runs and succeeds.
    let second = second.join().unwrap();
    assert_eq!(second.status, 200, "{}", second.body);
    assert_eq!(
        second.json()["results"][0]["series"][0]["values"],
        serde_json::json!([["m"]])
    );
    wait_until("the killed query to leave SHOW QUERIES", || {
        listed(&sock, slow).is_none()
    });
    // And the pool keeps serving.
    let a = query(&sock, "q", "SHOW DATABASES");
    assert_eq!(a.status, 200, "{}", a.body);
}

#[test]
fn max_concurrent_queries_two_runs_two_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(
        dir.path(),
        // One task per query: with `query_parallelism` above 1 a single SELECT would take
        // both workers (tests/query_parallelism.rs shows that).
        &[
            "--max-concurrent-queries",
            "2",
            "--query-queue-depth",
            "4",
            "--query-parallelism",
            "1",
        ],
        &[],
    );
    let sock = d.socket.clone();
    let (qa, qb, qc) = (
        "SELECT v FROM m",
        "SELECT v FROM m LIMIT 1",
        "SELECT v FROM m LIMIT 2",
    );
    let a = send(&sock, qa);
    let b = send(&sock, qb);
    wait_until("two SELECTs running at once", || {
        status_of(&sock, qa).as_deref() == Some("running")
            && status_of(&sock, qb).as_deref() == Some("running")
    });
    let c = send(&sock, qc);
    wait_until("the third SELECT to be queued", || {
        status_of(&sock, qc).as_deref() == Some("queued")
    });
    // Still exactly two running: the third keeps waiting.
    let rows = show_queries(&sock);
    assert_eq!(
        rows.iter()
            .filter(|r| r[1] != "SHOW QUERIES" && r[4] == "running")
            .count(),
        2,
        "{rows:?}"
    );

    // Killing one lets the queued one run.
    let qid = listed(&sock, qa).unwrap()[0].as_u64().unwrap();
    assert_eq!(query(&sock, "", &format!("KILL QUERY {qid}")).status, 200);
    assert_eq!(
        a.join().unwrap().json()["results"][0]["error"],
        "query interrupted"
    );
    wait_until("the third SELECT to run", || {
        status_of(&sock, qc).as_deref() == Some("running")
    });
    for q in [qb, qc] {
        let qid = listed(&sock, q).unwrap()[0].as_u64().unwrap();
        assert_eq!(query(&sock, "", &format!("KILL QUERY {qid}")).status, 200);
    }
    for h in [b, c] {
        assert_eq!(
            h.join().unwrap().json()["results"][0]["error"],
            "query interrupted"
        );
    }
}

#[test]
fn out_of_range_pool_knobs_are_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    for (flag, knob) in [
        ("--max-concurrent-queries", "max_concurrent_queries"),
        ("--query-queue-depth", "query_queue_depth"),
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
            .arg("serve")
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .arg("--socket")
            .arg(dir.path().join("s.sock"))
            .args([flag, "0"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(knob), "{err}");
    }
}
