//! Scenario: `--socket PATH` where PATH exists and is not a socket (a regular file, a
//! directory) is refused with an error naming the path, and PATH is left as it was; a stale
//! socket file (nobody listening) is still replaced.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::process::Command;

fn serve_fails(data: &std::path::Path, socket: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("serve")
        .arg("--data-dir")
        .arg(data)
        .arg("--socket")
        .arg(socket)
        .env("STRATA_LOG", "warn")
        .output()
        .expect("run strata serve");
    assert!(!out.status.success(), "strata serve must refuse {socket:?}");
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn a_path_that_is_not_a_socket_is_refused_and_left_alone() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let file = dir.path().join("precious.txt");
    std::fs::write(&file, "do not delete me\n").unwrap();
    let err = serve_fails(&data, &file);
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert!(err.contains("not a socket"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "do not delete me\n"
    );

    let sub = dir.path().join("a-directory");
    std::fs::create_dir(&sub).unwrap();
    std::fs::write(sub.join("inside"), "x").unwrap();
    let err = serve_fails(&data, &sub);
    assert!(err.contains(&sub.display().to_string()), "{err}");
    assert!(sub.join("inside").exists());

    // A stale socket (bound, then its listener gone without removing the file) is replaced.
    let stale = dir.path().join("s.sock");
    drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
    assert!(stale.exists());
    let d = Daemon::start(&data, &stale, &[]);
    assert_eq!(request(&d.socket, "GET", "/ping", b"").status, 204);
    let st = d.stop();
    assert!(st.success(), "{st}");
    assert!(!stale.exists(), "socket removed at exit");
}
