//! Scenario: a major compaction (`Db::major_compact`, `POST /internal/compact?db=`) moves every
//! table of every layer, and the memtables, down the ladder into C7, merged per C7 window:
//! queries answer the same before and after, runs come back as long blocks, the files get
//! smaller, and writes go on landing in C0 afterwards.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use common::{one_at_a_time, query_json, request, write, Daemon};
use strata::{Config, Db};

const SEC: i64 = 1_000_000_000;
/// 2021-01-01T00:00:00Z
const T0: i64 = 1_609_459_200 * SEC;

/// Six hours of one point every 10 s for two hosts, in six batches (one per hour), each
/// followed by a flush, so the data sits in several C0 tables and C1's 30-minute windows.
fn load(db: &Db) {
    for hour in 0..6i64 {
        let mut text = String::new();
        for i in 0..360i64 {
            let ts = T0 + (hour * 360 + i) * 10 * SEC;
            for host in ["a", "b"] {
                text.push_str(&format!(
                    "m,host={host} v={}.25 {ts}\n",
                    (hour * 360 + i) % 97
                ));
            }
        }
        db.write_lines("d", &text).unwrap();
        db.flush().unwrap();
    }
}

fn answers(db: &Db) -> String {
    db.query(
        "d",
        "SELECT count(v), sum(v), first(v), last(v) FROM m GROUP BY host; \
         SELECT v FROM m WHERE host = 'b' AND time >= '2021-01-01T02:59:40Z' LIMIT 5",
    )
    .unwrap()
    .to_json()
}

#[test]
fn everything_moves_into_c7_and_reads_the_same() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    // C0 keeps up to 3 tables, so the ladder holds data in both C0 and C1 before the major
    // compaction.
    let db = Db::open(dir.path(), Config::new().layer_max_tables(0, 3)).unwrap();
    db.create_database("d").unwrap();
    load(&db);
    db.database("d").unwrap().compact().unwrap();
    let before = db.database("d").unwrap().compaction_stats();
    let tables = |s: &strata::compaction::CompactionStats| -> Vec<usize> {
        s.layers.iter().map(|l| l.tables).collect()
    };
    assert!(
        tables(&before)[..2].iter().all(|&n| n > 0),
        "data in C0 and C1 first: {:?}",
        tables(&before)
    );
    let bytes =
        |s: &strata::compaction::CompactionStats| -> u64 { s.layers.iter().map(|l| l.bytes).sum() };
    let want = answers(&db);
    // Some points only in the memtable: the major compaction flushes them too.
    db.write_lines("d", &format!("m,host=c v=1 {}\n", T0 + 3 * SEC))
        .unwrap();

    db.major_compact("d").unwrap();
    let after = db.database("d").unwrap().compaction_stats();
    assert_eq!(
        tables(&after),
        [0, 0, 0, 0, 0, 0, 0, 1],
        "one C7 table for the one year window"
    );
    let points = |s: &strata::compaction::CompactionStats| -> u64 {
        s.layers.iter().map(|l| l.points).sum()
    };
    assert_eq!(points(&after), points(&before) + 1);
    assert!(
        bytes(&after) < bytes(&before),
        "after {} bytes, before {}",
        bytes(&after),
        bytes(&before)
    );
    let with_c: serde_json::Value = serde_json::from_str(
        &db.query("d", "SELECT count(v) FROM m WHERE host = 'c'")
            .unwrap()
            .to_json(),
    )
    .unwrap();
    assert_eq!(with_c["results"][0]["series"][0]["values"][0][1], 1);
    db.query("d", "DELETE FROM m WHERE host = 'c'").unwrap();
    assert_eq!(answers(&db), want);

    // Each (series, field) run of 2,160 points is now 3 blocks (at most 1,000 points each)
    // instead of one or more per flush and per C1 window.
    let version = db.database("d").unwrap().versions().current();
    let c7 = &version.layers[7];
    let blocks: u64 = c7.iter().map(|t| t.table.stats().blocks).sum();
    assert_eq!(blocks, 2 * 3);

    // Writes go on into C0 afterwards, and a reopen reads the same.
    db.write_lines("d", &format!("m,host=a v=5 {}\n", T0 + 7 * 3600 * SEC))
        .unwrap();
    db.flush().unwrap();
    assert_eq!(
        db.database("d").unwrap().compaction_stats().layers[0].tables,
        1
    );
    db.close().unwrap();
    let db = Db::open(dir.path(), Config::new()).unwrap();
    db.query("d", "DELETE FROM m WHERE time > '2021-01-01T06:00:00Z'")
        .unwrap();
    assert_eq!(answers(&db), want);
}

#[test]
fn the_daemon_compacts_on_request() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let socket = dir.path().join("s.sock");
    let d = Daemon::start(&data, &socket, &["--memtable-size-bytes", "1024"]);
    assert_eq!(
        request(&socket, "POST", "/query?q=CREATE+DATABASE+i", b"").status,
        200
    );
    let mut text = String::new();
    for i in 0..600i64 {
        text.push_str(&format!("m,host=h v={i}i {}\n", T0 + i * 60 * SEC));
    }
    assert_eq!(write(&socket, "i", &text).status, 204);
    let count = |socket: &std::path::Path| {
        query_json(socket, "i", "SELECT count(v), sum(v) FROM m")["results"][0]["series"][0]
            ["values"][0]
            .clone()
    };
    let want = count(&socket);
    assert_eq!(want[1], 600);

    let a = request(&socket, "POST", "/internal/compact?db=i", b"");
    assert_eq!(a.status, 204, "{}", a.body);
    let metrics = request(&socket, "GET", "/metrics", b"").body;
    for layer in 0..8 {
        let line = format!("strata_layer_tables{{db=\"i\",layer=\"C{layer}\"}} ");
        let n: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("no {line} in\n{metrics}"))
            .parse()
            .unwrap();
        assert_eq!(n, u64::from(layer == 7), "C{layer}");
    }
    assert_eq!(count(&socket), want);

    let a = request(&socket, "POST", "/internal/compact", b"");
    assert_eq!(a.status, 400, "{}", a.body);
    assert!(a.body.contains("database is required"), "{}", a.body);
    let a = request(&socket, "POST", "/internal/compact?db=nope", b"");
    assert_eq!(a.status, 404, "{}", a.body);
    assert!(a.body.contains("nope"), "{}", a.body);
    d.stop();
}
