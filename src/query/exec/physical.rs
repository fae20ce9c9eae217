//! The physical plan of a SELECT: built once per statement from its logical plan
//! ([`SelectPlan`]) and the database's schema — the measurements it reads, each one's column
//! layout (calls, transformations, the time window every call reads), the fields and tags it
//! reads and the type checks of InfluxDB 1.x. The executor only runs it; `EXPLAIN` prints it
//! ([`PhysicalPlan::describe`]) without running anything; the tasks of a split statement
//! share one.

use std::collections::BTreeMap;

use super::layout::{build_layout, dedup_names, read_fields, ColumnExpr, Layout, VariableSource};
use super::windows::read_window;
use crate::database::Database;
use crate::error::{Error, Result};
use crate::query::plan::{GroupTags, SelectPlan};
use crate::types::FieldType;

/// A SELECT ready to run against any snapshot of its database.
pub struct PhysicalPlan {
    select: SelectPlan,
    measurements: Vec<MeasurementPlan>,
}

/// What one measurement of the statement computes.
pub(super) struct MeasurementPlan {
    pub(super) name: String,
    /// `None`: the measurement is not in the index (nothing to read).
    pub(super) shape: Option<MeasurementShape>,
}

/// A measurement's answer shape and reads.
pub(super) struct MeasurementShape {
    /// The GROUP BY tag keys (regexes and `*` expanded against its tag keys).
    pub(super) group_keys: Vec<String>,
    /// The columns, or the error InfluxDB 1.x gives for them (reported once the series are
    /// selected and counted, as 1.x does).
    layout: Result<Layout>,
    /// The fields and window read; `None` when there is nothing to compute (no columns, or
    /// the layout's error).
    pub(super) reads: Option<Reads>,
    /// The type of each variable of the layout that is a field.
    pub(super) var_types: Vec<Option<FieldType>>,
    /// The answer's column names (`time` first).
    pub(super) columns: Vec<String>,
}

/// What a measurement reads of each series.
pub(super) struct Reads {
    /// The fields: the layout's field variables, then those of the field condition.
    pub(super) fields: Vec<String>,
    /// Where each variable of the layout comes from.
    pub(super) sources: Vec<VariableSource>,
    /// The time range every call reads, together.
    pub(super) min: i64,
    pub(super) max: i64,
}

impl MeasurementShape {
    /// The layout, or its error.
    pub(super) fn layout(&self) -> Result<&Layout> {
        // Layout errors are all InfluxQL errors for the user (`Error::Query`); each task that
        // reports one gets its own copy.
        self.layout
            .as_ref()
            .map_err(|e| Error::Query(e.to_string()))
    }
}

impl PhysicalPlan {
    /// The physical plan of `select` over `db`'s current schema.
    pub fn build(db: &Database, select: SelectPlan) -> PhysicalPlan {
        let index = db.index();
        let mut names: Vec<String> = select.measurements.clone();
        if !select.measurement_regexes.is_empty() {
            for m in index.measurement_names() {
                if select.measurement_regexes.iter().any(|re| re.is_match(&m)) {
                    names.push(m);
                }
            }
        }
        names.sort();
        names.dedup();
        // `*` and regexes expand over the union of the measurements' fields and tags (1.x).
        let mut union_fields: BTreeMap<String, FieldType> = BTreeMap::new();
        let mut union_tags: Vec<String> = Vec::new();
        for name in &names {
            if let Some(mi) = index.measurement(name) {
                union_fields.extend(mi.fields());
                union_tags.extend(mi.tag_keys());
            }
        }
        union_tags.sort();
        union_tags.dedup();
        let measurements = names
            .into_iter()
            .map(|name| {
                let shape = index.measurement(&name).map(|mi| {
                    let schema = mi.fields();
                    let tag_keys = mi.tag_keys();
                    let group_keys = group_keys(&select, &tag_keys);
                    let layout = build_layout(&select, &union_fields, &union_tags, &group_keys);
                    let reads = match &layout {
                        Ok(layout) if !layout.exprs.is_empty() => {
                            let (fields, sources) =
                                read_fields(&select, layout, &schema, &tag_keys);
                            let (min, max) = read_window(&select, layout);
                            Some(Reads {
                                fields,
                                sources,
                                min,
                                max,
                            })
                        }
                        _ => None,
                    };
                    let (var_types, columns) = match &layout {
                        Ok(layout) => {
                            let mut columns = vec!["time".to_string()];
                            columns.extend(dedup_names(&layout.names));
                            let types = layout.vars.iter().map(|v| schema.get(v).copied());
                            (types.collect(), columns)
                        }
                        Err(_) => (Vec::new(), Vec::new()),
                    };
                    MeasurementShape {
                        group_keys,
                        layout,
                        reads,
                        var_types,
                        columns,
                    }
                });
                MeasurementPlan { name, shape }
            })
            .collect();
        PhysicalPlan {
            select,
            measurements,
        }
    }

    /// The logical plan it was built from.
    pub fn select(&self) -> &SelectPlan {
        &self.select
    }

    /// The measurements, in name order.
    pub(super) fn measurements(&self) -> &[MeasurementPlan] {
        &self.measurements
    }

    /// The plan as `EXPLAIN` prints it, per measurement: its columns, the calls and
    /// transformations they compute with the time range each reads, the fields read and the
    /// grouping.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for m in &self.measurements {
            lines.push(format!("PLAN OF {}:", m.name));
            let Some(shape) = &m.shape else {
                lines.push("  NOT IN THE INDEX".to_string());
                continue;
            };
            let layout = match shape.layout() {
                Ok(layout) => layout,
                Err(e) => {
                    lines.push(format!("  ERROR: {e}"));
                    continue;
                }
            };
            lines.push(format!("  COLUMNS: {}", shape.columns.join(", ")));
            for call in &layout.aggs {
                lines.push(format!(
                    "  AGGREGATE: {}({}) over [{}, {}]",
                    call.func.name(),
                    layout.vars.get(call.field).map_or("?", String::as_str),
                    call.from,
                    call.to
                ));
            }
            for transform in &layout.trs {
                lines.push(format!("  TRANSFORM: {}()", transform.func.name()));
            }
            if layout.aggs.is_empty() && layout.trs.is_empty() {
                lines.push(format!(
                    "  RAW: {} column(s)",
                    layout
                        .exprs
                        .iter()
                        .filter(|e| matches!(e, ColumnExpr::Var(_)))
                        .count()
                ));
            }
            if let Some(reads) = &shape.reads {
                lines.push(format!(
                    "  READS: {} in [{}, {}]",
                    reads.fields.join(", "),
                    reads.min,
                    reads.max
                ));
            }
            let mut group = Vec::new();
            if let Some((interval, _)) = self.select.group_time {
                group.push(format!("time({interval}ns)"));
            }
            group.extend(shape.group_keys.iter().cloned());
            if !group.is_empty() {
                lines.push(format!("  GROUP BY: {}", group.join(", ")));
            }
        }
        lines
    }
}

/// The GROUP BY tag keys of a measurement with tag keys `tag_keys`.
fn group_keys(select: &SelectPlan, tag_keys: &[String]) -> Vec<String> {
    match &select.group_tags {
        GroupTags::None => Vec::new(),
        GroupTags::Keys(keys) => {
            let mut keys = keys.clone();
            for t in tag_keys {
                if select.group_regexes.iter().any(|r| r.is_match(t)) {
                    keys.push(t.clone());
                }
            }
            keys.sort();
            keys.dedup();
            keys
        }
        GroupTags::All => tag_keys.to_vec(),
    }
}
