//! Scenario: every parse-error message of VQ.md §4 through `strata vq FILE.vq`: exit 65, the
//! §6.2 line on stderr, nothing on stdout, and nothing of the file ran (even the statements
//! before the error).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::vq::{vq_file, vq_ok};

/// Every message of §4 at its token (the list the parser's unit tests use too).
const CASES: &[(&str, &str)] = include!("../src/vq/parse_error_cases.in");

#[test]
fn every_parse_error_exits_65_and_runs_nothing() {
    let root = tempfile::tempdir().unwrap();
    for (source, line) in CASES {
        let run = vq_file(root.path(), source);
        assert_eq!(run.code, 65, "{source:?}: {run:?}");
        assert_eq!(run.stderr, format!("{line}\n"), "{source:?}");
        assert_eq!(run.stdout, "", "{source:?}");
    }
    // `CREATE TABLE made;` came before errors in several files: none of it ran.
    assert_eq!(vq_ok(root.path(), "TABLES;"), "\n");
}
