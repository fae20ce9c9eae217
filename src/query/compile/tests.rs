use super::*;
use crate::query::influxql::{parse, Statement};

fn check(q: &str) -> Result<()> {
    let stmts = parse(q)?;
    let Some(Statement::Select(s)) = stmts.first() else {
        panic!("not a SELECT: {q}");
    };
    let mut ps = Vec::new();
    for f in &s.fields {
        ps.push(Projection {
            expr: compile_field(&f.expr)?,
            name: f.column_name(),
            aliased: f.alias.is_some(),
        });
    }
    validate_projections(&ps, s.group_by_time().is_some())
}

fn err(q: &str) -> String {
    match check(q) {
        Err(e) => e.to_string(),
        Ok(()) => panic!("{q} compiled"),
    }
}

#[test]
fn semantic_errors_use_influxdb_wording() {
    assert!(err("SELECT mean(a), a FROM m").contains("mixing aggregate and non-aggregate"));
    assert!(err("SELECT a FROM m GROUP BY time(1m)")
        .contains("GROUP BY requires at least one aggregate function"));
    assert!(err("SELECT percentile(a) FROM m")
        .contains("invalid number of arguments for percentile, expected 2, got 1"));
    assert!(err("SELECT derivative(a) FROM m GROUP BY time(1m)")
        .contains("aggregate function required inside the call to derivative"));
    assert!(err("SELECT derivative(mean(a)) FROM m")
        .contains("derivative aggregate requires a GROUP BY interval"));
    assert!(err("SELECT bottom(a, 0) FROM m")
        .contains("limit (0) in bottom function must be at least 1"));
    assert!(err("SELECT top(a, 2), max(b) FROM m")
        .contains("selector function top() cannot be combined with other functions"));
    assert!(err("SELECT max(a), min(a), b FROM m")
        .contains("mixing multiple selector functions with tags or fields"));
    assert!(err("SELECT nope(a) FROM m").contains("undefined function nope()"));
    assert!(err("SELECT mean(mean(a)) FROM m").contains("expected field argument in mean()"));
    assert!(err("SELECT mean(abs(a)) FROM m").contains("expected field argument in mean()"));
    assert!(err("SELECT exponential_moving_average(a) FROM m").contains(
        "invalid number of arguments for exponential_moving_average, expected at least 2 but no more than 4, got 1"
    ));
    assert!(
        err("SELECT kaufmans_efficiency_ratio(a, 2, 1, 'simple') FROM m")
            .contains("expected at least 2 but no more than 3, got 4")
    );
    assert!(err("SELECT relative_strength_index(a, 0) FROM m")
        .contains("relative_strength_index period must be greater than or equal to 1"));
    assert!(err("SELECT triple_exponential_derivative(a, 2, 0) FROM m")
        .contains("hold period must be greater than or equal to 1"));
    assert!(
        err("SELECT exponential_moving_average(a, 2, 1, 'none') FROM m")
            .contains("warmup type must be one of: 'exponential' 'simple'")
    );
    assert!(
        err("SELECT chande_momentum_oscillator(a, 2, 1, 'x') FROM m")
            .contains("warmup type must be one of: 'none' 'exponential' 'simple'")
    );
    assert!(err("SELECT exponential_moving_average(mean(a), 2) FROM m")
        .contains("exponential_moving_average aggregate requires a GROUP BY interval"));
    assert!(err("SELECT pow(a) FROM m")
        .contains("invalid number of arguments for pow, expected 2, got 1"));
    assert!(err("SELECT abs(a, 2) FROM m")
        .contains("invalid number of arguments for abs, expected 1, got 2"));
    assert!(err("SELECT abs(a), mean(b) FROM m")
        .contains("mixing aggregate and non-aggregate queries is not supported"));
    assert!(err("SELECT abs(*), mean(a) FROM m")
        .contains("mixing aggregate and non-aggregate queries is not supported"));
    assert!(err("SELECT round(a) FROM m GROUP BY time(1m)")
        .contains("GROUP BY requires at least one aggregate function"));
    for q in [
        "SELECT 1 FROM m",
        "SELECT a, abs(-3) FROM m",
        "SELECT abs(/a/) FROM m",
    ] {
        assert!(
            err(q).contains("field must contain at least one variable"),
            "{q}"
        );
    }
    assert!(err("SELECT derivative(top(a, 2)) FROM m GROUP BY time(1m)")
        .contains("selector function top() cannot be combined with other functions"));
    assert!(
        err("SELECT derivative(a), difference(a) FROM m GROUP BY time(1m)")
            .contains("aggregate function required inside the call to derivative")
    );
    assert!(err("SELECT derivative(a), difference(mean(a)) FROM m")
        .contains("difference aggregate requires a GROUP BY interval"));
    assert!(err("SELECT derivative(a), a FROM m")
        .contains("mixing aggregate and non-aggregate queries is not supported"));
    assert!(err("SELECT max(a), difference(a), * FROM m")
        .contains("mixing aggregate and non-aggregate queries is not supported"));
    assert!(err("SELECT *, max(a), min(b) FROM m")
        .contains("mixing multiple selector functions with tags or fields"));
    assert!(
        err("SELECT distinct(a), derivative(distinct(a)) FROM m GROUP BY time(1m)")
            .contains("aggregate function distinct() cannot be combined with other functions")
    );
    assert!(err("SELECT difference(distinct(a)) FROM m")
        .contains("difference aggregate requires a GROUP BY interval"));
    // Transformations of transformations: each level checked.
    assert!(err("SELECT derivative(difference(a)) FROM m")
        .contains("derivative aggregate requires a GROUP BY interval"));
    assert!(
        err("SELECT derivative(difference(a)) FROM m GROUP BY time(1m)")
            .contains("aggregate function required inside the call to difference")
    );
    assert!(
        err("SELECT derivative(difference(top(a, 2))) FROM m GROUP BY time(1m)")
            .contains("selector function top() cannot be combined with other functions")
    );
    assert!(check("SELECT derivative(difference(mean(a))) FROM m GROUP BY time(1m)").is_ok());
}

/// The time range and the rest of `WHERE cond`, or the error.
fn where_parts(cond: &str) -> std::result::Result<(Option<i64>, Option<i64>, String), String> {
    let stmts = parse(&format!("SELECT a FROM m WHERE {cond}")).map_err(|e| e.to_string())?;
    let Some(Statement::Select(s)) = stmts.first() else {
        panic!("not a SELECT: {cond}");
    };
    let Some(c) = &s.condition else {
        panic!("no condition: {cond}")
    };
    let mut range = (None, None);
    let rest = strip_time(c, 1_000, &mut range).map_err(|e| e.to_string())?;
    Ok((
        range.0,
        range.1,
        rest.map_or(String::new(), |r| r.to_string()),
    ))
}

#[test]
fn time_comparisons_are_taken_out_of_and_or_trees_as_1x_does() {
    // (WHERE, lower bound, upper bound, what is left)
    let cases: &[(&str, Option<i64>, Option<i64>, &str)] = &[
        ("time >= 5 AND time < 9", Some(5), Some(8), ""),
        ("time = 7 AND h = 'x'", Some(7), Some(7), "h = 'x'"),
        // 1.6 intersects the bounds under OR too, and keeps the rest.
        ("time < 5 OR time > 9", Some(10), Some(4), ""),
        (
            "(time > 5 AND time < 9) OR h = 'x'",
            Some(6),
            Some(8),
            "h = 'x'",
        ),
        (
            "h = 'x' OR (a > 1 AND time >= 3)",
            Some(3),
            None,
            "h = 'x' OR a > 1",
        ),
        // NOT (strata's extension) around time: the equivalent NOT-free condition.
        ("NOT time > 5", None, Some(5), ""),
        ("NOT (time >= 5 OR h = 'x')", None, Some(4), "NOT h = 'x'"),
        ("time > now() - 10", Some(991), None, ""),
    ];
    for (cond, lo, hi, rest) in cases {
        assert_eq!(
            where_parts(cond),
            Ok((*lo, *hi, rest.to_string())),
            "{cond}"
        );
    }
    // 1.x's errors.
    let not_compatible =
        |kind: &str| format!("invalid operation: time and *influxql.{kind} are not compatible");
    for (cond, want) in [
        (
            "time != 5",
            "invalid time comparison operator: !=".to_string(),
        ),
        (
            "h = 'x' OR time <> 5",
            "invalid time comparison operator: !=".into(),
        ),
        (
            "NOT time = 5",
            "invalid time comparison operator: !=".into(),
        ),
        ("time =~ /x/", not_compatible("RegexLiteral")),
        ("time > a", not_compatible("VarRef")),
        ("time > 5 - a", not_compatible("BinaryExpr")),
        ("time > 'bogus'", not_compatible("StringLiteral")),
        // Another operator beside time is taken for a time condition too.
        (
            "time + 1s AND h = 'x'",
            "invalid time comparison operator: +".into(),
        ),
    ] {
        assert_eq!(where_parts(cond), Err(want), "{cond}");
    }
}

#[test]
fn a_comparison_with_time_inside_an_expression_is_false_as_in_1x() {
    let classes = |cond: &str| -> Vec<String> {
        let stmts = parse(&format!("SELECT a FROM m WHERE {cond}"))
            .unwrap_or_else(|e| panic!("{cond}: {e}"));
        let Some(Statement::Select(s)) = stmts.first() else {
            panic!("not a SELECT: {cond}");
        };
        let c = s.condition.as_ref().unwrap_or_else(|| panic!("{cond}"));
        let mut out = Vec::new();
        let is_field = |n: &str| n == "a";
        split_where(c, 0, &is_field, &mut |c| {
            out.push(match c {
                ConditionPart::Tag(t) => format!("tag {t:?}"),
                ConditionPart::Field(f) => format!("field {f:?}"),
            });
            Ok(())
        })
        .unwrap_or_else(|e| panic!("{cond}: {e}"));
        out
    };
    let false_field = format!("field {:?}", never());
    for cond in [
        "time + 1s > 5",
        "time - 5m < now()",
        "5 < time * 2",
        "-time < 5",
        "time + 1s != 5",
        "time + 1s =~ /x/",
        "time + 1s > a",
    ] {
        assert_eq!(classes(cond), vec![false_field.clone()], "{cond}");
    }
    // Arithmetic alone is a field condition every point satisfies; a bare value is 1.x's
    // error, a boolean literal itself.
    let always = format!("field {:?}", FieldPred::Tag(TagPred::True));
    for cond in ["(time + 1s) * 2", "(a + 1) / 2", "-a"] {
        assert_eq!(classes(cond), vec![always.clone()], "{cond}");
    }
    assert_eq!(classes("true"), vec![format!("tag {:?}", TagPred::True)]);
    assert_eq!(
        where_parts("-time AND h = 'x'"),
        Err("invalid time comparison operator: *".into())
    );
    // Inside OR the other side still selects.
    assert_eq!(
        classes("time + 1s > 5 OR h = 'x'"),
        vec![format!(
            "field {:?}",
            FieldPred::Or(
                Box::new(never()),
                Box::new(FieldPred::Tag(TagPred::Eq("h".into(), "x".into())))
            )
        )]
    );
}

#[test]
fn comparisons_of_expressions_are_evaluated_per_row_as_1x_does() {
    let class = |cond: &str| -> std::result::Result<String, String> {
        let stmts = parse(&format!("SELECT a FROM m WHERE {cond}")).map_err(|e| e.to_string())?;
        let Some(Statement::Select(s)) = stmts.first() else {
            panic!("not a SELECT: {cond}");
        };
        let c = s.condition.as_ref().unwrap_or_else(|| panic!("{cond}"));
        let mut out = String::new();
        let is_field = |n: &str| n == "a" || n == "b";
        split_where(c, 0, &is_field, &mut |c| {
            if let ConditionPart::Field(f) = c {
                out = format!("{f:?}");
            }
            Ok(())
        })
        .map_err(|e| e.to_string())?;
        Ok(out)
    };
    // Both sides kept as expressions; only the fields are read, `h` is a tag.
    let Ok(p) = class("a + 1 > b * h") else {
        panic!("a + 1 > b * h")
    };
    assert!(p.starts_with("Expr { op: Gt"), "{p}");
    assert!(p.ends_with("fields: [\"a\", \"b\"] }"), "{p}");
    assert!(class("a > b").is_ok_and(|p| p.starts_with("Expr")));
    // A duration or now() compares with nothing; arithmetic matches no regex.
    let never = format!("{:?}", never());
    for cond in ["a + 5m > 0", "a > 5m", "a > b + now()", "a + 1 =~ /x/"] {
        assert_eq!(class(cond), Ok(never.clone()), "{cond}");
    }
    assert_eq!(
        class("a + mean(b) > 1"),
        Err("invalid function call in condition: mean(b)".into())
    );
}

#[test]
fn valid_select_lists() {
    for q in [
        "SELECT a + b * 2 AS x FROM m",
        "SELECT mean(a) * 2, max(b) FROM m",
        "SELECT max(a), b, host FROM m",
        "SELECT top(a, host, 3) FROM m",
        "SELECT derivative(mean(a), 1s) FROM m GROUP BY time(1m)",
        "SELECT moving_average(a, 3) FROM m",
        "SELECT count(distinct(a)) FROM m",
        "SELECT percentile(a, 95) FROM m GROUP BY time(1m)",
        "SELECT /usage/ FROM m",
        "SELECT mean(a), derivative(mean(a), 1m) FROM m GROUP BY time(10m)",
        "SELECT max(a), non_negative_derivative(max(a)) FROM m GROUP BY time(1m), host",
        "SELECT derivative(a), difference(b) FROM m",
        "SELECT difference(a), cumulative_sum(a), moving_average(a, 3) FROM m",
        "SELECT difference(a), max(a) FROM m",
        "SELECT max(a), * FROM m",
        "SELECT *, max(a) FROM m GROUP BY time(1m)",
        "SELECT derivative(distinct(a)) FROM m GROUP BY time(1m)",
        "SELECT mean(a), cumulative_sum(distinct(a)) FROM m GROUP BY time(1m)",
        "SELECT abs(a), round(b * 2) + 1, pow(a, b), ATAN2(a, 1) FROM m",
        "SELECT round(mean(a)), abs(derivative(max(a), 1s)) FROM m GROUP BY time(1m)",
        "SELECT abs(max(a)), b FROM m",
        "SELECT abs(*), abs(a) FROM m",
        "SELECT round(mean(*)), abs(max(b)) FROM m GROUP BY time(1m)",
        "SELECT a FROM m WHERE abs(a - 1) > 2 AND sqrt(b) < 3",
    ] {
        check(q).unwrap_or_else(|e| panic!("{q}: {e}"));
    }
}
