//! InfluxDB line protocol parser (and writer).
//!
//! `measurement[,tag=value...] field=value[,field=value...] [timestamp]`, one point per line,
//! with InfluxDB 1.x's escaping: `\,` and `\ ` in measurements; `\,` `\=` `\ ` in tag keys, tag
//! values and field keys; `\"` and `\\` inside double-quoted string field values. A backslash
//! before any other character is kept. Field values: floats (`1`, `-1.5e3`), integers (`12i`),
//! unsigned (`12u`), booleans (`t T true True TRUE f F false False FALSE`) and strings.

use std::fmt;

use crate::types::{FieldValue, ParsedPoint, Timestamp};

#[cfg(test)]
mod tests;

/// Timestamp precision of a write (InfluxDB 1.x `precision=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Precision {
    #[default]
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
}

impl Precision {
    /// InfluxDB 1.x's values: `n`/`ns`, `u`/`us`/`µ`, `ms`, `s`, `m`, `h`.
    pub fn parse(s: &str) -> Option<Precision> {
        Some(match s {
            "n" | "ns" => Precision::Nanosecond,
            "u" | "us" | "µ" | "µs" => Precision::Microsecond,
            "ms" => Precision::Millisecond,
            "s" => Precision::Second,
            "m" => Precision::Minute,
            "h" => Precision::Hour,
            _ => return None,
        })
    }

    fn factor(self) -> i64 {
        match self {
            Precision::Nanosecond => 1,
            Precision::Microsecond => 1_000,
            Precision::Millisecond => 1_000_000,
            Precision::Second => 1_000_000_000,
            Precision::Minute => 60_000_000_000,
            Precision::Hour => 3_600_000_000_000,
        }
    }

    /// A timestamp in this precision in nanoseconds; `None` on overflow.
    pub fn to_nanos(self, ts: i64) -> Option<i64> {
        ts.checked_mul(self.factor())
    }
}

/// One rejected line.
#[derive(Clone, Debug, PartialEq)]
pub struct LineError {
    /// 1-based line number in the request body.
    pub line: usize,
    /// The offending line (at most ~200 bytes of it).
    pub text: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unable to parse '{}' (line {}): {}",
            self.text, self.line, self.message
        )
    }
}

/// The result of parsing a body: good points (with their line numbers) and bad lines.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    pub points: Vec<ParsedPoint>,
    /// 1-based line number of each point in `points`.
    pub lines: Vec<usize>,
    pub errors: Vec<LineError>,
}

fn clip(line: &str) -> String {
    if line.len() <= 200 {
        return line.to_string();
    }
    let mut end = 200;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &line[..end])
}

/// Parse a request body. Good lines are returned even when other lines fail. Lines without a
/// timestamp get `default_ts` (ns). Lines over `max_line_bytes` are errors. Blank lines and
/// `#` comments are skipped; `\n` and `\r\n` both end a line.
pub fn parse(input: &str, precision: Precision, default_ts: i64, max_line_bytes: usize) -> Parsed {
    let mut out = Parsed::default();
    for (i, raw) in input.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim_start_matches([' ', '\t']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fail = |message: String| LineError {
            line: i + 1,
            text: clip(line),
            message,
        };
        if line.len() > max_line_bytes {
            out.errors.push(fail(format!(
                "line too long ({} bytes, limit {max_line_bytes})",
                line.len()
            )));
            continue;
        }
        match parse_line(trimmed, precision, default_ts) {
            Ok(p) => {
                out.points.push(p);
                out.lines.push(i + 1);
            }
            Err(m) => out.errors.push(fail(m)),
        }
    }
    out
}

/// A cursor over one line's bytes.
struct Cursor<'a> {
    s: &'a str,
    b: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.pos).copied()
    }

    /// Scan an escaped token up to an unescaped byte in `stop`; returns it unescaped.
    fn token(&mut self, stop: &[u8], escapable: &[u8]) -> String {
        let start = self.pos;
        let mut escaped = false;
        while let Some(c) = self.peek() {
            if c == b'\\' {
                if let Some(n) = self.b.get(self.pos + 1) {
                    if escapable.contains(n) {
                        escaped = true;
                        self.pos += 2;
                        continue;
                    }
                }
                self.pos += 1;
                continue;
            }
            if stop.contains(&c) {
                break;
            }
            self.pos += 1;
        }
        let raw = &self.s[start..self.pos];
        if escaped {
            unescape(raw, escapable)
        } else {
            raw.to_string()
        }
    }
}

fn unescape(raw: &str, escapable: &[u8]) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(&n) = chars.peek() {
                if n.is_ascii() && escapable.contains(&(n as u8)) {
                    out.push(n);
                    chars.next();
                    continue;
                }
            }
        }
        out.push(c);
    }
    out
}

const MEAS_ESC: &[u8] = b", ";
const KEY_ESC: &[u8] = b",= ";

fn parse_line(line: &str, precision: Precision, default_ts: i64) -> Result<ParsedPoint, String> {
    let mut c = Cursor {
        s: line,
        b: line.as_bytes(),
        pos: 0,
    };
    let measurement = c.token(b", ", MEAS_ESC);
    if measurement.is_empty() {
        return Err("missing measurement".into());
    }

    let mut tags: Vec<(String, String)> = Vec::new();
    while c.peek() == Some(b',') {
        c.pos += 1;
        let key = c.token(b"=, ", KEY_ESC);
        if key.is_empty() {
            return Err("missing tag key".into());
        }
        if c.peek() != Some(b'=') {
            return Err(format!("missing tag value for tag key \"{key}\""));
        }
        c.pos += 1;
        let value = c.token(b", =", KEY_ESC);
        if value.is_empty() {
            return Err(format!("missing tag value for tag key \"{key}\""));
        }
        if c.peek() == Some(b'=') {
            return Err(format!(
                "invalid tag format: unescaped '=' in the value of tag \"{key}\""
            ));
        }
        if key == "time" {
            return Err("invalid tag key \"time\"".into());
        }
        tags.push((key, value));
    }
    tags.sort_by(|a, b| a.0.cmp(&b.0));
    if tags.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err("duplicate tags".into());
    }

    if c.peek() != Some(b' ') {
        return Err("missing fields".into());
    }
    while c.peek() == Some(b' ') {
        c.pos += 1;
    }
    if c.peek().is_none() {
        return Err("missing fields".into());
    }

    let mut fields: Vec<(String, FieldValue)> = Vec::new();
    loop {
        let key = c.token(b"= ,", KEY_ESC);
        if key.is_empty() {
            return Err("missing field key".into());
        }
        if c.peek() != Some(b'=') {
            return Err(format!(
                "invalid field format: missing '=' after field key \"{key}\""
            ));
        }
        c.pos += 1;
        let value = if c.peek() == Some(b'"') {
            c.pos += 1;
            let start = c.pos;
            let mut escaped = false;
            loop {
                match c.peek() {
                    None => return Err("unbalanced quotes".into()),
                    Some(b'\\') if matches!(c.b.get(c.pos + 1), Some(b'"') | Some(b'\\')) => {
                        escaped = true;
                        c.pos += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => c.pos += 1,
                }
            }
            let raw = &line[start..c.pos];
            c.pos += 1;
            FieldValue::String(if escaped {
                unescape(raw, b"\"\\")
            } else {
                raw.to_string()
            })
        } else {
            let start = c.pos;
            while let Some(b) = c.peek() {
                if b == b',' || b == b' ' {
                    break;
                }
                c.pos += 1;
            }
            let raw = &line[start..c.pos];
            parse_value(raw).map_err(|m| format!("{m} for field \"{key}\""))?
        };
        if key == "time" {
            return Err("invalid field key \"time\"".into());
        }
        match fields.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => fields.push((key, value)),
        }
        match c.peek() {
            Some(b',') => c.pos += 1,
            _ => break,
        }
    }

    while c.peek() == Some(b' ') {
        c.pos += 1;
    }
    let timestamp: Timestamp = if c.pos >= c.b.len() {
        default_ts
    } else {
        let start = c.pos;
        while c.peek().is_some_and(|b| b != b' ' && b != b'\t') {
            c.pos += 1;
        }
        let raw = &line[start..c.pos];
        while c.peek().is_some_and(|b| b == b' ' || b == b'\t') {
            c.pos += 1;
        }
        if c.pos < c.b.len() {
            return Err("invalid timestamp: unexpected text after the timestamp".into());
        }
        let ts: i64 = raw
            .parse()
            .map_err(|_| format!("invalid timestamp {raw:?}"))?;
        precision
            .to_nanos(ts)
            .ok_or_else(|| format!("invalid timestamp {raw:?}: out of range"))?
    };

    Ok(ParsedPoint {
        measurement,
        tags,
        fields,
        timestamp: Some(timestamp),
    })
}

fn parse_value(raw: &str) -> Result<FieldValue, String> {
    let b = raw.as_bytes();
    let Some(&last) = b.last() else {
        return Err("missing field value".into());
    };
    match raw {
        "t" | "T" | "true" | "True" | "TRUE" => return Ok(FieldValue::Boolean(true)),
        "f" | "F" | "false" | "False" | "FALSE" => return Ok(FieldValue::Boolean(false)),
        _ => {}
    }
    if last == b'i' {
        let digits = &raw[..raw.len() - 1];
        if !is_integer(digits) {
            return Err(format!("invalid integer {raw:?}"));
        }
        return digits
            .parse::<i64>()
            .map(FieldValue::Integer)
            .map_err(|_| format!("integer value {raw:?} out of range"));
    }
    if last == b'u' {
        let digits = &raw[..raw.len() - 1];
        if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
            return Err(format!("invalid unsigned integer {raw:?}"));
        }
        return digits
            .parse::<u64>()
            .map(FieldValue::Unsigned)
            .map_err(|_| format!("unsigned value {raw:?} out of range"));
    }
    if !is_float_syntax(raw) {
        return Err(format!("invalid number {raw:?}"));
    }
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(FieldValue::Float(v)),
        _ => Err(format!("invalid number {raw:?}")),
    }
}

fn is_integer(s: &str) -> bool {
    let d = s.strip_prefix(['-', '+']).unwrap_or(s);
    !d.is_empty() && d.bytes().all(|c| c.is_ascii_digit())
}

/// Digits with an optional sign, one optional '.', an optional exponent — no `inf`/`NaN`.
fn is_float_syntax(s: &str) -> bool {
    let d = s.strip_prefix(['-', '+']).unwrap_or(s);
    let (mantissa, exp) = match d.find(['e', 'E']) {
        Some(i) => (&d[..i], Some(&d[i + 1..])),
        None => (d, None),
    };
    let mut dots = 0;
    let mut digits = 0;
    for c in mantissa.bytes() {
        match c {
            b'.' => dots += 1,
            b'0'..=b'9' => digits += 1,
            _ => return false,
        }
    }
    if dots > 1 || digits == 0 {
        return false;
    }
    match exp {
        None => true,
        Some(e) => is_integer(e),
    }
}

fn escape_into(out: &mut String, s: &str, special: &[char]) {
    for ch in s.chars() {
        if special.contains(&ch) {
            out.push('\\');
        }
        out.push(ch);
    }
}

/// Write one point as a line of line protocol (with `\n`), escaped so that [`parse`] gives it
/// back unchanged.
pub fn write_point(out: &mut String, p: &ParsedPoint) {
    escape_into(out, &p.measurement, &[',', ' ']);
    for (k, v) in &p.tags {
        out.push(',');
        escape_into(out, k, &[',', '=', ' ']);
        out.push('=');
        escape_into(out, v, &[',', '=', ' ']);
    }
    out.push(' ');
    for (i, (k, v)) in p.fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        escape_into(out, k, &[',', '=', ' ']);
        out.push('=');
        match v {
            FieldValue::Float(x) => {
                let s = format!("{x:?}");
                out.push_str(&s);
            }
            FieldValue::Integer(x) => {
                out.push_str(&x.to_string());
                out.push('i');
            }
            FieldValue::Unsigned(x) => {
                out.push_str(&x.to_string());
                out.push('u');
            }
            FieldValue::Boolean(x) => out.push_str(if *x { "true" } else { "false" }),
            FieldValue::String(s) => {
                out.push('"');
                escape_into(out, s, &['"', '\\']);
                out.push('"');
            }
        }
    }
    if let Some(ts) = p.timestamp {
        out.push(' ');
        out.push_str(&ts.to_string());
    }
    out.push('\n');
}
