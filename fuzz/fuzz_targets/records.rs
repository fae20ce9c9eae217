//! vctsdb's JSON and CSV bodies (`strata::ingest::body_to_line_protocol`, what `/write` runs
//! for a body sent as `application/json` or `text/csv`) on arbitrary bytes.
//!
//! Input: a mode byte, then the body (made UTF-8 lossily, as only UTF-8 reaches the
//! conversion). Mode bit 0 picks CSV instead of JSON, bit 1 gives a default measurement,
//! bit 2 the `;` delimiter, bit 3 a 64-byte record limit instead of 64 KiB.
//!
//! Asserts no panic, and that nothing is lost or made up on the way to line protocol: every
//! line made parses back as exactly one point with a timestamp (or is refused by the engine only
//! for a timestamp outside its range, which it then reports under the record's name); there is
//! one origin per line, JSON elements or CSV rows as the format has them, named in increasing
//! order, at a line inside the body; and every rejection names its element, record or line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::ingest::{body_to_line_protocol, Record, RecordFormat, RecordOptions};
use strata::lineproto::{parse, Precision};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let format = if mode & 1 == 0 {
        RecordFormat::Json
    } else {
        RecordFormat::Csv
    };
    let options = RecordOptions {
        measurement: (mode & 2 != 0).then(|| "fallback".to_string()),
        delimiter: if mode & 4 != 0 { b';' } else { b',' },
        ..RecordOptions::default()
    };
    let max_record_bytes = if mode & 8 != 0 { 64 } else { 64 << 10 };
    let text = String::from_utf8_lossy(body);
    let converted = match body_to_line_protocol(&text, format, &options, max_record_bytes) {
        Ok(converted) => converted,
        Err(refused) => {
            assert_eq!(
                format,
                RecordFormat::Csv,
                "only a CSV header refuses a body"
            );
            assert!(!refused.to_string().is_empty());
            return;
        }
    };
    let body_lines = 1 + text.bytes().filter(|&b| b == b'\n' || b == b'\r').count();
    let lines: Vec<&str> = converted.text.lines().collect();
    assert_eq!(lines.len(), converted.origins.len(), "one origin per line");
    assert!(converted.text.is_empty() || converted.text.ends_with('\n'));
    // JSON names elements, CSV rows.
    let number = |record: Record| -> usize {
        match (format, record) {
            (RecordFormat::Json, Record::Element(n)) | (RecordFormat::Csv, Record::Row(n)) => n,
            _ => panic!("{record} in a {format:?} body"),
        }
    };
    let mut previous = None;
    for (line, origin) in lines.iter().zip(&converted.origins) {
        assert!(
            origin.line.is_some_and(|l| l >= 1 && l <= body_lines),
            "{origin} of {body_lines}"
        );
        let n = number(origin.record);
        assert!(
            previous.is_none_or(|p| n > p),
            "{origin} after record {previous:?}"
        );
        previous = Some(n);
        let parsed = parse(line, Precision::Nanosecond, 0, 1 << 20);
        match (parsed.points.len(), parsed.errors.as_slice()) {
            (1, []) => assert!(
                parsed.points[0].timestamp.is_some(),
                "{origin}: {line:?} has no timestamp"
            ),
            (0, [error]) if error.message == "invalid timestamp" => {}
            _ => panic!("{origin}: {line:?} parses as {parsed:?}"),
        }
    }
    for message in &converted.rejected {
        assert!(
            message.starts_with("element ")
                || message.starts_with("record ")
                || message.starts_with("line "),
            "a rejection names its record: {message:?}"
        );
    }
});
