//! Scenario: a client writes line protocol through the daemon's Unix socket and reads it back
//! with InfluxQL, in InfluxDB 1.x's JSON shape.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

#[test]
fn write_then_query_over_the_unix_socket() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&dir.path().join("data"), &sock, &[]);

    // Socket is private to its owner.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&sock).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let ping = request(&sock, "GET", "/ping", b"");
    assert_eq!(ping.status, 204);
    let health = request(&sock, "GET", "/health", b"");
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "pass");

    // Unknown database: as InfluxDB 1.x.
    let w = write(&sock, "demo", "cpu v=1 1\n");
    assert_eq!(w.status, 404, "{}", w.body);
    assert_eq!(w.json()["error"], "database not found: \"demo\"");

    let c = request(&sock, "POST", "/query?q=CREATE+DATABASE+demo", b"");
    assert_eq!(c.status, 200, "{}", c.body);
    assert_eq!(c.body, r#"{"results":[{"statement_id":0}]}"#);
    let dbs = query_json(&sock, "", "SHOW DATABASES");
    assert_eq!(
        dbs["results"][0]["series"][0]["values"],
        serde_json::json!([["demo"]])
    );

    // host b writes 10 s after host a, so first/last are unambiguous.
    let lines = "cpu,host=a,region=eu usage=1.5,n=1i 1700000000000000000\n\
                 cpu,host=b,region=eu usage=2.5,n=2i 1700000010000000000\n\
                 cpu,host=a,region=eu usage=3.5,n=3i 1700000060000000000\n\
                 cpu,host=b,region=us usage=4.5,n=4i 1700000070000000000\n";
    let w = write(&sock, "demo", lines);
    assert_eq!(w.status, 204, "{}", w.body);

    // Raw rows, RFC3339 times by default.
    let a = query(&sock, "demo", "SELECT usage FROM cpu WHERE host = 'a'");
    assert_eq!(a.status, 200);
    assert_eq!(
        a.body,
        r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","usage"],"values":[["2023-11-14T22:13:20Z",1.5],["2023-11-14T22:14:20Z",3.5]]}]}]}"#
    );

    // Aggregates grouped by time and tag, epoch rendering, two statements in one request.
    let v = query_json(
        &sock,
        "demo",
        "SELECT count(usage), sum(n), mean(usage), min(usage), max(usage), first(usage), last(usage) FROM cpu \
         WHERE time >= '2023-11-14T22:13:00Z' AND time < '2023-11-14T22:15:00Z' GROUP BY time(1m), region; \
         SELECT mean(usage) FROM cpu",
    );
    let b0 = 1_699_999_980_000_000_000i64; // 22:13:00
    let b1 = 1_700_000_040_000_000_000i64; // 22:14:00
    let eu = &v["results"][0]["series"][0];
    assert_eq!(eu["tags"], serde_json::json!({"region": "eu"}));
    assert_eq!(
        eu["columns"],
        serde_json::json!(["time", "count", "sum", "mean", "min", "max", "first", "last"])
    );
    assert_eq!(
        eu["values"],
        serde_json::json!([
            [b0, 2, 3, 2, 1.5, 2.5, 1.5, 2.5],
            [b1, 1, 3, 3.5, 3.5, 3.5, 3.5, 3.5]
        ])
    );
    let us = &v["results"][0]["series"][1];
    assert_eq!(us["tags"], serde_json::json!({"region": "us"}));
    assert_eq!(
        us["values"],
        serde_json::json!([
            [b0, 0, null, null, null, null, null, null],
            [b1, 1, 4, 4.5, 4.5, 4.5, 4.5, 4.5]
        ])
    );
    assert_eq!(
        v["results"][1]["series"][0]["values"],
        serde_json::json!([[0, 3]])
    );

    // POST with a form body, as client libraries send it.
    let p = request(
        &sock,
        "POST",
        "/query?db=demo",
        b"q=SELECT+count%28usage%29+FROM+cpu",
    );
    assert_eq!(p.status, 200, "{}", p.body);
    assert!(
        p.body.contains("[\"1970-01-01T00:00:00Z\",4]"),
        "{}",
        p.body
    );

    // A parse error names line and column.
    let e = query(&sock, "demo", "SELECT FROM cpu");
    assert_eq!(e.status, 400);
    let msg = e.json()["error"].as_str().unwrap().to_string();
    assert!(msg.contains("line 1") && msg.contains("char"), "{msg}");

    // SIGTERM: clean exit, socket removed.
    let st = d.stop();
    assert!(st.success(), "{st}");
    assert!(!sock.exists(), "socket file left behind");
}
