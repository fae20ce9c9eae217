//! Scenario: `EXPLAIN` and `EXPLAIN ANALYZE` through the daemon's HTTP API answer, in InfluxDB
//! 1.x's shape (one series, column `QUERY PLAN`, one row per line), the plan the executor
//! follows, and the numbers move as they should: a narrow time range and a tag filter prune
//! files, a GROUP BY time aligned with the blocks is answered from their pre-aggregates, a field
//! condition forces decoding, the last point of each series decodes only its newest block.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::path::Path;

const S: i64 = 1_000_000_000;
/// A day in seconds: the three tables lie days apart.
const DAY: i64 = 86_400;

/// Points one per second over `[from, to)` seconds for each host.
fn lines(hosts: &[&str], from: i64, to: i64) -> String {
    let mut out = String::new();
    for t in from..to {
        for h in hosts {
            out.push_str(&format!("m,host={h} v={} {}\n", t % 7, t * S));
        }
    }
    out
}

/// The plan lines of an EXPLAIN answer, checking 1.x's shape.
fn plan(sock: &Path, q: &str) -> Vec<String> {
    let v = query_json(sock, "e", q);
    let r = &v["results"][0];
    assert!(r["error"].is_null(), "{q}: {r}");
    let s = &r["series"];
    assert_eq!(s.as_array().unwrap().len(), 1, "{q}: {v}");
    assert_eq!(s[0]["columns"], serde_json::json!(["QUERY PLAN"]), "{q}");
    assert!(s[0].get("name").is_none(), "{q}: 1.x gives no name");
    s[0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            assert_eq!(row.as_array().unwrap().len(), 1);
            row[0].as_str().unwrap().to_string()
        })
        .collect()
}

/// The value after `KEY: ` on the first line starting with `KEY:` (indentation ignored).
fn field(lines: &[String], key: &str) -> String {
    lines
        .iter()
        .find_map(|l| l.trim_start().strip_prefix(&format!("{key}: ")))
        .unwrap_or_else(|| panic!("no {key} in {lines:#?}"))
        .to_string()
}

fn num(lines: &[String], key: &str) -> u64 {
    field(lines, key).parse().unwrap()
}

#[test]
fn explain_shows_pruning_and_explain_analyze_the_preaggregate_shortcut() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    // Three tables: each daemon run flushes what it was given when it stops.
    let batches = [
        lines(&["a", "b"], 0, 3000),
        lines(&["a", "b"], DAY, DAY + 10),
        lines(&["c"], 2 * DAY, 2 * DAY + 10),
    ];
    for (i, b) in batches.iter().enumerate() {
        let d = Daemon::start(&data, &sock, &[]);
        if i == 0 {
            assert_eq!(query(&sock, "", "CREATE DATABASE e").status, 200);
        }
        assert_eq!(write(&sock, "e", b).status, 204);
        assert!(d.stop().success());
    }
    let _d = Daemon::start(&data, &sock, &[]);

    let all = plan(&sock, "EXPLAIN SELECT count(v) FROM m");
    assert_eq!(field(&all, "MEASUREMENT"), "m");
    assert_eq!(num(&all, "SERIES"), 3);
    assert_eq!(field(&all, "FILES"), "3 chosen, 0 pruned, of 3");
    // 3000 points of a and b: 3 blocks each; 10 points of a and b; 10 of c.
    assert_eq!(num(&all, "BLOCKS"), 3 + 3 + 1 + 1 + 1);
    assert_eq!(num(&all, "ESTIMATED POINTS"), 6000 + 20 + 10);
    assert!(field(&all, "MEMTABLES").starts_with("0 read"), "{all:#?}");
    // EXPLAIN does not run the query.
    assert!(!all.iter().any(|l| l.contains("EXECUTION")), "{all:#?}");
    // It prints the physical plan: the columns, each call with the time range it reads, the
    // fields read and the grouping.
    assert!(all.iter().any(|l| l == "PLAN OF m:"), "{all:#?}");
    assert_eq!(field(&all, "COLUMNS"), "time, count");
    assert!(
        field(&all, "AGGREGATE").starts_with("count(v) over ["),
        "{all:#?}"
    );
    assert!(field(&all, "READS").starts_with("v in ["), "{all:#?}");
    let grouped = plan(
        &sock,
        "EXPLAIN SELECT max(v), derivative(max(v)) FROM m WHERE time >= 0 AND time < 3000s \
         GROUP BY time(1000s), host",
    );
    assert_eq!(field(&grouped, "GROUP BY"), "time(1000000000000ns), host");
    assert_eq!(field(&grouped, "TRANSFORM"), "derivative()");
    assert_eq!(field(&grouped, "COLUMNS"), "time, max, derivative");
    // A layout InfluxDB 1.x refuses is the statement's error, as when it runs.
    let bad = query_json(&sock, "e", "EXPLAIN SELECT mean(*) * 2 FROM m");
    let error = bad["results"][0]["error"].as_str().unwrap_or_default();
    assert!(error.contains("wildcard"), "{bad}");

    // A narrow time range prunes the other days' files.
    let day = plan(
        &sock,
        &format!(
            "EXPLAIN SELECT count(v) FROM m WHERE time >= {} AND time < {}",
            DAY * S,
            (DAY + 60) * S
        ),
    );
    assert_eq!(field(&day, "FILES"), "1 chosen, 2 pruned, of 3");
    assert_eq!(num(&day, "BLOCKS"), 2);
    // A tag filter prunes the files that hold none of its series.
    let c = plan(&sock, "EXPLAIN SELECT count(v) FROM m WHERE host = 'c'");
    assert_eq!(num(&c, "SERIES"), 1);
    assert_eq!(field(&c, "FILES"), "1 chosen, 2 pruned, of 3");

    // GROUP BY time aligned with the blocks: answered from pre-aggregates, nothing decoded.
    let q = "SELECT count(v), sum(v), max(v) FROM m WHERE time >= 0 AND time < 3000s \
             GROUP BY time(1000s)";
    let fast = plan(&sock, &format!("EXPLAIN ANALYZE {q}"));
    assert_eq!(num(&fast, "BLOCKS FROM PRE-AGGREGATES"), 6, "{fast:#?}");
    assert_eq!(num(&fast, "BLOCKS DECODED"), 0, "{fast:#?}");
    assert_eq!(num(&fast, "POINTS DECODED"), 0, "{fast:#?}");
    assert_eq!(num(&fast, "RESULT ROWS"), 3);
    assert!(field(&fast, "EXECUTION TIME").ends_with('s'), "{fast:#?}");
    // Same answers as the query itself.
    let v = query_json(&sock, "e", q);
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 2000);
    // Buckets that cut blocks: decoded.
    let cut = plan(
        &sock,
        "EXPLAIN ANALYZE SELECT count(v) FROM m WHERE time >= 0 AND time < 3000s \
         GROUP BY time(600s)",
    );
    assert_eq!(num(&cut, "BLOCKS FROM PRE-AGGREGATES"), 0, "{cut:#?}");
    assert_eq!(num(&cut, "BLOCKS DECODED"), 6, "{cut:#?}");
    assert_eq!(num(&cut, "POINTS DECODED"), 6000, "{cut:#?}");
    // A field condition forces decoding.
    let pred = plan(
        &sock,
        &format!("EXPLAIN ANALYZE {}", q.replace("WHERE", "WHERE v > 2 AND")),
    );
    assert_eq!(num(&pred, "BLOCKS FROM PRE-AGGREGATES"), 0, "{pred:#?}");
    assert_eq!(num(&pred, "BLOCKS DECODED"), 6, "{pred:#?}");
    assert_eq!(num(&fast, "BLOCKS WITH ONLY TIMESTAMPS DECODED"), 0);
    // A newer point inside a block's range at none of its times: the block's timestamps are
    // read to prove it, and its pre-aggregates still answer.
    assert_eq!(write(&sock, "e", "m,host=a v=5 500500000000\n").status, 204);
    let between = plan(&sock, &format!("EXPLAIN ANALYZE {q}"));
    assert_eq!(
        num(&between, "BLOCKS FROM PRE-AGGREGATES"),
        6,
        "{between:#?}"
    );
    assert_eq!(num(&between, "BLOCKS DECODED"), 0, "{between:#?}");
    assert_eq!(
        num(&between, "BLOCKS WITH ONLY TIMESTAMPS DECODED"),
        1,
        "{between:#?}"
    );
    assert_eq!(num(&between, "MEMTABLE POINTS"), 1, "{between:#?}");
    let v = query_json(&sock, "e", q);
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], 2001);

    // The last point of each host: only the newest block of each series is decoded (a and b
    // have 3 + 1 blocks each, c has 1).
    let last = plan(
        &sock,
        "EXPLAIN ANALYZE SELECT * FROM m GROUP BY host ORDER BY time DESC LIMIT 1",
    );
    assert_eq!(num(&last, "BLOCKS"), 9, "{last:#?}");
    assert_eq!(num(&last, "BLOCKS DECODED"), 3, "{last:#?}");
    assert_eq!(num(&last, "RESULT ROWS"), 3, "{last:#?}");

    // A syntax or database error is the statement's error, as for SELECT.
    let v = query_json(&sock, "nope", "EXPLAIN SELECT v FROM m");
    assert!(v["results"][0]["error"].is_string(), "{v}");
}
