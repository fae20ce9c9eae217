//! Helpers shared by strata's fuzz targets (`fuzz_targets/*.rs`).
//!
//! Every target reads its first input byte as *mode bits* and the rest as the data (so a seed
//! file is one mode byte followed by a real input). The file formats carry crc32s, which random
//! mutations almost never keep valid; in the targets' "fix" mode the harness recomputes the
//! checksums of the mutated bytes ([`fix_sstable_sections`], [`fix_wal_records`],
//! [`fix_manifest_records`]) so the decoders behind them are reached too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use strata::lineproto::{Parsed, Precision};
use strata::types::{FieldValue, ParsedPoint};

/// Earliest and latest timestamps the line protocol parser accepts (InfluxDB 1.x's).
pub const MIN_NANOS: i64 = i64::MIN + 2;
pub const MAX_NANOS: i64 = i64::MAX - 1;

/// A directory for this process's files, created once (under `$TMPDIR`: `scripts/fuzz.sh`
/// points it at a scratch directory it removes afterwards) and reused by every iteration.
pub fn scratch_dir() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("strata-fuzz-")
            .tempdir()
            .expect("create the fuzz scratch directory");
        // Kept for the life of the process (libFuzzer exits without running destructors).
        dir.keep()
    })
}

/// Remove every entry of `dir` (files and directories), leaving it empty.
pub fn clear_dir(dir: &Path) {
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                let _ = std::fs::remove_dir_all(&p);
            } else {
                let _ = std::fs::remove_file(&p);
            }
        }
    }
}

/// The six precisions of the `precision=` parameter.
pub const PRECISIONS: [Precision; 6] = [
    Precision::Nanosecond,
    Precision::Microsecond,
    Precision::Millisecond,
    Precision::Second,
    Precision::Minute,
    Precision::Hour,
];

/// Nanoseconds per unit of `p`.
pub fn unit(p: Precision) -> i64 {
    p.to_nanos(1).unwrap_or(1)
}

/// Bit-exact equality of field values (floats by bit pattern: -0.0 is not 0.0).
pub fn same_value(a: &FieldValue, b: &FieldValue) -> bool {
    match (a, b) {
        (FieldValue::Float(x), FieldValue::Float(y)) => x.to_bits() == y.to_bits(),
        _ => a == b,
    }
}

/// Bit-exact equality of points.
pub fn same_point(a: &ParsedPoint, b: &ParsedPoint) -> bool {
    a.measurement == b.measurement
        && a.tags == b.tags
        && a.timestamp == b.timestamp
        && a.fields.len() == b.fields.len()
        && a.fields
            .iter()
            .zip(&b.fields)
            .all(|((ka, va), (kb, vb))| ka == kb && same_value(va, vb))
}

/// Whether `p` is a point `write_point` promises to write as a line that parses back to `p`
/// (the conditions of its documentation).
pub fn representable(p: &ParsedPoint) -> bool {
    fn name_ok(s: &str) -> bool {
        !s.is_empty() && !s.ends_with('\\') && !s.contains('\n')
    }
    name_ok(&p.measurement)
        && !p.measurement.starts_with(['#', '\t', '\0'])
        && p.tags
            .iter()
            .all(|(k, v)| name_ok(k) && name_ok(v) && !v.is_empty())
        && p.fields
            .first()
            .is_some_and(|(k, _)| !k.starts_with(['\t', '\0']))
        && p.fields.iter().all(|(k, v)| {
            name_ok(k)
                && match v {
                    FieldValue::Float(x) => x.is_finite(),
                    FieldValue::String(s) => !s.contains('\n'),
                    _ => true,
                }
        })
}

/// Check what the line protocol parser promises about one parsed body (`text`, parsed with
/// `precision`, `default_ts` within the accepted range and `max_line_bytes`):
///
/// * one line number per point, points and errors in line order, no line both;
/// * each point: a measurement, tags sorted with unique keys and none named `time`, at least one
///   field, unique field keys and none named `time`, finite floats, a timestamp in the accepted
///   range that is a whole number of `precision` units;
/// * the names of one body are interned: two field names (or measurements) are equal exactly
///   when they are the same `Arc`;
/// * each rejected line's text is at most 200 bytes (a prefix of the line);
/// * every representable point, written by `write_point` and parsed again, is the same point.
pub fn check_parsed(text: &str, parsed: &Parsed, precision: Precision, max_line_bytes: usize) {
    assert_eq!(parsed.points.len(), parsed.lines.len());
    let lines: Vec<&str> = text.split('\n').collect();
    assert!(parsed.lines.windows(2).all(|w| w[0] < w[1]));
    assert!(parsed.errors.windows(2).all(|w| w[0].line < w[1].line));
    for e in &parsed.errors {
        assert!(e.line >= 1 && e.line <= lines.len());
        assert!(parsed.lines.binary_search(&e.line).is_err(), "{e:?}");
        assert!(e.text.len() <= 200, "{e:?}");
        assert!(lines[e.line - 1].contains(e.text.as_str()), "{e:?}");
    }
    let u = unit(precision);
    for (p, &line) in parsed.points.iter().zip(&parsed.lines) {
        assert!(line >= 1 && line <= lines.len());
        let raw = lines[line - 1];
        assert!(
            raw.len() <= max_line_bytes + 1,
            "line {line} over the limit"
        );
        assert!(!p.measurement.is_empty(), "{p:?}");
        assert!(p.tags.windows(2).all(|w| w[0].0 < w[1].0), "{p:?}");
        assert!(p.tags.iter().all(|(k, _)| k != "time"), "{p:?}");
        assert!(!p.fields.is_empty(), "{p:?}");
        for (i, (k, v)) in p.fields.iter().enumerate() {
            assert!(&**k != "time", "{p:?}");
            assert!(
                p.fields[..i].iter().all(|(e, _)| e != k),
                "duplicate field {k:?} in {p:?}"
            );
            if let FieldValue::Float(x) = v {
                assert!(x.is_finite(), "{p:?}");
            }
        }
        let ts = p.timestamp.expect("the parser always gives a timestamp");
        assert!((MIN_NANOS..=MAX_NANOS).contains(&ts), "{p:?}");
        assert_eq!(ts.rem_euclid(u), 0, "timestamp not in whole units: {p:?}");
    }
    // Interning: equal names are one Arc within a body.
    let fields: Vec<&Arc<str>> = parsed
        .points
        .iter()
        .flat_map(|p| p.fields.iter().map(|(k, _)| k))
        .collect();
    check_interned(&fields);
    let measurements: Vec<&Arc<str>> = parsed.points.iter().map(|p| &p.measurement).collect();
    check_interned(&measurements);

    // Write, parse back.
    for p in parsed.points.iter().filter(|p| representable(p)) {
        let mut line = String::new();
        strata::lineproto::write_point(&mut line, p);
        let again = strata::lineproto::parse(&line, Precision::Nanosecond, 0, usize::MAX);
        assert!(
            again.errors.is_empty() && again.points.len() == 1,
            "{p:?} written as {line:?} parses as {again:?}"
        );
        assert!(
            same_point(p, &again.points[0]),
            "{p:?} written as {line:?} parses back as {:?}",
            again.points[0]
        );
    }
}

/// Equal strings among `names` are the same `Arc` (compared pairwise on a bounded sample).
fn check_interned(names: &[&Arc<str>]) {
    let sample = &names[..names.len().min(64)];
    for (i, a) in sample.iter().enumerate() {
        for b in &sample[..i] {
            assert_eq!(
                Arc::ptr_eq(a, b),
                a == b,
                "names {a:?} and {b:?} of one body: equal names must share one Arc"
            );
        }
    }
}

/// Bytes of an SSTable footer (see `strata::sstable`): three (offset u64, length u64, crc32)
/// section entries, version u16, magic, crc32.
pub const SST_FOOTER_LEN: usize = 3 * 20 + 2 + 8 + 4;

/// Make the footer of an SSTable image self-consistent: the magic, each section's crc32 (for a
/// section inside the file) and the footer's own crc32. The offsets, lengths and version stay
/// as fuzzed.
pub fn fix_sstable_sections(file: &mut [u8]) {
    let Some(footer_at) = file.len().checked_sub(SST_FOOTER_LEN) else {
        return;
    };
    for s in 0..3 {
        let e = footer_at + s * 20;
        let off = u64::from_le_bytes(file[e..e + 8].try_into().unwrap_or_default());
        let len = u64::from_le_bytes(file[e + 8..e + 16].try_into().unwrap_or_default());
        let range = usize::try_from(off)
            .ok()
            .zip(usize::try_from(len).ok())
            .and_then(|(o, l)| Some(o..o.checked_add(l)?))
            .filter(|r| r.end <= footer_at);
        if let Some(r) = range {
            let crc = crc32fast::hash(&file[r]);
            file[e + 16..e + 20].copy_from_slice(&crc.to_le_bytes());
        }
    }
    let magic_at = footer_at + 62;
    file[magic_at..magic_at + 8].copy_from_slice(strata::sstable::MAGIC);
    let crc = crc32fast::hash(&file[footer_at..footer_at + SST_FOOTER_LEN - 4]);
    file[footer_at + SST_FOOTER_LEN - 4..].copy_from_slice(&crc.to_le_bytes());
}

/// Set the trailing crc32 of every block (offset, length) that lies inside `file`.
pub fn fix_block_crcs(file: &mut [u8], blocks: &[(u64, u32)]) {
    for &(off, len) in blocks {
        let (Ok(off), Ok(len)) = (usize::try_from(off), usize::try_from(len)) else {
            continue;
        };
        let Some(end) = off.checked_add(len).filter(|&e| e <= file.len()) else {
            continue;
        };
        if len < 4 {
            continue;
        }
        let crc = crc32fast::hash(&file[off..end - 4]);
        file[end - 4..end].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Set the crc32 of every WAL record (`[len u32][crc32 of payload u32][payload]`) whose payload
/// lies inside the segment image, walking from the start until a length runs past the end.
pub fn fix_wal_records(seg: &mut [u8]) {
    let mut off = 0usize;
    while off + 8 <= seg.len() {
        let len = u32::from_le_bytes(seg[off..off + 4].try_into().unwrap_or_default()) as usize;
        let Some(end) = (off + 8).checked_add(len).filter(|&e| e <= seg.len()) else {
            return;
        };
        let crc = crc32fast::hash(&seg[off + 8..end]);
        seg[off + 4..off + 8].copy_from_slice(&crc.to_le_bytes());
        off = end;
    }
}

/// Set the checksums of every manifest record whose payload lies inside the image (version 2:
/// `[len][crc of len][crc of payload][payload]` after the magic; version 1, without the magic:
/// `[len][crc of payload][payload]`). Returns the payloads' ranges.
pub fn fix_manifest_records(buf: &mut [u8]) -> Vec<std::ops::Range<usize>> {
    let v2 = buf.starts_with(strata::manifest::MAGIC);
    let (mut off, header) = if v2 { (8, 12) } else { (0, 8) };
    let mut payloads = Vec::new();
    while off + header <= buf.len() {
        let len_bytes: [u8; 4] = buf[off..off + 4].try_into().unwrap_or_default();
        let len = u32::from_le_bytes(len_bytes) as usize;
        let Some(end) = (off + header).checked_add(len).filter(|&e| e <= buf.len()) else {
            break;
        };
        let crc = crc32fast::hash(&buf[off + header..end]);
        if v2 {
            let len_crc = crc32fast::hash(&len_bytes);
            buf[off + 4..off + 8].copy_from_slice(&len_crc.to_le_bytes());
            buf[off + 8..off + 12].copy_from_slice(&crc.to_le_bytes());
        } else {
            buf[off + 4..off + 8].copy_from_slice(&crc.to_le_bytes());
        }
        payloads.push(off + header..end);
        off = end;
    }
    payloads
}

/// The body a Prometheus target decodes: with mode bit 0 the data is the protobuf itself,
/// compressed here with snappy (so mutations reach the protobuf decoder and what follows, not
/// only the snappy checks); otherwise the data is the snappy body as sent.
pub fn prometheus_body(mode: u8, data: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    if mode & 1 != 0 {
        std::borrow::Cow::Owned(
            snap::raw::Encoder::new()
                .compress_vec(data)
                .expect("snappy compresses any bytes"),
        )
    } else {
        std::borrow::Cow::Borrowed(data)
    }
}
