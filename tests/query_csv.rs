//! Scenario: `/query` with `Accept: application/csv` through `strata serve` (the format itself
//! is compared byte for byte with InfluxDB 1.6 in `tests/influxdb_differential.rs`). The CSV
//! is charged to `query_memory_limit` at its exact size before it is made: values that are
//! short in JSON and long in CSV (`1e300` is 301 digits in full decimal notation) are refused
//! with a CSV error naming the limit where the JSON answer fits, and answered in full where
//! the CSV fits; the daemon answers on.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::fmt::Write as _;
use std::path::Path;

fn csv(sock: &Path, q: &str) -> Answer {
    request_with(
        sock,
        "GET",
        &format!("/query?db=db&q={}", percent_encode(q)),
        &[("Accept", "application/csv")],
        b"",
    )
}

#[test]
fn a_csv_answer_is_charged_at_its_size_before_it_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(
        &dir.path().join("data"),
        &dir.path().join("s.sock"),
        &["--query-memory-limit", &(1 << 20).to_string()],
    );
    assert_eq!(query(&d.socket, "", "CREATE DATABASE db").status, 200);
    let mut lines = String::new();
    for i in 0..5000 {
        let _ = writeln!(lines, "m v=1e300 {i}");
    }
    assert_eq!(write(&d.socket, "db", &lines).status, 204);

    // 1,000 rows of 300-digit numbers: about 310 KB of CSV, answered in full.
    let a = csv(&d.socket, "SELECT v FROM m LIMIT 1000");
    assert_eq!(a.status, 200, "{:.300}", a.body);
    let rows: Vec<&str> = a.body.lines().collect();
    assert_eq!(rows.len(), 1001);
    assert_eq!(rows[0], "name,tags,time,v");
    assert_eq!(rows[1], format!("m,,0,1{}", "0".repeat(300)));

    // 5,000 of them: 1.6 MB of CSV, past the 1 MiB limit, though the JSON answer fits.
    let json = query(&d.socket, "db", "SELECT v FROM m");
    assert_eq!(
        json.json()["results"][0]["series"][0]["values"]
            .as_array()
            .map(Vec::len),
        Some(5000)
    );
    let a = csv(&d.socket, "SELECT v FROM m");
    assert_eq!(a.status, 400, "{:.300}", a.body);
    assert!(
        a.body.starts_with("error\n") && a.body.contains("query_memory_limit exceeded"),
        "{:.300}",
        a.body
    );
    assert!(a.body.len() < 400, "{}", a.body.len());
    assert_eq!(
        csv(&d.socket, "SELECT count(v) FROM m").body,
        "name,tags,time,count\nm,,0,5000\n"
    );
    // Where strata differs from 1.x on purpose: the replication factor is written as its value
    // (1.x leaves the column's name there, its CSV writer not formatting that int).
    assert_eq!(
        csv(&d.socket, "SHOW RETENTION POLICIES").body,
        "name,tags,name,duration,shardGroupDuration,replicaN,default\n,,autogen,0s,168h0m0s,1,true\n"
    );
}
