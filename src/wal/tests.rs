//! Tests of the WAL on real files in temporary directories.

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
    Wal::open(dir, segment_bytes, min).expect("open WAL")
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
        assert!(t.segments_removed.is_empty(), "{:?}", t.segments_removed);
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

#[test]
fn corruption_in_an_earlier_segment_cuts_later_segments() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let seg = 1;
    {
        let (mut wal, _) = open(dir, seg, 0);
        append_groups(&mut wal, &[&[1, 2], &[3, 4], &[5, 6], &[7, 8]]);
    }
    // Segments 1..=4 hold two records each; 5 is the empty active one.
    let files = files_on_disk(dir);
    assert_eq!(files.len(), 5, "{files:?}");
    // Corrupt record 4 (second record of segment 2).
    let bad = segment_path(dir, 2);
    let mut bytes = fs::read(&bad).expect("read");
    let off = record_len(3);
    let i = (off + RECORD_HEADER_LEN + 1) as usize;
    bytes[i] ^= 0xff;
    fs::write(&bad, &bytes).expect("write");
    let later: Vec<PathBuf> = (3..=5).map(|n| segment_path(dir, n)).collect();
    let later_bytes: u64 = later
        .iter()
        .map(|p| fs::metadata(p).expect("stat").len())
        .sum();

    {
        let (mut wal, r) = open(dir, seg, 0);
        assert_batches(&r.batches, &[1, 2, 3]);
        assert_eq!(r.last_seqno, 3);
        let t = r.truncated.expect("truncated");
        assert_eq!(t.segment, bad);
        assert_eq!(t.offset, off);
        assert_eq!(t.segments_removed, later);
        assert_eq!(t.bytes_cut, record_len(4) + later_bytes);
        assert!(t.reason.contains("crc mismatch"), "{}", t.reason);
        assert_eq!(fs::metadata(&bad).expect("stat").len(), off);
        // The new active segment is numbered past everything that existed, even if removed.
        assert_eq!(wal.active_segment(), segment_path(dir, 6));
        assert_eq!(
            wal.segments(),
            vec![segment_path(dir, 1), bad.clone(), segment_path(dir, 6)]
        );
        assert_eq!(files_on_disk(dir), wal.segments());
        wal.append(4, &batch(4)).expect("append");
        wal.sync().expect("sync");
        wal.append(5, &batch(5)).expect("append");
        wal.sync().expect("sync");
    }
    let (_, r) = open(dir, seg, 0);
    assert_batches(&r.batches, &[1, 2, 3, 4, 5]);
    assert!(r.truncated.is_none());
}

#[test]
fn bad_first_record_of_a_segment() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    write(dir, 1, 1..=3); // one record per segment: 1, 2, 3, then 4 empty
    let bad = segment_path(dir, 2);
    fs::write(&bad, b"\xff\xff\xff\x7f").expect("write");
    let (wal, r) = open(dir, 1, 0);
    assert_batches(&r.batches, &[1]);
    let t = r.truncated.expect("truncated");
    assert_eq!(t.segment, bad);
    assert_eq!(t.offset, 0);
    assert_eq!(
        t.segments_removed,
        vec![segment_path(dir, 3), segment_path(dir, 4)]
    );
    assert_eq!(t.bytes_cut, 4 + record_len(3));
    // The now-empty segment 2 holds nothing to replay and is dropped.
    assert_eq!(
        wal.segments(),
        vec![segment_path(dir, 1), segment_path(dir, 5)]
    );
    assert_eq!(files_on_disk(dir), wal.segments());
}

#[test]
fn failed_rotation_poisons() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("wal");
    let (mut wal, _) = open(&dir, 1, 0);
    fs::remove_dir_all(&dir).expect("remove dir");
    wal.append(1, &batch(1)).expect("append");
    // Write and fdatasync of the (unlinked) segment succeed; creating the next segment fails.
    let err = wal.sync().expect_err("rotation must fail");
    assert!(matches!(err, Error::Io { .. }), "{err}");
    assert!(err.to_string().contains("00000002.wal"), "{err}");
    assert!(matches!(wal.append(2, &batch(2)), Err(Error::Poisoned(_))));
    assert!(matches!(wal.sync(), Err(Error::Poisoned(_))));
}

#[test]
fn trimmer_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone + 'static>() {}
    check::<WalTrimmer>();
    fn send<T: Send>() {}
    send::<Wal>();
}
