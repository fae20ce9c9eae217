//! A whole `/write` body in vctsdb's JSON or CSV turned into line protocol (INGEST_FORMATS.md
//! §2.1): one line per record that converts, each remembering which record it came from, and a
//! message for each record that does not. The engine then parses and writes the lines as it
//! does any body, and reports what it refuses of them under the record's name.

use std::fmt;

use super::{CsvLayout, JsonElements, RecordOptions};

/// The format of a `/write` body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFormat {
    /// InfluxDB line protocol (what `/write` reads unless told otherwise).
    LineProtocol,
    /// vctsdb's JSON: an object, an array of objects, or objects one after another.
    Json,
    /// vctsdb's CSV: a header row, then one record per row.
    Csv,
}

impl RecordFormat {
    /// The `?format=` parameter's value (vctsdb's short names `lp`, `json`, `csv`, any case);
    /// `None` for another name.
    pub fn from_name(name: &str) -> Option<RecordFormat> {
        match name.to_ascii_lowercase().as_str() {
            "lp" | "line" | "lineprotocol" => Some(RecordFormat::LineProtocol),
            "json" => Some(RecordFormat::Json),
            "csv" => Some(RecordFormat::Csv),
            _ => None,
        }
    }

    /// The format a `Content-Type` names: `application/json` JSON, `text/csv` and
    /// `application/csv` CSV (any case, parameters such as `; charset=utf-8` ignored), anything
    /// else line protocol (InfluxDB ignores the header, and curl sends
    /// `application/x-www-form-urlencoded` with `--data-binary`).
    pub fn from_content_type(value: &str) -> RecordFormat {
        let media = value.split(';').next().unwrap_or("").trim();
        if media.eq_ignore_ascii_case("application/json") {
            RecordFormat::Json
        } else if media.eq_ignore_ascii_case("text/csv")
            || media.eq_ignore_ascii_case("application/csv")
        {
            RecordFormat::Csv
        } else {
            RecordFormat::LineProtocol
        }
    }
}

/// A record of a body: a JSON element (counted from 0, as vctsdb does), a CSV data row
/// (counted from 1) or a sample of a Prometheus remote write (its series and its place in it,
/// from 0). Displayed as `element N` / `record N` / `series S, sample N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Record {
    Element(usize),
    Row(usize),
    Sample { series: usize, sample: usize },
}

impl fmt::Display for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Record::Element(n) => write!(f, "element {n}"),
            Record::Row(n) => write!(f, "record {n}"),
            Record::Sample { series, sample } => write!(f, "series {series}, sample {sample}"),
        }
    }
}

/// Which record of a body a line of line protocol came from (two words per line made: no text
/// is kept for it until a message needs it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordOrigin {
    pub record: Record,
    /// The 1-based line of the body where the record starts (none in a binary body).
    pub line: Option<usize>,
}

impl fmt::Display for RecordOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} (line {line})", self.record),
            None => write!(f, "{}", self.record),
        }
    }
}

/// A body turned into line protocol.
#[derive(Debug, Default)]
pub struct ConvertedBody {
    /// One line per record that converted, in the body's order.
    pub text: String,
    /// `origins[i]` is the record line `i + 1` of `text` came from.
    pub origins: Vec<RecordOrigin>,
    /// A message for each record that did not convert, naming it
    /// (`element 2 (line 3): missing required field: timestamp`), in the body's order.
    pub rejected: Vec<String>,
}

/// Why a whole body was refused (nothing of it is written).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    /// A CSV body without a header row.
    #[error("a CSV body needs a header row naming its columns (timestamp and value at least)")]
    CsvNoHeader,
    /// A CSV header that lacks a required column.
    #[error("{0}")]
    CsvHeader(String),
    /// A CSV header row that does not read (unbalanced quotes).
    #[error("CSV header row: {0}")]
    CsvHeaderUnreadable(String),
}

impl ConvertedBody {
    pub(crate) fn push(&mut self, origin: RecordOrigin, line: Result<String, String>) {
        match line {
            Ok(line) => {
                self.text.push_str(&line);
                self.text.push('\n');
                self.origins.push(origin);
            }
            Err(reason) => self.rejected.push(format!("{origin}: {reason}")),
        }
    }
}

/// Turn `body` (JSON or CSV, `format`) into line protocol. A record longer than
/// `max_record_bytes` is rejected without being held. A JSON document that breaks off (a
/// missing `]`, text after the end) keeps the elements before the break and reports the break as
/// one rejection. Line protocol is not converted: it comes back as it is.
pub fn body_to_line_protocol(
    body: &str,
    format: RecordFormat,
    opts: &RecordOptions,
    max_record_bytes: usize,
) -> Result<ConvertedBody, BodyError> {
    match format {
        RecordFormat::LineProtocol => Ok(ConvertedBody {
            text: body.to_string(),
            ..ConvertedBody::default()
        }),
        RecordFormat::Json => Ok(json_body(body, opts, max_record_bytes)),
        RecordFormat::Csv => csv_body(body, opts, max_record_bytes),
    }
}

fn json_body(body: &str, opts: &RecordOptions, max_record_bytes: usize) -> ConvertedBody {
    let mut out = ConvertedBody::default();
    let mut elements = JsonElements::new(body.as_bytes(), max_record_bytes);
    loop {
        let element = match elements.next_element() {
            Ok(Some(element)) => element,
            Ok(None) => return out,
            Err(message) => {
                // The message names the line; what follows the break is not read.
                out.rejected
                    .push(format!("{message}; the rest of the body is not read"));
                return out;
            }
        };
        let origin = RecordOrigin {
            record: Record::Element(element.index),
            line: Some(element.line),
        };
        let line = element.bytes.and_then(|bytes| {
            let value: serde_json::Value =
                serde_json::from_slice(&bytes).map_err(|e| format!("invalid JSON: {e}"))?;
            super::json_line(&value, opts)
        });
        out.push(origin, line);
    }
}

fn csv_body(
    body: &str,
    opts: &RecordOptions,
    max_record_bytes: usize,
) -> Result<ConvertedBody, BodyError> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(opts.delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut record = csv::StringRecord::new();
    let layout = match reader.read_record(&mut record) {
        Ok(false) => return Err(BodyError::CsvNoHeader),
        Ok(true) => CsvLayout::new(record.iter(), opts).map_err(BodyError::CsvHeader)?,
        Err(e) => return Err(BodyError::CsvHeaderUnreadable(e.to_string())),
    };
    let mut out = ConvertedBody::default();
    let mut number = 0usize;
    loop {
        let read = reader.read_record(&mut record);
        let line = |position: Option<&csv::Position>| {
            position.map_or(reader.position().line(), |p| p.line()) as usize
        };
        match read {
            Ok(false) => return Ok(out),
            Ok(true) => {
                number += 1;
                let origin = RecordOrigin {
                    record: Record::Row(number),
                    line: Some(line(record.position())),
                };
                let converted = if record.as_slice().len() > max_record_bytes {
                    Err(format!("record longer than {max_record_bytes} bytes"))
                } else {
                    layout.line(record.iter(), opts)
                };
                out.push(origin, converted);
            }
            Err(e) => {
                number += 1;
                let origin = RecordOrigin {
                    record: Record::Row(number),
                    line: Some(line(e.position())),
                };
                out.push(origin, Err(e.to_string()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn convert(body: &str, format: RecordFormat) -> ConvertedBody {
        body_to_line_protocol(body, format, &RecordOptions::default(), 1 << 16).expect("converts")
    }

    #[test]
    fn formats_by_content_type_and_name() {
        use RecordFormat::*;
        for (header, want) in [
            ("application/json", Json),
            ("Application/JSON; charset=utf-8", Json),
            ("text/csv", Csv),
            ("application/csv;header=present", Csv),
            ("text/plain", LineProtocol),
            ("application/x-www-form-urlencoded", LineProtocol),
            ("application/octet-stream", LineProtocol),
            ("", LineProtocol),
            ("application/jsonl", LineProtocol),
        ] {
            assert_eq!(RecordFormat::from_content_type(header), want, "{header}");
        }
        assert_eq!(RecordFormat::from_name("JSON"), Some(Json));
        assert_eq!(RecordFormat::from_name("csv"), Some(Csv));
        assert_eq!(RecordFormat::from_name("lp"), Some(LineProtocol));
        assert_eq!(RecordFormat::from_name("xml"), None);
    }

    #[test]
    fn json_elements_become_lines_and_bad_ones_are_named() {
        let body = "[\n{\"timestamp\": 1, \"value\": 2.5, \"series\": \"cpu\"},\n\
                    {\"value\": 1, \"series\": \"cpu\"},\n\
                    {\"timestamp\": 3, \"value\": 4, \"series\": \"cpu\", \"tags\": {\"h\": \"a\"}}\n]";
        let c = convert(body, RecordFormat::Json);
        assert_eq!(c.text, "cpu value=2.5 1\ncpu,h=a value=4.0 3\n");
        assert_eq!(
            c.origins,
            [
                RecordOrigin {
                    record: Record::Element(0),
                    line: Some(2)
                },
                RecordOrigin {
                    record: Record::Element(2),
                    line: Some(4)
                }
            ]
        );
        assert_eq!(
            c.rejected,
            ["element 1 (line 3): missing required field: timestamp"]
        );
        // One object; and a document that breaks off keeps what came before the break.
        let c = convert(
            r#"{"timestamp": 1, "value": 1, "series": "m"}"#,
            RecordFormat::Json,
        );
        assert_eq!((c.text.as_str(), c.rejected.len()), ("m value=1.0 1\n", 0));
        let c = convert(
            "[{\"timestamp\": 1, \"value\": 1, \"series\": \"m\"},\n{\"timestamp\": 2",
            RecordFormat::Json,
        );
        assert_eq!(c.text, "m value=1.0 1\n");
        assert_eq!(c.rejected.len(), 2, "{:?}", c.rejected);
        assert!(c.rejected[0].starts_with("element 1 (line 2): invalid JSON"));
        assert!(c.rejected[1].contains("missing ']'"), "{:?}", c.rejected);
        let c = convert(
            "[{\"timestamp\": 1, \"value\": 1, \"series\": \"m\"}",
            RecordFormat::Json,
        );
        assert_eq!(c.text, "m value=1.0 1\n");
        assert!(c.rejected[0].contains("missing ']'"), "{:?}", c.rejected);
        assert_eq!(convert("[]", RecordFormat::Json).text, "");
    }

    #[test]
    fn csv_rows_become_lines_and_bad_ones_are_named() {
        let body = "timestamp,value,series,region\n1,2.5,cpu,west\n2,oops,cpu,west\n3,4,cpu\n\
                    \"4\",5,cpu,\n";
        let c = convert(body, RecordFormat::Csv);
        assert_eq!(c.text, "cpu,region=west value=2.5 1\ncpu value=5.0 4\n");
        assert_eq!(
            c.rejected,
            [
                "record 2 (line 3): value: cannot parse 'oops'",
                "record 3 (line 4): 3 fields, the header has 4"
            ]
        );
        assert_eq!(c.origins[1].to_string(), "record 4 (line 5)");
        let opts = RecordOptions::default();
        assert_eq!(
            body_to_line_protocol("", RecordFormat::Csv, &opts, 1 << 16).unwrap_err(),
            BodyError::CsvNoHeader
        );
        let e = body_to_line_protocol("time,value\n1,2\n", RecordFormat::Csv, &opts, 1 << 16)
            .unwrap_err();
        assert!(e.to_string().contains("timestamp and value"), "{e}");
        // Semicolons, and a measurement for rows without a series column.
        let opts = RecordOptions {
            delimiter: b';',
            measurement: Some("power".into()),
            ..RecordOptions::default()
        };
        let c = body_to_line_protocol(
            "timestamp;value\n7;1,5\n8;2\n",
            RecordFormat::Csv,
            &opts,
            64,
        )
        .expect("converts");
        assert_eq!(c.text, "power value=2.0 8\n");
        assert_eq!(c.rejected, ["record 1 (line 2): value: cannot parse '1,5'"]);
        // A record past the bound is refused, not converted.
        let long = format!("timestamp,value,series\n1,1,{}\n2,1,m\n", "x".repeat(100));
        let c = body_to_line_protocol(&long, RecordFormat::Csv, &RecordOptions::default(), 64)
            .expect("converts");
        assert_eq!(c.text, "m value=1.0 2\n");
        assert_eq!(
            c.rejected,
            ["record 1 (line 2): record longer than 64 bytes"]
        );
    }
}
