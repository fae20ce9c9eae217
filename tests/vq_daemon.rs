//! Scenario: `strata vq --socket PATH` beside a running daemon (which owns the data directory):
//! file mode and the REPL run through `POST /vq`, with the same output, errors and exit codes as
//! embedded; the points are visible to InfluxQL on `/query`; an unreachable socket is exit 69;
//! with authentication on, a user needs ALL privileges on the database.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::ffi::OsStr;

use common::vq::{data_dir, vq};
use common::Daemon;

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn vq_through_the_daemon_socket() {
    let root = tempfile::tempdir().unwrap();
    let socket = root.path().join("s.sock");
    let daemon = Daemon::start(&data_dir(root.path()), &socket, &[]);
    let file = root.path().join("w.vq");
    let run_file = |source: &str| {
        std::fs::write(&file, source).unwrap();
        vq(
            &[file.as_os_str(), "--socket".as_ref(), socket.as_os_str()],
            None,
        )
    };
    let run = run_file(
        "CREATE TABLE weather TAGS city; PUT temperature 1700000000 21.5 INTO weather TAGS city=paris;\
         SELECT DATA temperature FROM weather ALL; TABLES;",
    );
    assert_eq!((run.code, run.stderr.as_str()), (0, ""), "{run:?}");
    assert_eq!(
        run.stdout,
        "[[{00000000001700000000}{temperature}{city:paris}|21.5]]\nweather\n"
    );
    // InfluxQL on the same daemon sees the point.
    let json = common::query_json(&socket, "vq", "SELECT temperature FROM weather");
    assert_eq!(
        json["results"][0]["series"][0]["values"][0][1], 21.5,
        "{json}"
    );
    // Errors and exit codes as embedded.
    let run = run_file("PUT temperature 1 1 INTO nope;");
    assert_eq!(run.code, 70);
    assert_eq!(
        run.stderr,
        "[line 1:col 5] Runtime error: Table 'nope' does not exist.\n"
    );
    let run = run_file("TABLES");
    assert_eq!(run.code, 65);
    assert_eq!(
        run.stderr,
        "[line 1:col 7] Parse error at end: Expected semicolon.\n"
    );
    // The REPL through the socket, on another database.
    let run = vq(
        &[
            "--socket".as_ref(),
            socket.as_os_str(),
            "--db".as_ref(),
            "other".as_ref(),
        ],
        Some("CREATE TABLE o;\nTABLES; SELECT x;\nTABLES;\n"),
    );
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "o\n");
    assert_eq!(
        run.stderr,
        "[line 1:col 16] Parse error at 'x': Expected select type.\n"
    );
    // Nobody listening.
    let gone = root.path().join("nobody.sock");
    std::fs::write(&file, "TABLES;").unwrap();
    let run = vq(
        &[file.as_os_str(), "--socket".as_ref(), gone.as_os_str()],
        None,
    );
    assert_eq!(run.code, 69, "{run:?}");
    assert!(run.stderr.contains("cannot talk to the daemon"), "{run:?}");
    daemon.stop();
}

#[test]
fn vq_through_the_daemon_needs_all_privileges() {
    let root = tempfile::tempdir().unwrap();
    let socket = root.path().join("s.sock");
    let daemon = Daemon::start(&data_dir(root.path()), &socket, &["--auth-enabled"]);
    let q = |text: &str, creds: &str| {
        let r = common::request(
            &socket,
            "POST",
            &format!("/query?q={}{creds}", enc(text)),
            b"",
        );
        assert_eq!(r.status, 200, "{text}: {}", r.body);
    };
    q(
        "CREATE USER admin WITH PASSWORD 'apw' WITH ALL PRIVILEGES",
        "",
    );
    let admin = "&u=admin&p=apw";
    q("CREATE DATABASE vq", admin);
    q("CREATE USER bob WITH PASSWORD 'bpw'", admin);
    q("GRANT READ ON vq TO bob", admin);
    let file = root.path().join("a.vq");
    std::fs::write(&file, "CREATE TABLE t; TABLES;").unwrap();
    let as_user = |user: &str, password: &str| {
        let args: Vec<&OsStr> = vec![
            file.as_os_str(),
            "--socket".as_ref(),
            socket.as_os_str(),
            "--username".as_ref(),
            user.as_ref(),
            "--password".as_ref(),
            password.as_ref(),
        ];
        vq(&args, None)
    };
    let run = as_user("bob", "bpw");
    assert_eq!(run.code, 69, "{run:?}");
    assert!(run.stderr.contains("HTTP 403"), "{run:?}");
    let run = as_user("bob", "wrong");
    assert_eq!(run.code, 69, "{run:?}");
    q("GRANT ALL ON vq TO bob", admin);
    let run = as_user("bob", "bpw");
    assert_eq!((run.code, run.stdout.as_str()), (0, "t\n"), "{run:?}");
    daemon.stop();
}
