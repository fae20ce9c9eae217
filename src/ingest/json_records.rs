//! vctsdb's JSON (`shared/INGEST_FORMATS.md` §2.2): one element (`{"timestamp":…, "value":…,
//! "series":…}` plus the `tags` and `fields` extensions) to a line of line protocol, and the
//! reader that splits a document (an array of objects, or objects one after another) into its
//! elements, holding one at a time.

use std::io::BufRead;

use serde_json::Value;

use super::{finite, float_text, line, quote_string_field, RecordOptions};

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
        _ => return Err("missing required field: series (or give a default measurement: --measurement to strata import, ?measurement= to /write)".into()),
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
                        "line {}: the document ends inside the array (a missing ']')",
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
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    pub(in crate::ingest) fn opts() -> RecordOptions {
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
    pub(in crate::ingest) fn parse_back(line: &str) -> (String, Vec<(String, String)>, f64, i64) {
        let p = crate::lineproto::parse(line, crate::lineproto::Precision::Nanosecond, 0, 1 << 20);
        assert!(p.errors.is_empty(), "{line}: {:?}", p.errors);
        let pt = &p.points[0];
        let tags = pt.tags.to_vec();
        let v = match pt.fields.first() {
            Some((k, crate::types::FieldValue::Float(f))) if &**k == "value" => *f,
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

        /// Whatever the names and string value (control characters, `#`, backslashes, empty
        /// ones), an element either is refused with a reason or becomes a line the engine
        /// reads back as exactly that point: nothing is renamed, dropped or made up.
        #[test]
        fn json_records_with_any_names_read_back_or_are_refused(
            m in "(?s).{0,6}",
            tag_key in "(?s).{0,4}",
            tag_value in "(?s).{0,4}",
            field in "(?s).{0,4}",
            text in "(?s).{0,6}",
        ) {
            let doc = serde_json::json!({
                "timestamp": 1, "series": m, "tags": {tag_key.clone(): tag_value.clone()},
                "fields": {field.clone(): text.clone()},
            });
            let line = match json_line(&doc, &opts()) {
                Err(reason) => {
                    prop_assert!(!reason.is_empty());
                    return Ok(());
                }
                Ok(line) => line,
            };
            let p = crate::lineproto::parse(&line, crate::lineproto::Precision::Nanosecond, 0, 1 << 20);
            prop_assert!(p.errors.is_empty(), "{:?} from {:?}: {:?}", line, doc, p.errors);
            prop_assert_eq!(p.points.len(), 1, "{:?}", line);
            let pt = &p.points[0];
            prop_assert_eq!(&*pt.measurement, m.as_str());
            let want_tags = if tag_value.is_empty() { vec![] } else { vec![(tag_key, tag_value)] };
            prop_assert_eq!(pt.tags.to_vec(), want_tags);
            prop_assert_eq!(pt.fields.len(), 1);
            prop_assert_eq!(&*pt.fields[0].0, field.as_str());
            prop_assert_eq!(&pt.fields[0].1, &crate::types::FieldValue::String(text));
            prop_assert_eq!(pt.timestamp, Some(1));
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
