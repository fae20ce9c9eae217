//! Query answers in InfluxDB 1.x's shape, and their JSON rendering.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use crate::types::FieldValue;

/// One cell of a result row.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    /// A timestamp (ns), rendered as RFC3339 or as an integer in the requested epoch.
    Time(i64),
    Float(f64),
    Integer(i64),
    Unsigned(u64),
    Boolean(bool),
    /// Shared: the rows of one series hold the same tag values, not a copy each.
    String(Arc<str>),
}

impl Value {
    /// A number's value as a float (an integer converted); `None` for null and non-numbers.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Float(x) => Some(*x),
            Value::Integer(x) => Some(*x as f64),
            Value::Unsigned(x) => Some(*x as f64),
            _ => None,
        }
    }

    /// A string cell.
    pub fn string(s: impl Into<Arc<str>>) -> Value {
        Value::String(s.into())
    }

    /// Heap bytes this cell holds alone (a string no other cell shares), for query memory.
    pub fn own_heap_bytes(&self) -> u64 {
        match self {
            Value::String(s) if Arc::strong_count(s) == 1 => s.len() as u64,
            _ => 0,
        }
    }
}

impl From<FieldValue> for Value {
    fn from(v: FieldValue) -> Value {
        match v {
            FieldValue::Float(x) => Value::Float(x),
            FieldValue::Integer(x) => Value::Integer(x),
            FieldValue::Unsigned(x) => Value::Unsigned(x),
            FieldValue::Boolean(x) => Value::Boolean(x),
            FieldValue::String(x) => Value::String(x.into()),
        }
    }
}

/// One series of a result.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct SeriesResult {
    pub name: String,
    /// Present when the query groups by tags.
    pub tags: Option<BTreeMap<String, String>>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<Value>>,
}

/// The answer to one statement.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StatementResult {
    pub statement_id: usize,
    pub series: Vec<SeriesResult>,
    pub error: Option<String>,
}

/// The answer to a query (one result per statement).
#[derive(Clone, Debug, PartialEq, Default)]
pub struct QueryResponse {
    pub results: Vec<StatementResult>,
}

/// How times are rendered: RFC3339 (default) or integers in a unit (`epoch=` parameter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Epoch {
    #[default]
    Rfc3339,
    Nanosecond,
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
}

impl Epoch {
    /// Parse InfluxDB's `epoch=` values: `ns`, `u`/`µ`, `ms`, `s`, `m`, `h`.
    pub fn parse(s: &str) -> Option<Epoch> {
        Some(match s {
            "" => Epoch::Rfc3339,
            "n" | "ns" => Epoch::Nanosecond,
            "u" | "µ" | "us" => Epoch::Microsecond,
            "ms" => Epoch::Millisecond,
            "s" => Epoch::Second,
            "m" => Epoch::Minute,
            "h" => Epoch::Hour,
            _ => return None,
        })
    }

    /// A time in nanoseconds as an integer in this unit (nanoseconds for RFC3339), as the
    /// answers write it.
    pub fn integer(self, ns: i64) -> i64 {
        ns.div_euclid(self.divisor())
    }

    fn divisor(self) -> i64 {
        match self {
            Epoch::Rfc3339 | Epoch::Nanosecond => 1,
            Epoch::Microsecond => 1_000,
            Epoch::Millisecond => 1_000_000,
            Epoch::Second => 1_000_000_000,
            Epoch::Minute => 60_000_000_000,
            Epoch::Hour => 3_600_000_000_000,
        }
    }
}

/// RFC3339 with nanoseconds, trailing zeros trimmed (Go's `time.RFC3339Nano`), in UTC.
pub fn format_rfc3339(ns: i64) -> String {
    let mut s = String::with_capacity(30);
    push_rfc3339(&mut s, ns);
    s
}

/// [`format_rfc3339`] appended to `out`.
fn push_rfc3339(out: &mut String, ns: i64) {
    let secs = ns.div_euclid(1_000_000_000);
    let nanos = ns.rem_euclid(1_000_000_000) as u32;
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
    let (year, month, day) = civil_from_days(days);
    // Nanoseconds since the epoch in an i64 span the years 1677 to 2262: always four digits,
    // as `%Y` writes them. Written digit by digit, the date computed by integer arithmetic:
    // chrono's format machinery, then `write!`, then chrono's date conversion were 6 %, 12 %
    // and 2.4 % of a small query's CPU.
    let mut buf = *b"0000-00-00T00:00:00.000000000Z";
    let mut put = |at: usize, width: usize, mut v: u32| {
        for i in (at..at + width).rev() {
            if let Some(b) = buf.get_mut(i) {
                *b = b'0' + (v % 10) as u8;
            }
            v /= 10;
        }
    };
    put(0, 4, year.unsigned_abs());
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, sod / 3600);
    put(14, 2, sod / 60 % 60);
    put(17, 2, sod % 60);
    let len = if nanos == 0 {
        19
    } else {
        put(20, 9, nanos);
        // The fraction without its trailing zeros.
        29 - count_trailing_decimal_zeros(nanos)
    };
    if let Some(text) = buf.get(..len).and_then(|b| std::str::from_utf8(b).ok()) {
        out.push_str(text);
    }
    out.push('Z');
}

/// The proleptic Gregorian (year, month, day) of `days` since 1970-01-01, by Howard Hinnant's
/// `civil_from_days` (eras of 400 years starting on March 1st). Exact for every `days` an
/// i64 of seconds gives (the arithmetic is in i64 and stays far from overflow).
fn civil_from_days(days: i64) -> (i32, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March first
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year as i32, month, day)
}

/// How many decimal zeros `v` (non-zero) ends with.
fn count_trailing_decimal_zeros(mut v: u32) -> usize {
    let mut n = 0;
    while v != 0 && v.is_multiple_of(10) {
        v /= 10;
        n += 1;
    }
    n
}

/// Parse an RFC3339 timestamp (or a bare `YYYY-MM-DD` / `YYYY-MM-DD HH:MM:SS` as InfluxQL
/// accepts) to ns.
pub fn parse_time_string(s: &str) -> Option<i64> {
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return dt.timestamp_nanos_opt();
    }
    if let Ok(dt) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f") {
        return dt.and_utc().timestamp_nanos_opt();
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0)?.and_utc().timestamp_nanos_opt();
    }
    None
}

/// A float as Go's encoding/json writes it (`1` not `1.0`; exponents past 1e21 and below 1e-6).
pub fn format_float(v: f64) -> String {
    if !v.is_finite() {
        return "null".to_string();
    }
    let a = v.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = format!("{v:e}");
        // Rust: 1e21 / 1.5e-7; Go: 1e+21 / 1.5e-07
        if let Some((mant, exp)) = s.split_once('e') {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            let digits = if digits.len() < 2 {
                format!("0{digits}")
            } else {
                digits.to_string()
            };
            return format!("{mant}e{sign}{digits}");
        }
        return s;
    }
    let s = format!("{v}");
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

/// [`format_float`] appended to `out`, without a temporary string in the common range.
fn push_float(out: &mut String, v: f64) {
    if push_short_decimal(out, v) {
        return;
    }
    let a = v.abs();
    if !v.is_finite() || (a != 0.0 && !(1e-6..1e21).contains(&a)) {
        out.push_str(&format_float(v));
        return;
    }
    if (1e-5..1e16).contains(&a) {
        // Ryu writes the same shortest digits as `{v}` in plain decimal notation in this
        // range, about three times faster, except that when 16 or 17 digits are needed the two
        // may round the last one differently: those go the slow way (proptests check both).
        let mut buf = ryu::Buffer::new();
        let s = buf.format_finite(v);
        if s.bytes().filter(u8::is_ascii_digit).count() < 16 {
            out.push_str(s.strip_suffix(".0").unwrap_or(s));
            return;
        }
    }
    let start = out.len();
    let _ = write!(out, "{v}");
    if out[start..].ends_with(".0") {
        out.truncate(out.len() - 2);
    }
}

/// Fractional digits [`push_short_decimal`] tries.
const SHORT_DECIMAL_DIGITS: u32 = 6;

/// Write `v` if it is a decimal of at most [`SHORT_DECIMAL_DIGITS`] fractional digits and 15
/// significant ones (most measured values), as [`format_float`] would, and say whether it did.
///
/// Why this is the same text: with `p = 10^6` and `m` the integer nearest `v * p`, the test
/// `m as f64 / p == v` is exact (`m < 10^15 < 2^53` and `p` are exact doubles, and IEEE
/// division rounds correctly), so it holds iff the decimal `m / 10^6` reads back as `v`. That
/// decimal with its trailing zeros dropped has the fewest fractional digits of any that reads
/// back as `v` (two decimals of at most 15 significant digits never read back as the same
/// double), hence the fewest significant digits: it is the shortest round-trip text, which
/// Rust's `{}` and Go's encoding/json both print (proptests compare with [`format_float`]).
fn push_short_decimal(out: &mut String, v: f64) -> bool {
    const P: f64 = 1e6;
    const LIMIT: f64 = 1e15;
    let scaled = (v * P).round();
    // Also refuses NaN and the infinities.
    if !scaled.is_finite() || scaled.abs() >= LIMIT {
        return false;
    }
    let m = scaled as i64;
    // -0.0 is refused too: 0 / p is +0.0, whose bits differ.
    if (m as f64 / P).to_bits() != v.to_bits() {
        return false;
    }
    let mut digits = m.unsigned_abs();
    let mut frac_len = SHORT_DECIMAL_DIGITS;
    while frac_len > 0 && digits.is_multiple_of(10) {
        digits /= 10;
        frac_len -= 1;
    }
    let p = 10u64.pow(frac_len);
    if m < 0 {
        out.push('-');
    }
    out.push_str(itoa::Buffer::new().format(digits / p));
    if frac_len > 0 {
        out.push('.');
        let mut buf = itoa::Buffer::new();
        let frac = buf.format(digits % p);
        // The fraction's leading zeros (0.05: "5" of two digits).
        for _ in frac.len()..frac_len as usize {
            out.push('0');
        }
        out.push_str(frac);
    }
    true
}

fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    // What serde_json escapes: the quote, the backslash and control characters. Without any,
    // the string goes out as it is.
    if s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        let _ = JsonStringContents(&mut *out).write_str(s);
    } else {
        out.push_str(s);
    }
    out.push('"');
}

/// Writes text as the inside of a JSON string, escaped as serde_json escapes it (the quote, the
/// backslash, `\b \t \n \f \r`, other control characters as `\u00xx`), to any writer: the
/// answers' strings, and text sized before it is made (a counter as the writer).
pub(crate) struct JsonStringContents<W>(pub W);

impl<W: std::fmt::Write> std::fmt::Write for JsonStringContents<W> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        let mut plain = 0;
        for (i, b) in s.bytes().enumerate() {
            let short = match b {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                0x08 => "\\b",
                b'\t' => "\\t",
                b'\n' => "\\n",
                0x0c => "\\f",
                b'\r' => "\\r",
                b if b < 0x20 => "",
                _ => continue,
            };
            // Escaped bytes are ASCII: `plain..i` and `i + 1..` fall on character boundaries.
            self.0.write_str(&s[plain..i])?;
            if short.is_empty() {
                write!(self.0, "\\u{b:04x}")?;
            } else {
                self.0.write_str(short)?;
            }
            plain = i + 1;
        }
        self.0.write_str(&s[plain..])
    }
}

fn push_value(out: &mut String, v: &Value, epoch: Epoch) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Time(t) => match epoch {
            Epoch::Rfc3339 => {
                // Digits, '-', ':', 'T', '.' and 'Z' only: nothing to escape.
                out.push('"');
                push_rfc3339(out, *t);
                out.push('"');
            }
            e => out.push_str(itoa::Buffer::new().format(e.integer(*t))),
        },
        Value::Float(x) => push_float(out, *x),
        Value::Integer(x) => out.push_str(itoa::Buffer::new().format(*x)),
        Value::Unsigned(x) => out.push_str(itoa::Buffer::new().format(*x)),
        Value::Boolean(x) => out.push_str(if *x { "true" } else { "false" }),
        Value::String(s) => push_json_string(out, s),
    }
}

impl SeriesResult {
    fn push_json(&self, out: &mut String, epoch: Epoch) {
        out.push('{');
        if !self.name.is_empty() {
            out.push_str("\"name\":");
            push_json_string(out, &self.name);
            out.push(',');
        }
        if let Some(tags) = &self.tags {
            out.push_str("\"tags\":{");
            for (i, (k, v)) in tags.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                push_json_string(out, k);
                out.push(':');
                push_json_string(out, v);
            }
            out.push_str("},");
        }
        out.push_str("\"columns\":[");
        for (i, c) in self.columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_json_string(out, c);
        }
        out.push(']');
        if !self.values.is_empty() {
            out.push_str(",\"values\":[");
            for (i, row) in self.values.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push('[');
                for (j, v) in row.iter().enumerate() {
                    if j > 0 {
                        out.push(',');
                    }
                    push_value(out, v, epoch);
                }
                out.push(']');
            }
            out.push(']');
        }
        out.push('}');
    }
}

impl StatementResult {
    pub fn error(statement_id: usize, message: impl Into<String>) -> StatementResult {
        StatementResult {
            statement_id,
            series: Vec::new(),
            error: Some(message.into()),
        }
    }

    fn push_json(&self, out: &mut String, epoch: Epoch) {
        let _ = write!(out, "{{\"statement_id\":{}", self.statement_id);
        if !self.series.is_empty() {
            out.push_str(",\"series\":[");
            for (i, s) in self.series.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                s.push_json(out, epoch);
            }
            out.push(']');
        }
        if let Some(e) = &self.error {
            out.push_str(",\"error\":");
            push_json_string(out, e);
        }
        out.push('}');
    }
}

impl QueryResponse {
    /// JSON with RFC3339 times.
    pub fn to_json(&self) -> String {
        self.to_json_epoch(Epoch::Rfc3339)
    }

    /// JSON as InfluxDB 1.x's `/query` answers it.
    /// At least the bytes [`QueryResponse::to_json_epoch`] renders (never fewer), computed
    /// without rendering: what the HTTP handler charges to `query_memory_limit` before it
    /// renders the answer.
    pub fn json_bytes_bound(&self) -> u64 {
        fn string(s: &str) -> u64 {
            // An escaped byte takes at most 6 (`\u00XX`).
            let escaped = s
                .bytes()
                .filter(|&b| b == b'"' || b == b'\\' || b < 0x20)
                .count() as u64;
            s.len() as u64 + 5 * escaped + 2
        }
        fn value(v: &Value) -> u64 {
            match v {
                // The longest number, RFC3339 time or literal, quoted, plus a separator.
                Value::String(s) => string(s) + 1,
                _ => 40,
            }
        }
        let mut n = 32u64;
        for r in &self.results {
            n += 64 + r.error.as_deref().map_or(0, string);
            for s in &r.series {
                n += 64 + string(&s.name);
                n += s
                    .tags
                    .iter()
                    .flatten()
                    .map(|(k, v)| string(k) + string(v) + 2)
                    .sum::<u64>();
                n += s.columns.iter().map(|c| string(c) + 1).sum::<u64>();
                n += s
                    .values
                    .iter()
                    .map(|row| 3 + row.iter().map(value).sum::<u64>())
                    .sum::<u64>();
            }
        }
        n
    }

    pub fn to_json_epoch(&self, epoch: Epoch) -> String {
        let mut out = String::from("{\"results\":[");
        for (i, r) in self.results.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            r.push_json(&mut out, epoch);
        }
        out.push_str("]}");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_bound_is_never_below_the_rendered_size() {
        let mut tags = BTreeMap::new();
        tags.insert("host".to_string(), "a\"b\n".to_string());
        let r = QueryResponse {
            results: vec![StatementResult {
                statement_id: 0,
                series: vec![SeriesResult {
                    name: "m\u{1}".into(),
                    tags: Some(tags),
                    columns: vec!["time".into(), "v".into(), "s".into()],
                    values: (0..100)
                        .map(|i| {
                            vec![
                                Value::Time(-i * 1_234_567_891_234),
                                Value::Float(-1.234_567_890_123_456_7e-300 * i as f64),
                                Value::String(Arc::from("x\u{0}\"\\".repeat(i as usize))),
                            ]
                        })
                        .collect(),
                }],
                error: Some("e\"".into()),
            }],
        };
        for epoch in [Epoch::Rfc3339, Epoch::Nanosecond] {
            let rendered = r.to_json_epoch(epoch).len() as u64;
            assert!(
                r.json_bytes_bound() >= rendered,
                "{} < {rendered}",
                r.json_bytes_bound()
            );
        }
    }

    #[test]
    fn floats_render_like_go() {
        for v in [
            1.0,
            0.5,
            -2.25,
            1e21,
            1.5e-7,
            123456.789,
            0.0,
            -0.0,
            1e-6,
            9.99e20,
            f64::NAN,
            66.87,
            -93.5,
            0.000001,
            0.1 + 0.2,
            999_999_999.999_999,
            100.0,
            -0.5,
        ] {
            let mut out = String::from("x");
            push_float(&mut out, v);
            assert_eq!(out, format!("x{}", format_float(v)), "{v}");
        }
        assert_eq!(format_float(1.0), "1");
        assert_eq!(format_float(0.5), "0.5");
        assert_eq!(format_float(-2.25), "-2.25");
        assert_eq!(format_float(1e21), "1e+21");
        assert_eq!(format_float(1.5e-7), "1.5e-07");
        assert_eq!(format_float(123456.789), "123456.789");
    }

    #[test]
    fn civil_from_days_is_chronos_date_on_every_day_of_the_i64_nanosecond_range() {
        use chrono::Datelike;
        // i64 nanoseconds reach 1677-09-21 .. 2262-04-11: days -106,752 ..= 106,751.
        for days in -106_752i64..=106_751 {
            let d = chrono::DateTime::from_timestamp(days * 86_400, 0).unwrap();
            assert_eq!(
                civil_from_days(days),
                (d.year(), d.month(), d.day()),
                "day {days}"
            );
        }
    }

    #[test]
    fn rfc3339_trims_zeros() {
        assert_eq!(
            format_rfc3339(1_700_000_000_000_000_000),
            "2023-11-14T22:13:20Z"
        );
        assert_eq!(
            format_rfc3339(1_700_000_000_500_000_000),
            "2023-11-14T22:13:20.5Z"
        );
        assert_eq!(format_rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse_time_string("2023-11-14T22:13:20Z"),
            Some(1_700_000_000_000_000_000)
        );
        assert_eq!(
            parse_time_string("2023-11-14"),
            Some(1_699_920_000_000_000_000)
        );
    }

    #[test]
    fn json_shape() {
        let r = QueryResponse {
            results: vec![
                StatementResult {
                    statement_id: 0,
                    series: vec![SeriesResult {
                        name: "cpu".into(),
                        tags: None,
                        columns: vec!["time".into(), "v".into()],
                        values: vec![vec![Value::Time(0), Value::Float(1.0)]],
                    }],
                    error: None,
                },
                StatementResult::error(1, "boom"),
            ],
        };
        assert_eq!(
            r.to_json(),
            r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[["1970-01-01T00:00:00Z",1]]}]},{"statement_id":1,"error":"boom"}]}"#
        );
        assert!(r.to_json_epoch(Epoch::Second).contains("[[0,1]]"));
    }
}

#[cfg(test)]
mod format_props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn push_float_writes_what_format_float_formats(v in any::<f64>()) {
            let mut out = String::from("[");
            push_float(&mut out, v);
            prop_assert_eq!(out, format!("[{}", format_float(v)));
        }

        #[test]
        fn rfc3339_is_chronos_format(ns in any::<i64>()) {
            let secs = ns.div_euclid(1_000_000_000);
            let nanos = ns.rem_euclid(1_000_000_000) as u32;
            let dt = chrono::DateTime::from_timestamp(secs, nanos).unwrap_or_default();
            let mut want = dt.format("%Y-%m-%dT%H:%M:%S").to_string();
            if nanos != 0 {
                want.push('.');
                want.push_str(format!("{nanos:09}").trim_end_matches('0'));
            }
            want.push('Z');
            prop_assert_eq!(format_rfc3339(ns), want);
        }

        #[test]
        fn push_float_matches_in_the_plain_range(
            x in -1e16f64..1e16,
            m in -10_000_000i64..10_000_000,
            e in 0i32..12,
        ) {
            for v in [x, m as f64 / 10f64.powi(e), x / 1e12] {
                let mut out = String::new();
                push_float(&mut out, v);
                prop_assert_eq!(out, format_float(v));
            }
        }

        #[test]
        fn short_decimals_write_what_format_float_formats(
            m in -999_999_999_999_999i64..=999_999_999_999_999,
            e in 0i32..=8,
        ) {
            let v = m as f64 / 10f64.powi(e);
            let mut out = String::new();
            push_float(&mut out, v);
            prop_assert_eq!(&out, &format_float(v));
            // Near a decimal of six digits but not one: the slow way, the same text.
            for w in [f64::from_bits(v.to_bits() + 1), f64::from_bits(v.to_bits().saturating_sub(1))] {
                out.clear();
                push_float(&mut out, w);
                prop_assert_eq!(&out, &format_float(w));
            }
        }

        #[test]
        fn push_json_string_writes_what_serde_json_writes(s in any::<String>()) {
            let mut out = String::new();
            push_json_string(&mut out, &s);
            prop_assert_eq!(Some(out), serde_json::to_string(&s).ok());
        }
    }
}
