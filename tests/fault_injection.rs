//! Scenario: file-system faults at every step. A workload (writes through `Db`, WAL rotations,
//! flushes, compactions, a major compaction, close) runs once to record every file operation
//! the engine makes; then once per operation, with that operation failing — `ENOSPC`, `EIO`,
//! or a short write — once, or (a disk that stays full) from that operation on until cleared.
//! For each run: every error names what failed, nothing acknowledged is lost, and once the
//! fault clears, writes and flushes work again without a restart; after a restart every
//! acknowledged point is still there exactly once.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use strata::file_io::{Fault, FaultInjector, FaultKind, FileIo, Op};
use strata::{Config, Db, Error};

const DB: &str = "f";
const BATCHES: usize = 12;
const PER_BATCH: usize = 40;

fn config(io: Arc<dyn FileIo>) -> Config {
    Config::new()
        .memtable_size_bytes(8 << 10)
        .wal_segment_bytes(1024)
        .layer_max_tables(0, 2)
        .layer_max_tables(1, 2)
        .file_io(io)
}

fn lines(batch: usize) -> String {
    (0..PER_BATCH)
        .map(|i| {
            let n = batch * PER_BATCH + i;
            format!(
                "m,b=b{batch} v={n}i {}\n",
                1_700_000_000_000_000_000i64 + n as i64 * 1_000_000_000
            )
        })
        .collect()
}

/// Every error the engine returns names the file it was working on, or is an error that says
/// the write was withdrawn.
fn assert_clear(e: &Error, step: &str) {
    let text = e.to_string();
    let names_a_file = text.contains(".wal")
        || text.contains(".sst")
        || text.contains("MANIFEST")
        || text.contains("/f")
        || text.contains("directory");
    assert!(names_a_file, "{step}: an error that names nothing: {text}");
}

/// Run the workload; returns the acknowledged batches (and `None` if the open failed).
fn workload(dir: &Path, io: Arc<dyn FileIo>, step: &str) -> Option<(Db, Vec<usize>)> {
    let db = match Db::open(dir, config(io)) {
        Ok(db) => db,
        Err(e) => {
            assert_clear(&e, step);
            return None;
        }
    };
    let mut acked = Vec::new();
    if let Err(e) = db.create_database(DB) {
        // Nothing more to do until the fault clears.
        assert_clear(&e, step);
        return Some((db, acked));
    }
    for b in 0..BATCHES {
        match db.write_lines(DB, &lines(b)) {
            Ok(_) => acked.push(b),
            Err(e) => assert_clear(&e, step),
        }
        if b % 4 == 3 {
            if let Err(e) = db.flush() {
                assert_clear(&e, step);
            }
        }
    }
    if let Err(e) = db.major_compact(DB) {
        assert_clear(&e, step);
    }
    Some((db, acked))
}

/// Each acknowledged batch is there whole, once (a batch that failed may be there or not).
fn verify(db: &Db, acked: &[usize], step: &str) {
    let r = db
        .query(DB, "SELECT count(v), sum(v) FROM m GROUP BY b")
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&r.to_json()).unwrap();
    let mut found = BTreeMap::new();
    for s in json["results"][0]["series"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let b: usize = s["tags"]["b"].as_str().unwrap()[1..].parse().unwrap();
        let row = &s["values"][0];
        found.insert(b, (row[1].as_u64().unwrap(), row[2].as_i64().unwrap()));
    }
    for &b in acked {
        let lo = (b * PER_BATCH) as i64;
        let sum: i64 = (lo..lo + PER_BATCH as i64).sum();
        assert_eq!(
            found.get(&b),
            Some(&(PER_BATCH as u64, sum)),
            "{step}: acknowledged batch {b} lost or doubled: {json}"
        );
    }
}

/// Run the workload with operation `op_index` failing; whether the fault fired.
fn run_with_fault(
    op_index: usize,
    total: &[(Op, std::path::PathBuf)],
    kind: FaultKind,
    sticky: bool,
) -> bool {
    let (op, path) = &total[op_index];
    let step = format!(
        "{kind:?}{} at operation {op_index} ({op:?} {})",
        if sticky { " (sticky)" } else { "" },
        path.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let io = FaultInjector::new();
    io.plan(Fault {
        op: None,
        path_contains: None,
        nth: op_index,
        kind,
        sticky,
    });
    let (db, mut acked) = match workload(dir.path(), io.clone(), &step) {
        Some(x) => x,
        None => {
            // The open failed with a clear error: once the fault clears it opens.
            io.clear();
            workload(dir.path(), io.clone(), &step).expect("opens once the fault is cleared")
        }
    };
    // The fault clears: writes and flushes work again, without a restart.
    io.clear();
    db.create_database(DB)
        .unwrap_or_else(|e| panic!("{step}: create after the fault cleared failed: {e}"));
    let database = db.database(DB).unwrap();
    // Let the background work settle, then hold it, so the copy below is a crash image.
    let _ = database.compact();
    database.set_flush_paused(true);
    database.set_compaction_paused(true);
    db.write_lines(DB, &lines(BATCHES))
        .unwrap_or_else(|e| panic!("{step}: a write after the fault cleared failed: {e}"));
    acked.push(BATCHES);
    let crashed = tempfile::tempdir().unwrap();
    copy_dir(dir.path(), crashed.path());
    database.set_flush_paused(false);
    database.set_compaction_paused(false);
    db.flush()
        .unwrap_or_else(|e| panic!("{step}: a flush after the fault cleared failed: {e}"));
    verify(&db, &acked, &step);
    drop(database);
    db.close()
        .unwrap_or_else(|e| panic!("{step}: close after the fault cleared failed: {e}"));

    // After a restart (plain files), every acknowledged point is there once: after a clean
    // close, and from the image of a crash just after the last acknowledged write.
    for (what, path) in [("clean close", dir.path()), ("crash image", crashed.path())] {
        let db = Db::open(path, Config::new())
            .unwrap_or_else(|e| panic!("{step}: reopen after {what} failed: {e}"));
        verify(&db, &acked, &format!("{step}, reopened after {what}"));
        db.close().unwrap();
    }
    io.fired()
}

/// Copy a data directory (but its lock), as a crash would leave it.
fn copy_dir(from: &Path, to: &Path) {
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&dest).unwrap();
            copy_dir(&e.path(), &dest);
        } else if e.file_name() != "LOCK" {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

#[test]
fn every_file_operation_can_fail_without_losing_an_acknowledged_write() {
    // The operations of a clean run.
    let dir = tempfile::tempdir().unwrap();
    let io = FaultInjector::new();
    let (db, acked) = workload(dir.path(), io.clone(), "clean run").unwrap();
    assert_eq!(acked.len(), BATCHES);
    db.close().unwrap();
    let ops = io.log();
    let kinds: BTreeMap<String, usize> = ops.iter().fold(BTreeMap::new(), |mut m, (op, p)| {
        let class = if p.to_string_lossy().contains(".wal") {
            "wal"
        } else if p.to_string_lossy().contains(".sst") {
            "sst"
        } else if p.to_string_lossy().contains("MANIFEST") {
            "manifest"
        } else {
            "dir"
        };
        *m.entry(format!("{class} {op:?}")).or_default() += 1;
        m
    });
    eprintln!("{} operations in a clean run: {kinds:?}", ops.len());
    for needed in [
        "wal Write",
        "wal Sync",
        "sst Write",
        "sst Sync",
        "manifest Rename",
    ] {
        assert!(
            kinds.contains_key(needed),
            "the workload never does {needed}"
        );
    }

    let (mut runs, mut fired) = (0, 0);
    for i in 0..ops.len() {
        let mut run = |kind, sticky| {
            runs += 1;
            fired += usize::from(run_with_fault(i, &ops, kind, sticky));
        };
        run(FaultKind::NoSpace, false);
        if ops[i].0 == Op::Write {
            run(FaultKind::ShortWrite, false);
        }
        if i % 3 == 0 {
            run(FaultKind::DeviceError, false);
            run(FaultKind::NoSpace, true);
        }
    }
    eprintln!("{runs} runs, the fault fired in {fired}");
    // Background work interleaves differently from run to run, so a late operation index may
    // not be reached; nearly every one is.
    assert!(
        fired * 10 >= runs * 9,
        "only {fired} of {runs} faults fired"
    );
}
