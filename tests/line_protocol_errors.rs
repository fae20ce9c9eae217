//! Scenario: bad lines in a write are rejected with their line numbers and what is wrong, the
//! good lines of the same request are written, and the answer is InfluxDB 1.x's 400
//! `partial write`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

#[test]
fn bad_lines_are_named_and_good_lines_still_written() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(
        &dir.path().join("data"),
        &sock,
        &["--max-line-bytes", "200"],
    );
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+lp", b"").status,
        200
    );

    let long = format!("m v=1 {}", "9".repeat(300));
    let body = format!(
        "m,host=a v=1 1000000000\n\
         m,host=a\n\
         m,host=b v=2 2000000000\n\
         m v=\"unterminated 3000000000\n\
         {long}\n\
         m,host=c v=3i 4000000000\n"
    );
    let w = write(&sock, "lp", &body);
    assert_eq!(w.status, 400, "{}", w.body);
    let err = w.json()["error"].as_str().unwrap().to_string();
    assert!(err.starts_with("partial write:"), "{err}");
    assert!(err.contains("line 2"), "{err}");
    assert!(err.contains("line 4"), "{err}");
    assert!(err.contains("line 5"), "{err}");
    assert!(
        err.contains("line 6"),
        "field type conflict on line 6: {err}"
    );
    assert!(err.contains("field type conflict"), "{err}");
    assert!(err.ends_with("dropped=4"), "{err}");

    // Lines 1 and 3 were written.
    let v = query_json(&sock, "lp", "SELECT v FROM m");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([[1000000000, 1], [2000000000, 2]])
    );

    // Precision applies to timestamps; a line without one gets the server's time.
    let w = request(
        &sock,
        "POST",
        "/write?db=lp&precision=s",
        b"p v=1 1700000000\np v=2\n",
    );
    assert_eq!(w.status, 204, "{}", w.body);
    let v = query_json(&sock, "lp", "SELECT v FROM p");
    let rows = v["results"][0]["series"][0]["values"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(rows[0], serde_json::json!([1700000000000000000i64, 1]));
    assert!(rows[1][0].as_i64().unwrap() > 1700000000000000000i64);
    let bad = request(&sock, "POST", "/write?db=lp&precision=x", b"p v=1\n");
    assert_eq!(bad.status, 400);

    // A body that is not UTF-8 is refused whole, naming where it stops being valid.
    let bad = request(&sock, "POST", "/write?db=lp", b"u v=1 1\nu,h=\xff v=2 2\n");
    assert_eq!(bad.status, 400, "{}", bad.body);
    assert!(bad.json()["error"]
        .as_str()
        .unwrap()
        .contains("not valid UTF-8 (at byte 12)"));
    let v = query_json(&sock, "lp", "SELECT count(v) FROM u");
    assert!(v["results"][0]["series"].is_null(), "{v}");

    // A body over max_body_bytes is refused with 413 and nothing is written.
    drop(d);
    let d = Daemon::start(&dir.path().join("data"), &sock, &["--max-body-bytes", "64"]);
    let big: String = (0..10).map(|i| format!("big v={i} {i}\n")).collect();
    let w = write(&sock, "lp", &big);
    assert_eq!(w.status, 413, "{}", w.body);
    assert!(w.json()["error"]
        .as_str()
        .unwrap()
        .contains("max_body_bytes"));
    let v = query_json(&sock, "lp", "SELECT count(v) FROM big");
    assert!(v["results"][0]["series"].is_null(), "{v}");
    assert!(d.stop().success());
}
