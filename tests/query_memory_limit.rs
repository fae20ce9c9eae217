//! Scenario: `query_memory_limit` through the daemon's HTTP API: the bytes a query holds
//! (decoded columns, median's buffer, result rows) are counted, a query going past a low limit
//! fails with an error naming the limit while streaming aggregates still answer, and with the
//! default limit the same queries answer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::Path;

/// 10 series × 2000 points.
fn load(sock: &Path) {
    assert_eq!(query(sock, "", "CREATE DATABASE q").status, 200);
    let mut lines = String::new();
    for t in 0..2000i64 {
        for h in 0..10 {
            lines.push_str(&format!("m,host=h{h} v={} {}\n", t % 13, t * 1_000_000_000));
        }
    }
    assert_eq!(write(sock, "q", &lines).status, 204);
}

fn error(sock: &Path, q: &str) -> Option<String> {
    let v = query_json(sock, "q", q);
    v["results"][0]["error"].as_str().map(str::to_string)
}

#[test]
fn a_query_past_query_memory_limit_fails_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    // 200 kB: one series' column (2000 points, 32 kB) fits, all points held at once do not.
    let d = Daemon::start(
        &dir.path().join("data"),
        &sock,
        &["--query-memory-limit", "200000"],
    );
    load(&sock);
    for q in [
        "SELECT median(v) FROM m",
        "SELECT * FROM m",
        "SELECT percentile(v, 90) FROM m",
    ] {
        let e = error(&sock, q).unwrap_or_else(|| panic!("{q} should fail"));
        assert!(e.contains("query_memory_limit"), "{q}: {e}");
        assert!(e.contains("200000"), "{q}: {e}");
    }
    // Streaming aggregates hold a block or so per source at a time: they answer.
    let v = query_json(&sock, "q", "SELECT count(v), sum(v), max(v) FROM m");
    assert_eq!(scalar(&v), 20_000);
    // So does a median over one series (2000 points).
    assert!(error(&sock, "SELECT median(v) FROM m WHERE host = 'h1'").is_none());
    // The server is still fine afterwards.
    assert_eq!(request(&sock, "GET", "/ping", b"").status, 204);
    drop(d);

    // Environment variable, and the default (256 MiB) lets everything answer.
    let dir2 = tempfile::tempdir().unwrap();
    let sock2 = dir2.path().join("s.sock");
    let _d = Daemon::start_with_env(
        &dir2.path().join("data"),
        &sock2,
        &[],
        &[("STRATA_QUERY_MEMORY_LIMIT", "100000")],
    );
    load(&sock2);
    let e = error(&sock2, "SELECT median(v) FROM m").unwrap();
    assert!(e.contains("query_memory_limit"), "{e}");
    let dir3 = tempfile::tempdir().unwrap();
    let sock3 = dir3.path().join("s.sock");
    let _d3 = Daemon::start(&dir3.path().join("data"), &sock3, &[]);
    load(&sock3);
    for q in [
        "SELECT median(v) FROM m",
        "SELECT * FROM m",
        "SELECT percentile(v, 90) FROM m",
    ] {
        assert!(error(&sock3, q).is_none(), "{q}");
    }
    let v = query_json(&sock3, "q", "SELECT median(v) FROM m");
    assert_eq!(scalar(&v), 6.0);
}
