//! `strata import --resume` after an interrupted import (stopped after N batches by a testing
//! aid, as a crash would leave it): only what was not finished is written; a progress file of
//! another file is refused; against a daemon and embedded, for line protocol and JSON.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{texts, Via};

fn scenario(daemon: bool, json: bool) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cwd = dir.path();
    let via = Via::new(cwd, daemon);
    let (name, body) = if json {
        let els: Vec<String> = (0..100)
            .map(|i| format!("{{\"timestamp\": {i}, \"value\": {i}, \"series\": \"m\"}}"))
            .collect();
        ("in.json", format!("[\n{}\n]\n", els.join(",\n")))
    } else {
        let lines: Vec<String> = (0..100).map(|i| format!("m value={i} {i}")).collect();
        ("in.lp", lines.join("\n") + "\n")
    };
    std::fs::write(cwd.join(name), &body).expect("write input");
    let progress = cwd.join(format!("{name}.strata-progress"));
    let count = || common::scalar(&via.query_json(cwd, "r", "SELECT count(value) FROM m"));

    let stop = [("STRATA_TEST_IMPORT_STOP_AFTER_BATCHES", "3")];
    let out = via.run(cwd, &["import", name, "--db", "r", "--batch", "10"], &stop);
    assert_eq!(out.status.code(), Some(3), "{:?}", texts(&out));
    assert!(
        progress.exists(),
        "the progress file is kept after an interruption"
    );
    assert_eq!(count(), 30);

    // Forget what the first run wrote: a resume that rewrote it would bring it back.
    let out = via.run(cwd, &["query", "DROP DATABASE r; CREATE DATABASE r"], &[]);
    assert!(out.status.success(), "{:?}", texts(&out));
    let out = via.run(
        cwd,
        &["import", name, "--db", "r", "--batch", "10", "--resume"],
        &[],
    );
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("resuming after 30"), "{stderr}");
    assert!(stdout.contains("100 points written"), "{stdout}");
    assert_eq!(count(), 70, "only the 70 records not finished were written");
    assert!(
        !progress.exists(),
        "a finished import removes its progress file"
    );

    // A progress file for another import (another database) is refused with --resume, and
    // ignored (with a note) without it.
    let out = via.run(cwd, &["import", name, "--db", "r", "--batch", "10"], &stop);
    assert_eq!(out.status.code(), Some(3));
    let out = via.run(cwd, &["import", name, "--db", "other", "--resume"], &[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        texts(&out)
            .1
            .contains("remove it, or import without --resume"),
        "{:?}",
        texts(&out)
    );
    let out = via.run(cwd, &["import", name, "--db", "other"], &[]);
    assert!(out.status.success());
    assert!(
        texts(&out).1.contains("importing from the start"),
        "{:?}",
        texts(&out)
    );
    assert!(!progress.exists());
}

#[test]
fn resume_line_protocol_embedded() {
    scenario(false, false);
}

#[test]
fn resume_line_protocol_through_a_daemon() {
    scenario(true, false);
}

#[test]
fn resume_json_embedded() {
    scenario(false, true);
}

#[test]
fn resume_json_through_a_daemon() {
    scenario(true, true);
}
