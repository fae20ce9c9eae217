//! Scenario: a client that stops reading its answer is cut after `--http-send-timeout-secs`
//! (its connection and the answer it held given back); one that reads a big answer slowly,
//! taking some bytes within every timeout, gets all of it; and bytes taken count as activity,
//! so an idle timeout shorter than the download does not cut it either.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::fmt::Write as _;
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

const QUERY: &str = "/query?db=db&epoch=ns&q=SELECT+*+FROM+m";

/// A database whose `SELECT * FROM m` answers about 3 MB of JSON.
fn fill(sock: &Path) {
    assert_eq!(
        request(sock, "POST", "/query?q=CREATE+DATABASE+db", b"").status,
        200
    );
    let text = "x".repeat(100);
    let mut lines = String::new();
    for i in 0..25_000 {
        let _ = writeln!(lines, "m s=\"{text}\" {i}");
    }
    assert_eq!(write(sock, "db", &lines).status, 204);
}

/// Send the query on a raw connection, reading nothing yet.
fn ask(sock: &Path) -> UnixStream {
    let mut s = UnixStream::connect(sock).unwrap();
    s.write_all(format!("GET {QUERY} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
        .unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s
}

/// Read what comes until the server closes; the bytes that came.
fn read_until_closed(s: &mut UnixStream) -> usize {
    let mut got = 0;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return got,
            Ok(n) => got += n,
            Err(e) if e.kind() == ErrorKind::ConnectionReset => return got,
            Err(e) => panic!("reading the answer: {e}"),
        }
    }
}

/// A daemon with these timeouts and the data.
fn daemon(dir: &Path, send_secs: &str, idle_secs: &str) -> Daemon {
    let d = Daemon::start(
        &dir.join("data"),
        &dir.join("s.sock"),
        &[
            "--http-send-timeout-secs",
            send_secs,
            "--http-idle-timeout-secs",
            idle_secs,
        ],
    );
    fill(&d.socket);
    d
}

/// The whole answer, asked for normally.
fn whole_answer(sock: &Path) -> Vec<u8> {
    let whole = request(sock, "GET", QUERY, b"");
    assert_eq!(whole.status, 200);
    assert!(whole.bytes.len() > 2_000_000, "{}", whole.bytes.len());
    whole.bytes
}

/// Read the answer 256 KB every 300 ms (about 3.6 s in all) and check it is all there.
fn read_slowly_to_the_end(sock: &Path, whole: &[u8]) {
    let answer_len = whole.len();
    let started = Instant::now();
    let mut slow = ask(sock);
    let mut got: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    let body_len = |got: &[u8]| {
        got.windows(4)
            .position(|w| w == b"\r\n\r\n")
            .map_or(0, |head| got.len() - head - 4)
    };
    'answer: loop {
        let mut this_round = 0;
        while this_round < 256 << 10 {
            match slow.read(&mut buf) {
                Ok(0) => panic!("closed after {} of {answer_len} bytes", body_len(&got)),
                Ok(n) => {
                    this_round += n;
                    got.extend_from_slice(&buf[..n]);
                }
                Err(e) => panic!("after {} of {answer_len} bytes: {e}", body_len(&got)),
            }
            if body_len(&got) >= answer_len {
                break 'answer;
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    assert!(got.starts_with(b"HTTP/1.1 200"));
    assert_eq!(&got[got.len() - answer_len..], whole);
    assert!(
        started.elapsed() > Duration::from_secs(2),
        "not slow enough"
    );
}

#[test]
fn a_client_that_stops_reading_is_cut_after_the_send_timeout_and_a_slow_one_is_not() {
    let dir = tempfile::tempdir().unwrap();
    let d = daemon(dir.path(), "1", "0");
    let whole = whole_answer(&d.socket);
    // Stops reading: after the send timeout the server closes, with most of the answer unsent.
    let mut stopped = ask(&d.socket);
    std::thread::sleep(Duration::from_secs(3));
    let got = read_until_closed(&mut stopped);
    assert!(
        got < whole.len() / 2,
        "{got} of {} bytes came after the client stopped reading for 3 s",
        whole.len()
    );
    // Takes some bytes within every second: all of it.
    read_slowly_to_the_end(&d.socket, &whole);
}

/// Bytes the client takes count as activity: an idle timeout shorter than the download does
/// not cut it (it ran from the moment the answer was handed over, before).
#[test]
fn an_answer_being_taken_keeps_its_connection_from_idling_out() {
    let dir = tempfile::tempdir().unwrap();
    let d = daemon(dir.path(), "0", "1");
    let whole = whole_answer(&d.socket);
    read_slowly_to_the_end(&d.socket, &whole);
}
