//! Interpreter tests: every statement and runtime error of VQ.md §5 against a real `Db`.

use super::*;
use crate::vq::render;

fn db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::open(dir.path(), crate::Config::new()).unwrap_or_else(|e| panic!("{e}"));
    (dir, db)
}

fn ok(db: &Db, src: &str) -> String {
    render(&db.vq(src).unwrap_or_else(|e| panic!("{src}: {e}")))
}

fn err(db: &Db, src: &str) -> String {
    match db.vq(src) {
        Ok(out) => panic!("{src}: {out:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn statements_and_outputs() {
    let (_dir, db) = db();
    assert_eq!(ok(&db, "TABLES;"), "\n");
    ok(
        &db,
        "CREATE TABLE weather TAGS city, unit, city; CREATE TABLE a;",
    );
    assert_eq!(ok(&db, "TABLES;"), "a weather\n");
    ok(
        &db,
        "PUT temperature 1234 23.5 INTO weather TAGS unit=celsius, city=paris;\
         PUT temperature 1234 20 INTO weather;\
         PUT temperature 1234 1234567 INTO weather TAGS city=lyon;\
         PUT temperature 1000 -0.25 INTO weather TAGS city=paris, city=rome;\
         PUT humidity 1234 0.5 INTO weather;",
    );
    assert_eq!(
        ok(&db, "SELECT DATA temperature FROM weather ALL;"),
        "[[{00000000000000001000}{temperature}{city:paris}|-0.25];\
         [{00000000000000001234}{temperature}{}|20];\
         [{00000000000000001234}{temperature}{city:lyon}|1.23457e+06];\
         [{00000000000000001234}{temperature}{city:paris,unit:celsius}|23.5]]\n"
    );
    assert_eq!(
        ok(
            &db,
            "SELECT COUNT temperature FROM weather ALL; SELECT SUM temperature FROM weather ALL;\
             SELECT AVG temperature FROM weather BETWEEN 1234 AND 1234;\
             SELECT MIN temperature FROM weather ALL WHERE city=paris;\
             SELECT MAX temperature FROM weather AT 1234;\
             SELECT COUNT temperature FROM weather BETWEEN 5 AND 1;\
             SELECT DATA temperature FROM weather AT 1 WHERE city=x;"
        ),
        "4\n1234610.250000\n411536.833333\n-0.250000\n1234567.000000\n0\n[]\n"
    );
    // Overwrite: same identity, last write wins.
    ok(&db, "PUT temperature 1234 21 INTO weather;");
    assert_eq!(
        ok(
            &db,
            "SELECT DATA temperature FROM weather AT 1234 WHERE unit=celsius;"
        ),
        "[[{00000000000000001234}{temperature}{city:paris,unit:celsius}|23.5]]\n"
    );
    assert_eq!(
        ok(&db, "SELECT SUM temperature FROM weather AT 1234;"),
        "1234611.500000\n"
    );
    // DELETE removes exactly that identity, and only that metric.
    ok(
        &db,
        "DELETE temperature 1234 FROM weather; DELETE temperature 1234 FROM weather TAGS city=nowhere;",
    );
    assert_eq!(ok(&db, "SELECT COUNT temperature FROM weather ALL;"), "3\n");
    assert_eq!(
        ok(&db, "SELECT DATA humidity FROM weather ALL;"),
        "[[{00000000000000001234}{humidity}{}|0.5]]\n"
    );
    ok(&db, "DROP TABLE weather;");
    assert_eq!(ok(&db, "TABLES;"), "a\n");
    ok(&db, "CREATE TABLE weather;");
    assert_eq!(ok(&db, "SELECT COUNT temperature FROM weather ALL;"), "0\n");
}

#[test]
fn runtime_errors_point_at_their_token() {
    let (_dir, db) = db();
    let cases = [
        (
            "CREATE TABLE t TAGS k; CREATE TABLE t;",
            "[line 1:col 37] Runtime error: Table 't' already exists.",
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
            "ADD TAGS j, k TO t;",
            "[line 1:col 18] Runtime error: Tag column 'k' already exists in 't'.",
        ),
        (
            "REMOVE TAGS k, x FROM t;",
            "[line 1:col 23] Runtime error: Tag column 'x' does not exist in 't'.",
        ),
        (
            "REMOVE TAGS k FROM nope;",
            "[line 1:col 20] Runtime error: Table 'nope' does not exist.",
        ),
        (
            "PUT m\t-0 1 INTO t;",
            "[line 1:col 7] Runtime error: Invalid timestamp.",
        ),
        (
            "PUT mm 0.0 1 INTO t;",
            "[line 1:col 8] Runtime error: Invalid timestamp.",
        ),
        (
            "PUT m 18446744073709551616 1 INTO t;",
            "[line 1:col 7] Runtime error: Invalid timestamp.",
        ),
        (
            "PUT m 9223372037 1 INTO t;",
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
            "DELETE m 1 FROM t TAGS a=b;",
            "[line 1:col 8] Runtime error: Tag 'a' not in tag columns.",
        ),
        (
            "DELETE m x1 FROM t;",
            "[line 1:col 10] Parse error at 'x1': Expected timestamp.",
        ),
        (
            "SELECT DATA m FROM nope ALL;",
            "[line 1:col 13] Runtime error: Table 'nope' does not exist.",
        ),
        (
            "SELECT DATA m FROM t AT 1.5;",
            "[line 1:col 25] Runtime error: Invalid timestamp.",
        ),
        (
            "SELECT COUNT m FROM t ALL WHERE a=b;",
            "[line 1:col 14] Runtime error: Tag 'a' not in tag columns.",
        ),
        (
            "SELECT SUM m FROM t ALL;",
            "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
        ),
        (
            "SELECT AVG m FROM t ALL;",
            "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
        ),
        (
            "SELECT MIN m FROM t ALL;",
            "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
        ),
        (
            "SELECT MAX m FROM t ALL;",
            "[line 1:col 12] Runtime error: Cannot aggregate on empty range.",
        ),
    ];
    for (src, want) in cases {
        assert_eq!(err(&db, src), want, "{src}");
    }
    let big = format!("PUT m 1 1{} INTO t;", "0".repeat(400));
    assert_eq!(
        err(&db, &big),
        "[line 1:col 9] Runtime error: Invalid value."
    );
    let tiny = format!("PUT m 1 0.{}1 INTO t;", "0".repeat(400));
    assert_eq!(
        err(&db, &tiny),
        "[line 1:col 9] Runtime error: Invalid value."
    );
    // The first runtime error ends the run; what ran before it stays.
    assert_eq!(
        err(
            &db,
            "PUT m 1 1 INTO t; PUT m 2 2 INTO nope; PUT m 3 3 INTO t;"
        ),
        "[line 1:col 23] Runtime error: Table 'nope' does not exist."
    );
    assert_eq!(ok(&db, "SELECT COUNT m FROM t ALL;"), "1\n");
    // Populated: column changes are refused, all or nothing.
    let populated = "Table 't' has previously been populated with data.";
    assert!(err(&db, "ADD TAGS x TO t;").ends_with(populated));
    assert!(err(&db, "REMOVE TAGS k FROM t;").ends_with(populated));
    ok(&db, "CREATE TABLE u TAGS a; DELETE m 1 FROM u;");
    assert!(err(&db, "ADD TAGS x TO u;")
        .ends_with("Table 'u' has previously been populated with data."));
    ok(&db, "CREATE TABLE v TAGS a;");
    assert!(err(&db, "ADD TAGS b, a TO v;").ends_with("Tag column 'a' already exists in 'v'."));
    ok(
        &db,
        "ADD TAGS b, c TO v; REMOVE TAGS a, c FROM v; PUT m 1 1 INTO v TAGS b=x;",
    );
    assert!(err(&db, "PUT m 1 1 INTO v TAGS a=x;").ends_with("Tag 'a' not in tag columns."));
}

/// Consecutive PUTs share a write: the last of one identity wins, and a failing PUT after
/// them keeps them (and runs nothing after it).
#[test]
fn batched_puts_keep_statement_order_and_effects() {
    let (_dir, db) = db();
    ok(&db, "CREATE TABLE t TAGS k; PUT m 1 1 INTO t TAGS k=a;");
    ok(
        &db,
        "PUT m 2 5 INTO t TAGS k=a; PUT m 2 6 INTO t TAGS k=a; PUT m 3 7 INTO t TAGS k=b;",
    );
    assert_eq!(
        ok(&db, "SELECT DATA m FROM t BETWEEN 2 AND 3;"),
        "[[{00000000000000000002}{m}{k:a}|6];[{00000000000000000003}{m}{k:b}|7]]\n"
    );
    assert_eq!(
        err(
            &db,
            "PUT m 4 1 INTO t TAGS k=a; PUT m 5 1 INTO t TAGS k=a; PUT m 6 x1 INTO t;"
        ),
        "[line 1:col 63] Parse error at 'x1': Expected value."
    );
    assert_eq!(
        err(&db, "PUT m 4 1 INTO t TAGS k=a; PUT m 5 1 INTO t TAGS k=a; PUT m 6 1 INTO nope; PUT m 7 1 INTO t;"),
        "[line 1:col 59] Runtime error: Table 'nope' does not exist."
    );
    assert_eq!(ok(&db, "SELECT COUNT m FROM t BETWEEN 4 AND 7;"), "2\n");
    // A metric that is not a float field is refused by the engine, at its PUT.
    db.write_lines("vq", "t,k=a s=\"text\" 1000000000")
        .unwrap_or_else(|e| panic!("{e}"));
    let e = err(
        &db,
        "PUT m 8 1 INTO t TAGS k=a; PUT s 9 1 INTO t TAGS k=a; PUT m 10 1 INTO t;",
    );
    assert!(e.starts_with("[line 1:col 32] Runtime error: "), "{e}");
    assert_eq!(ok(&db, "SELECT COUNT m FROM t BETWEEN 8 AND 10;"), "1\n");
    // More PUTs than one batch holds.
    let many: String = (100..100 + MAX_BATCH as u64 + 10)
        .map(|ts| format!("PUT m {ts} 0.5 INTO t TAGS k=a;"))
        .collect();
    ok(&db, &many);
    assert_eq!(
        ok(&db, "SELECT COUNT m FROM t BETWEEN 100 AND 100000; SELECT SUM m FROM t BETWEEN 100 AND 100000;"),
        format!("{}\n{:.6}\n", MAX_BATCH + 10, (MAX_BATCH + 10) as f64 * 0.5)
    );
}

#[test]
fn tables_and_populated_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    for round in 0..3 {
        let db = Db::open(dir.path(), crate::Config::new()).unwrap_or_else(|e| panic!("{e}"));
        if round == 0 {
            ok(&db, "CREATE TABLE t TAGS k, j; CREATE TABLE e TAGS x; CREATE TABLE gone; PUT m 5 1.5 INTO t TAGS k=a; DROP TABLE gone;");
        }
        assert_eq!(ok(&db, "TABLES;"), "e t\n");
        assert_eq!(
            ok(&db, "SELECT DATA m FROM t ALL WHERE k=a;"),
            "[[{00000000000000000005}{m}{k:a}|1.5]]\n"
        );
        assert!(err(&db, "ADD TAGS z TO t;").ends_with("populated with data."));
        assert!(err(&db, "PUT m 1 1 INTO e TAGS k=a;").ends_with("Tag 'k' not in tag columns."));
        db.close().unwrap_or_else(|e| panic!("{e}"));
    }
}
