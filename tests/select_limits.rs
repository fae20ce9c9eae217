//! Scenario: `max_select_points` and `max_select_series` through the daemon's HTTP API, as
//! InfluxDB 1.x's `max-select-point` / `max-select-series`: a SELECT past a limit fails with
//! 1.x's text as its statement error (other statements of the request still run); within the
//! limits, and with the default 0 (unlimited), the same queries answer.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::Path;

/// host=a has 12 points, host=b and host=c one each.
fn load(sock: &Path) {
    assert_eq!(query(sock, "", "CREATE DATABASE l").status, 200);
    let mut lines: String = (0..12i64)
        .map(|i| format!("m,host=a v={i} {}\n", (i + 1) * 1_000_000_000))
        .collect();
    lines.push_str("m,host=b v=1 1000000000\nm,host=c v=1 1000000000\n");
    let a = write(sock, "l", &lines);
    assert_eq!(a.status, 204, "{}", a.body);
}

fn statement_error(sock: &Path, q: &str) -> Option<String> {
    let v = query_json(sock, "l", q);
    v["results"][0]["error"].as_str().map(str::to_string)
}

#[test]
fn select_limits_fail_the_statement_with_influxdb_1x_texts() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(
        &data,
        &sock,
        &["--max-select-points", "10", "--max-select-series", "2"],
    );
    load(&sock);

    // Within both limits: two series, two points; exactly 10 points is still allowed.
    let v = query_json(
        &sock,
        "l",
        "SELECT count(v) FROM m WHERE host = 'b' OR host = 'c'",
    );
    assert_eq!(scalar(&v), 2, "{v}");
    let v = query_json(
        &sock,
        "l",
        "SELECT v FROM m WHERE host = 'a' AND time <= 10000000000",
    );
    assert!(v["results"][0]["error"].is_null(), "{v}");
    assert_eq!(
        v["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap()
            .len(),
        10,
        "{v}"
    );

    // Three series selected, two allowed.
    assert_eq!(
        statement_error(&sock, "SELECT v FROM m").as_deref(),
        Some("max-select-series limit exceeded: (3/2)")
    );
    // Twelve points read, ten allowed: raw and aggregate SELECTs alike (1.x counts points read).
    for q in [
        "SELECT v FROM m WHERE host = 'a'",
        "SELECT mean(v) FROM m WHERE host = 'a'",
    ] {
        assert_eq!(
            statement_error(&sock, q).as_deref(),
            Some("max-select-point limit exceeded: (12/10)"),
            "{q}"
        );
    }
    // Only the statement over the limit fails.
    let v = query_json(&sock, "l", "SELECT v FROM m; SHOW MEASUREMENTS");
    assert_eq!(
        v["results"][0]["error"],
        "max-select-series limit exceeded: (3/2)"
    );
    assert_eq!(
        v["results"][1]["series"][0]["values"],
        serde_json::json!([["m"]])
    );
    d.stop();

    // Default 0: unlimited.
    let d = Daemon::start(&data, &sock, &[]);
    let v = query_json(&sock, "l", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), 14, "{v}");
    let v = query_json(&sock, "l", "SELECT v FROM m WHERE host = 'a'");
    assert_eq!(
        v["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap()
            .len(),
        12,
        "{v}"
    );
    d.stop();
}
