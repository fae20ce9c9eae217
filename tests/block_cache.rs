//! Scenario: `block_cache_bytes`. A query's block reads go through a cache shared by every
//! database: the blocks a query read come from memory the next time (no read from the file,
//! same answer), a cache too small for a block holds none, and 0 disables it. Through the
//! daemon, `--block-cache-bytes` sets it and `/metrics` counts hits and misses.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use strata::{BlockCacheStats, Config, Db};

/// 3,000 points of `v` for each of hosts a and b (3 blocks of 1,000 each per host) in a
/// table of database `name`.
fn load(db: &Db, name: &str) {
    db.create_database(name).unwrap();
    let mut lines = String::new();
    for t in 0..3000i64 {
        for (h, k) in [("a", 1), ("b", 2)] {
            lines.push_str(&format!(
                "m,host={h} v={}.25 {}\n",
                t * k,
                t * 1_000_000_000
            ));
        }
    }
    db.write_lines(name, &lines).unwrap();
    db.flush().unwrap();
}

/// Blocks read from the files of every table of `name`.
fn file_reads(db: &Db, name: &str) -> u64 {
    let d = db.database(name).unwrap();
    d.versions()
        .current()
        .tables_oldest_first()
        .iter()
        .map(|t| t.table.file_reads())
        .sum()
}

fn answer(db: &Db, name: &str, q: &str) -> String {
    db.query(name, q).unwrap().to_json()
}

/// Buckets that split every block, so that no pre-aggregate answers and all 6 blocks are
/// decoded.
const Q: &str = "SELECT sum(v) FROM m WHERE time < 3000s GROUP BY time(7m), host";

#[test]
fn blocks_read_again_come_from_memory() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("data"), Config::new()).unwrap();
    load(&db, "d");
    let BlockCacheStats { capacity, .. } = db.block_cache_stats();
    assert_eq!(capacity, 32 << 20, "the default");

    let first = answer(&db, "d", Q);
    assert_eq!(file_reads(&db, "d"), 6);
    let s = db.block_cache_stats();
    assert_eq!((s.hits, s.misses, s.blocks), (0, 6, 6), "{s:?}");
    assert!(s.bytes > 0 && s.bytes <= capacity, "{s:?}");

    // Again: every block from memory, the same answer.
    assert_eq!(answer(&db, "d", Q), first);
    assert_eq!(file_reads(&db, "d"), 6);
    let s = db.block_cache_stats();
    assert_eq!((s.hits, s.misses), (6, 6), "{s:?}");

    // One cache for every database of the Db: a second database's blocks join it.
    load(&db, "e");
    assert_eq!(answer(&db, "e", Q), first);
    assert_eq!(answer(&db, "e", Q), first);
    assert_eq!(file_reads(&db, "e"), 6);
    let s = db.block_cache_stats();
    assert_eq!((s.hits, s.misses, s.blocks), (12, 12, 12), "{s:?}");
    db.close().unwrap();
}

#[test]
fn zero_or_a_cache_smaller_than_a_block_reads_every_block_from_its_file() {
    for bytes in [0, 50] {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::open(
            dir.path().join("data"),
            Config::new().block_cache_bytes(bytes),
        )
        .unwrap();
        load(&db, "d");
        let first = answer(&db, "d", Q);
        assert_eq!(answer(&db, "d", Q), first);
        assert_eq!(answer(&db, "d", Q), first);
        assert_eq!(file_reads(&db, "d"), 18, "block_cache_bytes {bytes}");
        let s = db.block_cache_stats();
        assert_eq!((s.hits, s.blocks, s.capacity), (0, 0, bytes), "{s:?}");
        // A disabled cache is not even asked; a tiny one misses every time.
        assert_eq!(s.misses, if bytes == 0 { 0 } else { 18 }, "{s:?}");
        db.close().unwrap();
    }
}

#[test]
fn the_cache_does_not_change_answers() {
    let dir = tempfile::tempdir().unwrap();
    let cached = Db::open(dir.path().join("a"), Config::new()).unwrap();
    let direct = Db::open(dir.path().join("b"), Config::new().block_cache_bytes(0)).unwrap();
    for db in [&cached, &direct] {
        load(db, "d");
    }
    for q in [
        Q,
        "SELECT mean(v), max(v), count(v) FROM m WHERE time < 1d GROUP BY time(1h), host",
        "SELECT * FROM m WHERE v > 5000 AND time >= 2000s",
        "SELECT last(v) FROM m GROUP BY host",
        "SELECT v FROM m WHERE host = 'b' ORDER BY time DESC LIMIT 3",
    ] {
        for _ in 0..2 {
            assert_eq!(answer(&cached, "d", q), answer(&direct, "d", q), "{q}");
        }
    }
    assert!(cached.block_cache_stats().hits > 0);
    cached.close().unwrap();
    direct.close().unwrap();
}

#[test]
fn daemon_flag_sets_it_and_metrics_count_hits_and_misses() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let metric = |name: &str| common::metric(&sock, name);
    let data = dir.path().join("data");
    // Written, then stopped: the memtable is flushed to a table.
    let d = common::Daemon::start(&data, &sock, &[]);
    assert_eq!(common::query(&sock, "", "CREATE DATABASE d").status, 200);
    let lines: String = (0..2000)
        .map(|t| format!("m,host=a v={t} {}\n", t * 1_000_000_000i64))
        .collect();
    assert_eq!(common::write(&sock, "d", &lines).status, 204);
    assert!(d.stop().success());

    let q = "SELECT sum(v) FROM m WHERE time < 2000s GROUP BY time(7m)";
    let run = |extra: &[&str]| -> (u64, u64, u64) {
        let d = common::Daemon::start(&data, &sock, extra);
        for _ in 0..3 {
            let v = common::query_json(&sock, "d", q);
            assert_eq!(v["results"][0]["series"][0]["values"][0][1], 87990, "{v}");
        }
        let got = (
            metric("strata_block_cache_reads_total{result=\"hit\"}"),
            metric("strata_block_cache_reads_total{result=\"miss\"}"),
            metric("strata_block_cache_bytes"),
        );
        assert!(d.stop().success());
        got
    };
    // Two blocks, read three times: from the file once, then from memory.
    let (hits, misses, bytes) = run(&[]);
    assert_eq!((hits, misses), (4, 2));
    assert!(bytes > 0);
    assert_eq!(run(&["--block-cache-bytes", "0"]), (0, 0, 0));
}
