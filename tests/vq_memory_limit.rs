//! Scenario: a vq program's outputs are charged to one `query_memory_limit` across the
//! program, before each SELECT's points are made (every point holds its own copy of the metric
//! and tags): through `POST /vq` on `strata serve`, one SELECT of 2,000 points is answered,
//! eight in one program fail at the SELECT that passes the limit with a runtime error naming
//! it, and the daemon answers on.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::fmt::Write as _;

#[test]
fn a_programs_points_are_bounded_by_query_memory_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(
        &dir.path().join("data"),
        &dir.path().join("s.sock"),
        &["--query-memory-limit", &(1 << 20).to_string()],
    );
    let vq = |program: &str| -> serde_json::Value {
        let a = request(&d.socket, "POST", "/vq?db=vq", program.as_bytes());
        assert_eq!(a.status, 200, "{}", a.body);
        a.json()
    };
    assert_eq!(
        vq("CREATE TABLE t TAGS host;")["exit"],
        serde_json::Value::Null
    );
    let mut lines = String::new();
    for i in 0..2000 {
        let _ = writeln!(
            lines,
            "t,host=h{} load={i} {}",
            i % 4,
            i as i64 * 1_000_000_000
        );
    }
    assert_eq!(write(&d.socket, "vq", &lines).status, 204);

    let one = vq("SELECT DATA load FROM t ALL;");
    assert_eq!(
        one["exit"],
        serde_json::Value::Null,
        "{:.300}",
        one.to_string()
    );
    let output = one["output"].as_str().unwrap();
    assert_eq!(output.matches("{load}").count(), 2000, "{output:.200}");

    let eight = vq(&"SELECT DATA load FROM t ALL;\n".repeat(8));
    assert_eq!(eight["exit"], 70, "{:.300}", eight.to_string());
    let error = eight["error"].as_str().unwrap();
    assert!(
        error.contains("Runtime error: query_memory_limit exceeded"),
        "{error}"
    );
    // Refused at a later SELECT (its line), not at the first.
    assert!(!error.starts_with("[line 1:"), "{error}");

    assert_eq!(vq("SELECT COUNT load FROM t ALL;")["output"], "2000\n");
}
