//! Column expressions over a row's variables and its calls' results: evaluation and
//! InfluxQL arithmetic.

use super::layout::ColumnExpr;
use crate::query::plan::ArithOp;
use crate::query::result::Value;
use crate::types::FieldValue;

/// The aggregates and the transformations expression `e` refers to.
pub(super) fn call_refs(e: &ColumnExpr, aggs: &mut Vec<usize>, trs: &mut Vec<usize>) {
    match e {
        ColumnExpr::Agg(i) if !aggs.contains(i) => aggs.push(*i),
        ColumnExpr::Tr(i) if !trs.contains(i) => trs.push(*i),
        ColumnExpr::Bin(_, a, b) => {
            call_refs(a, aggs, trs);
            call_refs(b, aggs, trs);
        }
        ColumnExpr::Math(_, args) => args.iter().for_each(|a| call_refs(a, aggs, trs)),
        _ => {}
    }
}

pub(super) fn has_agg(e: &ColumnExpr) -> bool {
    match e {
        ColumnExpr::Agg(_) => true,
        ColumnExpr::Bin(_, a, b) => has_agg(a) || has_agg(b),
        ColumnExpr::Math(_, args) => args.iter().any(has_agg),
        _ => false,
    }
}

pub(super) fn collect_vars(e: &ColumnExpr, out: &mut Vec<usize>) {
    match e {
        ColumnExpr::Var(v) => out.push(*v),
        ColumnExpr::Bin(_, a, b) => {
            collect_vars(a, out);
            collect_vars(b, out);
        }
        ColumnExpr::Math(_, args) => args.iter().for_each(|a| collect_vars(a, out)),
        _ => {}
    }
}

pub(super) fn value_to_field(v: &Value) -> Option<FieldValue> {
    Some(match v {
        Value::Float(x) => FieldValue::Float(*x),
        Value::Integer(x) => FieldValue::Integer(*x),
        Value::Unsigned(x) => FieldValue::Unsigned(*x),
        Value::Boolean(x) => FieldValue::Boolean(*x),
        Value::String(x) => FieldValue::String(x.to_string()),
        Value::Null | Value::Time(_) => return None,
    })
}

/// Whether every column is a variable of its own, so a row's variables can be moved into it.
pub(super) fn columns_are_distinct_vars(exprs: &[ColumnExpr]) -> bool {
    let mut seen = Vec::with_capacity(exprs.len());
    exprs.iter().all(|e| match e {
        ColumnExpr::Var(v) if !seen.contains(v) => {
            seen.push(*v);
            true
        }
        _ => false,
    })
}

/// Evaluate a column: variables of the row, aggregate results, transformation results.
pub(super) fn eval(e: &ColumnExpr, vars: &[Value], aggs: &[Value], trs: &[Value]) -> Value {
    match e {
        ColumnExpr::Var(v) => vars.get(*v).cloned().unwrap_or(Value::Null),
        ColumnExpr::Lit(x) => x.clone(),
        ColumnExpr::Agg(i) => aggs.get(*i).cloned().unwrap_or(Value::Null),
        ColumnExpr::Tr(i) => trs.get(*i).cloned().unwrap_or(Value::Null),
        ColumnExpr::Bin(op, a, b) => {
            arith(*op, &eval(a, vars, aggs, trs), &eval(b, vars, aggs, trs))
        }
        ColumnExpr::Math(func, args) => {
            let first = args
                .first()
                .map_or(Value::Null, |a| eval(a, vars, aggs, trs));
            let second = args.get(1).map(|a| eval(a, vars, aggs, trs));
            func.apply(&first, second.as_ref())
        }
    }
}

/// InfluxQL arithmetic: integers stay integers except for `/`; anything with a float is a
/// float; anything else is null.
pub(super) fn arith(op: ArithOp, a: &Value, b: &Value) -> Value {
    match (a, b) {
        (Value::Integer(x), Value::Integer(y)) => match op {
            ArithOp::Add => Value::Integer(x.wrapping_add(*y)),
            ArithOp::Sub => Value::Integer(x.wrapping_sub(*y)),
            ArithOp::Mul => Value::Integer(x.wrapping_mul(*y)),
            ArithOp::Div => {
                if *y == 0 {
                    Value::Float(0.0)
                } else {
                    Value::Float(*x as f64 / *y as f64)
                }
            }
            ArithOp::Mod => {
                if *y == 0 {
                    Value::Integer(0)
                } else {
                    Value::Integer(x.wrapping_rem(*y))
                }
            }
        },
        _ => {
            let num = |v: &Value| match v {
                Value::Float(x) => Some(*x),
                Value::Integer(x) => Some(*x as f64),
                Value::Unsigned(x) => Some(*x as f64),
                _ => None,
            };
            let (Some(x), Some(y)) = (num(a), num(b)) else {
                return Value::Null;
            };
            Value::Float(match op {
                ArithOp::Add => x + y,
                ArithOp::Sub => x - y,
                ArithOp::Mul => x * y,
                ArithOp::Div => {
                    if y == 0.0 {
                        0.0
                    } else {
                        x / y
                    }
                }
                ArithOp::Mod => x % y,
            })
        }
    }
}
