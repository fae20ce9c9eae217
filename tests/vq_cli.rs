//! Scenario: the command line of `strata vq`: exit 64 for a file that is not `.vq`, 66 for one
//! that cannot be read, 75 with a clear message when a running daemon holds the data
//! directory (its files are never opened twice), and the REPL on piped standard input (each
//! line its own program, errors reported and the loop going on, an empty line ends it, exit 0).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::vq::{data_dir, vq, vq_file_named, vq_ok};

#[test]
fn wrong_extension_and_unreadable_file() {
    let root = tempfile::tempdir().unwrap();
    let run = vq_file_named(root.path(), "script.txt", "TABLES;");
    assert_eq!(run.code, 64, "{run:?}");
    assert_eq!(
        run.stderr,
        "File extension cannot be \".txt\", must be .vq.\n"
    );
    let run = vq_file_named(root.path(), "script", "TABLES;");
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (64, "File extension cannot be \"\", must be .vq.\n")
    );
    let missing = root.path().join("missing.vq");
    let run = vq(&[missing.as_os_str()], None);
    assert_eq!(run.code, 66, "{run:?}");
    assert_eq!(
        run.stderr,
        format!("Unable to open file \"{}\".\n", missing.display())
    );
    assert_eq!(run.stdout, "");
}

#[test]
fn repl_on_piped_stdin() {
    let root = tempfile::tempdir().unwrap();
    let data = data_dir(root.path());
    let input = "CREATE TABLE t TAGS k; PUT m 1 2.5 INTO t TAGS k=a;\n\
                 SELECT DATA m FROM t ALL;\n\
                 SELECT SUM m FROM t ALL; SELECT x;\n\
                 PUT m 2 1 INTO nope;\n\
                 TABLES; SELECT COUNT m FROM t ALL;\n\
                 \n\
                 TABLES;\n";
    let run = vq(&["--data-dir".as_ref(), data.as_os_str()], Some(input));
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "[[{00000000000000000001}{m}{k:a}|2.5]]\nt\n1\n");
    assert_eq!(
        run.stderr,
        "[line 1:col 33] Parse error at 'x': Expected select type.\n\
         [line 1:col 5] Runtime error: Table 'nope' does not exist.\n"
    );
    // --db picks another database; the REPL ends at the end of input too.
    let run = vq(
        &[
            "--data-dir".as_ref(),
            data.as_os_str(),
            "--db".as_ref(),
            "other".as_ref(),
        ],
        Some("TABLES;\nCREATE TABLE o;\nTABLES;"),
    );
    assert_eq!(
        (run.code, run.stdout.as_str(), run.stderr.as_str()),
        (0, "\no\n", "")
    );
}

#[test]
fn repl_through_a_terminal() {
    let root = tempfile::tempdir().unwrap();
    let data = data_dir(root.path());
    // `script` gives strata a pseudo-terminal: banner, prompt, line editing.
    let cmd = format!(
        "{} vq --data-dir {}",
        env!("CARGO_BIN_EXE_strata"),
        data.display()
    );
    let mut child = std::process::Command::new("script")
        .args(["-qfec", &cmd, "/dev/null"])
        .env("HOME", root.path())
        .env("STRATA_LOG", "warn")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::{Read, Write};
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(b"CREATE TABLE tt; TABLES;\r").unwrap();
    std::thread::sleep(std::time::Duration::from_millis(300));
    // An empty line ends the REPL (stdin stays open: `script` must not see its end first).
    stdin.write_all(b"\r").unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the REPL did not end at an empty line");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    drop(stdin);
    let mut stdout = Vec::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_end(&mut stdout)
        .unwrap();
    let out = std::process::Output {
        status,
        stdout,
        stderr: Vec::new(),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("welcome to the vq repl! :)"), "{text}");
    assert!(text.contains("(on database 'vq')"), "{text}");
    assert!(text.contains("(vq) >> "), "{text}");
    assert!(
        text.contains("\ntt\r\n") || text.contains("\ntt\n"),
        "{text:?}"
    );
    // The history was kept.
    let history = std::fs::read_to_string(root.path().join(".strata_vq_history")).unwrap();
    assert!(history.contains("CREATE TABLE tt; TABLES;"), "{history}");
}

#[test]
fn a_daemon_holding_the_data_directory_is_named() {
    let root = tempfile::tempdir().unwrap();
    let data = data_dir(root.path());
    vq_ok(root.path(), "CREATE TABLE t;");
    let socket = root.path().join("s.sock");
    let daemon = common::Daemon::start(&data, &socket, &[]);
    let path = root.path().join("script.vq");
    let run = vq(
        &[path.as_os_str(), "--data-dir".as_ref(), data.as_os_str()],
        None,
    );
    assert_eq!(run.code, 75, "{run:?}");
    assert!(run.stderr.contains("held by another process"), "{run:?}");
    assert!(run.stderr.contains("strata serve"), "{run:?}");
    assert_eq!(run.stdout, "");
    let run = vq(
        &["--data-dir".as_ref(), data.as_os_str()],
        Some("TABLES;\n"),
    );
    assert_eq!(run.code, 75, "{run:?}");
    daemon.stop();
    assert_eq!(vq_ok(root.path(), "TABLES;"), "t\n");
}
