//! `strata export` → `strata import` into an empty database → identical answers: line
//! protocol (every field type, escapes, series without some tags, pages smaller than a
//! series) and vctsdb's CSV; a measurement and a time range alone; daemon and embedded.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::path::Path;

use common::{texts, Via};

const DATA: &str = r#"cpu,host=a,region=eu\ west usage=12.5,n=3i,u=7u,ok=true,note="say \"hi\", ok" 1000000000
cpu,host=a,region=eu\ west usage=0.1,n=-4i 2000000000
cpu,host=a,region=eu\ west usage=1e-7 3000000000
cpu,host=a,region=eu\ west usage=123456789.123456789 4000000000
cpu,host=b usage=7,note="b\\c" 1000000000
cpu,host=b usage=8 -5000000000
cpu,host=c,region=us usage=9 1000000000
mem\,x,host=a free=1i 1000000000
mem\,x,host=a free=2i 1500000000
"#;

/// Every answer that must be the same in both databases.
fn answers(via: &Via, cwd: &Path, db: &str) -> Vec<serde_json::Value> {
    [
        "SELECT * FROM cpu GROUP BY *",
        "SELECT * FROM \"mem,x\" GROUP BY *",
        "SHOW FIELD KEYS",
        "SHOW SERIES",
        "SHOW TAG VALUES WITH KEY = \"region\"",
    ]
    .iter()
    .map(|q| via.query_json(cwd, db, q))
    .collect()
}

fn ok(out: &std::process::Output) {
    assert!(out.status.success(), "{:?}", texts(out));
}

fn scenario(daemon: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let via = Via::new(cwd, daemon);
    std::fs::write(cwd.join("in.lp"), DATA).expect("write");
    ok(&via.run(cwd, &["import", "in.lp", "--db", "src"], &[]));

    // Line protocol, in pages of 2 rows and 2 series (cpu has 3).
    ok(&via.run(
        cwd,
        &["export", "--db", "src", "--page", "2", "--out", "out.lp"],
        &[],
    ));
    let exported = std::fs::read_to_string(cwd.join("out.lp")).expect("read export");
    assert_eq!(exported.lines().count(), 9, "{exported}");
    assert!(
        exported.contains("n=3i") && exported.contains("u=7u"),
        "{exported}"
    );
    ok(&via.run(cwd, &["import", "out.lp", "--db", "copy"], &[]));
    assert_eq!(answers(&via, cwd, "src"), answers(&via, cwd, "copy"));

    // To standard output: one measurement, a time range (inclusive, RFC3339 or ns).
    let out = via.run(
        cwd,
        &[
            "export",
            "--db",
            "src",
            "--measurement",
            "cpu",
            "--start",
            "1970-01-01T00:00:02Z",
            "--end",
            "3000000000",
        ],
        &[],
    );
    ok(&out);
    let text = texts(&out).0;
    let times: Vec<&str> = text.lines().filter_map(|l| l.rsplit(' ').next()).collect();
    assert_eq!(times, vec!["2000000000", "3000000000"], "{text}");

    // vctsdb's CSV: values written as CSV come back the same.
    std::fs::write(
        cwd.join("in.csv"),
        "timestamp,value,series,region,dc\n1000,42.5,temp,us-west,dc1\n2000,-3,temp,eu,\n\
         3000,1e300,hum,,dc2\n",
    )
    .expect("write");
    ok(&via.run(cwd, &["import", "in.csv", "--db", "csvsrc"], &[]));
    ok(&via.run(
        cwd,
        &[
            "export", "--db", "csvsrc", "--format", "csv", "--out", "out.csv",
        ],
        &[],
    ));
    let csv = std::fs::read_to_string(cwd.join("out.csv")).expect("read");
    assert!(
        csv.starts_with("timestamp,value,series,dc,region\n"),
        "{csv}"
    );
    ok(&via.run(cwd, &["import", "out.csv", "--db", "csvcopy"], &[]));
    for q in [
        "SELECT * FROM temp GROUP BY *",
        "SELECT * FROM hum GROUP BY *",
        "SHOW SERIES",
    ] {
        assert_eq!(
            via.query_json(cwd, "csvsrc", q),
            via.query_json(cwd, "csvcopy", q),
            "{q}"
        );
    }
}

#[test]
fn round_trip_embedded() {
    scenario(false);
}

#[test]
fn round_trip_through_a_daemon() {
    scenario(true);
}
