//! Scenario: a flush meets an I/O error (here: the flusher cannot create its table file). The
//! flush reports the cause, nothing acknowledged is lost (the frozen memtable stays readable and
//! its points stay in the WAL), writes go on, and once the cause is fixed the next flush
//! succeeds without a restart. A restart with the cause still there replays the WAL.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use strata::{Config, Db, Error};

fn count(db: &Db) -> String {
    db.query("p", "SELECT count(v) FROM m").unwrap().to_json()
}

#[test]
fn a_failed_flush_is_reported_and_retried_once_the_cause_is_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let sst = dir.path().join("p").join("sst");
    let db = Db::open(dir.path(), Config::new()).unwrap();
    db.create_database("p").unwrap();
    db.write_lines("p", "m v=1 1\nm v=2 2\n").unwrap();

    // Take the table directory away: the next flush cannot create its file.
    std::fs::remove_dir_all(&sst).unwrap();
    let e = db.flush().unwrap_err();
    assert!(matches!(e, Error::FlushFailed(_)), "{e:?}");
    assert!(e.to_string().contains("nothing is lost"), "{e}");
    assert!(e.to_string().contains("sst"), "names the file: {e}");

    // Not poisoned: writes are acknowledged, and every point is readable.
    db.write_lines("p", "m v=3 3\n").unwrap();
    assert!(db.database("p").unwrap().health().is_ok());
    assert!(count(&db).contains(",3]"), "{}", count(&db));

    // The cause is fixed: the next flush writes the waiting memtable and the new one.
    std::fs::create_dir_all(&sst).unwrap();
    db.flush().unwrap();
    let tables = std::fs::read_dir(&sst).unwrap().count();
    assert!(tables >= 2, "{tables} tables");
    assert!(count(&db).contains(",3]"), "{}", count(&db));
    db.close().unwrap();
    let db = Db::open(dir.path(), Config::new()).unwrap();
    assert!(count(&db).contains(",3]"), "{}", count(&db));
    db.close().unwrap();
}

#[test]
fn a_close_with_the_cause_still_there_keeps_the_data_in_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let sst = dir.path().join("p").join("sst");
    let db = Db::open(dir.path(), Config::new()).unwrap();
    db.create_database("p").unwrap();
    db.write_lines("p", "m v=1 1\nm v=2 2\n").unwrap();
    std::fs::remove_dir_all(&sst).unwrap();
    let e = db.close().unwrap_err();
    assert!(e.to_string().contains("flush failed"), "{e}");

    // Restart after fixing the cause: what was acknowledged is replayed from the WAL.
    std::fs::create_dir_all(&sst).unwrap();
    let db = Db::open(dir.path(), Config::new()).unwrap();
    assert!(count(&db).contains(",2]"), "{}", count(&db));
    db.write_lines("p", "m v=3 3\n").unwrap();
    db.close().unwrap();
}
