//! Scenario: a data directory is used by one process at a time; a second one gets a clear error.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

#[test]
fn second_open_of_a_data_dir_is_refused_clearly() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let db = strata::Db::open(dir.path(), strata::Config::new()).unwrap();
    let err = match strata::Db::open(dir.path(), strata::Config::new()) {
        Ok(_) => panic!("second open succeeded"),
        Err(e) => e,
    };
    assert!(matches!(err, strata::Error::Locked { .. }), "{err:?}");
    assert!(
        err.to_string().contains("locked by another strata process"),
        "{err}"
    );

    // The daemon says the same and exits non-zero.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--data-dir"])
        .arg(dir.path())
        .arg("--socket")
        .arg(dir.path().join("x.sock"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("locked by another strata process"),
        "{stderr}"
    );

    db.close().unwrap();
    let again = strata::Db::open(dir.path(), strata::Config::new());
    assert!(again.is_ok(), "lock released on close: {:?}", again.err());
}

#[test]
fn a_live_socket_is_not_stolen() {
    let _serial = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let _d = common::Daemon::start(&dir.path().join("a"), &sock, &[]);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--data-dir"])
        .arg(dir.path().join("b"))
        .arg("--socket")
        .arg(&sock)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("in use by a running process"), "{stderr}");
    assert_eq!(
        common::request(&sock, "GET", "/ping", b"").status,
        204,
        "first daemon unharmed"
    );
}
