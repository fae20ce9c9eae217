//! Scenario: `pretty=true` on `/query` through `strata serve`.
//!
//! - The answer is indented as InfluxDB 1.x indents it (four spaces a level, `": "` after a
//!   key, members in the order of the compact answer, empty arrays as `[]`).
//! - The indented copy is charged to `query_memory_limit` before it is made: at a limit the
//!   compact answer fits in, the indented one (several times its size) is refused with the
//!   statement error naming the limit, and answered at a limit that holds both; the daemon
//!   answers on.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::fmt::Write as _;
use std::path::Path;

fn pretty_query(sock: &Path, q: &str, pretty: bool) -> Answer {
    request(
        sock,
        "GET",
        &format!(
            "/query?db=db&epoch=ns{}&q={}",
            if pretty { "&pretty=true" } else { "" },
            percent_encode(q)
        ),
        b"",
    )
}

fn daemon_with_points(dir: &Path, limit_kib: u64) -> (Daemon, std::path::PathBuf) {
    let sock = dir.join("s.sock");
    let limit = (limit_kib << 10).to_string();
    let daemon = Daemon::start(&dir.join("data"), &sock, &["--query-memory-limit", &limit]);
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+db", b"").status,
        200
    );
    let mut lines = String::new();
    for i in 0..2000 {
        let _ = writeln!(lines, "m a=1i,b=2i,c=3i,d=4i,e=5i,f=6i,g=7i,h=8i {i}");
    }
    assert_eq!(write(&sock, "db", &lines).status, 204);
    (daemon, sock)
}

#[test]
fn a_pretty_answer_is_indented_as_1x_indents_it() {
    let dir = tempfile::tempdir().unwrap();
    let (_d, sock) = daemon_with_points(dir.path(), 8192);
    let a = pretty_query(
        &sock,
        "SELECT a, b FROM m WHERE time < 2; SHOW MEASUREMENTS ON nope",
        true,
    );
    assert_eq!(a.status, 200, "{}", a.body);
    let expected = r#"{
    "results": [
        {
            "statement_id": 0,
            "series": [
                {
                    "name": "m",
                    "columns": [
                        "time",
                        "a",
                        "b"
                    ],
                    "values": [
                        [
                            0,
                            1,
                            2
                        ],
                        [
                            1,
                            1,
                            2
                        ]
                    ]
                }
            ]
        },
        {
            "statement_id": 1
        }
    ]
}"#;
    assert_eq!(a.body.trim_end(), expected);
    // The same answer as the compact one.
    let compact = pretty_query(&sock, "SELECT * FROM m", false).json();
    let pretty = pretty_query(&sock, "SELECT * FROM m", true);
    assert!(pretty.body.len() > 10 * serde_json::to_string(&compact).unwrap().len());
    assert_eq!(pretty.json(), compact);
}

#[test]
fn the_indented_copy_is_charged_to_query_memory_limit_before_it_is_made() {
    let q = "SELECT * FROM m";
    // The smallest of these limits the compact answer fits in...
    let mut fitted = None;
    for kib in [512, 1024, 2048, 4096] {
        let dir = tempfile::tempdir().unwrap();
        let (_d, sock) = daemon_with_points(dir.path(), kib);
        let compact = pretty_query(&sock, q, false);
        assert_eq!(compact.status, 200, "{}", compact.body);
        if compact.body.contains("query_memory_limit exceeded") {
            continue;
        }
        assert_eq!(
            compact.json()["results"][0]["series"][0]["values"]
                .as_array()
                .unwrap()
                .len(),
            2000
        );
        // ... does not hold the indented copy (15 times its size) beside it.
        let pretty = pretty_query(&sock, q, true);
        assert_eq!(pretty.status, 200, "{}", pretty.body);
        assert!(
            pretty.body.starts_with("{\n    \"results\": ["),
            "{}",
            pretty.body
        );
        assert!(
            pretty.body.contains("query_memory_limit exceeded"),
            "{kib} KiB: {}",
            &pretty.body[..pretty.body.len().min(300)]
        );
        assert!(pretty.body.len() < 1000, "{}", pretty.body);
        // The daemon answers on.
        assert_eq!(pretty_query(&sock, q, false).body, compact.body);
        fitted = Some(kib);
        break;
    }
    assert!(fitted.is_some(), "the compact answer never fitted");
    // A limit that holds both answers the indented copy.
    let dir = tempfile::tempdir().unwrap();
    let (_d, sock) = daemon_with_points(dir.path(), 8192);
    let pretty = pretty_query(&sock, q, true);
    assert!(!pretty.body.contains("exceeded"));
    assert_eq!(
        pretty.json()["results"][0]["series"][0]["values"]
            .as_array()
            .unwrap()
            .len(),
        2000
    );
}
