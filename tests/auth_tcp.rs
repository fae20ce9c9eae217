//! Scenario: `strata serve --tcp` on an address beyond loopback is refused without
//! `--auth-enabled`, before anything is bound or opened: the error names the flag.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::process::Command;

#[test]
fn tcp_beyond_loopback_needs_auth() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    for (flags, env) in [
        (vec!["--tcp", "0.0.0.0:0"], None),
        (vec!["--tcp", "[::]:0"], None),
        (vec!["--tcp", "0.0.0.0:0"], Some("false")),
    ] {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_strata"));
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(&data)
            .arg("--socket")
            .arg(&sock)
            .args(&flags)
            .env("STRATA_LOG", "warn")
            .env_remove("STRATA_AUTH_ENABLED");
        if let Some(v) = env {
            cmd.env("STRATA_AUTH_ENABLED", v);
        }
        let out = cmd.output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{flags:?} started: {err}");
        assert!(err.contains("--auth-enabled"), "{err}");
        assert!(err.contains(flags[1]), "{err}");
        assert!(!sock.exists(), "nothing was bound");
        assert!(!data.exists(), "nothing was opened");
    }
}
