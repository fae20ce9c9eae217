//! The columns of one measurement's answer: `*` and regexes expanded against its schema, every
//! column resolved to variables, aggregate calls and transformations, and the type checks
//! InfluxDB 1.x makes.

use super::windows::call_windows;
use crate::error::{Error, Result};
use crate::query::analysis::AnalysisArgs;
use crate::query::compile::unsupported;
use crate::query::math::{ArgType, MathFn};
use crate::query::plan::{AggFn, ArithOp, Call, PlanExpr, SelectPlan};
use crate::query::result::Value;
use crate::types::FieldType;
use std::collections::BTreeMap;

/// Resolved column expression of one measurement.
#[derive(Clone, Debug)]
pub(super) enum ColumnExpr {
    /// Index into the query's variables (fields or tags).
    Var(usize),
    Lit(Value),
    Bin(ArithOp, Box<ColumnExpr>, Box<ColumnExpr>),
    /// A math function of its arguments (one or two).
    Math(MathFn, Vec<ColumnExpr>),
    /// Index into the aggregate calls.
    Agg(usize),
    /// Index into the transformations.
    Tr(usize),
}

/// One aggregate or selector call over a field.
#[derive(Clone, Debug)]
pub(super) struct AggregateCall {
    pub(super) func: AggFn,
    pub(super) field: usize,
    pub(super) n: usize,
    pub(super) p: f64,
    pub(super) unit: i64,
    /// `count(distinct(x))`.
    pub(super) count_distinct: bool,
    /// top/bottom tag arguments (variable indexes).
    pub(super) tags: Vec<usize>,
    /// The query reads newest first (ORDER BY time DESC): distinct() keeps each value's newest
    /// point, the one 1.x meets first then.
    pub(super) newest_first: bool,
    /// The time range the call reads (inclusive): the statement's, widened for the input of a
    /// transformation ([`call_windows`]).
    pub(super) from: i64,
    pub(super) to: i64,
}

impl AggregateCall {
    /// Whether the call reads a point at `ts`.
    pub(super) fn reads(&self, ts: i64) -> bool {
        self.from <= ts && ts <= self.to
    }
}

/// A transformation over raw points of a field or over an aggregate's buckets.
#[derive(Clone, Debug)]
pub(super) struct TransformCall {
    pub(super) func: AggFn,
    pub(super) n: usize,
    pub(super) unit: i64,
    /// A technical-analysis function's hold period and warm-up (`n` is its period).
    pub(super) analysis: AnalysisArgs,
    /// holt_winters' season length (`n` is its horizon).
    pub(super) season: usize,
    pub(super) input: TransformInput,
}

#[derive(Clone, Debug)]
pub(super) enum TransformInput {
    Var(usize),
    Agg(usize),
    /// Another transformation's output (`derivative(difference(mean(x)))`).
    Tr(usize),
}

/// How a variable is read for a series.
#[derive(Clone, Debug)]
pub(super) enum VariableSource {
    Field(usize),
    Tag(String),
}

/// The columns of one measurement's answer.
#[derive(Default)]
pub(super) struct Layout {
    pub(super) names: Vec<String>,
    pub(super) exprs: Vec<ColumnExpr>,
    pub(super) vars: Vec<String>,
    pub(super) aggs: Vec<AggregateCall>,
    pub(super) trs: Vec<TransformCall>,
}

impl Layout {
    pub(super) fn var(&mut self, name: &str) -> usize {
        if let Some(i) = self.vars.iter().position(|v| v == name) {
            return i;
        }
        self.vars.push(name.to_string());
        self.vars.len() - 1
    }

    pub(super) fn call(&mut self, c: &Call, field: Option<&str>) -> Result<ColumnExpr> {
        let field_of = |arg: &PlanExpr| -> Option<String> {
            match arg {
                PlanExpr::Var(v) => Some(v.clone()),
                _ => field.map(str::to_string),
            }
        };
        if c.func.is_transform() {
            let input = match &c.arg {
                PlanExpr::Call(inner) => match self.call(inner, field)? {
                    ColumnExpr::Agg(i) => TransformInput::Agg(i),
                    ColumnExpr::Tr(i) => TransformInput::Tr(i),
                    _ => return Err(unsupported("this transformation argument")),
                },
                arg => {
                    let f = field_of(arg).ok_or_else(|| wildcard_in_expression(c))?;
                    TransformInput::Var(self.var(&f))
                }
            };
            self.trs.push(TransformCall {
                func: c.func,
                n: c.n,
                unit: c.unit,
                analysis: c.analysis,
                season: c.season,
                input,
            });
            return Ok(ColumnExpr::Tr(self.trs.len() - 1));
        }
        let (count_distinct, f) = match &c.arg {
            PlanExpr::Call(inner) if inner.func == AggFn::Distinct => (true, field_of(&inner.arg)),
            arg => (false, field_of(arg)),
        };
        let f = f.ok_or_else(|| wildcard_in_expression(c))?;
        let field = self.var(&f);
        let tags = c.tags.iter().map(|t| self.var(t)).collect();
        self.aggs.push(AggregateCall {
            func: c.func,
            field,
            n: c.n,
            p: c.p,
            unit: c.unit,
            count_distinct,
            tags,
            newest_first: false,
            from: i64::MIN,
            to: i64::MAX,
        });
        Ok(ColumnExpr::Agg(self.aggs.len() - 1))
    }

    pub(super) fn expr(&mut self, e: &PlanExpr, field: Option<&str>) -> Result<ColumnExpr> {
        Ok(match e {
            PlanExpr::Var(v) => ColumnExpr::Var(self.var(v)),
            PlanExpr::Integer(n) => ColumnExpr::Lit(Value::Integer(*n)),
            PlanExpr::Number(x) => ColumnExpr::Lit(Value::Float(*x)),
            PlanExpr::String(s) => ColumnExpr::Lit(Value::string(s.clone())),
            PlanExpr::Bool(b) => ColumnExpr::Lit(Value::Boolean(*b)),
            PlanExpr::Binary(op, a, b) => ColumnExpr::Bin(
                *op,
                Box::new(self.expr(a, field)?),
                Box::new(self.expr(b, field)?),
            ),
            PlanExpr::Call(c) => self.call(c, field)?,
            PlanExpr::Math(func, args) => ColumnExpr::Math(
                *func,
                args.iter()
                    .map(|a| self.expr(a, field))
                    .collect::<Result<_>>()?,
            ),
            // (1.x rejects a regex there when parsing; strata's parser takes it.)
            PlanExpr::Wildcard | PlanExpr::Regex(_) => {
                return Err(Error::Query(
                    "unable to use wildcard in a binary expression".into(),
                ))
            }
        })
    }
}

/// InfluxDB 1.x's error for a call over `*` or a regex inside an expression (`mean(*) * 2`),
/// which expands only as a column of its own.
pub(super) fn wildcard_in_expression(c: &Call) -> Error {
    let what = match call_wildcard(c) {
        Some(PlanExpr::Regex(_)) => "regex field",
        Some(_) => "wildcard",
        None => return unsupported("this function argument"),
    };
    Error::Query(format!(
        "unsupported expression with {what}: {}()",
        c.func.name()
    ))
}

/// The innermost field argument of a call, when it is `*` or a regex.
pub(super) fn call_wildcard(c: &Call) -> Option<&PlanExpr> {
    match &c.arg {
        PlanExpr::Wildcard | PlanExpr::Regex(_) => Some(&c.arg),
        PlanExpr::Call(inner) => call_wildcard(inner),
        _ => None,
    }
}

/// InfluxDB 1.x's error for a transformation other than elapsed() of the distinct() values of
/// a string or boolean field.
pub(super) fn distinct_input_accepted(
    c: &Call,
    schema: &BTreeMap<String, FieldType>,
) -> Result<()> {
    let PlanExpr::Call(inner) = &c.arg else {
        return Ok(());
    };
    let PlanExpr::Var(f) = &inner.arg else {
        return Ok(());
    };
    let kind = match schema.get(f) {
        Some(FieldType::String) => "string",
        Some(FieldType::Boolean) => "boolean",
        _ => return Ok(()),
    };
    let name = match c.func {
        AggFn::Derivative | AggFn::NonNegativeDerivative => "derivative",
        AggFn::Difference | AggFn::NonNegativeDifference => "difference",
        AggFn::CumulativeSum => "cumulative sum",
        AggFn::MovingAverage => "moving average",
        _ => return Ok(()),
    };
    if inner.func != AggFn::Distinct {
        return Ok(());
    }
    Err(Error::Query(format!(
        "unsupported {name} iterator type: *query.{kind}IntervalIterator"
    )))
}

/// InfluxDB 1.x's error for a technical-analysis function of a string or boolean field.
fn analysis_input_accepted(c: &Call, schema: &BTreeMap<String, FieldType>) -> Result<()> {
    let PlanExpr::Var(f) = &c.arg else {
        return Ok(());
    };
    let kind = match schema.get(f) {
        Some(FieldType::String) => "string",
        Some(FieldType::Boolean) => "boolean",
        _ => return Ok(()),
    };
    if c.func.analysis().is_none() {
        return Ok(());
    }
    Err(Error::Query(format!(
        "unsupported {} iterator type: *query.{kind}InterruptIterator",
        c.func.name().replace('_', " ")
    )))
}

pub(super) fn agg_accepts(func: AggFn, t: FieldType) -> bool {
    let numeric = matches!(
        t,
        FieldType::Float | FieldType::Integer | FieldType::Unsigned
    );
    match func {
        AggFn::Count | AggFn::First | AggFn::Last | AggFn::Distinct | AggFn::Mode => true,
        AggFn::Min | AggFn::Max => numeric || t == FieldType::Boolean,
        _ => numeric,
    }
}

pub(super) fn dedup_names(cols: &[String]) -> Vec<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut out = Vec::with_capacity(cols.len());
    for c in cols {
        let n = seen.entry(c.clone()).or_insert(0);
        if *n == 0 {
            out.push(c.clone());
        } else {
            out.push(format!("{c}_{n}"));
        }
        *n += 1;
    }
    out
}

/// Expand `*` and regexes against the measurement's schema and resolve every column.
pub(super) fn build_layout(
    plan: &SelectPlan,
    schema: &BTreeMap<String, FieldType>,
    tag_keys: &[String],
    group_keys: &[String],
) -> Result<Layout> {
    let mut layout = Layout::default();
    for p in &plan.projections {
        match &p.expr {
            PlanExpr::Wildcard => {
                let mut all: Vec<String> = schema.keys().cloned().collect();
                for t in tag_keys {
                    if !group_keys.contains(t) && !schema.contains_key(t) {
                        all.push(t.clone());
                    }
                }
                all.sort();
                for n in all {
                    let e = ColumnExpr::Var(layout.var(&n));
                    layout.names.push(n);
                    layout.exprs.push(e);
                }
            }
            PlanExpr::Regex(re) => {
                for n in schema.keys().filter(|f| re.is_match(f)) {
                    let e = ColumnExpr::Var(layout.var(n));
                    layout.names.push(n.clone());
                    layout.exprs.push(e);
                }
            }
            PlanExpr::Call(c) if call_wildcard(c).is_some() => {
                let matcher = call_wildcard(c);
                let mut inner = c.as_ref();
                while let PlanExpr::Call(i) = &inner.arg {
                    inner = i;
                }
                for (f, t) in schema {
                    let ok = match matcher {
                        Some(PlanExpr::Regex(re)) => re.is_match(f),
                        _ => true,
                    };
                    if !ok || !agg_accepts(inner.func, *t) {
                        continue;
                    }
                    let e = layout.call(c, Some(f))?;
                    layout.names.push(format!("{}_{f}", p.name));
                    layout.exprs.push(e);
                }
            }
            // `abs(*)`, `round(mean(/usage/))`: one column per field, named `abs_load`, as 1.x
            // expands them: over the numeric fields, or those the inner call takes. (1.x checks
            // no argument type of an expanded field: `round(first(*))` answers null for a
            // string field.)
            PlanExpr::Math(..) if math_wildcard(&p.expr).is_some() => {
                let Some((matcher, inner)) = math_wildcard(&p.expr) else {
                    continue;
                };
                for (f, t) in schema {
                    let matches = match matcher {
                        PlanExpr::Regex(re) => re.is_match(f),
                        _ => true,
                    };
                    let accepted = match inner {
                        Some(func) => agg_accepts(func, *t),
                        None => matches!(
                            t,
                            FieldType::Float | FieldType::Integer | FieldType::Unsigned
                        ),
                    };
                    if !matches || !accepted {
                        continue;
                    }
                    let e = layout.expr(&with_field(&p.expr, f), None)?;
                    layout.names.push(format!("{}_{f}", p.name));
                    layout.exprs.push(e);
                }
            }
            other => {
                check_math_arguments(other, schema, tag_keys)?;
                let e = layout.expr(other, None)?;
                if let PlanExpr::Call(c) = other {
                    distinct_input_accepted(c, schema)?;
                    analysis_input_accepted(c, schema)?;
                    if let PlanExpr::Var(f) = &c.arg {
                        if let Some(t) = schema.get(f) {
                            if !agg_accepts(c.func, *t) && !c.func.is_transform() {
                                return Err(Error::Query(format!(
                                    "unsupported {} iterator type: {} field {f:?}",
                                    c.func.name(),
                                    t
                                )));
                            }
                        }
                    }
                    // top(field, tag, …, N) answers the tags as columns too.
                    layout.names.push(p.name.clone());
                    layout.exprs.push(e);
                    for t in &c.tags {
                        let e = ColumnExpr::Var(layout.var(t));
                        layout.names.push(t.clone());
                        layout.exprs.push(e);
                    }
                    continue;
                }
                layout.names.push(p.name.clone());
                layout.exprs.push(e);
            }
        }
    }
    for a in &mut layout.aggs {
        a.newest_first = plan.desc;
    }
    call_windows(plan, &mut layout);
    Ok(layout)
}

/// The `*` or regex a math function's first argument expands over (directly, `abs(*)`, or in
/// its call, `round(mean(/usage/))`), and that call's function. A regex directly in a math
/// function is not expanded (1.x: "field must contain at least one variable").
fn math_wildcard(e: &PlanExpr) -> Option<(&PlanExpr, Option<AggFn>)> {
    let PlanExpr::Math(_, args) = e else {
        return None;
    };
    match args.first()? {
        w @ PlanExpr::Wildcard => Some((w, None)),
        PlanExpr::Call(c) => {
            let mut inner = c.as_ref();
            while let PlanExpr::Call(i) = &inner.arg {
                inner = i;
            }
            call_wildcard(c).map(|w| (w, Some(inner.func)))
        }
        nested @ PlanExpr::Math(..) => math_wildcard(nested),
        _ => None,
    }
}

/// `e` with every `*` and regex replaced by the field `f`.
fn with_field(e: &PlanExpr, f: &str) -> PlanExpr {
    match e {
        PlanExpr::Wildcard | PlanExpr::Regex(_) => PlanExpr::Var(f.to_string()),
        PlanExpr::Math(func, args) => {
            PlanExpr::Math(*func, args.iter().map(|a| with_field(a, f)).collect())
        }
        PlanExpr::Call(c) => {
            let mut c = c.as_ref().clone();
            c.arg = with_field(&c.arg, f);
            PlanExpr::Call(Box::new(c))
        }
        PlanExpr::Binary(op, a, b) => {
            PlanExpr::Binary(*op, Box::new(with_field(a, f)), Box::new(with_field(b, f)))
        }
        other => other.clone(),
    }
}

/// 1.x's type checks of the math functions' arguments, wherever they are in `e`.
fn check_math_arguments(
    e: &PlanExpr,
    schema: &BTreeMap<String, FieldType>,
    tag_keys: &[String],
) -> Result<()> {
    match e {
        PlanExpr::Math(func, args) => {
            let types: Vec<ArgType> = args.iter().map(|a| arg_type(a, schema, tag_keys)).collect();
            func.check_args(&types).map_err(Error::Query)?;
            args.iter()
                .try_for_each(|a| check_math_arguments(a, schema, tag_keys))
        }
        PlanExpr::Binary(_, a, b) => {
            check_math_arguments(a, schema, tag_keys)?;
            check_math_arguments(b, schema, tag_keys)
        }
        _ => Ok(()),
    }
}

/// The type of what `e` answers, as far as the schema tells (1.x's type mapper).
fn arg_type(e: &PlanExpr, schema: &BTreeMap<String, FieldType>, tag_keys: &[String]) -> ArgType {
    match e {
        PlanExpr::Var(v) => match schema.get(v) {
            Some(FieldType::Float) => ArgType::Float,
            Some(FieldType::Integer) => ArgType::Integer,
            Some(FieldType::Unsigned) => ArgType::Unsigned,
            Some(FieldType::String) => ArgType::String,
            Some(FieldType::Boolean) => ArgType::Boolean,
            None if tag_keys.contains(v) => ArgType::Tag,
            None => ArgType::Unknown,
        },
        PlanExpr::Integer(_) => ArgType::Integer,
        PlanExpr::Number(_) => ArgType::Float,
        PlanExpr::String(_) => ArgType::String,
        PlanExpr::Bool(_) => ArgType::Boolean,
        PlanExpr::Call(c) => match c.func {
            AggFn::Count | AggFn::Elapsed => ArgType::Integer,
            AggFn::Mean
            | AggFn::Median
            | AggFn::Stddev
            | AggFn::Integral
            | AggFn::Derivative
            | AggFn::NonNegativeDerivative
            | AggFn::MovingAverage => ArgType::Float,
            // Selectors, sum, spread, mode, distinct, difference, cumulative_sum: the type of
            // what they read.
            _ => arg_type(&c.arg, schema, tag_keys),
        },
        PlanExpr::Math(func, args) => match func {
            MathFn::Abs | MathFn::Floor | MathFn::Ceil | MathFn::Round => args
                .first()
                .map_or(ArgType::Unknown, |a| arg_type(a, schema, tag_keys)),
            _ => ArgType::Float,
        },
        PlanExpr::Binary(..) | PlanExpr::Wildcard | PlanExpr::Regex(_) => ArgType::Unknown,
    }
}

/// The fields a layout reads (its field variables, then those of the field condition) and
/// where each variable comes from: a field (its index in the fields) or a tag.
pub(super) fn read_fields(
    plan: &SelectPlan,
    layout: &Layout,
    schema: &BTreeMap<String, FieldType>,
    tag_keys: &[String],
) -> (Vec<String>, Vec<VariableSource>) {
    let mut fields: Vec<String> = Vec::new();
    let mut sources = Vec::with_capacity(layout.vars.len());
    for v in &layout.vars {
        if schema.contains_key(v) || !tag_keys.contains(v) {
            sources.push(VariableSource::Field(fields.len()));
            fields.push(v.clone());
        } else {
            sources.push(VariableSource::Tag(v.clone()));
        }
    }
    if let Some(fp) = &plan.field_filter {
        fp.fields(&mut fields);
    }
    (fields, sources)
}
