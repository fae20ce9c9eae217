//! Scenario: a client that sent half of a `/write` body and stopped does not hold SIGTERM past
//! `--shutdown-timeout-secs`: the daemon cuts the connection, closes the database, removes
//! the socket and exits 0; the acknowledged writes are there after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

#[test]
fn a_half_sent_body_does_not_hold_sigterm_past_the_shutdown_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sock) = (dir.path().join("data"), dir.path().join("s.sock"));
    let mut d = Daemon::start(&data, &sock, &["--shutdown-timeout-secs", "2"]);
    assert_eq!(query(&sock, "", "CREATE DATABASE h").status, 200);
    assert_eq!(write(&sock, "h", "m v=1 1000\n").status, 204);

    // Half a body (the default body timeout, 30 s, is far longer than the shutdown's).
    let mut slow = UnixStream::connect(&sock).unwrap();
    slow.write_all(
        b"POST /write?db=h HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000\r\n\r\nm v=2 2",
    )
    .unwrap();
    std::thread::sleep(Duration::from_millis(300));

    let t = Instant::now();
    d.signal("TERM");
    let st = d
        .wait_exit(Duration::from_secs(10))
        .expect("strata must exit within the shutdown timeout");
    let took = t.elapsed();
    assert!(st.success(), "{st}");
    assert!(took < Duration::from_secs(4), "exit took {took:?}");
    assert!(!sock.exists(), "socket removed");
    drop(slow);

    let d = Daemon::start(&data, &sock, &[]);
    let v = query_json(&sock, "h", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), 1, "{v}");
    drop(d);
}
