//! Scenario: with the C0 compactor held up, C0 grows to twice its limit plus one, then flushes
//! stall, frozen memtables queue up and writers block; released, the compactor catches up and
//! every write lands.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use strata::{Config, Db};

#[test]
fn writers_wait_while_c0_is_twice_over_its_limit_and_resume_after() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new()
        .memtable_size_bytes(2048)
        .max_frozen_memtables(1)
        .layer_max_tables(0, 2)
        .write_timeout(Duration::from_secs(600));
    let db = Arc::new(Db::open(dir.path(), cfg).unwrap());
    db.create_database("b").unwrap();
    let d = db.database("b").unwrap();
    d.set_compaction_paused(true);

    let total = 3000;
    let done = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (db, done) = (db.clone(), done.clone());
        std::thread::spawn(move || {
            for i in 0..total {
                let line = format!("m,k=x v={i}i {}\n", i as i64 * 1_000_000_000);
                db.write_lines("b", &line).unwrap();
                done.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Stalled: C0 = 2 * limit + 1 tables, the writer stopped moving.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut last, mut quiet) = (usize::MAX, 0);
    let stalled_at = loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = done.load(Ordering::SeqCst);
        let c0 = d.versions().current().layers[0].len();
        quiet = if c0 == 5 && now == last { quiet + 1 } else { 0 };
        if quiet >= 3 {
            break now;
        }
        last = now;
        assert!(
            Instant::now() < deadline,
            "never stalled ({now} writes, C0 {c0})"
        );
    };
    assert!(stalled_at < total, "the writer must be blocked");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(done.load(Ordering::SeqCst), stalled_at, "still blocked");
    let v = d.versions().current();
    assert_eq!(
        v.layers[0].len(),
        5,
        "C0 never grows past twice its limit + 1"
    );
    assert!(
        !v.frozen.is_empty(),
        "frozen memtables wait for the stalled flusher"
    );
    assert!(d.compaction_stats().flush_stalls >= 1);

    d.set_compaction_paused(false);
    writer.join().unwrap();
    assert_eq!(done.load(Ordering::SeqCst), total);
    d.flush().unwrap();
    d.compact().unwrap();
    assert!(d.versions().current().layers[0].len() <= 2);
    assert!(d.compaction_stats().layers[0].compactions >= 1);
    let r = db.query("b", "SELECT count(v), sum(v) FROM m").unwrap();
    let j: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    assert_eq!(j["results"][0]["series"][0]["values"][0][1], total);
    assert_eq!(
        j["results"][0]["series"][0]["values"][0][2],
        (0..total).sum::<usize>()
    );
    drop(d);
    Arc::try_unwrap(db).ok().unwrap().close().unwrap();
}
