//! A major compaction (`POST /internal/compact`) meeting a corrupt block quarantines that table
//! and goes on without it instead of poisoning the database: it answers 204, writes still
//! answer 204, the table is out of the catalog and named by `/health`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

#[test]
fn a_compaction_meeting_a_corrupt_block_does_not_poison() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");

    // Three tables: each clean stop drains the memtable into one.
    for host in ["a", "b", "c"] {
        let d = Daemon::start(&data, &sock, &[]);
        assert_eq!(query(&sock, "", "CREATE DATABASE d").status, 200);
        let body: String = (0..10i64)
            .map(|k| {
                format!(
                    "m,host={host} v={k} {}\n",
                    (1_700_000_000 + k) * 1_000_000_000
                )
            })
            .collect();
        assert_eq!(write(&sock, "d", &body).status, 204);
        assert!(d.stop().success());
    }
    assert_eq!(table_files(&data, "d").len(), 3);
    let bad = table_with(&data, "d", "host=b");
    let bad_name = bad.file_name().unwrap().to_string_lossy().to_string();
    corrupt_a_block(&bad);

    let d = Daemon::start(&data, &sock, &[]);
    let a = request(&sock, "POST", "/internal/compact?db=d", b"");
    assert_eq!(a.status, 204, "{}", a.body);
    assert_eq!(
        write(&sock, "d", "m,host=e v=1 1700000100000000000\n").status,
        204
    );
    let (status, _, msg) = health(&sock);
    assert_eq!(status, 503);
    assert!(
        msg.contains(&bad_name) && !msg.contains("poisoned"),
        "{msg}"
    );
    assert!(data.join("d").join("quarantine").join(&bad_name).exists());
    let v = query_json(&sock, "d", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), serde_json::json!(21), "{v}");
    // Another major compaction has nothing bad left to meet; writes still go on.
    let a = request(&sock, "POST", "/internal/compact?db=d", b"");
    assert_eq!(a.status, 204, "{}", a.body);
    assert_eq!(
        write(&sock, "d", "m,host=e v=2 1700000200000000000\n").status,
        204
    );
    assert!(d.stop().success());
    let text = inspect(&data, &[]);
    assert!(text.contains("quarantined tables 1"), "{text}");
}
