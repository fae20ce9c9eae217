//! Unit tests of [`crate::quarantine`]: the order of its steps at every crash point, the
//! deleter's respect for a quarantined file, quarantine at open and from a compaction.

use std::sync::{Arc, Mutex};

use strata_actors::compactor::{CompactIo, Installed};

use super::*;
use crate::compaction::{CompactionCounters, LayerCompactor, PauseGate};
use crate::config::Config;
use crate::retention::RetentionPolicy;
use crate::version::{table_path, TableRef};

use crate::compaction::tests::add_table;

fn record(t: &TableRef) -> TableRecord {
    TableRecord {
        layer: t.layer,
        file: t.file,
        min_seq: t.min_seq,
        max_seq: t.max_seq,
    }
}

/// Flip one byte in the middle of the first block of `t`'s file.
fn corrupt_first_block(t: &TableRef) {
    let b = t.table.blocks(1, "v")[0].clone();
    let path = t.table.path();
    let mut bytes = fs::read(path).unwrap();
    bytes[(b.offset + u64::from(b.len) / 2) as usize] ^= 0x55;
    fs::write(path, bytes).unwrap();
}

fn live_files(vs: &VersionSet) -> Vec<u64> {
    let mut v: Vec<u64> = vs
        .current()
        .layers
        .iter()
        .flatten()
        .map(|t| t.file)
        .collect();
    v.sort();
    v
}

#[test]
fn quarantine_moves_the_file_aside_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let vs = VersionSet::open(dir.path()).unwrap();
    let a = add_table(&vs, 0, 1, &[(1, 1.0)]);
    let b = add_table(&vs, 1, 2, &[(2, 2.0)]);
    let (fa, fb) = (a.file, b.file);
    let reader = vs.current();
    drop((a, b));
    let out = quarantine(&vs, "d", fb, "bad block").unwrap();
    let moved = quarantined_path(dir.path(), fb);
    assert_eq!(out, Outcome::Quarantined(moved.clone()));
    assert_eq!(live_files(&vs), vec![fa]);
    assert!(moved.exists() && !table_path(dir.path(), fb).exists());
    // The last reader's version goes: the file is not deleted (nor is anything else).
    drop(reader);
    assert!(moved.exists());
    // Idempotent.
    assert_eq!(
        quarantine(&vs, "d", fb, "again").unwrap(),
        Outcome::AlreadyQuarantined(moved.clone())
    );
    assert_eq!(quarantine(&vs, "d", 999, "x").unwrap(), Outcome::NotLive);
    drop(vs);

    let vs = VersionSet::open(dir.path()).unwrap();
    assert_eq!(live_files(&vs), vec![fa]);
    let q = list(dir.path()).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!((q[0].file, q[0].reason.as_str()), (fb, "bad block"));
    assert_eq!(
        q[0].record,
        Some(TableRecord {
            layer: 1,
            file: fb,
            min_seq: 2,
            max_seq: 2
        })
    );
    assert!(q[0].time_ns.is_some() && moved.exists());
}

/// A crash after the rename, before the manifest edit: the manifest names the table live and
/// its file is in quarantine. The open leaves it out (it neither stops nor deletes anything).
#[test]
fn a_crash_between_the_rename_and_the_edit_leaves_it_quarantined() {
    let dir = tempfile::tempdir().unwrap();
    let vs = VersionSet::open(dir.path()).unwrap();
    let a = add_table(&vs, 0, 1, &[(1, 1.0)]);
    let b = add_table(&vs, 0, 2, &[(2, 2.0)]);
    let moved = move_aside(
        &crate::file_io::real(),
        dir.path(),
        &record(&b),
        "crc mismatch",
    )
    .unwrap();
    let (fa, fb) = (a.file, b.file);
    drop((a, b));
    std::mem::forget(vs); // the crash: no edit logged
    let vs = VersionSet::open(dir.path()).unwrap();
    assert_eq!(live_files(&vs), vec![fa]);
    assert!(moved.exists());
    assert_eq!(list(dir.path()).unwrap()[0].file, fb);
    drop(vs);
    // And the new manifest no longer names it: a second open agrees.
    let vs = VersionSet::open(dir.path()).unwrap();
    assert_eq!(live_files(&vs), vec![fa]);
}

/// A crash after the reason file, before the rename: the table is still live and the stale
/// reason file lists nothing. A missing live file that is *not* in quarantine still stops the
/// open.
#[test]
fn a_reason_without_its_table_is_ignored_and_missing_files_still_stop_the_open() {
    let dir = tempfile::tempdir().unwrap();
    let vs = VersionSet::open(dir.path()).unwrap();
    let a = add_table(&vs, 0, 1, &[(1, 1.0)]);
    fs::create_dir_all(dir.path().join(DIR)).unwrap();
    fs::write(reason_path(dir.path(), a.file), "reason half-done\n").unwrap();
    assert!(list(dir.path()).unwrap().is_empty());
    let fa = a.file;
    drop(a);
    drop(vs);
    let vs = VersionSet::open(dir.path()).unwrap();
    assert_eq!(live_files(&vs), vec![fa]);
    drop(vs);
    fs::remove_file(table_path(dir.path(), fa)).unwrap();
    let err = VersionSet::open(dir.path()).err().unwrap();
    assert!(err.to_string().contains("is missing"), "{err}");
}

/// The deleter honours the flag: a quarantined handle later marked obsolete keeps its file.
#[test]
fn the_deleter_never_removes_a_quarantined_file() {
    let dir = tempfile::tempdir().unwrap();
    let vs = VersionSet::open(dir.path()).unwrap();
    let a = add_table(&vs, 0, 1, &[(1, 1.0)]);
    let path = a.table.path().to_path_buf();
    // Leave the file where it is, to see that the deleter skips it.
    vs.quarantine_table(&a, || Ok(())).unwrap();
    assert!(vs.current().layers[0].is_empty());
    a.mark_obsolete();
    drop(a);
    assert!(path.exists());
}

#[test]
fn a_table_that_does_not_open_is_quarantined_at_open() {
    let dir = tempfile::tempdir().unwrap();
    let vs = VersionSet::open(dir.path()).unwrap();
    let a = add_table(&vs, 0, 1, &[(1, 1.0)]);
    let b = add_table(&vs, 0, 2, &[(2, 2.0)]);
    let (fa, fb) = (a.file, b.file);
    let bpath = b.table.path().to_path_buf();
    drop((a, b));
    drop(vs);
    // Damage the footer's magic (the last bytes).
    let mut bytes = fs::read(&bpath).unwrap();
    let n = bytes.len();
    bytes[n - 2] ^= 0xff;
    fs::write(&bpath, bytes).unwrap();
    let vs = VersionSet::open(dir.path()).unwrap();
    assert_eq!(live_files(&vs), vec![fa]);
    let q = list(dir.path()).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].file, fb);
    assert!(q[0].path.exists() && !bpath.exists());
    drop(vs);
    let vs = VersionSet::open(dir.path()).unwrap();
    assert_eq!(live_files(&vs), vec![fa]);
}

#[test]
fn a_compaction_meeting_a_corrupt_input_quarantines_it_and_plans_again() {
    let dir = tempfile::tempdir().unwrap();
    let vs = Arc::new(VersionSet::open(dir.path()).unwrap());
    add_table(&vs, 0, 1, &[(0, 1.0), (10, 2.0)]);
    let bad = add_table(&vs, 0, 2, &[(5, 3.0)]);
    add_table(&vs, 0, 3, &[(7, 4.0)]);
    corrupt_first_block(&bad);
    let bad_file = bad.file;
    drop(bad);
    let mut c = LayerCompactor {
        layer: 0,
        versions: vs.clone(),
        config: Config::new().layer_max_tables(0, 1),
        counters: Arc::new(CompactionCounters::default()),
        pause: Arc::new(PauseGate::default()),
        retention: Arc::new(Mutex::new(RetentionPolicy::default())),
        retry: crate::retry::BackgroundRetry::new(Arc::new(std::sync::atomic::AtomicBool::new(
            false,
        ))),
        stop: Arc::new(std::sync::atomic::AtomicBool::new(false)),
    };
    let job = c.plan(false).unwrap().unwrap();
    let out = c.run(&job).unwrap();
    assert_eq!(c.install(job, out).unwrap(), Installed::Conflict);
    assert!(!live_files(&vs).contains(&bad_file));
    assert_eq!(list(dir.path()).unwrap()[0].file, bad_file);
    // Planned again without it, the job installs.
    let job = c.plan(false).unwrap().unwrap();
    let out = c.run(&job).unwrap();
    assert_eq!(c.install(job, out).unwrap(), Installed::Done);
    let v = vs.current();
    assert!(v.layers[0].is_empty());
    let points: u64 = v.layers[1].iter().map(|t| t.table.stats().points).sum();
    assert_eq!(points, 3);
}

#[test]
fn a_query_meeting_a_corrupt_block_quarantines_the_table_and_the_next_answers() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::Db::open(dir.path(), Config::new()).unwrap();
    db.create_database("d").unwrap();
    db.write_lines("d", "m,h=a v=1 1000\nm,h=b v=2 1000\n")
        .unwrap();
    db.flush().unwrap();
    db.write_lines("d", "m,h=a v=3 2000\n").unwrap();
    db.flush().unwrap();
    let d = db.database("d").unwrap();
    let v = d.versions().current();
    let t = v.layers[0]
        .iter()
        .find(|t| t.table.stats().points == 2)
        .unwrap()
        .clone();
    drop(v);
    let b = t.table.blocks(t.table.series().next().unwrap().0, "v")[0].clone();
    let mut bytes = fs::read(t.table.path()).unwrap();
    bytes[(b.offset + u64::from(b.len) / 2) as usize] ^= 0x55;
    fs::write(t.table.path(), bytes).unwrap();
    let bad = t.file;
    drop(t);

    // A raw read decodes the block (an aggregate could answer from the index alone).
    let r = db.query("d", "SELECT v FROM m").unwrap();
    let err = r.results[0].error.clone().unwrap_or_default();
    assert!(
        err.contains(&format!("{bad:08}.sst")) && err.contains("quarantined"),
        "{r:?}"
    );
    assert_eq!(d.quarantined().unwrap()[0].file, bad);
    let r = db.query("d", "SELECT sum(v) FROM m").unwrap();
    assert_eq!(r.results[0].error, None, "{r:?}");
    assert_eq!(
        r.results[0].series[0].values[0][1],
        crate::query::Value::Float(3.0)
    );
    db.write_lines("d", "m,h=a v=5 3000\n").unwrap();
    db.close().unwrap();
}
