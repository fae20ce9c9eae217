//! Manifest replay: `strata::manifest::replay_bytes` on arbitrary bytes, and
//! `VersionEdit::decode` on them directly.
//!
//! Input: a mode byte, then the manifest image. Mode bit 0 ("fix"): the length and payload
//! checksums of every record that fits are recomputed (version 2 after the magic, else
//! version 1), so mutations reach the edit decoder and the catalog replay behind them.
//!
//! Asserts no panic, and: an edit that decodes encodes to bytes that decode to the same edit
//! and encode identically; a replay that succeeds saw at least one record (all of them when
//! the checksums were fixed), a torn tail it reports ends the file, every live table is on a
//! layer below `LAYERS` and below `next_file`, and no live table is also listed as removed.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;
use strata::manifest::{replay_bytes, VersionEdit, LAYERS};
use strata_fuzz::fix_manifest_records;

fn round_trip(payload: &[u8]) {
    if let Ok(edit) = VersionEdit::decode(payload) {
        let once = edit.encode();
        let again = VersionEdit::decode(&once).expect("an encoded edit decodes");
        assert_eq!(again, edit);
        assert_eq!(again.encode(), once, "encoding is not a fixed point");
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    round_trip(body);
    let mut buf = body.to_vec();
    let fixed = (mode & 1 != 0).then(|| fix_manifest_records(&mut buf));
    if let Some(payloads) = &fixed {
        for r in payloads {
            round_trip(&buf[r.clone()]);
        }
    }
    let Ok(state) = replay_bytes(Path::new("MANIFEST-000001"), &buf) else {
        return;
    };
    assert!(state.record_count >= 1);
    if let Some(payloads) = &fixed {
        assert_eq!(state.record_count, payloads.len());
    }
    if let Some((off, len)) = state.torn_tail {
        assert_eq!(off + len, buf.len() as u64);
    }
    for r in &state.records {
        assert!(r.layer < LAYERS, "{r:?}");
        assert!(
            r.file < state.next_file,
            "{r:?} at or past next_file {}",
            state.next_file
        );
        assert!(
            !state.removed.contains(&r.file),
            "{r:?} is live and removed"
        );
    }
});
