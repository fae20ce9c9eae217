//! [`GroupCtx`]: what computing one group of series needs (the snapshot, the statement, the
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

pub(super) struct GroupCtx<'a> {
    /// The statement's result rows, charged as they are made.
    pub(super) rows_mem: &'a std::cell::RefCell<Charge>,
    pub(super) snap: &'a Snapshot,
    /// The tables left after pruning, oldest first.
    pub(super) tables: &'a [TableRef],
    pub(super) plan: &'a SelectPlan,
    pub(super) layout: &'a Layout,
    pub(super) srcs: &'a [VariableSource],
    pub(super) fields: &'a [String],
    pub(super) var_types: &'a [Option<FieldType>],
    pub(super) token: &'a CancelToken,
}

impl GroupCtx<'_> {
    pub(super) fn var_value(&self, v: usize, vals: &[Option<FieldValue>], s: &SeriesInfo) -> Value {
        match &self.srcs[v] {
            VariableSource::Field(i) => vals[*i].clone().map_or(Value::Null, Value::from),
            VariableSource::Tag(t) => s.tag(t).map_or(Value::Null, Value::string),
        }
    }

    pub(super) fn is_field_var(&self, v: usize) -> bool {
        matches!(self.srcs[v], VariableSource::Field(_))
    }

    pub(super) fn field_is_int(&self, v: usize) -> bool {
        self.var_types.get(v) == Some(&Some(FieldType::Integer))
    }
}
