//! Parser tests: every message of VQ.md §4 at its token, the printer, and properties.

use proptest::prelude::*;

use super::*;

fn err(src: &str) -> String {
    match parse(src) {
        Ok(p) => panic!("{src:?} parsed as {p:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_parse_error_message_at_its_token() {
    let cases: &[(&str, &str)] = include!("parse_error_cases.in");
    let more: &[(&str, &str)] = &[
        (
            "TABLES TABLES;",
            "[line 1:col 8] Parse error at 'TABLES': Expected semicolon.",
        ),
        (
            "TABLES; x",
            "[line 1:col 9] Parse error at 'x': Expected query base word.",
        ),
        (
            "PUT ; 1 1 INTO t;",
            "[line 1:col 5] Parse error at ';': Expected metric.",
        ),
        (
            "DELETE DATA 1 FROM t;",
            "[line 1:col 8] Parse error at 'DATA': Expected metric.",
        ),
        (
            "DROP TABLE TABLE;",
            "[line 1:col 12] Parse error at 'TABLE': Expected table name.",
        ),
        (
            "SELECT DATA m FROM t BETWEEN 1 AND;",
            "[line 1:col 35] Parse error at ';': Expected timestamp.",
        ),
        (
            "PUT m x 1 INTO t;",
            "[line 1:col 7] Parse error at 'x': Expected timestamp.",
        ),
        (
            "CREATE TABLE t TAGS a,;",
            "[line 1:col 23] Parse error at ';': Expected tag key.",
        ),
        (
            "TABLES;\n  PUT m 1 1 INTO t TAGS a=b c;",
            "[line 2:col 29] Parse error at 'c': Expected semicolon.",
        ),
    ];
    for (src, want) in cases.iter().chain(more) {
        assert_eq!(err(src), *want, "{src:?}");
    }
}

#[test]
fn every_statement_parses_and_prints_canonically() {
    let src = "SELECT DATA m FROM t ALL WHERE a=x,b=y; SELECT AVG m FROM t BETWEEN 1 AND 2;\
               SELECT SUM m FROM t AT 5; SELECT COUNT m FROM t ALL; SELECT MIN m FROM t ALL;\
               SELECT MAX m FROM t ALL; PUT m 1 -2.5 INTO t; PUT m 1 2 INTO t TAGS a=x;\
               DELETE m 1 FROM t; DELETE m 1 FROM t TAGS a=x, b=y; CREATE TABLE t;\
               CREATE TABLE t TAGS a,b; DROP TABLE t; ADD TAGS a, b TO t; REMOVE TAGS a FROM t;\
               TABLES;";
    let p = parse(src).unwrap();
    assert_eq!(p.statements.len(), 16);
    assert_eq!(
        p.to_string(),
        "SELECT DATA m FROM t ALL WHERE a=x, b=y;\nSELECT AVG m FROM t BETWEEN 1 AND 2;\n\
         SELECT SUM m FROM t AT 5;\nSELECT COUNT m FROM t ALL;\nSELECT MIN m FROM t ALL;\n\
         SELECT MAX m FROM t ALL;\nPUT m 1 -2.5 INTO t;\nPUT m 1 2 INTO t TAGS a=x;\n\
         DELETE m 1 FROM t;\nDELETE m 1 FROM t TAGS a=x, b=y;\nCREATE TABLE t;\n\
         CREATE TABLE t TAGS a, b;\nDROP TABLE t;\nADD TAGS a, b TO t;\nREMOVE TAGS a FROM t;\n\
         TABLES;"
    );
    assert_eq!(parse(&p.to_string()).unwrap().to_string(), p.to_string());
}

#[test]
fn words_keep_their_positions() {
    let p = parse("TABLES;\n  PUT temp 12 3.5 INTO w;").unwrap();
    let Statement::Put {
        metric,
        timestamp,
        value,
        table,
        ..
    } = &p.statements[1]
    else {
        panic!("{p:?}")
    };
    assert_eq!((metric.line, metric.column), (2, 7));
    assert_eq!((timestamp.line, timestamp.column), (2, 12));
    assert_eq!((value.line, value.column), (2, 15));
    assert_eq!((table.line, table.column), (2, 24));
}

fn ident() -> impl Strategy<Value = String> {
    "[a-z_][a-z0-9_]{0,6}"
}

fn number() -> impl Strategy<Value = String> {
    "-?[0-9]{1,5}(\\.[0-9]{1,3})?"
}

fn tags() -> impl Strategy<Value = String> {
    prop::collection::vec((ident(), ident()), 1..4).prop_map(|v| {
        v.iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(",")
    })
}

fn cols() -> impl Strategy<Value = String> {
    prop::collection::vec(ident(), 1..4).prop_map(|v| v.join(" ,"))
}

fn statement() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec!["DATA", "AVG", "SUM", "COUNT", "MIN", "MAX"]);
    let clause = prop_oneof![
        Just("ALL".to_string()),
        "[0-9]{1,4}".prop_map(|t| format!("AT {t}")),
        ("[0-9]{1,4}", "[0-9]{1,4}").prop_map(|(a, b)| format!("BETWEEN {a} AND {b}")),
    ];
    prop_oneof![
        (kind, ident(), ident(), clause, prop::option::of(tags())).prop_map(
            |(k, m, t, c, w)| format!(
                "SELECT {k} {m} FROM {t} {c}{}",
                w.map(|w| format!(" WHERE {w}")).unwrap_or_default()
            )
        ),
        (
            ident(),
            "[0-9]{1,4}",
            number(),
            ident(),
            prop::option::of(tags())
        )
            .prop_map(|(m, ts, v, t, g)| format!(
                "PUT {m} {ts} {v} INTO {t}{}",
                g.map(|g| format!(" TAGS {g}")).unwrap_or_default()
            )),
        (ident(), number(), ident(), prop::option::of(tags())).prop_map(|(m, ts, t, g)| format!(
            "DELETE {m} {ts} FROM {t}{}",
            g.map(|g| format!(" TAGS {g}")).unwrap_or_default()
        )),
        (ident(), prop::option::of(cols())).prop_map(|(t, c)| format!(
            "CREATE TABLE {t}{}",
            c.map(|c| format!(" TAGS {c}")).unwrap_or_default()
        )),
        ident().prop_map(|t| format!("DROP TABLE {t}")),
        (cols(), ident()).prop_map(|(c, t)| format!("ADD TAGS {c} TO {t}")),
        (cols(), ident()).prop_map(|(c, t)| format!("REMOVE TAGS {c} FROM {t}")),
        Just("TABLES".to_string()),
    ]
}

proptest! {
    /// Valid programs parse, and printing is a fixed point of print ∘ parse.
    #[test]
    fn print_parse_is_a_fixed_point(stmts in prop::collection::vec(statement(), 1..5)) {
        let src = stmts.iter().map(|s| format!("{s} ;  ")).collect::<String>();
        let parsed = parse(&src).map_err(|e| TestCaseError::fail(format!("{src}: {e}")))?;
        prop_assert_eq!(parsed.statements.len(), stmts.len());
        let printed = parsed.to_string();
        let reparsed = parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(reparsed.to_string(), printed);
    }

    /// Arbitrary text never panics; an error names a position inside (or just after) it.
    #[test]
    fn arbitrary_text_never_panics(src in "(?s).{0,80}", words in prop::collection::vec(
        prop::sample::select(vec!["SELECT", "PUT", "DATA", "FROM", "t", "1", "-2.5", ";", ",",
            "=", "TAGS", "ALL", "AND", "BETWEEN", "\n", "//", "INTO", "TABLES", "é"]), 0..20)) {
        for s in [src, words.join(" ")] {
            let lines = s.split('\n').count() as u32;
            if let Err(e) = parse(&s) {
                let VqError::Parse { line, column, .. } = e else {
                    return Err(TestCaseError::fail("a parse produced a runtime error"));
                };
                prop_assert!(line >= 1 && line <= lines && column >= 1, "{s:?}: {line}:{column}");
            }
        }
    }

    /// Every token's position is inside the source, and tokens come in source order.
    #[test]
    fn token_positions_are_in_order(src in "(?s).{0,80}") {
        let toks = crate::vq::lexer::tokenize(&src);
        prop_assert_eq!(toks.last().map(|t| t.kind), Some(TokenKind::EndOfFile));
        for w in toks.windows(2) {
            prop_assert!((w[0].line, w[0].column) < (w[1].line, w[1].column));
        }
    }
}
