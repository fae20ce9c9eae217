//! The executor: runs a [`SelectPlan`] against one [`Version`] snapshot of a database.
//!
//! Every (series, field) run is read from every source of that one snapshot — tables oldest
//! first, then frozen memtables, then the active memtable — and merged so that the newest write
//! of a timestamp wins. Aggregations accumulate per (bucket, column) and never hold the points.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::engine::Database;
use crate::error::{Error, Result};
use crate::memtable::{merge_columns, Memtable};
use crate::query::limits::SelectLimits;
use crate::query::plan::{
    AggFn, CmpOp, FieldPred, Fill, GroupTags, Literal, ProjExpr, SelectPlan, TagPred,
};
use crate::query::result::{SeriesResult, Value};
use crate::series::{SeriesIndex, SeriesInfo};
use crate::types::{Column, FieldType, FieldValue, SeriesId};
use crate::version::{TableRef, Version};
use strata_actors::CancelToken;

fn check(token: &CancelToken) -> Result<()> {
    token.check().map_err(Error::QueryStopped)
}

/// Most GROUP BY time buckets one query may produce.
const MAX_BUCKETS: i64 = 10_000_000;

/// The data sources of one snapshot, in the order newer-wins merging needs.
pub struct Snapshot {
    pub version: Arc<Version>,
    tables: Vec<TableRef>,
    memtables: Vec<Arc<Memtable>>,
    /// max_select_points / max_select_series of the statement reading this snapshot.
    pub limits: SelectLimits,
    /// Oldest timestamp visible: the retention cutoff (`i64::MIN`: none).
    min_time: i64,
}

impl Snapshot {
    pub fn new(version: Arc<Version>) -> Snapshot {
        Snapshot {
            tables: version.tables_oldest_first(),
            memtables: version.memtables_oldest_first(),
            version,
            limits: SelectLimits::unlimited(),
            min_time: i64::MIN,
        }
    }

    /// Hide every point older than `cutoff` (the database's retention), from every source.
    pub fn with_cutoff(mut self, cutoff: Option<i64>) -> Snapshot {
        self.min_time = cutoff.unwrap_or(i64::MIN);
        self
    }

    /// The merged run of (series, field) within `[min, max]`.
    pub fn read(&self, id: SeriesId, field: &str, min: i64, max: i64) -> Result<Option<Column>> {
        let min = min.max(self.min_time);
        if min > max {
            return Ok(None);
        }
        let mut srcs = Vec::new();
        for t in &self.tables {
            let s = t.table.stats();
            if s.max_ts < min || s.min_ts > max || !t.table.may_contain(id) {
                continue;
            }
            if let Some(c) = t.table.read_range(id, field, min, max)? {
                srcs.push(c);
            }
        }
        for m in &self.memtables {
            if let Some(c) = m.read(id, field, min, max) {
                srcs.push(c);
            }
        }
        let merged = merge_columns(srcs);
        // LIMITS CALL SITE 1 (max_select_points): every point read goes through here.
        self.limits
            .add_points(merged.as_ref().map_or(0, Column::len))?;
        Ok(merged)
    }
}

/// What one output column computes, after `*` expansion.
#[derive(Clone, Debug)]
enum Col {
    Field(String),
    Tag(String),
    Agg(AggFn, String),
}

/// Run a SELECT plan.
pub fn execute_select(
    db: &Database,
    plan: &SelectPlan,
    token: &CancelToken,
    limits: &SelectLimits,
) -> Result<Vec<SeriesResult>> {
    let mut snap =
        Snapshot::new(db.versions().current()).with_cutoff(db.retention_cutoff(plan.now));
    snap.limits = limits.clone();
    let index = db.index();
    let mut names: Vec<String> = plan.measurements.clone();
    if !plan.measurement_regexes.is_empty() {
        for m in index.measurement_names() {
            if plan.measurement_regexes.iter().any(|re| re.is_match(&m)) {
                names.push(m);
            }
        }
    }
    names.sort();
    names.dedup();
    let mut out = Vec::new();
    for name in names {
        out.extend(select_measurement(index, &snap, plan, &name, token)?);
    }
    Ok(out)
}

fn matching_series(index: &SeriesIndex, measurement: &str, pred: &TagPred) -> Vec<Arc<SeriesInfo>> {
    let Some(m) = index.measurement(measurement) else {
        return Vec::new();
    };
    let mut ids = m.series_ids();
    for (k, v) in pred.required_equalities() {
        let with = m.series_with_tag(&k, &v);
        ids.retain(|id| with.contains(id));
    }
    let mut series: Vec<Arc<SeriesInfo>> = ids
        .into_iter()
        .filter_map(|id| index.get(id))
        .filter(|s| pred.eval(&|k: &str| s.tag(k).map(str::to_string)))
        .collect();
    series.sort_by(|a, b| a.key.cmp(&b.key));
    series
}

fn dedup_names(cols: &[String]) -> Vec<String> {
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

fn select_measurement(
    index: &SeriesIndex,
    snap: &Snapshot,
    plan: &SelectPlan,
    measurement: &str,
    token: &CancelToken,
) -> Result<Vec<SeriesResult>> {
    let Some(mi) = index.measurement(measurement) else {
        return Ok(Vec::new());
    };
    let schema = mi.fields();
    let series = matching_series(index, measurement, &plan.tag_filter);
    // LIMITS CALL SITE 2 (max_select_series): the series this statement selects.
    snap.limits.add_series(series.len())?;
    if series.is_empty() {
        return Ok(Vec::new());
    }
    let group_keys: Vec<String> = match &plan.group_tags {
        GroupTags::None => Vec::new(),
        GroupTags::Keys(k) => {
            let mut k = k.clone();
            k.sort();
            k.dedup();
            k
        }
        GroupTags::All => mi.tag_keys(),
    };

    // Expand projections into columns.
    let aggregate = plan.is_aggregate();
    let mut cols: Vec<Col> = Vec::new();
    let mut names: Vec<String> = Vec::new();
    for p in &plan.projections {
        match &p.expr {
            ProjExpr::Wildcard => {
                if aggregate {
                    return Err(Error::Query(
                        "mixing aggregate and non-aggregate queries is not supported".into(),
                    ));
                }
                let mut all: Vec<(String, Col)> = schema
                    .keys()
                    .map(|f| (f.clone(), Col::Field(f.clone())))
                    .collect();
                for t in mi.tag_keys() {
                    if !group_keys.contains(&t) && !schema.contains_key(&t) {
                        all.push((t.clone(), Col::Tag(t)));
                    }
                }
                all.sort_by(|a, b| a.0.cmp(&b.0));
                for (n, c) in all {
                    names.push(n);
                    cols.push(c);
                }
            }
            ProjExpr::Field(f) => {
                if aggregate {
                    return Err(Error::Query(
                        "mixing aggregate and non-aggregate queries is not supported".into(),
                    ));
                }
                names.push(p.alias.clone().unwrap_or_else(|| f.clone()));
                if schema.contains_key(f) || !mi.tag_keys().contains(f) {
                    cols.push(Col::Field(f.clone()));
                } else {
                    cols.push(Col::Tag(f.clone()));
                }
            }
            ProjExpr::Agg(func, f) => {
                if let Some(t) = schema.get(f) {
                    check_agg_type(*func, f, *t)?;
                }
                names.push(p.alias.clone().unwrap_or_else(|| func.name().to_string()));
                cols.push(Col::Agg(*func, f.clone()));
            }
            ProjExpr::AggWildcard(func) => {
                for (f, t) in &schema {
                    if check_agg_type(*func, f, *t).is_ok() {
                        names.push(format!("{}_{}", func.name(), f));
                        cols.push(Col::Agg(*func, f.clone()));
                    }
                }
            }
        }
    }
    let mut columns = vec!["time".to_string()];
    columns.extend(dedup_names(&names));

    // Group series by the group-by tag values.
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<Arc<SeriesInfo>>> = BTreeMap::new();
    for s in series {
        let key: Vec<(String, String)> = group_keys
            .iter()
            .map(|k| (k.clone(), s.tag(k).unwrap_or("").to_string()))
            .collect();
        groups.entry(key).or_default().push(s);
    }

    let mut out = Vec::new();
    for (gkey, members) in groups {
        let values = if aggregate {
            aggregate_group(snap, plan, &cols, &members, token)?
        } else {
            raw_group(snap, plan, &cols, &members, token)?
        };
        if values.is_empty() {
            continue;
        }
        out.push(SeriesResult {
            name: measurement.to_string(),
            tags: (!matches!(plan.group_tags, GroupTags::None)).then(|| gkey.into_iter().collect()),
            columns: columns.clone(),
            values,
        });
    }
    let out: Vec<SeriesResult> = out.into_iter().skip(plan.soffset).collect();
    Ok(if plan.slimit > 0 {
        out.into_iter().take(plan.slimit).collect()
    } else {
        out
    })
}

fn check_agg_type(func: AggFn, field: &str, t: FieldType) -> Result<()> {
    let numeric = matches!(
        t,
        FieldType::Float | FieldType::Integer | FieldType::Unsigned
    );
    let ok = match func {
        AggFn::Count | AggFn::First | AggFn::Last => true,
        AggFn::Min | AggFn::Max => numeric || t == FieldType::Boolean,
        AggFn::Sum | AggFn::Mean => numeric,
    };
    if ok {
        Ok(())
    } else {
        Err(Error::Query(format!(
            "{}() cannot be applied to field \"{field}\" of type {t}",
            func.name()
        )))
    }
}

/// Fields a plan must read: the given columns' fields plus the field condition's.
fn needed_fields(plan: &SelectPlan, cols: &[Col]) -> Vec<String> {
    let mut fields = Vec::new();
    for c in cols {
        if let Col::Field(f) | Col::Agg(_, f) = c {
            if !fields.contains(f) {
                fields.push(f.clone());
            }
        }
    }
    if let Some(fp) = &plan.field_filter {
        fp.fields(&mut fields);
    }
    fields
}

/// Rows of one series joined on time: ts → value per needed field.
fn joined_rows(
    snap: &Snapshot,
    plan: &SelectPlan,
    id: SeriesId,
    fields: &[String],
) -> Result<BTreeMap<i64, Vec<Option<FieldValue>>>> {
    let mut rows: BTreeMap<i64, Vec<Option<FieldValue>>> = BTreeMap::new();
    for (i, f) in fields.iter().enumerate() {
        if let Some(col) = snap.read(id, f, plan.tmin, plan.tmax)? {
            for (j, t) in col.timestamps.iter().enumerate() {
                rows.entry(*t).or_insert_with(|| vec![None; fields.len()])[i] =
                    Some(col.values.get(j));
            }
        }
    }
    if let Some(fp) = &plan.field_filter {
        rows.retain(|_, vals| eval_field_pred(fp, fields, vals));
    }
    Ok(rows)
}

fn eval_field_pred(p: &FieldPred, fields: &[String], vals: &[Option<FieldValue>]) -> bool {
    match p {
        FieldPred::And(a, b) => {
            eval_field_pred(a, fields, vals) && eval_field_pred(b, fields, vals)
        }
        FieldPred::Or(a, b) => eval_field_pred(a, fields, vals) || eval_field_pred(b, fields, vals),
        FieldPred::Not(a) => !eval_field_pred(a, fields, vals),
        FieldPred::Cmp(f, op, lit) => {
            let Some(Some(v)) = fields.iter().position(|x| x == f).map(|i| &vals[i]) else {
                return false;
            };
            let ord = match (v, lit) {
                (FieldValue::String(s), Literal::String(l)) => s.as_str().partial_cmp(l.as_str()),
                (FieldValue::Boolean(b), Literal::Bool(l)) => b.partial_cmp(l),
                (v, Literal::Number(n)) => v.as_f64().and_then(|x| x.partial_cmp(n)),
                _ => None,
            };
            let Some(ord) = ord else { return false };
            use std::cmp::Ordering::*;
            match op {
                CmpOp::Eq => ord == Equal,
                CmpOp::Neq => ord != Equal,
                CmpOp::Lt => ord == Less,
                CmpOp::Lte => ord != Greater,
                CmpOp::Gt => ord == Greater,
                CmpOp::Gte => ord != Less,
            }
        }
    }
}

fn raw_group(
    snap: &Snapshot,
    plan: &SelectPlan,
    cols: &[Col],
    members: &[Arc<SeriesInfo>],
    token: &CancelToken,
) -> Result<Vec<Vec<Value>>> {
    let fields = needed_fields(plan, cols);
    let mut rows: Vec<(i64, Vec<Value>)> = Vec::new();
    for s in members {
        check(token)?;
        for (ts, vals) in joined_rows(snap, plan, s.id, &fields)? {
            let mut any_field = false;
            let mut row = Vec::with_capacity(cols.len() + 1);
            row.push(Value::Time(ts));
            for c in cols {
                match c {
                    Col::Field(f) => {
                        let v = fields
                            .iter()
                            .position(|x| x == f)
                            .and_then(|i| vals[i].clone());
                        any_field |= v.is_some();
                        row.push(v.map_or(Value::Null, Value::from));
                    }
                    Col::Tag(t) => row.push(
                        s.tag(t)
                            .map_or(Value::Null, |v| Value::String(v.to_string())),
                    ),
                    Col::Agg(..) => row.push(Value::Null),
                }
            }
            if any_field {
                rows.push((ts, row));
            }
        }
    }
    rows.sort_by_key(|(t, _)| *t); // stable: series order kept within a timestamp
    if plan.desc {
        rows.reverse();
    }
    Ok(limit_rows(plan, rows.into_iter().map(|(_, r)| r).collect()))
}

fn limit_rows(plan: &SelectPlan, rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let it = rows.into_iter().skip(plan.offset);
    if plan.limit > 0 {
        it.take(plan.limit).collect()
    } else {
        it.collect()
    }
}

/// Accumulator of one (bucket, column).
#[derive(Clone, Debug, Default)]
struct Acc {
    count: u64,
    sum_f: f64,
    sum_i: i64,
    sum_u: u64,
    /// Selected point: (ts, value) for min/max/first/last.
    pick: Option<(i64, FieldValue)>,
}

fn cmp_values(a: &FieldValue, b: &FieldValue) -> std::cmp::Ordering {
    match (a, b) {
        (FieldValue::Integer(x), FieldValue::Integer(y)) => x.cmp(y),
        (FieldValue::Unsigned(x), FieldValue::Unsigned(y)) => x.cmp(y),
        (FieldValue::Boolean(x), FieldValue::Boolean(y)) => x.cmp(y),
        _ => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
    }
}

impl Acc {
    fn add(&mut self, func: AggFn, ts: i64, v: &FieldValue) {
        self.count += 1;
        match func {
            AggFn::Count => {}
            AggFn::Sum | AggFn::Mean => match v {
                FieldValue::Float(x) => self.sum_f += x,
                FieldValue::Integer(x) => {
                    self.sum_i = self.sum_i.wrapping_add(*x);
                    self.sum_f += *x as f64;
                }
                FieldValue::Unsigned(x) => {
                    self.sum_u = self.sum_u.wrapping_add(*x);
                    self.sum_f += *x as f64;
                }
                _ => {}
            },
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => {
                let replace = match &self.pick {
                    None => true,
                    Some((pt, pv)) => match func {
                        AggFn::First => ts < *pt,
                        AggFn::Last => ts > *pt,
                        AggFn::Min => {
                            let o = cmp_values(v, pv);
                            o.is_lt() || (o.is_eq() && ts < *pt)
                        }
                        _ => {
                            let o = cmp_values(v, pv);
                            o.is_gt() || (o.is_eq() && ts < *pt)
                        }
                    },
                };
                if replace {
                    self.pick = Some((ts, v.clone()));
                }
            }
        }
    }

    fn value(&self, func: AggFn, t: Option<FieldType>) -> Value {
        if self.count == 0 {
            return if func == AggFn::Count {
                Value::Integer(0)
            } else {
                Value::Null
            };
        }
        match func {
            AggFn::Count => Value::Integer(self.count as i64),
            AggFn::Mean => Value::Float(self.sum_f / self.count as f64),
            AggFn::Sum => match t {
                Some(FieldType::Integer) => Value::Integer(self.sum_i),
                Some(FieldType::Unsigned) => Value::Unsigned(self.sum_u),
                _ => Value::Float(self.sum_f),
            },
            _ => self
                .pick
                .clone()
                .map_or(Value::Null, |(_, v)| Value::from(v)),
        }
    }
}

fn aggregate_group(
    snap: &Snapshot,
    plan: &SelectPlan,
    cols: &[Col],
    members: &[Arc<SeriesInfo>],
    token: &CancelToken,
) -> Result<Vec<Vec<Value>>> {
    let aggs: Vec<(AggFn, String)> = cols
        .iter()
        .filter_map(|c| match c {
            Col::Agg(f, field) => Some((*f, field.clone())),
            _ => None,
        })
        .collect();
    let fields = needed_fields(plan, cols);
    let mut types: Vec<Option<FieldType>> = vec![None; aggs.len()];

    // Bucket layout.
    let (interval, offset) = plan.group_time.unwrap_or((0, 0));
    let bucket_of = |t: i64| -> i64 {
        if interval > 0 {
            (t - offset).div_euclid(interval) * interval + offset
        } else {
            0
        }
    };
    let mut buckets: BTreeMap<i64, Vec<Acc>> = BTreeMap::new();
    let mut feed = |bucket: i64, ai: usize, ts: i64, v: &FieldValue| {
        let accs = buckets
            .entry(bucket)
            .or_insert_with(|| vec![Acc::default(); aggs.len()]);
        accs[ai].add(aggs[ai].0, ts, v);
    };
    let mut data_min = i64::MAX;
    for s in members {
        check(token)?;
        if plan.field_filter.is_some() {
            for (ts, vals) in joined_rows(snap, plan, s.id, &fields)? {
                data_min = data_min.min(ts);
                for (ai, (_, f)) in aggs.iter().enumerate() {
                    if let Some(Some(v)) = fields.iter().position(|x| x == f).map(|i| &vals[i]) {
                        types[ai] = Some(v.field_type());
                        feed(bucket_of(ts), ai, ts, v);
                    }
                }
            }
        } else {
            for f in &fields {
                let Some(col) = snap.read(s.id, f, plan.tmin, plan.tmax)? else {
                    continue;
                };
                if let Some(t) = col.timestamps.first() {
                    data_min = data_min.min(*t);
                }
                for (ai, (_, af)) in aggs.iter().enumerate() {
                    if af != f {
                        continue;
                    }
                    types[ai] = Some(col.values.field_type());
                    for (j, ts) in col.timestamps.iter().enumerate() {
                        feed(bucket_of(*ts), ai, *ts, &col.values.get(j));
                    }
                }
            }
        }
    }
    if buckets.is_empty() {
        return Ok(Vec::new());
    }

    let single_selector = aggs.len() == 1 && aggs[0].0.is_selector();
    let mut rows: Vec<Vec<Value>> = Vec::new();
    if interval == 0 {
        let accs = buckets.into_values().next().unwrap_or_default();
        let time = match (single_selector, accs.first().and_then(|a| a.pick.as_ref())) {
            (true, Some((t, _))) => *t,
            _ if plan.has_tmin => plan.tmin,
            _ => 0,
        };
        let mut row = vec![Value::Time(time)];
        for (ai, (func, _)) in aggs.iter().enumerate() {
            row.push(accs[ai].value(*func, types[ai]));
        }
        rows.push(row);
    } else {
        let start = bucket_of(if plan.has_tmin { plan.tmin } else { data_min });
        let end = bucket_of(plan.tmax);
        if end < start {
            return Ok(Vec::new());
        }
        if (end - start) / interval >= MAX_BUCKETS {
            return Err(Error::Query(format!(
                "GROUP BY time({interval}ns) over this time range gives more than {MAX_BUCKETS} buckets; use a larger interval or a narrower time range"
            )));
        }
        let mut b = start;
        let mut prev: Vec<Value> = vec![Value::Null; aggs.len()];
        let mut pending: Vec<Vec<Value>> = Vec::new();
        while b <= end {
            let row_vals: Option<Vec<Value>> = buckets.get(&b).map(|accs| {
                aggs.iter()
                    .enumerate()
                    .map(|(ai, (func, _))| accs[ai].value(*func, types[ai]))
                    .collect()
            });
            match (row_vals, &plan.fill) {
                (Some(vals), _) => {
                    prev = vals.clone();
                    let mut row = vec![Value::Time(b)];
                    row.extend(vals);
                    pending.push(row);
                }
                (None, Fill::None) => {}
                (None, fill) => {
                    let mut row = vec![Value::Time(b)];
                    for (ai, (func, _)) in aggs.iter().enumerate() {
                        row.push(match fill {
                            Fill::Null | Fill::Linear => Acc::default().value(*func, types[ai]),
                            Fill::Previous => prev[ai].clone(),
                            Fill::Value(x) => {
                                if types[ai] == Some(FieldType::Integer) || *func == AggFn::Count {
                                    Value::Integer(*x as i64)
                                } else {
                                    Value::Float(*x)
                                }
                            }
                            Fill::None => Value::Null,
                        });
                    }
                    pending.push(row);
                }
            }
            b += interval;
        }
        if plan.fill == Fill::Linear {
            fill_linear(&mut pending, &buckets, aggs.len());
        }
        rows = pending;
    }
    if plan.desc {
        rows.reverse();
    }
    Ok(limit_rows(plan, rows))
}

/// Interpolate empty buckets linearly between the nearest buckets with data, per column.
fn fill_linear(rows: &mut [Vec<Value>], buckets: &BTreeMap<i64, Vec<Acc>>, ncols: usize) {
    let has_data =
        |r: &Vec<Value>| matches!(r.first(), Some(Value::Time(t)) if buckets.contains_key(t));
    let num = |v: &Value| match v {
        Value::Float(x) => Some(*x),
        Value::Integer(x) => Some(*x as f64),
        Value::Unsigned(x) => Some(*x as f64),
        _ => None,
    };
    let data_idx: Vec<usize> = (0..rows.len()).filter(|&i| has_data(&rows[i])).collect();
    for w in data_idx.windows(2) {
        let (a, b) = (w[0], w[1]);
        let (before, after) = rows.split_at_mut(b);
        let (first, gap) = before[a..].split_at_mut(1);
        let (first, last) = (&first[0], &after[0]);
        for c in 1..=ncols {
            let (Some(va), Some(vb)) = (num(&first[c]), num(&last[c])) else {
                continue;
            };
            let is_int = matches!(first[c], Value::Integer(_));
            for (k, row) in gap.iter_mut().enumerate() {
                let frac = (k + 1) as f64 / (b - a) as f64;
                let v = va + (vb - va) * frac;
                row[c] = if is_int {
                    Value::Integer(v as i64)
                } else {
                    Value::Float(v)
                };
            }
        }
    }
}
