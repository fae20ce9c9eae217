//! Scenario: the real `influx` CLI (Debian package `influxdb-client`) with `-username` and
//! `-password` against `strata serve --auth-enabled` on the Unix socket: an admin creates a
//! database and a user, the CLI shows users, and wrong or missing credentials get 1.x's
//! errors. Fails loudly if the CLI is missing (scripts/test.sh installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;
use std::process::Command;

/// Run the CLI; (success, stdout + stderr).
fn influx(sock: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("influx")
        .arg("-socket")
        .arg(sock)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("the `influx` CLI is required (apt-get install influxdb-client; scripts/test.sh does it): {e}")
        });
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn the_influx_cli_logs_in() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("strata.sock");
    let d = Daemon::start(&dir.path().join("data"), &sock, &["--auth-enabled"]);

    // The first admin, created by the CLI without credentials (1.x's bootstrap rule).
    let (ok, out) = influx(
        &sock,
        &[
            "-execute",
            "CREATE USER admin WITH PASSWORD 's3cret' WITH ALL PRIVILEGES",
        ],
    );
    assert!(ok, "{out}");
    let admin = ["-username", "admin", "-password", "s3cret"];
    let run = |extra: &[&str]| {
        let mut args: Vec<&str> = admin.to_vec();
        args.extend_from_slice(extra);
        let (ok, out) = influx(&sock, &args);
        assert!(ok, "{extra:?}: {out}");
        out
    };
    run(&["-execute", "CREATE DATABASE demo"]);
    run(&["-execute", "CREATE USER bob WITH PASSWORD 'b0b'"]);
    run(&["-execute", "GRANT READ ON demo TO bob"]);
    let users = run(&["-execute", "SHOW USERS"]);
    let rows: Vec<Vec<&str>> = users
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(rows.contains(&vec!["user", "admin"]), "{users}");
    assert!(rows.contains(&vec!["admin", "true"]), "{users}");
    assert!(rows.contains(&vec!["bob", "false"]), "{users}");
    let grants = run(&["-execute", "SHOW GRANTS FOR bob"]);
    assert!(
        grants
            .lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>() == ["demo", "READ"]),
        "{grants}"
    );

    let w = request_with(
        &sock,
        "POST",
        "/write?db=demo&u=admin&p=s3cret",
        &[],
        b"cpu,host=a usage=12.5 1700000000000000000\n",
    );
    assert_eq!(w.status, 204, "{}", w.body);
    let (ok, out) = influx(
        &sock,
        &[
            "-username",
            "bob",
            "-password",
            "b0b",
            "-database",
            "demo",
            "-execute",
            "SELECT usage FROM cpu",
        ],
    );
    assert!(ok, "{out}");
    assert!(out.contains("1700000000000000000 12.5"), "{out}");
    // bob may read but not administer.
    let (_, out) = influx(
        &sock,
        &[
            "-username",
            "bob",
            "-password",
            "b0b",
            "-execute",
            "DROP DATABASE demo",
        ],
    );
    assert!(
        out.contains("bob not authorized to execute statement 'DROP DATABASE demo', requires admin privilege"),
        "{out}"
    );
    // A wrong password and no credentials at all.
    let (ok, out) = influx(
        &sock,
        &[
            "-username",
            "admin",
            "-password",
            "wrong",
            "-execute",
            "SHOW DATABASES",
        ],
    );
    assert!(!ok && out.contains("authorization failed"), "{out}");
    let (ok, out) = influx(&sock, &["-execute", "SHOW DATABASES"]);
    assert!(
        !ok && out.contains("unable to parse authentication credentials"),
        "{out}"
    );
    assert!(d.stop().success());
}
