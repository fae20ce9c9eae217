//! Scenario: `DROP MEASUREMENT` (through the `Db` API) removes the data and makes every SHOW
//! statement forget the measurement — across a restart — while other measurements keep theirs;
//! the name can then be written again, even with other field types (as in InfluxDB 1.x).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use strata::{Config, Db};

fn json(db: &Db, q: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&db.query("d", q).unwrap().to_json()).unwrap();
    assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
    v
}

fn count(db: &Db, q: &str) -> i64 {
    json(db, q)["results"][0]["series"][0]["values"][0][1]
        .as_i64()
        .unwrap_or(0)
}

fn show(db: &Db, q: &str) -> serde_json::Value {
    json(db, q)["results"][0]["series"].clone()
}

#[test]
fn drop_measurement_forgets_it_everywhere_and_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Config::new()).unwrap();
    db.create_database("d").unwrap();
    let mut lines = String::new();
    for i in 0..500 {
        lines.push_str(&format!(
            "cpu,host=h{} usage={i}.5,idle={i}i {}\n",
            i % 5,
            i
        ));
        lines.push_str(&format!("disk,dev=sda free={i}i {}\n", i));
    }
    db.write_lines("d", &lines).unwrap();
    db.flush().unwrap();
    // Some cpu points only in the memtable as well.
    db.write_lines("d", "cpu,host=h9 usage=1 10000\n").unwrap();
    assert_eq!(count(&db, "SELECT count(usage) FROM cpu"), 501);

    json(&db, "DROP MEASUREMENT cpu");
    assert_eq!(count(&db, "SELECT count(usage) FROM cpu"), 0);
    assert_eq!(count(&db, "SELECT count(free) FROM disk"), 500);
    let check_forgotten = |db: &Db| {
        assert_eq!(
            show(db, "SHOW MEASUREMENTS"),
            serde_json::json!([{"name": "measurements", "columns": ["name"], "values": [["disk"]]}])
        );
        assert!(show(db, "SHOW SERIES FROM cpu").is_null());
        assert!(show(db, "SHOW TAG VALUES FROM cpu WITH KEY = host").is_null());
        assert!(show(db, "SHOW FIELD KEYS FROM cpu").is_null());
        assert!(show(db, "SHOW TAG KEYS FROM cpu").is_null());
        assert_eq!(
            show(db, "SHOW SERIES")[0]["values"],
            serde_json::json!([["disk,dev=sda"]])
        );
    };
    check_forgotten(&db);
    // Dropping a measurement that does not exist is not an error.
    json(&db, "DROP MEASUREMENT cpu");
    json(&db, "DROP MEASUREMENT never_was");

    // Restart: nothing comes back from the tables or the WAL.
    db.close().unwrap();
    let db = Db::open(dir.path(), Config::new()).unwrap();
    check_forgotten(&db);
    assert_eq!(count(&db, "SELECT count(free) FROM disk"), 500);

    // The name is free again, with another type for `usage`.
    db.write_lines("d", "cpu,host=z usage=3i 20000\n").unwrap();
    assert_eq!(count(&db, "SELECT sum(usage) FROM cpu"), 3);
    assert_eq!(
        show(&db, "SHOW FIELD KEYS FROM cpu")[0]["values"],
        serde_json::json!([["usage", "integer"]])
    );
    db.close().unwrap();
}
