//! Scenario: acknowledged writes survive `kill -9` of the daemon — every acknowledged point is
//! there after restart, and none twice — including when the WAL ends in a torn record.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

fn batch(b: usize, per: usize) -> String {
    let mut s = String::new();
    for i in 0..per {
        let n = b * per + i;
        // 4 hosts; each point its own timestamp per host
        s.push_str(&format!(
            "m,host=h{} v={}i,f={}.25 {}\n",
            n % 4,
            n,
            n,
            1_700_000_000_000_000_000i64 + n as i64 * 1_000_000_000
        ));
    }
    s
}

#[test]
fn acknowledged_points_survive_kill_dash_nine() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    // A small memtable so the data ends up spread over tables, frozen memtables and the WAL.
    let flags = [
        "--memtable-size-bytes",
        "32768",
        "--wal-segment-bytes",
        "16384",
    ];
    let d = Daemon::start(&data, &sock, &flags);
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+k", b"").status,
        200
    );
    let (batches, per) = (40, 100);
    for b in 0..batches {
        let w = write(&sock, "k", &batch(b, per));
        assert_eq!(w.status, 204, "{}", w.body);
    }
    let total = (batches * per) as i64;
    let expect_sum: i64 = (0..total).sum();
    let before = query_json(&sock, "k", "SELECT count(v), sum(v) FROM m");
    assert_eq!(before["results"][0]["series"][0]["values"][0][1], total);
    d.kill9();

    // The stale socket file from the crash is replaced on restart.
    assert!(sock.exists(), "kill -9 leaves the socket file behind");
    let d = Daemon::start(&data, &sock, &flags);
    let after = query_json(&sock, "k", "SELECT count(v), sum(v), count(f) FROM m");
    let row = &after["results"][0]["series"][0]["values"][0];
    assert_eq!(row[1], total, "every acknowledged point, once: {after}");
    assert_eq!(row[2], expect_sum);
    assert_eq!(row[3], total);
    let per_host = query_json(&sock, "k", "SELECT count(v) FROM m GROUP BY host");
    let series = per_host["results"][0]["series"].as_array().unwrap();
    assert_eq!(series.len(), 4);
    for s in series {
        assert_eq!(s["values"][0][1], total / 4);
    }

    // Write more, kill again, then tear the newest WAL segment's tail as a crash mid-append
    // would: the torn record is cut, everything acknowledged before it stays.
    let w = write(&sock, "k", &batch(batches, per));
    assert_eq!(w.status, 204);
    d.kill9();
    let wal_dir = data.join("k").join("wal");
    let mut segs: Vec<_> = std::fs::read_dir(&wal_dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    segs.sort();
    let newest = segs.last().expect("a WAL segment").clone();
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&newest)
        .unwrap();
    f.write_all(&[200, 0, 0, 0, 1, 2, 3, 4, 5, 6]).unwrap(); // header promising 200 bytes, 6 given
    drop(f);

    let d = Daemon::start(&data, &sock, &flags);
    let v = query_json(&sock, "k", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), total + per as i64);
    // And it keeps working after the cut.
    assert_eq!(write(&sock, "k", "m,host=h0 v=-1i 1\n").status, 204);
    let v = query_json(&sock, "k", "SELECT count(v) FROM m");
    assert_eq!(scalar(&v), total + per as i64 + 1);
    assert!(d.stop().success());
}
