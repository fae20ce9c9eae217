//! Writing points as line protocol.

use std::fmt::Write as _;

use crate::types::{FieldValue, ParsedPoint};

/// Append `p` to `out` as one line of line protocol, without a line ending. The timestamp, if
/// any, is written in nanoseconds.
///
/// What [`super::parse`] reads back equals `p` (with `precision` nanoseconds) as long as `p` is
/// representable in line protocol: names are non-empty and do not end with a backslash, the
/// measurement does not start with `#`, a tab or a NUL, the first field key does not start with
/// a tab or a NUL (the parser skips them before the fields, and no escape keeps them), no name or
/// string contains a newline, no tag value is empty, there is at least one field, and floats
/// are finite. Anything else is written as is and the line will not parse back the same.
pub fn write_point(out: &mut String, p: &ParsedPoint) {
    escape(out, &p.measurement, b", ");
    for (k, v) in p.tags.iter() {
        out.push(',');
        escape(out, k, b", =");
        out.push('=');
        escape(out, v, b", =");
    }
    let mut sep = ' ';
    for (k, v) in &p.fields {
        out.push(sep);
        sep = ',';
        escape(out, k, b", =");
        out.push('=');
        write_value(out, v);
    }
    if let Some(ts) = p.timestamp {
        // Writing to a String cannot fail.
        let _ = write!(out, " {ts}");
    }
}

fn write_value(out: &mut String, v: &FieldValue) {
    // Writing to a String cannot fail, so the fmt::Results are ignored.
    match v {
        // `{:?}` is the shortest representation that parses back to the same f64, and it uses
        // an exponent for very large and very small magnitudes ("1e300", not 301 digits).
        FieldValue::Float(x) => {
            let _ = write!(out, "{x:?}");
        }
        FieldValue::Integer(x) => {
            let _ = write!(out, "{x}i");
        }
        FieldValue::Unsigned(x) => {
            let _ = write!(out, "{x}u");
        }
        FieldValue::Boolean(x) => out.push_str(if *x { "true" } else { "false" }),
        FieldValue::String(s) => {
            out.push('"');
            escape(out, s, b"\"\\");
            out.push('"');
        }
    }
}

/// Append `s`, putting a backslash before each byte in `specials` (all ASCII).
fn escape(out: &mut String, s: &str, specials: &[u8]) {
    let mut copied = 0;
    for (i, c) in s.bytes().enumerate() {
        if specials.contains(&c) {
            // `c` is ASCII, so `i` is a char boundary.
            out.push_str(s.get(copied..i).unwrap_or_default());
            out.push('\\');
            copied = i;
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
}
