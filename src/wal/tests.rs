//! Tests of the WAL on real files in temporary directories.

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::codec::tests::same_batch;
use super::*;
use crate::types::{FieldValue, NewSeries, Row};

fn batch(i: u64) -> WriteBatch {
    let names: [Arc<str>; 5] = ["f", "i", "u", "b", "s"].map(Arc::from);
    let rows = (0..(i % 4) + 1)
        .map(|r| Row {
            series: i * 10 + r,
            timestamp: (i as i64 - 50) * 1_000_000_007 + r as i64,
            fields: vec![
                (
                    Arc::clone(&names[0]),
                    FieldValue::Float(if i.is_multiple_of(7) {
                        f64::NAN
                    } else {
                        i as f64 * -1.5
                    }),
                ),
                (Arc::clone(&names[1]), FieldValue::Integer(i as i64 - 100)),
                (Arc::clone(&names[2]), FieldValue::Unsigned(u64::MAX - i)),
                (
                    Arc::clone(&names[3]),
                    FieldValue::Boolean(i.is_multiple_of(2)),
                ),
                (
                    Arc::clone(&names[4]),
                    FieldValue::String(format!("välue {i} ✓")),
                ),
            ],
        })
        .collect();
    WriteBatch {
        new_series: vec![NewSeries {
            id: i * 10,
            key: format!("cpu,host=hôst-{i},region=日本"),
        }],
        rows,
    }
}

fn assert_batches(got: &[(SeqNo, WriteBatch)], want: &[u64]) {
    let seqnos: Vec<SeqNo> = got.iter().map(|(s, _)| *s).collect();
    assert_eq!(seqnos, want);
    for (s, b) in got {
        assert!(same_batch(b, &batch(*s)), "batch {s} differs: {b:?}");
    }
}

fn open(dir: &Path, segment_bytes: u64, min: SeqNo) -> (Wal, Replay) {
    Wal::open(dir, segment_bytes, min, OnCorrupt::Fail).expect("open WAL")
}

fn open_skip(dir: &Path, segment_bytes: u64, min: SeqNo) -> (Wal, Replay) {
    Wal::open(dir, segment_bytes, min, OnCorrupt::Skip).expect("open WAL skipping corrupt records")
}

/// Every file in `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fs::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            let p = e.expect("entry").path();
            let bytes = fs::read(&p).expect("read");
            (p, bytes)
        })
        .collect()
}

/// Open without skipping must fail with `WalCorrupt` at (`segment`, `offset`), changing nothing.
fn assert_open_fails(dir: &Path, segment: &Path, offset: u64, why: &str) {
    let before = snapshot(dir);
    let err = Wal::open(dir, 1 << 20, 0, OnCorrupt::Fail).expect_err("open must fail");
    match &err {
        Error::WalCorrupt {
            segment: s,
            offset: o,
            reason,
        } => {
            assert_eq!(s, segment, "{err}");
            assert_eq!(*o, offset, "{err}");
            assert!(reason.contains(why), "reason {reason:?} lacks {why:?}");
        }
        other => panic!("expected WalCorrupt, got {other:?}"),
    }
    let msg = err.to_string();
    for want in [
        &segment.display().to_string(),
        &format!("offset {offset}"),
        "Nothing was truncated or deleted",
        "--wal-skip-corrupt",
    ] {
        assert!(msg.contains(want), "{msg:?} lacks {want:?}");
    }
    assert!(snapshot(dir) == before, "a failed open changed files");
}

/// Flip one bit at `at` of `path`.
fn flip(path: &Path, at: u64) {
    let mut bytes = fs::read(path).expect("read");
    bytes[at as usize] ^= 0x40;
    fs::write(path, &bytes).expect("write");
}

fn write(dir: &Path, segment_bytes: u64, seqnos: impl IntoIterator<Item = u64>) {
    let (mut wal, _) = open(dir, segment_bytes, 0);
    for s in seqnos {
        wal.append(s, &batch(s)).expect("append");
        wal.sync().expect("sync");
    }
}

fn files_on_disk(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read dir")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "wal"))
        .collect();
    v.sort();
    v
}

/// The segment that holds data, after a single-segment `write` (the reopen's active one is empty).
fn only_data_segment(dir: &Path) -> PathBuf {
    let files: Vec<PathBuf> = files_on_disk(dir)
        .into_iter()
        .filter(|p| fs::metadata(p).expect("stat").len() > 0)
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files[0].clone()
}

fn record_len(seqno: u64) -> u64 {
    let mut buf = Vec::new();
    encode_batch(seqno, &batch(seqno), &mut buf);
    RECORD_HEADER_LEN + buf.len() as u64
}

#[test]
fn round_trip_filtering_and_last_seqno() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("wal");
    {
        let (mut wal, replay) = open(&dir, 1 << 30, 0);
        assert!(replay.batches.is_empty());
        assert_eq!(replay.last_seqno, 0);
        assert!(replay.truncated.is_none());
        assert!(replay.skipped.is_empty());
        assert_eq!(wal.segments(), vec![segment_path(&dir, 1)]);
        for s in 1..=200 {
            wal.append(s, &batch(s)).expect("append");
            if s % 16 == 0 {
                wal.sync().expect("sync");
            }
        }
        wal.sync().expect("sync");
        assert_eq!(wal.buffered_bytes(), 0);
    }
    let all: Vec<u64> = (1..=200).collect();
    let (_, r) = open(&dir, 1 << 30, 0);
    assert_batches(&r.batches, &all);
    assert_eq!(r.last_seqno, 200);
    assert!(r.truncated.is_none());

    let (wal, r) = open(&dir, 1 << 30, 150);
    assert_batches(&r.batches, &all[150..]);
    assert_eq!(r.last_seqno, 200);
    // The empty segment of the previous open was dropped; the data segment was kept.
    assert_eq!(wal.segments().len(), 2);
    drop(wal);

    // min_seqno above everything: nothing replayed, last_seqno = min_seqno, segments dropped.
    let (wal, r) = open(&dir, 1 << 30, 500);
    assert!(r.batches.is_empty());
    assert_eq!(r.last_seqno, 500);
    assert_eq!(wal.segments(), vec![wal.active_segment().to_path_buf()]);
    assert_eq!(files_on_disk(&dir), wal.segments());
}

#[test]
fn unsynced_appends_are_not_written() {
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let (mut wal, _) = open(tmp.path(), 1 << 20, 0);
        wal.append(1, &batch(1)).expect("append");
        wal.sync().expect("sync");
        wal.append(2, &batch(2)).expect("append");
        assert!(wal.buffered_bytes() > 0);
    }
    let (_, r) = open(tmp.path(), 1 << 20, 0);
    assert_batches(&r.batches, &[1]);
}

#[test]
fn new_segment_follows_highest_and_other_files_are_ignored() {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), 1 << 20, [1, 2]);
    let data = only_data_segment(tmp.path());
    let renamed = segment_path(tmp.path(), 41);
    fs::rename(&data, &renamed).expect("rename");
    fs::write(tmp.path().join("notes.txt"), b"hello").expect("write");
    fs::write(tmp.path().join("123.wal"), b"not a segment").expect("write");
    let (wal, r) = open(tmp.path(), 1 << 20, 0);
    assert_batches(&r.batches, &[1, 2]);
    assert_eq!(wal.active_segment(), segment_path(tmp.path(), 42));
    assert_eq!(wal.segments(), vec![renamed, segment_path(tmp.path(), 42)]);
}

/// Append `groups` of seqnos, syncing after each group.
fn append_groups(wal: &mut Wal, groups: &[&[u64]]) {
    for g in groups {
        for &s in *g {
            wal.append(s, &batch(s)).expect("append");
        }
        wal.sync().expect("sync");
    }
}

#[test]
fn rotation_and_trim() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    // segment_bytes = 1: every sync that wrote something closes the segment.
    let (mut wal, _) = open(dir, 1, 0);
    append_groups(&mut wal, &[&[1, 2], &[3, 4], &[5, 6], &[7, 8], &[9, 10]]);
    // Closed segments hold {1,2} {3,4} {5,6} {7,8} {9,10}; active (6) is empty.
    let segs = wal.segments();
    assert_eq!(segs.len(), 6, "{segs:?}");
    assert_eq!(files_on_disk(dir), segs);
    assert_eq!(wal.active_segment(), segment_path(dir, 6));

    let trimmer = wal.trimmer();
    assert_eq!(trimmer.trim(0).expect("trim"), 0);
    assert_eq!(trimmer.trim(3).expect("trim"), 1); // {1,2}; {3,4} still has 4
    assert_eq!(trimmer.trim(4).expect("trim"), 1);
    assert_eq!(wal.segments(), segs[2..].to_vec());
    assert_eq!(files_on_disk(dir), wal.segments());

    // Trimming from another thread: everything closed goes, the active segment stays even though
    // `flushed` covers what is buffered for it.
    wal.append(11, &batch(11)).expect("append");
    let t = trimmer.clone();
    let n = std::thread::spawn(move || t.trim(u64::MAX))
        .join()
        .expect("thread")
        .expect("trim");
    assert_eq!(n, 3);
    assert_eq!(wal.segments(), vec![segment_path(dir, 6)]);
    assert_eq!(files_on_disk(dir), wal.segments());
    append_groups(&mut wal, &[&[12]]); // 6 closed with {11,12}
    assert_eq!(
        wal.segments(),
        vec![segment_path(dir, 6), segment_path(dir, 7)]
    );
    drop(wal);

    let (wal, r) = open(dir, 1, 0);
    assert_batches(&r.batches, &[11, 12]);
    assert_eq!(r.last_seqno, 12);
    // Replayed segment 6 is closed with max 12; empty 7 was dropped; 8 is active.
    assert_eq!(wal.trimmer().trim(11).expect("trim"), 0);
    assert_eq!(wal.trimmer().trim(12).expect("trim"), 1);
    assert_eq!(wal.segments(), vec![segment_path(dir, 8)]);
    assert_eq!(files_on_disk(dir), wal.segments());
}

#[test]
fn reopen_after_trim_replays_the_rest_and_trims_replayed_segments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let seg = 1; // every sync with data rotates
    let (mut wal, _) = open(dir, seg, 0);
    for s in 1..=8 {
        wal.append(s, &batch(s)).expect("append");
        wal.sync().expect("sync");
    }
    assert_eq!(wal.segments().len(), 9);
    assert_eq!(wal.trimmer().trim(3).expect("trim"), 3);
    drop(wal);

    let (wal, r) = open(dir, seg, 0);
    assert_batches(&r.batches, &[4, 5, 6, 7, 8]);
    // Replayed segments 4..=8 closed, empty segment 9 dropped, 10 active.
    assert_eq!(wal.segments().len(), 6);
    assert_eq!(wal.trimmer().trim(6).expect("trim"), 3);
    assert_eq!(files_on_disk(dir), wal.segments());
    drop(wal);

    let (wal, r) = open(dir, seg, 7);
    assert_batches(&r.batches, &[8]);
    assert_eq!(r.last_seqno, 8);
    assert_eq!(wal.segments().len(), 2); // {8} and the active one
}

#[test]
fn group_commit_many_appends_one_sync() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let seg = record_len(1) * 3;
    let (mut wal, _) = open(tmp.path(), seg, 0);
    for s in 1..=5 {
        wal.append(s, &batch(s)).expect("append");
    }
    wal.sync().expect("sync"); // one oversize segment, then rotation
    assert_eq!(wal.segments().len(), 2);
    wal.sync().expect("empty sync does not rotate");
    assert_eq!(wal.segments().len(), 2);
    assert_eq!(wal.trimmer().trim(4).expect("trim"), 0);
    assert_eq!(wal.trimmer().trim(5).expect("trim"), 1);
}

/// Build a WAL with records 1..=3 in one segment; return (dir, segment, offset of record 3).
fn three_records() -> (tempfile::TempDir, PathBuf, u64) {
    let tmp = tempfile::tempdir().expect("tempdir");
    write(tmp.path(), 1 << 20, [1, 2, 3]);
    let seg = only_data_segment(tmp.path());
    let last = record_len(1) + record_len(2);
    assert_eq!(
        fs::metadata(&seg).expect("stat").len(),
        last + record_len(3)
    );
    (tmp, seg, last)
}

/// Reopen after damage: expect 1..=`kept`, a truncation at `offset`, and that the WAL then
/// continues cleanly.
fn check_recovery(dir: &Path, seg: &Path, kept: u64, offset: u64, bytes_cut: u64, why: &str) {
    let damaged_len = fs::metadata(seg).expect("stat").len();
    let want: Vec<u64> = (1..=kept).collect();
    {
        let (mut wal, r) = open(dir, 1 << 20, 0);
        assert_batches(&r.batches, &want);
        assert_eq!(r.last_seqno, kept);
        let t = r.truncated.expect("truncation reported");
        assert_eq!(t.segment, seg);
        assert_eq!(t.offset, offset);
        assert_eq!(t.bytes_cut, bytes_cut);
        assert_eq!(bytes_cut, damaged_len - offset);
        assert!(r.skipped.is_empty(), "{:?}", r.skipped);
        assert!(
            t.reason.contains(why),
            "reason {:?} lacks {why:?}",
            t.reason
        );
        assert_eq!(fs::metadata(seg).expect("stat").len(), offset);
        wal.append(kept + 1, &batch(kept + 1)).expect("append");
        wal.sync().expect("sync");
    }
    let mut want = want;
    want.push(kept + 1);
    let (_, r) = open(dir, 1 << 20, 0);
    assert_batches(&r.batches, &want);
    assert!(r.truncated.is_none());
}

fn append_bytes(path: &Path, bytes: &[u8]) {
    fs::OpenOptions::new()
        .append(true)
        .open(path)
        .expect("open")
        .write_all(bytes)
        .expect("write");
}

#[test]
fn torn_tail_garbage() {
    let (tmp, seg, last) = three_records();
    let end = last + record_len(3);
    let garbage = b"\x05\0\0\0garbage!!"; // len 5, "crc" = "garb", payload "age!!"
    append_bytes(&seg, garbage);
    check_recovery(
        tmp.path(),
        &seg,
        3,
        end,
        garbage.len() as u64,
        "crc mismatch",
    );
}

#[test]
fn torn_tail_short_header_and_zero_fill() {
    let (tmp, seg, last) = three_records();
    let end = last + record_len(3);
    append_bytes(&seg, &[1, 2, 3]);
    check_recovery(tmp.path(), &seg, 3, end, 3, "short record header");

    // A zero-filled tail (file size grew, data never written) frames as an empty payload.
    let (tmp, seg, last) = three_records();
    let end = last + record_len(3);
    append_bytes(&seg, &[0; 4096]);
    check_recovery(tmp.path(), &seg, 3, end, 4096, "undecodable payload");
}

#[test]
fn torn_tail_partial_record() {
    let (tmp, seg, last) = three_records();
    let end = last + record_len(3);
    let mut rec = Vec::new();
    encode_batch(4, &batch(4), &mut rec);
    let mut framed = (rec.len() as u32).to_le_bytes().to_vec();
    framed.extend_from_slice(&crc32fast::hash(&rec).to_le_bytes());
    framed.extend_from_slice(&rec[..rec.len() / 2]);
    append_bytes(&seg, &framed);
    check_recovery(
        tmp.path(),
        &seg,
        3,
        end,
        framed.len() as u64,
        "short payload",
    );
}

#[test]
fn flipped_payload_byte() {
    let (tmp, seg, last) = three_records();
    let mut bytes = fs::read(&seg).expect("read");
    let i = (last + RECORD_HEADER_LEN + 5) as usize;
    bytes[i] ^= 0x40;
    fs::write(&seg, &bytes).expect("write");
    check_recovery(tmp.path(), &seg, 2, last, record_len(3), "crc mismatch");
}

#[test]
fn valid_crc_but_undecodable_payload() {
    let (tmp, seg, _) = three_records();
    let end = fs::metadata(&seg).expect("stat").len();
    let payload = [0u8; 9]; // seqno 0, format 0
    let mut framed = (payload.len() as u32).to_le_bytes().to_vec();
    framed.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    framed.extend_from_slice(&payload);
    append_bytes(&seg, &framed);
    check_recovery(tmp.path(), &seg, 3, end, 17, "unknown WAL record format");
}

#[test]
fn cut_at_every_offset_inside_the_last_record() {
    let (tmp, seg, last) = three_records();
    let full = fs::read(&seg).expect("read");
    let name = seg.file_name().expect("name").to_owned();
    for cut in last + 1..full.len() as u64 {
        let case = tempfile::tempdir().expect("tempdir");
        let seg = case.path().join(&name);
        fs::write(&seg, &full[..cut as usize]).expect("write");
        let why = if cut - last < RECORD_HEADER_LEN {
            "short record header"
        } else {
            "short payload"
        };
        check_recovery(case.path(), &seg, 2, last, cut - last, why);
    }
    // Cut exactly at the record boundary: nothing torn.
    fs::write(&seg, &full[..last as usize]).expect("write");
    let (_, r) = open(tmp.path(), 1 << 20, 0);
    assert_batches(&r.batches, &[1, 2]);
    assert!(r.truncated.is_none());
}

/// Segments 1..=4 hold two records each ({1,2} {3,4} {5,6} {7,8}); 5 is the empty active one.
fn four_segments() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    {
        let (mut wal, _) = open(tmp.path(), 1, 0);
        append_groups(&mut wal, &[&[1, 2], &[3, 4], &[5, 6], &[7, 8]]);
    }
    assert_eq!(files_on_disk(tmp.path()).len(), 5);
    tmp
}

#[test]
fn crc_flip_in_an_older_segment_fails_the_open_and_changes_nothing() {
    let tmp = four_segments();
    let dir = tmp.path();
    // Record 4: the second record of segment 2.
    let bad = segment_path(dir, 2);
    let off = record_len(3);
    flip(&bad, off + RECORD_HEADER_LEN + 1);
    assert_open_fails(dir, &bad, off, "crc mismatch");
    // Repeatable: still nothing changed, still the same error.
    assert_open_fails(dir, &bad, off, "crc mismatch");
}

#[test]
fn skip_keeps_every_later_record_and_segment() {
    let tmp = four_segments();
    let dir = tmp.path();
    let bad = segment_path(dir, 2);
    let off = record_len(3);
    flip(&bad, off + RECORD_HEADER_LEN + 1);
    let before = snapshot(dir);
    {
        let (mut wal, r) = open_skip(dir, 1, 0);
        assert_batches(&r.batches, &[1, 2, 3, 5, 6, 7, 8]);
        assert_eq!(r.last_seqno, 8);
        assert!(r.truncated.is_none());
        assert_eq!(
            r.skipped,
            vec![BadRecord {
                segment: bad.clone(),
                offset: off,
                len: record_len(4),
                reason: r.skipped[0].reason.clone(),
                torn_tail: false,
            }]
        );
        assert!(r.skipped[0].reason.contains("crc mismatch"));
        // Every segment is still there, byte for byte (only the new active one was added;
        // the empty old active one was dropped as holding nothing).
        for (path, bytes) in &before {
            if bytes.is_empty() {
                continue;
            }
            assert_eq!(&fs::read(path).expect("read"), bytes, "{}", path.display());
        }
        assert_eq!(wal.active_segment(), segment_path(dir, 6));
        assert_eq!(
            wal.segments(),
            (1..=4)
                .chain([6])
                .map(|n| segment_path(dir, n))
                .collect::<Vec<_>>()
        );
        assert_eq!(files_on_disk(dir), wal.segments());
        wal.append(9, &batch(9)).expect("append");
        wal.sync().expect("sync");
        // The segment with the skipped bytes goes once its valid records are flushed.
        assert_eq!(wal.trimmer().trim(2).expect("trim"), 1);
        assert!(bad.exists());
        assert_eq!(wal.trimmer().trim(3).expect("trim"), 1);
        assert!(!bad.exists());
    }
    // With the bad segment trimmed, a strict open succeeds.
    let (_, r) = open(dir, 1, 0);
    assert_batches(&r.batches, &[5, 6, 7, 8, 9]);
    assert!(r.skipped.is_empty());
}

#[test]
fn skipped_segment_is_not_dropped_by_the_open_even_if_flushed() {
    let tmp = four_segments();
    let dir = tmp.path();
    let bad = segment_path(dir, 2);
    flip(&bad, record_len(3) + RECORD_HEADER_LEN + 1);
    // Everything valid in segments 1 and 2 is flushed: 1 goes, 2 stays (its bad bytes' seqno is
    // unknown) until a trim.
    let (wal, r) = open_skip(dir, 1, 4);
    assert_batches(&r.batches, &[5, 6, 7, 8]);
    assert_eq!(r.skipped.len(), 1);
    assert!(!segment_path(dir, 1).exists());
    assert!(bad.exists());
    assert_eq!(wal.trimmer().trim(4).expect("trim"), 1);
    assert!(!bad.exists());
}

#[test]
fn bad_first_record_of_an_older_segment() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir, 1, 1..=3); // one record per segment: 1, 2, 3, then 4 empty
    let bad = segment_path(dir, 2);
    fs::write(&bad, b"\xff\xff\xff\x7f").expect("write");
    assert_open_fails(dir, &bad, 0, "short record header");

    let (wal, r) = open_skip(dir, 1, 0);
    assert_batches(&r.batches, &[1, 3]);
    assert!(r.truncated.is_none());
    assert_eq!(r.skipped.len(), 1);
    assert_eq!((r.skipped[0].offset, r.skipped[0].len), (0, 4));
    // Segment 2 holds nothing valid but is kept until the trimmer drops it.
    assert_eq!(
        wal.segments(),
        [1, 2, 3, 5].map(|n| segment_path(dir, n)).to_vec()
    );
    assert_eq!(files_on_disk(dir), wal.segments());
}

#[test]
fn flip_in_the_middle_of_the_newest_segment_is_not_a_torn_tail() {
    let (tmp, seg, _) = three_records();
    // Record 2 of 3: a valid record follows it, so it is not the write in flight at a crash.
    let off = record_len(1);
    flip(&seg, off + RECORD_HEADER_LEN + 3);
    assert_open_fails(tmp.path(), &seg, off, "crc mismatch");

    let len = fs::metadata(&seg).expect("stat").len();
    let (_, r) = open_skip(tmp.path(), 1 << 20, 0);
    assert_batches(&r.batches, &[1, 3]);
    assert!(r.truncated.is_none());
    assert_eq!(r.skipped.len(), 1);
    assert_eq!(
        (r.skipped[0].offset, r.skipped[0].len),
        (off, record_len(2))
    );
    assert_eq!(fs::metadata(&seg).expect("stat").len(), len);
}

#[test]
fn newest_segment_with_a_bad_record_and_a_torn_tail() {
    let (tmp, seg, last) = three_records();
    let off = record_len(1);
    flip(&seg, off + RECORD_HEADER_LEN + 3);
    let end = last + record_len(3);
    append_bytes(&seg, &[200, 0, 0, 0, 1, 2, 3, 4, 5, 6]);
    // The first bad record is reported, not the tail.
    assert_open_fails(tmp.path(), &seg, off, "crc mismatch");

    let (_, r) = open_skip(tmp.path(), 1 << 20, 0);
    assert_batches(&r.batches, &[1, 3]);
    assert_eq!(r.skipped.len(), 1);
    let t = r.truncated.expect("torn tail cut");
    assert_eq!((t.segment, t.offset, t.bytes_cut), (seg.clone(), end, 10));
    assert_eq!(fs::metadata(&seg).expect("stat").len(), end);
}

#[test]
fn torn_tail_of_the_newest_of_several_segments() {
    let tmp = four_segments();
    let dir = tmp.path();
    // Segment 5 is the empty active one; write a partial record into it as a crash would.
    let newest = segment_path(dir, 5);
    let torn = [200, 0, 0, 0, 1, 2, 3, 4, 5, 6]; // a header promising 200 bytes, 2 given
    append_bytes(&newest, &torn);
    let (_, r) = open(dir, 1, 0);
    assert_batches(&r.batches, &[1, 2, 3, 4, 5, 6, 7, 8]);
    let t = r.truncated.expect("torn tail cut");
    assert_eq!((t.segment, t.offset, t.bytes_cut), (newest.clone(), 0, 10));
    // Cut to nothing, it held no record and was dropped.
    assert!(!newest.exists());

    // The same bytes at the end of an older segment are not a torn tail.
    let older = segment_path(dir, 3);
    let len = fs::metadata(&older).expect("stat").len();
    append_bytes(&older, &torn);
    assert_open_fails(dir, &older, len, "short payload");
}

#[test]
fn length_field_corruption_resyncs_when_skipping() {
    for (name, new_len) in [("too long", 0x7fff_0000u32), ("too short", 20)] {
        let tmp = four_segments();
        let dir = tmp.path();
        // The length field of record 3 (first of segment 2), then records 4, 5, ... follow.
        let bad = segment_path(dir, 2);
        let mut bytes = fs::read(&bad).expect("read");
        bytes[..4].copy_from_slice(&new_len.to_le_bytes());
        fs::write(&bad, &bytes).expect("write");
        let why = if new_len > 1000 {
            "short payload"
        } else {
            "crc mismatch"
        };
        assert_open_fails(dir, &bad, 0, why);

        let (_, r) = open_skip(dir, 1, 0);
        assert_batches(&r.batches, &[1, 2, 4, 5, 6, 7, 8]);
        assert!(r.truncated.is_none(), "{name}");
        assert_eq!(r.skipped.len(), 1, "{name}: {:?}", r.skipped);
        let s = &r.skipped[0];
        assert_eq!((s.offset, s.len), (0, record_len(3)), "{name}");
        assert!(s.reason.contains(why), "{name}: {}", s.reason);
    }
}

#[test]
fn verify_dir_reports_without_changing_anything() {
    let tmp = four_segments();
    let dir = tmp.path();
    let clean = verify_dir(dir).expect("verify");
    assert_eq!(
        clean,
        WalReport {
            segments: 5,
            records: 8,
            bytes: (1..=8).map(record_len).sum(),
            max_seqno: Some(8),
            bad: vec![],
        }
    );
    assert!(clean.opens_cleanly());

    // A flip in segment 2 and a torn tail in the newest segment (5).
    let older = segment_path(dir, 2);
    flip(&older, record_len(3) + RECORD_HEADER_LEN + 1);
    let newest = segment_path(dir, 5);
    append_bytes(&newest, &[1, 2, 3]);
    let before = snapshot(dir);
    let report = verify_dir(dir).expect("verify");
    assert!(snapshot(dir) == before, "verify_dir changed files");
    assert_eq!(report.segments, 5);
    assert_eq!(report.records, 7);
    assert_eq!(report.max_seqno, Some(8));
    assert_eq!(report.bytes, (1..=8).map(record_len).sum::<u64>() + 3);
    assert_eq!(report.bad.len(), 2, "{:?}", report.bad);
    let (b0, b1) = (&report.bad[0], &report.bad[1]);
    assert_eq!(
        (&b0.segment, b0.offset, b0.len, b0.torn_tail),
        (&older, record_len(3), record_len(4), false)
    );
    assert!(b0.reason.contains("crc mismatch"), "{}", b0.reason);
    assert_eq!(
        (&b1.segment, b1.offset, b1.len, b1.torn_tail),
        (&newest, 0, 3, true)
    );
    assert!(b1.reason.contains("short record header"), "{}", b1.reason);
    assert!(!report.opens_cleanly());

    // Only the torn tail: the open would cut it and succeed.
    flip(&older, record_len(3) + RECORD_HEADER_LEN + 1); // flip back
    let report = verify_dir(dir).expect("verify");
    assert_eq!(report.bad.len(), 1);
    assert!(report.opens_cleanly());
    assert!(verify_dir(&dir.join("missing")).is_err());
}

fn faulty_wal(dir: &Path, segment_bytes: u64) -> (Wal, Arc<crate::file_io::FaultInjector>) {
    let io = crate::file_io::FaultInjector::new();
    let (wal, _) =
        Wal::open_with(dir, segment_bytes, 0, OnCorrupt::Fail, io.clone()).expect("open WAL");
    (wal, io)
}

fn fault(
    op: crate::file_io::Op,
    kind: crate::file_io::FaultKind,
    sticky: bool,
) -> crate::file_io::Fault {
    crate::file_io::Fault {
        op: Some(op),
        path_contains: Some(".wal".into()),
        nth: 0,
        kind,
        sticky,
    }
}

/// Reopen and return the seqnos replayed.
fn replayed(dir: &Path) -> Vec<SeqNo> {
    let (_, replay) = open(dir, 1 << 20, 0);
    replay.batches.iter().map(|(s, _)| *s).collect()
}

#[test]
fn a_failed_write_or_fsync_fails_its_group_only_and_leaves_no_bad_bytes() {
    use crate::file_io::{FaultKind, Op};
    for (op, kind) in [
        (Op::Write, FaultKind::NoSpace),
        (Op::Write, FaultKind::ShortWrite),
        (Op::Write, FaultKind::DeviceError),
        (Op::Sync, FaultKind::NoSpace),
        (Op::Sync, FaultKind::DeviceError),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("wal");
        let (mut wal, io) = faulty_wal(&dir, 1 << 20);
        wal.append(1, &batch(1)).expect("append");
        wal.sync().expect("sync");
        io.plan(fault(op, kind, false));
        wal.append(2, &batch(2)).expect("append");
        let err = wal.sync().expect_err("the injected fault");
        assert!(matches!(err, Error::Io { .. }), "{op:?} {kind:?}: {err}");
        assert!(err.to_string().contains("injected"), "{err}");
        // The fault has passed: the next group is written.
        wal.append(3, &batch(3)).expect("append");
        wal.sync().expect("sync after the fault");
        drop(wal);
        assert_eq!(replayed(&dir), vec![1, 3], "{op:?} {kind:?}");
    }
}

#[test]
fn a_disk_that_stays_full_fails_every_group_until_it_has_room() {
    use crate::file_io::FaultKind;
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("wal");
    let (mut wal, io) = faulty_wal(&dir, 1 << 20);
    wal.append(1, &batch(1)).expect("append");
    wal.sync().expect("sync");
    // A short write, then the cut of its bytes fails too: they stay until the next group.
    io.plan(crate::file_io::Fault {
        op: None,
        path_contains: Some(".wal".into()),
        nth: 0,
        kind: FaultKind::ShortWrite,
        sticky: true,
    });
    for seq in 2..5 {
        wal.append(seq, &batch(seq)).expect("append");
        assert!(wal.sync().is_err());
    }
    io.clear();
    wal.append(5, &batch(5)).expect("append");
    wal.sync().expect("room again");
    drop(wal);
    assert_eq!(replayed(&dir), vec![1, 5]);
}

#[test]
fn a_failed_rotation_keeps_the_active_segment_until_one_succeeds() {
    use crate::file_io::{FaultKind, Op};
    for op in [Op::Create, Op::SyncDir] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("wal");
        let (mut wal, io) = faulty_wal(&dir, 1);
        io.plan(crate::file_io::Fault {
            op: Some(op),
            path_contains: None,
            nth: 0,
            kind: FaultKind::NoSpace,
            sticky: false,
        });
        wal.append(1, &batch(1)).expect("append");
        wal.sync()
            .expect("the records are durable; only the rotation failed");
        let first = wal.active_segment().to_path_buf();
        wal.append(2, &batch(2)).expect("append");
        wal.sync().expect("sync, and this rotation succeeds");
        assert_ne!(wal.active_segment(), first, "{op:?}");
        drop(wal);
        assert_eq!(replayed(&dir), vec![1, 2], "{op:?}");
    }
}

#[test]
fn trimmer_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<WalTrimmer>();
    fn send<T: Send>() {}
    send::<Wal>();
}
