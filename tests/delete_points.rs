//! Scenario: InfluxQL `DELETE` through the daemon — by time range, by tag, without FROM —
//! takes effect at once (exact counts and sums), removes the points from the tables on disk,
//! forgets series left without data, and survives a restart and a `kill -9` right after it returned.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;
use std::path::Path;

const BASE: i64 = 1_700_000_000_000_000_000;
const SEC: i64 = 1_000_000_000;
const N: i64 = 1000;

fn lines() -> String {
    let mut s = String::new();
    for host in ["a", "b", "c"] {
        for i in 0..N {
            s.push_str(&format!("cpu,host={host} v={i}i {}\n", BASE + i * SEC));
        }
    }
    for i in 0..N {
        s.push_str(&format!("mem,host=a used={i}i {}\n", BASE + i * SEC));
    }
    s
}

/// (count, sum) of `field` in `m`, (0, 0) when nothing is left.
fn count_sum(sock: &Path, m: &str, field: &str) -> (i64, i64) {
    let v = query_json(
        sock,
        "d",
        &format!("SELECT count({field}), sum({field}) FROM {m}"),
    );
    let row = &v["results"][0]["series"][0]["values"][0];
    (row[1].as_i64().unwrap_or(0), row[2].as_i64().unwrap_or(0))
}

fn sum_range(lo: i64, hi: i64) -> i64 {
    (lo..hi).sum()
}

/// (bytes, files) of the database's tables.
fn sst_usage(data: &Path) -> (u64, usize) {
    let mut bytes = 0;
    let mut files = 0;
    for e in std::fs::read_dir(data.join("d").join("sst")).unwrap() {
        bytes += e.unwrap().metadata().unwrap().len();
        files += 1;
    }
    (bytes, files)
}

/// Points in the tables of the data directory, as `strata inspect` counts them.
fn points_on_disk(data: &Path) -> u64 {
    let text = inspect(data, &[]);
    let total = text
        .lines()
        .find(|l| l.trim_start().starts_with("total files"))
        .unwrap_or_else(|| panic!("no totals in strata inspect output:\n{text}"));
    total
        .split_whitespace()
        .skip_while(|w| *w != "points")
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no point count in {total:?}"))
}

fn statement_error(sock: &Path, db: &str, q: &str) -> String {
    let a = query(sock, db, q);
    assert_eq!(a.status, 200, "{}", a.body);
    a.json()["results"][0]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error from {q:?}: {}", a.body))
        .to_string()
}

fn ok(sock: &Path, q: &str) {
    let v = query_json(sock, "d", q);
    assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
}

#[test]
fn delete_by_time_and_tag_is_immediate_durable_and_shrinks_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&data, &sock, &[]);
    ok(&sock, "CREATE DATABASE d");
    let w = write(&sock, "d", &lines());
    assert_eq!(w.status, 204, "{}", w.body);
    let full = sum_range(0, N);
    assert_eq!(count_sum(&sock, "cpu", "v"), (3 * N, 3 * full));
    // A clean stop puts everything in tables.
    assert!(d.stop().success());
    let d = Daemon::start(&data, &sock, &[]);
    let (_, files0) = sst_usage(&data);
    assert!(files0 >= 1);
    assert_eq!(
        points_on_disk(&data),
        4 * N as u64,
        "everything is in tables"
    );

    // By time range: every host loses i in 100..200.
    ok(
        &sock,
        &format!(
            "DELETE FROM cpu WHERE time >= {} AND time < {}",
            BASE + 100 * SEC,
            BASE + 200 * SEC
        ),
    );
    let after_time = (3 * (N - 100), 3 * (full - sum_range(100, 200)));
    assert_eq!(count_sum(&sock, "cpu", "v"), after_time);
    assert_eq!(
        count_sum(&sock, "mem", "used"),
        (N, full),
        "other measurements untouched"
    );

    // By tag: host b goes entirely.
    ok(&sock, "DELETE FROM cpu WHERE host = 'b'");
    let after_tag = (2 * (N - 100), 2 * (full - sum_range(100, 200)));
    assert_eq!(count_sum(&sock, "cpu", "v"), after_tag);
    let hosts = query_json(&sock, "d", "SHOW TAG VALUES FROM cpu WITH KEY = host");
    assert_eq!(
        hosts["results"][0]["series"][0]["values"],
        serde_json::json!([["host", "a"], ["host", "c"]]),
        "a series without data is forgotten: {hosts}"
    );

    // Without FROM: every measurement, here the first 10 seconds.
    ok(&sock, &format!("DELETE WHERE time < {}", BASE + 10 * SEC));
    let after_all = (after_tag.0 - 2 * 10, after_tag.1 - 2 * sum_range(0, 10));
    assert_eq!(count_sum(&sock, "cpu", "v"), after_all);
    assert_eq!(
        count_sum(&sock, "mem", "used"),
        (N - 10, full - sum_range(0, 10))
    );

    // The deleted points are gone from the files, not just hidden (old tables are deleted once
    // no reader holds them). Counted in points, not bytes: how many bytes a block takes depends
    // on its codec, and a run with a hole in it can encode larger than the whole run did.
    assert_eq!(
        points_on_disk(&data),
        (after_all.0 + N - 10) as u64,
        "only the surviving cpu and mem points remain on disk"
    );

    // Errors as InfluxDB 1.x gives them.
    let e = statement_error(&sock, "d", "DELETE FROM cpu WHERE v > 3");
    assert!(
        e.contains("fields not supported in WHERE clause during deletion"),
        "{e}"
    );
    let e = statement_error(&sock, "nope", "DELETE FROM cpu WHERE host = 'a'");
    assert!(e.contains("database not found"), "{e}");
    ok(&sock, "DELETE FROM nothing_here WHERE host = 'a'");

    // New points for the deleted series come back as a new series; then kill -9.
    let w = write(
        &sock,
        "d",
        &format!("cpu,host=b v=7i {}\n", BASE + 5000 * SEC),
    );
    assert_eq!(w.status, 204, "{}", w.body);
    let with_b = (after_all.0 + 1, after_all.1 + 7);
    assert_eq!(count_sum(&sock, "cpu", "v"), with_b);
    d.kill9();

    let d = Daemon::start(&data, &sock, &[]);
    assert_eq!(
        count_sum(&sock, "cpu", "v"),
        with_b,
        "deletes survive kill -9"
    );
    assert_eq!(
        count_sum(&sock, "mem", "used"),
        (N - 10, full - sum_range(0, 10))
    );
    let b = query_json(&sock, "d", "SELECT count(v) FROM cpu WHERE host = 'b'");
    assert_eq!(scalar(&b), 1, "{b}");

    // Delete everything of cpu (DELETE FROM without WHERE); a clean restart keeps it gone.
    ok(&sock, "DELETE FROM cpu");
    assert_eq!(count_sum(&sock, "cpu", "v"), (0, 0));
    assert!(d.stop().success());
    let _d = Daemon::start(&data, &sock, &[]);
    assert_eq!(count_sum(&sock, "cpu", "v"), (0, 0));
    let m = query_json(&sock, "d", "SHOW MEASUREMENTS");
    assert_eq!(
        m["results"][0]["series"][0]["values"],
        serde_json::json!([["mem"]]),
        "{m}"
    );
}
