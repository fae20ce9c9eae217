use super::*;
use proptest::prelude::*;

const NOW: i64 = 42;

fn one(line: &str) -> Result<ParsedPoint, String> {
    let p = parse(line, Precision::Nanosecond, NOW, 1 << 16);
    match (p.points.first(), p.errors.first()) {
        (Some(pt), None) => Ok(pt.clone()),
        (_, Some(e)) => Err(e.message.clone()),
        _ => Err("nothing parsed".into()),
    }
}

#[test]
fn full_line() {
    let p = one("cpu,region=eu,host=a usage=0.5,n=3i,u=7u,ok=t,msg=\"hi\" 1700000000000000000")
        .unwrap();
    assert_eq!(p.measurement, "cpu");
    assert_eq!(
        p.tags,
        vec![("host".into(), "a".into()), ("region".into(), "eu".into())]
    );
    assert_eq!(
        p.fields,
        vec![
            ("usage".into(), FieldValue::Float(0.5)),
            ("n".into(), FieldValue::Integer(3)),
            ("u".into(), FieldValue::Unsigned(7)),
            ("ok".into(), FieldValue::Boolean(true)),
            ("msg".into(), FieldValue::String("hi".into())),
        ]
    );
    assert_eq!(p.timestamp, Some(1_700_000_000_000_000_000));
}

#[test]
fn escapes() {
    let p =
        one(r#"my\ meas\,x,ta\ g\=k=v\,a\ l\=ue f\,i\=eld="say \"hi\" \\ back",g=1 5"#).unwrap();
    assert_eq!(p.measurement, "my meas,x");
    assert_eq!(p.tags, vec![("ta g=k".into(), "v,a l=ue".into())]);
    assert_eq!(p.fields[0].0, "f,i=eld");
    assert_eq!(
        p.fields[0].1,
        FieldValue::String("say \"hi\" \\ back".into())
    );
    // A backslash before an ordinary character is kept.
    let p = one(r"m\x,t=a\b v=1").unwrap();
    assert_eq!(p.measurement, r"m\x");
    assert_eq!(p.tags[0].1, r"a\b");
    // Commas and spaces inside strings need no escape.
    let p = one(r#"m s="a, b c=d" 1"#).unwrap();
    assert_eq!(p.fields[0].1, FieldValue::String("a, b c=d".into()));
}

#[test]
fn value_types() {
    for (text, v) in [
        ("1", FieldValue::Float(1.0)),
        ("-1.5e3", FieldValue::Float(-1500.0)),
        (".5", FieldValue::Float(0.5)),
        ("1E-3", FieldValue::Float(0.001)),
        ("-9223372036854775808i", FieldValue::Integer(i64::MIN)),
        ("18446744073709551615u", FieldValue::Unsigned(u64::MAX)),
        ("T", FieldValue::Boolean(true)),
        ("FALSE", FieldValue::Boolean(false)),
        ("False", FieldValue::Boolean(false)),
        ("\"\"", FieldValue::String(String::new())),
    ] {
        let p = one(&format!("m v={text} 1")).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(p.fields[0].1, v, "{text}");
    }
}

#[test]
fn errors_name_the_problem() {
    for (line, want) in [
        ("m", "missing fields"),
        ("m ", "missing fields"),
        ("m,t=a", "missing fields"),
        ("m,t= v=1", "missing tag value"),
        ("m,t v=1", "missing tag value"),
        (",t=a v=1", "missing measurement"),
        ("m v=", "missing field value"),
        ("m v", "invalid field format"),
        ("m v=abc", "invalid number"),
        ("m v=NaN", "invalid number"),
        ("m v=inf", "invalid number"),
        ("m v=1.2.3", "invalid number"),
        ("m v=1x", "invalid number"),
        ("m v=9223372036854775808i", "out of range"),
        ("m v=-1u", "invalid unsigned"),
        ("m v=\"open", "unbalanced quotes"),
        ("m v=1 12abc", "invalid timestamp"),
        ("m v=1 1 2", "invalid timestamp"),
        ("m,a=1,a=2 v=1", "duplicate tags"),
        ("m time=1", "invalid field key \"time\""),
        ("m,time=x v=1", "invalid tag key \"time\""),
        ("m v=1,", "missing field key"),
    ] {
        let e = one(line).expect_err(line);
        assert!(e.contains(want), "{line:?}: got {e:?}, want {want:?}");
    }
}

#[test]
fn partial_failure_keeps_good_lines_with_line_numbers() {
    let body = "a v=1 1\n\nbad\n# comment\r\nb v=2 2\r\nc v=\"x 3\n  d v=4 4\n";
    let p = parse(body, Precision::Nanosecond, NOW, 1 << 16);
    assert_eq!(
        p.points
            .iter()
            .map(|p| p.measurement.as_str())
            .collect::<Vec<_>>(),
        vec!["a", "b", "d"]
    );
    assert_eq!(p.lines, vec![1, 5, 7]);
    assert_eq!(
        p.errors.iter().map(|e| e.line).collect::<Vec<_>>(),
        vec![3, 6]
    );
    assert_eq!(
        p.errors[0].to_string(),
        "unable to parse 'bad' (line 3): missing fields"
    );
}

#[test]
fn precision_and_default_time() {
    let p = parse("m v=1 1700000000\nm v=2", Precision::Second, NOW, 1 << 16);
    assert_eq!(p.points[0].timestamp, Some(1_700_000_000_000_000_000));
    assert_eq!(p.points[1].timestamp, Some(NOW));
    let p = parse("m v=1 -5", Precision::Millisecond, NOW, 1 << 16);
    assert_eq!(p.points[0].timestamp, Some(-5_000_000));
    let p = parse("m v=1 9223372036854775807", Precision::Hour, NOW, 1 << 16);
    assert!(p.errors[0].message.contains("out of range"));
    for (s, want) in [
        ("n", Precision::Nanosecond),
        ("ns", Precision::Nanosecond),
        ("u", Precision::Microsecond),
        ("µ", Precision::Microsecond),
        ("ms", Precision::Millisecond),
        ("s", Precision::Second),
        ("m", Precision::Minute),
        ("h", Precision::Hour),
    ] {
        assert_eq!(Precision::parse(s), Some(want));
    }
    assert_eq!(Precision::parse("d"), None);
}

#[test]
fn long_lines_are_rejected() {
    let line = format!("m v=1 {}", "1".repeat(10));
    let p = parse(&line, Precision::Nanosecond, NOW, 8);
    assert!(
        p.errors[0].message.contains("line too long"),
        "{:?}",
        p.errors
    );
}

#[test]
fn duplicate_fields_last_wins() {
    let p = one("m v=1,v=2 1").unwrap();
    assert_eq!(p.fields, vec![("v".into(), FieldValue::Float(2.0))]);
}

fn ident() -> impl Strategy<Value = String> {
    // Any characters but backslash (a trailing backslash before a delimiter is ambiguous in
    // the protocol itself) and newlines; not starting with '#' (a comment) or blank.
    "[a-zA-Z0-9_ ,=\"é😀#.-]{1,12}".prop_filter("not a comment or blank start", |s| {
        !s.starts_with('#') && !s.starts_with(' ')
    })
}

fn value() -> impl Strategy<Value = FieldValue> {
    prop_oneof![
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(FieldValue::Float),
        any::<i64>().prop_map(FieldValue::Integer),
        any::<u64>().prop_map(FieldValue::Unsigned),
        any::<bool>().prop_map(FieldValue::Boolean),
        "[^\n]{0,20}".prop_map(FieldValue::String),
    ]
}

prop_compose! {
    fn point()(
        measurement in ident(),
        tags in proptest::collection::btree_map(ident(), ident(), 0..4),
        fields in proptest::collection::btree_map(ident(), value(), 1..4),
        timestamp in any::<i64>(),
    ) -> ParsedPoint {
        ParsedPoint {
            measurement,
            tags: tags.into_iter().filter(|(k, _)| k != "time").collect(),
            fields: fields.into_iter().filter(|(k, _)| k != "time").collect(),
            timestamp: Some(timestamp),
        }
    }
}

proptest! {
    #[test]
    fn written_points_parse_back(points in proptest::collection::vec(point(), 1..8)) {
        let points: Vec<ParsedPoint> = points.into_iter().filter(|p| !p.fields.is_empty()).collect();
        let mut body = String::new();
        for p in &points {
            write_point(&mut body, p);
        }
        let parsed = parse(&body, Precision::Nanosecond, NOW, usize::MAX);
        prop_assert!(parsed.errors.is_empty(), "{:?}\n{}", parsed.errors, body);
        prop_assert_eq!(parsed.points, points);
    }

    #[test]
    fn never_panics(s in "\\PC{0,200}") {
        let _ = parse(&s, Precision::Second, NOW, 100);
    }

    #[test]
    fn never_panics_on_protocol_alphabet(s in "[a-z=, \"\\\\0-9.eiutf\n#-]{0,120}") {
        let _ = parse(&s, Precision::Nanosecond, NOW, 1 << 16);
    }
}
