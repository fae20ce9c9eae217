//! InfluxDB 1.x line protocol: a one-pass parser ([`parse`]) and a writer ([`write_point`]).
//!
//! ```text
//! measurement[,tag_key=tag_value...] field_key=field_value[,field_key=field_value...] [timestamp]
//! ```
//!
//! The parser follows InfluxDB 1.x (`models/points.go`) closely, including its error messages:
//!
//! * A character preceded by a backslash is escaped (it does not end a measurement, tag key, tag
//!   value or field key). When the name is unescaped, `\,` and `\ ` (and `\=` outside the
//!   measurement) lose their backslash; a backslash before any other character is kept. A name
//!   therefore cannot end with a backslash.
//! * String field values are double-quoted; inside, `\"` and `\\` are escapes and any other
//!   backslash is kept literally.
//! * A bare number is a float, `12i` an integer, `12u` an unsigned; booleans are
//!   `t T true True TRUE f F false False FALSE`. `NaN` and `Inf` are rejected.
//! * Tags come back sorted by key; a repeated tag key is an error (`duplicate tags`). A repeated
//!   field key is not: the later value wins.
//! * A field named `time` is dropped; a point whose only fields are `time` is rejected, and so is
//!   a point with a tag key `time` (both as InfluxDB 1.x does at write time).
//! * Lines are separated by `\n` (a trailing `\r` is removed). Leading spaces, tabs and NULs are
//!   skipped; blank lines and lines whose first other character is `#` are skipped. A newline can
//!   not appear inside a value, not even inside a quoted string.

mod write;

#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;

use crate::types::{FieldValue, ParsedPoint, Timestamp};

pub use write::write_point;

/// How many bytes of an offending line a [`LineError`] keeps.
const ERROR_TEXT_BYTES: usize = 200;

/// Earliest timestamp InfluxDB 1.x accepts (`models.MinNanoTime`); `i64::MIN` and `i64::MIN + 1`
/// are reserved.
const MIN_NANOS: Timestamp = i64::MIN + 2;
/// Latest timestamp InfluxDB 1.x accepts (`models.MaxNanoTime`); `i64::MAX` is reserved.
const MAX_NANOS: Timestamp = i64::MAX - 1;

/// Timestamp precision of a write (InfluxDB 1.x `precision=` query parameter).
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
    /// Parse InfluxDB 1.x's values: "n"/"ns", "u"/"us"/"µ", "ms", "s", "m", "h". None if unknown.
    pub fn parse(s: &str) -> Option<Precision> {
        Some(match s {
            "n" | "ns" => Precision::Nanosecond,
            "u" | "us" | "µ" => Precision::Microsecond,
            "ms" => Precision::Millisecond,
            "s" => Precision::Second,
            "m" => Precision::Minute,
            "h" => Precision::Hour,
            _ => return None,
        })
    }

    /// Nanoseconds in one unit of this precision.
    fn nanos_per_unit(self) -> i64 {
        match self {
            Precision::Nanosecond => 1,
            Precision::Microsecond => 1_000,
            Precision::Millisecond => 1_000_000,
            Precision::Second => 1_000_000_000,
            Precision::Minute => 60_000_000_000,
            Precision::Hour => 3_600_000_000_000,
        }
    }

    /// Multiply a timestamp in this precision to nanoseconds; None on overflow.
    pub fn to_nanos(self, ts: i64) -> Option<i64> {
        ts.checked_mul(self.nanos_per_unit())
    }

    /// Round a nanosecond timestamp down to a whole number of units of this precision, as
    /// InfluxDB 1.x does with the server time it gives a line that has no timestamp.
    fn truncate(self, nanos: i64) -> i64 {
        let unit = self.nanos_per_unit();
        nanos
            .checked_sub(nanos.rem_euclid(unit))
            // Only near i64::MIN: round towards zero instead, which cannot overflow.
            .unwrap_or(nanos - nanos % unit)
    }
}

/// One rejected line.
#[derive(Clone, Debug, PartialEq)]
pub struct LineError {
    /// 1-based line number in the request body.
    pub line: usize,
    /// The offending line, without leading whitespace, truncated to about 200 bytes on a char
    /// boundary.
    pub text: String,
    /// What is wrong, e.g. "invalid field format", "missing fields", "invalid number".
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

impl std::error::Error for LineError {}

/// The outcome of parsing a request body: the good points and one error per rejected line.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Parsed {
    pub points: Vec<ParsedPoint>,
    /// The 1-based line number of each point in `points` (so later errors about a point, such
    /// as a field type conflict, can name its line).
    pub lines: Vec<usize>,
    pub errors: Vec<LineError>,
}

/// Parse a request body. Good lines are returned even when other lines fail.
///
/// `default_ts` (ns) is used for lines without a timestamp, rounded down to `precision` as
/// InfluxDB 1.x does. Lines longer than `max_line_bytes` (not counting the line ending) are
/// errors. Blank lines and lines starting with '#' (comments) are skipped. Both "\n" and "\r\n"
/// are accepted.
pub fn parse(input: &str, precision: Precision, default_ts: i64, max_line_bytes: usize) -> Parsed {
    let default_ts = precision.truncate(default_ts);
    let mut parsed = Parsed {
        // A guess that avoids most regrowth for typical (~100-300 byte) lines.
        points: Vec::with_capacity(input.len() / 128 + 1),
        lines: Vec::with_capacity(input.len() / 128 + 1),
        errors: Vec::new(),
    };
    // Lines of one body tend to look alike: size each line's fields like the previous line's.
    let mut hint = Capacity { fields: 4 };
    let mut names = Interner::default();
    for (index, raw) in input.split('\n').enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let body = line.trim_start_matches([' ', '\t', '\0']);
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let result = if line.len() > max_line_bytes {
            Err(Cow::Owned(format!(
                "line too long ({} bytes, limit {})",
                line.len(),
                max_line_bytes
            )))
        } else {
            parse_line(body, precision, default_ts, &mut hint, &mut names)
        };
        match result {
            Ok(point) => {
                parsed.points.push(point);
                parsed.lines.push(index + 1);
            }
            Err(message) => parsed.errors.push(LineError {
                line: index + 1,
                text: truncate_text(body, ERROR_TEXT_BYTES).to_owned(),
                message: message.into_owned(),
            }),
        }
    }
    parsed
}

/// The longest prefix of `s` of at most `max` bytes that ends on a char boundary.
fn truncate_text(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or(s)
}

type Message = Cow<'static, str>;

/// Characters that `\` escapes in a measurement.
const MEASUREMENT_ESCAPES: &[u8] = b", ";
/// Characters that `\` escapes in tag keys, tag values and field keys.
const KEY_ESCAPES: &[u8] = b", =";
/// Characters that `\` escapes inside a quoted string field value.
const STRING_ESCAPES: &[u8] = b"\"\\";

/// What the lines of one body share: the measurement and tags parsed from a series text
/// (everything before the first unescaped space) and the unescaped field names, by their raw
/// text. Parsing a given text always gives the same result, so a line whose series text was
/// parsed before reuses it (no allocation per tag per line), and all its points share one
/// `Arc` that writers can resolve to a series once. Series texts that name the same
/// measurement share one measurement `Arc` too, so writers check a field's type once per
/// measurement and field of a body, not once per series; and field names equal once
/// unescaped share one `Arc` whatever their spelling, so within a body two field names are
/// equal exactly when their `Arc`s are the same.
#[derive(Default)]
struct Interner<'a> {
    series: FastMap<&'a str, SeriesText>,
    measurements: FastMap<String, Arc<str>>,
    /// Field names by raw text, and by unescaped name.
    fields: FastMap<&'a str, Arc<str>>,
    field_names: FastMap<String, Arc<str>>,
    /// The raw name and name of the field at each position of the last line: lines of a body
    /// tend to list the same fields in the same order, and comparing a few bytes costs less
    /// than hashing them.
    last_fields: Vec<(&'a str, Arc<str>)>,
}

/// A parsed series text.
struct SeriesText {
    measurement: Arc<str>,
    tags: SharedTags,
    /// Whether a tag key is `time` (every line with this text is then rejected).
    time_tag: bool,
}

impl<'a> Interner<'a> {
    /// The body's one `Arc` for this unescaped measurement name.
    fn measurement(&mut self, name: String) -> Arc<str> {
        if let Some(m) = self.measurements.get(name.as_str()) {
            return m.clone();
        }
        let m: Arc<str> = Arc::from(name.as_str());
        self.measurements.insert(name, m.clone());
        m
    }

    /// The body's one `Arc` for the field name spelt `raw` (`escaped`: whether it contains a
    /// backslash), the field at position `pos` of its line.
    fn field_at(&mut self, pos: usize, raw: &'a str, escaped: bool) -> Arc<str> {
        if let Some((r, k)) = self.last_fields.get(pos) {
            if *r == raw {
                return k.clone();
            }
        }
        let k = self.field(raw, escaped);
        // The positions before `pos` were just filled, so there are at least `pos`.
        if pos < self.last_fields.len() {
            self.last_fields[pos] = (raw, k.clone());
        } else {
            self.last_fields.push((raw, k.clone()));
        }
        k
    }

    /// The body's one `Arc` for the field name spelt `raw` (`escaped`: whether it contains a
    /// backslash).
    fn field(&mut self, raw: &'a str, escaped: bool) -> Arc<str> {
        if let Some(k) = self.fields.get(raw) {
            return k.clone();
        }
        let name = unescape(raw, escaped, KEY_ESCAPES);
        let k = match self.field_names.get(name.as_str()) {
            Some(k) => k.clone(),
            None => {
                let k: Arc<str> = Arc::from(name.as_str());
                self.field_names.insert(name, k.clone());
                k
            }
        };
        self.fields.insert(raw, k.clone());
        k
    }
}

/// A map with foldhash's per-process seeded hasher (a fraction of SipHash's cost on short
/// keys; hashing series texts with SipHash took ~5% of ingest).
type FastMap<K, V> = std::collections::HashMap<K, V, crate::types::FastHash>;

/// Sorted tags shared by the points of one series text.
type SharedTags = Arc<[(String, String)]>;

/// Unescaped tags, sorted by key.
type Tags = Vec<(String, String)>;

/// How many fields the previous good line had.
struct Capacity {
    fields: usize,
}

/// Parse one line that has no line ending and does not start with whitespace.
fn parse_line<'a>(
    line: &'a str,
    precision: Precision,
    default_ts: i64,
    hint: &mut Capacity,
    names: &mut Interner<'a>,
) -> Result<ParsedPoint, Message> {
    let b = line.as_bytes();

    // Measurement and tags: parsed once per distinct series text of the body.
    if b.first() == Some(&b',') {
        return Err("missing measurement".into());
    }
    let (series_end, series_stop) = series_end(b);
    let known = series_stop
        .and_then(|_| line.get(..series_end))
        .and_then(|text| names.series.get(text));
    let (measurement, tags, time_tag, mut i) = match known {
        Some(s) => (
            s.measurement.clone(),
            s.tags.clone(),
            s.time_tag,
            series_end,
        ),
        None => {
            let (measurement, tags, i) = parse_series(line)?;
            let time_tag = tags.iter().any(|(k, _)| k == "time");
            let (measurement, tags): (Arc<str>, SharedTags) =
                (names.measurement(measurement), Arc::from(tags));
            if i == series_end {
                if let Some(text) = line.get(..series_end) {
                    names.series.insert(
                        text,
                        SeriesText {
                            measurement: measurement.clone(),
                            tags: tags.clone(),
                            time_tag,
                        },
                    );
                }
            }
            (measurement, tags, time_tag, i)
        }
    };

    // Fields. `i` is at the space that ends the key.
    i = skip_whitespace(b, i);
    if i >= b.len() {
        return Err("missing fields".into());
    }
    let mut fields: Vec<(Arc<str>, FieldValue)> = Vec::with_capacity(hint.fields.max(1));
    let (end, time_field) = parse_fields(line, i, &mut fields, names)?;
    i = end;

    // Timestamp.
    let timestamp = parse_timestamp(line, i, precision)?.unwrap_or(default_ts);

    // What InfluxDB 1.x rejects at write time rather than while parsing.
    if time_tag {
        return Err(format!(
            "invalid tag key: input tag \"time\" on measurement \"{measurement}\" is invalid"
        )
        .into());
    }
    if time_field {
        fields.retain(|(k, _)| &**k != "time");
        if fields.is_empty() {
            return Err(format!(
                "invalid field name: input field \"time\" on measurement \"{measurement}\" is invalid"
            )
            .into());
        }
    }
    dedup_fields(&mut fields);
    hint.fields = fields.len();

    Ok(ParsedPoint {
        measurement,
        tags,
        fields,
        timestamp: Some(timestamp),
    })
}

/// The measurement and sorted tags at the start of `line`, and the position just after them
/// (the space before the fields).
fn parse_series(line: &str) -> Result<(String, Tags, usize), Message> {
    let b = line.as_bytes();
    let (end, stop, escaped) = scan_name(b, 0, b", ");
    let measurement = unescape(slice(line, 0, end)?, escaped, MEASUREMENT_ESCAPES);
    let mut i = end;
    let mut tags: Tags = Vec::new();
    match stop {
        None => return Err("missing fields".into()),
        Some(b',') => i = parse_tags(line, end + 1, &mut tags)?,
        Some(_) => {}
    }
    if !tags.is_empty() {
        sort_tags(&mut tags)?;
    }
    Ok((measurement, tags, i))
}

/// `line[start..end]`, as an error rather than a panic if the bounds were ever wrong.
fn slice(line: &str, start: usize, end: usize) -> Result<&str, Message> {
    line.get(start..end)
        .ok_or(Cow::Borrowed("invalid line (internal scanner error)"))
}

/// Where the series text of a line ends: the first space after the first byte that is not
/// preceded by a backslash (what `scan_name(b, 0, b" ")` finds, by `memchr`), or `b.len()`.
fn series_end(b: &[u8]) -> (usize, Option<u8>) {
    let mut from = 1;
    while let Some(p) = b.get(from..).and_then(|rest| memchr::memchr(b' ', rest)) {
        let i = from + p;
        if b.get(i - 1) != Some(&b'\\') {
            return (i, Some(b' '));
        }
        from = i + 1;
    }
    (b.len(), None)
}

/// Scan a name whose first byte is at `first` (the caller has checked it). Returns the position
/// of the first later byte in `stops` that is not preceded by a backslash (or `b.len()`), that
/// byte, and whether the name contains a backslash.
fn scan_name(b: &[u8], first: usize, stops: &[u8]) -> (usize, Option<u8>, bool) {
    let mut escaped = b.get(first) == Some(&b'\\');
    let mut prev_backslash = escaped;
    let mut i = first + 1;
    while let Some(&c) = b.get(i) {
        if !prev_backslash && stops.contains(&c) {
            return (i, Some(c), escaped);
        }
        prev_backslash = c == b'\\';
        escaped |= prev_backslash;
        i += 1;
    }
    (b.len(), None, escaped)
}

/// Remove the backslash from each `\c` with `c` in `specials`. `escaped` says whether `s` has a
/// backslash at all (known from scanning), so the common case is a plain copy.
fn unescape(s: &str, escaped: bool, specials: &[u8]) -> String {
    if !escaped {
        return s.to_owned();
    }
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(&c) = b.get(i) {
        if c == b'\\' {
            if let Some(next) = b.get(i + 1) {
                if specials.contains(next) {
                    // Both bytes are ASCII, so both positions are char boundaries.
                    out.push_str(s.get(copied..i).unwrap_or_default());
                    copied = i + 1;
                    i += 2;
                    continue;
                }
            }
        }
        i += 1;
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    out
}

fn skip_whitespace(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\0')) {
        i += 1;
    }
    i
}

/// Parse the tag set starting at `i` (just after the measurement's comma). Returns the position
/// of the space that ends it.
fn parse_tags(
    line: &str,
    mut i: usize,
    tags: &mut Vec<(String, String)>,
) -> Result<usize, Message> {
    let b = line.as_bytes();
    loop {
        if matches!(b.get(i), None | Some(b' ' | b',' | b'=')) {
            return Err("missing tag key".into());
        }
        let (key_end, stop, key_escaped) = scan_name(b, i, b"=, ");
        if stop != Some(b'=') {
            return Err("missing tag value".into());
        }
        let value_start = key_end + 1;
        if matches!(b.get(value_start), None | Some(b' ' | b',')) {
            return Err("missing tag value".into());
        }
        let (value_end, stop, value_escaped) = scan_name(b, value_start, b"=, ");
        match stop {
            None => return Err("missing fields".into()),
            Some(b'=') => return Err("invalid tag format".into()),
            _ => {}
        }
        let key = unescape(slice(line, i, key_end)?, key_escaped, KEY_ESCAPES);
        let value = unescape(
            slice(line, value_start, value_end)?,
            value_escaped,
            KEY_ESCAPES,
        );
        tags.push((key, value));
        if stop == Some(b',') {
            i = value_end + 1;
        } else {
            return Ok(value_end);
        }
    }
}

/// Sort tags by key and reject a repeated key.
fn sort_tags(tags: &mut [(String, String)]) -> Result<(), Message> {
    if !tags.windows(2).all(|w| w[0].0 < w[1].0) {
        tags.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        if tags.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err("duplicate tags".into());
        }
    }
    Ok(())
}

/// Parse the field set starting at `i` (its first byte, not whitespace). Returns the position
/// just after it (the end of the line or the space before the timestamp) and whether a field
/// is named `time`.
fn parse_fields<'a>(
    line: &'a str,
    mut i: usize,
    fields: &mut Vec<(Arc<str>, FieldValue)>,
    names: &mut Interner<'a>,
) -> Result<(usize, bool), Message> {
    let b = line.as_bytes();
    let mut time = false;
    loop {
        match b.get(i) {
            Some(b'=') => return Err("missing field key".into()),
            None | Some(b' ' | b',') => return Err("invalid field format".into()),
            Some(_) => {}
        }
        let (key_end, stop, key_escaped) = scan_name(b, i, b"=, ");
        if stop != Some(b'=') {
            return Err("invalid field format".into());
        }
        let key = names.field_at(fields.len(), slice(line, i, key_end)?, key_escaped);
        time |= &*key == "time";
        let (value, value_end) = parse_value(line, key_end + 1)?;
        fields.push((key, value));
        match b.get(value_end) {
            None | Some(b' ') => return Ok((value_end, time)),
            Some(b',') => i = value_end + 1,
            Some(_) => return Err("invalid field format".into()),
        }
    }
}

/// Parse the field value starting at `i`. Returns it and the position just after it.
fn parse_value(line: &str, i: usize) -> Result<(FieldValue, usize), Message> {
    let b = line.as_bytes();
    match b.get(i) {
        None | Some(b',' | b' ') => Err("missing field value".into()),
        Some(b'"') => {
            let mut j = i + 1;
            let mut escaped = false;
            loop {
                match b.get(j) {
                    None => return Err("unbalanced quotes".into()),
                    Some(b'\\') => {
                        escaped = true;
                        j += 2;
                    }
                    Some(b'"') => break,
                    Some(_) => j += 1,
                }
            }
            let s = unescape(slice(line, i + 1, j)?, escaped, STRING_ESCAPES);
            Ok((FieldValue::String(s), j + 1))
        }
        Some(&c) => {
            let end = token_end(b, i);
            let token = slice(line, i, end)?;
            let value = match c {
                b't' | b'T' | b'f' | b'F' => parse_bool(token)?,
                b'0'..=b'9' | b'.' | b'-' | b'+' | b'n' | b'N' | b'i' | b'I' => {
                    parse_number(token)?
                }
                // InfluxDB 1.x takes anything that is not a number or a string for a boolean.
                _ => return Err("invalid boolean".into()),
            };
            Ok((value, end))
        }
    }
}

/// The position of the first ',' or ' ' at or after `i`, or `b.len()`.
fn token_end(b: &[u8], i: usize) -> usize {
    b.get(i..)
        .and_then(|rest| rest.iter().position(|&c| c == b',' || c == b' '))
        .map_or(b.len(), |p| i + p)
}

fn parse_bool(token: &str) -> Result<FieldValue, Message> {
    match token {
        "t" | "T" | "true" | "True" | "TRUE" => Ok(FieldValue::Boolean(true)),
        "f" | "F" | "false" | "False" | "FALSE" => Ok(FieldValue::Boolean(false)),
        _ => Err("invalid boolean".into()),
    }
}

/// `-?[0-9]+` (without the sign when `signed` is false).
fn is_integer(s: &str, signed: bool) -> bool {
    let digits = if signed {
        s.strip_prefix('-').unwrap_or(s)
    } else {
        s
    };
    !digits.is_empty() && digits.bytes().all(|c| c.is_ascii_digit())
}

fn parse_number(token: &str) -> Result<FieldValue, Message> {
    if let Some(body) = token.strip_suffix('i') {
        if !is_integer(body, true) {
            return Err("invalid number".into());
        }
        // The syntax is checked, so only the range can be wrong.
        return body
            .parse::<i64>()
            .map(FieldValue::Integer)
            .map_err(|_| "field value out of range for integer".into());
    }
    if let Some(body) = token.strip_suffix('u') {
        if !is_integer(body, false) {
            return Err("invalid number".into());
        }
        return body
            .parse::<u64>()
            .map(FieldValue::Unsigned)
            .map_err(|_| "field value out of range for unsigned".into());
    }
    if let Some(v) = short_decimal(token) {
        return Ok(FieldValue::Float(v));
    }
    // A float: an optional '-', then digits, at most one '.', and an exponent. Checking the
    // characters first keeps out what Rust accepts and InfluxDB does not ("+1", "inf", "NaN").
    let unsigned = token.strip_prefix('-').unwrap_or(token);
    let mut prev = 0u8;
    let mut digits = false;
    let mut dots = 0;
    for c in unsigned.bytes() {
        match c {
            b'0'..=b'9' => digits = true,
            b'.' => dots += 1,
            b'e' | b'E' => {}
            b'+' | b'-' if matches!(prev, b'e' | b'E') => {}
            _ => return Err("invalid number".into()),
        }
        prev = c;
    }
    if !digits || dots > 1 {
        return Err("invalid number".into());
    }
    let value: f64 = token.parse().map_err(|_| "invalid number")?;
    if !value.is_finite() {
        return Err("field value out of range for float".into());
    }
    Ok(FieldValue::Float(value))
}

/// Exact powers of ten as f64 (10^22 is the largest exactly representable one).
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// The value of a plain decimal (`-?digits[.digits]`, at least one digit, no exponent) whose
/// digits, read as an integer m, stay below 2^53, with at most 22 after the point: then m and
/// 10^k are exact in f64 and their quotient, rounded once by the division, is the correctly
/// rounded value of the decimal, which is what `str::parse::<f64>` returns (Clinger's fast
/// path). `None` for anything else (the caller parses it the general way).
fn short_decimal(token: &str) -> Option<f64> {
    let b = token.as_bytes();
    let (negative, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        _ => (false, b),
    };
    let mut m: u64 = 0;
    let mut frac: Option<usize> = None;
    let mut n = 0usize;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                // 16 digits cannot overflow a u64; the bound below is checked at the end.
                if n == 16 {
                    return None;
                }
                m = m * 10 + u64::from(c - b'0');
                n += 1;
                if let Some(f) = &mut frac {
                    *f += 1;
                }
            }
            b'.' if frac.is_none() => frac = Some(0),
            _ => return None,
        }
    }
    let k = frac.unwrap_or(0);
    if n == 0 || m >= 1 << 53 || k >= POW10.len() {
        return None;
    }
    let v = m as f64 / POW10[k];
    Some(if negative { -v } else { v })
}

/// Parse the optional timestamp; `i` is at the end of the line or the space after the fields.
fn parse_timestamp(line: &str, i: usize, precision: Precision) -> Result<Option<i64>, Message> {
    let b = line.as_bytes();
    let start = skip_whitespace(b, i);
    if start >= b.len() {
        return Ok(None);
    }
    let end = b
        .get(start..)
        .and_then(|rest| rest.iter().position(|&c| c == b' '))
        .map_or(b.len(), |p| start + p);
    let token = slice(line, start, end)?;
    if !is_integer(token, true) {
        return Err("bad timestamp".into());
    }
    if b.get(end..)
        .is_some_and(|rest| rest.iter().any(|&c| c != b' '))
    {
        return Err("point is invalid".into());
    }
    let nanos = token
        .parse::<i64>()
        .ok()
        .and_then(|ts| precision.to_nanos(ts))
        .filter(|ns| (MIN_NANOS..=MAX_NANOS).contains(ns))
        .ok_or("invalid timestamp")?;
    Ok(Some(nanos))
}

/// Make field keys unique: a later value replaces an earlier one, in the earlier one's place.
/// The names come from one body's [`Interner`], so equal names are the same `Arc`.
fn dedup_fields(fields: &mut Vec<(Arc<str>, FieldValue)>) {
    const LINEAR_LIMIT: usize = 16;
    if fields.len() < 2 {
        return;
    }
    if fields.len() <= LINEAR_LIMIT {
        let has_dup = fields
            .iter()
            .enumerate()
            .any(|(j, (k, _))| fields.iter().take(j).any(|(e, _)| Arc::ptr_eq(e, k)));
        if !has_dup {
            return;
        }
    }
    let mut index: std::collections::HashMap<Arc<str>, usize> =
        std::collections::HashMap::with_capacity(fields.len());
    let mut out: Vec<(Arc<str>, FieldValue)> = Vec::with_capacity(fields.len());
    for (key, value) in fields.drain(..) {
        match index.get(&key) {
            Some(&pos) => {
                if let Some(slot) = out.get_mut(pos) {
                    slot.1 = value;
                }
            }
            None => {
                index.insert(key.clone(), out.len());
                out.push((key, value));
            }
        }
    }
    *fields = out;
}
