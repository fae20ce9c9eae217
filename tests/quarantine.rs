//! A corrupt block found by a query through `strata serve`: the query fails naming the table,
//! which is quarantined; `/health` fails naming it; later queries answer from the rest; writes
//! go on; a restart keeps it quarantined; `strata check` and `strata inspect` list it; removing
//! its files from the quarantine directory clears `/health`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

fn lines(host: &str, from: i64, n: i64) -> String {
    (0..n)
        .map(|i| format!("m,host={host} v={i} {}\n", (from + i) * 1_000_000_000))
        .collect()
}

fn count(sock: &std::path::Path) -> serde_json::Value {
    scalar(&query_json(sock, "d", "SELECT count(v) FROM m"))
}

#[test]
fn a_corrupt_block_found_by_a_query_is_quarantined_and_the_rest_serves() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");

    // Two tables: each clean stop drains the memtable into one.
    let d = Daemon::start(&data, &sock, &[]);
    assert_eq!(query(&sock, "", "CREATE DATABASE d").status, 200);
    assert_eq!(
        write(&sock, "d", &lines("a", 1_700_000_000, 20)).status,
        204
    );
    assert!(d.stop().success());
    let d = Daemon::start(&data, &sock, &[]);
    assert_eq!(
        write(&sock, "d", &lines("b", 1_700_000_000, 10)).status,
        204
    );
    assert!(d.stop().success());
    assert_eq!(table_files(&data, "d").len(), 2);

    let bad = table_with(&data, "d", "host=a");
    let bad_name = bad.file_name().unwrap().to_string_lossy().to_string();
    corrupt_a_block(&bad);
    let check = strata(&["check", data.to_str().unwrap()]);
    assert_eq!(check.status.code(), Some(1), "check sees the damage");

    let d = Daemon::start(&data, &sock, &[]);
    assert_eq!(health(&sock).1, "pass", "not found until read");
    // The query reading the block fails, naming the table and its quarantine.
    let a = query(&sock, "d", "SELECT v FROM m");
    assert_eq!(a.status, 200, "{}", a.body);
    let err = a.json()["results"][0]["error"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        err.contains(&bad_name) && err.contains("quarantined"),
        "{}",
        a.body
    );
    assert!(!bad.exists());
    assert!(data.join("d").join("quarantine").join(&bad_name).exists());

    let (status, st, msg) = health(&sock);
    assert_eq!((status, st.as_str()), (503, "fail"), "{msg}");
    assert!(msg.contains(&bad_name) && msg.contains("d: "), "{msg}");

    // Later queries answer from the rest; writes go on.
    assert_eq!(count(&sock), serde_json::json!(10));
    assert_eq!(write(&sock, "d", &lines("c", 1_700_000_100, 5)).status, 204);
    assert_eq!(count(&sock), serde_json::json!(15));
    assert!(d.stop().success());

    // A restart: it starts, still reports the table, serves the rest.
    let d = Daemon::start(&data, &sock, &[]);
    let (status, _, msg) = health(&sock);
    assert_eq!(status, 503);
    assert!(msg.contains(&bad_name), "{msg}");
    assert_eq!(count(&sock), serde_json::json!(15));
    assert!(d.stop().success());

    let out = strata(&["check", data.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("DAMAGED") && text.contains(&bad_name) && text.contains("quarantined"),
        "{text}"
    );
    let text = inspect(&data, &[]);
    assert!(
        text.contains("quarantined tables 1") && text.contains(&bad_name),
        "{text}"
    );

    // Clearing: remove the quarantined file (and its reason); /health passes at once.
    let d = Daemon::start(&data, &sock, &[]);
    for e in std::fs::read_dir(data.join("d").join("quarantine")).unwrap() {
        std::fs::remove_file(e.unwrap().path()).unwrap();
    }
    assert_eq!(health(&sock).1, "pass");
    assert!(d.stop().success());
    let out = strata(&["check", data.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
}
