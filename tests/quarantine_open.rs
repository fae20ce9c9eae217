//! A table whose footer is damaged (it no longer opens) is quarantined when `strata serve`
//! starts, instead of keeping every database offline: the daemon starts, the other database and
//! the rest of this one serve, `/health` names the table.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::*;

#[test]
fn a_table_that_does_not_open_is_quarantined_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");

    let d = Daemon::start(&data, &sock, &[]);
    for db in ["a", "b"] {
        assert_eq!(
            query(&sock, "", &format!("CREATE DATABASE {db}")).status,
            200
        );
        assert_eq!(write(&sock, db, "m,host=x v=1 1000000000\n").status, 204);
    }
    assert!(d.stop().success());
    let d = Daemon::start(&data, &sock, &[]);
    assert_eq!(write(&sock, "a", "m,host=y v=2 2000000000\n").status, 204);
    assert!(d.stop().success());

    // Damage the footer (its last bytes) of a's table holding host=x.
    let bad = table_with(&data, "a", "host=x");
    let bad_name = bad.file_name().unwrap().to_string_lossy().to_string();
    let mut bytes = std::fs::read(&bad).unwrap();
    let n = bytes.len();
    bytes[n - 3] ^= 0xff;
    std::fs::write(&bad, bytes).unwrap();

    let d = Daemon::start(&data, &sock, &[]);
    assert!(data.join("a").join("quarantine").join(&bad_name).exists());
    let (status, st, msg) = health(&sock);
    assert_eq!((status, st.as_str()), (503, "fail"), "{msg}");
    assert!(msg.contains("a: ") && msg.contains(&bad_name), "{msg}");
    // The other database, and the rest of this one, serve; writes go on.
    let v = query_json(&sock, "b", "SELECT sum(v) FROM m");
    assert_eq!(scalar(&v).as_f64(), Some(1.0), "{v}");
    let v = query_json(&sock, "a", "SELECT sum(v) FROM m");
    assert_eq!(scalar(&v).as_f64(), Some(2.0), "{v}");
    assert_eq!(write(&sock, "a", "m,host=z v=4 3000000000\n").status, 204);
    assert!(d.stop().success());

    let text = inspect(&data, &[]);
    assert!(text.contains(&bad_name), "{text}");
    let out = strata(&["check", data.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}
