//! The HTTP `/write` path's body handling, up to parsed points: `strata::server::write_precision`
//! (the `precision=` parameter), `strata::server::write_body_text` (gzip and UTF-8, what the
//! handler runs on every body) and then the line protocol parser with the daemon's defaults.
//!
//! Input: a mode byte, a byte choosing the `precision=` parameter, a byte placing the split
//! between two gzip members, then the body. Mode bits 0-1: 0 the body sent plain; 1 sent
//! gzipped (one member); 2 gzipped as two members split at the chosen point (as a client that
//! concatenates compressed chunks sends); 3 the raw bytes sent as a gzip body. Bit 2: a 256-byte
//! body limit instead of the default 25 MB.
//!
//! Asserts no panic, and: the precision is accepted exactly for InfluxDB's values; a plain body
//! is accepted exactly when it is UTF-8 and then unchanged (else refused naming the first bad
//! byte); a gzipped body decodes to exactly the bytes compressed, all members of it, refused
//! with 413 when they are over the limit; arbitrary bytes as gzip are refused with 400 or 413
//! or decode to at most the limit; what is accepted parses with the invariants of
//! `strata_fuzz::check_parsed`.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use strata::server::{write_body_text, write_precision};
use strata_fuzz::check_parsed;

const PARAMS: [Option<&str>; 16] = [
    None,
    Some(""),
    Some("n"),
    Some("ns"),
    Some("u"),
    Some("us"),
    Some("µ"),
    Some("ms"),
    Some("s"),
    Some("m"),
    Some("h"),
    Some("x"),
    Some("NS"),
    Some("µs"),
    Some("hh"),
    Some("m "),
];

/// The daemon's default body and line limits.
static DEFAULTS: OnceLock<(usize, usize)> = OnceLock::new();

/// `parts` as gzip members, one after the other. Each is written with stored (uncompressed)
/// DEFLATE blocks, which costs next to nothing per iteration (a compressor's set-up would
/// dominate the run); mode 3 feeds arbitrary compressed streams to the decoder.
fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for part in parts {
        out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
        let mut chunks = part.chunks(0xffff).peekable();
        if chunks.peek().is_none() {
            out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
        }
        while let Some(chunk) = chunks.next() {
            let last = chunks.peek().is_none();
            let len = chunk.len() as u16;
            out.push(u8::from(last));
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&(!len).to_le_bytes());
            out.extend_from_slice(chunk);
        }
        out.extend_from_slice(&crc32fast::hash(part).to_le_bytes());
        out.extend_from_slice(&(part.len() as u32).to_le_bytes());
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let [mode, param, split, body @ ..] = data else {
        return;
    };
    let param = PARAMS[usize::from(*param) % PARAMS.len()];
    let precision = write_precision(param);
    let valid = matches!(
        param,
        None | Some("" | "n" | "ns" | "u" | "us" | "µ" | "ms" | "s" | "m" | "h")
    );
    assert_eq!(
        precision.is_ok(),
        valid,
        "precision {param:?}: {precision:?}"
    );
    let (max_body_bytes, max_line_bytes) = *DEFAULTS.get_or_init(|| {
        let c = strata::Config::new();
        (c.get_max_body_bytes(), c.get_max_line_bytes())
    });
    let limit = if mode & 4 != 0 { 256 } else { max_body_bytes };

    let result = match mode & 3 {
        0 => {
            let r = write_body_text(body, false, limit);
            match std::str::from_utf8(body) {
                Ok(s) => assert_eq!(r.as_deref().ok(), Some(s)),
                Err(e) => {
                    let (status, msg) = r.as_ref().expect_err("not UTF-8, accepted");
                    assert_eq!(status.as_u16(), 400);
                    assert!(
                        msg.contains(&format!("(at byte {})", e.valid_up_to())),
                        "{msg}"
                    );
                }
            }
            r
        }
        m @ (1 | 2) => {
            let gz = if m == 1 {
                gzip(&[body])
            } else {
                let at = body.len() * usize::from(*split) / 255;
                gzip(&[&body[..at], &body[at..]])
            };
            let r = write_body_text(&gz, true, limit);
            if body.len() > limit {
                let (status, _) = r.as_ref().expect_err("over the limit, accepted");
                assert_eq!(status.as_u16(), 413);
            } else {
                match std::str::from_utf8(body) {
                    Ok(s) => assert_eq!(
                        r.as_deref().map_err(|e| e.1.as_str()),
                        Ok(s),
                        "a gzipped body of {} bytes in {m} member(s) decodes to other bytes",
                        body.len()
                    ),
                    Err(_) => {
                        let (status, msg) = r.as_ref().expect_err("not UTF-8, accepted");
                        assert_eq!(status.as_u16(), 400, "{msg}");
                    }
                }
            }
            // Owned either way: the harness's compressed copy goes out of scope.
            r.map(|t| std::borrow::Cow::Owned(t.into_owned()))
        }
        _ => {
            let r = write_body_text(body, true, limit);
            match &r {
                Ok(t) => assert!(t.len() <= limit),
                Err((status, _)) => assert!(matches!(status.as_u16(), 400 | 413)),
            }
            r
        }
    };

    if let (Ok(text), Ok(precision)) = (result, precision) {
        let parsed =
            strata::lineproto::parse(&text, precision, 1_700_000_000_000_000_000, max_line_bytes);
        check_parsed(&text, &parsed, precision, max_line_bytes);
    }
});
