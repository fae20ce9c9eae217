//! Scenario: raw rows (`SELECT ... WHERE <field condition>`) of a series whose fields are
//! written together in some stretches and apart in others, across several SSTables and the
//! memtable: the rows are the fields joined on time (a field without a point at a time is
//! null there) and filtered by the condition, whether the fields' decoded chunks line up (the
//! executor then joins them by position) or not (joined timestamp by timestamp).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use serde_json::{json, Value};

/// Point `t` (seconds) of each field, `None` where the field has no point.
fn model(t: i64) -> [Option<i64>; 3] {
    // `a` always; `b` only in stretches (so its blocks start and end elsewhere); `c` with `a`
    // but for a gap.
    let a = Some(t % 50);
    let b = (t % 700 < 400).then_some(t % 7);
    let c = (!(1200..1300).contains(&t)).then_some(t);
    [a, b, c]
}

fn lines(range: std::ops::Range<i64>) -> String {
    let mut out = String::new();
    for t in range {
        let fields: Vec<String> = ["a", "b", "c"]
            .iter()
            .zip(model(t))
            .filter_map(|(n, v)| v.map(|v| format!("{n}={v}i")))
            .collect();
        out.push_str(&format!(
            "m,host=h {} {}\n",
            fields.join(","),
            t * 1_000_000_000
        ));
    }
    out
}

fn rows(db: &strata::Db, q: &str) -> Vec<Value> {
    let r = db.query("d", q).expect("query");
    let v: Value = serde_json::from_str(&r.to_json()).expect("json");
    v["results"][0]["series"][0]["values"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn raw_rows_join_aligned_and_unaligned_fields_alike() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = strata::Db::open(dir.path(), strata::Config::new()).expect("open");
    db.create_database("d").expect("create");
    // Three tables (each flush one) and the memtable, with runs longer than a block.
    for range in [0..1500, 1500..2600, 2600..3100] {
        db.write_lines("d", &lines(range)).expect("write");
        db.flush().expect("flush");
    }
    db.write_lines("d", &lines(3100..3400)).expect("write");

    let time = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .expect("time")
            .format("%Y-%m-%dT%H:%M:%SZ")
            .to_string()
    };
    // The rows of fields `cols` (indexes into the model) where `keep` holds and one of
    // them has a point.
    let want = |cols: &[usize], keep: &dyn Fn(&[Option<i64>; 3]) -> bool| -> Vec<Value> {
        (0..3400)
            .map(|t| (t, model(t)))
            .filter(|(_, m)| keep(m) && cols.iter().any(|&k| m[k].is_some()))
            .map(|(t, m)| {
                let mut row = vec![json!(time(t))];
                row.extend(cols.iter().map(|&k| json!(m[k])));
                Value::Array(row)
            })
            .collect()
    };
    type Keep = fn(&[Option<i64>; 3]) -> bool;
    let cases: [(&str, &[usize], Keep); 7] = [
        ("SELECT a, b, c FROM m WHERE a > 40", &[0, 1, 2], |m| {
            m[0].is_some_and(|a| a > 40)
        }),
        ("SELECT a, b, c FROM m WHERE b = 3", &[0, 1, 2], |m| {
            m[1] == Some(3)
        }),
        (
            "SELECT a, b, c FROM m WHERE c >= 1250 AND a < 10",
            &[0, 1, 2],
            |m| m[2].is_some_and(|c| c >= 1250) && m[0].is_some_and(|a| a < 10),
        ),
        ("SELECT a, b, c FROM m", &[0, 1, 2], |_| true),
        // `a` and `c` line up everywhere but in c's gap: mostly joined by position.
        ("SELECT a, c FROM m WHERE a > 40", &[0, 2], |m| {
            m[0].is_some_and(|a| a > 40)
        }),
        ("SELECT a, c FROM m WHERE c > 1000", &[0, 2], |m| {
            m[2].is_some_and(|c| c > 1000)
        }),
        ("SELECT a, c FROM m", &[0, 2], |_| true),
    ];
    for (q, cols, keep) in cases {
        let got = rows(&db, q);
        let want = want(cols, &keep);
        assert!(!want.is_empty(), "{q}");
        assert_eq!(got.len(), want.len(), "{q}");
        assert_eq!(got, want, "{q}");
    }
    // SELECT *: the tag column comes with every row.
    let star = rows(&db, "SELECT * FROM m WHERE a > 48");
    assert_eq!(star.len(), 3400 / 50);
    assert!(
        star.iter().all(|r| r[4] == json!("h")),
        "{:?}",
        star.first()
    );
    db.close().expect("close");
}
