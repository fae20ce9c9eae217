//! Unit tests of the executor's pieces.

use super::accumulator::{Accumulator, AggregateValue};
use super::aggregate::run_end;
use super::bucket_map::BucketMap;
use super::expr::arith;
use super::fill::{fill_linear, fill_previous};
use super::integral::{
    finish_integrals, integral_ends_at_epoch, integral_rows, integral_stream, integrals_by_bucket,
    tr_shifts,
};
use super::join::{join_calls, join_streams, Stream};
use super::layout::{
    wildcard_in_expression, AggregateCall, ColumnExpr, Layout, TransformCall, TransformInput,
};
use super::predicate::eval_field_pred;
use super::transform::TransformState;
use super::windows::{bucket_span, call_windows, extra_intervals, tr_reaches};
use crate::error::Error;
use crate::query::plan::{
    AggFn, ArithOp, Call, CmpOp, FieldPred, Fill, GroupTags, PlanExpr, SelectPlan, TagPred,
};
use crate::query::result::Value;
use crate::series::SeriesIndex;
use crate::types::FieldValue;
use std::collections::BTreeMap;

/// `run_end` (galloping, then bisecting) agrees with a plain bisection everywhere.
#[test]
fn run_end_finds_the_end_of_a_bucket_run() {
    let ts: Vec<i64> = vec![
        1, 2, 2, 3, 5, 8, 8, 8, 9, 13, 21, 34, 35, 36, 37, 38, 39, 40,
    ];
    for j in 0..ts.len() {
        for next in ts[j]..=ts[ts.len() - 1] + 1 {
            let want = j + ts[j..].partition_point(|&t| t < next);
            assert_eq!(run_end(&ts, j, next), want, "j={j} next={next}");
        }
    }
}

pub(in crate::query::exec) fn spec(func: AggFn) -> AggregateCall {
    AggregateCall {
        func,
        field: 0,
        n: 2,
        p: 50.0,
        unit: 0,
        count_distinct: false,
        tags: Vec::new(),
        newest_first: false,
        from: i64::MIN,
        to: i64::MAX,
    }
}

#[test]
fn arithmetic_keeps_integers_except_division() {
    let (i, f) = (Value::Integer(7), Value::Float(0.5));
    assert_eq!(
        arith(ArithOp::Mul, &i, &Value::Integer(3)),
        Value::Integer(21)
    );
    assert_eq!(
        arith(ArithOp::Mod, &i, &Value::Integer(3)),
        Value::Integer(1)
    );
    assert_eq!(
        arith(ArithOp::Div, &i, &Value::Integer(2)),
        Value::Float(3.5)
    );
    assert_eq!(arith(ArithOp::Add, &i, &f), Value::Float(7.5));
    assert_eq!(arith(ArithOp::Add, &i, &Value::Null), Value::Null);
    assert_eq!(
        arith(ArithOp::Add, &Value::String("a".into()), &i),
        Value::Null
    );
}

#[test]
fn transformations() {
    let tr = |func, n, unit| {
        TransformState::new(
            &TransformCall {
                func,
                n,
                unit,
                analysis: Default::default(),
                season: 0,
                input: TransformInput::Var(0),
            },
            1_000_000_000,
        )
    };
    let s = 1_000_000_000;
    let mut d = tr(AggFn::Derivative, 0, 0);
    assert_eq!(d.push(0, &Value::Float(1.0)), None);
    assert_eq!(d.push(2 * s, &Value::Float(5.0)), Some(Value::Float(2.0)));
    assert_eq!(d.push(3 * s, &Value::Null), None);
    let mut nn = tr(AggFn::NonNegativeDifference, 0, 0);
    nn.push(0, &Value::Integer(5));
    assert_eq!(nn.push(1, &Value::Integer(3)), None);
    assert_eq!(nn.push(2, &Value::Integer(4)), Some(Value::Integer(1)));
    let mut ma = tr(AggFn::MovingAverage, 2, 0);
    assert_eq!(ma.push(0, &Value::Integer(1)), None);
    assert_eq!(ma.push(1, &Value::Integer(2)), Some(Value::Float(1.5)));
    let mut el = tr(AggFn::Elapsed, 0, 1_000);
    el.push(0, &Value::Integer(1));
    assert_eq!(el.push(5_000, &Value::Integer(1)), Some(Value::Integer(5)));
    let mut cs = tr(AggFn::CumulativeSum, 0, 0);
    cs.push(0, &Value::Integer(2));
    assert_eq!(cs.push(1, &Value::Integer(3)), Some(Value::Integer(5)));
    // Several points at one time (the distinct() values of a bucket): difference keeps
    // the first, elapsed answers 0 for the others.
    let mut df = tr(AggFn::Difference, 0, 0);
    let mut el = tr(AggFn::Elapsed, 0, 1);
    for (t, x) in [(0, 5), (0, 9), (10, 7), (10, 1)] {
        df.push(t, &Value::Integer(x));
        el.push(t, &Value::Integer(x));
    }
    assert_eq!(df.push(20, &Value::Integer(8)), Some(Value::Integer(1)));
    let mut df = tr(AggFn::Difference, 0, 0);
    df.push(0, &Value::Integer(5));
    df.push(0, &Value::Integer(9));
    assert_eq!(df.push(10, &Value::Integer(7)), Some(Value::Integer(2)));
    assert_eq!(el.push(20, &Value::Integer(0)), Some(Value::Integer(10)));
    assert_eq!(el.push(20, &Value::Integer(0)), Some(Value::Integer(0)));
}

fn plan(limit: usize, offset: usize, desc: bool) -> SelectPlan {
    SelectPlan {
        measurements: Vec::new(),
        measurement_regexes: Vec::new(),
        tag_filter: TagPred::True,
        field_filter: None,
        tmin: 0,
        tmax: 0,
        has_tmin: false,
        has_tmax: false,
        projections: Vec::new(),
        group_regexes: Vec::new(),
        group_time: None,
        group_tags: GroupTags::None,
        fill: Fill::Null,
        desc,
        limit,
        offset,
        slimit: 0,
        soffset: 0,
        now: 0,
    }
}

#[test]
fn streams_join_on_time_with_limit_per_column() {
    let i = Value::Integer;
    let a: Stream = vec![(1, i(10)), (2, i(20)), (3, i(30))];
    let b: Stream = vec![(2, i(2)), (3, i(3)), (4, i(4))];
    let t = Value::Time;
    assert_eq!(
        join_streams(&plan(0, 0, false), vec![a.clone(), b.clone()]),
        vec![
            vec![t(1), i(10), Value::Null],
            vec![t(2), i(20), i(2)],
            vec![t(3), i(30), i(3)],
            vec![t(4), Value::Null, i(4)],
        ]
    );
    // LIMIT 1 OFFSET 1 of each column: a's (2, 20) and b's (3, 3).
    assert_eq!(
        join_streams(&plan(1, 1, false), vec![a, b]),
        vec![
            vec![t(2), i(20), Value::Null],
            vec![t(3), Value::Null, i(3)]
        ]
    );
    // DESC: streams come newest first; a duplicate time in one stream gives two rows.
    let c: Stream = vec![(5, i(1)), (5, i(2)), (0, i(3))];
    let d: Stream = vec![(5, i(9))];
    assert_eq!(
        join_streams(&plan(0, 0, true), vec![c, d]),
        vec![
            vec![t(5), i(1), i(9)],
            vec![t(5), i(2), Value::Null],
            vec![t(0), i(3), Value::Null],
        ]
    );
}

#[test]
fn fill_previous_fills_a_joined_row_with_the_columns_value_in_the_row_before() {
    // 1.x: a column without a point at a row's time takes its value in the row before.
    let i = Value::Integer;
    let t = Value::Time;
    let a: Stream = vec![(1, i(10)), (2, i(20)), (2, i(0)), (4, i(40))];
    let b: Stream = vec![(2, i(2)), (3, i(3))];
    let mut p = plan(0, 0, false);
    p.fill = Fill::Previous;
    assert_eq!(
        join_streams(&p, vec![a, b]),
        vec![
            vec![t(1), i(10), Value::Null],
            vec![t(2), i(20), i(2)],
            vec![t(2), i(0), i(2)],
            vec![t(3), i(0), i(3)],
            vec![t(4), i(40), i(3)],
        ]
    );
}

#[test]
fn columns_over_several_calls_evaluate_the_joined_rows() {
    let (i, t, null) = (Value::Integer, Value::Time, Value::Null);
    let add =
        |a: ColumnExpr, b: ColumnExpr| ColumnExpr::Bin(ArithOp::Add, Box::new(a), Box::new(b));
    let d: Stream = vec![(1, i(3)), (2, i(4)), (4, i(5))];
    let e: Stream = vec![(2, i(10)), (3, i(20)), (4, i(30))];
    // difference(a) + difference(b), difference(a) * 2: null where only one yields.
    let cols = [
        add(ColumnExpr::Tr(0), ColumnExpr::Tr(1)),
        ColumnExpr::Bin(
            ArithOp::Mul,
            Box::new(ColumnExpr::Tr(0)),
            Box::new(ColumnExpr::Lit(i(2))),
        ),
    ];
    assert_eq!(
        join_calls(
            &plan(0, 0, false),
            Vec::new(),
            vec![d.clone(), e.clone()],
            &cols
        ),
        vec![
            vec![t(1), null.clone(), i(6)],
            vec![t(2), i(14), i(8)],
            vec![t(3), null.clone(), null.clone()],
            vec![t(4), i(35), i(10)],
        ]
    );
    // LIMIT 2 applies to each call's stream before the join.
    assert_eq!(
        join_calls(
            &plan(2, 0, false),
            Vec::new(),
            vec![d.clone(), e],
            &cols[..1]
        ),
        vec![
            vec![t(1), null.clone()],
            vec![t(2), i(14)],
            vec![t(3), null.clone()],
        ]
    );
    // mean(a) + derivative(a): the aggregate's one row (at the start) meets no
    // transformation row.
    let mean: Stream = vec![(0, i(100))];
    assert_eq!(
        join_calls(
            &plan(0, 0, false),
            vec![mean],
            vec![d],
            &[add(ColumnExpr::Agg(0), ColumnExpr::Tr(0))]
        ),
        vec![
            vec![t(0), null.clone()],
            vec![t(1), null.clone()],
            vec![t(2), null.clone()],
            vec![t(4), null],
        ]
    );
}

#[test]
fn a_transformations_aggregate_reads_one_interval_past_the_statements_range() {
    // mean(x), derivative(mean(x)), moving_average(mean(x), 4), cumulative_sum(mean(x))
    // with GROUP BY time(10) over [25, 49] (not on bucket boundaries).
    let windows = |desc: bool| -> Vec<(i64, i64)> {
        let mut layout = Layout::default();
        for (i, f) in [
            AggFn::Derivative,
            AggFn::MovingAverage,
            AggFn::CumulativeSum,
        ]
        .into_iter()
        .enumerate()
        {
            layout.trs.push(TransformCall {
                func: f,
                n: 4,
                unit: 0,
                analysis: Default::default(),
                season: 0,
                input: TransformInput::Agg(i + 1),
            });
        }
        layout.aggs = vec![spec(AggFn::Mean); 4];
        let mut p = plan(0, 0, desc);
        (p.tmin, p.tmax, p.has_tmin, p.has_tmax) = (25, 49, true, true);
        p.group_time = Some((10, 0));
        call_windows(&p, &mut layout);
        layout.aggs.iter().map(|a| (a.from, a.to)).collect()
    };
    // The column reads the statement's range; derivative and moving_average of any window
    // one interval more (bucket [20, 29] whole, [10, 19] from 15); cumulative_sum none.
    assert_eq!(windows(false), vec![(25, 49), (15, 49), (15, 49), (25, 49)]);
    // Newest first past the end instead.
    assert_eq!(windows(true), vec![(25, 49), (25, 59), (25, 59), (25, 49)]);
}

#[test]
fn a_transformation_of_a_transformation_reads_as_far_as_1x() {
    // moving_average(difference(difference(mean(x))), 2), GROUP BY time(10) over [25, 49].
    let tr = |func, input| TransformCall {
        func,
        n: 2,
        unit: 0,
        analysis: Default::default(),
        season: 0,
        input,
    };
    let mut layout = Layout {
        aggs: vec![spec(AggFn::Mean)],
        trs: vec![
            tr(AggFn::Difference, TransformInput::Agg(0)),
            tr(AggFn::Difference, TransformInput::Tr(0)),
            tr(AggFn::MovingAverage, TransformInput::Tr(1)),
        ],
        ..Layout::default()
    };
    // Every level widens the range by its own reach…
    assert_eq!(tr_reaches(&layout.trs), vec![3, 2, 1]);
    let mut p = plan(0, 0, false);
    (p.tmin, p.tmax, p.has_tmin, p.has_tmax) = (25, 49, true, true);
    p.group_time = Some((10, 0));
    assert_eq!(bucket_span(&p, &layout), (-5, 49));
    // … but data is read only as far as the statement's largest single reach
    // (moving_average: its window): the buckets before are empty.
    assert_eq!(extra_intervals(&layout.trs), 2);
    call_windows(&p, &mut layout);
    assert_eq!((layout.aggs[0].from, layout.aggs[0].to), (5, 49));
    p.desc = true;
    assert_eq!(bucket_span(&p, &layout), (25, 79));
    call_windows(&p, &mut layout);
    assert_eq!((layout.aggs[0].from, layout.aggs[0].to), (25, 69));
}

#[test]
fn fill_previous_and_linear_fill_each_call_in_the_answers_order() {
    let row = |t: i64, vals: &[Option<i64>]| -> (i64, Vec<AggregateValue>, Vec<bool>) {
        let outs = vals
            .iter()
            .map(|v| AggregateValue {
                value: v.map_or(Value::Null, Value::Integer),
                time: None,
                aux: None,
            })
            .collect();
        (t, outs, vals.iter().map(Option::is_some).collect())
    };
    // Two calls; the second has no points in bucket 1 though the first has.
    let rows = || {
        vec![
            row(0, &[Some(1), Some(10)]),
            row(1, &[Some(2), None]),
            row(2, &[None, None]),
            row(3, &[Some(4), Some(40)]),
        ]
    };
    let values = |rows: &[(i64, Vec<AggregateValue>, Vec<bool>)], c: usize| -> Vec<Value> {
        rows.iter().map(|r| r.1[c].value.clone()).collect()
    };
    let i = Value::Integer;
    let mut r = rows();
    fill_previous(&mut r, false);
    assert_eq!(values(&r, 0), vec![i(1), i(2), i(2), i(4)]);
    assert_eq!(values(&r, 1), vec![i(10), i(10), i(10), i(40)]);
    // ORDER BY time DESC: the previous bucket is the newer one.
    let mut r = rows();
    fill_previous(&mut r, true);
    assert_eq!(values(&r, 0), vec![i(1), i(2), i(4), i(4)]);
    assert_eq!(values(&r, 1), vec![i(10), i(40), i(40), i(40)]);
    let mut r = rows();
    fill_linear(&mut r);
    assert_eq!(values(&r, 0), vec![i(1), i(2), i(3), i(4)]);
    assert_eq!(values(&r, 1), vec![i(10), i(20), i(30), i(40)]);
}

#[test]
fn a_wildcard_call_inside_an_expression_is_1xs_error() {
    let mean = |arg| Call {
        func: AggFn::Mean,
        arg,
        n: 0,
        p: 0.0,
        unit: 0,
        analysis: Default::default(),
        season: 0,
        tags: Vec::new(),
    };
    let re = regex::Regex::new("u").unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        wildcard_in_expression(&mean(PlanExpr::Wildcard)).to_string(),
        Error::Query("unsupported expression with wildcard: mean()".into()).to_string()
    );
    assert_eq!(
        wildcard_in_expression(&mean(PlanExpr::Regex(re))).to_string(),
        Error::Query("unsupported expression with regex field: mean()".into()).to_string()
    );
}

#[test]
fn derivative_newest_first_keeps_elapsed_positive() {
    let spec = TransformCall {
        func: AggFn::Derivative,
        n: 0,
        unit: 0,
        analysis: Default::default(),
        season: 0,
        input: TransformInput::Var(0),
    };
    let s = 1_000_000_000;
    let mut d = TransformState::new(&spec, s);
    assert_eq!(d.push(2 * s, &Value::Float(5.0)), None);
    assert_eq!(d.push(0, &Value::Float(1.0)), Some(Value::Float(-2.0)));
}

#[test]
fn field_regex_matches_strings_only() {
    let re = regex::Regex::new("^b").unwrap_or_else(|e| panic!("{e}"));
    let index = SeriesIndex::new();
    index.insert_known(1, "m");
    let Some(info) = index.get(1) else {
        panic!("series 1 not indexed")
    };
    let fields = vec!["f".to_string()];
    let p = |negated| FieldPred::Match {
        field: "f".into(),
        re: re.clone(),
        negated,
    };
    let st = |x: &str| vec![Some(FieldValue::String(x.into()))];
    assert!(eval_field_pred(&p(false), &fields, &st("busy"), &info));
    assert!(!eval_field_pred(&p(false), &fields, &st("idle"), &info));
    assert!(eval_field_pred(&p(true), &fields, &st("idle"), &info));
    // Numbers and missing values match neither way.
    for vals in [vec![Some(FieldValue::Float(1.0))], vec![None]] {
        assert!(!eval_field_pred(&p(false), &fields, &vals, &info));
        assert!(!eval_field_pred(&p(true), &fields, &vals, &info));
    }
}

#[test]
fn expression_conditions_follow_1xs_evaluation() {
    let index = SeriesIndex::new();
    index.insert_known(1, "m");
    let Some(info) = index.get(1) else {
        panic!("series 1 not indexed")
    };
    let fields = vec!["i".to_string(), "f".to_string(), "b".to_string()];
    let var = |n: &str| PlanExpr::Var(n.into());
    let bin = |op, a, b| PlanExpr::Binary(op, Box::new(a), Box::new(b));
    let pred = |op, lhs, rhs| FieldPred::Expr {
        op,
        lhs,
        rhs,
        fields: fields.clone(),
    };
    let row = vec![
        Some(FieldValue::Integer(7)),
        None,
        Some(FieldValue::Boolean(true)),
    ];
    let holds = |p: &FieldPred| eval_field_pred(p, &fields, &row, &info);
    // Integers divide as integers in a condition: 7 / 2 = 3.
    let half = bin(ArithOp::Div, var("i"), PlanExpr::Integer(2));
    assert!(holds(&pred(CmpOp::Eq, half.clone(), PlanExpr::Integer(3))));
    assert!(!holds(&pred(CmpOp::Eq, half, PlanExpr::Number(3.5))));
    // Integer beside float compares as floats.
    assert!(holds(&pred(CmpOp::Lt, var("i"), PlanExpr::Number(7.5))));
    // A missing field compares false ...
    let f1 = bin(ArithOp::Add, var("f"), PlanExpr::Integer(1));
    assert!(!holds(&pred(CmpOp::Neq, f1.clone(), PlanExpr::Integer(5))));
    // ... but an expression's missing value beside a boolean is false; a name's is not.
    assert!(holds(&pred(CmpOp::Eq, f1, PlanExpr::Bool(false))));
    assert!(!holds(&pred(CmpOp::Eq, var("f"), PlanExpr::Bool(false))));
    // Booleans and strings: = and != only; no string arithmetic.
    assert!(holds(&pred(CmpOp::Eq, var("b"), PlanExpr::Bool(true))));
    assert!(!holds(&pred(CmpOp::Gte, var("b"), PlanExpr::Bool(true))));
    let s = |x: &str| PlanExpr::String(x.into());
    assert!(!holds(&pred(CmpOp::Gt, s("b"), s("a"))));
    let cat = bin(ArithOp::Add, s("a"), s("b"));
    assert!(!holds(&pred(CmpOp::Eq, cat, s("ab"))));
}

/// The rows of an integral of 10 s buckets over points `(seconds, value)` by
/// [`integral_rows`]: (bucket in seconds, area), in emission order.
fn bucket_integrals(points: &[(i64, FieldValue)], desc: bool) -> Vec<(i64, f64)> {
    let s = 1_000_000_000;
    let a = spec(AggFn::Integral);
    let mut buckets = BucketMap::default();
    for (t, v) in points {
        buckets.entry(t / 10 * 10 * s, std::slice::from_ref(&a))[0].add(
            &a,
            t * s,
            v.clone(),
            &Vec::new,
        );
    }
    integral_rows(&buckets, 0, 0, 10 * s, desc)
        .into_iter()
        .map(|(b, x)| (b / s, x))
        .collect()
}

#[test]
fn integral_newest_first_is_negative_and_gives_a_gap_to_the_older_bucket() {
    // (0s, 0), (20s, 20), (25s, 20) with 10s buckets; bucket 10s is empty.
    let f = |t, v| (t, FieldValue::Float(v));
    let pts = [f(0, 0.0), f(25, 25.0), f(27, 25.0)];
    // Oldest first: 0..10 to bucket 0 (interpolated 10 at 10s), 10..27 to bucket 20.
    assert_eq!(
        bucket_integrals(&pts, false),
        vec![(0, 50.0), (20, 262.5 + 50.0)]
    );
    // Newest first: 27..20 to bucket 20 (interpolated 20 at 20s), 20..0 to bucket 0.
    assert_eq!(
        bucket_integrals(&pts, true),
        vec![(20, -(50.0 + 112.5)), (0, -200.0)]
    );
}

#[test]
fn integer_integral_keeps_1xs_value_after_interpolating() {
    // (5s, 0), (15s, 20): interpolated 10 at 10s; 1.x integrates 10s..15s with the
    // interpolated value for the point at 15s and the previous point's 0: (10 + 0) / 2 * 5.
    let i = |t, v| (t, FieldValue::Integer(v));
    assert_eq!(
        bucket_integrals(&[i(5, 0), i(15, 20)], false),
        vec![(0, 25.0), (10, 25.0)]
    );
    let f = |t, v| (t, FieldValue::Float(v));
    assert_eq!(
        bucket_integrals(&[f(5, 0.0), f(15, 20.0)], false),
        vec![(0, 25.0), (10, 75.0)]
    );
}

#[test]
fn integral_interpolates_at_bucket_ends() {
    // (0s, 0), (15s, 15), (25s, 25): each bucket gets the area up to or from the
    // interpolated points (10s, 10) and (20s, 20).
    let f = |t, v| (t, FieldValue::Float(v));
    assert_eq!(
        bucket_integrals(&[f(0, 0.0), f(15, 15.0), f(25, 25.0)], false),
        vec![(0, 50.0), (10, 150.0), (20, 112.5)]
    );
}

#[test]
fn integral_drops_a_last_bucket_whose_last_point_is_at_its_start() {
    // As 1.x: (0s, 0), (20s, 20): bucket 20 (its only point at its start, the area over
    // the empty bucket 10 in it) gives no row; the same bucket in the middle does.
    let f = |t, v| (t, FieldValue::Float(v));
    assert_eq!(
        bucket_integrals(&[f(0, 0.0), f(20, 20.0)], false),
        vec![(0, 50.0)]
    );
    assert_eq!(
        bucket_integrals(&[f(0, 0.0), f(20, 20.0), f(25, 25.0)], false),
        vec![(0, 50.0), (20, 150.0 + 112.5)]
    );
    // Newest first a bucket never ends at a point's time: all rows.
    assert_eq!(
        bucket_integrals(&[f(0, 0.0), f(20, 20.0)], true),
        vec![(20, 0.0), (0, -200.0)]
    );
}

#[test]
fn integral_newest_first_emits_twice_a_bucket_with_a_point_at_its_start() {
    // 1.x: the point at 10s ends bucket 10 (newest first it ends at its start) and opens
    // it again; the next point ends it once more, with 0. Oldest first: one row each.
    let f = |t, v| (t, FieldValue::Float(v));
    let pts = [f(0, 1.0), f(10, 3.0), f(15, 5.0), f(40, 8.0)];
    assert_eq!(
        bucket_integrals(&pts, true),
        vec![(40, 0.0), (10, -182.5), (10, 0.0), (0, -20.0)]
    );
    assert_eq!(bucket_integrals(&pts, false), vec![(0, 20.0), (10, 46.5)]);
}

#[test]
fn transformations_of_an_integral_read_its_rows_at_their_times() {
    // derivative(integral(x)), difference(derivative(integral(x))), derivative(mean(x)).
    let tr = |func, input| TransformCall {
        func,
        n: 0,
        unit: 0,
        analysis: Default::default(),
        season: 0,
        input,
    };
    let trs = [
        tr(AggFn::Derivative, TransformInput::Agg(0)),
        tr(AggFn::Difference, TransformInput::Tr(0)),
        tr(AggFn::Derivative, TransformInput::Agg(1)),
    ];
    // Newest first, the rows of bucket 10 twice (a point at its start): both read, in
    // order, and the transformations over them lie at the bucket's end.
    let integrals = BTreeMap::from([(0, vec![(40, 0.0), (10, -182.5), (10, 0.0), (0, -20.0)])]);
    assert_eq!(tr_shifts(&trs, &integrals, 10), vec![10, 10, 0]);
    let by = integrals_by_bucket(&integrals);
    assert_eq!(
        by.get(&0).and_then(|b| b.get(&10)),
        Some(&vec![Value::Float(-182.5), Value::Float(0.0)])
    );
    assert_eq!(by.get(&0).map(BTreeMap::len), Some(3));
    assert_eq!(
        integral_stream(&integrals[&0], 10, 10, true),
        vec![
            (50, Value::Float(0.0)),
            (20, Value::Float(-182.5)),
            (20, Value::Float(0.0))
        ]
    );
}

#[test]
fn integral_without_group_by_time_has_no_row_ending_at_the_epoch() {
    let a = spec(AggFn::Integral);
    let mut acc = Accumulator::new(&a);
    for (t, v) in [(0, 1.0), (10, 3.0)] {
        acc.add(&a, t, FieldValue::Float(v), &Vec::new);
    }
    // Oldest first the last point is at 10; newest first at 0, the window's start.
    assert!(!integral_ends_at_epoch(&acc, false));
    assert!(integral_ends_at_epoch(&acc, true));
    assert!(!integral_ends_at_epoch(&Accumulator::new(&a), true));
    // Newest first: no row (null, gone) at the epoch; otherwise the area negated.
    let mut later = Accumulator::new(&a);
    for (t, v) in [(5, 1.0), (10, 3.0)] {
        later.add(&a, t * 1_000_000_000, FieldValue::Float(v), &Vec::new);
    }
    let aggs = [a.clone(), a.clone(), spec(AggFn::Mean)];
    let mut accs = [acc, later, Accumulator::new(&spec(AggFn::Mean))];
    let mut outs: Vec<AggregateValue> = aggs
        .iter()
        .zip(accs.iter_mut())
        .map(|(a, c)| c.finish(a))
        .collect();
    assert_eq!(
        finish_integrals(&aggs, &accs, &mut outs, true),
        vec![true, false, false]
    );
    assert_eq!(outs[0].value, Value::Null);
    assert_eq!(outs[1].value, Value::Float(-10.0));
}
