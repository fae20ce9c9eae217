//! Scenario: several `strata vq` processes, one after another, on one data directory: every
//! table, tag column (including those given to CREATE TABLE … TAGS), "populated" mark and point
//! survives, dropped tables stay dropped, and points that were only in the WAL survive any
//! number of restarts (vkdb defects 4 and 5 of VQ.md §8).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::vq::{vq_file, vq_ok};

#[test]
fn tables_tag_columns_populated_and_points_survive_restarts() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    vq_ok(
        r,
        "CREATE TABLE climate TAGS region, season; CREATE TABLE spare TAGS a;\
         CREATE TABLE doomed; PUT temperature 10 1.5 INTO climate TAGS region=west;\
         PUT temperature 20 2.5 INTO doomed;",
    );
    // Second process: tag columns came back (vkdb loses those given to CREATE TABLE).
    assert_eq!(
        vq_ok(
            r,
            "TABLES; SELECT DATA temperature FROM climate ALL WHERE region=west;"
        ),
        "climate doomed spare\n[[{00000000000000000010}{temperature}{region:west}|1.5]]\n"
    );
    vq_ok(r, "ADD TAGS b TO spare; DROP TABLE doomed; PUT temperature 11 3 INTO climate TAGS season=dry;");
    for _ in 0..3 {
        // Every later process sees the same.
        assert_eq!(vq_ok(r, "TABLES;"), "climate spare\n");
        assert_eq!(
            vq_ok(r, "SELECT SUM temperature FROM climate ALL; SELECT COUNT temperature FROM climate AT 11;"),
            "4.500000\n1\n"
        );
        // `climate` is populated: its columns can no longer change.
        let run = vq_file(r, "ADD TAGS x TO climate;");
        assert_eq!(run.code, 70);
        assert!(run.stderr.contains("previously been populated"), "{run:?}");
        // `spare` is not, and has both its columns.
        let run = vq_file(r, "PUT m 1 1 INTO spare TAGS a=x, b=y, c=z;");
        assert_eq!(
            run.stderr,
            "[line 1:col 5] Runtime error: Tag 'c' not in tag columns.\n"
        );
        // `doomed` stays dropped, with its data.
        let run = vq_file(r, "SELECT COUNT temperature FROM doomed ALL;");
        assert_eq!(
            run.stderr,
            "[line 1:col 14] Runtime error: Table 'doomed' does not exist.\n"
        );
    }
    // Re-created, it is empty.
    assert_eq!(
        vq_ok(
            r,
            "CREATE TABLE doomed; SELECT COUNT temperature FROM doomed ALL;"
        ),
        "0\n"
    );
}
