//! Scenario: slowloris. Many connections that send part of a request head and then nothing
//! are closed by the header timeout; while they hold every place under `--max-connections`,
//! one more connection is refused at once (503, closed); once they are gone `/ping` answers.
//! Unix socket only, bounded loops.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

const CAP: usize = 40;

#[test]
fn partial_heads_are_closed_by_the_header_timeout_and_the_cap_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(
        &dir.path().join("data"),
        &dir.path().join("s.sock"),
        &[
            "--http-header-timeout-secs",
            "1",
            "--max-connections",
            &CAP.to_string(),
        ],
    );
    // Let the start-up probe's connection close, so that the cap is all ours.
    std::thread::sleep(Duration::from_millis(200));

    let opened = Instant::now();
    let mut slow: Vec<UnixStream> = (0..CAP)
        .map(|_| {
            let mut s = UnixStream::connect(&d.socket).unwrap();
            s.write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
                .unwrap();
            s
        })
        .collect();
    // One more: the cap is full, so it is answered 503 and closed without waiting.
    let mut extra = UnixStream::connect(&d.socket).unwrap();
    extra
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut answer = String::new();
    let _ = extra.read_to_string(&mut answer);
    assert!(
        answer.starts_with("HTTP/1.1 503"),
        "a connection over the cap must be refused at once: {answer:?}"
    );
    assert!(answer.contains("max_connections"), "{answer:?}");

    // Each slow connection is closed by the server (EOF) about a second after it opened.
    for s in &mut slow {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 64];
        let n = s.read(&mut buf).expect("the server closes the connection");
        assert_eq!(n, 0, "no answer to an unfinished head");
    }
    let took = opened.elapsed();
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(8),
        "closed after {took:?}"
    );

    // The places are free again.
    let t = Instant::now();
    assert_eq!(request(&d.socket, "GET", "/ping", b"").status, 204);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}
