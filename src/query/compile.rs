//! InfluxQL SELECT → [`SelectPlan`]: splits WHERE into time bounds, tag predicates and field
//! predicates, resolves names against the database's schema, and names the columns.

use crate::database::Database;
use crate::error::{Error, Result};
use crate::query::analysis::{AnalysisArgs, AnalysisFn, Warmup};
use crate::query::influxql::ast::{
    BinaryOp, Dimension, Expr, Fill as AstFill, MeasurementName, SelectStatement, Source,
    TimeOffset,
};
use crate::query::math::MathFn;
use crate::query::plan::{
    AggFn, ArithOp, Call, CmpOp, FieldPred, Fill, GroupTags, Literal, PlanExpr, Projection,
    SelectPlan, TagPred,
};
use crate::query::result::parse_time_string;

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

fn expr_kind(e: &Expr) -> &'static str {
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
fn compile_field(e: &Expr) -> Result<PlanExpr> {
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
fn validate_transform(c: &Call, group_by_time: bool) -> Result<()> {
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
fn validate_projections(ps: &[Projection], group_by_time: bool) -> Result<()> {
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
mod tests {
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
            let stmts =
                parse(&format!("SELECT a FROM m WHERE {cond}")).map_err(|e| e.to_string())?;
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
}
