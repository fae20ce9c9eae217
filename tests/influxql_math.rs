//! Scenario: InfluxQL's math functions through `strata serve`, where strata answers what a
//! user expects rather than what InfluxDB 1.6 answers (tests/influxdb_differential.rs compares
//! everything else with a real 1.x):
//! - `abs()` of a negative integer is its absolute value (1.x answers it unchanged, its known
//!   bug influxdata/influxdb#10261);
//! - an argument of the wrong type is an error with later 1.x releases' wording (1.6 answers
//!   nulls);
//! - arithmetic inside a math function in WHERE is evaluated (1.6 matches nothing);
//! - an infinite result is null (1.6 fails the whole response, its JSON encoder refusing it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use serde_json::json;
use std::path::Path;

fn values(sock: &Path, q: &str) -> serde_json::Value {
    let v = query_json(sock, "m", q);
    assert!(
        v["results"][0]["error"].is_null(),
        "{q}: {}",
        v["results"][0]["error"]
    );
    v["results"][0]["series"][0]["values"].clone()
}

fn error(sock: &Path, q: &str) -> String {
    let v = query_json(sock, "m", q);
    v["results"][0]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("{q} answered no error"))
        .to_string()
}

#[test]
fn math_functions_answer_what_a_user_expects() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let _daemon = Daemon::start(&dir.path().join("data"), &sock, &[]);
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+m", b"").status,
        200
    );
    let body = "t,host=a n=-5i,v=2.5,s=\"x\",ok=true 1000000000\n\
                t,host=a n=7i,v=-97.25,s=\"y\",ok=false 2000000000\n\
                t,host=b n=-40i,v=0,s=\"z\",ok=true 3000000000\n";
    let a = request(&sock, "POST", "/write?db=m", body.as_bytes());
    assert_eq!(a.status, 204, "{}", a.body);

    // abs() of an integer is an integer, and absolute; of a float, a float.
    assert_eq!(
        values(&sock, "SELECT abs(n), abs(v) FROM t"),
        json!([
            [1_000_000_000i64, 5, 2.5],
            [2_000_000_000i64, 7, 97.25],
            [3_000_000_000i64, 40, 0]
        ])
    );
    // Of a selector (at its point's time) and of an aggregate; in a WHERE condition with
    // arithmetic inside.
    assert_eq!(
        values(&sock, "SELECT abs(min(n)) FROM t GROUP BY host"),
        json!([[1_000_000_000i64, 5]])
    );
    assert_eq!(
        values(&sock, "SELECT round(sum(n)), abs(sum(n)) FROM t"),
        json!([[0, -38, 38]])
    );
    assert_eq!(
        values(&sock, "SELECT n FROM t WHERE abs(v - 50) > 100"),
        json!([[2_000_000_000i64, 7]])
    );
    assert_eq!(
        values(&sock, "SELECT n FROM t WHERE abs(n) >= 7"),
        json!([[2_000_000_000i64, 7], [3_000_000_000i64, -40]])
    );
    // ln(0) is -infinity: answered as null.
    assert_eq!(
        values(&sock, "SELECT ln(v), v FROM t WHERE host = 'b'"),
        json!([[3_000_000_000i64, null, 0]])
    );

    // Arguments of the wrong type, in later 1.x releases' words.
    for (q, want) in [
        (
            "SELECT abs(s) FROM t",
            "invalid argument type for the first argument in abs(): string",
        ),
        (
            "SELECT sin(ok) FROM t",
            "invalid argument type for the first argument in sin(): boolean",
        ),
        (
            "SELECT asin(n) FROM t",
            "invalid argument type for the first argument in asin(): integer",
        ),
        (
            "SELECT pow(v, s) FROM t",
            "invalid argument type for the second argument in pow(): string",
        ),
        (
            "SELECT abs(host) FROM t",
            "invalid argument type for the first argument in abs(): tag",
        ),
        (
            "SELECT round(first(s)) FROM t",
            "invalid argument type for the first argument in round(): string",
        ),
        (
            "SELECT abs(v) + sqrt(s) FROM t",
            "invalid argument type for the first argument in sqrt(): string",
        ),
    ] {
        assert_eq!(error(&sock, q), want, "{q}");
    }
    // asin() takes floats, so a float argument made of an integer passes.
    assert_eq!(
        values(&sock, "SELECT asin(n / 100) FROM t WHERE host = 'b'"),
        json!([[3_000_000_000i64, -0.41151684606748806]])
    );
}
