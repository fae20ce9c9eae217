//! [`GroupContext`]: what computing one group of series needs (the snapshot, the statement, the
//! measurement's layout and the fields it reads).

use super::layout::{Layout, VariableSource};
use crate::query::limits::Charge;
use crate::query::plan::SelectPlan;
use crate::query::result::Value;
use crate::query::scan::Snapshot;
use crate::series::SeriesInfo;
use crate::types::{FieldType, FieldValue};
use crate::version::TableRef;
use strata_actors::CancelToken;

pub(super) struct GroupContext<'a> {
    /// The statement's result rows, charged as they are made.
    pub(super) rows_mem: &'a std::cell::RefCell<Charge>,
    /// The snapshot read.
    pub(super) snap: &'a Snapshot,
    /// The tables left after pruning, oldest first.
    pub(super) tables: &'a [TableRef],
    /// The statement (its end widened for transformations where the caller says so).
    pub(super) plan: &'a SelectPlan,
    /// The measurement's columns.
    pub(super) layout: &'a Layout,
    /// Where each variable of the layout comes from.
    pub(super) sources: &'a [VariableSource],
    /// The fields read of each series.
    pub(super) fields: &'a [String],
    /// The type of each variable that is a field.
    pub(super) var_types: &'a [Option<FieldType>],
    /// Stops the computation (kill, deadline, client gone).
    pub(super) token: &'a CancelToken,
}

impl GroupContext<'_> {
    /// The value of variable `v` in a row of `series` whose read fields hold `vals`.
    pub(super) fn var_value(&self, v: usize, vals: &[Option<FieldValue>], s: &SeriesInfo) -> Value {
        match &self.sources[v] {
            VariableSource::Field(i) => vals[*i].clone().map_or(Value::Null, Value::from),
            VariableSource::Tag(t) => s.tag(t).map_or(Value::Null, Value::string),
        }
    }

    /// Whether variable `v` is a field (not a tag).
    pub(super) fn is_field_var(&self, v: usize) -> bool {
        matches!(self.sources[v], VariableSource::Field(_))
    }

    /// Whether variable `v` is an integer field.
    pub(super) fn field_is_int(&self, v: usize) -> bool {
        self.var_types.get(v) == Some(&Some(FieldType::Integer))
    }
}
