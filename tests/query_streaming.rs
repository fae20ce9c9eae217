//! Scenario: queries stream block by block through the daemon. One series of 200,000 points
//! (3.2 MB as decoded columns) sits in several SSTables; with `query_memory_limit` at 300 kB,
//! aggregates over decoded blocks, aggregates with a field condition (fields joined row by row)
//! and raw selections with few matching rows all answer exactly — what a query holds grows
//! with the groups, buckets and rows it answers, not with the points it scans — while a query
//! whose answer itself is large still fails naming the limit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::Path;

const POINTS: i64 = 200_000;
const S: i64 = 1_000_000_000;

/// One series, one point per second, `v = t mod 1000` and `w = 2t` (integer); several flushes
/// (1 MB memtables), then a clean stop, which leaves everything in SSTables.
fn load(data: &Path, sock: &Path) {
    let d = Daemon::start(data, sock, &["--memtable-size-bytes", "1000000"]);
    assert_eq!(query(sock, "", "CREATE DATABASE q").status, 200);
    for chunk in 0..10 {
        let mut lines = String::new();
        for t in chunk * POINTS / 10..(chunk + 1) * POINTS / 10 {
            lines.push_str(&format!("m,host=a v={},w={}i {}\n", t % 1000, 2 * t, t * S));
        }
        assert_eq!(write(sock, "q", &lines).status, 204);
    }
    assert!(d.stop().success());
}

fn error(sock: &Path, q: &str) -> Option<String> {
    let v = query_json(sock, "q", q);
    v["results"][0]["error"].as_str().map(str::to_string)
}

fn values(sock: &Path, q: &str) -> Vec<Vec<serde_json::Value>> {
    let v = query_json(sock, "q", q);
    assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
    let rows = &v["results"][0]["series"][0]["values"];
    serde_json::from_value(rows.clone()).unwrap_or_else(|_| panic!("{q}: {v}"))
}

#[test]
fn queries_stream_within_a_small_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sock) = (dir.path().join("data"), dir.path().join("s.sock"));
    load(&data, &sock);
    let files = std::fs::read_dir(data.join("q").join("sst"))
        .unwrap()
        .count();
    assert!(files >= 3, "expected several SSTables, found {files}");
    let _d = Daemon::start(&data, &sock, &["--query-memory-limit", "300000"]);

    // A field condition: the fields are joined row by row, chunk by chunk.
    // Per 1000 points, v in 501..=999 passes: 499 points summing to 374,250.
    let rows = values(
        &sock,
        "SELECT count(v), sum(v), max(w) FROM m WHERE v > 500",
    );
    assert_eq!(rows[0][1], 99_800);
    assert_eq!(rows[0][2], 74_850_000.0);
    assert_eq!(rows[0][3], 2 * (POINTS - 1));

    // Buckets that cut across blocks: decoded blocks, merged and folded as they come.
    let rows = values(
        &sock,
        "SELECT max(v), min(v), count(w) FROM m WHERE time >= 0 AND time < 200000s GROUP BY time(1500s)",
    );
    assert_eq!(rows.len(), 134);
    for (i, r) in rows.iter().enumerate() {
        assert_eq!(r[1], 999.0, "bucket {i}");
        let (from, to) = (i as i64 * 1500, ((i as i64 + 1) * 1500).min(POINTS));
        assert_eq!(r[3], to - from, "bucket {i}");
        assert_eq!(r[2], if i == 133 { 500.0 } else { 0.0 }, "bucket {i}");
    }

    // Raw selections with few matching rows: only those rows are held.
    let rows = values(&sock, "SELECT v FROM m WHERE v > 998");
    assert_eq!(rows.len(), 200);
    assert!(rows.iter().all(|r| r[1] == 999.0));
    let rows = values(&sock, "SELECT * FROM m WHERE w < 10");
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[4][3], 8);

    // An answer that is itself larger than the limit still fails, naming it.
    let e = error(&sock, "SELECT v FROM m").expect("200,000 result rows exceed 300 kB");
    assert!(
        e.contains("query_memory_limit") && e.contains("300000"),
        "{e}"
    );
    assert_eq!(request(&sock, "GET", "/ping", b"").status, 204);
}
