//! Scenario: `query_inline_max_points`. A request of one SELECT estimated to read at most that
//! many points is answered on the caller's thread; one estimated past it (from the memtable's
//! points, then from the blocks of the tables once flushed) stops before reading and is
//! answered by the query pool instead, with the same answer; 0 sends every query to the pool;
//! other statements always go to the pool. Through the daemon, `--query-inline-max-points`
//! sets it and `/metrics` counts where queries ran.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use strata::{Config, Db, QueryPaths};

fn open(cfg: Config) -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(dir.path().join("data"), cfg).unwrap();
    (dir, db)
}

/// 100 points of `v` for each of hosts a and b, one per second.
fn load(db: &Db) {
    db.create_database("d").unwrap();
    let mut lines = String::new();
    for t in 0..100i64 {
        for (h, k) in [("a", 1), ("b", 2)] {
            lines.push_str(&format!("m,host={h} v={} {}\n", t * k, t * 1_000_000_000));
        }
    }
    db.write_lines("d", &lines).unwrap();
}

fn count(db: &Db, q: &str) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_str(&db.query("d", q).unwrap().to_json()).unwrap();
    json["results"][0]["series"][0]["values"][0][1].clone()
}

fn paths(inline: u64, pooled: u64, moved: u64) -> QueryPaths {
    QueryPaths {
        inline,
        pooled,
        moved,
    }
}

#[test]
fn small_selects_run_inline_and_those_estimated_past_the_limit_move_to_the_pool() {
    let (_dir, db) = open(Config::new().query_inline_max_points(150));
    load(&db);
    let one = "SELECT count(v) FROM m WHERE host = 'a'";
    let both = "SELECT count(v) FROM m";
    assert_eq!(db.query_paths(), paths(0, 0, 0));

    // In the memtable: 100 points of host a (within 150), 200 of both hosts (past it).
    assert_eq!(count(&db, one), 100);
    assert_eq!(db.query_paths(), paths(1, 0, 0));
    assert_eq!(count(&db, both), 200);
    assert_eq!(db.query_paths(), paths(1, 1, 1));

    // In tables: the estimate comes from the blocks' point counts.
    db.flush().unwrap();
    assert_eq!(count(&db, one), 100);
    assert_eq!(db.query_paths(), paths(2, 1, 1));
    assert_eq!(count(&db, both), 200);
    assert_eq!(db.query_paths(), paths(2, 2, 2));

    // A block overlapping the time range counts whole: both hosts' 100-point blocks.
    let recent = "SELECT count(v) FROM m WHERE time >= 50s";
    assert_eq!(count(&db, recent), 100);
    assert_eq!(db.query_paths(), paths(2, 3, 3));

    // Statements other than one SELECT never run inline.
    db.query("d", "SHOW MEASUREMENTS").unwrap();
    db.query("d", &format!("{one}; {one}")).unwrap();
    assert_eq!(db.query_paths(), paths(2, 5, 3));
    db.close().unwrap();
}

#[test]
fn zero_runs_every_query_on_the_pool_and_the_answers_are_the_same() {
    let queries = [
        "SELECT count(v), sum(v), max(v) FROM m",
        "SELECT mean(v) FROM m WHERE host = 'b' GROUP BY time(10s)",
        "SELECT v FROM m WHERE host = 'a' AND v > 90",
        "SELECT max(v) FROM m GROUP BY host",
        "SELECT * FROM m WHERE time >= 98s",
        "SELECT nosuch(v) FROM m",
    ];
    let (_d1, pooled) = open(Config::new().query_inline_max_points(0));
    let (_d2, inline) = open(Config::new());
    for db in [&pooled, &inline] {
        load(db);
    }
    for q in queries {
        let a = pooled.query("d", q).map(|r| r.to_json());
        let b = inline.query("d", q).map(|r| r.to_json());
        assert_eq!(
            format!("{a:?}"),
            format!("{b:?}"),
            "{q}: pool and inline answers differ"
        );
    }
    let n = queries.len() as u64;
    assert_eq!(
        pooled.query_paths(),
        paths(0, n, 0),
        "0 still ran a query inline"
    );
    assert_eq!(
        inline.query_paths(),
        paths(n, 0, 0),
        "the default did not run these small queries inline"
    );
    pooled.close().unwrap();
    inline.close().unwrap();
}

#[test]
fn daemon_flag_sets_it_and_metrics_count_where_queries_ran() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let run = |extra: &[&str]| -> (u64, u64, u64) {
        let data = dir.path().join(format!("data{}", extra.len()));
        let d = common::Daemon::start(&data, &sock, extra);
        assert_eq!(common::query(&sock, "", "CREATE DATABASE d").status, 200);
        assert_eq!(
            common::write(
                &sock,
                "d",
                "m,host=a v=1 1\nm,host=a v=2 2\nm,host=b v=3 3\n"
            )
            .status,
            204
        );
        let v = common::query_json(&sock, "d", "SELECT count(v) FROM m WHERE host = 'a'");
        assert_eq!(common::scalar(&v), 2, "{v}");
        let v = common::query_json(&sock, "d", "SELECT count(v) FROM m");
        assert_eq!(common::scalar(&v), 3, "{v}");
        let got = (
            common::metric(&sock, "strata_queries_total{path=\"inline\"}"),
            common::metric(&sock, "strata_queries_total{path=\"pool\"}"),
            common::metric(&sock, "strata_queries_moved_to_pool_total"),
        );
        assert!(d.stop().success());
        got
    };
    // CREATE DATABASE goes to the pool; of the SELECTs, the 3-point one passes a limit of 2.
    assert_eq!(run(&["--query-inline-max-points", "2"]), (1, 2, 1));
    assert_eq!(run(&[]), (2, 1, 0));
    assert_eq!(
        run(&["--query-inline-max-points", "0", "--socket-mode", "600"]),
        (0, 3, 0)
    );
}

#[test]
fn an_inline_query_obeys_query_timeout_like_a_pooled_one() {
    let tiny = std::time::Duration::from_nanos(1);
    for (max_points, expect) in [(0, paths(0, 1, 0)), (1_000, paths(1, 0, 0))] {
        let (_dir, db) = open(
            Config::new()
                .query_timeout(tiny)
                .query_inline_max_points(max_points),
        );
        load(&db);
        let err = db
            .query("d", "SELECT count(v) FROM m WHERE host = 'a'")
            .expect_err("a 1 ns deadline has passed before the query starts");
        assert!(
            matches!(
                &err,
                strata::Error::QueryStopped(strata::error::StopReason::DeadlineExceeded {
                    timeout: Some(t)
                }) if *t == tiny
            ) && err.to_string().contains("query_timeout"),
            "{err}"
        );
        assert_eq!(db.query_paths(), expect);
        db.close().unwrap();
    }
}
