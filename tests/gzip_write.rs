//! Scenario: a client that gzips its writes (`Content-Encoding: gzip`, as Telegraf and InfluxDB
//! client libraries can) is understood; the body limit applies to the decompressed size, and a
//! body that is not gzip gets a clear 400.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::Write;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzipped_writes_are_accepted_within_the_body_limit() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(
        &dir.path().join("data"),
        &sock,
        &["--max-body-bytes", "4000"],
    );
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+g", b"").status,
        200
    );
    let gz = [("Content-Encoding", "gzip")];

    let body: String = (0..50).map(|i| format!("m,h=a v={i}i {i}\n")).collect();
    let a = request_with(&sock, "POST", "/write?db=g", &gz, &gzip(body.as_bytes()));
    assert_eq!(a.status, 204, "{}", a.body);
    let v = query_json(&sock, "g", "SELECT count(v), sum(v) FROM m");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 50);
    assert_eq!(
        v["results"][0]["series"][0]["values"][0][2],
        (0..50).sum::<i64>()
    );

    // Small on the wire, too large once decompressed: 413, nothing written.
    let big = "big,host=aaaaaaaa v=1i 1\n".repeat(1000);
    let packed = gzip(big.as_bytes());
    assert!(packed.len() < 4000 && big.len() > 4000);
    let a = request_with(&sock, "POST", "/write?db=g", &gz, &packed);
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.json()["error"]
        .as_str()
        .unwrap()
        .contains("after decompression"));
    let v = query_json(&sock, "g", "SELECT count(v) FROM big");
    assert!(v["results"][0]["series"].is_null(), "{v}");

    let a = request_with(&sock, "POST", "/write?db=g", &gz, b"m v=1 1\n");
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.json()["error"]
        .as_str()
        .unwrap()
        .contains("not valid gzip"));
    assert!(d.stop().success());
}
