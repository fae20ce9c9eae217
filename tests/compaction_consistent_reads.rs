//! Scenario: queries running in a loop while compaction moves data through the layers always
//! see the same count and sum (each install swaps inputs for outputs in one version edit).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use strata::{Config, Db};

const SEC: i64 = 1_000_000_000;
const T0: i64 = 1_609_459_200 * SEC;

fn count_sum(db: &Db) -> (i64, i64) {
    let r = db.query("q", "SELECT count(v), sum(v) FROM m").unwrap();
    let j: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let row = &j["results"][0]["series"][0]["values"][0];
    (row[1].as_i64().unwrap(), row[2].as_i64().unwrap())
}

#[test]
fn count_and_sum_never_change_while_compaction_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut cfg = Config::new().layer_max_tables(0, 3);
    for l in 1..8 {
        cfg = cfg.layer_max_tables(l, 1);
    }
    let db = Arc::new(Db::open(dir.path(), cfg).unwrap());
    db.create_database("q").unwrap();
    let d = db.database("q").unwrap();
    d.set_compaction_paused(true);
    // Six overlapping flushes with overwrites (each round rewrites part of the previous one),
    // points every 12 hours over 150 days.
    let mut expected = std::collections::BTreeMap::new();
    for r in 0..6i64 {
        let mut text = String::new();
        for i in (r * 40)..(r * 40 + 100) {
            let ts = T0 + i * 12 * 3600 * SEC;
            let v = i * 10 + r;
            text.push_str(&format!("m,h=x v={v}i {ts}\n"));
            expected.insert(ts, v);
        }
        db.write_lines("q", &text).unwrap();
        d.flush().unwrap();
    }
    let want = (expected.len() as i64, expected.values().sum::<i64>());
    assert_eq!(count_sum(&db), want);
    assert_eq!(d.versions().current().layers[0].len(), 6);

    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (db, stop) = (db.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) || n < 5 {
                assert_eq!(count_sum(&db), want, "query {n} saw a different answer");
                n += 1;
            }
            n
        })
    };
    d.set_compaction_paused(false);
    d.compact().unwrap();
    stop.store(true, Ordering::SeqCst);
    let n = reader.join().unwrap();
    assert!(n >= 5);
    let s = d.compaction_stats();
    assert!(s.layers[..7].iter().all(|l| l.compactions >= 1), "{s:?}");
    assert_eq!(count_sum(&db), want);
}
