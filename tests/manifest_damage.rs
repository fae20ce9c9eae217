//! Scenario: a damaged, missing or shadowed manifest never costs data. Opening stops with an
//! error naming the file (and the offset) and leaves every file as it was; `strata check`
//! reports the damage and exits 1; `strata repair` rebuilds the catalog from the SSTables,
//! keeping a backup of the manifest it replaced, and every point is back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::fs;
use std::path::Path;
use std::process::Command;

use strata::{Config, Db, Error};

const DB: &str = "demo";

/// A data directory with three flushed tables (and a compaction's worth of history).
fn populated(data: &Path) {
    let db = Db::open(data, Config::new()).unwrap();
    db.create_database(DB).unwrap();
    for batch in 0..3 {
        let lines: String = (0..100)
            .map(|i| {
                let n = batch * 100 + i;
                format!(
                    "cpu,host=h{} v={n}i {}\n",
                    n % 3,
                    1_700_000_000_000_000_000i64 + n * 1_000_000_000
                )
            })
            .collect();
        db.write_lines(DB, &lines).unwrap();
        db.flush().unwrap();
    }
    db.close().unwrap();
}

fn answer(data: &Path) -> String {
    let db = Db::open(data, Config::new()).unwrap();
    let out = db
        .query(DB, "SELECT count(v), sum(v) FROM cpu GROUP BY host")
        .unwrap()
        .to_json();
    db.close().unwrap();
    out
}

fn strata(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .env("STRATA_LOG", "warn")
        .output()
        .unwrap()
}

#[test]
fn every_byte_of_a_manifest_damaged_is_refused_or_harmless() {
    // Other tests of this file fork `strata`: see common::one_at_a_time.
    let _one = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    populated(&data);
    let clean = answer(&data);
    let path = common::manifest_of(&data, DB);
    let good = fs::read(&path).unwrap();
    assert!(good.len() < 200, "a small manifest: {} bytes", good.len());
    let mut refused = 0;
    for offset in 0..good.len() {
        let mut bad = good.clone();
        bad[offset] ^= 0x41;
        fs::write(&path, &bad).unwrap();
        let before = common::all_files(&data);
        match Db::open(&data, Config::new()) {
            Err(Error::ManifestCorrupt {
                path: named,
                offset: at,
                ..
            }) => {
                assert_eq!(named, path);
                assert!(at as usize <= offset);
                assert_eq!(
                    common::all_files(&data),
                    before,
                    "offset {offset}: a file changed"
                );
                refused += 1;
            }
            Err(e) => panic!("offset {offset}: unexpected error {e}"),
            Ok(db) => {
                let out = db
                    .query(DB, "SELECT count(v), sum(v) FROM cpu GROUP BY host")
                    .unwrap()
                    .to_json();
                db.close().unwrap();
                panic!("offset {offset}: damage went undetected (answer {out}, clean {clean})");
            }
        }
        fs::write(&path, &good).unwrap();
    }
    assert_eq!(refused, good.len());
    eprintln!("{refused} of {} damaged bytes refused", good.len());

    // Cut short anywhere: refused (a manifest always holds a whole snapshot).
    for len in 0..good.len() {
        fs::write(&path, &good[..len]).unwrap();
        assert!(
            matches!(
                Db::open(&data, Config::new()),
                Err(Error::ManifestCorrupt { .. })
            ),
            "cut at {len}"
        );
    }
    fs::write(&path, &good).unwrap();
    assert_eq!(answer(&data), clean);
}

#[test]
fn an_empty_newer_manifest_and_a_missing_one_stop_the_open() {
    // Other tests of this file fork `strata`: see common::one_at_a_time.
    let _one = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    populated(&data);
    let clean = answer(&data);

    // What a failed start on a full disk used to leave: an empty newer manifest.
    let newer = data.join(DB).join("MANIFEST-000999");
    fs::write(&newer, b"").unwrap();
    let before = common::all_files(&data);
    let err = Db::open(&data, Config::new()).err().unwrap();
    assert!(err.to_string().contains("MANIFEST-000999"), "{err}");
    assert_eq!(common::all_files(&data), before);
    fs::remove_file(&newer).unwrap();
    assert_eq!(answer(&data), clean);

    // The manifest gone: refused, nothing deleted. (Each open writes the next manifest.)
    let path = common::manifest_of(&data, DB);
    let saved = fs::read(&path).unwrap();
    fs::remove_file(&path).unwrap();
    let before = common::all_files(&data);
    let err = Db::open(&data, Config::new()).err().unwrap();
    assert!(matches!(err, Error::ManifestMissing { .. }), "{err}");
    assert_eq!(common::all_files(&data), before);

    // The daemon says the same and exits non-zero.
    let sock = dir.path().join("s.sock");
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["serve", "--data-dir"])
        .arg(&data)
        .arg("--socket")
        .arg(&sock)
        .env("STRATA_LOG", "warn")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("has no manifest"), "{stderr}");
    assert_eq!(common::all_files(&data), before);

    // `strata repair` rebuilds it from the tables alone.
    let out = strata(&["repair", data.to_str().unwrap()]);
    assert!(out.status.success(), "{out:?}");
    assert_eq!(answer(&data), clean);
    // The repaired manifest names what the lost one did.
    let repaired = strata::version::read_manifest(&data.join(DB)).unwrap();
    let lost = strata::manifest::replay_bytes(&path, &saved).unwrap();
    let files = |s: &strata::manifest::ManifestState| {
        let mut v: Vec<_> = s
            .records
            .iter()
            .map(|r| (r.file, r.layer, r.max_seq))
            .collect();
        v.sort();
        v
    };
    assert_eq!(files(&repaired.state), files(&lost));
}

#[test]
fn check_reports_damage_and_repair_rebuilds_the_catalog() {
    // Other tests of this file fork `strata`: see common::one_at_a_time.
    let _one = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    populated(&data);
    let clean = answer(&data);
    let data_arg = data.to_str().unwrap();

    let out = strata(&["check", data_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("no damage found"), "{text}");

    // Damage the manifest's last record.
    let path = common::manifest_of(&data, DB);
    let mut bytes = fs::read(&path).unwrap();
    let at = bytes.len() - 3;
    bytes[at] ^= 0x08;
    fs::write(&path, &bytes).unwrap();

    let out = strata(&["check", data_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("DAMAGED"), "{text}");
    assert!(text.contains(&path.display().to_string()), "{text}");

    assert!(
        matches!(
            Db::open(&data, Config::new()),
            Err(Error::ManifestCorrupt { .. })
        ),
        "the damaged manifest stops the open"
    );
    let sock = dir.path().join("s.sock");
    let out = strata(&["repair", data_arg]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{out:?}");
    assert!(text.contains("adopted"), "{text}");
    assert!(text.contains("from its footer"), "{text}");
    // The replaced manifest is kept in the backup folder, byte for byte.
    let backup = common::entry_starting(&data.join(DB), "repair-").expect("a backup folder");
    assert_eq!(
        fs::read(backup.join(path.file_name().unwrap())).unwrap(),
        bytes
    );

    // The daemon starts on the repaired directory with every point.
    let d = common::Daemon::start(&data, &sock, &[]);
    let v = common::query_json(&sock, DB, "SELECT count(v) FROM cpu");
    assert_eq!(common::scalar(&v), 300);
    // A second repair while it runs is refused: one process owns a data directory.
    let out = strata(&["repair", data_arg]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("locked"),
        "{out:?}"
    );
    d.stop();
    assert_eq!(answer(&data), clean);

    let out = strata(&["check", data_arg]);
    assert!(out.status.success(), "{out:?}");
}

#[test]
fn check_names_a_damaged_block_with_its_series() {
    // Other tests of this file fork `strata`: see common::one_at_a_time.
    let _one = common::one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    populated(&data);
    let table = fs::read_dir(data.join(DB).join("sst"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .min()
        .unwrap();
    let mut bytes = fs::read(&table).unwrap();
    bytes[10] ^= 0x20; // inside the first block
    fs::write(&table, &bytes).unwrap();
    let out = strata(&["check", data.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let line = text
        .lines()
        .find(|l| l.contains("DAMAGED"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(line.contains(&table.display().to_string()), "{line}");
    assert!(line.contains("cpu,host="), "names the series: {line}");
    assert!(line.contains("at byte"), "{line}");
}
