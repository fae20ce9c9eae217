//! Scenario: `SHOW QUERIES` shows how long a query has really been running. A query held by
//! the testing delay (`STRATA_TEST_QUERY_DELAY_MS`) for several seconds is listed with a
//! duration of at least the time since it was sent, less a margin.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Seconds in a 1.x `SHOW QUERIES` duration (`"2s"`, `"1m5s"`, `"350ms"`, `"40µs"`).
fn seconds(d: &str) -> f64 {
    let (mut total, mut num) = (0.0, String::new());
    let mut chars = d.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() || c == '.' {
            num.push(c);
            continue;
        }
        let mut unit = c.to_string();
        while chars.peek().is_some_and(|c| !c.is_ascii_digit()) {
            unit.push(chars.next().unwrap());
        }
        let n: f64 = num.parse().unwrap();
        num.clear();
        total += n * match unit.as_str() {
            "h" => 3600.0,
            "m" => 60.0,
            "s" => 1.0,
            "ms" => 1e-3,
            "µs" | "us" => 1e-6,
            "ns" => 1e-9,
            u => panic!("unit {u} in {d}"),
        };
    }
    total
}

#[test]
fn show_queries_shows_the_real_duration_of_a_slow_query() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start_with_env(
        &dir.path().join("data"),
        &dir.path().join("s.sock"),
        &[],
        &[("STRATA_TEST_QUERY_DELAY_MS", "4000")],
    );
    let sock = d.socket.clone();
    assert_eq!(query(&sock, "", "CREATE DATABASE q").status, 200);
    assert_eq!(write(&sock, "q", "m v=1 1000000000\n").status, 204);

    let slow = "SELECT v FROM m";
    let mut client = UnixStream::connect(&sock).unwrap();
    let target = format!(
        "/query?db=q&q={}",
        form_urlencoded::byte_serialize(slow.as_bytes()).collect::<String>()
    );
    let sent = Instant::now();
    write!(client, "GET {target} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    std::thread::sleep(Duration::from_millis(2500));
    let row = listed(&sock, slow).expect("the slow query is listed");
    let elapsed = sent.elapsed().as_secs_f64();
    let shown = seconds(row[3].as_str().unwrap());
    // 1.x truncates to whole seconds past one second.
    assert!(
        shown >= 2.0 && shown <= elapsed,
        "SHOW QUERIES says {} after {elapsed:.2} s",
        row[3]
    );
    assert_eq!(row[4], "running");
}
