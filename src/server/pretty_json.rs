//! `pretty=true` on `/query`: the compact JSON answer re-indented as InfluxDB 1.x indents it
//! (Go's `json.MarshalIndent` with four spaces: members and elements one a line, `": "` after a
//! key, empty objects and arrays kept as `{}` and `[]`, order kept), straight from the text.
//!
//! Nothing is parsed into a tree: [`pretty_len`] counts the indented size in one pass without
//! allocating, so the caller charges it to `query_memory_limit` before [`pretty`] makes it at
//! that exact capacity.

use std::fmt;

use super::answer_budget::ByteCount;

/// The indentation of one level.
const INDENT: &str = "    ";

/// A line break, then `depth` levels of `indent`.
fn newline(out: &mut impl fmt::Write, depth: usize, indent: &str) -> fmt::Result {
    out.write_char('\n')?;
    for _ in 0..depth {
        out.write_str(indent)?;
    }
    Ok(())
}

/// Re-indent `compact` (JSON with no whitespace outside strings, as strata renders answers)
/// into `out` (a [`ByteCount`] sizes it), `indent` a level. Text inside strings is copied as it
/// is, escapes included.
fn walk(compact: &str, indent: &str, out: &mut impl fmt::Write) -> fmt::Result {
    let bytes = compact.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // The start of the text not yet written (copied in runs, not byte by byte).
    let mut run = 0;
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'{' | b'[' | b'}' | b']' | b',' | b':' => {
                out.write_str(&compact[run..i])?;
                match b {
                    b'{' | b'[' => {
                        let close = if b == b'{' { b'}' } else { b']' };
                        if bytes.get(i + 1) == Some(&close) {
                            // Empty: `{}` or `[]` as it is.
                            out.write_str(&compact[i..i + 2])?;
                            i += 1;
                        } else {
                            out.write_str(&compact[i..=i])?;
                            depth += 1;
                            newline(out, depth, indent)?;
                        }
                    }
                    b'}' | b']' => {
                        depth = depth.saturating_sub(1);
                        newline(out, depth, indent)?;
                        out.write_str(&compact[i..=i])?;
                    }
                    b',' => {
                        out.write_char(',')?;
                        newline(out, depth, indent)?;
                    }
                    _ => out.write_str(": ")?,
                }
                run = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    out.write_str(&compact[run.min(compact.len())..])
}

/// The length of [`pretty`]`(compact)`, counted without allocating.
pub fn pretty_len(compact: &str) -> usize {
    let mut count = ByteCount(0);
    let _ = walk(compact, INDENT, &mut count);
    count.0
}

/// `compact` indented as 1.x's `pretty=true` answers are, in a string of exactly
/// [`pretty_len`] bytes.
pub fn pretty(compact: &str) -> String {
    let mut out = String::with_capacity(pretty_len(compact));
    let _ = walk(compact, INDENT, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn an_answer_is_indented_as_go_indents_it() {
        let compact = r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","columns":["time","v"],"values":[["1970-01-01T00:00:00Z",1.5],["x",null]]}],"messages":[],"tags":{}}]}"#;
        let expected = r#"{
    "results": [
        {
            "statement_id": 0,
            "series": [
                {
                    "name": "cpu",
                    "columns": [
                        "time",
                        "v"
                    ],
                    "values": [
                        [
                            "1970-01-01T00:00:00Z",
                            1.5
                        ],
                        [
                            "x",
                            null
                        ]
                    ]
                }
            ],
            "messages": [],
            "tags": {}
        }
    ]
}"#;
        assert_eq!(pretty(compact), expected);
        assert_eq!(pretty_len(compact), expected.len());
    }

    #[test]
    fn strings_are_copied_as_they_are() {
        let compact = r#"{"error":"a \"quoted\", {braced} [x]: y\\","k\\\"":"\u0000"}"#;
        let expected = "{\n    \"error\": \"a \\\"quoted\\\", {braced} [x]: y\\\\\",\n    \"k\\\\\\\"\": \"\\u0000\"\n}";
        assert_eq!(pretty(compact), expected);
    }

    /// JSON values as serde_json renders them compactly (object keys in insertion order are not
    /// needed: the comparison is of values).
    fn json_value() -> impl Strategy<Value = serde_json::Value> {
        let leaf = prop_oneof![
            Just(serde_json::Value::Null),
            any::<bool>().prop_map(serde_json::Value::Bool),
            any::<i64>().prop_map(|n| serde_json::json!(n)),
            "[ -~\\PC]{0,12}".prop_map(serde_json::Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(serde_json::Value::Array),
                prop::collection::btree_map("[ -~\\PC]{0,8}", inner, 0..6)
                    .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Any compact JSON re-indents to the same value, at the length counted first, and in
        /// the layout of serde's pretty printer (two spaces a level; otherwise Go's layout).
        #[test]
        fn any_json_reindents_to_the_same_value(value in json_value()) {
            let compact = serde_json::to_string(&value).expect("json");
            let indented = pretty(&compact);
            prop_assert_eq!(indented.len(), pretty_len(&compact));
            let back: serde_json::Value = serde_json::from_str(&indented).expect("valid json");
            prop_assert_eq!(&back, &value);
            let mut two_spaces = String::new();
            walk(&compact, "  ", &mut two_spaces).expect("a String takes any text");
            prop_assert_eq!(two_spaces, serde_json::to_string_pretty(&value).expect("json"));
        }
    }
}
