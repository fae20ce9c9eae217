//! Scenario: SIGHUP (a closed terminal) drains like SIGTERM: the daemon flushes the memtable
//! to a table, removes its socket file and exits 0.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::time::Duration;

#[test]
fn sighup_drains_and_removes_the_socket() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sock) = (dir.path().join("data"), dir.path().join("s.sock"));
    let mut d = Daemon::start(&data, &sock, &[]);
    assert_eq!(query(&sock, "", "CREATE DATABASE h").status, 200);
    assert_eq!(write(&sock, "h", "m v=1 1000\nm v=2 2000\n").status, 204);
    assert!(table_files(&data, "h").is_empty(), "still in the memtable");

    d.signal("HUP");
    let st = d
        .wait_exit(Duration::from_secs(30))
        .expect("strata must exit on SIGHUP");
    assert!(st.success(), "{st}");
    assert!(!sock.exists(), "socket removed");
    assert_eq!(table_files(&data, "h").len(), 1, "the memtable was flushed");

    let d = Daemon::start(&data, &sock, &[]);
    let v = query_json(&sock, "h", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), 2, "{v}");
    drop(d);
}
