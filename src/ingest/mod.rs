//! Ingest formats beyond line protocol: vctsdb's JSON and CSV records
//! (`shared/INGEST_FORMATS.md` §2.2, §2.3) and Prometheus remote write, each record turned into
//! one line of line protocol, which the engine then parses and writes as any other. `strata
//! import` reads JSON and CSV from files; `/write` from a body whose `Content-Type` (or
//! `?format=`) names them ([`body`]); `/api/v1/prom/write` takes remote writes ([`prometheus`]).
//!
//! - [`json_records`]: one JSON element to a line, and the streaming reader that splits a JSON
//!   document into its elements in bounded memory;
//! - [`csv_records`]: a CSV header to a column layout, and one row to a line;
//! - [`body`]: a whole `/write` body in one of the formats to line protocol, each line
//!   remembering the record it came from;
//! - [`prometheus`]: a remote write request decoded (snappy, protobuf) and its samples to
//!   lines;
//! - `write`: a body's lines parsed and written, what is refused named by line or record.

pub mod body;
pub mod csv_records;
pub mod json_records;
pub mod prometheus;
pub(crate) mod write;

pub use body::{
    body_to_line_protocol, BodyError, ConvertedBody, Record, RecordFormat, RecordOrigin,
};
pub use csv_records::CsvLayout;
pub use json_records::{json_line, JsonElement, JsonElements};

/// How JSON and CSV records map to points.
#[derive(Clone, Debug)]
pub struct RecordOptions {
    /// The measurement of records without a `series` (JSON) / series column (CSV).
    pub measurement: Option<String>,
    /// CSV: the timestamp column's name.
    pub timestamp_column: String,
    /// CSV: the value column's name.
    pub value_column: String,
    /// CSV: the column naming the measurement.
    pub series_column: String,
    /// CSV: the field delimiter.
    pub delimiter: u8,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            measurement: None,
            timestamp_column: "timestamp".into(),
            value_column: "value".into(),
            series_column: "series".into(),
            delimiter: b',',
        }
    }
}

/// A measurement name as line protocol writes it.
pub fn escape_measurement(s: &str) -> String {
    escape(s, &[',', ' '])
}

/// A tag key, tag value or field key as line protocol writes it.
pub fn escape_key(s: &str) -> String {
    escape(s, &[',', '=', ' '])
}

/// A string field value, quoted, as line protocol writes it.
pub fn quote_string_field(s: &str) -> String {
    format!("\"{}\"", escape(s, &['"', '\\']))
}

fn escape(s: &str, special: &[char]) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if special.contains(&c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A float field value that reads back as the same float (`42.5`, `43.0`, `1e300`).
pub fn float_text(v: f64) -> String {
    format!("{v:?}")
}

/// One line of line protocol from its parts (fields already rendered as values).
pub fn line(
    measurement: &str,
    tags: &[(String, String)],
    fields: &[(String, String)],
    timestamp: i64,
) -> Result<String, String> {
    if measurement.is_empty() {
        return Err("empty measurement name".into());
    }
    // Line protocol skips tabs and NULs at the start of a line and before the fields, and a
    // line starting with `#` is a comment: such names would not read back as written.
    if measurement.starts_with(['#', '\t', '\0']) {
        return Err(format!(
            "measurement {measurement:?}: may not start with '#', a tab or a NUL in line protocol"
        ));
    }
    if let Some((k, _)) = fields.iter().find(|(k, _)| k.starts_with(['\t', '\0'])) {
        return Err(format!(
            "field {k:?}: a field name may not start with a tab or a NUL in line protocol"
        ));
    }
    // InfluxDB 1.x refuses a tag named time and drops a field named time.
    if tags.iter().any(|(k, _)| k == "time") || fields.iter().any(|(k, _)| k == "time") {
        return Err("a tag or field may not be named time (it is the timestamp's column)".into());
    }
    let names = std::iter::once(measurement)
        .chain(tags.iter().flat_map(|(k, v)| [k.as_str(), v.as_str()]))
        .chain(fields.iter().map(|(k, _)| k.as_str()));
    for n in names {
        if n.contains(['\n', '\r']) {
            return Err(format!(
                "{n:?}: a name or tag value may not hold a line break"
            ));
        }
        // `\` cannot be escaped in names: one at the end would escape the separator after it.
        if n.ends_with('\\') {
            return Err(format!(
                "{n:?}: a name or tag value may not end with a backslash in line protocol"
            ));
        }
    }
    if fields.is_empty() {
        return Err("no field".into());
    }
    let mut out = escape_measurement(measurement);
    for (k, v) in tags {
        if k.is_empty() {
            return Err(format!("a tag with value {v:?} has an empty name"));
        }
        out.push(',');
        out.push_str(&escape_key(k));
        out.push('=');
        out.push_str(&escape_key(v));
    }
    for (i, (k, v)) in fields.iter().enumerate() {
        if k.is_empty() {
            return Err(format!("a field with value {v} has an empty name"));
        }
        out.push(if i == 0 { ' ' } else { ',' });
        out.push_str(&escape_key(k));
        out.push('=');
        out.push_str(v);
    }
    out.push(' ');
    out.push_str(&timestamp.to_string());
    Ok(out)
}

pub(crate) fn finite(v: f64, what: &str) -> Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{what}: NaN and infinity are not supported"))
    }
}
