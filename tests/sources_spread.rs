//! Scenario: one query reads SSTables, frozen memtables and the active memtable of one Version
//! snapshot at once, newer writes win duplicates across them, and the answers are the same after
//! a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use strata::{Config, Db};

fn lines(from: i64, to: i64, value: impl Fn(i64) -> f64) -> String {
    (from..to)
        .map(|i| format!("m,s=s{} v={} {}\n", i % 3, value(i), i * 1_000_000_000))
        .collect()
}

fn answers(db: &Db) -> serde_json::Value {
    let r = db
        .query(
            "d",
            "SELECT count(v), sum(v), min(v), max(v), first(v), last(v) FROM m; \
             SELECT sum(v) FROM m GROUP BY s; \
             SELECT v FROM m WHERE time >= 99s AND time <= 101s",
        )
        .unwrap();
    serde_json::from_str(&r.to_json_epoch(strata::query::Epoch::Second)).unwrap()
}

#[test]
fn a_query_sees_tables_frozen_and_active_memtables_together() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = Config::new()
        .memtable_size_bytes(4 * 1024)
        .max_frozen_memtables(4);
    let db = Db::open(dir.path(), cfg.clone()).unwrap();
    db.create_database("d").unwrap();
    let d = db.database("d").unwrap();

    // 1. Enough to freeze and flush several tables.
    db.write_lines("d", &lines(0, 600, |i| i as f64)).unwrap();
    db.flush().unwrap();
    // 2. Hold the flusher: the next freeze stays a frozen memtable.
    d.set_flush_paused(true);
    // Overwrite 100..200 with negative values (newer than the tables) and add 600..900.
    db.write_lines("d", &lines(100, 200, |i| -(i as f64)))
        .unwrap();
    db.write_lines("d", &lines(600, 900, |i| i as f64)).unwrap();
    // 3. A little more lands in the active memtable; overwrite 150 once more. (The memtable
    // actor acknowledges a batch before it freezes, so frozen memtables are checked only after
    // this next write: the actor handles its mailbox in order.)
    db.write_lines("d", "m,s=s0 v=1000 150000000000\nm,s=s0 v=5 900000000000\n")
        .unwrap();

    let v = d.versions().current();
    assert!(v.table_count() >= 1, "tables");
    assert!(
        !v.frozen.is_empty(),
        "frozen memtables held by the paused flusher"
    );
    assert!(!v.active.is_empty(), "active memtable");

    // Expected: values 0..=900 where 100..200 are negated, 150 is 1000, 900 is 5.
    let val = |i: i64| -> f64 {
        if i == 150 {
            1000.0
        } else if i == 900 {
            5.0
        } else if (100..200).contains(&i) {
            -(i as f64)
        } else {
            i as f64
        }
    };
    let sum: f64 = (0..=900).map(val).sum();
    let a = answers(&db);
    let row = &a["results"][0]["series"][0]["values"][0];
    assert_eq!(row[1], 901, "{a}");
    assert_eq!(row[2].as_f64().unwrap(), sum);
    assert_eq!(row[3].as_f64().unwrap(), -199.0);
    assert_eq!(row[4].as_f64().unwrap(), 1000.0);
    assert_eq!(row[5].as_f64().unwrap(), 0.0);
    assert_eq!(row[6].as_f64().unwrap(), 5.0);
    let per_s: Vec<f64> = a["results"][1]["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["values"][0][1].as_f64().unwrap())
        .collect();
    for k in 0..3 {
        let exp: f64 = (0..=900).filter(|i| i % 3 == k).map(val).sum();
        assert_eq!(per_s[k as usize], exp);
    }
    assert_eq!(
        a["results"][2]["series"][0]["values"],
        serde_json::json!([[99, 99], [100, -100], [101, -101]])
    );

    // Release the flusher, close, reopen: same answers from disk.
    d.set_flush_paused(false);
    drop(d);
    db.close().unwrap();
    let wal_left = std::fs::read_dir(dir.path().join("d").join("wal"))
        .unwrap()
        .count();
    assert_eq!(wal_left, 0, "a clean close leaves no WAL segment behind");
    let db = Db::open(dir.path(), cfg).unwrap();
    assert_eq!(answers(&db), a);
    let d = db.database("d").unwrap();
    let v = d.versions().current();
    assert!(
        v.active.is_empty() && v.frozen.is_empty(),
        "clean close leaves everything in tables"
    );
}
