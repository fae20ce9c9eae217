//! Scenario: a vq table lives in the manifest; a damaged vq record stops the open like any other
//! manifest damage: `strata vq` exits 74 naming the manifest file and the record's offset, and
//! no file changes; with the byte restored, the table and its points are all back.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::fs;

use common::vq::{data_dir, vq_file, vq_ok};

/// The offset of the (version-2) manifest record whose payload holds byte `at`.
fn record_at(manifest: &[u8], at: usize) -> usize {
    let mut off = 8;
    loop {
        let len = u32::from_le_bytes(manifest[off..off + 4].try_into().unwrap()) as usize;
        if at < off + 12 + len {
            return off;
        }
        off += 12 + len;
    }
}

#[test]
fn a_damaged_vq_record_stops_the_open_and_changes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let r = root.path();
    vq_ok(
        r,
        "CREATE TABLE weather TAGS city; PUT temperature 5 1.5 INTO weather TAGS city=oslo;",
    );
    let manifest = common::manifest_of(&data_dir(r), "vq");
    let good = fs::read(&manifest).unwrap();
    let at = good
        .windows(b"weather".len())
        .position(|w| w == b"weather")
        .expect("the manifest names the vq table");
    let mut bad = good.clone();
    bad[at] ^= 0x20;
    fs::write(&manifest, &bad).unwrap();
    let before = common::all_files(&data_dir(r));

    let run = vq_file(r, "TABLES;");
    assert_eq!(run.code, 74, "{run:?}");
    assert_eq!(run.stdout, "");
    let want = format!(
        "manifest {} is damaged at byte {}",
        manifest.display(),
        record_at(&bad, at)
    );
    assert!(run.stderr.contains(&want), "{want}\n{run:?}");
    assert_eq!(
        common::all_files(&data_dir(r)),
        before,
        "a damaged manifest changed files"
    );

    fs::write(&manifest, &good).unwrap();
    assert_eq!(
        vq_ok(
            r,
            "TABLES; SELECT DATA temperature FROM weather ALL WHERE city=oslo;"
        ),
        "weather\n[[{00000000000000000005}{temperature}{city:oslo}|1.5]]\n"
    );
}
