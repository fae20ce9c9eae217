//! Scenario: InfluxDB 1.x's cardinality limits through `strata serve`
//! (`--max-series-per-database`, `STRATA_MAX_VALUES_PER_TAG`). Points that would create a
//! series past a limit are dropped with 1.x's partial-write text (HTTP 400) while the rest of the
//! body is written and existing series keep writing; the series count is right after a crash
//! (WAL replay) and after a clean restart (tables); deleting series gives their places back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::Path;

/// Series of the database (SHOW SERIES rows).
fn series(sock: &Path, db: &str) -> usize {
    let v = query_json(sock, db, "SHOW SERIES");
    v["results"][0]["series"][0]["values"]
        .as_array()
        .map_or(0, Vec::len)
}

fn lines(measurement: &str, hosts: std::ops::Range<usize>, ts: i64) -> String {
    hosts
        .map(|h| format!("{measurement},host=h{h} v=1 {ts}\n"))
        .collect()
}

fn start(data: &Path, sock: &Path) -> Daemon {
    Daemon::start_with_env(
        data,
        sock,
        &["--max-series-per-database", "10"],
        &[("STRATA_MAX_VALUES_PER_TAG", "4")],
    )
}

#[test]
fn points_creating_series_past_a_limit_are_dropped_as_influxdb_1x_does() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = start(&data, &sock);
    for db in ["s", "t"] {
        let a = request(
            &sock,
            "POST",
            &format!("/query?q=CREATE+DATABASE+{db}"),
            b"",
        );
        assert_eq!(a.status, 200);
    }

    // max-series-per-database: 8 series, then a body with 2 points of existing series and 5
    // new series: 2 of those fit, 3 are dropped.
    let eight: String = (0..8).map(|i| format!("m{i},host=a v=1 1\n")).collect();
    assert_eq!(write(&sock, "s", &eight).status, 204);
    let body = format!("m0,host=a v=2 2\n{}m1,host=a v=2 2\n", lines("n", 0..5, 1));
    let a = write(&sock, "s", &body);
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(
        a.json()["error"],
        "partial write: max-series-per-database limit exceeded: (10) dropped=3"
    );
    assert_eq!(series(&sock, "s"), 10);
    let v = query_json(&sock, "s", "SELECT count(v) FROM m0, m1, n");
    let counts: Vec<(String, i64)> = v["results"][0]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let name = s["name"].as_str().unwrap().to_string();
            (name, s["values"][0][1].as_i64().unwrap())
        })
        .collect();
    let want = [("m0", 2), ("m1", 2), ("n", 2)].map(|(n, c)| (n.to_string(), c));
    assert_eq!(counts, want);
    // Existing series keep writing; every new one is refused.
    assert_eq!(
        write(&sock, "s", "m5,host=a v=3 3\nn,host=h1 v=3 3\n").status,
        204
    );
    let a = write(&sock, "s", "z v=1 1\n");
    assert_eq!(a.status, 400);
    assert_eq!(
        a.json()["error"],
        "partial write: max-series-per-database limit exceeded: (10) dropped=1"
    );

    // max-values-per-tag (per measurement and tag key): host takes 4 values.
    assert_eq!(write(&sock, "t", &lines("cpu", 0..4, 1)).status, 204);
    let a = write(
        &sock,
        "t",
        &format!("{}cpu,host=h0,dc=x v=2 2\n", lines("cpu", 4..7, 1)),
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(
        a.json()["error"],
        "partial write: max-values-per-tag limit exceeded (4/4): measurement=\"cpu\" tag=\"host\" value=\"h4\" dropped=3"
    );
    assert_eq!(series(&sock, "t"), 5, "h0..h3, and h0 with dc=x");
    // Another measurement has its own values.
    assert_eq!(write(&sock, "t", &lines("mem", 4..8, 1)).status, 204);

    // A crash: the series come back from the WAL, and so does their count.
    d.kill9();
    let d = start(&data, &sock);
    assert_eq!(series(&sock, "s"), 10);
    assert_eq!(write(&sock, "s", "z v=1 1\n").status, 400);
    assert_eq!(write(&sock, "s", "m7,host=a v=4 4\n").status, 204);
    assert_eq!(write(&sock, "t", "cpu,host=h9 v=1 1\n").status, 400);
    // A clean restart: now from the tables.
    assert!(d.stop().success());
    let d = start(&data, &sock);
    assert_eq!(series(&sock, "s"), 10);
    assert_eq!(write(&sock, "s", "z v=1 1\n").status, 400);

    // Deleting series gives their places (and their tag values) back.
    assert_eq!(
        query(&sock, "s", "DROP SERIES FROM n WHERE host = 'h0'").status,
        200
    );
    assert_eq!(series(&sock, "s"), 9);
    assert_eq!(write(&sock, "s", "z v=1 1\n").status, 204);
    assert_eq!(write(&sock, "s", "y v=1 1\n").status, 400);
    assert_eq!(query(&sock, "t", "DROP MEASUREMENT cpu").status, 200);
    assert_eq!(write(&sock, "t", &lines("cpu", 10..14, 1)).status, 204);
    assert!(d.stop().success());
}
