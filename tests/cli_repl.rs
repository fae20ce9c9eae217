//! `strata repl`: driven through a pseudo-terminal (line editing on) and through piped
//! standard input: USE, a query, a multi-line statement, the format switch, timing, the
//! history file, Tab completion; against the data directory embedded and a daemon.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{texts, Via};

fn seed(via: &Via, cwd: &Path) {
    std::fs::write(
        cwd.join("d.lp"),
        "cpu,host=a usage=12.5 1700000000000000000\ncpu,host=b usage=7 1700000010000000000\n",
    )
    .unwrap();
    let out = via.run(cwd, &["import", "d.lp", "--db", "demo"], &[]);
    assert!(out.status.success(), "{:?}", texts(&out));
}

#[test]
fn vq_and_back_embedded() {
    vq_and_back(false);
}

#[test]
fn vq_and_back_through_a_daemon() {
    vq_and_back(true);
}

/// `:vq` switches the shell to vq (each line a program, on database `vq` until `use` names
/// another), errors are vq's §6.2 lines, and `:influxql` switches back: what vq wrote is read
/// by InfluxQL.
fn vq_and_back(daemon: bool) {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let via = Via::new(cwd, daemon);
    seed(&via, cwd);
    let history = cwd.join("hist");
    let flags = via.flags();
    let mut args = vec!["repl", "--history", history.to_str().unwrap()];
    args.extend(flags.iter().map(String::as_str));
    let input = ":vq\nCREATE TABLE weather TAGS city;\n\
                 PUT temp 1234 23.5 INTO weather TAGS city=paris; PUT temp 1235 20 INTO weather;\n\
                 SELECT DATA temp FROM weather ALL WHERE city=paris;\n\
                 SELECT AVG temp FROM weather ALL;\n\
                 SELECT DATA temp FROM nope ALL;\nPUT temp 1 INTO weather;\n\
                 :influxql\nuse vq\nSELECT count(temp) FROM weather\nquit\n";
    let out = common::strata_in(cwd, &args, &[], input.as_bytes());
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Language: vq"), "{stdout}");
    assert!(
        stdout.contains("[[{00000000000000001234}{temp}{city:paris}|23.5]]\n21.750000\n"),
        "{stdout}"
    );
    assert!(
        stderr.contains("[line 1:col 13] Runtime error: Table 'nope' does not exist."),
        "{stderr}"
    );
    assert!(
        stderr.contains("[line 1:col 12] Parse error at 'INTO': Expected value."),
        "{stderr}"
    );
    assert!(stdout.contains("Language: InfluxQL"), "{stdout}");
    assert!(
        stdout.contains(
            "time                 count\n----                 -----\n1970-01-01T00:00:00Z 2\n"
        ),
        "{stdout}"
    );
}

#[test]
fn piped_statements_embedded() {
    piped(false);
}

#[test]
fn piped_statements_through_a_daemon() {
    piped(true);
}

fn piped(daemon: bool) {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let via = Via::new(cwd, daemon);
    seed(&via, cwd);
    let history = cwd.join("hist");
    let flags = via.flags();
    let mut args = vec!["repl", "--history", history.to_str().unwrap()];
    args.extend(flags.iter().map(String::as_str));
    let input = "use demo\nSELECT count(usage)\n  FROM cpu\nformat csv\n\
                 SELECT usage FROM cpu WHERE host = 'b';\nprecision s\nformat json\n\
                 SELECT usage FROM cpu WHERE host = 'b'\nSELECT nonsense(usage) FROM cpu\n\
                 timing\nSHOW DATABASES\nquit\nSELECT 'never run'\n";
    let out = common::strata_in(cwd, &args, &[], input.as_bytes());
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("Using database demo"), "{stdout}");
    // The statement over two lines ran once, as a table.
    assert!(
        stdout.contains(
            "time                 count\n----                 -----\n1970-01-01T00:00:00Z 2\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("name,tags,time,usage\ncpu,,2023-11-14T22:13:30Z,7\n"),
        "{stdout}"
    );
    assert!(stdout.contains(r#""values":[[1700000010,7]]"#), "{stdout}");
    assert!(
        stderr.contains("ERR: ") && stderr.contains("nonsense"),
        "{stderr}"
    );
    assert!(
        stdout.contains("Timing is on") && stdout.contains("elapsed: "),
        "{stdout}"
    );
    assert!(!stdout.contains("never run"), "{stdout}");
    let h = std::fs::read_to_string(&history).unwrap();
    assert!(h.contains("SELECT count(usage) FROM cpu"), "{h}");
    assert!(h.contains("use demo"), "{h}");
}

/// A pseudo-terminal's parent side: what the program printed so far, and its input.
struct Pty {
    master: std::fs::File,
    seen: Arc<Mutex<Vec<u8>>>,
}

impl Pty {
    /// Wait until the output holds `what` (after `from`); the position after it.
    fn expect(&self, from: usize, what: &str) -> usize {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            {
                let seen = self.seen.lock().unwrap();
                let text = String::from_utf8_lossy(&seen[from.min(seen.len())..]).to_string();
                if let Some(i) = text.find(what) {
                    return from + i + what.len();
                }
                assert!(Instant::now() < deadline, "no {what:?} in {text:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn send(&mut self, s: &str) {
        self.master.write_all(s.as_bytes()).unwrap();
        self.master.flush().unwrap();
    }
}

fn open_pty() -> (std::fs::File, OwnedFd) {
    let (mut master, mut slave) = (0, 0);
    // SAFETY: openpty writes two new descriptors into the two integers; nothing else is passed.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            std::ptr::null(),
        )
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned here alone.
    unsafe {
        (
            std::fs::File::from_raw_fd(master),
            OwnedFd::from_raw_fd(slave),
        )
    }
}

fn terminal(daemon: bool) {
    let dir = tempfile::tempdir().unwrap();
    let cwd = dir.path();
    let via = Via::new(cwd, daemon);
    seed(&via, cwd);
    let history = cwd.join("hist");
    let (master, slave) = open_pty();
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("repl")
        .arg("--history")
        .arg(&history)
        .args(via.flags())
        .current_dir(cwd)
        .env("STRATA_LOG", "warn")
        .env("TERM", "xterm")
        .stdin(Stdio::from(slave.try_clone().unwrap()))
        .stdout(Stdio::from(slave.try_clone().unwrap()))
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let mut reader = master.try_clone().unwrap();
    let mut answer = master.try_clone().unwrap();
    let sink = seen.clone();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = reader.read(&mut buf) {
            if n == 0 {
                break;
            }
            // Answer the line editor's cursor-position queries as a terminal would.
            if buf[..n].windows(4).any(|w| w == b"\x1b[6n") {
                let _ = answer.write_all(b"\x1b[1;1R");
            }
            sink.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    let mut pty = Pty { master, seen };
    let mut at = pty.expect(0, "strata shell");
    at = pty.expect(at, "> ");
    // (typed, then awaited in the output)
    let dialogue = [
        // Tab completes the database's name.
        ("use de\t\r", "Using database demo"),
        // A statement over two lines: the second prompt is the continuation one.
        ("SELECT usage\r", "... "),
        ("FROM cpu WHERE host = 'a'\r", "12.5"),
        // Line editing: a typo erased with backspace.
        ("format csvx\x7f\r", "Format: csv"),
        // Tab completes a keyword (in the case typed) and a measurement.
        ("sel\t count(usage) FROM c\t;\r", "name,tags,time,count"),
        ("\\timing\r", "Timing is on"),
    ];
    for (typed, awaited) in dialogue {
        pty.send(typed);
        at = pty.expect(at, awaited);
    }
    pty.send("exit\r");
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(Instant::now() < deadline, "the shell did not exit");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
    let h = std::fs::read_to_string(&history).unwrap();
    assert!(h.contains("SELECT usage FROM cpu WHERE host = 'a'"), "{h}");
    assert!(h.contains("format csv"), "{h}");
    // What Tab completed is what ran.
    assert!(h.contains("use demo"), "{h}");
    assert!(h.contains("select count(usage) FROM cpu;"), "{h}");
}

#[test]
fn terminal_embedded() {
    terminal(false);
}

#[test]
fn terminal_through_a_daemon() {
    terminal(true);
}
