//! WAL replay: arbitrary bytes as one or two segment files, read by `strata::wal::verify_dir`
//! and replayed by `Wal::open` under both `OnCorrupt` modes; and `decode_batch` on the bytes
//! directly.
//!
//! Input: a mode byte, a byte placing the split between two segments, then the bytes. Mode
//! bit 0 ("fix"): every record's crc is recomputed, so mutations reach the batch decoder
//! through replay; bit 1: two segments instead of one; bits 2-3: the flushed seqno given to
//! the open (0, 1, 1000 or u64::MAX).
//!
//! Asserts no panic, and: `decode_batch` output re-encodes to bytes that decode to the same
//! batch and re-encode identically; `verify_dir` counts the segments and bytes, and only the
//! newest segment's last bad record can be a torn tail; `OnCorrupt::Fail` opens exactly when
//! `verify_dir` says it opens cleanly, and when it refuses it changes no file; an open cuts a
//! torn tail exactly when there is one, reports the highest seqno, replays only batches above
//! the flushed seqno, leaves a WAL that `verify_dir` finds clean and that opens again to the
//! same batches; `OnCorrupt::Skip` always opens, skipping exactly the bad records `verify_dir`
//! reports and replaying what `Fail` replays when both open.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use strata::types::{SeqNo, WriteBatch};
use strata::wal::{decode_batch, encode_batch, segment_path, verify_dir, OnCorrupt, Wal};
use strata_fuzz::{clear_dir, fix_wal_records, scratch_dir};

const SEGMENT_BYTES: u64 = 1 << 20;

fn encoded(batches: &[(SeqNo, WriteBatch)]) -> Vec<Vec<u8>> {
    batches
        .iter()
        .map(|(s, b)| {
            let mut out = Vec::new();
            encode_batch(*s, b, &mut out);
            out
        })
        .collect()
}

fn write_segments(dir: &Path, segs: &[Vec<u8>]) {
    clear_dir(dir);
    for (i, seg) in segs.iter().enumerate() {
        std::fs::write(segment_path(dir, i as u64 + 1), seg).expect("write a segment");
    }
}

/// Every file of `dir` with its bytes, by name.
fn snapshot(dir: &Path) -> Vec<(std::ffi::OsString, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .expect("list the WAL directory")
        .flatten()
        .map(|e| (e.file_name(), std::fs::read(e.path()).unwrap_or_default()))
        .collect();
    v.sort();
    v
}

fuzz_target!(|data: &[u8]| {
    let [mode, split, body @ ..] = data else {
        return;
    };

    // The payload decoder, directly.
    if let Ok((seqno, batch)) = decode_batch(body) {
        let mut once = Vec::new();
        encode_batch(seqno, &batch, &mut once);
        let (seqno2, batch2) = decode_batch(&once).expect("an encoded batch decodes");
        assert_eq!(seqno2, seqno);
        assert_eq!(batch2.rows.len(), batch.rows.len());
        assert_eq!(batch2.new_series, batch.new_series);
        let mut twice = Vec::new();
        encode_batch(seqno2, &batch2, &mut twice);
        assert_eq!(once, twice, "encoding is not a fixed point");
    }

    let mut segs: Vec<Vec<u8>> = if mode & 2 != 0 {
        let at = body.len() * usize::from(*split) / 255;
        vec![body[..at].to_vec(), body[at..].to_vec()]
    } else {
        vec![body.to_vec()]
    };
    if mode & 1 != 0 {
        segs.iter_mut().for_each(|s| fix_wal_records(s));
    }
    let min_seqno = [0, 1, 1000, u64::MAX][usize::from(mode >> 2) & 3];
    let dir = scratch_dir().join("wal");
    std::fs::create_dir_all(&dir).expect("create the WAL directory");

    write_segments(&dir, &segs);
    let report = verify_dir(&dir).expect("verify_dir reads the segments");
    assert_eq!(report.segments, segs.len());
    assert_eq!(
        report.bytes,
        segs.iter().map(|s| s.len() as u64).sum::<u64>()
    );
    let newest = segment_path(&dir, segs.len() as u64);
    for (i, b) in report.bad.iter().enumerate() {
        if b.torn_tail {
            assert_eq!(b.segment, newest);
            assert_eq!(
                i + 1,
                report.bad.len(),
                "a torn tail that is not the last bad record"
            );
        }
    }
    let torn = report.bad.iter().any(|b| b.torn_tail);
    let before = snapshot(&dir);

    let failed_mode = match Wal::open(&dir, SEGMENT_BYTES, min_seqno, OnCorrupt::Fail) {
        Ok((wal, replay)) => {
            assert!(
                report.opens_cleanly(),
                "opened although verify_dir found {:?}",
                report.bad
            );
            assert!(replay.skipped.is_empty());
            assert_eq!(replay.truncated.is_some(), torn);
            assert_eq!(
                replay.last_seqno,
                report.max_seqno.unwrap_or(0).max(min_seqno)
            );
            assert!(replay.batches.len() as u64 <= report.records);
            assert!(replay.batches.iter().all(|(s, _)| *s > min_seqno));
            drop(wal);
            let after = verify_dir(&dir).expect("verify_dir after the open");
            assert!(
                after.bad.is_empty(),
                "bad records left after an open: {:?}",
                after.bad
            );
            let (wal, again) = Wal::open(&dir, SEGMENT_BYTES, min_seqno, OnCorrupt::Fail)
                .expect("a WAL that opened opens again");
            drop(wal);
            assert!(again.truncated.is_none());
            assert_eq!(encoded(&again.batches), encoded(&replay.batches));
            Some(encoded(&replay.batches))
        }
        Err(e) => {
            assert!(
                !report.opens_cleanly(),
                "refused a WAL verify_dir finds clean: {e}"
            );
            assert!(matches!(e, strata::Error::WalCorrupt { .. }), "{e}");
            assert_eq!(
                snapshot(&dir),
                before,
                "a refused open changed the WAL directory"
            );
            None
        }
    };

    write_segments(&dir, &segs);
    let (wal, replay) = Wal::open(&dir, SEGMENT_BYTES, min_seqno, OnCorrupt::Skip)
        .expect("OnCorrupt::Skip opens any WAL");
    drop(wal);
    let expected: Vec<_> = report
        .bad
        .iter()
        .filter(|b| !b.torn_tail)
        .cloned()
        .collect();
    assert_eq!(replay.skipped, expected);
    assert_eq!(replay.truncated.is_some(), torn);
    assert_eq!(
        replay.last_seqno,
        report.max_seqno.unwrap_or(0).max(min_seqno)
    );
    if let Some(fail_batches) = failed_mode {
        assert_eq!(encoded(&replay.batches), fail_batches);
    }
});
