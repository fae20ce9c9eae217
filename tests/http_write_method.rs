//! Scenario: `/write` takes POST only, as InfluxDB 1.x: `GET /write` (and PUT, DELETE) is
//! answered 405 with 1.x's plain-text body and `Allow: POST, OPTIONS`, before the database
//! parameter is looked at; `OPTIONS /write` is 200. Checked against InfluxDB 1.6.7.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;

/// The raw head and body of one request.
fn raw(sock: &std::path::Path, method: &str, target: &str) -> (String, String) {
    let mut s = UnixStream::connect(sock).unwrap();
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    (head.to_ascii_lowercase(), body.to_string())
}

#[test]
fn write_takes_post_only() {
    let dir = tempfile::tempdir().unwrap();
    let d = Daemon::start(&dir.path().join("data"), &dir.path().join("s.sock"), &[]);
    assert_eq!(query(&d.socket, "", "CREATE DATABASE w").status, 200);
    for (method, target) in [
        ("GET", "/write?db=w"),
        ("GET", "/write"),
        ("PUT", "/write?db=w"),
        ("DELETE", "/write?db=w"),
    ] {
        let (head, body) = raw(&d.socket, method, target);
        assert!(
            head.starts_with("http/1.1 405"),
            "{method} {target}: {head}"
        );
        assert!(head.contains("\r\nallow: post, options"), "{head}");
        assert!(
            head.contains("\r\ncontent-type: text/plain; charset=utf-8"),
            "{head}"
        );
        assert!(head.contains("\r\nx-influxdb-version: "), "{head}");
        assert_eq!(body, "Method Not Allowed\n");
    }
    let (head, _) = raw(&d.socket, "OPTIONS", "/write?db=w");
    assert!(head.starts_with("http/1.1 200"), "{head}");
    // POST still writes.
    assert_eq!(write(&d.socket, "w", "m v=1 1\n").status, 204);
    let v = query_json(&d.socket, "w", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), 1);
}
