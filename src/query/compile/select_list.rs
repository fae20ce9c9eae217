//! The SELECT list: each column's calls compiled with InfluxDB 1.x's argument checks and
//! words (aggregates, selectors, transformations, technical analysis, holt_winters, math), and
//! the semantic checks of the list as a whole.

use crate::error::{Error, Result};
use crate::query::analysis::{AnalysisArgs, AnalysisFn, Warmup};
use crate::query::influxql::ast::{BinaryOp, Expr};
use crate::query::math::MathFn;
use crate::query::plan::{AggFn, ArithOp, Call, PlanExpr, Projection};

fn arg_count(name: &str, expected: &str, got: usize) -> Error {
    Error::Query(format!(
        "invalid number of arguments for {name}, expected {expected}, got {got}"
    ))
}

/// A duration argument (`derivative(x, 1m)`).
fn duration_arg(name: &str, e: &Expr) -> Result<i64> {
    match e.unparen() {
        Expr::Duration(d) if *d > 0 => Ok(*d),
        other => Err(Error::Query(format!(
            "second argument to {name} must be a duration, got {}",
            expr_kind(other)
        ))),
    }
}

pub(super) fn expr_kind(e: &Expr) -> &'static str {
    match e {
        Expr::Integer(_) => "*influxql.IntegerLiteral",
        Expr::Number(_) => "*influxql.NumberLiteral",
        Expr::String(_) => "*influxql.StringLiteral",
        Expr::Boolean(_) => "*influxql.BooleanLiteral",
        Expr::Duration(_) => "*influxql.DurationLiteral",
        Expr::VarRef { .. } => "*influxql.VarRef",
        Expr::Call { .. } => "*influxql.Call",
        Expr::Regex(_) => "*influxql.RegexLiteral",
        Expr::Binary { .. } | Expr::Neg(_) | Expr::Not(_) => "*influxql.BinaryExpr",
        Expr::Wildcard(_) => "*influxql.Wildcard",
        Expr::Paren(_) => "*influxql.ParenExpr",
    }
}

/// The field argument of an aggregate: a field, `*` or a regex.
fn field_arg(name: &str, e: &Expr) -> Result<PlanExpr> {
    match e.unparen() {
        Expr::VarRef { name: v, .. } => Ok(PlanExpr::Var(v.clone())),
        Expr::Wildcard(_) => Ok(PlanExpr::Wildcard),
        Expr::Regex(r) => Ok(PlanExpr::Regex(r.regex().clone())),
        Expr::Call {
            name: inner,
            args: iargs,
        } if name == "count" && inner == "distinct" => {
            let [a] = iargs.as_slice() else {
                return Err(arg_count("distinct", "1", iargs.len()));
            };
            Ok(PlanExpr::Call(Box::new(call(
                AggFn::Distinct,
                field_arg(inner, a)?,
            ))))
        }
        _ => Err(Error::Query(format!("expected field argument in {name}()"))),
    }
}

pub(crate) fn call(func: AggFn, arg: PlanExpr) -> Call {
    Call {
        func,
        arg,
        n: 0,
        p: 0.0,
        unit: 0,
        tags: Vec::new(),
        analysis: AnalysisArgs::default(),
        season: 0,
    }
}

fn compile_call(name: &str, args: &[Expr]) -> Result<Call> {
    let func = AggFn::from_name(name)
        .ok_or_else(|| Error::Query(format!("undefined function {name}()")))?;
    match func {
        AggFn::Percentile => {
            let [a, p] = args else {
                return Err(arg_count(name, "2", args.len()));
            };
            let mut c = call(func, field_arg(name, a)?);
            c.p = match p.unparen() {
                Expr::Integer(n) => *n as f64,
                Expr::Number(x) => *x,
                _ => {
                    return Err(Error::Query(
                        "expected float argument in percentile()".into(),
                    ))
                }
            };
            Ok(c)
        }
        AggFn::Top | AggFn::Bottom => {
            if args.len() < 2 {
                return Err(arg_count(name, "at least 2", args.len()));
            }
            let mut c = call(func, field_arg(name, &args[0])?);
            let last = &args[args.len() - 1];
            let n = match last.unparen() {
                Expr::Integer(n) => *n,
                Expr::Number(x) => {
                    return Err(Error::Query(format!(
                        "expected integer as last argument in {name}(), found {x:.3}"
                    )))
                }
                other => {
                    return Err(Error::Query(format!(
                        "expected integer as last argument in {name}(), found {other}"
                    )))
                }
            };
            if n < 1 {
                return Err(Error::Query(format!(
                    "limit ({n}) in {name} function must be at least 1"
                )));
            }
            c.n = n as usize;
            for t in &args[1..args.len() - 1] {
                match t.unparen() {
                    Expr::VarRef { name: tag, .. } => c.tags.push(tag.clone()),
                    other => {
                        return Err(Error::Query(format!(
                            "only fields or tags are allowed in {name}(), found {other}"
                        )))
                    }
                }
            }
            Ok(c)
        }
        AggFn::MovingAverage => {
            let [a, n] = args else {
                return Err(arg_count(name, "2", args.len()));
            };
            let mut c = call(func, transform_arg(name, a)?);
            c.n = match n.unparen() {
                Expr::Integer(n) if *n > 1 => *n as usize,
                Expr::Integer(n) => {
                    return Err(Error::Query(format!(
                        "moving_average window must be greater than 1, got {n}"
                    )))
                }
                other => {
                    return Err(Error::Query(format!(
                        "second argument for moving_average must be an integer, got {}",
                        expr_kind(other)
                    )))
                }
            };
            Ok(c)
        }
        AggFn::Derivative | AggFn::NonNegativeDerivative | AggFn::Elapsed | AggFn::Integral => {
            if args.is_empty() || args.len() > 2 {
                return Err(arg_count(name, "1 or 2", args.len()));
            }
            let arg = if func == AggFn::Integral {
                field_arg(name, &args[0])?
            } else {
                transform_arg(name, &args[0])?
            };
            let mut c = call(func, arg);
            if let Some(u) = args.get(1) {
                c.unit = duration_arg(name, u)?;
            }
            Ok(c)
        }
        _ if func.analysis().is_some() => analysis_call(func, name, args),
        AggFn::HoltWinters | AggFn::HoltWintersWithFit => holt_winters_call(func, name, args),
        AggFn::Difference | AggFn::NonNegativeDifference | AggFn::CumulativeSum => {
            let [a] = args else {
                return Err(arg_count(name, "1", args.len()));
            };
            Ok(call(func, transform_arg(name, a)?))
        }
        _ => {
            let [a] = args else {
                return Err(arg_count(name, "1", args.len()));
            };
            Ok(call(func, field_arg(name, a)?))
        }
    }
}

/// A technical-analysis function, `name(input, period[, hold_period[, warmup_type]])` (the
/// Kaufman functions take no warm-up type), with 1.x's checks and words.
fn analysis_call(func: AggFn, name: &str, args: &[Expr]) -> Result<Call> {
    let kaufman = matches!(
        func,
        AggFn::Analysis(AnalysisFn::KaufmansEfficiencyRatio)
            | AggFn::Analysis(AnalysisFn::KaufmansAdaptiveMovingAverage)
    );
    let most = if kaufman { 3 } else { 4 };
    if args.len() < 2 || args.len() > most {
        return Err(arg_count(
            name,
            &format!("at least 2 but no more than {most}"),
            args.len(),
        ));
    }
    let period = match args[1].unparen() {
        Expr::Integer(n) if *n >= 1 => *n,
        Expr::Integer(_) => {
            return Err(Error::Query(format!(
                "{name} period must be greater than or equal to 1"
            )))
        }
        _ => return Err(Error::Query(format!("{name} period must be an integer"))),
    };
    let mut analysis = AnalysisArgs::default();
    if func == AggFn::Analysis(AnalysisFn::ChandeMomentumOscillator) {
        // Its default is the unsmoothed oscillator.
        analysis.warmup = Warmup::None;
    }
    if let Some(hold) = args.get(2) {
        let least = if func == AggFn::Analysis(AnalysisFn::TripleExponentialDerivative) {
            1
        } else {
            0
        };
        analysis.hold_period = match hold.unparen() {
            Expr::Integer(-1) => None,
            Expr::Integer(n) if *n >= least => Some(usize::try_from(*n).unwrap_or(usize::MAX)),
            Expr::Integer(_) => {
                return Err(Error::Query(format!(
                    "{name} hold period must be greater than or equal to {least}"
                )))
            }
            _ => {
                return Err(Error::Query(format!(
                    "{name} hold period must be an integer"
                )))
            }
        };
    }
    if let Some(warmup) = args.get(3) {
        let Expr::String(kind) = warmup.unparen() else {
            return Err(Error::Query(format!("{name} warmup type must be a string")));
        };
        let cmo = func == AggFn::Analysis(AnalysisFn::ChandeMomentumOscillator);
        analysis.warmup = match Warmup::from_name(kind) {
            Some(Warmup::None) if !cmo => None,
            other => other,
        }
        .ok_or_else(|| {
            Error::Query(format!(
                "{name} warmup type must be one of: {}'exponential' 'simple'",
                if cmo { "'none' " } else { "" }
            ))
        })?;
    }
    let mut c = call(func, transform_arg(name, &args[0])?);
    c.n = usize::try_from(period).unwrap_or(usize::MAX);
    c.analysis = analysis;
    Ok(c)
}

/// `holt_winters[_with_fit](aggregate, N, S)`, with 1.x's checks and words (the aggregate and
/// the GROUP BY interval are checked with the other transformations').
fn holt_winters_call(func: AggFn, name: &str, args: &[Expr]) -> Result<Call> {
    let [input, horizon, season] = args else {
        return Err(Error::Query(format!(
            "invalid number of arguments for {name}, expected 3, got {}",
            args.len()
        )));
    };
    let Expr::Call { .. } = input.unparen() else {
        return Err(Error::Query(format!(
            "must use aggregate function with {name}"
        )));
    };
    let horizon = match horizon.unparen() {
        Expr::Integer(n) if *n > 0 => *n,
        Expr::Integer(n) => {
            return Err(Error::Query(format!(
                "second arg to {name} must be greater than 0, got {n}"
            )))
        }
        _ => {
            return Err(Error::Query(format!(
                "expected integer argument as second arg in {name}"
            )))
        }
    };
    let season = match season.unparen() {
        Expr::Integer(n) if *n < 0 => {
            return Err(Error::Query(format!(
                "third arg to {name} cannot be negative, got {n}"
            )))
        }
        Expr::Integer(n) => *n,
        _ => {
            return Err(Error::Query(format!(
                "expected integer argument as third arg in {name}"
            )))
        }
    };
    let mut c = call(func, transform_arg(name, input)?);
    c.n = usize::try_from(horizon).unwrap_or(usize::MAX);
    c.season = usize::try_from(season).unwrap_or(0);
    Ok(c)
}

/// The argument of a transformation: a field, or a call (an aggregate, or a transformation of
/// one, [`validate_transform`]).
fn transform_arg(name: &str, e: &Expr) -> Result<PlanExpr> {
    match e.unparen() {
        Expr::Call { name: inner, args } => {
            Ok(PlanExpr::Call(Box::new(compile_call(inner, args)?)))
        }
        Expr::VarRef { name: v, .. } => Ok(PlanExpr::Var(v.clone())),
        Expr::Wildcard(_) => Ok(PlanExpr::Wildcard),
        Expr::Regex(r) => Ok(PlanExpr::Regex(r.regex().clone())),
        _ => Err(Error::Query(format!("expected field argument in {name}()"))),
    }
}

/// One expression of the SELECT list.
pub(super) fn compile_field(e: &Expr) -> Result<PlanExpr> {
    Ok(match e.unparen() {
        Expr::Wildcard(_) => PlanExpr::Wildcard,
        Expr::Regex(r) => PlanExpr::Regex(r.regex().clone()),
        Expr::VarRef { name, .. } => PlanExpr::Var(name.clone()),
        Expr::Integer(n) => PlanExpr::Integer(*n),
        Expr::Number(x) => PlanExpr::Number(*x),
        Expr::String(s) => PlanExpr::String(s.clone()),
        Expr::Boolean(b) => PlanExpr::Bool(*b),
        Expr::Duration(d) => PlanExpr::Integer(*d),
        Expr::Neg(x) => PlanExpr::Binary(
            ArithOp::Mul,
            Box::new(PlanExpr::Integer(-1)),
            Box::new(compile_field(x)?),
        ),
        Expr::Call { name, args } => match MathFn::from_name(name) {
            Some(func) => {
                if args.len() != func.arity() {
                    return Err(arg_count(name, &func.arity().to_string(), args.len()));
                }
                PlanExpr::Math(func, args.iter().map(compile_field).collect::<Result<_>>()?)
            }
            None => PlanExpr::Call(Box::new(compile_call(name, args)?)),
        },
        Expr::Binary { op, lhs, rhs } if op.is_arithmetic() => {
            let op = match op {
                BinaryOp::Add => ArithOp::Add,
                BinaryOp::Sub => ArithOp::Sub,
                BinaryOp::Mul => ArithOp::Mul,
                BinaryOp::Div => ArithOp::Div,
                _ => ArithOp::Mod,
            };
            PlanExpr::Binary(
                op,
                Box::new(compile_field(lhs)?),
                Box::new(compile_field(rhs)?),
            )
        }
        other => {
            return Err(Error::Query(format!(
                "invalid expression in the SELECT list: {other}"
            )))
        }
    })
}

/// InfluxDB 1.x's checks of a transformation's argument, down through transformations of
/// transformations.
pub(super) fn validate_transform(c: &Call, group_by_time: bool) -> Result<()> {
    if !c.func.is_transform() {
        return Ok(());
    }
    match &c.arg {
        PlanExpr::Call(inner) => {
            if !group_by_time {
                return Err(Error::Query(format!(
                    "{} aggregate requires a GROUP BY interval",
                    c.func.name()
                )));
            }
            if matches!(inner.func, AggFn::Top | AggFn::Bottom) {
                return Err(Error::Query(format!(
                    "selector function {}() cannot be combined with other functions",
                    inner.func.name()
                )));
            }
            validate_transform(inner, group_by_time)
        }
        _ if group_by_time => Err(Error::Query(format!(
            "aggregate function required inside the call to {}",
            c.func.name()
        ))),
        _ => Ok(()),
    }
}

/// Whether a column names something to read: a field or tag, a call, `*` or a regex (not in a
/// math function: `abs(/usage/)` reads nothing in 1.x).
fn mentions_variable(e: &PlanExpr) -> bool {
    match e {
        PlanExpr::Var(_) | PlanExpr::Call(_) | PlanExpr::Wildcard | PlanExpr::Regex(_) => true,
        PlanExpr::Binary(_, a, b) => mentions_variable(a) || mentions_variable(b),
        PlanExpr::Math(_, args) => args
            .iter()
            .any(|a| !matches!(a, PlanExpr::Regex(_)) && mentions_variable(a)),
        PlanExpr::Integer(_) | PlanExpr::Number(_) | PlanExpr::String(_) | PlanExpr::Bool(_) => {
            false
        }
    }
}

/// Whether the column is `*` or a regex outside any call (`*`, `abs(*)`): raw fields. (In
/// arithmetic, `mean(a) + *`, it is refused later: "unable to use wildcard in a binary
/// expression", 1.x's error.)
fn bare_wildcard(e: &PlanExpr) -> bool {
    match e {
        PlanExpr::Wildcard | PlanExpr::Regex(_) => true,
        PlanExpr::Math(_, args) => args.iter().any(bare_wildcard),
        _ => false,
    }
}

/// InfluxDB 1.x's semantic checks of the SELECT list.
pub(super) fn validate_projections(ps: &[Projection], group_by_time: bool) -> Result<()> {
    if ps.iter().any(|p| !mentions_variable(&p.expr)) {
        return Err(Error::Query(
            "field must contain at least one variable".into(),
        ));
    }
    let mut calls = Vec::new();
    let mut vars = Vec::new();
    for p in ps {
        p.expr.calls(&mut calls);
        p.expr.bare_vars(&mut vars);
        if bare_wildcard(&p.expr) {
            vars.push("*");
        }
    }
    if calls.is_empty() {
        if group_by_time {
            return Err(Error::Query(
                "GROUP BY requires at least one aggregate function".into(),
            ));
        }
        return Ok(());
    }
    for c in &calls {
        validate_transform(c, group_by_time)?;
    }
    if !vars.is_empty() {
        let selectors = calls.iter().filter(|c| c.func.is_selector()).count();
        if calls.len() != 1 || selectors != 1 {
            return Err(Error::Query(if selectors > 1 {
                "mixing multiple selector functions with tags or fields is not supported".into()
            } else if calls.iter().any(|c| c.func == AggFn::Distinct) {
                "aggregate function distinct() cannot be combined with other functions or fields"
                    .into()
            } else {
                "mixing aggregate and non-aggregate queries is not supported".into()
            }));
        }
    }
    if calls.len() > 1 {
        for c in &calls {
            let msg = match c.func {
                AggFn::Top | AggFn::Bottom => format!(
                    "selector function {}() cannot be combined with other functions",
                    c.func.name()
                ),
                AggFn::Distinct => {
                    "aggregate function distinct() cannot be combined with other functions or fields"
                        .into()
                }
                _ => continue,
            };
            return Err(Error::Query(msg));
        }
    }
    Ok(())
}
