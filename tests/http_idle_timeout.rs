//! Scenario: an idle keep-alive connection is closed after `--http-idle-timeout-secs`; one
//! that keeps sending requests more often than that is not.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// Send a keep-alive `GET /ping` and read its answer (204, no body) off `s`.
fn ping(s: &mut UnixStream) {
    s.write_all(b"GET /ping HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 512];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0, "closed before answering");
        got.extend_from_slice(&buf[..n]);
    }
    assert!(
        got.starts_with(b"HTTP/1.1 204"),
        "{}",
        String::from_utf8_lossy(&got)
    );
}

#[test]
fn idle_keep_alive_connections_are_closed() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(
        &dir.path().join("data"),
        &dir.path().join("s.sock"),
        &["--http-idle-timeout-secs", "1"],
    );

    // Busy: a request every 400 ms for 2.4 s keeps the connection open past the timeout.
    let mut busy = UnixStream::connect(&d.socket).unwrap();
    busy.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    for _ in 0..6 {
        ping(&mut busy);
        std::thread::sleep(Duration::from_millis(400));
    }
    ping(&mut busy);

    // Then idle: closed by the server (EOF) about a second after its last answer.
    let idle_since = Instant::now();
    let mut buf = [0u8; 16];
    let n = busy
        .read(&mut buf)
        .expect("the server closes the idle connection");
    assert_eq!(n, 0);
    let took = idle_since.elapsed();
    assert!(
        took >= Duration::from_millis(800) && took < Duration::from_secs(5),
        "closed after {took:?}"
    );
}
