//! The line protocol parser (`strata::lineproto::parse`) on arbitrary bytes.
//!
//! Input: a mode byte, then the body (made UTF-8 lossily, as only UTF-8 reaches the parser).
//! Mode bits 0-2 pick the precision, bits 3-4 the server time given to lines without a
//! timestamp (ordinary, the earliest and latest accepted, -1), bit 5 a 64-byte line limit
//! instead of the default 64 KiB. Asserts no panic and the invariants of
//! `strata_fuzz::check_parsed`, including the write-then-parse round trip of every point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata_fuzz::{check_parsed, MAX_NANOS, MIN_NANOS, PRECISIONS};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let precision = PRECISIONS[usize::from(mode & 7) % PRECISIONS.len()];
    let default_ts =
        [1_700_000_000_123_456_789, MIN_NANOS, MAX_NANOS, -1][usize::from(mode >> 3) & 3];
    let max_line_bytes = if mode & 0x20 != 0 { 64 } else { 64 << 10 };
    let text = String::from_utf8_lossy(body);
    let parsed = strata::lineproto::parse(&text, precision, default_ts, max_line_bytes);
    check_parsed(&text, &parsed, precision, max_line_bytes);
});
