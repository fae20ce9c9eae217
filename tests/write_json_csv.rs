//! Scenario: vctsdb's producers send JSON and CSV to `/write` of `strata serve`
//! (`shared/INGEST_FORMATS.md` §2.1): the format comes from `Content-Type` or `?format=`, the
//! timestamps from `precision=`, gzip works as for line protocol, good records are written when
//! others are bad (a 400 naming each bad one by element or record and line), a CSV header
//! without its required columns is refused whole, and line protocol is still what any other
//! content type means.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::io::Write;
use std::path::Path;

const JSON: (&str, &str) = ("Content-Type", "application/json");
const CSV: (&str, &str) = ("Content-Type", "text/csv");

fn post(sock: &Path, path: &str, headers: &[(&str, &str)], body: &str) -> Answer {
    request_with(sock, "POST", path, headers, body.as_bytes())
}

fn rows(sock: &Path, q: &str) -> serde_json::Value {
    let v = query_json(sock, "v", q);
    v["results"][0]["series"][0]["values"].clone()
}

#[test]
fn json_and_csv_bodies_are_written_by_content_type() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&dir.path().join("data"), &sock, &[]);
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+v", b"").status,
        200
    );

    // vctsdb's JSON: an array of {timestamp, value, series}, seconds by precision=s.
    let body = r#"[
        {"timestamp": 1700000000, "value": 42.5, "series": "temperature"},
        {"timestamp": 1700000060, "value": 43, "series": "temperature", "other": "ignored"}
    ]"#;
    let a = post(&sock, "/write?db=v&precision=s", &[JSON], body);
    assert_eq!(a.status, 204, "{}", a.body);
    assert_eq!(
        rows(&sock, "SELECT value FROM temperature"),
        serde_json::json!([
            [1_700_000_000_000_000_000i64, 42.5],
            [1_700_000_060_000_000_000i64, 43]
        ])
    );

    // A charset parameter, the tags and fields extensions, objects one after another.
    let body = "{\"timestamp\": 1, \"series\": \"cpu\", \"tags\": {\"host\": \"a\"}, \
                \"fields\": {\"usage\": 0.5, \"cores\": {\"int\": 4}, \"ok\": true}}\n\
                {\"timestamp\": 2, \"series\": \"cpu\", \"tags\": {\"host\": \"b\"}, \"value\": 7}\n";
    let a = post(
        &sock,
        "/write?db=v",
        &[("Content-Type", "application/json; charset=utf-8")],
        body,
    );
    assert_eq!(a.status, 204, "{}", a.body);
    assert_eq!(
        rows(
            &sock,
            "SELECT usage, cores, ok, value FROM cpu GROUP BY host"
        ),
        serde_json::json!([[1, 0.5, 4, true, null]])
    );
    let v = query_json(&sock, "v", "SELECT value FROM cpu WHERE host = 'b'");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 7, "{v}");

    // A bad element is named, the others are written.
    let body = "[\n{\"timestamp\": 10, \"value\": 1, \"series\": \"p\"},\n\
                {\"value\": 2, \"series\": \"p\"},\n\
                {\"timestamp\": 30, \"value\": \"3\", \"series\": \"p\"},\n\
                {\"timestamp\": 40, \"value\": 4, \"series\": \"p\"}\n]";
    let a = post(&sock, "/write?db=v", &[JSON], body);
    assert_eq!(a.status, 400, "{}", a.body);
    let error = a.json()["error"].as_str().unwrap().to_string();
    assert_eq!(
        error,
        "partial write: element 1 (line 3): missing required field: timestamp\n\
         element 2 (line 4): value must be a number dropped=2"
    );
    assert_eq!(
        rows(&sock, "SELECT value FROM p"),
        serde_json::json!([[10, 1], [40, 4]])
    );
    // What the engine refuses after the conversion is named by the record too.
    let body = r#"[{"timestamp": 50, "series": "cpu", "tags": {"host": "a"}, "fields": {"cores": 1.5}},
                   {"timestamp": 60, "series": "cpu", "tags": {"host": "a"}, "fields": {"cores": {"int": 8}}}]"#;
    let a = post(&sock, "/write?db=v", &[JSON], body);
    assert_eq!(a.status, 400, "{}", a.body);
    let error = a.json()["error"].as_str().unwrap().to_string();
    assert!(
        error.starts_with("partial write: element 0 (line 1): field type conflict")
            && error.ends_with("dropped=1"),
        "{error}"
    );
    let v = query_json(&sock, "v", "SELECT cores FROM cpu WHERE time = 60");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 8, "{v}");

    // A document that breaks off: the elements before the break are written.
    let body = "[{\"timestamp\": 70, \"value\": 7, \"series\": \"p\"}";
    let a = post(&sock, "/write?db=v", &[JSON], body);
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("missing ']'"), "{}", a.body);
    let v = query_json(&sock, "v", "SELECT count(value) FROM p");
    assert_eq!(scalar(&v), 3, "{v}");

    // vctsdb's CSV: a header, series and tag columns; a bad record is named.
    let body = "timestamp,value,series,region\n1,2.5,power,west\n2,oops,power,west\n\
                3,4.5,power,\n";
    let a = post(&sock, "/write?db=v&precision=ms", &[CSV], body);
    assert_eq!(a.status, 400, "{}", a.body);
    assert_eq!(
        a.json()["error"],
        "partial write: record 2 (line 3): value: cannot parse 'oops' dropped=1"
    );
    assert_eq!(
        rows(&sock, "SELECT value, region FROM power"),
        serde_json::json!([[1_000_000, 2.5, "west"], [3_000_000, 4.5, null]])
    );

    // Another delimiter and column names, and the measurement as a parameter.
    let body = "t;v;site\n100;1.5;x\n200;2.5;y\n";
    let a = post(
        &sock,
        "/write?db=v&measurement=flow&delimiter=%3B&timestamp_column=t&value_column=v",
        &[("Content-Type", "application/csv")],
        body,
    );
    assert_eq!(a.status, 204, "{}", a.body);
    let v = query_json(&sock, "v", "SELECT sum(value) FROM flow WHERE site = 'y'");
    assert_eq!(scalar(&v), 2.5, "{v}");

    // A header without the timestamp column: refused whole, nothing written.
    let a = post(
        &sock,
        "/write?db=v",
        &[CSV],
        "time,value,series\n1,1,nothing\n",
    );
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(
        a.body
            .contains("CSV headers must contain timestamp and value fields"),
        "{}",
        a.body
    );
    let v = query_json(&sock, "v", "SHOW MEASUREMENTS");
    assert!(!v.to_string().contains("nothing"), "{v}");

    // ?format= overrides the header; gzip is decoded first.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(b"timestamp,value,series\n5,5,zipped\n")
        .unwrap();
    let a = request_with(
        &sock,
        "POST",
        "/write?db=v&format=csv",
        &[("Content-Encoding", "gzip"), ("Content-Type", "text/plain")],
        &gz.finish().unwrap(),
    );
    assert_eq!(a.status, 204, "{}", a.body);
    let v = query_json(&sock, "v", "SELECT value FROM zipped");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 5, "{v}");
    let a = post(&sock, "/write?db=v&format=xml", &[], "m v=1 1\n");
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("use one of lp, json, csv"), "{}", a.body);

    // Any other content type is line protocol, as InfluxDB 1.x reads every body.
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/octet-stream",
    ] {
        let a = post(
            &sock,
            "/write?db=v",
            &[("Content-Type", content_type)],
            "lp,ct=x value=1 1\n",
        );
        assert_eq!(a.status, 204, "{content_type}: {}", a.body);
    }
    let v = query_json(&sock, "v", "SELECT count(value) FROM lp");
    assert_eq!(scalar(&v), 1, "{v}");

    // An empty array writes nothing and is not an error.
    let a = post(&sock, "/write?db=v", &[JSON], "[]");
    assert_eq!(a.status, 204, "{}", a.body);

    // Everything acknowledged survives a restart.
    assert!(d.stop().success());
    let d = Daemon::start(&dir.path().join("data"), &sock, &[]);
    let v = query_json(&sock, "v", "SELECT count(value) FROM p");
    assert_eq!(scalar(&v), 3, "{v}");
    let v = query_json(&sock, "v", "SELECT count(value) FROM power");
    assert_eq!(scalar(&v), 2, "{v}");
    assert!(d.stop().success());
}
