//! Scenario: with tiny SSTable limits (real windows), data spread over three simulated years
//! goes through all eight layers C0–C7; late writes into old windows (new points and overwrites
//! of old timestamps) land in the right window and win over the older data deeper down; the
//! query answers equal what was written, before and after a restart.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;

use strata::compaction::Window;
use strata::{Config, Db};

const SEC: i64 = 1_000_000_000;
const DAY: i64 = 86_400 * SEC;
/// 2021-01-01T00:00:00Z
const T0: i64 = 1_609_459_200 * SEC;

type Model = BTreeMap<(String, i64), i64>;

fn cfg() -> Config {
    let mut c = Config::new();
    for l in 0..8 {
        c = c.layer_max_tables(l, 1);
    }
    c
}

fn write(db: &Db, model: &mut Model, pts: &[(&str, i64, i64)]) {
    let mut text = String::new();
    for (host, ts, v) in pts {
        text.push_str(&format!("m,host={host} v={v}i {ts}\n"));
        model.insert((host.to_string(), *ts), *v);
    }
    db.write_lines("d", &text).unwrap();
}

fn json(db: &Db, q: &str) -> serde_json::Value {
    serde_json::from_str(&db.query("d", q).unwrap().to_json()).unwrap()
}

/// Every host's values in time order, count and sum equal the model.
fn check(db: &Db, model: &Model) {
    for host in ["a", "b"] {
        let want: Vec<i64> = model
            .iter()
            .filter(|((h, _), _)| h == host)
            .map(|(_, v)| *v)
            .collect();
        let j = json(db, &format!("SELECT v FROM m WHERE host = '{host}'"));
        let got: Vec<i64> = j["results"][0]["series"][0]["values"]
            .as_array()
            .map_or(&[][..], |v| v.as_slice())
            .iter()
            .map(|r| r[1].as_i64().unwrap())
            .collect();
        assert_eq!(got, want, "host {host}");
        if want.is_empty() {
            continue;
        }
        let j = json(
            db,
            &format!("SELECT count(v), sum(v) FROM m WHERE host = '{host}'"),
        );
        let row = &j["results"][0]["series"][0]["values"][0];
        assert_eq!(row[1].as_i64().unwrap(), want.len() as i64);
        assert_eq!(row[2].as_i64().unwrap(), want.iter().sum::<i64>());
    }
}

/// Every table of C1–C7 lies inside one window of its layer, and a layer's tables are disjoint.
fn check_layers(db: &Db, config: &Config) -> Vec<usize> {
    let d = db.database("d").unwrap();
    let v = d.versions().current();
    for (l, tables) in v.layers.iter().enumerate().skip(1) {
        let w: Window = config.get_layer_window(l);
        let mut ranges: Vec<(i64, i64)> = tables
            .iter()
            .map(|t| (t.table.stats().min_ts, t.table.stats().max_ts))
            .collect();
        for &(lo, hi) in &ranges {
            assert!(
                w.bounds(lo).1 > hi,
                "C{l} table {lo}..{hi} straddles its {w} window"
            );
        }
        ranges.sort();
        for p in ranges.windows(2) {
            assert!(p[0].1 < p[1].0, "C{l} tables overlap: {p:?}");
        }
    }
    v.layers.iter().map(|l| l.len()).collect()
}

#[test]
fn data_spread_over_years_goes_through_all_layers_and_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let config = cfg();
    let mut model = Model::new();
    {
        let db = Db::open(dir.path(), config.clone()).unwrap();
        db.create_database("d").unwrap();
        let d = db.database("d").unwrap();
        // Sparse history (every 15 days for 3 years) and a dense last day (every 30 minutes),
        // written in four overlapping flushes.
        let mut pts: Vec<(&str, i64, i64)> = Vec::new();
        for i in 0..73 {
            pts.push(("a", T0 + i * 15 * DAY, i));
            pts.push(("b", T0 + i * 15 * DAY + 7 * SEC, 1000 + i));
        }
        let end = T0 + 3 * 365 * DAY;
        for i in 0..48 {
            pts.push(("a", end + i * 1800 * SEC, 5000 + i));
        }
        for r in 0..4 {
            let part: Vec<_> = pts.iter().skip(r).step_by(4).copied().collect();
            write(&db, &mut model, &part);
            d.flush().unwrap();
            d.compact().unwrap();
        }
        check(&db, &model);
        let counts = check_layers(&db, &config);
        // C0 went whole into C1; C1..C6 keep one window each, the rest reached C7.
        assert_eq!(&counts[..7], &[0, 1, 1, 1, 1, 1, 1], "{counts:?}");
        assert!(counts[7] >= 2, "{counts:?}");

        // Late writes, in two flushes: overwrite old points (deep in C7) and add new ones into
        // old windows. While they sit in C0 and as they go down, they must win.
        write(
            &db,
            &mut model,
            &[("a", T0, -1), ("b", T0 + 30 * DAY + 7 * SEC, -2)],
        );
        d.flush().unwrap();
        d.compact().unwrap();
        assert_eq!(d.versions().current().layers[0].len(), 1);
        check(&db, &model);
        write(
            &db,
            &mut model,
            &[
                ("a", T0 + 400 * DAY + 5 * SEC, 77),
                ("a", end + 3 * 1800 * SEC, -3),
                ("a", T0, -4),
            ],
        );
        d.flush().unwrap();
        d.compact().unwrap();
        check(&db, &model);
        check_layers(&db, &config);
        // One more flush stays in C0: now every layer holds data.
        write(&db, &mut model, &[("b", end + DAY, 9)]);
        d.flush().unwrap();
        d.compact().unwrap();
        let counts = check_layers(&db, &config);
        assert!(
            counts.iter().all(|&n| n >= 1),
            "every layer holds data: {counts:?}"
        );
        check(&db, &model);

        let stats = d.compaction_stats();
        for l in &stats.layers[..7] {
            assert!(l.compactions >= 1, "C{} never compacted: {l:?}", l.layer);
            assert!(l.bytes_written > 0 && l.write_amplification > 0.0, "{l:?}");
        }
        assert_eq!(
            stats.layers[7].compactions, 0,
            "C7 has nowhere to move tables"
        );
        assert_eq!(stats.layers[7].debt_tables, counts[7] - 1);
        // An overwrite may still sit in a shallower layer above its older copy; never fewer.
        assert!(stats.layers.iter().map(|l| l.points).sum::<u64>() >= model.len() as u64);
        db.close().unwrap();
    }
    // After a restart: the same answers, the same layers, no leftover files.
    let db = Db::open(dir.path(), config.clone()).unwrap();
    check(&db, &model);
    let counts = check_layers(&db, &config);
    assert!(counts.iter().all(|&n| n >= 1), "{counts:?}");
    let files = std::fs::read_dir(dir.path().join("d/sst")).unwrap().count();
    assert_eq!(
        files,
        counts.iter().sum::<usize>(),
        "only catalogued tables remain"
    );
}

#[test]
fn layer_window_knob_sets_the_table_windows() {
    let dir = tempfile::tempdir().unwrap();
    let config = cfg().layer_window(1, Window::DAY);
    let db = Db::open(dir.path(), config.clone()).unwrap();
    db.create_database("d").unwrap();
    let d = db.database("d").unwrap();
    let mut model = Model::new();
    for r in 0..2 {
        let pts: Vec<(&str, i64, i64)> =
            (0..24).map(|h| ("a", T0 + h * 3600 * SEC + r, h)).collect();
        write(&db, &mut model, &pts);
        d.flush().unwrap();
    }
    d.compact().unwrap();
    // One day of hourly points: a single C1 table (with the default 30m window it would be 24,
    // and 23 of them would have moved on).
    let v = d.versions().current();
    assert_eq!(v.layers[1].len(), 1);
    assert_eq!(v.layers[1][0].table.stats().points, 48);
    assert!(v.layers[2..].iter().all(|l| l.is_empty()));
    check(&db, &model);
    assert!(Config::new()
        .layer_window(0, Window::DAY)
        .validate()
        .is_err());
    assert!(Config::new().layer_max_tables(3, 0).validate().is_err());
}
