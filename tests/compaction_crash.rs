//! Scenario: the real daemon aborts at each step of a compaction (fail points
//! `compaction-during-write`, `-after-write`, `-after-manifest`, `-after-install`, armed with
//! `STRATA_FAILPOINT`); after a restart every acknowledged point is there exactly once, no
//! unacknowledged point appears from nowhere, and no file the manifest does not name is left.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::collections::BTreeSet;
use std::os::unix::process::ExitStatusExt;
use std::time::{Duration, Instant};

use common::{inspect, metric, query_json, try_request, wait_until, Daemon};

const SEC: i64 = 1_000_000_000;
/// 2021-01-01T00:00:00Z
const T0: i64 = 1_609_459_200 * SEC;
const FLAGS: &[&str] = &[
    "--memtable-size-bytes",
    "1024",
    "--layer-max-tables",
    "2,2,2,2,2,2,2,2",
];

/// Batch `b`: 10 points in 10 different hours (so a compaction writes several windows), value
/// = a unique id.
fn batch(b: i64) -> (String, Vec<i64>) {
    let mut text = String::new();
    let mut ids = Vec::new();
    for j in 0..10 {
        let id = b * 10 + j;
        let ts = T0 + j * 3600 * SEC + b * SEC;
        text.push_str(&format!("m,host=h{} v={id}i {ts}\n", j % 3));
        ids.push(id);
    }
    (text, ids)
}

fn values(socket: &std::path::Path) -> Vec<i64> {
    let j = query_json(socket, "c", "SELECT v FROM m GROUP BY host");
    let mut out = Vec::new();
    for s in j["results"][0]["series"]
        .as_array()
        .map_or(&[][..], |v| v.as_slice())
    {
        for r in s["values"].as_array().unwrap() {
            out.push(r[1].as_i64().unwrap());
        }
    }
    out.sort_unstable();
    out
}

fn crash_at(failpoint: &str) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let socket = dir.path().join("s.sock");
    let mut d = Daemon::start_with_env(&data, &socket, FLAGS, &[("STRATA_FAILPOINT", failpoint)]);
    let a = try_request(&socket, "POST", "/query?q=CREATE+DATABASE+c", b"").unwrap();
    assert_eq!(a.status, 200);

    let mut acked: BTreeSet<i64> = BTreeSet::new();
    let mut attempted: BTreeSet<i64> = BTreeSet::new();
    for b in 0..400 {
        let (text, ids) = batch(b);
        attempted.extend(ids.iter().copied());
        match try_request(&socket, "POST", "/write?db=c", text.as_bytes()) {
            Some(a) if a.status == 204 => acked.extend(ids),
            _ => break,
        }
    }
    // The fail point must have fired: the process aborted (SIGABRT), it did not exit cleanly.
    let deadline = Instant::now() + Duration::from_secs(15);
    let status = loop {
        if let Some(st) = d.child.try_wait().unwrap() {
            break st;
        }
        assert!(
            Instant::now() < deadline,
            "{failpoint}: the daemon never reached the fail point"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(
        status.signal(),
        Some(6),
        "{failpoint}: expected an abort, got {status}"
    );
    assert!(
        !acked.is_empty(),
        "{failpoint}: some writes were acknowledged first"
    );

    let d = Daemon::start(&data, &socket, FLAGS);
    let got = values(&socket);
    let distinct: BTreeSet<i64> = got.iter().copied().collect();
    assert_eq!(distinct.len(), got.len(), "{failpoint}: a point is doubled");
    let missing: Vec<_> = acked.difference(&distinct).collect();
    assert!(
        missing.is_empty(),
        "{failpoint}: acknowledged points lost: {missing:?}"
    );
    assert!(
        distinct.is_subset(&attempted),
        "{failpoint}: points from nowhere"
    );
    let j = query_json(&socket, "c", "SELECT count(v), sum(v) FROM m");
    let row = &j["results"][0]["series"][0]["values"][0];
    assert_eq!(row[1].as_u64().unwrap(), got.len() as u64);
    assert_eq!(row[2].as_i64().unwrap(), got.iter().sum::<i64>());
    // A shutdown stops compaction at a safe point instead of finishing the backlog: let the
    // resumed compaction move data on before stopping.
    wait_until("compaction to resume after the restart", || {
        metric(&socket, "strata_layer_tables{db=\"c\",layer=\"C2\"}") > 0
    });
    assert!(d.stop().success());

    let text = inspect(&data, &["--layer-max-tables", "2,2,2,2,2,2,2,2"]);
    assert!(
        text.contains("orphaned files 0 "),
        "{failpoint}: files left that the manifest does not name:\n{text}"
    );
    // The restart finished the interrupted work: the data went on down the ladder.
    assert!(
        text.lines()
            .any(|l| l.trim_start().starts_with("C2 ") && !l.contains("files 0 ")),
        "{failpoint}: compaction did not resume:\n{text}"
    );
}

#[test]
fn abort_during_write() {
    crash_at("compaction-during-write");
}

#[test]
fn abort_after_write() {
    crash_at("compaction-after-write");
}

#[test]
fn abort_after_manifest() {
    crash_at("compaction-after-manifest");
}

#[test]
fn abort_after_install() {
    crash_at("compaction-after-install");
}
