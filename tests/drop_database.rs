//! Scenario: `DROP DATABASE` through the daemon removes the database and its directory for
//! good: writes to it answer "database not found" (404, as InfluxDB 1.x), a restart does not
//! bring it back, other databases are untouched, and the name can be created again empty.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

fn ok(sock: &std::path::Path, db: &str, q: &str) -> serde_json::Value {
    let v = query_json(sock, db, q);
    assert!(v["results"][0]["error"].is_null(), "{q}: {v}");
    v
}

#[test]
fn dropped_database_is_gone_for_good() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&data, &sock, &[]);
    ok(&sock, "", "CREATE DATABASE gone");
    ok(&sock, "", "CREATE DATABASE kept");
    for db in ["gone", "kept"] {
        let w = write(&sock, db, "m,t=x v=1 1000\nm,t=y v=2 2000\n");
        assert_eq!(w.status, 204, "{}", w.body);
    }
    assert!(d.stop().success());
    let d = Daemon::start(&data, &sock, &[]);
    assert!(data.join("gone").join("sst").is_dir());

    ok(&sock, "", "DROP DATABASE gone");
    assert!(!data.join("gone").exists(), "directory removed");
    let leftovers: Vec<_> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.contains("gone"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let dbs = ok(&sock, "", "SHOW DATABASES");
    assert_eq!(
        dbs["results"][0]["series"][0]["values"],
        serde_json::json!([["kept"]])
    );
    let w = write(&sock, "gone", "m v=3 3000\n");
    assert_eq!(w.status, 404, "{}", w.body);
    assert!(w.body.contains("database not found"), "{}", w.body);
    let q = query_json(&sock, "gone", "SELECT count(v) FROM m");
    assert!(
        q["results"][0]["error"]
            .as_str()
            .unwrap()
            .contains("database not found"),
        "{q}"
    );
    // Dropping a database that does not exist is not an error.
    ok(&sock, "", "DROP DATABASE gone");

    d.kill9();
    let _d = Daemon::start(&data, &sock, &[]);
    let dbs = ok(&sock, "", "SHOW DATABASES");
    assert_eq!(
        dbs["results"][0]["series"][0]["values"],
        serde_json::json!([["kept"]]),
        "a restart does not bring it back"
    );
    assert_eq!(
        scalar(&query_json(&sock, "kept", "SELECT count(v) FROM m")),
        2
    );
    ok(&sock, "", "CREATE DATABASE gone");
    let q = query_json(&sock, "gone", "SELECT count(v) FROM m");
    assert!(
        q["results"][0]["series"].is_null(),
        "created again empty: {q}"
    );
}
