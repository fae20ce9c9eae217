//! Scenario: when a background worker meets an I/O error (here: the flusher cannot create its
//! table file), the database is poisoned — writes fail with an error that names the cause
//! instead of being acknowledged into a pipeline that can no longer make them durable — and
//! `/health` reports it. Data acknowledged before the failure is still in the WAL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use strata::{Config, Db, Error};

#[test]
fn a_failed_flush_poisons_writes_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path(), Config::new()).unwrap();
    db.create_database("p").unwrap();
    db.write_lines("p", "m v=1 1\nm v=2 2\n").unwrap();

    // Take the table directory away: the next flush cannot create its file.
    std::fs::remove_dir_all(dir.path().join("p").join("sst")).unwrap();
    let e = db.flush().unwrap_err();
    assert!(matches!(e, Error::Poisoned(_)), "{e:?}");
    assert!(e.to_string().contains("flush failed"), "{e}");

    let e = db.write_lines("p", "m v=3 3\n").unwrap_err();
    assert!(matches!(e, Error::Poisoned(_)), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("poisoned") && msg.contains("flush failed"),
        "{msg}"
    );
    assert!(db.database("p").unwrap().health().is_err());

    // Restart after fixing the cause: what was acknowledged is replayed from the WAL.
    drop(db);
    std::fs::create_dir_all(dir.path().join("p").join("sst")).unwrap();
    let db = Db::open(dir.path(), Config::new()).unwrap();
    let r = db.query("p", "SELECT count(v) FROM m").unwrap().to_json();
    assert!(r.contains(",2]"), "{r}");
    db.write_lines("p", "m v=3 3\n").unwrap();
}
