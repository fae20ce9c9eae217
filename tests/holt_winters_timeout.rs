//! Scenario: a holt_winters forecast whose search would run for minutes (two points a million
//! buckets apart: every evaluation of its error walks a million slots) is stopped by
//! `query_timeout` through `strata serve`, answered with the error naming it, and the next
//! query runs on the one worker it held.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::time::{Duration, Instant};

#[test]
fn a_long_holt_winters_search_stops_at_query_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(
        &dir.path().join("data"),
        &dir.path().join("s.sock"),
        &["--query-timeout-secs", "1", "--max-concurrent-queries", "1"],
    );
    assert_eq!(query(&d.socket, "", "CREATE DATABASE hw").status, 200);
    let s = 1_000_000_000i64;
    let lines = format!("m v=1 {}\nm v=2 {}\n", 1_000 * s, 1_001_000 * s);
    assert_eq!(write(&d.socket, "hw", &lines).status, 204);
    let started = Instant::now();
    let a = query(
        &d.socket,
        "hw",
        &format!(
            "SELECT holt_winters(mean(v), 3, 0) FROM m WHERE time >= {} AND time <= {} \
             GROUP BY time(1s) fill(none)",
            1_000 * s,
            1_001_000 * s
        ),
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    let error = v["results"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("query_timeout"), "{v}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    // The next query runs.
    let a = query(&d.socket, "hw", "SELECT count(v) FROM m");
    assert_eq!(a.json()["results"][0]["series"][0]["values"][0][1], 2);
}
