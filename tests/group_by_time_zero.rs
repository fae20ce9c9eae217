//! Scenario: `GROUP BY time(0s)` is answered as InfluxDB 1.x answers it: as no time grouping
//! (one row at the start of the time range), not an error. Checked against InfluxDB 1.6.7,
//! whose `SELECT count(v) FROM m WHERE time < 10s GROUP BY time(0s)` answers one row at
//! 1970-01-01T00:00:00Z, exactly as without the GROUP BY.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

#[test]
fn group_by_time_zero_is_no_time_grouping_as_in_1x() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(&dir.path().join("data"), &dir.path().join("s.sock"), &[]);
    assert_eq!(query(&d.socket, "", "CREATE DATABASE g").status, 200);
    assert_eq!(
        write(&d.socket, "g", "m v=1 1000000000\nm v=2 5000000000\n").status,
        204
    );
    let grouped = query(
        &d.socket,
        "g",
        "SELECT count(v) FROM m WHERE time < 10s GROUP BY time(0s)",
    );
    assert_eq!(grouped.status, 200, "{}", grouped.body);
    let plain = query(&d.socket, "g", "SELECT count(v) FROM m WHERE time < 10s");
    assert_eq!(grouped.json(), plain.json());
    assert_eq!(
        grouped.json()["results"][0]["series"][0]["values"],
        serde_json::json!([["1970-01-01T00:00:00Z", 2]])
    );
}
