//! Scenario: a client sends a gzip body made of several gzip members one after another (what
//! concatenated `gzip` output is, and what clients that compress in chunks send). Every member's
//! points are stored, as InfluxDB 1.x does; the body limit still applies to the decompressed size
//! of all members together, and a bomb made of many members is refused with 413.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::Write;

fn member(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn every_gzip_member_is_written_and_the_limit_counts_them_all() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(
        &dir.path().join("data"),
        &sock,
        &["--max-body-bytes", "100000"],
    );
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+g", b"").status,
        200
    );
    let gz = [("Content-Encoding", "gzip")];

    // Three members of 100 lines each: all 300 points are stored.
    let mut body = Vec::new();
    for m in 0..3 {
        let lines: String = (0..100)
            .map(|i| format!("m,part={m} v={i}i {}\n", m * 1000 + i))
            .collect();
        body.extend(member(lines.as_bytes()));
    }
    let a = request_with(&sock, "POST", "/write?db=g", &gz, &body);
    assert_eq!(a.status, 204, "{}", a.body);
    let v = query_json(&sock, "g", "SELECT count(v) FROM m GROUP BY part");
    let series = v["results"][0]["series"].as_array().expect("series");
    assert_eq!(series.len(), 3, "{v}");
    for s in series {
        assert_eq!(s["values"][0][1], 100, "{v}");
    }

    // Members that are each within the limit but together past it: 413, nothing written.
    let one = member("big v=1i 1\n".repeat(5000).as_bytes()); // 55,000 bytes inflated
    let two: Vec<u8> = [one.clone(), one].concat();
    assert!(two.len() < 100_000);
    let a = request_with(&sock, "POST", "/write?db=g", &gz, &two);
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(
        a.json()["error"]
            .as_str()
            .unwrap()
            .contains("after decompression"),
        "{}",
        a.body
    );

    // A bomb: 10 members of 8 MiB of zeros (80 MiB inflated, under 100 KB on the wire).
    let zeros = member(&vec![0u8; 8 << 20]);
    let bomb: Vec<u8> = std::iter::repeat_n(zeros.as_slice(), 10)
        .flatten()
        .copied()
        .collect();
    assert!(bomb.len() < 100_000, "{}", bomb.len());
    let a = request_with(&sock, "POST", "/write?db=g", &gz, &bomb);
    assert_eq!(a.status, 413, "{}", a.body);

    let v = query_json(&sock, "g", "SELECT count(v) FROM big");
    assert!(v["results"][0]["series"].is_null(), "{v}");
    assert!(d.stop().success());
}
