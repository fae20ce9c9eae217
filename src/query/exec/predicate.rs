//! The WHERE condition on fields, evaluated row by row.

use super::expr::arith;
use crate::query::plan::{ArithOp, CmpOp, FieldPred, Literal, PlanExpr};
use crate::query::result::Value;
use crate::series::SeriesInfo;
use crate::types::FieldValue;

pub(super) fn eval_field_pred(
    p: &FieldPred,
    fields: &[String],
    vals: &[Option<FieldValue>],
    s: &SeriesInfo,
) -> bool {
    match p {
        FieldPred::And(a, b) => {
            eval_field_pred(a, fields, vals, s) && eval_field_pred(b, fields, vals, s)
        }
        FieldPred::Or(a, b) => {
            eval_field_pred(a, fields, vals, s) || eval_field_pred(b, fields, vals, s)
        }
        FieldPred::Not(a) => !eval_field_pred(a, fields, vals, s),
        FieldPred::Tag(t) => t.eval(&|k: &str| s.tag(k)),
        FieldPred::Match { field, re, negated } => {
            match fields.iter().position(|x| x == field).map(|i| &vals[i]) {
                Some(Some(FieldValue::String(v))) => re.is_match(v) != *negated,
                _ => false,
            }
        }
        FieldPred::Expr {
            op,
            lhs,
            rhs,
            fields: names,
        } => {
            let side = |e: &PlanExpr| {
                let v = cond_value(e, names, fields, vals, s);
                // 1.x takes a missing value beside a boolean for false, unless it is a bare
                // name's.
                (v, matches!(e, PlanExpr::Var(_)))
            };
            let ((mut a, a_var), (mut b, b_var)) = (side(lhs), side(rhs));
            match (&a, &b) {
                (Value::Null, Value::Boolean(_)) if !a_var => a = Value::Boolean(false),
                (Value::Boolean(_), Value::Null) if !b_var => b = Value::Boolean(false),
                _ => {}
            }
            cond_compare(*op, &a, &b)
        }
        FieldPred::Cmp(f, op, lit) => {
            let Some(Some(v)) = fields.iter().position(|x| x == f).map(|i| &vals[i]) else {
                return false;
            };
            cmp_holds(v, *op, lit)
        }
    }
}

/// Whether a field's value compares with a literal as `op` says, as 1.x compares them.
pub(super) fn cmp_holds(v: &FieldValue, op: CmpOp, lit: &Literal) -> bool {
    // As in 1.x strings and booleans compare by = and != only.
    let equality = matches!(op, CmpOp::Eq | CmpOp::Neq);
    let ord = match (v, lit) {
        (FieldValue::String(s), Literal::String(lit)) if equality => {
            s.as_str().partial_cmp(lit.as_str())
        }
        (FieldValue::Boolean(b), Literal::Bool(lit)) if equality => b.partial_cmp(lit),
        (v, Literal::Number(n)) => v.as_f64().and_then(|x| x.partial_cmp(n)),
        _ => None,
    };
    ord.is_some_and(|ord| op.holds(ord))
}

/// A field condition ready for rows of `fields`: a lone comparison of one field with a
/// literal (`usage_user > 90`) is resolved to the field's position once, not looked up by name
/// per row; anything else goes through [`eval_field_pred`].
pub(super) enum RowPred<'a> {
    Cmp(usize, CmpOp, &'a Literal),
    Any(&'a FieldPred),
}

impl<'a> RowPred<'a> {
    pub(super) fn new(p: &'a FieldPred, fields: &[String]) -> RowPred<'a> {
        match p {
            FieldPred::Cmp(f, op, lit) => match fields.iter().position(|x| x == f) {
                Some(k) => RowPred::Cmp(k, *op, lit),
                None => RowPred::Any(p),
            },
            _ => RowPred::Any(p),
        }
    }

    pub(super) fn holds(
        &self,
        fields: &[String],
        vals: &[Option<FieldValue>],
        s: &SeriesInfo,
    ) -> bool {
        match self {
            RowPred::Cmp(k, op, lit) => vals
                .get(*k)
                .and_then(Option::as_ref)
                .is_some_and(|v| cmp_holds(v, *op, lit)),
            RowPred::Any(p) => eval_field_pred(p, fields, vals, s),
        }
    }
}

/// One side of a [`FieldPred::Expr`] for a row: the names in `names` are fields of the row,
/// any other a tag of its series. Arithmetic as SELECT's [`arith`], except that 1.x divides
/// integers as integers in a condition.
pub(super) fn cond_value(
    e: &PlanExpr,
    names: &[String],
    fields: &[String],
    vals: &[Option<FieldValue>],
    s: &SeriesInfo,
) -> Value {
    match e {
        PlanExpr::Var(v) if names.contains(v) => fields
            .iter()
            .position(|x| x == v)
            .and_then(|i| vals.get(i).cloned().flatten())
            .map_or(Value::Null, Value::from),
        PlanExpr::Var(v) => s.tag(v).map_or(Value::Null, Value::string),
        PlanExpr::Integer(n) => Value::Integer(*n),
        PlanExpr::Number(x) => Value::Float(*x),
        PlanExpr::String(x) => Value::string(x.clone()),
        PlanExpr::Bool(b) => Value::Boolean(*b),
        PlanExpr::Binary(op, a, b) => {
            let a = cond_value(a, names, fields, vals, s);
            let b = cond_value(b, names, fields, vals, s);
            match (op, &a, &b) {
                (ArithOp::Div, Value::Integer(x), Value::Integer(y)) => {
                    Value::Integer(if *y == 0 { 0 } else { x.wrapping_div(*y) })
                }
                _ => arith(*op, &a, &b),
            }
        }
        PlanExpr::Math(func, args) => {
            let mut values = args.iter().map(|a| cond_value(a, names, fields, vals, s));
            let first = values.next().unwrap_or(Value::Null);
            let second = values.next();
            func.apply(&first, second.as_ref())
        }
        PlanExpr::Wildcard | PlanExpr::Regex(_) | PlanExpr::Call(_) => Value::Null,
    }
}

/// 1.x's comparison in a condition: numbers with numbers (as integers when both are, else as
/// floats), strings and booleans by `=` and `!=` only; anything else is false.
pub(super) fn cond_compare(op: CmpOp, a: &Value, b: &Value) -> bool {
    let num = |v: &Value| match v {
        Value::Float(x) => Some(*x),
        Value::Integer(x) => Some(*x as f64),
        Value::Unsigned(x) => Some(*x as f64),
        _ => None,
    };
    let ord = match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => Some(x.cmp(y)),
        (Value::String(x), Value::String(y)) if matches!(op, CmpOp::Eq | CmpOp::Neq) => {
            Some(x.cmp(y))
        }
        (Value::Boolean(x), Value::Boolean(y)) if matches!(op, CmpOp::Eq | CmpOp::Neq) => {
            Some(x.cmp(y))
        }
        _ => num(a).zip(num(b)).and_then(|(x, y)| x.partial_cmp(&y)),
    };
    ord.is_some_and(|ord| op.holds(ord))
}
