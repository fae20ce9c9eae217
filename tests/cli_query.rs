//! `strata query` in each format, against a daemon and embedded; exit codes; the lock message;
//! the default target (the daemon's socket when one answers, else the data directory).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{strata_in, texts, Daemon, Via};

/// `strata query --db demo --format F --precision P Q`.
fn in_format(via: &Via, cwd: &std::path::Path, f: &str, p: &str, q: &str) -> std::process::Output {
    via.run(
        cwd,
        &["query", "--db", "demo", "--format", f, "--precision", p, q],
        &[],
    )
}

fn scenario(daemon: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let via = Via::new(dir.path(), daemon);
    let cwd = dir.path();
    let out = via.run(cwd, &["query", "CREATE DATABASE demo"], &[]);
    assert!(out.status.success(), "{:?}", texts(&out));
    std::fs::write(
        cwd.join("d.lp"),
        "cpu,host=a usage=12.5 1700000000000000000\ncpu,host=bb usage=7 1700000010000000000\n",
    )
    .expect("write");
    let out = via.run(cwd, &["import", "d.lp", "--db", "demo"], &[]);
    assert!(out.status.success(), "{:?}", texts(&out));

    let q = "SELECT usage FROM cpu GROUP BY host";
    let out = via.run(cwd, &["query", "--db", "demo", q], &[]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(
        stdout,
        "name: cpu\ntags: host=a\ntime                 usage\n----                 -----\n\
         2023-11-14T22:13:20Z 12.5\n\n\
         name: cpu\ntags: host=bb\ntime                 usage\n----                 -----\n\
         2023-11-14T22:13:30Z 7\n\n"
    );

    let out = in_format(&via, cwd, "csv", "s", q);
    assert!(out.status.success());
    assert_eq!(
        texts(&out).0,
        "name,tags,time,usage\ncpu,host=a,1700000000,12.5\ncpu,host=bb,1700000010,7\n"
    );

    let out = in_format(&via, cwd, "json", "ms", q);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_str(texts(&out).0.trim()).expect("JSON");
    assert_eq!(
        v["results"][0]["series"][1]["values"][0][0],
        1_700_000_010_000i64
    );
    assert_eq!(v["results"][0]["series"][1]["tags"]["host"], "bb");

    // A failing statement: its error on stderr, exit 1, the other statements still answered.
    let out = via.run(
        cwd,
        &[
            "query",
            "--db",
            "demo",
            "SELECT count(usage) FROM cpu; SELECT nonsense(usage) FROM cpu",
        ],
        &[],
    );
    let (stdout, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout} {stderr}");
    assert!(stdout.contains("count"), "{stdout}");
    assert!(
        stderr.contains("ERR: ") && stderr.contains("nonsense"),
        "{stderr}"
    );

    // A syntax error fails the whole request.
    let out = via.run(cwd, &["query", "SELEKT 1"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(texts(&out).1.contains("SELEKT"), "{:?}", texts(&out));

    // Bad flags are refused by the parser (exit 2, clap's).
    let out = via.run(
        cwd,
        &["query", "--precision", "days", "SHOW DATABASES"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn query_embedded() {
    scenario(false);
}

#[test]
fn query_through_a_daemon() {
    scenario(true);
}

#[test]
fn a_held_data_directory_points_to_the_socket_and_the_default_finds_the_daemon() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    // The defaults `strata serve` uses, relative to the working directory.
    let daemon = Daemon::start(&cwd.join("strata-data"), &cwd.join("strata.sock"), &[]);
    let out = strata_in(
        cwd,
        &["query", "--data-dir", "strata-data", "SHOW DATABASES"],
        &[],
        b"",
    );
    let (_, stderr) = texts(&out);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("in use by another process") && stderr.contains("--socket"),
        "{stderr}"
    );

    // No flag: the daemon answering on ./strata.sock is used (the directory is not opened).
    let out = strata_in(cwd, &["query", "CREATE DATABASE viadefault"], &[], b"");
    assert!(out.status.success(), "{:?}", texts(&out));
    let v = common::query_json(&daemon.socket, "", "SHOW DATABASES");
    assert!(v.to_string().contains("viadefault"), "{v}");

    // --socket naming nothing: an error that says how to proceed.
    let out = strata_in(
        cwd,
        &["query", "--socket", "nope.sock", "SHOW DATABASES"],
        &[],
        b"",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out).1.contains("cannot reach a strata daemon"),
        "{:?}",
        texts(&out)
    );
    daemon.stop();

    // Daemon gone: the default opens ./strata-data embedded, with what the daemon wrote.
    let out = strata_in(
        cwd,
        &["query", "--format", "csv", "SHOW DATABASES"],
        &[],
        b"",
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    assert!(texts(&out).0.contains("viadefault"), "{:?}", texts(&out));
}

#[test]
fn credentials_reach_a_daemon_with_authentication_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let daemon = Daemon::start(&cwd.join("data"), &cwd.join("s.sock"), &["--auth-enabled"]);
    let sock = daemon.socket.display().to_string();
    let run = |extra: &[&str], env: &[(&str, &str)], q: &str| {
        let mut args = vec!["query", "--socket", sock.as_str()];
        args.extend_from_slice(extra);
        args.push(q);
        strata_in(cwd, &args, env, b"")
    };
    // The first admin needs no credentials (as 1.x).
    let out = run(
        &[],
        &[],
        "CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES",
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    let out = run(&[], &[], "SHOW DATABASES");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("unable to parse authentication credentials"),
        "{:?}",
        texts(&out)
    );
    let out = run(
        &["--username", "admin", "--password", "wrong"],
        &[],
        "SHOW DATABASES",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out).1.contains("authorization failed"),
        "{:?}",
        texts(&out)
    );
    let out = run(
        &["--username", "admin", "--password", "pw"],
        &[],
        "CREATE DATABASE a",
    );
    assert!(out.status.success(), "{:?}", texts(&out));
    let env = [("STRATA_USERNAME", "admin"), ("STRATA_PASSWORD", "pw")];
    let out = run(&["--format", "csv"], &env, "SHOW DATABASES");
    assert!(out.status.success(), "{:?}", texts(&out));
    assert!(texts(&out).0.contains("databases,,a"), "{:?}", texts(&out));
}
