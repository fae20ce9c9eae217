//! Scenario: every engine knob of `Config` is read and changes behaviour the way its
//! documentation says. (`write_timeout` and `max_frozen_memtables` are also exercised by
//! tests/backpressure.rs; `max_body_bytes` and `max_line_bytes` by tests/line_protocol_errors.rs.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use strata::{Config, Db};

fn lines(from: usize, to: usize) -> String {
    (from..to)
        .map(|i| format!("m,k=x v={i}i {}\n", i as i64 * 1_000))
        .collect()
}

fn open(cfg: Config) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), cfg).unwrap();
    db.create_database("c").unwrap();
    (dir, db)
}

#[test]
fn memtable_size_bytes_sets_the_freeze_threshold() {
    let (_d1, small) = open(Config::new().memtable_size_bytes(4096));
    let (_d2, big) = open(Config::new());
    for i in 0..20 {
        small
            .write_lines("c", &lines(i * 100, i * 100 + 100))
            .unwrap();
        big.write_lines("c", &lines(i * 100, i * 100 + 100))
            .unwrap();
    }
    // The small memtable froze many times; flush() waits for those flushes to finish.
    small.flush().unwrap();
    let s = small
        .database("c")
        .unwrap()
        .versions()
        .current()
        .table_count();
    assert!(s >= 5, "small memtable: {s} tables");
    let b = big.database("c").unwrap().versions().current();
    assert_eq!(b.table_count(), 0, "64 MiB memtable never froze");
    assert!(!b.active.is_empty());
}

/// A writer thread that writes one line at a time until told to stop.
struct Filler {
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Filler {
    fn start(db: &Arc<Db>) -> Filler {
        let done = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (db, done, stop) = (db.clone(), done.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    db.write_lines("c", &lines(i, i + 1)).unwrap();
                    done.fetch_add(1, Ordering::SeqCst);
                    i += 1;
                }
            })
        };
        Filler { done, stop, thread }
    }

    /// Wait until the writer is blocked by backpressure — `max_frozen + 2` frozen memtables
    /// exist (see Config::max_frozen_memtables) and it has stopped making progress — and
    /// return how many writes it completed. Fails loudly after 60 s.
    fn wait_stalled(&self, d: &strata::database::Database, max_frozen: usize) -> usize {
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        let mut last = usize::MAX;
        let mut quiet = 0;
        loop {
            std::thread::sleep(Duration::from_millis(100));
            let now = self.done.load(Ordering::SeqCst);
            let full = d.versions().current().frozen.len() == max_frozen + 2;
            quiet = if full && now == last { quiet + 1 } else { 0 };
            if quiet >= 3 {
                return now;
            }
            last = now;
            assert!(
                std::time::Instant::now() < deadline,
                "the writer never stalled ({now} writes)"
            );
        }
    }

    fn stop(self) {
        self.stop.store(true, Ordering::SeqCst);
        self.thread.join().unwrap();
    }
}

/// How many sequential writes complete before backpressure stalls the writer.
fn writes_before_stall(max_frozen: usize) -> usize {
    let (_d, db) = open(
        Config::new()
            .memtable_size_bytes(2048)
            .max_frozen_memtables(max_frozen),
    );
    let db = Arc::new(db);
    let d = db.database("c").unwrap();
    d.set_flush_paused(true);
    let f = Filler::start(&db);
    let stalled = f.wait_stalled(&d, max_frozen);
    f.stop.store(true, Ordering::SeqCst);
    d.set_flush_paused(false);
    f.stop();
    stalled
}

#[test]
fn max_frozen_memtables_bounds_the_flush_queue() {
    let one = writes_before_stall(1);
    let four = writes_before_stall(4);
    assert!(
        four > one,
        "more frozen memtables may wait with 4 than with 1: {four} vs {one}"
    );
}

#[test]
fn wal_segment_bytes_sets_segment_rotation() {
    let count_segments = |seg: u64| {
        let (dir, db) = open(Config::new().wal_segment_bytes(seg));
        for i in 0..60 {
            db.write_lines("c", &lines(i * 100, i * 100 + 100)).unwrap();
        }
        std::fs::read_dir(dir.path().join("c").join("wal"))
            .unwrap()
            .count()
    };
    let small = count_segments(4096);
    let big = count_segments(64 << 20);
    assert_eq!(big, 1);
    assert!(small > 3, "{small} segments");
}

/// Start 16 writers against a held pipeline, release it, and count the group commits (WAL
/// syncs) they used.
fn syncs_for_queued_writers(batch_max: usize) -> u64 {
    let (_d, db) = open(
        Config::new()
            .memtable_size_bytes(1024)
            .max_frozen_memtables(1)
            .wal_batch_max_bytes(batch_max)
            .write_timeout(Duration::from_secs(600)),
    );
    let db = Arc::new(db);
    let d = db.database("c").unwrap();
    d.set_flush_paused(true);
    // Stall the pipeline: the WAL writer ends up blocked handing a batch to the memtable.
    let f = Filler::start(&db);
    f.wait_stalled(&d, 1);
    // 16 more writers: some fill the memtable's mailbox, the rest queue for the WAL writer.
    let before = d.stats().wal_syncs.load(Ordering::SeqCst);
    let queued: Vec<_> = (0..16)
        .map(|t| {
            let db = db.clone();
            std::thread::spawn(move || {
                db.write_lines("c", &lines(1_000_000 + t * 10, 1_000_000 + t * 10 + 10))
                    .unwrap()
            })
        })
        .collect();
    let mut pending = usize::MAX;
    loop {
        std::thread::sleep(Duration::from_millis(300));
        let now = d.pending_writes();
        if now == pending {
            break;
        }
        pending = now;
    }
    f.stop.store(true, Ordering::SeqCst);
    d.set_flush_paused(false);
    for q in queued {
        q.join().unwrap();
    }
    let after = d.stats().wal_syncs.load(Ordering::SeqCst);
    f.stop();
    after - before
}

#[test]
fn wal_batch_max_bytes_bounds_a_group_commit() {
    // With a 1-byte limit every request is its own group commit: 16 syncs. With the default
    // 8 MiB a group commit takes everything queued: at most the 4 batches the memtable's
    // mailbox holds, the one the WAL writer holds while blocked, and one drain after release.
    let tiny = syncs_for_queued_writers(1);
    assert!(tiny >= 16, "one sync per request: {tiny}");
    let default = syncs_for_queued_writers(8 << 20);
    assert!(default <= 6, "the queued writers share syncs: {default}");
}

#[test]
fn query_timeout_stops_a_query_and_zero_means_none() {
    let (_d, db) = open(Config::new().query_timeout(Duration::from_nanos(1)));
    db.write_lines("c", &lines(0, 100)).unwrap();
    let e = db.query("c", "SELECT count(v) FROM m").unwrap_err();
    assert!(matches!(e, strata::Error::QueryStopped(_)), "{e:?}");
    assert!(e.to_string().contains("query_timeout"), "{e}");

    let (_d, db) = open(Config::new().query_timeout(Duration::ZERO));
    db.write_lines("c", &lines(0, 100)).unwrap();
    let r = db.query("c", "SELECT count(v) FROM m").unwrap();
    assert!(r.to_json().contains(",100]"), "{}", r.to_json());
}

#[test]
fn invalid_values_are_refused_with_the_knob_named() {
    let dir = tempfile::tempdir().unwrap();
    let e = Db::open(dir.path(), Config::new().max_frozen_memtables(0))
        .err()
        .unwrap();
    assert!(e.to_string().contains("max_frozen_memtables"), "{e}");
}

#[test]
fn cardinality_limits_drop_points_of_new_series_past_them() {
    let defaults = Config::new();
    assert_eq!(defaults.get_max_series_per_database(), 1_000_000);
    assert_eq!(defaults.get_max_values_per_tag(), 100_000);
    let (_d, db) = open(Config::new().max_series_per_database(2));
    let e = db
        .write_lines("c", "m,k=a v=1 1\nm,k=b v=1 1\nm,k=c v=1 1\nm,k=a v=2 2\n")
        .unwrap_err();
    assert!(
        matches!(e, strata::Error::PartialWrite { dropped: 1, .. }),
        "{e}"
    );
    assert_eq!(
        e.to_string(),
        "partial write: max-series-per-database limit exceeded: (2) dropped=1"
    );
    let (_d, db) = open(
        Config::new()
            .max_values_per_tag(1)
            .max_series_per_database(0),
    );
    db.write_lines("c", "m,k=a v=1 1\n").unwrap();
    let e = db
        .write_lines("c", "m,k=b v=1 1\nn,k=b v=1 1\n")
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "partial write: max-values-per-tag limit exceeded (1/1): measurement=\"m\" tag=\"k\" value=\"b\" dropped=1"
    );
}
