//! Scenario: one flipped byte in a middle WAL segment after a crash. Recovery must not throw
//! away the intact segments after it: `Db::open` and `strata serve` refuse to open, naming the
//! segment and offset and changing no file; with `wal_skip_corrupt` (`--wal-skip-corrupt`,
//! `STRATA_WAL_SKIP_CORRUPT`) only the damaged record is lost.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use strata::wal::{decode_batch, RECORD_HEADER_LEN};
use strata::{Config, Db, Error};

const T0: i64 = 1_700_000_000_000_000_000;

/// One write request: points `b * per .. (b + 1) * per`, each with its own timestamp.
fn batch(b: usize, per: usize) -> String {
    (b * per..(b + 1) * per)
        .map(|n| format!("m,host=h0 v={n}i {}\n", T0 + n as i64 * 1_000_000_000))
        .collect()
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Every file of `snap`: a failed open changes none of them (manifest, WAL segments,
/// SSTables, the lock).
fn data_files(snap: &BTreeMap<PathBuf, Vec<u8>>) -> BTreeMap<PathBuf, Vec<u8>> {
    snap.clone()
}

fn copy_dir(from: &Path, to: &Path) {
    for (p, bytes) in snapshot(from) {
        let dest = to.join(p.strip_prefix(from).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, bytes).unwrap();
    }
}

/// Timestamps of every point of measurement `m`, through the daemon.
fn timestamps_via_daemon(sock: &Path) -> BTreeSet<i64> {
    let v = query_json(sock, "w", "SELECT v FROM m");
    v["results"][0]["series"][0]["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row[0].as_i64().unwrap())
        .collect()
}

/// Start `strata serve` on `data`, expecting it to exit with an error; return its stderr.
fn serve_fails(data: &Path, sock: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_strata"))
        .arg("serve")
        .arg("--data-dir")
        .arg(data)
        .arg("--socket")
        .arg(sock)
        .env("STRATA_LOG", "warn")
        .env_remove("STRATA_WAL_SKIP_CORRUPT")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start strata");
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("strata serve started on a corrupt WAL instead of refusing");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success(), "strata serve exited with success");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn flipped_byte_in_a_middle_segment() {
    let _one = one_at_a_time();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    // Small segments, a memtable far larger than the data: nothing is flushed, so after
    // `kill -9` every write is only in the WAL, spread over several segments.
    let flags = ["--wal-segment-bytes", "1024"];
    let d = Daemon::start(&data, &sock, &flags);
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+w", b"").status,
        200
    );
    let (batches, per) = (40, 25);
    for b in 0..batches {
        let w = write(&sock, "w", &batch(b, per));
        assert_eq!(w.status, 204, "{}", w.body);
    }
    let all: BTreeSet<i64> = (0..batches * per)
        .map(|n| T0 + n as i64 * 1_000_000_000)
        .collect();
    assert_eq!(timestamps_via_daemon(&sock), all);
    d.kill9();

    // The segments holding data, oldest first; damage the second record of a middle one.
    let wal = data.join("w").join("wal");
    let mut segs: Vec<PathBuf> = std::fs::read_dir(&wal)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| std::fs::metadata(p).unwrap().len() > 0)
        .collect();
    segs.sort();
    assert!(segs.len() >= 4, "want several segments: {segs:?}");
    let seg = segs[segs.len() / 2].clone();
    let mut bytes = std::fs::read(&seg).unwrap();
    let header = RECORD_HEADER_LEN as usize;
    let first_len = u32::from_le_bytes(bytes[..4].try_into().unwrap()) as usize;
    let off = header + first_len;
    let len = u32::from_le_bytes(bytes[off..off + 4].try_into().unwrap()) as usize;
    let (_, damaged) = decode_batch(&bytes[off + header..off + header + len]).unwrap();
    let lost: BTreeSet<i64> = damaged.rows.iter().map(|r| r.timestamp).collect();
    assert_eq!(lost.len(), per);
    bytes[off + header + len / 2] ^= 0x10;
    std::fs::write(&seg, &bytes).unwrap();
    let damaged_dir = dir.path().join("damaged");
    copy_dir(&data, &damaged_dir);
    let before = snapshot(&data);

    // (a) The library refuses, naming the segment and offset, and leaves every file alone.
    match Db::open(&data, Config::new()) {
        Err(Error::WalCorrupt {
            segment,
            offset,
            reason,
        }) => {
            assert_eq!(segment, seg);
            assert_eq!(offset, off as u64);
            assert!(reason.contains("crc mismatch"), "{reason}");
        }
        Err(e) => panic!("expected WalCorrupt, got {e:?}"),
        Ok(_) => panic!("Db::open replayed a corrupt WAL without complaint"),
    }
    let after = snapshot(&data);
    assert!(
        data_files(&after) == data_files(&before),
        "a failed open changed WAL or table files"
    );

    // (b) So does the daemon: non-zero exit, segment and offset on stderr.
    let stderr = serve_fails(&data, &sock);
    assert!(
        stderr.contains(&seg.display().to_string()) && stderr.contains(&format!("offset {off}")),
        "stderr lacks segment and offset: {stderr}"
    );
    assert!(stderr.contains("--wal-skip-corrupt"), "{stderr}");
    assert!(data_files(&snapshot(&data)) == data_files(&before));

    // (c) With the flag, everything but the damaged record is there; the daemon keeps working
    // and a clean stop leaves a WAL that opens strictly.
    let want: BTreeSet<i64> = all.difference(&lost).copied().collect();
    let d = Daemon::start(
        &data,
        &sock,
        &[&flags[..], &["--wal-skip-corrupt"]].concat(),
    );
    assert_eq!(timestamps_via_daemon(&sock), want);
    assert_eq!(write(&sock, "w", "m,host=h0 v=-1i 1\n").status, 204);
    assert!(d.stop().success());
    let d = Daemon::start(&data, &sock, &flags);
    assert_eq!(timestamps_via_daemon(&sock).len(), want.len() + 1);
    assert!(d.stop().success());

    // The environment variable does the same, and so does `Config::wal_skip_corrupt`.
    let env_dir = dir.path().join("env");
    copy_dir(&damaged_dir, &env_dir);
    let d = Daemon::start_with_env(&env_dir, &sock, &flags, &[("STRATA_WAL_SKIP_CORRUPT", "1")]);
    assert_eq!(timestamps_via_daemon(&sock), want);
    assert!(d.stop().success());

    let lib_dir = dir.path().join("lib");
    copy_dir(&damaged_dir, &lib_dir);
    let count = |db: &Db| -> i64 {
        let json = db.query("w", "SELECT count(v) FROM m").unwrap().to_json();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        scalar(&v).as_i64().unwrap_or_else(|| panic!("{json}"))
    };
    let db = Db::open(&lib_dir, Config::new().wal_skip_corrupt(true)).unwrap();
    assert_eq!(count(&db), want.len() as i64);
    db.close().unwrap();
    // Closed cleanly: replayed points are in tables, the WAL is trimmed, a strict open works.
    let db = Db::open(&lib_dir, Config::new()).unwrap();
    assert_eq!(count(&db), want.len() as i64);
    db.close().unwrap();
}
