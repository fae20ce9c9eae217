//! Scenario: the real `influx` CLI (Debian package `influxdb-client`) talks to strata over the
//! Unix socket: creates a database, and a SELECT prints the right rows. The test fails loudly
//! if the CLI is missing (scripts/test.sh installs it).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;
use std::process::Command;

fn influx(sock: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("influx")
        .arg("-socket")
        .arg(sock)
        .args(args)
        .output()
        .unwrap_or_else(|e| {
            panic!("the `influx` CLI is required (apt-get install influxdb-client; scripts/test.sh does it): {e}")
        });
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(
        out.status.success(),
        "influx {args:?} failed: {stdout}{stderr}"
    );
    stdout + &stderr
}

#[test]
fn the_influx_cli_creates_writes_and_selects() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("strata.sock");
    let d = Daemon::start(&dir.path().join("data"), &sock, &[]);

    influx(&sock, &["-execute", "CREATE DATABASE demo"]);
    let dbs = influx(&sock, &["-execute", "SHOW DATABASES"]);
    assert!(dbs.lines().any(|l| l.trim() == "demo"), "{dbs}");

    let w = write(
        &sock,
        "demo",
        "cpu,host=a usage=12.5 1700000000000000000\ncpu,host=b usage=7 1700000010000000000\n",
    );
    assert_eq!(w.status, 204, "{}", w.body);

    let out = influx(
        &sock,
        &[
            "-database",
            "demo",
            "-execute",
            "SELECT usage, host FROM cpu",
        ],
    );
    let rows: Vec<&str> = out.lines().filter(|l| l.starts_with("17")).collect();
    assert_eq!(rows.len(), 2, "{out}");
    let cells: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.split_whitespace().collect())
        .collect();
    assert_eq!(cells[0], vec!["1700000000000000000", "12.5", "a"], "{out}");
    assert_eq!(cells[1], vec!["1700000010000000000", "7", "b"], "{out}");

    let out = influx(
        &sock,
        &[
            "-database",
            "demo",
            "-format",
            "json",
            "-execute",
            "SELECT max(usage) FROM cpu",
        ],
    );
    assert!(out.contains("12.5"), "{out}");
    assert!(d.stop().success());
}
