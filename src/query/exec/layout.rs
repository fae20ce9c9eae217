//! The columns of one measurement's answer: `*` and regexes expanded against its schema, every
//! column resolved to variables, aggregate calls and transformations, and the type checks
//! InfluxDB 1.x makes.

use super::windows::call_windows;
use crate::error::{Error, Result};
use crate::query::compile::unsupported;
use crate::query::plan::{AggFn, ArithOp, Call, PExpr, SelectPlan};
use crate::query::result::Value;
use crate::types::FieldType;
use std::collections::BTreeMap;

/// Resolved column expression of one measurement.
#[derive(Clone, Debug)]
pub(super) enum E {
    /// Index into the query's variables (fields or tags).
    Var(usize),
    Lit(Value),
    Bin(ArithOp, Box<E>, Box<E>),
    /// Index into the aggregate calls.
    Agg(usize),
    /// Index into the transformations.
    Tr(usize),
}

/// One aggregate or selector call over a field.
#[derive(Clone, Debug)]
pub(super) struct AggSpec {
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

impl AggSpec {
    /// Whether the call reads a point at `ts`.
    pub(super) fn reads(&self, ts: i64) -> bool {
        self.from <= ts && ts <= self.to
    }
}

/// A transformation over raw points of a field or over an aggregate's buckets.
#[derive(Clone, Debug)]
pub(super) struct TrSpec {
    pub(super) func: AggFn,
    pub(super) n: usize,
    pub(super) unit: i64,
    pub(super) input: TrInput,
}

#[derive(Clone, Debug)]
pub(super) enum TrInput {
    Var(usize),
    Agg(usize),
    /// Another transformation's output (`derivative(difference(mean(x)))`).
    Tr(usize),
}

/// How a variable is read for a series.
#[derive(Clone, Debug)]
pub(super) enum VarSrc {
    Field(usize),
    Tag(String),
}

/// The columns of one measurement's answer.
#[derive(Default)]
pub(super) struct Layout {
    pub(super) names: Vec<String>,
    pub(super) exprs: Vec<E>,
    pub(super) vars: Vec<String>,
    pub(super) aggs: Vec<AggSpec>,
    pub(super) trs: Vec<TrSpec>,
}

impl Layout {
    pub(super) fn var(&mut self, name: &str) -> usize {
        if let Some(i) = self.vars.iter().position(|v| v == name) {
            return i;
        }
        self.vars.push(name.to_string());
        self.vars.len() - 1
    }

    pub(super) fn call(&mut self, c: &Call, field: Option<&str>) -> Result<E> {
        let field_of = |arg: &PExpr| -> Option<String> {
            match arg {
                PExpr::Var(v) => Some(v.clone()),
                _ => field.map(str::to_string),
            }
        };
        if c.func.is_transform() {
            let input = match &c.arg {
                PExpr::Call(inner) => match self.call(inner, field)? {
                    E::Agg(i) => TrInput::Agg(i),
                    E::Tr(i) => TrInput::Tr(i),
                    _ => return Err(unsupported("this transformation argument")),
                },
                arg => {
                    let f = field_of(arg).ok_or_else(|| wildcard_in_expression(c))?;
                    TrInput::Var(self.var(&f))
                }
            };
            self.trs.push(TrSpec {
                func: c.func,
                n: c.n,
                unit: c.unit,
                input,
            });
            return Ok(E::Tr(self.trs.len() - 1));
        }
        let (count_distinct, f) = match &c.arg {
            PExpr::Call(inner) if inner.func == AggFn::Distinct => (true, field_of(&inner.arg)),
            arg => (false, field_of(arg)),
        };
        let f = f.ok_or_else(|| wildcard_in_expression(c))?;
        let field = self.var(&f);
        let tags = c.tags.iter().map(|t| self.var(t)).collect();
        self.aggs.push(AggSpec {
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
        Ok(E::Agg(self.aggs.len() - 1))
    }

    pub(super) fn expr(&mut self, e: &PExpr, field: Option<&str>) -> Result<E> {
        Ok(match e {
            PExpr::Var(v) => E::Var(self.var(v)),
            PExpr::Integer(n) => E::Lit(Value::Integer(*n)),
            PExpr::Number(x) => E::Lit(Value::Float(*x)),
            PExpr::String(s) => E::Lit(Value::string(s.clone())),
            PExpr::Bool(b) => E::Lit(Value::Boolean(*b)),
            PExpr::Binary(op, a, b) => E::Bin(
                *op,
                Box::new(self.expr(a, field)?),
                Box::new(self.expr(b, field)?),
            ),
            PExpr::Call(c) => self.call(c, field)?,
            // (1.x rejects a regex there when parsing; strata's parser takes it.)
            PExpr::Wildcard | PExpr::Regex(_) => {
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
        Some(PExpr::Regex(_)) => "regex field",
        Some(_) => "wildcard",
        None => return unsupported("this function argument"),
    };
    Error::Query(format!(
        "unsupported expression with {what}: {}()",
        c.func.name()
    ))
}

/// The innermost field argument of a call, when it is `*` or a regex.
pub(super) fn call_wildcard(c: &Call) -> Option<&PExpr> {
    match &c.arg {
        PExpr::Wildcard | PExpr::Regex(_) => Some(&c.arg),
        PExpr::Call(inner) => call_wildcard(inner),
        _ => None,
    }
}

/// InfluxDB 1.x's error for a transformation other than elapsed() of the distinct() values of
/// a string or boolean field.
pub(super) fn distinct_input_accepted(
    c: &Call,
    schema: &BTreeMap<String, FieldType>,
) -> Result<()> {
    let PExpr::Call(inner) = &c.arg else {
        return Ok(());
    };
    let PExpr::Var(f) = &inner.arg else {
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
pub(super) fn layout(
    plan: &SelectPlan,
    schema: &BTreeMap<String, FieldType>,
    tag_keys: &[String],
    group_keys: &[String],
) -> Result<Layout> {
    let mut l = Layout::default();
    for p in &plan.projections {
        match &p.expr {
            PExpr::Wildcard => {
                let mut all: Vec<String> = schema.keys().cloned().collect();
                for t in tag_keys {
                    if !group_keys.contains(t) && !schema.contains_key(t) {
                        all.push(t.clone());
                    }
                }
                all.sort();
                for n in all {
                    let e = E::Var(l.var(&n));
                    l.names.push(n);
                    l.exprs.push(e);
                }
            }
            PExpr::Regex(re) => {
                for n in schema.keys().filter(|f| re.is_match(f)) {
                    let e = E::Var(l.var(n));
                    l.names.push(n.clone());
                    l.exprs.push(e);
                }
            }
            PExpr::Call(c) if call_wildcard(c).is_some() => {
                let matcher = call_wildcard(c);
                let mut inner = c.as_ref();
                while let PExpr::Call(i) = &inner.arg {
                    inner = i;
                }
                for (f, t) in schema {
                    let ok = match matcher {
                        Some(PExpr::Regex(re)) => re.is_match(f),
                        _ => true,
                    };
                    if !ok || !agg_accepts(inner.func, *t) {
                        continue;
                    }
                    let e = l.call(c, Some(f))?;
                    l.names.push(format!("{}_{f}", p.name));
                    l.exprs.push(e);
                }
            }
            other => {
                let e = l.expr(other, None)?;
                if let PExpr::Call(c) = other {
                    distinct_input_accepted(c, schema)?;
                    if let PExpr::Var(f) = &c.arg {
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
                    l.names.push(p.name.clone());
                    l.exprs.push(e);
                    for t in &c.tags {
                        let e = E::Var(l.var(t));
                        l.names.push(t.clone());
                        l.exprs.push(e);
                    }
                    continue;
                }
                l.names.push(p.name.clone());
                l.exprs.push(e);
            }
        }
    }
    for a in &mut l.aggs {
        a.newest_first = plan.desc;
    }
    call_windows(plan, &mut l);
    Ok(l)
}

/// The fields a layout reads (its field variables, then those of the field condition) and
/// where each variable comes from: a field (its index in the fields) or a tag.
pub(super) fn read_fields(
    plan: &SelectPlan,
    l: &Layout,
    schema: &BTreeMap<String, FieldType>,
    tag_keys: &[String],
) -> (Vec<String>, Vec<VarSrc>) {
    let mut fields: Vec<String> = Vec::new();
    let mut srcs = Vec::with_capacity(l.vars.len());
    for v in &l.vars {
        if schema.contains_key(v) || !tag_keys.contains(v) {
            srcs.push(VarSrc::Field(fields.len()));
            fields.push(v.clone());
        } else {
            srcs.push(VarSrc::Tag(v.clone()));
        }
    }
    if let Some(fp) = &plan.field_filter {
        fp.fields(&mut fields);
    }
    (fields, srcs)
}
