//! Scenario: users survive a clean restart and a `kill -9` (every answered `CREATE USER`,
//! `GRANT` and `SET PASSWORD` is on disk), and a damaged `DATA_DIR/.users` stops the start with
//! an error naming it instead of starting with fewer users, leaving the file as it was.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// `q` with `u`/`p` credentials in the URL.
fn q_as(sock: &Path, user: &str, password: &str, q: &str) -> Answer {
    request(
        sock,
        "POST",
        &format!(
            "/query?db=db&u={}&p={}&q={}",
            enc(user),
            enc(password),
            enc(q)
        ),
        b"",
    )
}

fn ok(sock: &Path, q: &str) -> serde_json::Value {
    let a = q_as(sock, "admin", "pw", q);
    assert_eq!(a.status, 200, "{q}: {}", a.body);
    let v = a.json();
    for r in v["results"].as_array().unwrap() {
        assert_eq!(r.get("error"), None, "{q}: {v}");
    }
    v
}

#[test]
fn users_survive_restart_and_kill_9_and_damage_stops_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&data, &sock, &["--auth-enabled"]);
    let a = request(
        &sock,
        "POST",
        &format!(
            "/query?q={}",
            enc("CREATE USER admin WITH PASSWORD 'pw' WITH ALL PRIVILEGES")
        ),
        b"",
    );
    assert_eq!(a.status, 200, "{}", a.body);
    ok(
        &sock,
        "CREATE DATABASE db; CREATE USER bob WITH PASSWORD 'b1'; GRANT READ ON db TO bob",
    );
    assert!(d.stop().success());

    // A clean restart: the users, their passwords and grants are back.
    let d = Daemon::start(&data, &sock, &["--auth-enabled"]);
    assert_eq!(q_as(&sock, "bob", "b1", "SHOW MEASUREMENTS").status, 200);
    assert_eq!(q_as(&sock, "bob", "b1", "DROP DATABASE db").status, 403);
    assert_eq!(q_as(&sock, "nobody", "x", "SHOW DATABASES").status, 401);
    // Changes answered just before a kill -9 are there after it.
    ok(
        &sock,
        "CREATE USER carol WITH PASSWORD 'carol-secret-pw'; GRANT WRITE ON db TO carol; \
         SET PASSWORD FOR bob = 'bob-secret-pw2'",
    );
    d.kill9();
    let d = Daemon::start(&data, &sock, &["--auth-enabled"]);
    let v = ok(&sock, "SHOW USERS; SHOW GRANTS FOR carol");
    assert_eq!(
        v["results"][0]["series"][0]["values"],
        serde_json::json!([["admin", true], ["bob", false], ["carol", false]])
    );
    assert_eq!(
        v["results"][1]["series"][0]["values"],
        serde_json::json!([["db", "WRITE"]])
    );
    assert_eq!(q_as(&sock, "bob", "b1", "SHOW DATABASES").status, 401);
    assert_eq!(
        q_as(&sock, "bob", "bob-secret-pw2", "SHOW DATABASES").status,
        200
    );
    // Only argon2 hashes are stored, never a password.
    let file = data.join(".users");
    let bytes = std::fs::read(&file).unwrap();
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("$argon2id$"), "{text}");
    for pw in ["bob-secret-pw2", "carol-secret-pw"] {
        assert!(!text.contains(pw), "a password is in {}", file.display());
    }
    assert!(d.stop().success());

    // Damage one byte: the start fails naming the file, and the file is left as it was.
    let mut damaged = bytes.clone();
    let at = damaged.len() / 2;
    damaged[at] ^= 0x20;
    std::fs::write(&file, &damaged).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--auth-enabled", "--data-dir"])
        .arg(&data)
        .arg("--socket")
        .arg(&sock)
        .env("STRATA_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("strata started on a damaged user catalog");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
    assert!(!status.success());
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(
        err.contains("user catalog") && err.contains("damaged"),
        "{err}"
    );
    assert_eq!(
        std::fs::read(&file).unwrap(),
        damaged,
        "the damaged file is left alone"
    );
    // strata check names it too.
    let out = strata(&["check", data.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(&format!("DAMAGED {}", file.display())),
        "{text}"
    );

    // Restored, it starts again with every user.
    std::fs::write(&file, &bytes).unwrap();
    let d = Daemon::start(&data, &sock, &["--auth-enabled"]);
    assert_eq!(
        q_as(&sock, "carol", "carol-secret-pw", "SHOW DATABASES").status,
        200
    );
    assert!(d.stop().success());
}
