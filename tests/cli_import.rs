//! `strata import` of line protocol, CSV, JSON, gzip and an `influx_inspect export` file, with
//! bad lines and records reported by file and line while the good ones are kept; against a
//! daemon and embedded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::Write;
use std::path::Path;

use common::{texts, Via};

fn count(via: &Via, cwd: &Path, db: &str, q: &str) -> serde_json::Value {
    common::scalar(&via.query_json(cwd, db, q))
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("gzip");
    e.finish().expect("gzip")
}

fn scenario(daemon: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let via = Via::new(cwd, daemon);
    let w = |name: &str, data: &[u8]| std::fs::write(cwd.join(name), data).expect("write input");

    // Line protocol: a syntax error (line 3) and a field type conflict the engine refuses
    // (line 6, in the second batch), each named by file:line; the rest is written.
    w(
        "a.lp",
        b"cpu,host=a usage=1 1000000000\ncpu,host=a usage=2 2000000000\nthis is not lp\n\
          # a comment\ncpu,host=b usage=3 3000000000\ncpu,host=b usage=\"oops\" 4000000000\n\
          cpu,host=b usage=5 5000000000\n",
    );
    let out = via.run(cwd, &["import", "a.lp", "--db", "lp", "--batch", "2"], &[]);
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stdout}\n{stderr}");
    assert!(
        stderr.contains("a.lp:3: unable to parse 'this is not lp'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("a.lp:6: ") && stderr.contains("field type conflict"),
        "{stderr}"
    );
    assert!(
        stdout.contains("a.lp: 4 points written, 2 lines or records rejected"),
        "{stdout}"
    );
    assert_eq!(count(&via, cwd, "lp", "SELECT count(usage) FROM cpu"), 4);

    // gzip, timestamps in seconds, of any age (1970 and before it).
    w("old.lp.gz", &gzip(b"m v=1 -86400\nm v=2 0\nm v=3 1\n"));
    let out = via.run(
        cwd,
        &["import", "old.lp.gz", "--db", "gz", "--precision", "s"],
        &[],
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    let v = via.query_json(cwd, "gz", "SELECT v FROM m");
    assert_eq!(
        v["results"][0]["series"][0]["values"][0][0],
        -86_400_000_000_000i64
    );
    assert_eq!(
        v["results"][0]["series"][0]["values"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    // CSV: vctsdb's header mode; record 2 has a bad value, record 3 the wrong field count.
    w(
        "v.csv",
        b"timestamp,value,series,region\n1000,42.5,temp,us-west\n2000,not_a_number,temp,eu\n\
          3000,1\n4000,43.5,temp,\n",
    );
    let out = via.run(cwd, &["import", "v.csv", "--db", "csv"], &[]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("v.csv:3: record 2: value: cannot parse 'not_a_number'"),
        "{stderr}"
    );
    assert!(stderr.contains("v.csv:4: record 3: "), "{stderr}");
    assert_eq!(count(&via, cwd, "csv", "SELECT count(value) FROM temp"), 2);
    assert_eq!(
        count(
            &via,
            cwd,
            "csv",
            "SELECT sum(value) FROM temp WHERE region = 'us-west'"
        ),
        42.5
    );

    // JSON: an array; element 1 has a string value; tags and fields extensions.
    w(
        "j.json",
        br#"[{"timestamp": 1000, "value": 42.5, "series": "s"},
 {"timestamp": 2000, "value": "43", "series": "s"},
 {"timestamp": 3000.7, "series": "s", "tags": {"host": "h"}, "fields": {"value": 1, "n": {"int": 5}}}]"#,
    );
    let out = via.run(cwd, &["import", "j.json", "--db", "json"], &[]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("j.json:2: element 1: value must be a number"),
        "{stderr}"
    );
    assert_eq!(count(&via, cwd, "json", "SELECT count(value) FROM s"), 2);
    assert_eq!(
        count(&via, cwd, "json", "SELECT sum(n) FROM s WHERE host = 'h'"),
        5
    );

    // influx_inspect export: DDL creates the databases, CONTEXT-DATABASE picks where lines go.
    w(
        "export.txt",
        b"# INFLUXDB EXPORT: 1677-09-21T00:12:43Z - 2262-04-11T23:47:16Z\n# DDL\n\
          CREATE DATABASE noaa WITH NAME autogen\nCREATE DATABASE other WITH NAME autogen\n\
          # DML\n# CONTEXT-DATABASE:noaa\n# CONTEXT-RETENTION-POLICY:autogen\n# writing tsm data\n\
          h2o,location=coyote level=8.12 1439856000000000000\n\
          h2o,location=santa level=2.06 1439856000000000000\n\
          # CONTEXT-DATABASE:other\n# CONTEXT-RETENTION-POLICY:autogen\n\
          cpu v=1i 1439856000000000000\n",
    );
    let out = via.run(cwd, &["import", "export.txt"], &[]);
    assert!(out.status.success(), "{:?}", texts(&out));
    assert_eq!(count(&via, cwd, "noaa", "SELECT count(level) FROM h2o"), 2);
    assert_eq!(count(&via, cwd, "other", "SELECT sum(v) FROM cpu"), 1);

    // Several files at once, and a missing one: exit 1, the others imported.
    let out = via.run(
        cwd,
        &[
            "import",
            "missing.lp",
            "old.lp.gz",
            "--db",
            "many",
            "--precision",
            "s",
        ],
        &[],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stderr.contains("missing.lp"), "{stderr}");
    assert_eq!(count(&via, cwd, "many", "SELECT count(v) FROM m"), 3);
}

#[test]
fn import_embedded() {
    scenario(false);
}

#[test]
fn import_through_a_daemon() {
    scenario(true);
}

/// An unclosed quote does not make the rest of a large CSV file one record held in memory: the
/// record is refused past the record bound, what came before it is written.
#[test]
fn an_unclosed_csv_quote_is_bounded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let via = Via::new(cwd, false);
    let mut body = String::from("timestamp,value,series\n1,1,m\n2,\"2,m\n");
    let filler = "3,3,m\n".repeat(400_000); // 2.4 MB after the open quote
    body.push_str(&filler);
    std::fs::write(cwd.join("q.csv"), body).expect("write");
    let out = via.run(cwd, &["import", "q.csv", "--db", "q"], &[]);
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("q.csv:3: record 2: a CSV record longer than"),
        "{stderr}"
    );
    assert_eq!(count(&via, cwd, "q", "SELECT count(value) FROM m"), 1);
}
