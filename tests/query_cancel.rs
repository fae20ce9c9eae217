//! Scenario: a query that stops early gives its worker back, through the daemon's HTTP API.
//! A client that disconnects mid-query cancels it (it leaves `SHOW QUERIES`, and with one
//! worker the next query runs at once); a query past `query_timeout` is answered with an error
//! naming `query_timeout`, and the next query runs.
//!
//! Queries are held by the testing aid `STRATA_TEST_QUERY_DELAY_MS` (every query with a SELECT
//! waits 10 minutes, checking its cancel token every 10 ms); other statements run at once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

fn start(dir: &Path, extra: &[&str]) -> Daemon {
    let d = Daemon::start_with_env(
        &dir.join("data"),
        &dir.join("s.sock"),
        extra,
        &[("STRATA_TEST_QUERY_DELAY_MS", "600000")],
    );
    assert_eq!(query(&d.socket, "", "CREATE DATABASE q").status, 200);
    assert_eq!(write(&d.socket, "q", "m v=1 1000000000\n").status, 204);
    d
}

#[test]
fn a_client_that_disconnects_frees_its_worker() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(dir.path(), &["--max-concurrent-queries", "1"]);
    let sock = d.socket.clone();

    // A keep-alive HTTP/1.1 request, as client libraries send; then the client goes away.
    let slow = "SELECT v FROM m";
    let mut client = UnixStream::connect(&sock).unwrap();
    let target = format!(
        "/query?db=q&q={}",
        form_urlencoded::byte_serialize(slow.as_bytes()).collect::<String>()
    );
    write!(client, "GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    wait_until("the SELECT to run", || {
        listed(&sock, slow).is_some_and(|r| r[4] == "running")
    });
    client.shutdown(std::net::Shutdown::Both).unwrap();
    drop(client);

    wait_until("the abandoned query to leave SHOW QUERIES", || {
        listed(&sock, slow).is_none()
    });
    // The only worker is free again: a pooled statement runs promptly (the abandoned query
    // would otherwise hold it for ten minutes).
    let t = Instant::now();
    let a = query(&sock, "q", "SHOW MEASUREMENTS");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.json()["results"][0]["series"][0]["values"],
        serde_json::json!([["m"]])
    );
    assert!(t.elapsed() < Duration::from_secs(60), "{:?}", t.elapsed());
}

#[test]
fn query_timeout_stops_the_query_and_the_next_one_runs() {
    let dir = tempfile::tempdir().unwrap();
    let d = start(
        dir.path(),
        &[
            "--max-concurrent-queries",
            "1",
            "--query-timeout-secs",
            "0.5",
        ],
    );
    let sock = d.socket.clone();

    let a = query(&sock, "q", "SELECT v FROM m");
    assert_eq!(a.status, 200, "{}", a.body);
    let v = a.json();
    let err = v["results"][0]["error"].as_str().unwrap();
    assert!(err.contains("query_timeout (500ms)"), "{v}");
    assert_eq!(v["results"][0]["statement_id"], 0);
    assert!(listed(&sock, "SELECT v FROM m").is_none());

    // The permit came back: the next (pooled) query runs.
    let a = query(&sock, "q", "SHOW MEASUREMENTS");
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        a.json()["results"][0]["series"][0]["values"],
        serde_json::json!([["m"]])
    );
}
