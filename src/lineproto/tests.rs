use super::*;
use crate::types::FieldValue::{Boolean, Float, Integer, String as Str, Unsigned};
use proptest::prelude::*;

const DEFAULT_TS: i64 = 1_700_000_000_123_456_789;
const LIMIT: usize = 65_536;

fn parse_ns(input: &str) -> Parsed {
    parse(input, Precision::Nanosecond, DEFAULT_TS, LIMIT)
}

/// Parse a body that must be exactly one good line.
/// Field names and values as owned strings, to compare with literals.
fn owned(fields: &[(std::sync::Arc<str>, FieldValue)]) -> Vec<(String, FieldValue)> {
    fields
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect()
}

fn one(input: &str) -> ParsedPoint {
    let mut parsed = parse_ns(input);
    assert_eq!(parsed.errors, vec![], "input {input:?}");
    assert_eq!(parsed.points.len(), 1, "input {input:?}");
    parsed.points.remove(0)
}

/// Parse a body that must be exactly one bad line; returns its message.
fn err(input: &str) -> String {
    let parsed = parse_ns(input);
    assert_eq!(parsed.points, vec![], "input {input:?}");
    assert_eq!(parsed.errors.len(), 1, "input {input:?}");
    parsed.errors[0].message.clone()
}

fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn field(input: &str) -> FieldValue {
    let p = one(&format!("m v={input}"));
    assert_eq!(p.fields.len(), 1);
    p.fields[0].1.clone()
}

#[test]
fn simple_line() {
    let p = one("cpu,host=a,region=eu usage=1.5,count=3i 1000");
    assert_eq!(&*p.measurement, "cpu");
    assert_eq!(p.tags.to_vec(), tags(&[("host", "a"), ("region", "eu")]));
    assert_eq!(
        owned(&p.fields),
        vec![
            ("usage".to_string(), Float(1.5)),
            ("count".to_string(), Integer(3))
        ]
    );
    assert_eq!(p.timestamp, Some(1000));
}

#[test]
fn no_tags_and_default_timestamp() {
    let p = one("cpu value=1");
    assert_eq!(&*p.measurement, "cpu");
    assert!(p.tags.is_empty());
    assert_eq!(owned(&p.fields), vec![("value".to_string(), Float(1.0))]);
    assert_eq!(p.timestamp, Some(DEFAULT_TS));
}

#[test]
fn default_timestamp_is_truncated_to_precision() {
    let p = parse("m v=1", Precision::Second, DEFAULT_TS, LIMIT);
    assert_eq!(p.points[0].timestamp, Some(1_700_000_000_000_000_000));
    let p = parse("m v=1", Precision::Millisecond, -1, LIMIT);
    assert_eq!(p.points[0].timestamp, Some(-1_000_000));
    let p = parse("m v=1", Precision::Hour, i64::MIN, LIMIT);
    assert_eq!(p.errors, vec![]);
}

#[test]
fn tags_are_sorted() {
    let p = one("m,z=1,a=2,m=3 v=1");
    assert_eq!(p.tags.to_vec(), tags(&[("a", "2"), ("m", "3"), ("z", "1")]));
}

#[test]
fn duplicate_tags_are_rejected() {
    assert_eq!(err("m,a=1,a=2 v=1"), "duplicate tags");
    assert_eq!(err("m,b=1,a=2,b=3 v=1"), "duplicate tags");
}

#[test]
fn duplicate_fields_later_wins() {
    let p = one("m a=1,b=2,a=3");
    assert_eq!(
        owned(&p.fields),
        vec![("a".to_string(), Float(3.0)), ("b".to_string(), Float(2.0))]
    );
    // Many fields take the hash-map path.
    let line = format!(
        "m {},f3=99i",
        (0..40)
            .map(|i| format!("f{i}={i}i"))
            .collect::<Vec<_>>()
            .join(",")
    );
    let p = one(&line);
    assert_eq!(p.fields.len(), 40);
    assert_eq!(owned(&p.fields)[3], ("f3".to_string(), Integer(99)));
    assert_eq!(owned(&p.fields)[39], ("f39".to_string(), Integer(39)));
}

#[test]
fn measurement_escapes() {
    assert_eq!(&*one(r"my\ cpu\,x v=1").measurement, "my cpu,x");
    // '=' is not special in a measurement and `\=` is kept as written.
    assert_eq!(&*one(r"a=b v=1").measurement, "a=b");
    assert_eq!(&*one(r"a\=b v=1").measurement, r"a\=b");
    // Any other backslash is kept.
    assert_eq!(&*one(r"a\b\\c v=1").measurement, r"a\b\\c");
    // A backslash escapes the next character even when it follows a backslash.
    assert_eq!(&*one(r"a\\,b v=1").measurement, r"a\,b");
    assert_eq!(
        &*one("cp\u{e9}\u{1f980} v=1").measurement,
        "cp\u{e9}\u{1f980}"
    );
}

#[test]
fn tag_escapes() {
    let p = one(r"m,k\ 1\,\==v\ 1\,\=x,plain=a\b v=1");
    assert_eq!(
        p.tags.to_vec(),
        tags(&[("k 1,=", "v 1,=x"), ("plain", r"a\b")])
    );
    // '=' may start a tag value (as in InfluxDB 1.x).
    assert_eq!(one("m,a==b v=1").tags.to_vec(), tags(&[("a", "=b")]));
}

#[test]
fn field_key_escapes() {
    let p = one(r"m f\ 1\,\=x=1i");
    assert_eq!(owned(&p.fields), vec![("f 1,=x".to_string(), Integer(1))]);
    // Quotes are not special in field keys.
    assert_eq!(&*one(r#"m "k"=1i"#).fields[0].0, r#""k""#);
}

#[test]
fn string_fields() {
    assert_eq!(field(r#""hello world""#), Str("hello world".into()));
    assert_eq!(field(r#""""#), Str(String::new()));
    assert_eq!(field(r#""a,b=c d""#), Str("a,b=c d".into()));
    assert_eq!(field(r#""say \"hi\"""#), Str(r#"say "hi""#.into()));
    assert_eq!(field(r#""back\\slash""#), Str(r"back\slash".into()));
    assert_eq!(field(r#""keep\n\x""#), Str(r"keep\n\x".into()));
    assert_eq!(field(r#""ends\\""#), Str(r"ends\".into()));
    assert_eq!(
        field("\"\u{65e5}\u{672c}\""),
        Str("\u{65e5}\u{672c}".into())
    );
    let p = one(r#"m s="x y",n=1i 5"#);
    assert_eq!(p.fields[0].1, Str("x y".into()));
    assert_eq!(p.timestamp, Some(5));
}

#[test]
fn float_fields() {
    assert_eq!(field("1"), Float(1.0));
    assert_eq!(field("1.0"), Float(1.0));
    assert_eq!(field("-1.5e3"), Float(-1500.0));
    assert_eq!(field("1e-3"), Float(0.001));
    assert_eq!(field("1E+2"), Float(100.0));
    assert_eq!(field(".5"), Float(0.5));
    assert_eq!(field("5."), Float(5.0));
    assert_eq!(field("-0"), Float(-0.0));
    assert_eq!(field("0.1"), Float(0.1));
    assert_eq!(field("1e-400"), Float(0.0));
}

#[test]
fn integer_and_unsigned_fields() {
    assert_eq!(field("12i"), Integer(12));
    assert_eq!(field("-12i"), Integer(-12));
    assert_eq!(field("9223372036854775807i"), Integer(i64::MAX));
    assert_eq!(field("-9223372036854775808i"), Integer(i64::MIN));
    assert_eq!(field("12u"), Unsigned(12));
    assert_eq!(field("18446744073709551615u"), Unsigned(u64::MAX));
}

#[test]
fn boolean_fields() {
    for t in ["t", "T", "true", "True", "TRUE"] {
        assert_eq!(field(t), Boolean(true), "{t}");
    }
    for f in ["f", "F", "false", "False", "FALSE"] {
        assert_eq!(field(f), Boolean(false), "{f}");
    }
}

#[test]
fn invalid_booleans() {
    for v in ["tru", "tRUE", "yes", "fals", "abc", "'x'"] {
        assert_eq!(err(&format!("m v={v}")), "invalid boolean", "{v}");
    }
}

#[test]
fn invalid_numbers() {
    for v in [
        "1.1.1", "1i2", "1.5i", "1e3i", "-i", "i", "-", "-u", "-1u", "1.5u", "NaN", "nan", "Inf",
        "-Inf", "inf", "+1", "1x", "1-2", "1e", "1e5e5", ".", "-.", "1_0", "0x10", "1\\,2",
    ] {
        assert_eq!(err(&format!("m v={v}")), "invalid number", "{v}");
    }
}

#[test]
fn out_of_range_numbers() {
    assert_eq!(
        err("m v=9223372036854775808i"),
        "field value out of range for integer"
    );
    assert_eq!(
        err("m v=-9223372036854775809i"),
        "field value out of range for integer"
    );
    assert_eq!(
        err("m v=18446744073709551616u"),
        "field value out of range for unsigned"
    );
    assert_eq!(err("m v=1e400"), "field value out of range for float");
    assert_eq!(err("m v=-1e400"), "field value out of range for float");
}

#[test]
fn structural_errors() {
    let cases = [
        (",a=b v=1", "missing measurement"),
        ("cpu", "missing fields"),
        ("cpu ", "missing fields"),
        ("cpu   \t", "missing fields"),
        ("cpu,a=b", "missing fields"),
        ("cpu,a=b ", "missing fields"),
        ("cpu,", "missing tag key"),
        ("cpu,=b v=1", "missing tag key"),
        ("cpu,a=b, v=1", "missing tag key"),
        ("cpu,,a=b v=1", "missing tag key"),
        ("cpu,a v=1", "missing tag value"),
        ("cpu,a,b=c v=1", "missing tag value"),
        ("cpu,a= v=1", "missing tag value"),
        ("cpu,a=,b=c v=1", "missing tag value"),
        ("cpu,a=b=c v=1", "invalid tag format"),
        ("cpu value", "invalid field format"),
        ("cpu a=1,b", "invalid field format"),
        ("cpu a=1,", "invalid field format"),
        ("cpu a=1,,b=2", "invalid field format"),
        ("cpu a=1, b=2", "invalid field format"),
        (r#"cpu a="x"y"#, "invalid field format"),
        ("cpu =1", "missing field key"),
        ("cpu a=1,=2", "missing field key"),
        ("cpu a=", "missing field value"),
        ("cpu a= 5", "missing field value"),
        ("cpu a=,b=1", "missing field value"),
        (r#"cpu a="unterminated"#, "unbalanced quotes"),
        (r#"cpu a="x\""#, "unbalanced quotes"),
        ("cpu a=1 12x", "bad timestamp"),
        ("cpu a=1 1.5", "bad timestamp"),
        ("cpu a=1 -", "bad timestamp"),
        ("cpu a=1 12\t", "bad timestamp"),
        ("cpu a=1 b=2", "bad timestamp"),
        ("cpu a=1 12 13", "point is invalid"),
        ("cpu a=1 99999999999999999999", "invalid timestamp"),
        ("cpu a=1 9223372036854775807", "invalid timestamp"),
        ("cpu a=1 -9223372036854775808", "invalid timestamp"),
    ];
    for (line, message) in cases {
        assert_eq!(err(line), message, "line {line:?}");
    }
}

#[test]
fn time_tag_and_field() {
    assert_eq!(
        err("cpu,time=1 v=1"),
        "invalid tag key: input tag \"time\" on measurement \"cpu\" is invalid"
    );
    assert_eq!(
        err("cpu time=1"),
        "invalid field name: input field \"time\" on measurement \"cpu\" is invalid"
    );
    assert_eq!(
        err("cpu time=1,time=2i"),
        "invalid field name: input field \"time\" on measurement \"cpu\" is invalid"
    );
    // Other fields survive; `time` is dropped.
    let p = one("cpu time=1,v=2");
    assert_eq!(owned(&p.fields), vec![("v".to_string(), Float(2.0))]);
    // `time` is a valid measurement.
    assert_eq!(&*one("time v=1").measurement, "time");
}

#[test]
fn timestamps_and_precision() {
    assert_eq!(one("m v=1 -5").timestamp, Some(-5));
    assert_eq!(one("m v=1 0").timestamp, Some(0));
    assert_eq!(one("m v=1 123   ").timestamp, Some(123));
    assert_eq!(one("m v=1    123").timestamp, Some(123));
    // Only a space ends a field value, so a tab there is part of the number (as in InfluxDB).
    assert_eq!(err("m v=1\t123"), "invalid number");
    assert_eq!(one("m v=1 \t123").timestamp, Some(123));
    let cases = [
        (Precision::Nanosecond, 7),
        (Precision::Microsecond, 7_000),
        (Precision::Millisecond, 7_000_000),
        (Precision::Second, 7_000_000_000),
        (Precision::Minute, 420_000_000_000),
        (Precision::Hour, 25_200_000_000_000),
    ];
    for (precision, nanos) in cases {
        let p = parse("m v=1 7", precision, 0, LIMIT);
        assert_eq!(p.points[0].timestamp, Some(nanos), "{precision:?}");
    }
    let p = parse("m v=1 9223372036854775", Precision::Hour, 0, LIMIT);
    assert_eq!(p.errors[0].message, "invalid timestamp");
    let p = parse("m v=1 -9223372036854775", Precision::Microsecond, 0, LIMIT);
    assert_eq!(p.points[0].timestamp, Some(-9_223_372_036_854_775_000));
}

#[test]
fn precision_parse_and_to_nanos() {
    assert_eq!(Precision::parse("n"), Some(Precision::Nanosecond));
    assert_eq!(Precision::parse("ns"), Some(Precision::Nanosecond));
    assert_eq!(Precision::parse("u"), Some(Precision::Microsecond));
    assert_eq!(Precision::parse("us"), Some(Precision::Microsecond));
    assert_eq!(Precision::parse("µ"), Some(Precision::Microsecond));
    assert_eq!(Precision::parse("ms"), Some(Precision::Millisecond));
    assert_eq!(Precision::parse("s"), Some(Precision::Second));
    assert_eq!(Precision::parse("m"), Some(Precision::Minute));
    assert_eq!(Precision::parse("h"), Some(Precision::Hour));
    assert_eq!(Precision::parse(""), None);
    assert_eq!(Precision::parse("x"), None);
    assert_eq!(Precision::parse("S"), None);
    assert_eq!(Precision::default(), Precision::Nanosecond);
    assert_eq!(Precision::Second.to_nanos(-2), Some(-2_000_000_000));
    assert_eq!(Precision::Nanosecond.to_nanos(i64::MAX), Some(i64::MAX));
    assert_eq!(Precision::Microsecond.to_nanos(i64::MAX), None);
    assert_eq!(Precision::Hour.to_nanos(i64::MIN / 1000), None);
}

#[test]
fn whitespace_tab_and_crlf() {
    let parsed = parse_ns("a v=1\r\nb v=2 10\r\n\r\nc v=\"x\"\r\n");
    assert_eq!(parsed.errors, vec![]);
    let names: Vec<_> = parsed.points.iter().map(|p| &*p.measurement).collect();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(parsed.points[1].timestamp, Some(10));
    assert_eq!(parsed.points[2].fields[0].1, Str("x".into()));
    // Leading whitespace is skipped; tabs are ordinary characters inside names.
    let p = one("  \tm\tx,t\tk=v\tw f\tk=1i");
    assert_eq!(&*p.measurement, "m\tx");
    assert_eq!(p.tags.to_vec(), tags(&[("t\tk", "v\tw")]));
    assert_eq!(&*p.fields[0].0, "f\tk");
    // Several spaces or tabs between the key and the fields.
    assert_eq!(&*one("m  \t v=1").fields[0].0, "v");
}

#[test]
fn comments_and_blank_lines() {
    let parsed = parse_ns("# a comment\n\n   \n  # indented comment\n#m v=1\nm v=1\n\n");
    assert_eq!(parsed.errors, vec![]);
    assert_eq!(parsed.points.len(), 1);
    assert_eq!(parse_ns(""), Parsed::default());
    assert_eq!(parse_ns("\n\r\n"), Parsed::default());
}

#[test]
fn partial_failure_keeps_good_lines_with_line_numbers() {
    let body = "good v=1\nbad\n# comment\n\ngood v=2 5\r\nbad,x v=1\r\nalso v=\"ok\"";
    let parsed = parse_ns(body);
    assert_eq!(parsed.points.len(), 3);
    assert_eq!(parsed.lines, vec![1, 5, 7]);
    assert_eq!(parsed.points[1].timestamp, Some(5));
    assert_eq!(
        parsed.errors,
        vec![
            LineError {
                line: 2,
                text: "bad".into(),
                message: "missing fields".into()
            },
            LineError {
                line: 6,
                text: "bad,x v=1".into(),
                message: "missing tag value".into()
            },
        ]
    );
    assert_eq!(
        parsed.errors[1].to_string(),
        "unable to parse 'bad,x v=1' (line 6): missing tag value"
    );
}

#[test]
fn line_too_long() {
    let long = format!("m v=\"{}\"", "x".repeat(100));
    let parsed = parse(&format!("m v=1\n{long}\r\n"), Precision::Nanosecond, 0, 100);
    assert_eq!(parsed.points.len(), 1);
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].line, 2);
    assert_eq!(
        parsed.errors[0].message,
        "line too long (106 bytes, limit 100)"
    );
    // Exactly at the limit is fine.
    let parsed = parse(&long, Precision::Nanosecond, 0, long.len());
    assert_eq!(parsed.errors, vec![]);
}

#[test]
fn error_text_is_truncated_on_a_char_boundary() {
    let line = format!("m v={}", "\u{e9}".repeat(300));
    let parsed = parse_ns(&line);
    let text = &parsed.errors[0].text;
    assert!(text.len() <= 200 && text.len() >= 197, "{}", text.len());
    assert!(line.starts_with(text.as_str()));
    // Short lines are kept whole, without leading whitespace.
    assert_eq!(parse_ns("  bad").errors[0].text, "bad");
}

#[test]
fn write_point_escapes() {
    let p = ParsedPoint {
        measurement: "my m,=x".into(),
        tags: tags(&[("a b", "c,d=e"), ("k", r"back\slash")]).into(),
        fields: vec![
            ("f =,".into(), Float(1.0)),
            ("i".into(), Integer(-3)),
            ("u".into(), Unsigned(4)),
            ("b".into(), Boolean(true)),
            ("s".into(), Str(r#"q"b\ ,="#.into())),
            ("big".into(), Float(1e300)),
            ("small".into(), Float(-2.5e-10)),
        ],
        timestamp: Some(-7),
    };
    let mut out = String::new();
    write_point(&mut out, &p);
    assert_eq!(
        out,
        r#"my\ m\,=x,a\ b=c\,d\=e,k=back\slash f\ \=\,=1.0,i=-3i,u=4u,b=true,s="q\"b\\ ,=",big=1e300,small=-2.5e-10 -7"#
    );
    assert_eq!(one(&out), p);
    let mut out = String::new();
    write_point(
        &mut out,
        &ParsedPoint {
            timestamp: None,
            ..p.clone()
        },
    );
    assert!(out.ends_with("small=-2.5e-10"));
}

// ----- property tests -----

/// A writer written independently of `write_point`, char by char, for the round trip.
fn reference_write(p: &ParsedPoint) -> String {
    fn esc(out: &mut String, s: &str, specials: &str) {
        for c in s.chars() {
            if specials.contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    let mut out = String::new();
    esc(&mut out, &p.measurement, ", ");
    for (k, v) in p.tags.iter() {
        out.push(',');
        esc(&mut out, k, ", =");
        out.push('=');
        esc(&mut out, v, ", =");
    }
    for (i, (k, v)) in p.fields.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        esc(&mut out, k, ", =");
        out.push('=');
        match v {
            Float(x) => out.push_str(&format!("{x:?}")),
            Integer(x) => out.push_str(&format!("{x}i")),
            Unsigned(x) => out.push_str(&format!("{x}u")),
            Boolean(x) => out.push_str(if *x { "true" } else { "false" }),
            Str(s) => {
                out.push('"');
                esc(&mut out, s, "\"\\");
                out.push('"');
            }
        }
    }
    if let Some(ts) = p.timestamp {
        out.push_str(&format!(" {ts}"));
    }
    out
}

/// Names drawn from an alphabet rich in the characters line protocol cares about. A name must
/// be non-empty and cannot end with a backslash (line protocol has no way to write that).
fn name() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            4 => proptest::char::range('a', 'z'),
            1 => prop::sample::select(vec![
                ',', '=', '"', '\\', ' ', '\t', '#', '\'', '\u{e9}', '\u{65e5}', '\u{1f980}', '0',
                '-', '.'
            ]),
        ],
        1..12,
    )
    .prop_map(|cs| cs.into_iter().collect::<String>())
    .prop_filter("cannot end with a backslash", |s| !s.ends_with('\\'))
}

fn field_value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Float),
        (-1e6f64..1e6).prop_map(|f| Float((f * 100.0).round() / 100.0)),
        any::<i64>().prop_map(Integer),
        any::<u64>().prop_map(Unsigned),
        any::<bool>().prop_map(Boolean),
        "[^\n\r]{0,20}".prop_map(Str),
        proptest::collection::vec(
            prop::sample::select(vec!['"', '\\', ' ', ',', '=', 'x']),
            0..8
        )
        .prop_map(|cs| Str(cs.into_iter().collect())),
    ]
}

fn point() -> impl Strategy<Value = ParsedPoint> {
    (
        name().prop_filter("not a comment, no leading tab", |m| {
            !m.starts_with('#') && !m.starts_with('\t')
        }),
        proptest::collection::btree_map(name(), name(), 0..5),
        proptest::collection::vec(
            (
                name().prop_filter("no leading tab", |k| !k.starts_with('\t')),
                field_value(),
            ),
            1..6,
        ),
        proptest::option::of(MIN_NANOS..=MAX_NANOS),
    )
        .prop_filter_map(
            "no `time` keys",
            |(measurement, tags, fields, timestamp)| {
                if tags.contains_key("time") || fields.iter().any(|(k, _)| k == "time") {
                    return None;
                }
                let mut unique: Vec<(String, FieldValue)> = Vec::new();
                for (k, v) in fields {
                    if !unique.iter().any(|(e, _)| *e == k) {
                        unique.push((k, v));
                    }
                }
                let tags: Vec<(String, String)> = tags.into_iter().collect();
                Some(ParsedPoint::new(&measurement, tags, unique, timestamp))
            },
        )
}

/// What parsing gives back: a missing timestamp becomes the default.
fn expected(p: &ParsedPoint) -> ParsedPoint {
    ParsedPoint {
        timestamp: Some(p.timestamp.unwrap_or(DEFAULT_TS)),
        ..p.clone()
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn round_trip(points in proptest::collection::vec(point(), 1..6), crlf in any::<bool>()) {
        let mut body = String::new();
        for p in &points {
            write_point(&mut body, p);
            body.push_str(if crlf { "\r\n" } else { "\n" });
            prop_assert_eq!(reference_write(p), {
                let mut s = String::new();
                write_point(&mut s, p);
                s
            });
        }
        let parsed = parse_ns(&body);
        prop_assert_eq!(parsed.errors, vec![], "body {:?}", body);
        let want: Vec<ParsedPoint> = points.iter().map(expected).collect();
        prop_assert_eq!(parsed.points, want, "body {:?}", body);
    }

    #[test]
    fn duplicate_fields_round_trip(p in point(), extra in field_value()) {
        // Repeating the first field key at the end replaces its value in place.
        let mut line = String::new();
        write_point(&mut line, &ParsedPoint { timestamp: None, ..p.clone() });
        let mut dup = String::new();
        write_point(&mut dup, &ParsedPoint {
            measurement: "x".into(),
            tags: Vec::new().into(),
            fields: vec![(p.fields[0].0.clone(), extra.clone())],
            timestamp: None,
        });
        if let Some(pos) = dup.find(' ') {
            line.push(',');
            line.push_str(&dup[pos + 1..]);
        }
        let mut want = expected(&ParsedPoint { timestamp: None, ..p });
        want.fields[0].1 = extra;
        prop_assert_eq!(one(&line), want);
    }

    #[test]
    fn never_panics_on_arbitrary_strings(s in any::<String>()) {
        let parsed = parse(&s, Precision::Millisecond, 0, 1024);
        for e in &parsed.errors {
            prop_assert!(e.line >= 1);
            prop_assert!(e.text.len() <= 200);
        }
    }

    #[test]
    fn never_panics_on_line_protocol_noise(
        s in "[a-z0-9 ,=\"\\\\#\t\r\n.eiuTF+-]{0,80}",
        precision in prop::sample::select(vec![
            Precision::Nanosecond, Precision::Second, Precision::Hour
        ]),
        default_ts in any::<i64>(),
    ) {
        let parsed = parse(&s, precision, default_ts, 64);
        let lines = s.split('\n').count();
        for e in &parsed.errors {
            prop_assert!(e.line >= 1 && e.line <= lines);
        }
        for p in &parsed.points {
            prop_assert!(!p.measurement.is_empty());
            prop_assert!(!p.fields.is_empty());
            prop_assert!(p.tags.windows(2).all(|w| w[0].0 < w[1].0));
        }
    }
}

/// Lines of one body with the same series text share one measurement and tags allocation,
/// and field names spelt the same share one name; a different text of the same series (tags
/// in another order) parses to equal values; a line whose series text has no fields is
/// still an error after the same text parsed well.
#[test]
fn lines_of_one_series_share_their_parsed_series() {
    let p = parse_ns(
        "cpu,b=2,a=1 x=1,y=2 1\ncpu,b=2,a=1 y=3 2\ncpu,a=1,b=2 x=4 3\ncpu,b=2,a=1\ncpu,b=2,a=1 x=5 4\n",
    );
    assert_eq!(p.errors.len(), 1);
    assert_eq!(
        (p.errors[0].line, p.errors[0].message.as_str()),
        (4, "missing fields")
    );
    let pts = &p.points;
    assert_eq!(pts.len(), 4);
    assert!(std::sync::Arc::ptr_eq(&pts[0].tags, &pts[1].tags));
    assert!(std::sync::Arc::ptr_eq(&pts[0].tags, &pts[3].tags));
    assert!(std::sync::Arc::ptr_eq(
        &pts[0].measurement,
        &pts[1].measurement
    ));
    assert!(!std::sync::Arc::ptr_eq(&pts[0].tags, &pts[2].tags));
    // Another series text naming the same measurement shares its measurement name.
    assert!(std::sync::Arc::ptr_eq(
        &pts[0].measurement,
        &pts[2].measurement
    ));
    assert_eq!(pts[0].tags, pts[2].tags);
    assert_eq!(pts[0].series_key(), pts[2].series_key());
    assert_eq!(pts[0].tags.to_vec(), tags(&[("a", "1"), ("b", "2")]));
    // Field names: "x" of lines 1, 3 and 5, "y" of lines 1 and 2.
    assert!(std::sync::Arc::ptr_eq(
        &pts[0].fields[0].0,
        &pts[2].fields[0].0
    ));
    assert!(std::sync::Arc::ptr_eq(
        &pts[0].fields[1].0,
        &pts[1].fields[0].0
    ));
    assert_eq!(owned(&pts[3].fields), vec![("x".to_string(), Float(5.0))]);
    // Series of one measurement share its name (escaped or not); another has its own.
    let p = parse_ns("a\\ b,t=1 x=1 1\nmem,t=1 x=1 1\na\\ b,t=2 x=1 1\na\\ b x=1 1\n");
    assert_eq!(p.points.len(), 4, "{:?}", p.errors);
    assert_eq!(&*p.points[0].measurement, "a b");
    for i in [2, 3] {
        assert!(std::sync::Arc::ptr_eq(
            &p.points[0].measurement,
            &p.points[i].measurement
        ));
    }
    assert_eq!(&*p.points[1].measurement, "mem");
}

proptest! {
    /// The short-decimal fast path returns exactly what `str::parse::<f64>` does, and takes
    /// nothing the general path would reject.
    #[test]
    fn short_decimals_parse_exactly(
        neg in any::<bool>(),
        int in "[0-9]{0,17}",
        frac in proptest::option::of("[0-9]{0,24}"),
    ) {
        let token = format!(
            "{}{int}{}",
            if neg { "-" } else { "" },
            frac.as_ref().map_or(String::new(), |f| format!(".{f}"))
        );
        match short_decimal(&token) {
            Some(v) => {
                let want: f64 = token.parse().unwrap();
                prop_assert_eq!(v.to_bits(), want.to_bits(), "{}", token);
                prop_assert_eq!(parse_number(&token), Ok(Float(want)));
            }
            // Out of the fast path's range (or not a number): the general path decides.
            None => prop_assert!(
                int.len() + frac.as_ref().map_or(0, String::len) == 0
                    || int.len() + frac.as_ref().map_or(0, String::len) > 15
                    || frac.as_ref().is_some_and(|f| f.len() > 22),
                "{}", token
            ),
        }
    }

    /// `series_end` finds what scanning for the first unescaped space finds.
    #[test]
    fn series_end_is_the_first_unescaped_space(
        line in proptest::collection::vec(prop::sample::select(vec![b'a', b' ', b'\\', b',', b'=']), 1..40)
    ) {
        let (end, stop, _) = scan_name(&line, 0, b" ");
        prop_assert_eq!(series_end(&line), (end, stop));
    }
}

#[test]
fn short_decimal_edges() {
    let cases: [(&str, f64); 7] = [
        ("0", 0.0),
        ("-0.00", -0.0),
        ("1.", 1.0),
        (".5", 0.5),
        ("12.34", 12.34),
        ("9007199254740991", 9_007_199_254_740_991.0),
        ("0.000000000000001", 0.000000000000001),
    ];
    for (t, v) in cases {
        let got = short_decimal(t).unwrap_or_else(|| panic!("{t} not on the fast path"));
        assert_eq!(got.to_bits(), v.to_bits(), "{t}");
    }
    for t in [
        "",
        "-",
        ".",
        "-.",
        "1.2.3",
        "1e5",
        "+1",
        "9007199254740992",
        "1.0000000000000000000000",
        "12345678901234567",
        "0.1000000000000000000001",
        "inf",
        "NaN",
        "1_0",
    ] {
        assert_eq!(short_decimal(t), None, "{t}");
    }
    // What the fast path leaves alone still parses (or fails) the general way.
    assert_eq!(parse_number("1e5"), Ok(Float(1e5)));
    assert_eq!(
        parse_number("12345678901234567"),
        Ok(Float(12345678901234567.0))
    );
    assert!(parse_number(".").is_err());
    assert!(parse_number("-").is_err());
}
