//! Scenario: answers made and not yet taken by their clients are bounded by the server's
//! answer budget (`max_concurrent_queries` × `query_memory_limit`). Clients that ask and do not
//! read hold their answers; once those fill the budget, the next answer is refused with 503
//! naming it (before it is rendered), `/ping` and small answers still come, and when the
//! clients go away the budget is given back and the big answer comes again.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::fmt::Write as _;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

const QUERY: &str = "/query?db=db&epoch=ns&q=SELECT+*+FROM+m";

/// Send the query on a raw connection and never read its answer.
fn ask_and_hold(sock: &Path) -> UnixStream {
    let mut s = UnixStream::connect(sock).unwrap();
    s.write_all(format!("GET {QUERY} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .unwrap();
    s
}

#[test]
fn unread_answers_fill_the_answer_budget_and_the_next_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    // Answers may hold 1 × 12 MiB.
    let d = Daemon::start(
        &dir.path().join("data"),
        &dir.path().join("s.sock"),
        &[
            "--query-memory-limit",
            &(12 << 20).to_string(),
            "--max-concurrent-queries",
            "1",
        ],
    );
    assert_eq!(
        request(&d.socket, "POST", "/query?q=CREATE+DATABASE+db", b"").status,
        200
    );
    // About 2.2 MB of JSON: strings, so the rendered size is close to its bound.
    let text = "x".repeat(100);
    let mut lines = String::new();
    for i in 0..20_000 {
        let _ = writeln!(lines, "m s=\"{text}\" {i}");
    }
    assert_eq!(write(&d.socket, "db", &lines).status, 204);
    let whole = request(&d.socket, "GET", QUERY, b"");
    assert_eq!(whole.status, 200, "{}", whole.body);
    assert!(whole.bytes.len() > 2_000_000, "{}", whole.body);

    // Clients that do not read hold their answers, until one is refused.
    let mut held = Vec::new();
    let refused = loop {
        assert!(
            held.len() < 8,
            "8 unread answers of 2.2 MB fitted in 12 MiB"
        );
        held.push(ask_and_hold(&d.socket));
        std::thread::sleep(Duration::from_millis(200));
        let a = request(&d.socket, "GET", QUERY, b"");
        if a.status != 200 {
            break a;
        }
        assert_eq!(a.bytes, whole.bytes);
    };
    assert_eq!(refused.status, 503, "{}", refused.body);
    assert!(
        refused
            .body
            .contains("server busy: answers waiting for their clients hold"),
        "{}",
        refused.body
    );
    assert!(refused
        .body
        .contains("(max_concurrent_queries x query_memory_limit)"));
    // As many as 12 MiB holds were held (each at its rendered size), and no more.
    assert!((3..=6).contains(&held.len()), "{} held", held.len());
    // The daemon answers what fits.
    assert_eq!(request(&d.socket, "GET", "/ping", b"").status, 204);
    assert_eq!(query(&d.socket, "db", "SELECT count(s) FROM m").status, 200);

    // The clients go away: their answers are given back.
    drop(held);
    wait_until("the held answers are given back", || {
        request(&d.socket, "GET", QUERY, b"").status == 200
    });
    assert_eq!(request(&d.socket, "GET", QUERY, b"").bytes, whole.bytes);
}
