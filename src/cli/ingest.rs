//! vctsdb's JSON and CSV records (`shared/INGEST_FORMATS.md` §2.2, §2.3) turned into line
//! protocol, one line per record, and the streaming reader that splits a JSON document into its
//! elements in bounded memory.

use std::io::BufRead;

use serde_json::Value;

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
        out.push(if i == 0 { ' ' } else { ',' });
        out.push_str(&escape_key(k));
        out.push('=');
        out.push_str(v);
    }
    out.push(' ');
    out.push_str(&timestamp.to_string());
    Ok(out)
}

/// A JSON timestamp: an integer as is; beyond i64 or fractional, truncated toward zero and
/// saturated (as vctsdb).
fn json_timestamp(n: &serde_json::Number) -> i64 {
    if let Some(i) = n.as_i64() {
        i
    } else if n.as_u64().is_some() {
        i64::MAX
    } else {
        n.as_f64().map_or(0, |f| f as i64)
    }
}

fn finite(v: f64, what: &str) -> Result<f64, String> {
    if v.is_finite() {
        Ok(v)
    } else {
        Err(format!("{what}: NaN and infinity are not supported"))
    }
}

/// The line of one JSON element (`{"timestamp":…, "value":…, "series":…}` plus the `tags` and
/// `fields` extensions).
pub fn json_line(v: &Value, opts: &RecordOptions) -> Result<String, String> {
    let obj = v
        .as_object()
        .ok_or_else(|| "not a JSON object".to_string())?;
    let ts = match obj.get("timestamp") {
        None => return Err("missing required field: timestamp".into()),
        Some(Value::Number(n)) => json_timestamp(n),
        Some(_) => return Err("timestamp must be a number".into()),
    };
    let measurement = match (obj.get("series"), &opts.measurement) {
        (Some(Value::String(s)), _) => s.clone(),
        (_, Some(m)) => m.clone(),
        _ => return Err("missing required field: series (or give --measurement)".into()),
    };
    let mut tags = Vec::new();
    match obj.get("tags") {
        None => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                match v {
                    Value::String(s) if s.is_empty() => {}
                    Value::String(s) => tags.push((k.clone(), s.clone())),
                    _ => return Err(format!("tags.{k} must be a string")),
                }
            }
        }
        Some(_) => return Err("tags must be an object".into()),
    }
    let mut fields = Vec::new();
    match obj.get("value") {
        Some(Value::Number(n)) => {
            let f = finite(n.as_f64().unwrap_or(f64::NAN), "value")?;
            fields.push(("value".to_string(), float_text(f)));
        }
        Some(_) => return Err("value must be a number".into()),
        None if obj.contains_key("fields") => {}
        None => return Err("missing required field: value".into()),
    }
    match obj.get("fields") {
        None => {}
        Some(Value::Object(m)) => {
            for (k, v) in m {
                fields.push((k.clone(), json_field(k, v)?));
            }
        }
        Some(_) => return Err("fields must be an object".into()),
    }
    line(&measurement, &tags, &fields, ts)
}

/// A `fields` value: a number (float), a boolean, a string, `{"int": n}` or `{"uint": n}`.
fn json_field(k: &str, v: &Value) -> Result<String, String> {
    match v {
        Value::Number(n) => Ok(float_text(finite(
            n.as_f64().unwrap_or(f64::NAN),
            &format!("fields.{k}"),
        )?)),
        Value::Bool(b) => Ok(b.to_string()),
        Value::String(s) if s.contains(['\n', '\r']) => Err(format!(
            "fields.{k}: a string with a line break cannot be written as line protocol"
        )),
        Value::String(s) => Ok(quote_string_field(s)),
        Value::Object(m) if m.len() == 1 => match (m.get("int"), m.get("uint")) {
            (Some(Value::Number(n)), _) if n.as_i64().is_some() => Ok(format!("{n}i")),
            (_, Some(Value::Number(n))) if n.as_u64().is_some() => Ok(format!("{n}u")),
            _ => Err(format!(
                "fields.{k}: expected {{\"int\": integer}} or {{\"uint\": unsigned integer}}"
            )),
        },
        _ => Err(format!(
            "fields.{k} must be a number, a boolean, a string or {{\"int\": n}}"
        )),
    }
}

/// Which columns of a CSV file hold what.
#[derive(Clone, Debug)]
pub struct CsvLayout {
    timestamp: usize,
    value: usize,
    series: Option<usize>,
    tags: Vec<(usize, String)>,
    width: usize,
}

impl CsvLayout {
    /// The layout a header row gives; the timestamp and value columns are required.
    pub fn new<'a>(
        header: impl IntoIterator<Item = &'a str>,
        opts: &RecordOptions,
    ) -> Result<CsvLayout, String> {
        let names: Vec<&str> = header.into_iter().collect();
        let find = |n: &str| names.iter().position(|h| *h == n);
        let (Some(timestamp), Some(value)) =
            (find(&opts.timestamp_column), find(&opts.value_column))
        else {
            return Err(format!(
                "CSV headers must contain {} and {} fields",
                opts.timestamp_column, opts.value_column
            ));
        };
        let series = find(&opts.series_column);
        if series.is_none() && opts.measurement.is_none() {
            return Err(format!(
                "no {} column: give the measurement with --measurement",
                opts.series_column
            ));
        }
        let tags = names
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != timestamp && *i != value && Some(*i) != series)
            .map(|(i, n)| (i, n.to_string()))
            .collect();
        Ok(CsvLayout {
            timestamp,
            value,
            series,
            tags,
            width: names.len(),
        })
    }

    /// The line of one data row.
    pub fn line<'a>(
        &self,
        row: impl IntoIterator<Item = &'a str>,
        opts: &RecordOptions,
    ) -> Result<String, String> {
        let cells: Vec<&str> = row.into_iter().collect();
        if cells.len() != self.width {
            return Err(format!(
                "{} fields, the header has {}",
                cells.len(),
                self.width
            ));
        }
        let cell = |i: usize| cells.get(i).copied().unwrap_or("");
        let ts_text = cell(self.timestamp);
        let ts: i64 = ts_text
            .parse()
            .map_err(|_| format!("timestamp: cannot parse '{ts_text}'"))?;
        let v_text = cell(self.value);
        let v: f64 = v_text
            .parse()
            .map_err(|_| format!("value: cannot parse '{v_text}'"))?;
        let v = finite(v, "value")?;
        let measurement = match (self.series.map(cell), &opts.measurement) {
            (Some(s), _) if !s.is_empty() => s.to_string(),
            (_, Some(m)) => m.clone(),
            _ => return Err(format!("empty {} (measurement)", opts.series_column)),
        };
        let tags: Vec<(String, String)> = self
            .tags
            .iter()
            .filter(|(i, _)| !cell(*i).is_empty())
            .map(|(i, name)| (name.clone(), cell(*i).to_string()))
            .collect();
        line(
            &measurement,
            &tags,
            &[("value".to_string(), float_text(v))],
            ts,
        )
    }
}

/// One element of a JSON document.
#[derive(Debug, PartialEq)]
pub struct JsonElement {
    /// 0-based index in the document.
    pub index: usize,
    /// 1-based line where it starts.
    pub line: usize,
    /// Its bytes, or why they were not kept (too long).
    pub bytes: Result<Vec<u8>, String>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum JsonState {
    Start,
    /// Inside the top-level array; `need_comma` after an element.
    Array {
        need_comma: bool,
    },
    /// One or more top-level objects (whitespace-separated, as NDJSON).
    Objects,
    Done,
}

/// Splits a JSON document (an array of objects, or objects one after another) into elements,
/// holding one element at a time (at most `max_bytes` of it).
pub struct JsonElements<R> {
    reader: R,
    line: usize,
    index: usize,
    state: JsonState,
    max_bytes: usize,
}

impl<R: BufRead> JsonElements<R> {
    /// A splitter over `reader`; elements over `max_bytes` are reported, not kept.
    pub fn new(reader: R, max_bytes: usize) -> Self {
        JsonElements {
            reader,
            line: 1,
            index: 0,
            state: JsonState::Start,
            max_bytes,
        }
    }

    /// The current line (1-based).
    pub fn line(&self) -> usize {
        self.line
    }

    fn peek(&mut self) -> std::io::Result<Option<u8>> {
        Ok(self.reader.fill_buf()?.first().copied())
    }

    fn bump(&mut self) -> std::io::Result<Option<u8>> {
        let b = self.peek()?;
        if let Some(b) = b {
            self.reader.consume(1);
            if b == b'\n' {
                self.line += 1;
            }
        }
        Ok(b)
    }

    fn skip_ws(&mut self) -> std::io::Result<Option<u8>> {
        loop {
            match self.peek()? {
                Some(b' ' | b'\t' | b'\r' | b'\n') => {
                    self.bump()?;
                }
                other => return Ok(other),
            }
        }
    }

    /// The next element, `Ok(None)` at the end, or an error that ends the document (bad
    /// structure, I/O): its message names the line.
    pub fn next_element(&mut self) -> Result<Option<JsonElement>, String> {
        self.next_inner().map_err(|e| e.to_string())?
    }

    fn next_inner(&mut self) -> std::io::Result<Result<Option<JsonElement>, String>> {
        loop {
            let b = self.skip_ws()?;
            match (self.state, b) {
                (JsonState::Done, None) => return Ok(Ok(None)),
                (JsonState::Done, Some(_)) => {
                    return Ok(Err(format!(
                        "line {}: unexpected characters after the end of the document",
                        self.line
                    )))
                }
                (JsonState::Start, Some(b'[')) => {
                    self.bump()?;
                    self.state = JsonState::Array { need_comma: false };
                }
                (JsonState::Start | JsonState::Objects, Some(b'{')) => {
                    self.state = JsonState::Objects;
                    return self.value().map(|e| Ok(Some(e)));
                }
                (JsonState::Start, None) | (JsonState::Objects, None) => {
                    self.state = JsonState::Done;
                    return Ok(Ok(None));
                }
                (JsonState::Start | JsonState::Objects, Some(_)) => {
                    return Ok(Err(format!(
                        "line {}: Input must be a JSON object or array",
                        self.line
                    )))
                }
                (JsonState::Array { .. }, Some(b']')) => {
                    self.bump()?;
                    self.state = JsonState::Done;
                }
                (JsonState::Array { need_comma: true }, Some(b',')) => {
                    self.bump()?;
                    self.state = JsonState::Array { need_comma: false };
                }
                (JsonState::Array { need_comma: false }, Some(b)) if b != b',' => {
                    self.state = JsonState::Array { need_comma: true };
                    return self.value().map(|e| Ok(Some(e)));
                }
                (JsonState::Array { .. }, None) => {
                    return Ok(Err(format!(
                        "line {}: the file ends inside the array (a missing ']')",
                        self.line
                    )))
                }
                (JsonState::Array { need_comma }, Some(c)) => {
                    return Ok(Err(format!(
                        "line {}: unexpected '{}' ({})",
                        self.line,
                        char::from(c).escape_default(),
                        if need_comma {
                            "expected ',' or ']' after an element"
                        } else {
                            "expected an element"
                        }
                    )))
                }
            }
        }
    }

    /// Read one value starting at the next byte (not whitespace).
    fn value(&mut self) -> std::io::Result<JsonElement> {
        let (index, line) = (self.index, self.line);
        self.index += 1;
        let mut bytes = Vec::new();
        let mut too_long = false;
        let mut keep = |bytes: &mut Vec<u8>, b: u8, max: usize| {
            if bytes.len() < max {
                bytes.push(b);
            } else {
                too_long = true;
            }
        };
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        let max = self.max_bytes;
        while let Some(b) = self.peek()? {
            if !in_string && depth == 0 && !bytes.is_empty() && b",]} \t\r\n".contains(&b) {
                break; // the end of a scalar
            }
            self.bump()?;
            keep(&mut bytes, b, max);
            if in_string {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => {
                        in_string = false;
                        if depth == 0 {
                            break;
                        }
                    }
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        break;
                    }
                }
                _ => {}
            }
        }
        Ok(JsonElement {
            index,
            line,
            bytes: if too_long {
                Err(format!("element longer than {max} bytes"))
            } else {
                Ok(bytes)
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn opts() -> RecordOptions {
        RecordOptions::default()
    }

    fn json(s: &str) -> Result<String, String> {
        json_line(&serde_json::from_str(s).expect("test JSON"), &opts())
    }

    #[test]
    fn vctsdb_json_documents() {
        assert_eq!(
            json(r#"{"timestamp": 1000, "value": 42.5, "series": "test_series"}"#),
            Ok("test_series value=42.5 1000".into())
        );
        assert_eq!(
            json(r#"{"timestamp": 1000.9, "value": 43, "series": "s", "other": 1}"#),
            Ok("s value=43.0 1000".into())
        );
        assert_eq!(
            json(r#"{"timestamp": 1e3, "value": 1, "series": "s"}"#),
            Ok("s value=1.0 1000".into())
        );
        assert_eq!(
            json(r#"{"timestamp": 1e30, "value": 1, "series": "s"}"#),
            Ok(format!("s value=1.0 {}", i64::MAX))
        );
        assert_eq!(
            json(r#"{"value": 1, "series": "s"}"#),
            Err("missing required field: timestamp".into())
        );
        assert_eq!(
            json(r#"{"timestamp": "1", "value": 1, "series": "s"}"#),
            Err("timestamp must be a number".into())
        );
        assert_eq!(
            json(r#"{"timestamp": 1, "value": "42", "series": "s"}"#),
            Err("value must be a number".into())
        );
        assert!(json(r#"{"timestamp": 1, "value": 1}"#)
            .expect_err("no series")
            .contains("--measurement"));
        assert_eq!(json("[1]"), Err("not a JSON object".into()));
    }

    #[test]
    fn json_extensions() {
        assert_eq!(
            json(
                r#"{"timestamp": 5, "series": "cpu", "tags": {"host": "a b", "e": ""},
                    "fields": {"ok": true, "n": {"int": -3}, "u": {"uint": 4}, "s": "say \"hi\""}}"#
            ),
            Ok(r#"cpu,host=a\ b n=-3i,ok=true,s="say \"hi\"",u=4u 5"#.into())
        );
        assert!(
            json(r#"{"timestamp": 5, "series": "cpu", "tags": {"h": 1}, "value": 1}"#).is_err()
        );
        assert!(json(r#"{"timestamp": 5, "series": "cpu", "fields": {"s": "a\nb"}}"#).is_err());
        assert!(
            json(r#"{"timestamp": 5, "series": "cpu", "fields": {"n": {"int": 1.5}}}"#).is_err()
        );
        let with_default = RecordOptions {
            measurement: Some("m".into()),
            ..opts()
        };
        assert_eq!(
            json_line(
                &serde_json::json!({"timestamp": 1, "value": 2}),
                &with_default
            ),
            Ok("m value=2.0 1".into())
        );
    }

    fn csv_layout(header: &str) -> Result<CsvLayout, String> {
        CsvLayout::new(header.split(','), &opts())
    }

    #[test]
    fn vctsdb_csv_rows() {
        let l = csv_layout("timestamp,value,series,region,datacenter").expect("layout");
        assert_eq!(
            l.line("1000,42.5,test_series,us-west,dc1".split(','), &opts()),
            Ok("test_series,region=us-west,datacenter=dc1 value=42.5 1000".into())
        );
        assert_eq!(
            l.line("2000,4.5e1,s,,dc2".split(','), &opts()),
            Ok("s,datacenter=dc2 value=45.0 2000".into())
        );
        assert_eq!(
            l.line("1000.0,1,s,a,b".split(','), &opts()),
            Err("timestamp: cannot parse '1000.0'".into())
        );
        assert_eq!(
            l.line("1,not_a_number,s,a,b".split(','), &opts()),
            Err("value: cannot parse 'not_a_number'".into())
        );
        assert!(l.line("1,NaN,s,a,b".split(','), &opts()).is_err());
        assert!(l.line("1,inf,s,a,b".split(','), &opts()).is_err());
        assert_eq!(
            l.line("1,2,s".split(','), &opts()),
            Err("3 fields, the header has 5".into())
        );
        assert!(csv_layout("time,value,series")
            .expect_err("no timestamp")
            .contains("must contain timestamp and value"));
        assert!(
            csv_layout("timestamp,value").is_err(),
            "no series, no --measurement"
        );
    }

    fn elements(doc: &str) -> Result<Vec<(usize, usize, String)>, String> {
        let mut it = JsonElements::new(doc.as_bytes(), 1 << 20);
        let mut out = Vec::new();
        while let Some(e) = it.next_element()? {
            out.push((
                e.index,
                e.line,
                String::from_utf8(e.bytes.expect("kept")).expect("utf8"),
            ));
        }
        Ok(out)
    }

    #[test]
    fn json_documents_split_into_elements() {
        assert_eq!(elements("[]"), Ok(vec![]));
        assert_eq!(elements("  "), Ok(vec![]));
        assert_eq!(
            elements("[{\"a\":\"]}\\\"\"},\n 1, \"x\" ,[2]]"),
            Ok(vec![
                (0, 1, "{\"a\":\"]}\\\"\"}".into()),
                (1, 2, "1".into()),
                (2, 2, "\"x\"".into()),
                (3, 2, "[2]".into())
            ])
        );
        assert_eq!(
            elements("{\"a\":1}\n{\"b\":2}"),
            Ok(vec![(0, 1, "{\"a\":1}".into()), (1, 2, "{\"b\":2}".into())])
        );
        assert!(elements("42").is_err());
        assert!(elements("[{}").is_err());
        assert!(elements("[{} {}]").is_err());
        assert!(elements("[,]").is_err());
        assert!(elements("[] x").is_err());
        let mut it = JsonElements::new(&b"[{\"a\": \"long\"}, {}]"[..], 4);
        assert!(it.next_element().expect("ok").expect("one").bytes.is_err());
        assert_eq!(
            it.next_element().expect("ok").expect("two").bytes,
            Ok(b"{}".to_vec())
        );
    }

    /// Parse a line back with the engine's parser: (measurement, tags, value, timestamp).
    fn parse_back(line: &str) -> (String, Vec<(String, String)>, f64, i64) {
        let p =
            strata::lineproto::parse(line, strata::lineproto::Precision::Nanosecond, 0, 1 << 20);
        assert!(p.errors.is_empty(), "{line}: {:?}", p.errors);
        let pt = &p.points[0];
        let tags = pt.tags.to_vec();
        let v = match pt.fields.first() {
            Some((k, strata::types::FieldValue::Float(f))) if &**k == "value" => *f,
            other => panic!("{line}: value {other:?}"),
        };
        (
            pt.measurement.to_string(),
            tags,
            v,
            pt.timestamp.unwrap_or(0),
        )
    }

    proptest! {
        /// Any record the JSON parser accepts is a line the engine reads back as the same point.
        #[test]
        fn json_records_read_back(
            m in "[a-zA-Z0-9 ,=_\\\\\"-]{1,12}",
            tag in "[a-zA-Z0-9 ,=_-]{1,8}",
            ts in any::<i64>(),
            v in any::<f64>().prop_filter("finite", |v| v.is_finite()),
        ) {
            let doc = serde_json::json!({"timestamp": ts, "value": v, "series": m, "tags": {"t": tag}});
            let line = match json_line(&doc, &opts()) {
                Err(_) => {
                    prop_assert!(m.ends_with('\\'));
                    return Ok(());
                }
                Ok(line) => line,
            };
            let (pm, ptags, pv, pts) = parse_back(&line);
            prop_assert_eq!(pm, m);
            prop_assert_eq!(ptags, vec![("t".to_string(), tag)]);
            prop_assert_eq!(pv.to_bits(), v.to_bits());
            prop_assert_eq!(pts, ts);
        }

        /// Any CSV row is either refused with a reason or read back as the same point.
        #[test]
        fn csv_rows_read_back_or_are_refused(
            ts in "[-+0-9.e]{1,20}",
            v in "[-+0-9.eainfNI]{1,12}",
            series in "[a-z ,=]{0,6}",
            region in "[a-z ,=]{0,6}",
        ) {
            let l = csv_layout("timestamp,value,series,region").expect("layout");
            let row = [ts.as_str(), v.as_str(), series.as_str(), region.as_str()];
            match l.line(row, &opts()) {
                Err(reason) => prop_assert!(!reason.is_empty()),
                Ok(line) => {
                    let (pm, ptags, pv, pts) = parse_back(&line);
                    prop_assert_eq!(pm, series);
                    let want: Vec<(String, String)> = if region.is_empty() {
                        vec![]
                    } else {
                        vec![("region".into(), region)]
                    };
                    prop_assert_eq!(ptags, want);
                    prop_assert_eq!(pv.to_bits(), v.parse::<f64>().expect("parsed").to_bits());
                    prop_assert_eq!(pts, ts.parse::<i64>().expect("parsed"));
                }
            }
        }

        /// Splitting never panics, and a well-formed array of objects gives its elements back.
        #[test]
        fn json_split_round_trips(values in proptest::collection::vec(any::<i32>(), 0..8), junk in ".{0,40}") {
            let objs: Vec<String> = values.iter().map(|v| format!("{{\"v\": {v}, \"s\": \"]\\\"}}\"}}")).collect();
            let doc = format!("[{}]", objs.join(",\n"));
            let got = elements(&doc).expect("well-formed");
            let texts: Vec<String> = got.into_iter().map(|(_, _, t)| t).collect();
            prop_assert_eq!(texts, objs);
            let _ = elements(&junk);
        }
    }
}
