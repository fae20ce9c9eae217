//! Scenario: every runtime error of VQ.md §5 through `strata vq FILE.vq`: exit 70, the §6.2
//! line on stderr at the right token, nothing on stdout (vkdb prints nothing of a failed run),
//! and the statements before the error took effect (visible to the next process).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::vq::{vq_file, vq_ok};

const CASES: &[(&str, &str)] = &[
    (
        "CREATE TABLE t TAGS k;",
        "[line 1:col 14] Runtime error: Table 't' already exists.",
    ),
    (
        "DROP TABLE nope;",
        "[line 1:col 12] Runtime error: Table 'nope' does not exist.",
    ),
    (
        "ADD TAGS k TO nope;",
        "[line 1:col 15] Runtime error: Table 'nope' does not exist.",
    ),
    (
        "ADD TAGS j, k TO fresh;",
        "[line 1:col 18] Runtime error: Tag column 'k' already exists in 'fresh'.",
    ),
    (
        "REMOVE TAGS k FROM nope;",
        "[line 1:col 20] Runtime error: Table 'nope' does not exist.",
    ),
    (
        "REMOVE TAGS x FROM fresh;",
        "[line 1:col 20] Runtime error: Tag column 'x' does not exist in 'fresh'.",
    ),
    (
        "ADD TAGS x TO t;",
        "[line 1:col 15] Runtime error: Table 't' has previously been populated with data.",
    ),
    (
        "REMOVE TAGS k FROM t;",
        "[line 1:col 20] Runtime error: Table 't' has previously been populated with data.",
    ),
    (
        "PUT m -5 1 INTO t;",
        "[line 1:col 7] Runtime error: Invalid timestamp.",
    ),
    (
        "PUT m 1.5 1 INTO t;",
        "[line 1:col 7] Runtime error: Invalid timestamp.",
    ),
    (
        "PUT m 99999999999999999999 1 INTO t;",
        "[line 1:col 7] Runtime error: Invalid timestamp.",
    ),
    (
        "PUT m 1 1 INTO nope;",
        "[line 1:col 5] Runtime error: Table 'nope' does not exist.",
    ),
    (
        "PUT m 1 1 INTO t TAGS z=q, a=b;",
        "[line 1:col 5] Runtime error: Tag 'a' not in tag columns.",
    ),
    (
        "DELETE m 1 FROM nope;",
        "[line 1:col 8] Runtime error: Table 'nope' does not exist.",
    ),
    (
        "DELETE m -1 FROM t;",
        "[line 1:col 10] Runtime error: Invalid timestamp.",
    ),
    (
        "DELETE m 1 FROM t TAGS a=b;",
        "[line 1:col 8] Runtime error: Tag 'a' not in tag columns.",
    ),
    (
        "SELECT DATA m FROM nope ALL;",
        "[line 1:col 13] Runtime error: Table 'nope' does not exist.",
    ),
    (
        "SELECT DATA m FROM t BETWEEN 1 AND 2.5;",
        "[line 1:col 36] Runtime error: Invalid timestamp.",
    ),
    (
        "SELECT COUNT m FROM t AT -1;",
        "[line 1:col 26] Runtime error: Invalid timestamp.",
    ),
    (
        "SELECT DATA m FROM t ALL WHERE a=b;",
        "[line 1:col 13] Runtime error: Tag 'a' not in tag columns.",
    ),
    (
        "SELECT SUM m FROM t AT 7;",
        "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
    ),
    (
        "SELECT AVG m FROM t AT 7;",
        "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
    ),
    (
        "SELECT MIN m FROM fresh ALL;",
        "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
    ),
    (
        "SELECT MAX m FROM t ALL WHERE k=nothing;",
        "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
    ),
];

#[test]
fn every_runtime_error_exits_70_and_keeps_earlier_effects() {
    let root = tempfile::tempdir().unwrap();
    vq_ok(
        root.path(),
        "CREATE TABLE t TAGS k; CREATE TABLE fresh TAGS k; PUT m 1 1 INTO t;",
    );
    for (source, line) in CASES {
        let run = vq_file(root.path(), source);
        assert_eq!(run.code, 70, "{source:?}: {run:?}");
        assert_eq!(run.stderr, format!("{line}\n"), "{source:?}");
        assert_eq!(run.stdout, "", "{source:?}");
    }
    let value = format!("PUT m 1 1{} INTO t;", "0".repeat(400));
    let run = vq_file(root.path(), &value);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (70, "[line 1:col 9] Runtime error: Invalid value.\n")
    );

    // The first runtime error ends the run: before it, effects stay; after it, nothing runs.
    let run = vq_file(
        root.path(),
        "PUT m 2 2 INTO t;\nSELECT COUNT m FROM t ALL;\nCREATE TABLE t;\nPUT m 3 3 INTO t;\n",
    );
    assert_eq!(run.code, 70);
    assert_eq!(
        run.stderr,
        "[line 3:col 14] Runtime error: Table 't' already exists.\n"
    );
    assert_eq!(run.stdout, "");
    assert_eq!(
        vq_ok(root.path(), "SELECT SUM m FROM t ALL; TABLES;"),
        "3.000000\nfresh t\n"
    );
}
