//! Scenario: SIGTERM with a large compaction backlog exits 0 within `--shutdown-timeout-secs`:
//! the compactors stop at a safe point instead of working the backlog off. The backlog: ~150
//! C0 tables, every layer limited to one table, and one-minute C1 windows (doubling per layer),
//! so each layer's move writes thousands of small tables; working it off takes ~16 s on a
//! 2-core machine (debug build). Nothing is lost: `strata check` finds the data directory
//! clean, and after a restart the backlog is still there to compact and every point answers.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::time::{Duration, Instant};

const WRITES: i64 = 150;
const POINTS: i64 = 100;
const HOUR: i64 = 3_600_000_000_000;

#[test]
fn shutdown_with_a_compaction_backlog_is_bounded_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (data, sock) = (dir.path().join("data"), dir.path().join("s.sock"));
    let path = data.to_str().unwrap().to_string();

    // Many tables in C0, each an hour of points (two C1 windows): a small memtable freezes at
    // every write, and the default layer limits leave them all in C0.
    let d = Daemon::start(&data, &sock, &["--memtable-size-bytes", "1024"]);
    assert_eq!(query(&sock, "", "CREATE DATABASE c").status, 200);
    for w in 0..WRITES {
        let body: String = (0..POINTS)
            .map(|i| {
                format!(
                    "m,host=h{} v={i} {}\n",
                    w % 7,
                    w * HOUR + i * (HOUR / POINTS)
                )
            })
            .collect();
        assert_eq!(write(&sock, "c", &body).status, 204);
    }
    let st = d.stop();
    assert!(st.success(), "{st}");
    let c0 = table_files(&data, "c").len();
    assert!(c0 as i64 >= WRITES / 2, "{c0} tables");

    let backlog = [
        "--layer-max-tables",
        "1,1,1,1,1,1,1,1",
        "--layer-windows",
        "1m,2m,4m,8m,16m,32m,64m",
        "--shutdown-timeout-secs",
        "4",
    ];
    let mut d = Daemon::start(&data, &sock, &backlog);
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    d.signal("TERM");
    let st = d
        .wait_exit(Duration::from_secs(30))
        .expect("strata must exit within the shutdown timeout");
    let took = t.elapsed();
    assert!(st.success(), "{st}");
    assert!(took < Duration::from_secs(6), "shutdown took {took:?}");
    assert!(!sock.exists(), "socket removed");

    let out = strata(&["check", &path]);
    assert!(
        out.status.success(),
        "strata check after the shutdown: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The backlog was left for later (compaction was stopped, not finished), and every point
    // is there; the second shutdown is bounded too.
    let mut d = Daemon::start(&data, &sock, &backlog);
    let text = request(&sock, "GET", "/metrics", b"").body;
    let debt: f64 = text
        .lines()
        .filter(|l| l.starts_with("strata_compaction_debt_tables") && !l.contains("C7"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum();
    assert!(debt > 0.0, "the backlog should still be there:\n{text}");
    let v = query_json(&sock, "c", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), WRITES * POINTS, "{v}");
    d.signal("INT");
    let st = d
        .wait_exit(Duration::from_secs(30))
        .expect("strata must exit within the shutdown timeout");
    assert!(st.success(), "{st}");
}
