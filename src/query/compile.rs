//! InfluxQL SELECT → [`SelectPlan`]: splits WHERE into time bounds, tag predicates and field
//! predicates, resolves names against the database's schema, and names the columns.

use crate::database::Database;
use crate::error::{Error, Result};
use crate::query::influxql::ast::{
    BinaryOp, Dimension, Expr, Fill as AstFill, MeasurementName, SelectStatement, Source,
    TimeOffset,
};
use crate::query::math::MathFn;
use crate::query::plan::{
    CmpOp, FieldPred, Fill, GroupTags, Literal, Projection, SelectPlan, TagPred,
};
use crate::query::result::parse_time_string;

mod select_list;
pub(crate) use select_list::call;
use select_list::{compile_field, expr_kind, validate_projections};

/// Smallest and largest times a query can name (InfluxDB's MinTime/MaxTime).
pub const MIN_TIME: i64 = i64::MIN + 2;
pub const MAX_TIME: i64 = i64::MAX - 1;

pub(crate) fn unsupported(what: &str) -> Error {
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
        group_regexes: Vec::new(),
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
        plan.projections.push(Projection {
            expr: compile_field(&f.expr)?,
            name: f.column_name(),
            aliased: f.alias.is_some(),
        });
    }
    validate_projections(&plan.projections, s.group_by_time().is_some())?;

    if let Some(cond) = &s.condition {
        // The conjuncts are joined as balanced trees: a WHERE of 10,000 ANDed conditions
        // nests 14 levels, not 10,000 (every pass over a predicate recurses on it).
        let (mut tag_terms, mut field_terms) = (Vec::new(), Vec::new());
        let (lo, hi) = split_where(cond, now, &is_field, &mut |c| {
            match c {
                ConditionPart::Tag(t) => tag_terms.push(t),
                ConditionPart::Field(f) => field_terms.push(f),
            }
            Ok(())
        })?;
        let tags = balanced_tags(TagPred::True, tag_terms);
        let fields = balanced_fields(field_terms);
        if let Some(lo) = lo {
            plan.tmin = plan.tmin.max(lo);
            plan.has_tmin = true;
        }
        if let Some(hi) = hi {
            plan.tmax = plan.tmax.min(hi);
            plan.has_tmax = true;
        }
        plan.tag_filter = tags;
        plan.field_filter = fields;
    }

    let mut tag_keys = Vec::new();
    for d in &s.dimensions {
        match d {
            Dimension::Time { interval, offset } => {
                if *interval <= 0 {
                    // InfluxDB 1.x treats time(0s) as no time grouping.
                    continue;
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
            Dimension::Regex(r) => {
                plan.group_regexes.push(r.regex().clone());
                if plan.group_tags == GroupTags::None {
                    plan.group_tags = GroupTags::Keys(Vec::new());
                }
            }
        }
    }
    if (!tag_keys.is_empty() || !plan.group_regexes.is_empty()) && plan.group_tags != GroupTags::All
    {
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

/// `first AND` every term, as a balanced tree ([`TagPred::and`] drops `True`s).
pub(crate) fn balanced_tags(first: TagPred, mut terms: Vec<TagPred>) -> TagPred {
    fn join(mut terms: Vec<TagPred>) -> TagPred {
        match terms.len() {
            0 => TagPred::True,
            1 => terms.pop().unwrap_or(TagPred::True),
            n => {
                let right = terms.split_off(n / 2);
                TagPred::and(join(terms), join(right))
            }
        }
    }
    terms.insert(0, first);
    join(terms)
}

/// Every term ANDed, as a balanced tree; `None` for no term.
fn balanced_fields(mut terms: Vec<FieldPred>) -> Option<FieldPred> {
    match terms.len() {
        0 => None,
        1 => terms.pop(),
        n => {
            let right = terms.split_off(n / 2);
            Some(FieldPred::And(
                Box::new(balanced_fields(terms)?),
                Box::new(balanced_fields(right)?),
            ))
        }
    }
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
        // InfluxDB 1.x's wording for a string that is not a time.
        Expr::String(s) => {
            parse_time_string(s).ok_or_else(|| not_a_time("*influxql.StringLiteral"))
        }
        Expr::Integer(n) => Ok(*n),
        Expr::Number(x) => Ok(*x as i64),
        Expr::Duration(d) => Ok(*d),
        c if c.is_now() => Ok(now),
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::Add | BinaryOp::Sub) => {
            // 1.x reduces the whole expression first: one that does not reduce to a time is
            // a BinaryExpr.
            let (a, b) = match (time_value(lhs, now), time_value(rhs, now)) {
                (Ok(a), Ok(b)) => (a, b),
                _ => return Err(not_a_time("*influxql.BinaryExpr")),
            };
            Ok(if *op == BinaryOp::Add {
                a.saturating_add(b)
            } else {
                a.saturating_sub(b)
            })
        }
        other => Err(not_a_time(expr_kind(other))),
    }
}

/// InfluxDB 1.x's error for time compared with something that is not a time.
fn not_a_time(kind: &str) -> Error {
    Error::Query(format!(
        "invalid operation: time and {kind} are not compatible"
    ))
}

/// `time OP value` (either side) → the inclusive bounds it sets, as InfluxDB 1.x's
/// `getTimeRange` reads it: the value first, then the operator (only `= < <= > >=`).
fn time_bound(
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    now: i64,
) -> Result<(Option<i64>, Option<i64>)> {
    let (op, value) = if is_time_ref(lhs) {
        (op, rhs)
    } else {
        (flip(op), lhs)
    };
    let t = time_value(value, now)?;
    Ok(match op {
        BinaryOp::Gt => (Some(t.saturating_add(1)), None),
        BinaryOp::Gte => (Some(t), None),
        BinaryOp::Lt => (None, Some(t.saturating_sub(1))),
        BinaryOp::Lte => (None, Some(t)),
        BinaryOp::Eq => (Some(t), Some(t)),
        other => return Err(invalid_time_operator(other)),
    })
}

/// InfluxDB 1.x's error for a time condition with an operator that is not a comparison.
fn invalid_time_operator(op: impl std::fmt::Display) -> Error {
    Error::Query(format!("invalid time comparison operator: {op}"))
}

/// `NOT e` without the NOT where `e` compares time (strata's NOT is an extension; 1.x has
/// none): De Morgan through AND/OR, and time comparisons inverted, so that the time
/// comparisons can be taken out as [`split_where`] does with a 1.x condition. Subtrees that
/// do not mention time keep their NOT.
fn negate(e: &Expr) -> Expr {
    let inner = e.unparen();
    match inner {
        Expr::Binary { op, lhs, rhs } if mentions_time(inner) => {
            let op2 = match op {
                BinaryOp::And => BinaryOp::Or,
                BinaryOp::Or => BinaryOp::And,
                BinaryOp::Eq => BinaryOp::Neq,
                BinaryOp::Neq => BinaryOp::Eq,
                BinaryOp::Lt => BinaryOp::Gte,
                BinaryOp::Lte => BinaryOp::Gt,
                BinaryOp::Gt => BinaryOp::Lte,
                BinaryOp::Gte => BinaryOp::Lt,
                BinaryOp::EqRegex => BinaryOp::NeqRegex,
                BinaryOp::NeqRegex => BinaryOp::EqRegex,
                _ => return Expr::Not(Box::new(inner.clone())),
            };
            let (lhs, rhs) = if matches!(op, BinaryOp::And | BinaryOp::Or) {
                (negate(lhs), negate(rhs))
            } else {
                ((**lhs).clone(), (**rhs).clone())
            };
            Expr::Binary {
                op: op2,
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
            }
        }
        Expr::Not(x) => (**x).clone(),
        other => Expr::Not(Box::new(other.clone())),
    }
}

/// InfluxDB 1.x's `conditionExpr`: every time comparison in the AND/OR tree of a WHERE clause
/// is taken out and the bounds of all of them intersected into `range` (1.6 does so under OR
/// too: `time < a OR time > b` selects nothing); what is left keeps its shape, a side that
/// was all time comparisons dropping out. `None`: nothing left.
fn strip_time(e: &Expr, now: i64, range: &mut (Option<i64>, Option<i64>)) -> Result<Option<Expr>> {
    match e.unparen() {
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            let l = strip_time(lhs, now, range)?;
            let r = strip_time(rhs, now, range)?;
            Ok(match (l, r) {
                (None, r) => r,
                (l, None) => l,
                (Some(l), Some(r)) => Some(Expr::Binary {
                    op: *op,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                }),
            })
        }
        // Any other operator beside time too (`time + 1s AND …`): 1.x takes it for a time
        // condition and rejects the operator.
        Expr::Binary { op, lhs, rhs } if is_time_ref(lhs) || is_time_ref(rhs) => {
            let (lo, hi) = time_bound(*op, lhs, rhs, now)?;
            if let Some(lo) = lo {
                range.0 = Some(range.0.map_or(lo, |cur| cur.max(lo)));
            }
            if let Some(hi) = hi {
                range.1 = Some(range.1.map_or(hi, |cur| cur.min(hi)));
            }
            Ok(None)
        }
        Expr::Not(x) if mentions_time(x) => strip_time(&negate(x), now, range),
        // 1.x reads `-time` as `-1 * time`.
        Expr::Neg(x) if is_time_ref(x) => Err(invalid_time_operator("*")),
        other => Ok(Some(other.clone())),
    }
}

/// Take a WHERE clause apart for SELECT and DELETE alike: its time comparisons are folded
/// into one inclusive range ([`strip_time`]), returned as `(lo, hi)` (`None`: unbounded on
/// that side); every conjunct of the rest is classified as a tag or field predicate and
/// handed to `on_class`, in order.
fn split_where(
    cond: &Expr,
    now: i64,
    is_field: &dyn Fn(&str) -> bool,
    on_class: &mut dyn FnMut(ConditionPart) -> Result<()>,
) -> Result<(Option<i64>, Option<i64>)> {
    let mut range = (None, None);
    let Some(rest) = strip_time(cond, now, &mut range)? else {
        return Ok(range);
    };
    let mut conjuncts = Vec::new();
    flatten_and(&rest, &mut conjuncts);
    for c in conjuncts {
        on_class(classify(c, is_field)?)?;
    }
    Ok(range)
}

/// A field condition no point satisfies: a comparison with time inside an expression
/// (`time + 1s > x`), which InfluxDB 1.x leaves in the condition, where time has no value.
fn never() -> FieldPred {
    FieldPred::Not(Box::new(FieldPred::Tag(TagPred::True)))
}

enum ConditionPart {
    Tag(TagPred),
    Field(FieldPred),
}

impl ConditionPart {
    fn into_field(self) -> FieldPred {
        match self {
            ConditionPart::Tag(t) => FieldPred::Tag(t),
            ConditionPart::Field(f) => f,
        }
    }
}

fn classify(e: &Expr, is_field: &dyn Fn(&str) -> bool) -> Result<ConditionPart> {
    match e.unparen() {
        Expr::Binary { op, lhs, rhs } if matches!(op, BinaryOp::And | BinaryOp::Or) => {
            let (a, b) = (classify(lhs, is_field)?, classify(rhs, is_field)?);
            let and = *op == BinaryOp::And;
            match (a, b) {
                (ConditionPart::Tag(a), ConditionPart::Tag(b)) => Ok(ConditionPart::Tag(if and {
                    TagPred::And(Box::new(a), Box::new(b))
                } else {
                    TagPred::Or(Box::new(a), Box::new(b))
                })),
                (ConditionPart::Field(a), ConditionPart::Field(b)) => {
                    Ok(ConditionPart::Field(if and {
                        FieldPred::And(Box::new(a), Box::new(b))
                    } else {
                        FieldPred::Or(Box::new(a), Box::new(b))
                    }))
                }
                (a, b) => {
                    let (a, b) = (a.into_field(), b.into_field());
                    Ok(ConditionPart::Field(if and {
                        FieldPred::And(Box::new(a), Box::new(b))
                    } else {
                        FieldPred::Or(Box::new(a), Box::new(b))
                    }))
                }
            }
        }
        Expr::Not(x) => Ok(match classify(x, is_field)? {
            ConditionPart::Tag(t) => ConditionPart::Tag(TagPred::Not(Box::new(t))),
            ConditionPart::Field(f) => ConditionPart::Field(FieldPred::Not(Box::new(f))),
        }),
        Expr::Binary { op, .. } if op.is_comparison() && mentions_time(e) => {
            Ok(ConditionPart::Field(never()))
        }
        Expr::Binary { op, lhs, rhs } if op.is_comparison() => {
            let literal = |x: &Expr| {
                matches!(
                    x,
                    Expr::Integer(_)
                        | Expr::Number(_)
                        | Expr::String(_)
                        | Expr::Boolean(_)
                        | Expr::Regex(_)
                )
            };
            let (name, lit, op) = match (lhs.unparen(), rhs.unparen()) {
                (Expr::VarRef { name, .. }, lit) if literal(lit) => (name, lit, *op),
                (lit, Expr::VarRef { name, .. }) if literal(lit) => (name, lit, flip(*op)),
                _ => return expr_pred(e, *op, lhs, rhs, is_field),
            };
            let field = is_field(name);
            match (op, lit) {
                (BinaryOp::EqRegex, Expr::Regex(r)) if !field => Ok(ConditionPart::Tag(
                    TagPred::Match(name.clone(), r.regex().clone()),
                )),
                (BinaryOp::NeqRegex, Expr::Regex(r)) if !field => Ok(ConditionPart::Tag(
                    TagPred::NotMatch(name.clone(), r.regex().clone()),
                )),
                (BinaryOp::Eq, Expr::String(v)) if !field => {
                    Ok(ConditionPart::Tag(TagPred::Eq(name.clone(), v.clone())))
                }
                (BinaryOp::Neq, Expr::String(v)) if !field => {
                    Ok(ConditionPart::Tag(TagPred::Neq(name.clone(), v.clone())))
                }
                (op @ (BinaryOp::EqRegex | BinaryOp::NeqRegex), Expr::Regex(r)) => {
                    Ok(ConditionPart::Field(FieldPred::Match {
                        field: name.clone(),
                        re: r.regex().clone(),
                        negated: op == BinaryOp::NeqRegex,
                    }))
                }
                (BinaryOp::EqRegex | BinaryOp::NeqRegex, other) => Err(Error::Query(format!(
                    "invalid condition {e}: a regex operator needs a regex, not {other}"
                ))),
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
                    Ok(ConditionPart::Field(FieldPred::Cmp(
                        name.clone(),
                        cmp_op(op),
                        lit,
                    )))
                }
            }
        }
        // Arithmetic alone (`(time + 1s) * 2`, `-a`): 1.x keeps it as a field condition
        // every point satisfies.
        Expr::Binary { op, .. } if op.is_arithmetic() => {
            Ok(ConditionPart::Field(FieldPred::Tag(TagPred::True)))
        }
        Expr::Neg(_) => Ok(ConditionPart::Field(FieldPred::Tag(TagPred::True))),
        Expr::Boolean(true) => Ok(ConditionPart::Tag(TagPred::True)),
        Expr::Boolean(false) => Ok(ConditionPart::Tag(TagPred::Not(Box::new(TagPred::True)))),
        other => Err(Error::Query(format!(
            "invalid condition expression: {other}"
        ))),
    }
}

fn cmp_op(op: BinaryOp) -> CmpOp {
    match op {
        BinaryOp::Eq => CmpOp::Eq,
        BinaryOp::Neq => CmpOp::Neq,
        BinaryOp::Lt => CmpOp::Lt,
        BinaryOp::Lte => CmpOp::Lte,
        BinaryOp::Gt => CmpOp::Gt,
        _ => CmpOp::Gte,
    }
}

/// A comparison that is not a name against a literal (`a + 1 > 99`, `a > b * 2`, `a > b`):
/// both sides are evaluated per row ([`FieldPred::Expr`]). As in 1.x a duration or now() in
/// it compares with nothing, and arithmetic never matches a regex (it yields no string).
fn expr_pred(
    e: &Expr,
    op: BinaryOp,
    lhs: &Expr,
    rhs: &Expr,
    is_field: &dyn Fn(&str) -> bool,
) -> Result<ConditionPart> {
    let mut uncomparable = false;
    let mut invalid = None;
    for side in [lhs, rhs] {
        side.walk(&mut |n| match n {
            Expr::Duration(_) => uncomparable = true,
            c if c.is_now() => uncomparable = true,
            // Math functions are evaluated per row, as 1.x's filter does; nothing else is.
            Expr::Call { name, .. } if MathFn::from_name(name).is_none() => {
                invalid.get_or_insert_with(|| format!("invalid function call in condition: {n}"));
            }
            Expr::Binary { op, .. } if !op.is_arithmetic() => {
                invalid.get_or_insert_with(|| format!("invalid condition {e}"));
            }
            Expr::Wildcard(_) | Expr::Not(_) => {
                invalid.get_or_insert_with(|| format!("invalid condition {e}"));
            }
            _ => {}
        });
    }
    if let Some(msg) = invalid {
        return Err(Error::Query(msg));
    }
    let arithmetic = |x: &Expr| {
        matches!(x.unparen(), Expr::Neg(_))
            || matches!(x.unparen(), Expr::Binary { op, .. } if op.is_arithmetic())
    };
    if matches!(op, BinaryOp::EqRegex | BinaryOp::NeqRegex) {
        return if matches!(rhs.unparen(), Expr::Regex(_)) && arithmetic(lhs) {
            Ok(ConditionPart::Field(never()))
        } else {
            Err(Error::Query(format!(
                "invalid condition {e}: compare a tag or field with a literal"
            )))
        };
    }
    if uncomparable {
        return Ok(ConditionPart::Field(never()));
    }
    let (lhs, rhs) = (compile_field(lhs)?, compile_field(rhs)?);
    let mut names = Vec::new();
    lhs.bare_vars(&mut names);
    rhs.bare_vars(&mut names);
    let mut fields: Vec<String> = Vec::new();
    for n in names {
        if is_field(n) && !fields.iter().any(|f| f == n) {
            fields.push(n.to_string());
        }
    }
    Ok(ConditionPart::Field(FieldPred::Expr {
        op: cmp_op(op),
        lhs,
        rhs,
        fields,
    }))
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
    let (lo, hi) = split_where(cond, now, &is_field, &mut |c| match c {
        ConditionPart::Tag(t) => {
            tags = TagPred::and(std::mem::replace(&mut tags, TagPred::True), t);
            Ok(())
        }
        ConditionPart::Field(_) => Err(Error::Query(
            "fields not supported in WHERE clause during deletion".into(),
        )),
    })?;
    tmin = tmin.max(lo.unwrap_or(MIN_TIME));
    tmax = tmax.min(hi.unwrap_or(MAX_TIME));
    Ok((tags, tmin, tmax))
}

/// A WHERE condition over tags only (SHOW statements).
pub fn tag_condition(e: &Expr) -> Result<TagPred> {
    match classify(e, &|_| false)? {
        ConditionPart::Tag(t) => Ok(t),
        ConditionPart::Field(_) => Err(Error::Query(format!(
            "invalid condition {e}: SHOW statements filter on tags only"
        ))),
    }
}

#[cfg(test)]
mod tests;
