//! Scenario: per-database retention through the daemon. `CREATE DATABASE ... WITH DURATION`
//! hides expired points from queries at once (memtable and tables alike), `ALTER RETENTION
//! POLICY` changes it, `SHOW RETENTION POLICIES` answers in InfluxDB 1.x's shape, the policy
//! survives restarts, and the periodic check (`--retention-check-interval-secs`) drops the
//! expired tables: with the 30 min default nothing is dropped during the test, with a short
//! interval the expired table goes.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;
use std::path::Path;
use std::time::{Duration, Instant};

const HOUR: i64 = 3_600_000_000_000;

fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as i64
}

fn ok(sock: &Path, db: &str, q: &str) -> serde_json::Value {
    let v = query_json(sock, db, q);
    assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
    v
}

fn err(sock: &Path, q: &str) -> String {
    let v = query_json(sock, "", q);
    v["results"][0]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("expected an error from {q}: {v}"))
        .to_string()
}

fn count(sock: &Path) -> i64 {
    scalar(&ok(sock, "r", "SELECT count(v) FROM m"))
        .as_i64()
        .unwrap_or(0)
}

fn tables(data: &Path) -> usize {
    std::fs::read_dir(data.join("r").join("sst"))
        .unwrap()
        .count()
}

fn policies(sock: &Path, db: &str) -> serde_json::Value {
    ok(sock, db, &format!("SHOW RETENTION POLICIES ON {db}"))["results"][0]["series"].clone()
}

fn points(host: &str, at: i64, n: i64) -> String {
    (0..n)
        .map(|i| format!("m,host={host} v={i}i {}\n", at + i * 1_000_000_000))
        .collect()
}

#[test]
fn retention_hides_expired_points_and_the_periodic_check_drops_their_tables() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&data, &sock, &[]);
    ok(&sock, "", "CREATE DATABASE r WITH DURATION 1h");
    assert_eq!(
        policies(&sock, "r"),
        serde_json::json!([{
            "columns": ["name", "duration", "shardGroupDuration", "replicaN", "default"],
            "values": [["autogen", "1h0m0s", "1h0m0s", 1, true]]
        }])
    );
    // One table of 3 h old points, one of fresh points (a clean stop flushes).
    let now = now_ns();
    assert_eq!(
        write(&sock, "r", &points("old", now - 3 * HOUR, 50)).status,
        204
    );
    assert!(d.stop().success());
    let d = Daemon::start(&data, &sock, &[]);
    assert_eq!(write(&sock, "r", &points("new", now, 20)).status, 204);
    assert!(d.stop().success());
    let d = Daemon::start(&data, &sock, &[]);
    assert_eq!(tables(&data), 2);

    // Expired points are invisible at once, from tables and from the memtable.
    assert_eq!(count(&sock), 20);
    assert_eq!(
        write(&sock, "r", &points("mem", now - 2 * HOUR, 5)).status,
        204
    );
    assert_eq!(count(&sock), 20);
    let raw = ok(&sock, "r", "SELECT v FROM m WHERE host = 'old'");
    assert!(raw["results"][0]["series"].is_null(), "{raw}");

    // ALTER widens and narrows what queries see (the old table is still there).
    ok(&sock, "", "ALTER RETENTION POLICY autogen ON r DURATION 4h");
    assert_eq!(count(&sock), 75);
    ok(
        &sock,
        "",
        "ALTER RETENTION POLICY \"autogen\" ON r DURATION 1h DEFAULT",
    );
    assert_eq!(count(&sock), 20);
    let e = err(&sock, "ALTER RETENTION POLICY other ON r DURATION 2h");
    assert!(e.contains("retention policy not found: other"), "{e}");

    // With the default interval (30 min) the check does not run during the test.
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(
        tables(&data),
        2,
        "default retention_check_interval: nothing dropped yet"
    );
    assert!(d.stop().success());

    // A short interval drops the expired table (and the flushed 2 h old points' table).
    let d = Daemon::start(&data, &sock, &["--retention-check-interval-secs", "0.2"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    while tables(&data) > 1 {
        assert!(Instant::now() < deadline, "expired tables were not dropped");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(count(&sock), 20);
    let series = ok(&sock, "r", "SHOW SERIES");
    assert_eq!(
        series["results"][0]["series"][0]["values"],
        serde_json::json!([["m,host=new"]]),
        "series whose data expired are forgotten"
    );
    // Widening now brings nothing back: the data is gone from disk.
    ok(&sock, "", "ALTER RETENTION POLICY autogen ON r DURATION 4h");
    assert_eq!(count(&sock), 20);
    d.kill9();

    // The policy survives a restart; other CREATE forms and 1.x's checks.
    let _d = Daemon::start(&data, &sock, &[]);
    assert_eq!(
        policies(&sock, "r")[0]["values"],
        serde_json::json!([["autogen", "4h0m0s", "1h0m0s", 1, true]])
    );
    ok(
        &sock,
        "",
        "CREATE DATABASE month WITH DURATION 30d REPLICATION 1 NAME one_month",
    );
    assert_eq!(
        policies(&sock, "month")[0]["values"],
        serde_json::json!([["one_month", "720h0m0s", "24h0m0s", 1, true]])
    );
    // The same options again are fine; different ones conflict.
    ok(
        &sock,
        "",
        "CREATE DATABASE month WITH DURATION 30d REPLICATION 1 NAME one_month",
    );
    let e = err(&sock, "CREATE DATABASE month WITH DURATION 7d");
    assert!(
        e.contains("retention policy conflicts with an existing policy"),
        "{e}"
    );
    ok(
        &sock,
        "",
        "ALTER RETENTION POLICY one_month ON month DURATION INF",
    );
    assert_eq!(
        policies(&sock, "month")[0]["values"],
        serde_json::json!([["one_month", "0s", "24h0m0s", 1, true]])
    );
    let e = err(&sock, "CREATE DATABASE short WITH DURATION 30m");
    assert!(
        e.contains("retention policy duration must be at least 1h0m0s"),
        "{e}"
    );
    let e = err(&sock, "ALTER RETENTION POLICY autogen ON nope DURATION 2h");
    assert!(e.contains("database not found"), "{e}");
    ok(&sock, "", "CREATE DATABASE plain");
    assert_eq!(
        policies(&sock, "plain")[0]["values"],
        serde_json::json!([["autogen", "0s", "168h0m0s", 1, true]]),
        "a database created without WITH keeps data forever"
    );
}
