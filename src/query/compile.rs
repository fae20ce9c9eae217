//! InfluxQL SELECT → [`SelectPlan`]: splits WHERE into time bounds, tag predicates and field
//! predicates, resolves names against the database's schema, and names the columns.

use crate::engine::Database;
use crate::error::{Error, Result};
use crate::query::influxql::ast::{
    BinaryOp, Dimension, Expr, Fill as AstFill, MeasurementName, SelectStatement, Source,
    TimeOffset,
};
use crate::query::plan::{
    AggFn, CmpOp, FieldPred, Fill, GroupTags, Literal, ProjExpr, Projection, SelectPlan, TagPred,
};
use crate::query::result::parse_time_string;

/// Smallest and largest times a query can name (InfluxDB's MinTime/MaxTime).
pub const MIN_TIME: i64 = i64::MIN + 2;
pub const MAX_TIME: i64 = i64::MAX - 1;

fn unsupported(what: &str) -> Error {
    Error::Query(format!("{what} is not supported by strata yet"))
}

/// Compile a SELECT for `db`, with `now` as the query's now().
pub fn compile_select(db: &Database, s: &SelectStatement, now: i64) -> Result<SelectPlan> {
    let mut plan = SelectPlan {
        measurements: Vec::new(),
        measurement_regexes: Vec::new(),
        tag_filter: TagPred::True,
        field_filter: None,
        tmin: MIN_TIME,
        tmax: MAX_TIME,
        has_tmin: false,
        has_tmax: false,
        projections: Vec::new(),
        group_time: None,
        group_tags: GroupTags::None,
        fill: Fill::Null,
        desc: s.order_desc,
        limit: s.limit.unwrap_or(0) as usize,
        offset: s.offset.unwrap_or(0) as usize,
        slimit: s.slimit.unwrap_or(0) as usize,
        soffset: s.soffset.unwrap_or(0) as usize,
        now,
    };
    for src in &s.sources {
        match src {
            Source::Measurement(m) => match &m.name {
                MeasurementName::Name(n) => plan.measurements.push(n.clone()),
                MeasurementName::Regex(r) => plan.measurement_regexes.push(r.regex().clone()),
            },
            Source::Subquery(_) => return Err(unsupported("a subquery in FROM")),
        }
    }

    // Which names are fields (anything else in WHERE is a tag, as InfluxDB decides).
    let index = db.index();
    let measurements = plan.measurements.clone();
    let regexes = plan.measurement_regexes.clone();
    let is_field = |name: &str| {
        measurements
            .iter()
            .filter_map(|m| index.measurement(m))
            .chain(
                index
                    .measurement_names()
                    .iter()
                    .filter(|m| regexes.iter().any(|r| r.is_match(m)))
                    .filter_map(|m| index.measurement(m)),
            )
            .any(|mi| mi.field_type(name).is_some())
    };

    for f in &s.fields {
        let expr = f.expr.unparen();
        let p = match expr {
            Expr::Wildcard(_) => ProjExpr::Wildcard,
            Expr::VarRef { name, .. } => ProjExpr::Field(name.clone()),
            Expr::Call { name, args } => {
                let func = AggFn::from_name(name)
                    .ok_or_else(|| unsupported(&format!("the function {name}()")))?;
                match args.as_slice() {
                    [a] => match a.unparen() {
                        Expr::VarRef { name: field, .. } => ProjExpr::Agg(func, field.clone()),
                        Expr::Wildcard(_) => ProjExpr::AggWildcard(func),
                        other => {
                            return Err(Error::Query(format!(
                                "expected field argument in {name}(), found {other}"
                            )))
                        }
                    },
                    _ => {
                        return Err(Error::Query(format!(
                            "invalid number of arguments for {name}, expected 1, got {}",
                            args.len()
                        )))
                    }
                }
            }
            Expr::Regex(_) => return Err(unsupported("a regex in the SELECT list")),
            other => {
                return Err(unsupported(&format!(
                    "the expression {other} in the SELECT list"
                )))
            }
        };
        plan.projections.push(Projection {
            expr: p,
            alias: f.alias.clone(),
        });
    }

    if let Some(cond) = &s.condition {
        let mut conjuncts = Vec::new();
        flatten_and(cond, &mut conjuncts);
        let mut tags = TagPred::True;
        let mut fields: Option<FieldPred> = None;
        for c in conjuncts {
            if let Some((op, t)) = time_bound(c, now)? {
                apply_time_bound(&mut plan, op, t);
                continue;
            }
            if mentions_time(c) {
                return Err(unsupported(&format!(
                    "the time condition {c} (time may only be compared with AND-ed bounds)"
                )));
            }
            match classify(c, &is_field)? {
                Class::Tag(t) => tags = TagPred::and(tags, t),
                Class::Field(f) => {
                    fields = Some(match fields {
                        None => f,
                        Some(prev) => FieldPred::And(Box::new(prev), Box::new(f)),
                    })
                }
            }
        }
        plan.tag_filter = tags;
        plan.field_filter = fields;
    }

    let mut tag_keys = Vec::new();
    for d in &s.dimensions {
        match d {
            Dimension::Time { interval, offset } => {
                if *interval <= 0 {
                    return Err(Error::Query(
                        "GROUP BY time() interval must be positive".into(),
                    ));
                }
                let off = match offset {
                    None => 0,
                    Some(TimeOffset::Duration(d)) => d.rem_euclid(*interval),
                    Some(TimeOffset::Now) => now.rem_euclid(*interval),
                };
                plan.group_time = Some((*interval, off));
            }
            Dimension::Tag(t) => tag_keys.push(t.clone()),
            Dimension::Wildcard => plan.group_tags = GroupTags::All,
            Dimension::Regex(_) => return Err(unsupported("GROUP BY a regex")),
        }
    }
    if !tag_keys.is_empty() && plan.group_tags != GroupTags::All {
        plan.group_tags = GroupTags::Keys(tag_keys);
    }
    if plan.group_time.is_some() {
        if !plan.is_aggregate() {
            return Err(Error::Query(
                "GROUP BY requires at least one aggregate function".into(),
            ));
        }
        if !plan.has_tmax {
            plan.tmax = now;
        }
    }
    plan.fill = match &s.fill {
        AstFill::Null => Fill::Null,
        AstFill::None => Fill::None,
        AstFill::Previous => Fill::Previous,
        AstFill::Linear => Fill::Linear,
        AstFill::Integer(n) => Fill::Value(*n as f64),
        AstFill::Number(n) => Fill::Value(*n),
    };
    Ok(plan)
}

fn flatten_and<'a>(e: &'a Expr, out: &mut Vec<&'a Expr>) {
    match e.unparen() {
        Expr::Binary {
            op: BinaryOp::And,
            lhs,
            rhs,
        } => {
            flatten_and(lhs, out);
            flatten_and(rhs, out);
        }
        other => out.push(other),
    }
}

fn is_time_ref(e: &Expr) -> bool {
    matches!(e.unparen(), Expr::VarRef { name, .. } if name.eq_ignore_ascii_case("time"))
}

fn mentions_time(e: &Expr) -> bool {
    match e.unparen() {
        Expr::Binary { lhs, rhs, .. } => mentions_time(lhs) || mentions_time(rhs),
        Expr::Not(x) | Expr::Neg(x) => mentions_time(x),
        other => is_time_ref(other),
    }
}

/// Evaluate a time value: RFC3339 string, integer ns, duration, now() and `±` arithmetic.
fn time_value(e: &Expr, now: i64) -> Result<i64> {
    match e.unparen() {
        Expr::String(s) => parse_time_string(s).ok_or_else(|| {
            Error::Query(format!(
                "invalid time {s:?}: use RFC3339, e.g. '2023-11-14T22:13:20Z'"
            ))
        }),
        Expr::Integer(n) => Ok(*n),
        Expr::Number(x) => Ok(*x as i64),
        Expr::Duration(d) => Ok(*d),
        c if c.is_now() => Ok(now),
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
            let (a, b) = (time_value(lhs, now)?, time_value(rhs, now)?);
            Ok(if *op == BinaryOp::Add {
                a.saturating_add(b)
            } else {
                a.saturating_sub(b)
            })
        }
        other => Err(Error::Query(format!("invalid time expression {other}"))),
    }
}

/// `time OP value` (either side) → the operator as if time were on the left, and the value.
fn time_bound(e: &Expr, now: i64) -> Result<Option<(BinaryOp, i64)>> {
    let Expr::Binary { op, lhs, rhs } = e.unparen() else {
        return Ok(None);
    };
    if !matches!(
        op,
        BinaryOp::Eq | BinaryOp::Lt | BinaryOp::Lte | BinaryOp::Gt | BinaryOp::Gte
    ) {
        return Ok(None);
    }
    if is_time_ref(lhs) {
        return Ok(Some((*op, time_value(rhs, now)?)));
    }
    if is_time_ref(rhs) {
        return Ok(Some((flip(*op), time_value(lhs, now)?)));
    }
    Ok(None)
}

fn apply_time_bound(plan: &mut SelectPlan, op: BinaryOp, t: i64) {
    let (lo, hi) = match op {
        BinaryOp::Gt => (Some(t.saturating_add(1)), None),
        BinaryOp::Gte => (Some(t), None),
        BinaryOp::Lt => (None, Some(t.saturating_sub(1))),
        BinaryOp::Lte => (None, Some(t)),
        _ => (Some(t), Some(t)),
    };
    if let Some(lo) = lo {
        plan.tmin = plan.tmin.max(lo);
        plan.has_tmin = true;
    }
    if let Some(hi) = hi {
        plan.tmax = plan.tmax.min(hi);
        plan.has_tmax = true;
    }
}

enum Class {
    Tag(TagPred),
    Field(FieldPred),
}

fn classify(e: &Expr, is_field: &dyn Fn(&str) -> bool) -> Result<Class> {
    match e.unparen() {
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            let (a, b) = (classify(lhs, is_field)?, classify(rhs, is_field)?);
            let and = *op == BinaryOp::And;
            match (a, b) {
                (Class::Tag(a), Class::Tag(b)) => Ok(Class::Tag(if and {
                    TagPred::And(Box::new(a), Box::new(b))
                } else {
                    TagPred::Or(Box::new(a), Box::new(b))
                })),
                (Class::Field(a), Class::Field(b)) => Ok(Class::Field(if and {
                    FieldPred::And(Box::new(a), Box::new(b))
                } else {
                    FieldPred::Or(Box::new(a), Box::new(b))
                })),
                _ => Err(unsupported(&format!(
                    "the condition {e} (combining tag and field conditions inside OR)"
                ))),
            }
        }
        Expr::Not(x) => Ok(match classify(x, is_field)? {
            Class::Tag(t) => Class::Tag(TagPred::Not(Box::new(t))),
            Class::Field(f) => Class::Field(FieldPred::Not(Box::new(f))),
        }),
        Expr::Binary { op, lhs, rhs } if op.is_comparison() => {
            let (name, lit, op) = match (lhs.unparen(), rhs.unparen()) {
                (Expr::VarRef { name, .. }, lit) => (name, lit, *op),
                (lit, Expr::VarRef { name, .. }) => (name, lit, flip(*op)),
                _ => {
                    return Err(Error::Query(format!(
                        "invalid condition {e}: compare a tag or field with a literal"
                    )))
                }
            };
            let field = is_field(name);
            match (op, lit) {
                (BinaryOp::EqRegex, Expr::Regex(r)) if !field => {
                    Ok(Class::Tag(TagPred::Match(name.clone(), r.regex().clone())))
                }
                (BinaryOp::NeqRegex, Expr::Regex(r)) if !field => Ok(Class::Tag(
                    TagPred::NotMatch(name.clone(), r.regex().clone()),
                )),
                (BinaryOp::Eq, Expr::String(v)) if !field => {
                    Ok(Class::Tag(TagPred::Eq(name.clone(), v.clone())))
                }
                (BinaryOp::Neq, Expr::String(v)) if !field => {
                    Ok(Class::Tag(TagPred::Neq(name.clone(), v.clone())))
                }
                (BinaryOp::EqRegex | BinaryOp::NeqRegex, _) => {
                    Err(unsupported(&format!("the regex condition {e} on a field")))
                }
                (op, lit) => {
                    let lit = match lit {
                        Expr::Integer(n) => Literal::Number(*n as f64),
                        Expr::Number(x) => Literal::Number(*x),
                        Expr::String(s) => Literal::String(s.clone()),
                        Expr::Boolean(b) => Literal::Bool(*b),
                        other => {
                            return Err(Error::Query(format!(
                                "invalid condition {e}: cannot compare with {other}"
                            )))
                        }
                    };
                    let op = match op {
                        BinaryOp::Eq => CmpOp::Eq,
                        BinaryOp::Neq => CmpOp::Neq,
                        BinaryOp::Lt => CmpOp::Lt,
                        BinaryOp::Lte => CmpOp::Lte,
                        BinaryOp::Gt => CmpOp::Gt,
                        _ => CmpOp::Gte,
                    };
                    Ok(Class::Field(FieldPred::Cmp(name.clone(), op, lit)))
                }
            }
        }
        other => Err(Error::Query(format!("invalid condition {other}"))),
    }
}

/// The operator with its operands swapped (`a < b` ⇔ `b > a`).
fn flip(op: BinaryOp) -> BinaryOp {
    match op {
        BinaryOp::Lt => BinaryOp::Gt,
        BinaryOp::Lte => BinaryOp::Gte,
        BinaryOp::Gt => BinaryOp::Lt,
        BinaryOp::Gte => BinaryOp::Lte,
        o => o,
    }
}

/// The WHERE clause of `DELETE`/`DROP SERIES` → (tag predicate, inclusive time bounds). As in
/// InfluxDB 1.x only tags and AND-ed time bounds may appear; `measurements` decide which names
/// are fields (an error).
pub fn compile_delete_condition(
    db: &Database,
    measurements: &[String],
    cond: Option<&Expr>,
    now: i64,
) -> Result<(TagPred, i64, i64)> {
    let (mut tags, mut tmin, mut tmax) = (TagPred::True, MIN_TIME, MAX_TIME);
    let Some(cond) = cond else {
        return Ok((tags, tmin, tmax));
    };
    let index = db.index();
    let is_field = |name: &str| {
        measurements
            .iter()
            .filter_map(|m| index.measurement(m))
            .any(|mi| mi.field_type(name).is_some())
    };
    let mut conjuncts = Vec::new();
    flatten_and(cond, &mut conjuncts);
    for c in conjuncts {
        if let Some((op, t)) = time_bound(c, now)? {
            let (lo, hi) = match op {
                BinaryOp::Gt => (t.saturating_add(1), MAX_TIME),
                BinaryOp::Gte => (t, MAX_TIME),
                BinaryOp::Lt => (MIN_TIME, t.saturating_sub(1)),
                BinaryOp::Lte => (MIN_TIME, t),
                _ => (t, t),
            };
            (tmin, tmax) = (tmin.max(lo), tmax.min(hi));
            continue;
        }
        if mentions_time(c) {
            return Err(unsupported(&format!(
                "the time condition {c} (time may only be compared with AND-ed bounds)"
            )));
        }
        match classify(c, &is_field)? {
            Class::Tag(t) => tags = TagPred::and(tags, t),
            Class::Field(_) => {
                return Err(Error::Query(
                    "fields not supported in WHERE clause during deletion".into(),
                ))
            }
        }
    }
    Ok((tags, tmin, tmax))
}
