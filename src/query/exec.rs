//! The executor: runs a [`SelectPlan`] against one [`Version`] snapshot of a database.
//!
//! Every (series, field) run is read from every source of that one snapshot — tables oldest
//! first, then frozen memtables, then the active memtable — and merged so that the newest write
//! of a timestamp wins. Aggregations accumulate per (group, bucket, call); only median, mode,
//! percentile, distinct, integral and top/bottom (bounded to N) hold their bucket's values.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::database::Database;
use crate::error::{Error, Result};
use crate::memtable::Memtable;
use crate::query::compile::unsupported;
use crate::query::limits::{Charge, QueryMemory, SelectLimits};
use crate::query::plan::{
    AggFn, ArithOp, Call, CmpOp, FieldPred, Fill, GroupTags, Literal, PExpr, SelectPlan, TagPred,
};
use crate::query::result::{SeriesResult, Value};
use crate::query::scan::{ScanStats, Segment, SegmentStream};
use crate::query::value_set::{DistinctPositions, SeenKeys, DISTINCT_INDEX_BYTES};
use crate::series::{SeriesIndex, SeriesInfo};
use crate::sstable::{BlockCache, BlockMeta, NumericAgg};
use crate::types::{Column, FieldType, FieldValue, SeriesId, Values};
use crate::version::{TableRef, Version};
use strata_actors::CancelToken;

fn check(token: &CancelToken) -> Result<()> {
    token.check().map_err(Error::from)
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
    /// The memory budget of the query reading this snapshot.
    pub mem: QueryMemory,
    /// What the reads did (EXPLAIN ANALYZE).
    pub stats: Arc<ScanStats>,
    /// Answer whole blocks from their pre-aggregates when allowed (tests turn it off to
    /// compare).
    pub preaggregates: bool,
    /// Read only the newest blocks of each series a raw `ORDER BY time DESC LIMIT n` needs
    /// (tests turn it off to compare).
    pub early_stop: bool,
    /// Oldest timestamp visible: the retention cutoff (`i64::MIN`: none).
    min_time: i64,
    /// Blocks are read through it (`None`: straight from the files).
    pub block_cache: Option<Arc<BlockCache>>,
}

impl Snapshot {
    pub fn new(version: Arc<Version>) -> Snapshot {
        Snapshot {
            tables: version.tables_oldest_first(),
            memtables: version.memtables_oldest_first(),
            version,
            limits: SelectLimits::unlimited(),
            mem: QueryMemory::default(),
            stats: Arc::default(),
            preaggregates: true,
            early_stop: true,
            min_time: i64::MIN,
            block_cache: None,
        }
    }

    /// Hide every point older than `cutoff` (the database's retention), from every source.
    pub fn with_cutoff(mut self, cutoff: Option<i64>) -> Snapshot {
        self.min_time = cutoff.unwrap_or(i64::MIN);
        self
    }

    pub(crate) fn min_time(&self) -> i64 {
        self.min_time
    }

    /// Every table of the snapshot, oldest first.
    pub(crate) fn all_tables(&self) -> &[TableRef] {
        &self.tables
    }

    /// Every memtable of the snapshot, oldest first.
    pub(crate) fn all_memtables(&self) -> &[Arc<Memtable>] {
        &self.memtables
    }

    pub(crate) fn memory(&self) -> &QueryMemory {
        &self.mem
    }

    /// The merged run of (series, field) within `[min, max]`, from every source.
    pub fn read(&self, id: SeriesId, field: &str, min: i64, max: i64) -> Result<Option<Column>> {
        Ok(self.read_in(&self.tables, id, field, min, max)?.0)
    }
}

/// Resolved column expression of one measurement.
#[derive(Clone, Debug)]
enum E {
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
struct AggSpec {
    func: AggFn,
    field: usize,
    n: usize,
    p: f64,
    unit: i64,
    /// `count(distinct(x))`.
    count_distinct: bool,
    /// top/bottom tag arguments (variable indexes).
    tags: Vec<usize>,
    /// The query reads newest first (ORDER BY time DESC): distinct() keeps each value's newest
    /// point, the one 1.x meets first then.
    newest_first: bool,
    /// The time range the call reads (inclusive): the statement's, widened for the input of a
    /// transformation ([`call_windows`]).
    from: i64,
    to: i64,
}

impl AggSpec {
    /// Whether the call reads a point at `ts`.
    fn reads(&self, ts: i64) -> bool {
        self.from <= ts && ts <= self.to
    }
}

/// A transformation over raw points of a field or over an aggregate's buckets.
#[derive(Clone, Debug)]
struct TrSpec {
    func: AggFn,
    n: usize,
    unit: i64,
    input: TrInput,
}

#[derive(Clone, Debug)]
enum TrInput {
    Var(usize),
    Agg(usize),
    /// Another transformation's output (`derivative(difference(mean(x)))`).
    Tr(usize),
}

/// How a variable is read for a series.
#[derive(Clone, Debug)]
enum VarSrc {
    Field(usize),
    Tag(String),
}

/// The columns of one measurement's answer.
#[derive(Default)]
struct Layout {
    names: Vec<String>,
    exprs: Vec<E>,
    vars: Vec<String>,
    aggs: Vec<AggSpec>,
    trs: Vec<TrSpec>,
}

impl Layout {
    fn var(&mut self, name: &str) -> usize {
        if let Some(i) = self.vars.iter().position(|v| v == name) {
            return i;
        }
        self.vars.push(name.to_string());
        self.vars.len() - 1
    }

    fn call(&mut self, c: &Call, field: Option<&str>) -> Result<E> {
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

    fn expr(&mut self, e: &PExpr, field: Option<&str>) -> Result<E> {
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
fn wildcard_in_expression(c: &Call) -> Error {
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
fn call_wildcard(c: &Call) -> Option<&PExpr> {
    match &c.arg {
        PExpr::Wildcard | PExpr::Regex(_) => Some(&c.arg),
        PExpr::Call(inner) => call_wildcard(inner),
        _ => None,
    }
}

/// InfluxDB 1.x's error for a transformation other than elapsed() of the distinct() values of
/// a string or boolean field.
fn distinct_input_accepted(c: &Call, schema: &BTreeMap<String, FieldType>) -> Result<()> {
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

fn agg_accepts(func: AggFn, t: FieldType) -> bool {
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

/// What one measurement's selection works over: the union schema of the statement's
/// measurements, and the part of the statement this task computes.
struct Scope<'a> {
    union: &'a Schema,
    part: Option<Part>,
    /// The statement's result rows, charged to the query's memory as they are made.
    rows: &'a std::cell::RefCell<Charge>,
}

/// Fields and tag keys of the selected measurements.
#[derive(Default)]
struct Schema {
    fields: BTreeMap<String, FieldType>,
    tags: Vec<String>,
}

/// What EXPLAIN collects while a SELECT is planned (and, for EXPLAIN ANALYZE, run).
#[derive(Debug, Default)]
pub struct Explain {
    /// Collect plan lines.
    pub on: bool,
    /// Plan only: read nothing, answer nothing (EXPLAIN without ANALYZE).
    pub plan_only: bool,
    /// The plan, one line per entry.
    pub lines: Vec<String>,
    /// Series selected over all measurements.
    pub series: u64,
}

/// The key of one output series: its GROUP BY tags.
pub type GroupKey = Vec<(String, String)>;

/// The output series of one measurement, by group key, before SOFFSET/SLIMIT.
pub type MeasurementPart = (String, Vec<(GroupKey, SeriesResult)>);

/// Which of a statement's (measurement, group) units one task computes: those whose key hashes
/// to `index` modulo `of`.
#[derive(Clone, Copy, Debug)]
pub struct Part {
    pub index: usize,
    pub of: usize,
}

impl Part {
    fn owns(&self, measurement: &str, key: &GroupKey) -> bool {
        // FNV-1a: stable across tasks and runs.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        let mut eat = |s: &str| {
            for b in s.bytes().chain([0xff]) {
                h ^= u64::from(b);
                h = h.wrapping_mul(0x0100_0000_01b3);
            }
        };
        eat(measurement);
        for (k, v) in key {
            eat(k);
            eat(v);
        }
        (h % self.of.max(1) as u64) as usize == self.index
    }
}

/// Run a SELECT plan.
pub fn execute_select(
    db: &Database,
    plan: &SelectPlan,
    token: &CancelToken,
    limits: &SelectLimits,
    mem: &QueryMemory,
) -> Result<Vec<SeriesResult>> {
    let snap = snapshot(db, plan, limits, mem);
    execute_on(db, &snap, plan, token, &mut Explain::default())
}

/// The snapshot a SELECT reads: the database's current version under its retention cutoff.
pub fn snapshot(
    db: &Database,
    plan: &SelectPlan,
    limits: &SelectLimits,
    mem: &QueryMemory,
) -> Snapshot {
    snapshot_of(db, db.versions().current(), plan, limits, mem)
}

/// [`snapshot`] of a given version (the tasks of one query share theirs).
pub fn snapshot_of(
    db: &Database,
    version: Arc<Version>,
    plan: &SelectPlan,
    limits: &SelectLimits,
    mem: &QueryMemory,
) -> Snapshot {
    let mut snap = Snapshot::new(version).with_cutoff(db.retention_cutoff(plan.now));
    snap.limits = limits.clone();
    snap.mem = mem.clone();
    snap.block_cache = Some(db.block_cache().clone());
    snap
}

/// Run (or, with `ex.plan_only`, only plan) a SELECT on `snap`.
pub fn execute_on(
    db: &Database,
    snap: &Snapshot,
    plan: &SelectPlan,
    token: &CancelToken,
    ex: &mut Explain,
) -> Result<Vec<SeriesResult>> {
    let parts = execute_part(db, snap, plan, token, ex, None)?;
    Ok(merge_parts(plan, vec![parts]))
}

/// Merge what the tasks of one statement computed ([`execute_part`]): measurements in the
/// statement's order, each measurement's series by group key, then ORDER BY time DESC,
/// SOFFSET and SLIMIT.
pub fn merge_parts(plan: &SelectPlan, parts: Vec<Vec<MeasurementPart>>) -> Vec<SeriesResult> {
    let mut by_name: BTreeMap<String, Vec<(GroupKey, SeriesResult)>> = BTreeMap::new();
    for part in parts {
        for (name, groups) in part {
            by_name.entry(name).or_default().extend(groups);
        }
    }
    let mut measurements: Vec<(String, Vec<(GroupKey, SeriesResult)>)> =
        by_name.into_iter().collect();
    if plan.desc {
        // ORDER BY time DESC also reverses the order of the series (1.x).
        measurements.reverse();
    }
    let mut out = Vec::new();
    for (_, mut groups) in measurements {
        groups.sort_by(|a, b| a.0.cmp(&b.0));
        if plan.desc {
            groups.reverse();
        }
        let it = groups.into_iter().map(|(_, r)| r).skip(plan.soffset);
        if plan.slimit > 0 {
            out.extend(it.take(plan.slimit));
        } else {
            out.extend(it);
        }
    }
    out
}

/// Compute the output series of a SELECT, or of the (measurement, group) units `part` owns.
pub fn execute_part(
    db: &Database,
    snap: &Snapshot,
    plan: &SelectPlan,
    token: &CancelToken,
    ex: &mut Explain,
    part: Option<Part>,
) -> Result<Vec<MeasurementPart>> {
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
    // `*` and regexes expand over the union of the measurements' fields and tags (1.x).
    let mut union = Schema::default();
    for name in &names {
        if let Some(mi) = index.measurement(name) {
            union.fields.extend(mi.fields());
            union.tags.extend(mi.tag_keys());
        }
    }
    union.tags.sort();
    union.tags.dedup();
    let mut out = Vec::new();
    // Result rows are held until the answer is sent: charged as each row is made (aggregates)
    // or each group is done (raw rows, whose buffers are charged while they are read).
    let rows = std::cell::RefCell::new(snap.mem.charge(0)?);
    for name in names {
        let scope = Scope {
            union: &union,
            part,
            rows: &rows,
        };
        let groups = select_measurement(index, snap, plan, &name, &scope, token, ex)?;
        out.push((name, groups));
    }
    // The charge ends with the statement's execution; its rows are in `out` now.
    drop(rows);
    Ok(out)
}

/// Bytes result rows hold: a cell each, plus the strings a cell holds alone.
fn rows_bytes(values: &[Vec<Value>]) -> u64 {
    values
        .iter()
        .flatten()
        .map(|v| std::mem::size_of::<Value>() as u64 + v.own_heap_bytes())
        .sum()
}

/// The end of the run of `ts` (sorted) from `j` on whose times are before `next`: `j` plus the
/// run's length, found by galloping from `j` (a bucket's run is usually short) then bisecting.
fn run_end(ts: &[i64], j: usize, next: i64) -> usize {
    let mut lo = j;
    let mut step = 1;
    while let Some(&t) = ts.get(lo + step - 1) {
        if t >= next {
            break;
        }
        lo += step;
        step *= 2;
    }
    let hi = (lo + step).min(ts.len());
    lo + ts[lo..hi].partition_point(|&t| t < next)
}

/// The series of `measurement` whose tags satisfy `pred`, in series-key order.
pub(crate) fn matching_series(
    index: &SeriesIndex,
    measurement: &str,
    pred: &TagPred,
) -> Vec<Arc<SeriesInfo>> {
    let mut series = matching_series_unordered(index, measurement, pred);
    sort_by_key(&mut series);
    series
}

/// [`matching_series`] in no particular order.
fn matching_series_unordered(
    index: &SeriesIndex,
    measurement: &str,
    pred: &TagPred,
) -> Vec<Arc<SeriesInfo>> {
    let Some(m) = index.measurement(measurement) else {
        return Vec::new();
    };
    let ids = pred.candidates(&m);
    ids.into_iter()
        .filter_map(|id| index.get(id))
        .filter(|s| pred.eval(&|k: &str| s.tag(k)))
        .collect()
}

/// Series in key order.
fn sort_by_key(series: &mut [Arc<SeriesInfo>]) {
    // Series keys are unique: the unstable sort gives the same order, with fewer moves.
    series.sort_unstable_by(|a, b| a.key.cmp(&b.key));
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

/// Expand `*` and regexes against the measurement's schema and resolve every column.
fn layout(
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

/// The time range every aggregate call reads. As in InfluxDB 1.x each call is its own
/// iterator: an aggregate column reads the statement's range, so its first and last buckets
/// may be partial; the aggregate a transformation reads over GROUP BY time reads [`tr_reach`]
/// intervals more (not buckets: its range is shifted, so the statement's first bucket is whole
/// and the one before it partial), before the start, or newest first past the end.
fn call_windows(plan: &SelectPlan, l: &mut Layout) {
    for a in &mut l.aggs {
        (a.from, a.to) = (plan.tmin, plan.tmax);
    }
    let interval = plan.group_time.map_or(0, |g| g.0);
    if interval <= 0 {
        return;
    }
    let extra = extra_intervals(&l.trs);
    for (t, reach) in l.trs.iter().zip(tr_reaches(&l.trs)) {
        let TrInput::Agg(ai) = t.input else {
            continue;
        };
        let reach = reach.min(extra).saturating_mul(interval);
        let a = &mut l.aggs[ai];
        if plan.desc {
            a.to = plan.tmax.saturating_add(reach);
        } else if plan.has_tmin {
            a.from = plan.tmin.saturating_sub(reach);
        }
    }
}

fn select_measurement(
    index: &SeriesIndex,
    snap: &Snapshot,
    plan: &SelectPlan,
    measurement: &str,
    scope: &Scope,
    token: &CancelToken,
    ex: &mut Explain,
) -> Result<Vec<(GroupKey, SeriesResult)>> {
    let (union, part) = (scope.union, scope.part);
    let Some(mi) = index.measurement(measurement) else {
        return Ok(Vec::new());
    };
    let schema = mi.fields();
    let tag_keys = mi.tag_keys();
    let mut series = matching_series_unordered(index, measurement, &plan.tag_filter);
    if series.is_empty() {
        if ex.on {
            ex.lines.push(format!("MEASUREMENT: {measurement}"));
            ex.lines.push("  SERIES: 0".to_string());
        }
        return Ok(Vec::new());
    }
    let group_keys: Vec<String> = match &plan.group_tags {
        GroupTags::None => Vec::new(),
        GroupTags::Keys(k) => {
            let mut k = k.clone();
            for t in &tag_keys {
                if plan.group_regexes.iter().any(|r| r.is_match(t)) {
                    k.push(t.clone());
                }
            }
            k.sort();
            k.dedup();
            k
        }
        GroupTags::All => tag_keys.clone(),
    };
    // The layout, and the fields and window it reads, are known before the series are
    // grouped (a layout error is still reported after the series limit, below).
    let laid = layout(plan, &union.fields, &union.tags, &group_keys);
    let reads = match &laid {
        Ok(l) if !l.exprs.is_empty() => Some((
            read_fields(plan, l, &schema, &tag_keys),
            read_window(plan, l),
        )),
        _ => None,
    };
    // Inline (see `SelectLimits::inline_estimate`), the estimate comes before the series are
    // grouped: a query estimated past the budget moves to the pool having done little.
    let early = match &reads {
        Some(((fields, _), (read_min, read_max))) if snap.limits.is_inline() => {
            let mut ids: Vec<SeriesId> = series.iter().map(|s| s.id).collect();
            ids.sort_unstable();
            let pruned = snap.prune(&ids, fields, *read_min, *read_max)?;
            snap.inline_estimate(&pruned, &ids, fields)?;
            Some(pruned)
        }
        _ => None,
    };
    sort_by_key(&mut series);
    let mut groups: BTreeMap<Vec<(String, String)>, Vec<Arc<SeriesInfo>>> = BTreeMap::new();
    for s in series {
        let key: Vec<(String, String)> = group_keys
            .iter()
            .map(|k| (k.clone(), s.tag(k).unwrap_or("").to_string()))
            .collect();
        if part.is_none_or(|p| p.owns(measurement, &key)) {
            groups.entry(key).or_default().push(s);
        }
    }
    // LIMITS CALL SITE 2 (max_select_series): the series this statement (this part of it)
    // selects.
    let selected = groups.values().map(Vec::len).sum::<usize>();
    snap.limits.add_series(selected)?;
    ex.series += selected as u64;

    let l = laid?;
    let Some(((fields, srcs), (read_min, read_max))) = reads else {
        return Ok(Vec::new()); // nothing to compute
    };
    let var_types: Vec<Option<FieldType>> = l.vars.iter().map(|v| schema.get(v).copied()).collect();
    let mut columns = vec!["time".to_string()];
    columns.extend(dedup_names(&l.names));

    let ids: Vec<SeriesId> = series_ids(&groups);
    // What the inline estimate pruned is the same: an inline statement is never split, so
    // every matching series is in `groups`.
    let pruned = match early {
        Some(p) => p,
        None => snap.prune(&ids, &fields, read_min, read_max)?,
    };
    if ex.on {
        explain_lines(ex, measurement, &ids, &fields, &pruned, snap);
        if ex.plan_only {
            return Ok(Vec::new());
        }
    }
    let ctx = GroupCtx {
        rows_mem: scope.rows,
        snap,
        tables: &pruned.tables,
        plan,
        l: &l,
        srcs: &srcs,
        fields: &fields,
        var_types: &var_types,
        token,
    };
    let mut out = Vec::new();
    for (gkey, members) in groups {
        let values = if !l.aggs.is_empty() {
            // Charges its rows as it makes them.
            ctx.aggregate(&members)?
        } else {
            let values = if !l.trs.is_empty() {
                ctx.raw_transform(&members)?
            } else {
                ctx.raw(&members)?
            };
            scope.rows.borrow_mut().add(rows_bytes(&values))?;
            values
        };
        if values.is_empty() {
            continue;
        }
        let result = SeriesResult {
            name: measurement.to_string(),
            tags: (!matches!(plan.group_tags, GroupTags::None))
                .then(|| gkey.iter().cloned().collect()),
            columns: columns.clone(),
            values,
        };
        out.push((gkey, result));
    }
    Ok(out)
}

/// The fields a layout reads (its field variables, then those of the field condition) and
/// where each variable comes from: a field (its index in the fields) or a tag.
fn read_fields(
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

fn series_ids(groups: &BTreeMap<Vec<(String, String)>, Vec<Arc<SeriesInfo>>>) -> Vec<SeriesId> {
    let mut ids: Vec<SeriesId> = groups.values().flatten().map(|s| s.id).collect();
    ids.sort_unstable();
    ids
}

/// GROUP BY time intervals the aggregate under a transformation reads beyond the statement's
/// range, before its start (newest first: past its end): as InfluxDB 1.x does, one for any
/// transformation that looks back at all (moving_average of any window too), none for
/// cumulative_sum.
fn tr_reach(t: &TrSpec) -> i64 {
    match t.func {
        AggFn::CumulativeSum => 0,
        _ => 1,
    }
}

/// The intervals each transformation reads beyond the statement's range: its own
/// [`tr_reach`] and those of the transformations its output feeds (1.x widens the range at
/// every level of `derivative(difference(mean(x)))`).
fn tr_reaches(trs: &[TrSpec]) -> Vec<i64> {
    let mut total: Vec<i64> = trs.iter().map(tr_reach).collect();
    // An input transformation comes before the one it feeds.
    for i in (0..trs.len()).rev() {
        if let TrInput::Tr(j) = trs[i].input {
            if j < i {
                total[j] = total[j].saturating_add(total[i]);
            }
        }
    }
    total
}

/// The intervals InfluxDB 1.x reads data beyond the statement's range at most, whatever the
/// transformations' own ranges ([`tr_reaches`]): the largest any transformation asks for
/// (moving_average its window). Under a transformation of a transformation the buckets reach
/// further than the data: those are empty (filled).
fn extra_intervals(trs: &[TrSpec]) -> i64 {
    trs.iter()
        .map(|t| match t.func {
            AggFn::MovingAverage => t.n as i64,
            _ => tr_reach(t),
        })
        .max()
        .unwrap_or(0)
}

/// The buckets a GROUP BY time statement computes, as a time range: the statement's, widened
/// as far as a transformation reads ([`tr_reaches`]), before the start (newest first: past
/// the end).
fn bucket_span(plan: &SelectPlan, l: &Layout) -> (i64, i64) {
    let interval = plan.group_time.map_or(0, |g| g.0);
    let reach = tr_reaches(&l.trs)
        .into_iter()
        .max()
        .unwrap_or(0)
        .saturating_mul(interval.max(0));
    if plan.desc {
        (plan.tmin, plan.tmax.saturating_add(reach))
    } else if plan.has_tmin {
        (plan.tmin.saturating_sub(reach), plan.tmax)
    } else {
        (plan.tmin, plan.tmax)
    }
}

/// The time range a statement reads: every aggregate call's ([`call_windows`]).
fn read_window(plan: &SelectPlan, l: &Layout) -> (i64, i64) {
    let from = l.aggs.iter().map(|a| a.from).min().unwrap_or(plan.tmin);
    let to = l.aggs.iter().map(|a| a.to).max().unwrap_or(plan.tmax);
    (from.min(plan.tmin), to.max(plan.tmax))
}

fn explain_lines(
    ex: &mut Explain,
    measurement: &str,
    ids: &[SeriesId],
    fields: &[String],
    p: &crate::query::scan::Pruned,
    snap: &Snapshot,
) {
    ex.lines.push(format!("MEASUREMENT: {measurement}"));
    ex.lines.push(format!("  SERIES: {}", ids.len()));
    ex.lines.push(format!("  FIELDS: {}", fields.join(", ")));
    let (chosen, total) = p
        .layers
        .iter()
        .fold((0, 0), |(c, t), (_, lc, lt)| (c + lc, t + lt));
    ex.lines.push(format!(
        "  FILES: {chosen} chosen, {} pruned, of {total}",
        total - chosen
    ));
    for (layer, c, t) in &p.layers {
        ex.lines.push(format!(
            "    LAYER C{layer}: {c} chosen, {} pruned, of {t}",
            t - c
        ));
    }
    ex.lines.push(format!("  BLOCKS: {}", p.blocks));
    ex.lines
        .push(format!("  ESTIMATED POINTS: {}", p.estimated_points));
    ex.lines.push(format!(
        "  MEMTABLES: {} read, of {}",
        p.memtables,
        snap.all_memtables().len()
    ));
}

fn eval_field_pred(
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
            let side = |e: &PExpr| {
                let v = cond_value(e, names, fields, vals, s);
                // 1.x takes a missing value beside a boolean for false, unless it is a bare
                // name's.
                (v, matches!(e, PExpr::Var(_)))
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
fn cmp_holds(v: &FieldValue, op: CmpOp, lit: &Literal) -> bool {
    // As in 1.x strings and booleans compare by = and != only.
    let equality = matches!(op, CmpOp::Eq | CmpOp::Neq);
    let ord = match (v, lit) {
        (FieldValue::String(s), Literal::String(l)) if equality => {
            s.as_str().partial_cmp(l.as_str())
        }
        (FieldValue::Boolean(b), Literal::Bool(l)) if equality => b.partial_cmp(l),
        (v, Literal::Number(n)) => v.as_f64().and_then(|x| x.partial_cmp(n)),
        _ => None,
    };
    ord.is_some_and(|ord| op.holds(ord))
}

/// A field condition ready for rows of `fields`: a lone comparison of one field with a
/// literal (`usage_user > 90`) is resolved to the field's position once, not looked up by name
/// per row; anything else goes through [`eval_field_pred`].
enum RowPred<'a> {
    Cmp(usize, CmpOp, &'a Literal),
    Any(&'a FieldPred),
}

impl<'a> RowPred<'a> {
    fn new(p: &'a FieldPred, fields: &[String]) -> RowPred<'a> {
        match p {
            FieldPred::Cmp(f, op, lit) => match fields.iter().position(|x| x == f) {
                Some(k) => RowPred::Cmp(k, *op, lit),
                None => RowPred::Any(p),
            },
            _ => RowPred::Any(p),
        }
    }

    fn holds(&self, fields: &[String], vals: &[Option<FieldValue>], s: &SeriesInfo) -> bool {
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
fn cond_value(
    e: &PExpr,
    names: &[String],
    fields: &[String],
    vals: &[Option<FieldValue>],
    s: &SeriesInfo,
) -> Value {
    match e {
        PExpr::Var(v) if names.contains(v) => fields
            .iter()
            .position(|x| x == v)
            .and_then(|i| vals.get(i).cloned().flatten())
            .map_or(Value::Null, Value::from),
        PExpr::Var(v) => s.tag(v).map_or(Value::Null, Value::string),
        PExpr::Integer(n) => Value::Integer(*n),
        PExpr::Number(x) => Value::Float(*x),
        PExpr::String(x) => Value::string(x.clone()),
        PExpr::Bool(b) => Value::Boolean(*b),
        PExpr::Binary(op, a, b) => {
            let a = cond_value(a, names, fields, vals, s);
            let b = cond_value(b, names, fields, vals, s);
            match (op, &a, &b) {
                (ArithOp::Div, Value::Integer(x), Value::Integer(y)) => {
                    Value::Integer(if *y == 0 { 0 } else { x.wrapping_div(*y) })
                }
                _ => arith(*op, &a, &b),
            }
        }
        PExpr::Wildcard | PExpr::Regex(_) | PExpr::Call(_) => Value::Null,
    }
}

/// 1.x's comparison in a condition: numbers with numbers (as integers when both are, else as
/// floats), strings and booleans by `=` and `!=` only; anything else is false.
fn cond_compare(op: CmpOp, a: &Value, b: &Value) -> bool {
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

fn limit_rows(plan: &SelectPlan, rows: Vec<Vec<Value>>) -> Vec<Vec<Value>> {
    let it = rows.into_iter().skip(plan.offset);
    if plan.limit > 0 {
        it.take(plan.limit).collect()
    } else {
        it.collect()
    }
}

/// The next chunk of merged points of a stream read without pre-aggregates.
fn next_points(st: &mut SegmentStream<'_>) -> Result<Option<Column>> {
    loop {
        match st.next()? {
            Some(Segment::Points(c)) if c.is_empty() => continue,
            Some(Segment::Points(c)) => return Ok(Some(c)),
            // Not asked for (no block qualifies): nothing to join, so skip it.
            Some(Segment::Block(_)) => continue,
            None => return Ok(None),
        }
    }
}

/// Rows of one series: (time, the value of each read field).
type Rows = Vec<(i64, Vec<Option<FieldValue>>)>;

/// What takes one row at a time: its time and the value of each read field.
type RowSink<'a> = dyn FnMut(i64, &[Option<FieldValue>]) -> Result<()> + 'a;

/// The number of points left in every field's chunk when all of them hold the same
/// timestamps from their positions on (and at least one), else `None`.
fn aligned_len(heads: &[Option<(Column, usize)>]) -> Option<usize> {
    let mut first: Option<&[i64]> = None;
    for h in heads {
        let (c, i) = h.as_ref()?;
        let ts = c.timestamps.get(*i..)?;
        match first {
            None => first = Some(ts),
            Some(f) if f == ts => {}
            Some(_) => return None,
        }
    }
    first.map(<[i64]>::len).filter(|&m| m > 0)
}

struct GroupCtx<'a> {
    /// The statement's result rows, charged as they are made.
    rows_mem: &'a std::cell::RefCell<Charge>,
    snap: &'a Snapshot,
    /// The tables left after pruning, oldest first.
    tables: &'a [TableRef],
    plan: &'a SelectPlan,
    l: &'a Layout,
    srcs: &'a [VarSrc],
    fields: &'a [String],
    var_types: &'a [Option<FieldType>],
    token: &'a CancelToken,
}

impl GroupCtx<'_> {
    /// One series' rows within `[min, max]` joined on time and filtered by the field
    /// condition, handed to `f` in time order. The fields are read as [`SegmentStream`]s and
    /// joined chunk by chunk, so what is held is a decoded block or so per field and source,
    /// whatever the number of points in range.
    fn for_each_row(&self, s: &SeriesInfo, min: i64, max: i64, f: &mut RowSink<'_>) -> Result<()> {
        check(self.token)?;
        let n = self.fields.len();
        let mut streams = Vec::with_capacity(n);
        for field in self.fields {
            streams.push(
                self.snap
                    .segments(self.tables, s.id, field, min, max, &|_| false)?,
            );
        }
        // Per field: the chunk being joined and the position in it; `None` once its stream
        // has ended.
        let mut heads: Vec<Option<(Column, usize)>> = Vec::with_capacity(n);
        for st in &mut streams {
            heads.push(next_points(st)?.map(|c| (c, 0)));
        }
        // The row being built, reused for every row and handed over by reference. The
        // condition is checked on its own fields first; the others are read only for a
        // passing row.
        let mut vals: Vec<Option<FieldValue>> = vec![None; n];
        let mut at: Vec<Option<usize>> = vec![None; n];
        let pred = self
            .plan
            .field_filter
            .as_ref()
            .map(|fp| RowPred::new(fp, self.fields));
        let (cond_fields, rest_fields): (Vec<usize>, Vec<usize>) = match &self.plan.field_filter {
            Some(fp) => {
                let mut names = Vec::new();
                fp.fields(&mut names);
                (0..n).partition(|&k| names.contains(&self.fields[k]))
            }
            None => (Vec::new(), (0..n).collect()),
        };
        loop {
            check(self.token)?;
            for (h, st) in heads.iter_mut().zip(&mut streams) {
                if h.as_ref().is_some_and(|(c, i)| *i >= c.len()) {
                    *h = next_points(st)?.map(|c| (c, 0));
                }
            }
            // The row at time `t` whose fields sit at `at` (`None`: the field has no point at
            // `t`): built and handed over if it passes the field condition.
            let mut emit = |t: i64,
                            at: &[Option<usize>],
                            heads: &[Option<(Column, usize)>],
                            vals: &mut Vec<Option<FieldValue>>|
             -> Result<()> {
                let read = |vals: &mut [Option<FieldValue>], ks: &[usize]| {
                    for &k in ks {
                        vals[k] = match (&heads[k], at[k]) {
                            (Some((c, _)), Some(i)) => Some(c.values.get(i)),
                            _ => None,
                        };
                    }
                };
                if let Some(p) = &pred {
                    read(vals, &cond_fields);
                    if !p.holds(self.fields, vals, s) {
                        return Ok(());
                    }
                }
                read(vals, &rest_fields);
                f(t, vals)
            };
            // The common case: every field's chunk holds the same timestamps from its
            // position on (fields written together, blocks cut alike), so rows are positions
            // and need no join.
            if let Some(m) = aligned_len(&heads) {
                let firsts: Vec<usize> = heads.iter().flatten().map(|(_, i)| *i).collect();
                let ts: &[i64] = heads
                    .iter()
                    .flatten()
                    .next()
                    .and_then(|(c, i)| c.timestamps.get(*i..*i + m))
                    .unwrap_or_default();
                for (j, &t) in ts.iter().enumerate() {
                    for (a, i) in at.iter_mut().zip(&firsts) {
                        *a = Some(i + j);
                    }
                    emit(t, &at, &heads, &mut vals)?;
                }
                for (_, i) in heads.iter_mut().flatten() {
                    *i += m;
                }
                continue;
            }
            // Every field's next chunk starts after its current one ends: rows up to the
            // earliest end are complete.
            let Some(horizon) = heads
                .iter()
                .filter_map(|h| h.as_ref().and_then(|(c, _)| c.timestamps.last().copied()))
                .min()
            else {
                return Ok(());
            };
            loop {
                let next = heads
                    .iter()
                    .filter_map(|h| h.as_ref().and_then(|(c, i)| c.timestamps.get(*i).copied()))
                    .min();
                let Some(t) = next.filter(|&t| t <= horizon) else {
                    break;
                };
                for (h, a) in heads.iter_mut().zip(at.iter_mut()) {
                    *a = None;
                    if let Some((c, i)) = h {
                        if c.timestamps.get(*i) == Some(&t) {
                            *a = Some(*i);
                            *i += 1;
                        }
                    }
                }
                emit(t, &at, &heads, &mut vals)?;
            }
        }
    }

    /// The `k` newest rows of one series within `[min, max]` that pass the field condition and
    /// `keep`, in time order: the newest `k` of [`Self::rows`]'s rows that pass `keep`, built
    /// newest first so that no older row is built at all.
    fn newest_rows(
        &self,
        s: &SeriesInfo,
        min: i64,
        max: i64,
        k: usize,
        keep: &dyn Fn(&[Option<FieldValue>]) -> bool,
    ) -> Result<(Rows, Charge)> {
        check(self.token)?;
        let n = self.fields.len();
        let mut held = self.snap.mem.charge(0)?;
        let row_bytes = 48 + 40 * n as u64;
        let mut cols: Vec<Option<Column>> = Vec::with_capacity(n);
        let mut col_charges = Vec::with_capacity(n);
        for f in self.fields {
            let (col, charge) = self.snap.read_in(self.tables, s.id, f, min, max)?;
            cols.push(col);
            col_charges.push(charge);
        }
        // Per column: how many of its points are not taken yet (the newest are taken first).
        let mut left: Vec<usize> = cols
            .iter()
            .map(|c| c.as_ref().map_or(0, Column::len))
            .collect();
        let mut out: Rows = Vec::new();
        while out.len() < k {
            let newest = cols
                .iter()
                .zip(&left)
                .filter_map(|(c, &l)| Some(*c.as_ref()?.timestamps.get(l.checked_sub(1)?)?))
                .max();
            let Some(t) = newest else { break };
            let mut vals: Vec<Option<FieldValue>> = vec![None; n];
            for ((c, l), v) in cols.iter().zip(left.iter_mut()).zip(vals.iter_mut()) {
                if let Some(c) = c {
                    if *l > 0 && c.timestamps[*l - 1] == t {
                        *l -= 1;
                        *v = Some(c.values.get(*l));
                    }
                }
            }
            if let Some(fp) = &self.plan.field_filter {
                if !eval_field_pred(fp, self.fields, &vals, s) {
                    continue;
                }
            }
            if !keep(&vals) {
                continue;
            }
            let extra: u64 = vals
                .iter()
                .map(|v| match v {
                    Some(FieldValue::String(x)) => x.len() as u64,
                    _ => 0,
                })
                .sum();
            held.add(row_bytes + extra)?;
            out.push((t, vals));
        }
        out.reverse();
        Ok((out, held))
    }

    /// The `k` newest rows of one series within the statement's time range that pass the
    /// field condition and `keep`, in time order, reading only the newest blocks that can
    /// hold them: the window `[start, tmax]` widens through the series' block starts (newest
    /// first, at least doubling the blocks it decodes each time but the last, so that all the
    /// tries together decode fewer than three times the blocks of the whole range, and in the
    /// common case of a small `k` just the newest block of each field) until it holds `k` such
    /// rows or covers the whole range. Rows are merged per timestamp, so a window's rows are
    /// exactly the whole range's rows at or after its start.
    fn newest(
        &self,
        s: &SeriesInfo,
        k: usize,
        keep: &dyn Fn(&[Option<FieldValue>]) -> bool,
    ) -> Result<(Rows, Charge)> {
        let (min, max) = (self.plan.tmin, self.plan.tmax);
        let starts = self
            .snap
            .block_starts(self.tables, s.id, self.fields, min, max);
        let mut next = starts.first().copied();
        loop {
            let (lo, blocks) = next.unwrap_or((min, usize::MAX));
            let (rows, held) = self.newest_rows(s, lo, max, k, keep)?;
            if rows.len() >= k || lo <= min || next.is_none() {
                return Ok((rows, held));
            }
            // At least twice the blocks (and at least one more than a window of none).
            next = starts
                .iter()
                .copied()
                .find(|&(_, n)| n > blocks && n >= blocks.saturating_mul(2))
                .or(starts.last().copied());
        }
    }

    fn var_value(&self, v: usize, vals: &[Option<FieldValue>], s: &SeriesInfo) -> Value {
        match &self.srcs[v] {
            VarSrc::Field(i) => vals[*i].clone().map_or(Value::Null, Value::from),
            VarSrc::Tag(t) => s.tag(t).map_or(Value::Null, Value::string),
        }
    }

    fn is_field_var(&self, v: usize) -> bool {
        matches!(self.srcs[v], VarSrc::Field(_))
    }

    /// Raw rows: every column evaluated per point.
    fn raw(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Vec<Value>>> {
        let plan = self.plan;
        let mut rows: Vec<(i64, Vec<Value>)> = Vec::new();
        let mut out_held = self.snap.mem.charge(0)?;
        let cell = std::mem::size_of::<Value>() as u64;
        let out_row_bytes = cell * (self.l.exprs.len() as u64 + 1) + 24;
        // ORDER BY time DESC LIMIT n: the group's rows are the newest offset + n of its series'
        // rows, so each series needs only its newest offset + n.
        let newest = (plan.desc && plan.limit > 0 && self.snap.early_stop)
            .then(|| plan.offset.saturating_add(plan.limit));
        for s in members {
            // The series' tag values, made once and shared by its rows.
            let tags: Vec<Option<Value>> = (0..self.l.vars.len())
                .map(|v| (!self.is_field_var(v)).then(|| self.var_value(v, &[], s)))
                .collect();
            // The row's variables, refilled for each row.
            let mut vars: Vec<Value> = Vec::with_capacity(tags.len());
            let moves = columns_are_distinct_vars(&self.l.exprs);
            let mut add = |ts: i64, vals: &[Option<FieldValue>]| -> Result<()> {
                vars.clear();
                vars.extend(tags.iter().enumerate().map(|(v, tag)| match tag {
                    Some(t) => t.clone(),
                    None => self.var_value(v, vals, s),
                }));
                let any_field =
                    (0..vars.len()).any(|v| self.is_field_var(v) && vars[v] != Value::Null);
                if !any_field {
                    return Ok(());
                }
                let mut row = Vec::with_capacity(self.l.exprs.len() + 1);
                row.push(Value::Time(ts));
                if moves {
                    // Each variable is one column (`SELECT *`, plain field lists): moved, not
                    // cloned and dropped (a tag value's clone is an atomic increment).
                    for e in &self.l.exprs {
                        let v = match e {
                            E::Var(v) => {
                                vars.get_mut(*v).map(|x| std::mem::replace(x, Value::Null))
                            }
                            _ => None,
                        };
                        row.push(v.unwrap_or(Value::Null));
                    }
                } else {
                    for e in &self.l.exprs {
                        row.push(eval(e, &vars, &[], &[]));
                    }
                }
                // Strings the row holds alone (string fields) hold heap bytes of their own; tag
                // values are shared by the series' rows. (`vars` is emptied first: it shares
                // the row's field strings until then.)
                vars.clear();
                let heap: u64 = row.iter().map(Value::own_heap_bytes).sum();
                out_held.add(out_row_bytes + heap)?;
                rows.push((ts, row));
                Ok(())
            };
            match newest {
                Some(k) => {
                    let keep = |vals: &[Option<FieldValue>]| {
                        (0..self.l.vars.len()).any(|v| {
                            self.is_field_var(v) && self.var_value(v, vals, s) != Value::Null
                        })
                    };
                    let (series_rows, _held) = self.newest(s, k, &keep)?;
                    for (ts, vals) in series_rows {
                        add(ts, &vals)?;
                    }
                }
                None => self.for_each_row(s, plan.tmin, plan.tmax, &mut add)?,
            }
        }
        rows.sort_by_key(|(t, _)| *t); // stable: series order kept within a timestamp
        if plan.desc {
            rows.reverse();
        }
        Ok(limit_rows(plan, rows.into_iter().map(|(_, r)| r).collect()))
    }

    /// Transformations over the raw points of fields: each answers its own stream, the streams
    /// are joined on time and every column is evaluated over the joined rows ([`join_calls`]).
    fn raw_transform(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Vec<Value>>> {
        let trs = self.raw_tr_streams(members)?;
        Ok(join_calls(self.plan, Vec::new(), trs, &self.l.exprs))
    }

    /// What each transformation over raw points ([`TrInput::Var`]) answers, as (time, value)
    /// in output order (ORDER BY time DESC runs it over the points newest first, as 1.x does).
    /// Transformations over aggregates answer an empty stream here.
    fn raw_tr_streams(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Stream>> {
        let plan = self.plan;
        let mut vars: Vec<usize> = self
            .l
            .trs
            .iter()
            .filter_map(|t| match t.input {
                TrInput::Var(v) => Some(v),
                TrInput::Agg(_) | TrInput::Tr(_) => None,
            })
            .collect();
        vars.sort_unstable();
        vars.dedup();
        let mut points: BTreeMap<usize, Vec<(i64, Value)>> = BTreeMap::new();
        let mut held = self.snap.mem.charge(0)?;
        if !vars.is_empty() {
            for s in members {
                self.for_each_row(s, plan.tmin, plan.tmax, &mut |ts, vals| {
                    for &v in &vars {
                        let x = self.var_value(v, vals, s);
                        if x != Value::Null {
                            held.add(48)?;
                            points.entry(v).or_default().push((ts, x));
                        }
                    }
                    Ok(())
                })?;
            }
        }
        for p in points.values_mut() {
            p.sort_by_key(|(t, _)| *t); // stable: series order kept within a timestamp
            if plan.desc {
                p.reverse();
            }
        }
        let mut out = Vec::with_capacity(self.l.trs.len());
        for tr in &self.l.trs {
            let mut stream = Vec::new();
            if let TrInput::Var(v) = tr.input {
                let mut state = TrState::new(tr, 1_000_000_000);
                for (ts, x) in points.get(&v).into_iter().flatten() {
                    if let Some(y) = state.push(*ts, x) {
                        held.add(48)?;
                        stream.push((*ts, y));
                    }
                }
            }
            out.push(stream);
        }
        Ok(out)
    }

    /// Aggregates per (bucket), then expressions, transformations and fill.
    fn aggregate(&self, members: &[Arc<SeriesInfo>]) -> Result<Vec<Vec<Value>>> {
        let l = self.l;
        // Transformations read past the statement's range ([`call_windows`]): the buckets are
        // computed over the widened range, every call over its own, and the columns cut at
        // the statement's buckets.
        let (read_min, read_max) = read_window(self.plan, l);
        let widened;
        let plan = match read_max {
            t if t != self.plan.tmax => {
                widened = SelectPlan {
                    tmax: t,
                    ..self.plan.clone()
                };
                &widened
            }
            _ => self.plan,
        };
        let (interval, offset) = plan.group_time.unwrap_or((0, 0));
        let bucket_of = |t: i64| -> i64 {
            if interval > 0 {
                (t - offset).div_euclid(interval) * interval + offset
            } else {
                0
            }
        };
        // Aux columns beside a single selector come from the selected point.
        let aux: Vec<usize> = {
            let mut v = Vec::new();
            for e in &l.exprs {
                collect_vars(e, &mut v);
            }
            for a in &l.aggs {
                v.extend(a.tags.iter().copied());
            }
            v.sort();
            v.dedup();
            v
        };
        let mut buckets = BucketMap::default();
        let mut data_min = i64::MAX;
        // Held accumulator buffers (median, distinct, top, …) until the buckets are answered.
        let mut held = self.snap.mem.charge(0)?;
        // Beside a transformation a selector's row is the bucket's (or the query's start).
        let single_selector = l.aggs.len() == 1 && l.aggs[0].func.is_selector() && l.trs.is_empty();
        // Without a field condition or columns taken from the selected point, every call
        // reads its field alone: (series, field) runs stream in, and whole blocks inside one
        // bucket may be answered from their pre-aggregates.
        let per_field = plan.field_filter.is_none()
            && aux.is_empty()
            && l.aggs.iter().all(|a| self.is_field_var(a.field));
        if per_field {
            // No column comes from the selected point (`aux` is empty): a pick holds no values
            // beside it (no allocation per pick), and `eval` reads a missing var as null.
            let no_aux = Vec::new;
            // min/max from a block lose the selected point's time: only when it is not shown.
            let time_free = interval > 0 || !single_selector;
            let mut field_vars: Vec<usize> = l.aggs.iter().map(|a| a.field).collect();
            field_vars.sort_unstable();
            field_vars.dedup();
            let read_max =
                self.first_buckets_end(plan, members, &field_vars, read_min, &bucket_of)?;
            // The (call, first, end) points each call reads of a chunk, and of a bucket's run
            // within it; reused.
            let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(l.aggs.len());
            let mut reads: Vec<(usize, usize, usize)> = Vec::with_capacity(l.aggs.len());
            for s in members {
                check(self.token)?;
                for &fv in &field_vars {
                    let VarSrc::Field(fi) = self.srcs[fv] else {
                        continue;
                    };
                    let calls: Vec<usize> = (0..l.aggs.len())
                        .filter(|&ai| l.aggs[ai].field == fv)
                        .collect();
                    let use_agg = |b: &BlockMeta| {
                        self.snap.preaggregates
                            && bucket_of(b.min_ts) == bucket_of(b.max_ts)
                            && calls.iter().all(|&ai| {
                                let a = &l.aggs[ai];
                                a.reads(b.min_ts)
                                    && a.reads(b.max_ts)
                                    && block_answers(a, b, time_free)
                            })
                    };
                    let mut segs = self.snap.segments(
                        self.tables,
                        s.id,
                        &self.fields[fi],
                        read_min,
                        read_max,
                        &use_agg,
                    )?;
                    while let Some(seg) = segs.next()? {
                        check(self.token)?;
                        match seg {
                            Segment::Block(b) => {
                                data_min = data_min.min(b.min_ts);
                                let accs = buckets.entry(bucket_of(b.min_ts), l.aggs.len());
                                for &ai in &calls {
                                    accs[ai].add_block(&l.aggs[ai], &b);
                                }
                            }
                            Segment::Points(col) => {
                                // The chunk is in time order: each bucket's points are one run,
                                // and each call's window a run within it, so the bucket is
                                // looked up once per run and a call folds its run at once.
                                let ts = &col.timestamps;
                                // Each call's points of the chunk: its window, found once.
                                spans.clear();
                                spans.extend(calls.iter().map(|&ai| {
                                    let a = &l.aggs[ai];
                                    let lo = ts.partition_point(|&t| t < a.from);
                                    (ai, lo, lo + ts[lo..].partition_point(|&t| t <= a.to))
                                }));
                                let mut j = 0;
                                while j < ts.len() {
                                    let b = bucket_of(ts[j]);
                                    let end = if interval > 0 {
                                        run_end(ts, j, b.saturating_add(interval))
                                    } else {
                                        ts.len()
                                    };
                                    reads.clear();
                                    reads.extend(
                                        spans
                                            .iter()
                                            .map(|&(ai, lo, hi)| (ai, lo.max(j), hi.min(end)))
                                            .filter(|&(_, lo, hi)| lo < hi),
                                    );
                                    if let Some(first) = reads.iter().map(|r| ts[r.1]).min() {
                                        data_min = data_min.min(first);
                                        let accs = buckets.entry(b, l.aggs.len());
                                        for &(ai, lo, hi) in &reads {
                                            let a = &l.aggs[ai];
                                            if accs[ai].add_floats(
                                                a,
                                                ts,
                                                &col.values,
                                                lo..hi,
                                                &no_aux,
                                            ) {
                                                continue;
                                            }
                                            for (k, &t) in ts.iter().enumerate().take(hi).skip(lo) {
                                                let v = col.values.get(k);
                                                held.add(accs[ai].add(a, t, v, &no_aux))?;
                                            }
                                        }
                                    }
                                    j = end;
                                }
                            }
                        }
                    }
                }
            }
        }
        for s in members.iter().filter(|_| !per_field) {
            self.for_each_row(s, read_min, plan.tmax, &mut |ts, vals| {
                let b = bucket_of(ts);
                let xs: Vec<Option<FieldValue>> = l
                    .aggs
                    .iter()
                    .map(|a| {
                        a.reads(ts)
                            .then(|| value_to_field(&self.var_value(a.field, vals, s)))
                            .flatten()
                    })
                    .collect();
                if xs.iter().all(Option::is_none) {
                    return Ok(());
                }
                data_min = data_min.min(ts);
                let accs = buckets.entry(b, l.aggs.len());
                let auxv = || -> Vec<Value> {
                    let mut all = vec![Value::Null; l.vars.len()];
                    for v in &aux {
                        all[*v] = self.var_value(*v, vals, s);
                    }
                    all
                };
                for (ai, (a, x)) in l.aggs.iter().zip(xs).enumerate() {
                    if let Some(fv) = x {
                        held.add(accs[ai].add(a, ts, fv, &auxv))?;
                    }
                }
                Ok(())
            })?;
        }
        if buckets.is_empty() {
            return Ok(Vec::new());
        }
        // Each integral's rows over the buckets (GROUP BY time), by call.
        let integrals: BTreeMap<usize, Vec<(i64, f64)>> = l
            .aggs
            .iter()
            .enumerate()
            .filter(|(_, a)| interval > 0 && a.func == AggFn::Integral)
            .map(|(ai, a)| (ai, integral_rows(&buckets, ai, a.unit, interval, plan.desc)))
            .collect();
        let finals = |accs: &mut [Acc]| -> Vec<Out> {
            l.aggs
                .iter()
                .zip(accs.iter_mut())
                .map(|(a, acc)| acc.finish(a))
                .collect()
        };

        // Multi-row functions (top, bottom, distinct) are alone in their query.
        let multi = l
            .aggs
            .iter()
            .position(|a| a.func.is_multi_row() && !a.count_distinct);
        // … unless it feeds transformations (`derivative(distinct(x))`): then its rows are
        // the transformations' input, bucket by bucket.
        let (multi, multi_input) = if l.trs.is_empty() {
            (multi, None)
        } else {
            (None, multi)
        };
        let mut multi_rows: BTreeMap<i64, Vec<Value>> = BTreeMap::new();
        let mut rows: Vec<Vec<Value>> = Vec::new();
        let row_of = |time: i64, outs: &[Out], pick_aux: Option<&[Value]>, trv: &[Value]| {
            let aggv: Vec<Value> = outs.iter().map(|o| o.value.clone()).collect();
            // Without the selected point's values every var is null (`eval` reads a missing
            // var as null).
            let vars = pick_aux.unwrap_or(&[]);
            let mut row = Vec::with_capacity(1 + l.exprs.len());
            row.push(Value::Time(time));
            for e in &l.exprs {
                row.push(eval(e, vars, &aggv, trv));
            }
            row
        };
        if interval == 0 {
            let mut accs = buckets.into_first().unwrap_or_default();
            let base = if plan.has_tmin { plan.tmin } else { 0 };
            if let Some(mi) = multi {
                let points = accs[mi].finish_rows(&l.aggs[mi]);
                for (ts, v, auxv) in bucket_order(points, plan.desc) {
                    let time = if l.aggs[mi].func == AggFn::Distinct {
                        base
                    } else {
                        ts
                    };
                    let out = Out {
                        value: v,
                        time: Some(ts),
                        aux: None,
                    };
                    rows.push(row_of(time, std::slice::from_ref(&out), Some(&auxv), &[]));
                }
            } else if !l.trs.is_empty() {
                // Aggregates beside transformations of raw points (1.x allows it without
                // GROUP BY time): each aggregate's one row at the query's start and each
                // transformation's rows, joined on time; an expression of both is null where
                // they do not meet.
                let mut outs = finals(&mut accs);
                let gone = finish_integrals(&l.aggs, &accs, &mut outs, plan.desc);
                let aggs: Vec<Stream> = outs
                    .into_iter()
                    .zip(gone)
                    .map(|(o, gone)| {
                        if gone {
                            Vec::new()
                        } else {
                            vec![(base, o.value)]
                        }
                    })
                    .collect();
                let trs = self.raw_tr_streams(members)?;
                return Ok(join_calls(plan, aggs, trs, &l.exprs));
            } else {
                let mut outs = finals(&mut accs);
                let gone = finish_integrals(&l.aggs, &accs, &mut outs, plan.desc);
                let time = match (single_selector, outs.first().and_then(|o| o.time)) {
                    (true, Some(t)) => t,
                    _ => base,
                };
                let aux = outs.first().and_then(|o| o.aux.clone());
                if !gone.iter().all(|g| *g) {
                    rows.push(row_of(time, &outs, aux.as_deref(), &[]));
                }
            }
        } else {
            let (span_min, span_max) = bucket_span(self.plan, l);
            let start = bucket_of(if plan.has_tmin {
                span_min.min(read_min)
            } else {
                data_min
            });
            let out_start = if plan.has_tmin {
                bucket_of(plan.tmin)
            } else {
                start
            };
            let end = bucket_of(span_max.max(plan.tmax));
            if end < start {
                return Ok(Vec::new());
            }
            if (end - start) / interval >= MAX_BUCKETS {
                return Err(Error::Query(format!(
                    "GROUP BY time({interval}ns) over this time range gives more than {MAX_BUCKETS} buckets; use a larger interval or a narrower time range"
                )));
            }
            // LIMITS: max_select_buckets, before any bucket is made; then every bucket's row is
            // charged to the query's memory before it is made (fill makes one per interval,
            // with or without points).
            self.snap
                .limits
                .check_buckets(((end - start) / interval + 1) as u64)?;
            let calls = l.aggs.len();
            let filled_row = (std::mem::size_of::<(i64, Vec<Out>, Vec<bool>)>()
                + calls * (std::mem::size_of::<Out>() + 1)) as u64;
            let out_row = (std::mem::size_of::<Vec<Value>>()
                + (1 + l.names.len().max(calls)) * std::mem::size_of::<Value>())
                as u64;
            let mut filled_mem = self.snap.mem.charge(0)?;
            // With a fill every interval makes a row: charge them all now, and make room once.
            let n_buckets = ((end - start) / interval + 1) as usize;
            // Integrals answer from their own rows ([`integral_streams`]), so when every call is
            // one the empty buckets (up to `now()` without an upper bound) are not made at all.
            let only_integrals =
                l.trs.is_empty() && l.aggs.iter().all(|a| a.func == AggFn::Integral);
            let precharged = plan.fill != Fill::None && multi.is_none() && !only_integrals;
            if precharged {
                filled_mem.add(n_buckets as u64 * filled_row)?;
                let answered = ((end - out_start.max(start)) / interval + 1).max(0) as u64;
                self.rows_mem.borrow_mut().add(answered * out_row)?;
            }
            let trs: Vec<TrState> = l.trs.iter().map(|t| TrState::new(t, interval)).collect();
            // Each bucket's values, and which calls had points there.
            let mut filled: Vec<(i64, Vec<Out>, Vec<bool>)> = Vec::new();
            if precharged {
                filled.reserve_exact(n_buckets);
            }
            // A call's value in a bucket it has no points in (None: no row, fill(none);
            // fill(previous) and fill(linear) are done after the buckets, [`fill_previous`],
            // [`fill_linear`]).
            let fill_value = |ai: usize| -> Option<Value> {
                let a = &l.aggs[ai];
                match &plan.fill {
                    Fill::None => None,
                    Fill::Linear => Some(Value::Null),
                    Fill::Null if a.func == AggFn::Count => Some(Value::Integer(0)),
                    Fill::Null => Some(Value::Null),
                    Fill::Previous => Some(Value::Null),
                    Fill::Value(x) => Some(
                        if a.func == AggFn::Count
                            || (matches!(
                                a.func,
                                AggFn::Sum
                                    | AggFn::Min
                                    | AggFn::Max
                                    | AggFn::First
                                    | AggFn::Last
                                    | AggFn::Spread
                                    | AggFn::Mode
                            ) && self.field_is_int(a.field))
                        {
                            Value::Integer(*x as i64)
                        } else {
                            Value::Float(*x)
                        },
                    ),
                }
            };
            let mut b = start;
            while b <= end {
                self.token.check().map_err(Error::from)?;
                match buckets.get_mut(b) {
                    Some(accs) => {
                        if let Some(mi) = multi {
                            let points = accs[mi].finish_rows(&l.aggs[mi]);
                            for (ts, v, auxv) in bucket_order(points, plan.desc) {
                                let time = if l.aggs[mi].func == AggFn::Distinct {
                                    b
                                } else {
                                    ts
                                };
                                if b >= out_start {
                                    let out = Out {
                                        value: v,
                                        time: Some(ts),
                                        aux: None,
                                    };
                                    rows.push(row_of(
                                        time,
                                        std::slice::from_ref(&out),
                                        Some(&auxv),
                                        &[],
                                    ));
                                }
                            }
                        } else {
                            if let Some(mi) = multi_input {
                                let vals = accs[mi].finish_rows(&l.aggs[mi]);
                                multi_rows.insert(b, vals.into_iter().map(|(_, v, _)| v).collect());
                            }
                            // A call without points in a bucket others have points in is filled
                            // as in an empty bucket: 1.x fills every call's stream on its own.
                            if !precharged {
                                filled_mem.add(filled_row)?;
                            }
                            let has: Vec<bool> = accs.iter().map(Acc::has_points).collect();
                            let mut outs = finals(accs);
                            for (ai, o) in outs.iter_mut().enumerate() {
                                if !has[ai] {
                                    o.value = fill_value(ai).unwrap_or(Value::Null);
                                }
                            }
                            filled.push((b, outs, has));
                        }
                    }
                    None if multi.is_some() => {}
                    None if plan.fill == Fill::None || only_integrals => {}
                    None => {
                        let outs = (0..l.aggs.len())
                            .map(|ai| Out {
                                value: fill_value(ai).unwrap_or(Value::Null),
                                time: None,
                                aux: None,
                            })
                            .collect();
                        filled.push((b, outs, vec![false; l.aggs.len()]));
                    }
                }
                b += interval;
            }
            match plan.fill {
                Fill::Linear => fill_linear(&mut filled),
                Fill::Previous => fill_previous(&mut filled, plan.desc),
                _ => {}
            }
            if !l.trs.is_empty() {
                let out = (out_start, bucket_of(self.plan.tmax));
                let multi = multi_input.map(|mi| (mi, multi_rows));
                return Ok(self.bucket_transforms(filled, multi, &integrals, trs, out, interval));
            }
            if l.aggs.iter().any(|a| a.func == AggFn::Integral) {
                return Ok(integral_streams(
                    plan, l, filled, &integrals, out_start, interval,
                ));
            }
            for (b, outs, _) in filled {
                let aux = if single_selector {
                    outs.first().and_then(|o| o.aux.clone())
                } else {
                    None
                };
                if b >= out_start {
                    if !precharged {
                        self.rows_mem.borrow_mut().add(out_row)?;
                    }
                    rows.push(row_of(b, &outs, aux.as_deref(), &[]));
                }
            }
        }
        if plan.desc {
            rows.reverse();
        }
        Ok(limit_rows(plan, rows))
    }

    /// Transformations over the buckets of aggregates, beside aggregates or other
    /// transformations. As in 1.x every column is its own stream: an aggregate's column has a
    /// row per (filled) bucket, a transformation's only where it yields; LIMIT/OFFSET apply to
    /// each, and the streams are joined on time. Each transformation reads only its own
    /// look-back before the first bucket answered (cumulative_sum none, even beside
    /// derivative); ORDER BY time DESC runs them over the buckets newest first, reading
    /// [`tr_reach`] buckets past the last one answered, `out` being the answered buckets.
    /// An integral's column, and a transformation of it, read its rows ([`integral_rows`],
    /// unfilled, at their time: newest first at the bucket's end), as in 1.x.
    fn bucket_transforms(
        &self,
        mut filled: Vec<(i64, Vec<Out>, Vec<bool>)>,
        multi: Option<(usize, BTreeMap<i64, Vec<Value>>)>,
        integrals: &BTreeMap<usize, Vec<(i64, f64)>>,
        mut trs: Vec<TrState>,
        (out_start, out_end): (i64, i64),
        interval: i64,
    ) -> Vec<Vec<Value>> {
        let l = self.l;
        let desc = self.plan.desc;
        if desc && !integrals.is_empty() {
            // Newest first an integral's rows lie at their bucket's end: a row of its own
            // where no call has a bucket (fill(none)), for the columns joining it with others.
            let have: BTreeSet<i64> = filled.iter().map(|f| f.0).collect();
            let ends: BTreeSet<i64> = integrals
                .values()
                .flatten()
                .map(|(b, _)| b.saturating_add(interval))
                .filter(|t| !have.contains(t))
                .collect();
            for t in ends {
                let none = || Out {
                    value: Value::Null,
                    time: None,
                    aux: None,
                };
                let outs = (0..l.aggs.len()).map(|_| none()).collect();
                filled.push((t, outs, vec![false; l.aggs.len()]));
            }
            filled.sort_by_key(|f| f.0);
        }
        if desc {
            filled.reverse();
        }
        // Each column's aggregates and transformations.
        let (agg_refs, refs): (Vec<Vec<usize>>, Vec<Vec<usize>>) = l
            .exprs
            .iter()
            .map(|e| {
                let (mut a, mut r) = (Vec::new(), Vec::new());
                call_refs(e, &mut a, &mut r);
                (a, r)
            })
            .unzip();
        let fill_none = self.plan.fill == Fill::None;
        // Transformations of distinct(): every distinct value of a bucket is a point at the
        // bucket's time.
        let over_multi = |ti: usize| match (&l.trs[ti].input, &multi) {
            (TrInput::Agg(ai), Some((mi, _))) => ai == mi,
            _ => false,
        };
        let no_rows = Vec::new();
        // Each integral's rows, at `shift` past their bucket.
        let shift = if desc { interval } else { 0 };
        let integral_at = integrals_by_bucket(integrals);
        let tr_shift = tr_shifts(&l.trs, integrals, shift);
        let reaches = tr_reaches(&l.trs);
        let mut streams: Vec<Stream> = vec![Vec::new(); l.exprs.len()];
        // A call's value in a joined row it has no point in, `prev` its value in the row
        // before: 1.x fills the row.
        let missing = |prev: &Value| match self.plan.fill {
            Fill::Value(x) => Value::Float(x),
            Fill::Previous => prev.clone(),
            _ => Value::Null,
        };
        // Each integral's value in the last row it was in.
        let mut last_integral: BTreeMap<usize, Value> = BTreeMap::new();
        for (b, outs, has) in filled {
            // What each transformation yields at this bucket (several over distinct()).
            let mut ys: Vec<Vec<Value>> = Vec::with_capacity(trs.len());
            for (ti, t) in l.trs.iter().enumerate() {
                // Whether this transformation reads this bucket, in its order: the buckets of
                // its input's range ([`call_windows`]).
                let reach = reaches[ti].saturating_mul(interval);
                let reads = if desc {
                    b <= out_end.saturating_add(reach)
                } else {
                    b >= out_start.saturating_sub(reach)
                };
                let mut y = Vec::new();
                match (&t.input, &multi) {
                    (_, _) if !reads => {}
                    (TrInput::Agg(ai), Some((mi, rows))) if ai == mi => {
                        for v in rows.get(&b).unwrap_or(&no_rows) {
                            y.extend(trs[ti].push(b, v));
                        }
                    }
                    (TrInput::Agg(ai), _) if integral_at.contains_key(ai) => {
                        let rows = integral_at.get(ai).and_then(|at| at.get(&b));
                        for v in rows.unwrap_or(&no_rows) {
                            y.extend(trs[ti].push(b.saturating_add(shift), v));
                        }
                    }
                    (TrInput::Agg(ai), _) => {
                        y.extend(outs.get(*ai).and_then(|o| trs[ti].push(b, &o.value)));
                    }
                    (TrInput::Tr(j), _) => {
                        for v in ys.get(*j).unwrap_or(&no_rows) {
                            y.extend(trs[ti].push(b, v));
                        }
                    }
                    (TrInput::Var(_), _) => {}
                }
                ys.push(y);
            }
            let answered = b >= out_start && b <= out_end;
            let aggv: Vec<Value> = outs.iter().map(|o| o.value.clone()).collect();
            // … with each integral's (first) row at this bucket's time instead (newest first
            // that of the bucket before), null without one.
            let row_of = b.saturating_sub(shift);
            let integral_rows_here =
                |ai: &usize| integral_at.get(ai).and_then(|at| at.get(&row_of));
            let mut aggv_at = aggv.clone();
            for ai in integral_at.keys() {
                if let Some(x) = aggv_at.get_mut(*ai) {
                    *x = match integral_rows_here(ai).and_then(|r| r.first()) {
                        Some(v) => v.clone(),
                        None => missing(last_integral.get(ai).unwrap_or(&Value::Null)),
                    };
                }
            }
            let nth = |k: usize| -> Vec<Value> {
                ys.iter()
                    .map(|y| y.get(k).cloned().unwrap_or(Value::Null))
                    .collect()
            };
            for (((e, r), ar), stream) in l
                .exprs
                .iter()
                .zip(&refs)
                .zip(&agg_refs)
                .zip(streams.iter_mut())
            {
                if has_agg(e) || r.is_empty() {
                    // One row per bucket answered (with the transformations' first points)
                    // where its aggregates have points or are filled, an integral has a row at
                    // its time, or its transformations yield (a column of neither: where any
                    // does).
                    let yields = |i: &usize| !ys[*i].is_empty();
                    let (ints, plain): (Vec<usize>, Vec<usize>) =
                        ar.iter().partition(|i| integral_at.contains_key(i));
                    // An integral's row answers at its time (newest first past its bucket).
                    let answered = answered
                        || (row_of >= out_start
                            && row_of <= out_end
                            && ints.iter().any(|i| integral_rows_here(i).is_some()));
                    let present = if ar.is_empty() && r.is_empty() {
                        (0..ys.len()).any(|i| yields(&i))
                    } else {
                        (!plain.is_empty() && (!fill_none || plain.iter().any(|&i| has[i])))
                            || ints.iter().any(|i| integral_rows_here(i).is_some())
                            || r.iter().any(yields)
                    };
                    if answered && present {
                        stream.push((b, eval(e, &[], &aggv_at, &nth(0))));
                        // An integral's further rows at this time (newest first, a bucket
                        // emitted twice) join with nothing from the other calls.
                        for k in 1.. {
                            let mut more = false;
                            let mut vals: Vec<Value> = aggv_at.iter().map(missing).collect();
                            for &ai in &ints {
                                let row = integral_rows_here(&ai).and_then(|r| r.get(k));
                                if let (Some(v), Some(x)) = (row, vals.get_mut(ai)) {
                                    *x = v.clone();
                                    more = true;
                                }
                            }
                            if !more {
                                break;
                            }
                            stream.push((b, eval(e, &[], &vals, &[])));
                        }
                    }
                    continue;
                }
                // A row per point every transformation of the column yields; over distinct()
                // 1.x answers those of the buckets read outside the statement's range too.
                if !answered && !r.iter().any(|&i| over_multi(i)) {
                    continue;
                }
                let n = r.iter().map(|&i| ys[i].len()).min().unwrap_or(0);
                let time = b.saturating_add(r.iter().map(|&i| tr_shift[i]).max().unwrap_or(0));
                for k in 0..n {
                    stream.push((time, eval(e, &[], &aggv, &nth(k))));
                }
            }
            for ai in integral_at.keys() {
                if let Some(v) = integral_rows_here(ai).and_then(|r| r.last()) {
                    last_integral.insert(*ai, v.clone());
                }
            }
        }
        join_streams(self.plan, streams)
    }

    /// The end of the reads of an aggregate whose rows are its group's first buckets: ascending,
    /// `GROUP BY time` without a lower time bound, `LIMIT n`, a fill that does not look ahead,
    /// one row per bucket and no transformation. Its rows are then the `offset + n` buckets
    /// from the one holding the group's first point, so nothing past them is read (TSBS
    /// groupby-orderby-limit reads minutes, not the whole history). The first point comes
    /// from the head of each (series, field) stream, which decodes at most a block per source.
    /// Otherwise the statement's end.
    /// `plan` is the one the aggregate reads with (its end may lie past the statement's).
    fn first_buckets_end(
        &self,
        plan: &SelectPlan,
        members: &[Arc<SeriesInfo>],
        field_vars: &[usize],
        read_min: i64,
        bucket_of: &dyn Fn(i64) -> i64,
    ) -> Result<i64> {
        let Some((interval, _)) = plan.group_time.filter(|g| g.0 > 0) else {
            return Ok(plan.tmax);
        };
        let eligible =
            !plan.has_tmin
                && !plan.desc
                && plan.limit > 0
                && self.l.trs.is_empty()
                && !matches!(plan.fill, Fill::Linear | Fill::None)
                && self.l.aggs.iter().all(|a| {
                    a.func != AggFn::Integral && (!a.func.is_multi_row() || a.count_distinct)
                });
        if !eligible {
            return Ok(plan.tmax);
        }
        let mut first = i64::MAX;
        for s in members {
            for &fv in field_vars {
                let VarSrc::Field(fi) = self.srcs[fv] else {
                    continue;
                };
                let t = self.snap.first_time(
                    self.tables,
                    s.id,
                    &self.fields[fi],
                    read_min,
                    plan.tmax.min(first),
                )?;
                first = first.min(t.unwrap_or(i64::MAX));
            }
        }
        if first == i64::MAX {
            return Ok(plan.tmax);
        }
        let rows = i64::try_from(plan.offset.saturating_add(plan.limit)).unwrap_or(i64::MAX);
        let end = bucket_of(first)
            .saturating_add(rows.saturating_mul(interval))
            .saturating_sub(1);
        Ok(end.min(plan.tmax))
    }

    fn field_is_int(&self, v: usize) -> bool {
        self.var_types.get(v) == Some(&Some(FieldType::Integer))
    }
}

/// One column's answer: (time, value) in output order.
type Stream = Vec<(i64, Value)>;

/// Join columns answered separately on time, as InfluxDB 1.x joins the iterators of a
/// statement's calls: OFFSET and LIMIT apply to each column; each row takes the earliest (DESC:
/// latest) time any column has next, with a value from every column whose next point has that
/// time and null from the others.
fn join_streams(plan: &SelectPlan, streams: Vec<Stream>) -> Vec<Vec<Value>> {
    let mut its: Vec<_> = streams
        .into_iter()
        .map(|s| {
            let it = s.into_iter().skip(plan.offset);
            let s: Stream = if plan.limit > 0 {
                it.take(plan.limit).collect()
            } else {
                it.collect()
            };
            s.into_iter().peekable()
        })
        .collect();
    // A column without a point at a row's time: null, or fill(<number>)'s number (1.x fills
    // the joined row with it).
    let missing = match plan.fill {
        Fill::Value(x) if plan.group_time.is_some() => Value::Float(x),
        _ => Value::Null,
    };
    let mut rows = Vec::new();
    loop {
        let heads = its.iter_mut().filter_map(|it| it.peek().map(|p| p.0));
        let next = if plan.desc { heads.max() } else { heads.min() };
        let Some(t) = next else {
            break;
        };
        let mut row = Vec::with_capacity(its.len() + 1);
        row.push(Value::Time(t));
        for (c, it) in its.iter_mut().enumerate() {
            let v = match it.next_if(|p| p.0 == t) {
                Some((_, v)) => v,
                // fill(previous): the column's value in the row before (1.x fills the joined
                // row so).
                None if plan.fill == Fill::Previous => rows
                    .last()
                    .and_then(|r: &Vec<Value>| r.get(c + 1).cloned())
                    .unwrap_or(Value::Null),
                None => missing.clone(),
            };
            row.push(v);
        }
        rows.push(row);
    }
    rows
}

/// The rows of columns over calls that each answer their own stream (the aggregates', then
/// the transformations'), as InfluxDB 1.x evaluates a statement over its calls' iterators: the
/// streams are joined on time ([`join_streams`]: OFFSET and LIMIT apply to each), and every
/// column is evaluated over each joined row, a call without a point at that time being null
/// (so `derivative(a) + difference(b)` is null where only one of them yields).
fn join_calls(
    plan: &SelectPlan,
    aggs: Vec<Stream>,
    trs: Vec<Stream>,
    exprs: &[E],
) -> Vec<Vec<Value>> {
    let naggs = aggs.len();
    let joined = join_streams(plan, aggs.into_iter().chain(trs).collect());
    joined
        .into_iter()
        .map(|row| {
            let (time, calls) = row.split_at(1);
            let (aggv, trv) = calls.split_at(naggs.min(calls.len()));
            let mut out = Vec::with_capacity(exprs.len() + 1);
            out.extend_from_slice(time);
            out.extend(exprs.iter().map(|e| eval(e, &[], aggv, trv)));
            out
        })
        .collect()
}

/// The transformations a column reads.
/// The aggregates and the transformations expression `e` refers to.
fn call_refs(e: &E, aggs: &mut Vec<usize>, trs: &mut Vec<usize>) {
    match e {
        E::Agg(i) if !aggs.contains(i) => aggs.push(*i),
        E::Tr(i) if !trs.contains(i) => trs.push(*i),
        E::Bin(_, a, b) => {
            call_refs(a, aggs, trs);
            call_refs(b, aggs, trs);
        }
        _ => {}
    }
}

fn has_agg(e: &E) -> bool {
    match e {
        E::Agg(_) => true,
        E::Bin(_, a, b) => has_agg(a) || has_agg(b),
        _ => false,
    }
}

fn collect_vars(e: &E, out: &mut Vec<usize>) {
    match e {
        E::Var(v) => out.push(*v),
        E::Bin(_, a, b) => {
            collect_vars(a, out);
            collect_vars(b, out);
        }
        _ => {}
    }
}

fn value_to_field(v: &Value) -> Option<FieldValue> {
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
fn columns_are_distinct_vars(exprs: &[E]) -> bool {
    let mut seen = Vec::with_capacity(exprs.len());
    exprs.iter().all(|e| match e {
        E::Var(v) if !seen.contains(v) => {
            seen.push(*v);
            true
        }
        _ => false,
    })
}

/// Evaluate a column: variables of the row, aggregate results, transformation results.
fn eval(e: &E, vars: &[Value], aggs: &[Value], trs: &[Value]) -> Value {
    match e {
        E::Var(v) => vars.get(*v).cloned().unwrap_or(Value::Null),
        E::Lit(x) => x.clone(),
        E::Agg(i) => aggs.get(*i).cloned().unwrap_or(Value::Null),
        E::Tr(i) => trs.get(*i).cloned().unwrap_or(Value::Null),
        E::Bin(op, a, b) => arith(*op, &eval(a, vars, aggs, trs), &eval(b, vars, aggs, trs)),
    }
}

/// InfluxQL arithmetic: integers stay integers except for `/`; anything with a float is a
/// float; anything else is null.
fn arith(op: ArithOp, a: &Value, b: &Value) -> Value {
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

/// A finished aggregate: its value, the selected point's time and aux values (selectors).
#[derive(Clone, Debug)]
struct Out {
    value: Value,
    time: Option<i64>,
    aux: Option<Vec<Value>>,
}

/// A held point: time, value, aux values.
type Held = (i64, FieldValue, Vec<Value>);

/// Accumulator of one (bucket, aggregate call).
#[derive(Clone, Debug, Default)]
struct Acc {
    count: u64,
    sum_f: f64,
    sum_i: i64,
    is_int: bool,
    /// Welford's running mean and sum of squared deviations (stddev).
    mean: f64,
    m2: f64,
    min: Option<FieldValue>,
    max: Option<FieldValue>,
    /// Selected point (min/max/first/last).
    pick: Option<Held>,
    /// Held points (median, mode, percentile, distinct, integral, top, bottom).
    held: Vec<Held>,
    /// distinct() and count(distinct()): where each value of `held` is, by hash.
    distinct: Option<Box<DistinctPositions>>,
}

/// The accumulators of each bucket (one per call), by bucket start. Lookups come in runs of
/// ascending buckets (a field's points in time order, then the answer's buckets in order), so
/// the map is a sorted vector that first tries the bucket after the one found last: a
/// lookup is a comparison or two instead of a tree descent.
#[derive(Default)]
struct BucketMap {
    keys: Vec<i64>,
    /// The accumulators of bucket `keys[i]`: `accs[i * calls..(i + 1) * calls]`, in one
    /// vector (no allocation per bucket).
    accs: Vec<Acc>,
    /// Accumulators per bucket (the statement's calls; the same for every bucket).
    calls: usize,
    /// Where the last lookup found or put its bucket.
    hint: usize,
}

impl BucketMap {
    /// The position of bucket `b`: `Ok` where it is, `Err` where it would go.
    fn find(&self, b: i64) -> std::result::Result<usize, usize> {
        for i in [self.hint, self.hint + 1] {
            match self.keys.get(i) {
                Some(&k) if k == b => return Ok(i),
                Some(&k) if k > b && (i == 0 || self.keys[i - 1] < b) => return Err(i),
                None if i == self.keys.len() && self.keys.last().is_none_or(|&l| l < b) => {
                    return Err(i)
                }
                _ => {}
            }
        }
        self.keys.binary_search(&b)
    }

    /// The accumulators of the bucket at position `i`.
    fn at(&mut self, i: usize) -> &mut [Acc] {
        let n = self.calls;
        self.accs.get_mut(i * n..(i + 1) * n).unwrap_or_default()
    }

    /// Bucket `b`'s accumulators, made (`calls` of them) if it has none yet. `calls` is the
    /// same for every bucket of a map.
    fn entry(&mut self, b: i64, calls: usize) -> &mut [Acc] {
        debug_assert!(self.keys.is_empty() || self.calls == calls);
        self.calls = calls;
        let i = match self.find(b) {
            Ok(i) => i,
            Err(i) => {
                self.keys.insert(i, b);
                let at = i * calls;
                if at == self.accs.len() {
                    // The usual case: buckets come in ascending order.
                    self.accs.resize_with(at + calls, Acc::default);
                } else {
                    self.accs.splice(at..at, (0..calls).map(|_| Acc::default()));
                }
                i
            }
        };
        self.hint = i;
        self.at(i)
    }

    fn get_mut(&mut self, b: i64) -> Option<&mut [Acc]> {
        let i = self.find(b).ok()?;
        self.hint = i;
        Some(self.at(i))
    }

    fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// (bucket start, accumulators), ascending.
    fn iter(&self) -> impl Iterator<Item = (&i64, &[Acc])> {
        let n = self.calls;
        self.keys.iter().enumerate().map(move |(i, k)| {
            let accs = self.accs.get(i * n..(i + 1) * n).unwrap_or_default();
            (k, accs)
        })
    }

    /// The first bucket's accumulators.
    fn into_first(self) -> Option<Vec<Acc>> {
        if self.keys.is_empty() {
            return None;
        }
        Some(self.accs.into_iter().take(self.calls).collect())
    }
}

/// Whether call `a` can take block `b` from its pre-aggregates. `time_free`: the selected
/// point's time is not shown (GROUP BY time, or beside other calls), so min/max may too.
fn block_answers(a: &AggSpec, b: &BlockMeta, time_free: bool) -> bool {
    let numeric = b.is_numeric();
    if a.count_distinct {
        return false;
    }
    match a.func {
        AggFn::Count | AggFn::First | AggFn::Last => true,
        AggFn::Sum | AggFn::Mean | AggFn::Spread => numeric,
        AggFn::Min | AggFn::Max => numeric && time_free,
        _ => false,
    }
}

/// Whether selector `func` (first, last, min, max) takes a point at `ts` over the one it holds
/// at `held`; `cmp` orders the new value against the held one. Ties keep the earliest point.
fn picks(func: AggFn, ts: i64, held: i64, cmp: impl FnOnce() -> std::cmp::Ordering) -> bool {
    match func {
        AggFn::First => ts < held,
        AggFn::Last => ts > held,
        AggFn::Min => {
            let o = cmp();
            o.is_lt() || (o.is_eq() && ts < held)
        }
        _ => {
            let o = cmp();
            o.is_gt() || (o.is_eq() && ts < held)
        }
    }
}

fn cmp_values(a: &FieldValue, b: &FieldValue) -> std::cmp::Ordering {
    match (a, b) {
        (FieldValue::Integer(x), FieldValue::Integer(y)) => x.cmp(y),
        (FieldValue::Unsigned(x), FieldValue::Unsigned(y)) => x.cmp(y),
        (FieldValue::Boolean(x), FieldValue::Boolean(y)) => x.cmp(y),
        (FieldValue::String(x), FieldValue::String(y)) => x.cmp(y),
        _ => a
            .as_f64()
            .partial_cmp(&b.as_f64())
            .unwrap_or(std::cmp::Ordering::Equal),
    }
}

fn num(v: &FieldValue) -> f64 {
    match v {
        FieldValue::Float(x) => *x,
        FieldValue::Integer(x) => *x as f64,
        FieldValue::Unsigned(x) => *x as f64,
        FieldValue::Boolean(b) => f64::from(u8::from(*b)),
        FieldValue::String(_) => 0.0,
    }
}

impl Acc {
    /// Whether the call had points in this bucket.
    fn has_points(&self) -> bool {
        self.count > 0
    }

    /// Add one point; returns the bytes it made the accumulator hold (buffers of points).
    fn add(&mut self, a: &AggSpec, ts: i64, v: FieldValue, aux: &dyn Fn() -> Vec<Value>) -> u64 {
        let before = self.held.len();
        let mut point_bytes = 48 + v.mem_size() as u64;
        if matches!(a.func, AggFn::Distinct) || a.count_distinct {
            point_bytes += DISTINCT_INDEX_BYTES;
        }
        self.add_point(a, ts, v, aux);
        let grew = self.held.len().saturating_sub(before) as u64;
        grew * (point_bytes + self.held.last().map_or(0, |h| 32 * h.2.len() as u64))
    }

    /// Fold points `range` of a float column (`ts` its timestamps) at once for count, sum,
    /// mean and the selectors min, max, first and last: the same additions in the same order,
    /// and the same replace rule against a running pick, as [`Acc::add`] point by point, without
    /// a `FieldValue` per point. `false` (nothing done) for any other call or column type.
    fn add_floats(
        &mut self,
        a: &AggSpec,
        ts: &[i64],
        values: &Values,
        range: std::ops::Range<usize>,
        aux: &dyn Fn() -> Vec<Value>,
    ) -> bool {
        let (Values::Float(v), Some(ts)) = (values, ts.get(range.clone())) else {
            return false;
        };
        let Some(v) = v.get(range) else {
            return false;
        };
        match a.func {
            AggFn::Count if !a.count_distinct => {}
            AggFn::Sum | AggFn::Mean => {
                for x in v {
                    self.sum_f += x;
                }
            }
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => {
                let mut best = match &self.pick {
                    None => None,
                    Some((t, FieldValue::Float(x), _)) => Some((*t, *x)),
                    Some(_) => return false,
                };
                let mut changed = false;
                for (&t, &x) in ts.iter().zip(v) {
                    let replace = match best {
                        None => true,
                        // cmp_values' order for two floats.
                        Some((pt, pv)) => picks(a.func, t, pt, || {
                            x.partial_cmp(&pv).unwrap_or(std::cmp::Ordering::Equal)
                        }),
                    };
                    if replace {
                        best = Some((t, x));
                        changed = true;
                    }
                }
                if let Some((t, x)) = best.filter(|_| changed) {
                    self.pick = Some((t, FieldValue::Float(x), aux()));
                }
            }
            _ => return false,
        }
        self.count += v.len() as u64;
        self.is_int = false;
        true
    }

    /// Add a whole block from its pre-aggregates ([`block_answers`] said it can).
    fn add_block(&mut self, a: &AggSpec, b: &BlockMeta) {
        self.count += u64::from(b.count);
        self.is_int = b.field_type() == FieldType::Integer;
        let agg = b.agg();
        let (min, max) = match &agg.numeric {
            NumericAgg::Float { min, max, .. } => {
                (FieldValue::Float(*min), FieldValue::Float(*max))
            }
            NumericAgg::Integer { min, max, .. } => {
                (FieldValue::Integer(*min), FieldValue::Integer(*max))
            }
            NumericAgg::Unsigned { min, max, .. } => {
                (FieldValue::Unsigned(*min), FieldValue::Unsigned(*max))
            }
            NumericAgg::None => (agg.first.clone(), agg.last.clone()),
        };
        let none = &|| Vec::new();
        match a.func {
            AggFn::Sum | AggFn::Mean => match &agg.numeric {
                NumericAgg::Integer { sum, exact_sum, .. } => {
                    // Truncation is the wrapping sum of the values, as adding them one by one.
                    self.sum_i = self.sum_i.wrapping_add(*exact_sum as i64);
                    self.sum_f += sum;
                }
                NumericAgg::Float { sum, .. } | NumericAgg::Unsigned { sum, .. } => {
                    self.sum_f += sum
                }
                NumericAgg::None => {}
            },
            AggFn::Spread => {
                self.spread(min);
                self.spread(max);
            }
            // The selected point's time is not shown (see `block_answers`): any time of the
            // block keeps the tie rule (equal values: the earlier point) across blocks.
            AggFn::Min => self.pick(a, b.min_ts, min, none),
            AggFn::Max => self.pick(a, b.min_ts, max, none),
            AggFn::First => self.pick(a, b.min_ts, agg.first, none),
            AggFn::Last => self.pick(a, b.max_ts, agg.last, none),
            _ => {}
        }
    }

    fn spread(&mut self, v: FieldValue) {
        if self.min.as_ref().is_none_or(|m| cmp_values(&v, m).is_lt()) {
            self.min = Some(v.clone());
        }
        if self.max.as_ref().is_none_or(|m| cmp_values(&v, m).is_gt()) {
            self.max = Some(v);
        }
    }

    fn pick(&mut self, a: &AggSpec, ts: i64, v: FieldValue, aux: &dyn Fn() -> Vec<Value>) {
        let replace = match &self.pick {
            None => true,
            Some((pt, pv, _)) => picks(a.func, ts, *pt, || cmp_values(&v, pv)),
        };
        if replace {
            self.pick = Some((ts, v, aux()));
        }
    }

    fn add_point(&mut self, a: &AggSpec, ts: i64, v: FieldValue, aux: &dyn Fn() -> Vec<Value>) {
        self.count += 1;
        self.is_int = matches!(v, FieldValue::Integer(_));
        match a.func {
            AggFn::Count if !a.count_distinct => {}
            AggFn::Sum | AggFn::Mean => {
                if let FieldValue::Integer(x) = v {
                    self.sum_i = self.sum_i.wrapping_add(x);
                }
                self.sum_f += num(&v);
            }
            AggFn::Stddev => {
                let x = num(&v);
                let d = x - self.mean;
                self.mean += d / self.count as f64;
                self.m2 += d * (x - self.mean);
            }
            AggFn::Spread => self.spread(v),
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => self.pick(a, ts, v, aux),
            AggFn::Top | AggFn::Bottom => {
                self.held.push((ts, v, aux()));
                if a.tags.is_empty() && self.held.len() >= 2 * a.n.max(16) {
                    sort_top(&mut self.held, a.func == AggFn::Top);
                    self.held.truncate(a.n);
                }
            }
            AggFn::Distinct | AggFn::Count => {
                // Distinct values: keep the point of each that 1.x reads first (the earliest,
                // newest first the latest). The value is found by hash, not by a scan.
                let held = &self.held;
                let found = self
                    .distinct
                    .get_or_insert_with(Box::default)
                    .find_or_record(&v, |i| held.get(i).map(|h| &h.1));
                match found.and_then(|i| self.held.get_mut(i)) {
                    Some(h) => {
                        let first = if a.newest_first { ts > h.0 } else { ts < h.0 };
                        if first {
                            h.0 = ts;
                        }
                    }
                    None => self.held.push((ts, v, Vec::new())),
                }
            }
            _ => self.held.push((ts, v, Vec::new())),
        }
    }

    /// The value of a one-row aggregate.
    fn finish(&mut self, a: &AggSpec) -> Out {
        let mut out = Out {
            value: Value::Null,
            time: None,
            aux: None,
        };
        if self.count == 0 {
            if a.func == AggFn::Count {
                out.value = Value::Integer(0);
            }
            return out;
        }
        out.value = match a.func {
            AggFn::Count if a.count_distinct => Value::Integer(self.held.len() as i64),
            AggFn::Count => Value::Integer(self.count as i64),
            AggFn::Mean => Value::Float(self.sum_f / self.count as f64),
            AggFn::Sum => {
                if self.is_int {
                    Value::Integer(self.sum_i)
                } else {
                    Value::Float(self.sum_f)
                }
            }
            AggFn::Stddev => {
                if self.count < 2 {
                    Value::Null
                } else {
                    Value::Float((self.m2 / (self.count - 1) as f64).sqrt())
                }
            }
            AggFn::Spread => match (&self.min, &self.max) {
                (Some(FieldValue::Integer(a)), Some(FieldValue::Integer(b))) => {
                    Value::Integer(b - a)
                }
                (Some(a), Some(b)) => Value::Float(num(b) - num(a)),
                _ => Value::Null,
            },
            AggFn::Min | AggFn::Max | AggFn::First | AggFn::Last => match self.pick.take() {
                Some((t, v, aux)) => {
                    out.time = Some(t);
                    out.aux = Some(aux);
                    Value::from(v)
                }
                None => Value::Null,
            },
            AggFn::Median => {
                self.held.sort_by(|x, y| cmp_values(&x.1, &y.1));
                let n = self.held.len();
                if n % 2 == 1 {
                    Value::Float(num(&self.held[n / 2].1))
                } else {
                    let (lo, hi) = (num(&self.held[n / 2 - 1].1), num(&self.held[n / 2].1));
                    Value::Float(lo + (hi - lo) / 2.0)
                }
            }
            AggFn::Mode => {
                // The most frequent value; among equally frequent ones the smallest. (1.x
                // breaks such ties by the order Go's unstable sort leaves equal points in.)
                self.held
                    .sort_by(|x, y| cmp_values(&x.1, &y.1).then(x.0.cmp(&y.0)));
                let mut best: Option<(usize, &FieldValue)> = None;
                let mut i = 0;
                while i < self.held.len() {
                    let mut j = i;
                    while j < self.held.len()
                        && cmp_values(&self.held[j].1, &self.held[i].1).is_eq()
                    {
                        j += 1;
                    }
                    if best.is_none_or(|(c, _)| j - i > c) {
                        best = Some((j - i, &self.held[i].1));
                    }
                    i = j;
                }
                best.map_or(Value::Null, |(_, v)| Value::from(v.clone()))
            }
            AggFn::Percentile => {
                self.held
                    .sort_by(|x, y| cmp_values(&x.1, &y.1).then(x.0.cmp(&y.0)));
                let n = self.held.len();
                let i = (n as f64 * a.p / 100.0 + 0.5).floor() as i64 - 1;
                if i < 0 || i as usize >= n {
                    Value::Null
                } else {
                    let (t, v, aux) = self.held[i as usize].clone();
                    out.time = Some(t);
                    out.aux = Some(aux);
                    Value::from(v)
                }
            }
            AggFn::Integral => {
                self.held.sort_by_key(|h| h.0);
                let unit = if a.unit > 0 { a.unit } else { 1_000_000_000 } as f64;
                let mut area = 0.0;
                for w in self.held.windows(2) {
                    let (t0, v0) = (w[0].0, num(&w[0].1));
                    let (t1, v1) = (w[1].0, num(&w[1].1));
                    area += (v0 + v1) / 2.0 * ((t1 - t0) as f64 / unit);
                }
                Value::Float(area)
            }
            _ => Value::Null,
        };
        out
    }

    /// The rows of a multi-row function (top, bottom, distinct), in time order.
    fn finish_rows(&mut self, a: &AggSpec) -> Vec<(i64, Value, Vec<Value>)> {
        let mut held = std::mem::take(&mut self.held);
        self.distinct = None;
        match a.func {
            AggFn::Distinct => {
                held.sort_by_key(|h| h.0);
            }
            _ => {
                let top = a.func == AggFn::Top;
                sort_top(&mut held, top);
                if !a.tags.is_empty() {
                    // The best point of each tag combination, then the best N of those.
                    let mut seen = SeenKeys::default();
                    held.retain(|(_, _, aux)| {
                        seen.first(a.tags.iter().map(|t| aux[*t].clone()).collect())
                    });
                }
                held.truncate(a.n);
                held.sort_by_key(|h| h.0);
            }
        }
        held.into_iter()
            .map(|(t, v, aux)| (t, Value::from(v), aux))
            .collect()
    }
}

/// A multi-row function's rows of one bucket (in time order) in the order to push them before
/// the answer's rows are reversed for ORDER BY time DESC: 1.x answers the buckets newest first
/// but a bucket's rows still oldest first.
fn bucket_order<T>(mut rows: Vec<T>, desc: bool) -> Vec<T> {
    if desc {
        rows.reverse();
    }
    rows
}

/// The rows of GROUP BY time aggregates among which is an integral: as in 1.x each call is a
/// stream of its own, joined on time ([`join_calls`]); an integral's is its rows
/// ([`integral_rows`], not filled) from the first bucket answered on, each at its bucket's end
/// under ORDER BY time DESC (1.x's integral emits at the end of its newest-first window).
fn integral_streams(
    plan: &SelectPlan,
    l: &Layout,
    filled: Vec<(i64, Vec<Out>, Vec<bool>)>,
    integrals: &BTreeMap<usize, Vec<(i64, f64)>>,
    out_start: i64,
    interval: i64,
) -> Vec<Vec<Value>> {
    let mut streams: Vec<Stream> = vec![Vec::new(); l.aggs.len()];
    for (b, outs, _) in filled.into_iter().filter(|f| f.0 >= out_start) {
        for (ai, o) in outs.into_iter().enumerate() {
            if !integrals.contains_key(&ai) {
                streams[ai].push((b, o.value));
            }
        }
    }
    if plan.desc {
        streams.iter_mut().for_each(|s| s.reverse());
    }
    for (&ai, rows) in integrals {
        if let Some(s) = streams.get_mut(ai) {
            *s = integral_stream(rows, out_start, interval, plan.desc);
        }
    }
    join_calls(plan, streams, Vec::new(), &l.exprs)
}

/// The integrals among the values `outs` of calls `aggs` without GROUP BY time as 1.x
/// answers them: negative newest first (1.x integrates newest first), and, for those without
/// a row ([`integral_ends_at_epoch`]), null and `true` in the answer.
fn finish_integrals(aggs: &[AggSpec], accs: &[Acc], outs: &mut [Out], desc: bool) -> Vec<bool> {
    aggs.iter()
        .zip(accs)
        .zip(outs.iter_mut())
        .map(|((a, acc), o)| {
            if a.func != AggFn::Integral {
                return false;
            }
            if integral_ends_at_epoch(acc, desc) {
                o.value = Value::Null;
                return true;
            }
            if let (true, Value::Float(x)) = (desc, &mut o.value) {
                *x = -*x;
            }
            false
        })
        .collect()
}

/// Whether 1.x's integral without GROUP BY time gives no row: when the last point it reads
/// (newest first: the oldest) lies at its window's start, which is then 0 (the epoch), as at a
/// bucket's start with GROUP BY time ([`integral_rows`]).
fn integral_ends_at_epoch(acc: &Acc, desc: bool) -> bool {
    let times = acc.held.iter().map(|h| h.0);
    let last = if desc { times.min() } else { times.max() };
    last == Some(0)
}

/// Each integral's rows ([`integral_rows`]) by call and bucket, in the order it emits them.
fn integrals_by_bucket(
    integrals: &BTreeMap<usize, Vec<(i64, f64)>>,
) -> BTreeMap<usize, BTreeMap<i64, Vec<Value>>> {
    let mut by: BTreeMap<usize, BTreeMap<i64, Vec<Value>>> = BTreeMap::new();
    for (&ai, rows) in integrals {
        let at = by.entry(ai).or_default();
        for &(b, x) in rows {
            at.entry(b).or_default().push(Value::Float(x));
        }
    }
    by
}

/// How far past its bucket each transformation's points lie: `shift` (an integral's rows'
/// distance from their bucket) for those over an integral, directly or through other
/// transformations; 0 for the others.
fn tr_shifts(trs: &[TrSpec], integrals: &BTreeMap<usize, Vec<(i64, f64)>>, shift: i64) -> Vec<i64> {
    let mut out: Vec<i64> = Vec::with_capacity(trs.len());
    for t in trs {
        let s = match t.input {
            TrInput::Agg(ai) if integrals.contains_key(&ai) => shift,
            TrInput::Tr(j) => out.get(j).copied().unwrap_or(0),
            _ => 0,
        };
        out.push(s);
    }
    out
}

/// An integral's column from its rows ([`integral_rows`]): those of the buckets from
/// `out_start` on, at the bucket's start (newest first: its end).
fn integral_stream(rows: &[(i64, f64)], out_start: i64, interval: i64, desc: bool) -> Stream {
    let shift = if desc { interval } else { 0 };
    rows.iter()
        .filter(|(b, _)| *b >= out_start)
        .map(|&(b, x)| (b.saturating_add(shift), Value::Float(x)))
        .collect()
}

/// InfluxDB 1.x's integral over GROUP BY time buckets, as its integral reducer emits it: the
/// trapezium rule over the points in time order (newest first for ORDER BY time DESC), a
/// bucket's row emitted when a point past its end arrives, the area up to that end
/// interpolated towards that point (the area over empty buckets between goes to the next
/// bucket with points). Rows are `(bucket, area)` in emission order. Newest first the areas
/// are negative and a bucket ends at its start, so a point exactly at its bucket's start after
/// a newer one of that bucket ends the bucket and opens it again: 1.x then emits the bucket a
/// second time, with 0. The last bucket is not emitted when its last point lies exactly at its
/// start (oldest first: 1.x sees no area in it). For integers 1.x keeps the previous point's
/// value after the interpolation and takes the interpolated value for the crossing point's (a
/// quirk kept).
fn integral_rows(
    buckets: &BucketMap,
    ai: usize,
    unit: i64,
    interval: i64,
    desc: bool,
) -> Vec<(i64, f64)> {
    let unit = if unit > 0 { unit } else { 1_000_000_000 } as f64;
    // (time, value, integer, bucket) in the order 1.x feeds them.
    let mut pts: Vec<(i64, f64, bool, i64)> = buckets
        .iter()
        .filter_map(|(b, accs)| accs.get(ai).map(|acc| (*b, acc)))
        .flat_map(|(b, acc)| {
            acc.held
                .iter()
                .map(move |h| (h.0, num(&h.1), matches!(h.1, FieldValue::Integer(_)), b))
        })
        .collect();
    pts.sort_by_key(|p| p.0);
    if desc {
        pts.reverse();
    }
    let mut rows = Vec::new();
    let mut prev: Option<(i64, f64)> = None;
    let mut window = 0;
    let mut sum = 0.0;
    for (t, v, integer, b) in pts {
        let Some((mut pt, mut pv)) = prev else {
            prev = Some((t, v));
            window = b;
            continue;
        };
        if pt == t {
            prev = Some((t, v));
            continue;
        }
        let mut cur = v;
        let end = if desc {
            window
        } else {
            window.saturating_add(interval)
        };
        if (!desc && t >= end) || (desc && t <= end) {
            if pt != end {
                let value = (v - pv) / (t - pt) as f64 * (end - pt) as f64 + pv;
                sum += 0.5 * (value + pv) * ((end - pt) as f64 / unit);
                if integer {
                    cur = value;
                } else {
                    pv = value;
                }
                pt = end;
            }
            rows.push((window, sum));
            window = b;
            sum = 0.0;
        }
        sum += 0.5 * (cur + pv) * ((t - pt) as f64 / unit);
        prev = Some((t, v));
    }
    let start = if desc {
        window.saturating_add(interval)
    } else {
        window
    };
    if prev.is_some_and(|(pt, _)| pt != start) {
        rows.push((window, sum));
    }
    rows
}

/// Best first (largest for top, smallest for bottom); ties by earlier time.
fn sort_top(held: &mut [Held], top: bool) {
    held.sort_by(|x, y| {
        let o = cmp_values(&x.1, &y.1);
        let o = if top { o.reverse() } else { o };
        o.then(x.0.cmp(&y.0))
    });
}

/// State of a transformation over a sequence of points or buckets.
struct TrState {
    func: AggFn,
    n: usize,
    unit: i64,
    prev: Option<(i64, Value)>,
    window: std::collections::VecDeque<f64>,
    sum: Option<Value>,
}

impl TrState {
    /// `default_unit`: 1s over raw points, the interval over buckets.
    fn new(t: &TrSpec, default_unit: i64) -> TrState {
        let unit = if t.unit > 0 {
            t.unit
        } else if t.func == AggFn::Elapsed {
            1
        } else {
            default_unit
        };
        TrState {
            func: t.func,
            n: t.n,
            unit,
            prev: None,
            window: std::collections::VecDeque::new(),
            sum: None,
        }
    }

    fn push(&mut self, ts: i64, v: &Value) -> Option<Value> {
        if *v == Value::Null {
            return None;
        }
        let f = |v: &Value| match v {
            Value::Float(x) => Some(*x),
            Value::Integer(x) => Some(*x as f64),
            Value::Unsigned(x) => Some(*x as f64),
            _ => None,
        };
        // derivative and difference keep the first of several points at one time (1.x: a
        // point that does not advance the stream is skipped).
        let differs = matches!(
            self.func,
            AggFn::Derivative
                | AggFn::NonNegativeDerivative
                | AggFn::Difference
                | AggFn::NonNegativeDifference
        );
        if differs && self.prev.as_ref().is_some_and(|(pt, _)| *pt == ts) {
            return None;
        }
        let prev = self.prev.replace((ts, v.clone()));
        match self.func {
            AggFn::Derivative | AggFn::NonNegativeDerivative => {
                let (pt, pv) = prev?;
                // Over points newest first (ORDER BY time DESC) 1.x keeps the elapsed time
                // positive.
                let d = (f(v)? - f(&pv)?) / ((ts - pt).abs() as f64 / self.unit as f64);
                if self.func == AggFn::NonNegativeDerivative && d < 0.0 {
                    return None;
                }
                Some(Value::Float(d))
            }
            AggFn::Difference | AggFn::NonNegativeDifference => {
                let (_, pv) = prev?;
                let d = arith(ArithOp::Sub, v, &pv);
                if self.func == AggFn::NonNegativeDifference && f(&d)? < 0.0 {
                    return None;
                }
                Some(d)
            }
            AggFn::Elapsed => {
                let (pt, _) = prev?;
                Some(Value::Integer((ts - pt) / self.unit))
            }
            AggFn::MovingAverage => {
                self.window.push_back(f(v)?);
                if self.window.len() > self.n {
                    self.window.pop_front();
                }
                (self.window.len() == self.n)
                    .then(|| Value::Float(self.window.iter().sum::<f64>() / self.n as f64))
            }
            AggFn::CumulativeSum => {
                let s = match self.sum.take() {
                    None => v.clone(),
                    Some(s) => arith(ArithOp::Add, &s, v),
                };
                self.sum = Some(s.clone());
                Some(s)
            }
            _ => None,
        }
    }
}

/// Fill each call's empty buckets with its value in the nearest bucket before with data, in
/// the answer's order as 1.x does (ORDER BY time DESC: the next newer bucket's).
fn fill_previous(rows: &mut [(i64, Vec<Out>, Vec<bool>)], desc: bool) {
    let ncols = rows.first().map_or(0, |r| r.1.len());
    for c in 0..ncols {
        let mut prev = Value::Null;
        let mut fill = |row: &mut (i64, Vec<Out>, Vec<bool>)| {
            if row.2.get(c) == Some(&true) {
                prev = row.1[c].value.clone();
            } else {
                row.1[c].value = prev.clone();
            }
        };
        if desc {
            rows.iter_mut().rev().for_each(&mut fill);
        } else {
            rows.iter_mut().for_each(&mut fill);
        }
    }
}

/// Interpolate each call's empty buckets linearly between its nearest buckets with data
/// (`rows[i].2[c]`: call `c` has points in bucket `i`).
fn fill_linear(rows: &mut [(i64, Vec<Out>, Vec<bool>)]) {
    let numv = |v: &Value| match v {
        Value::Float(x) => Some(*x),
        Value::Integer(x) => Some(*x as f64),
        Value::Unsigned(x) => Some(*x as f64),
        _ => None,
    };
    let ncols = rows.first().map_or(0, |r| r.1.len());
    for c in 0..ncols {
        let data_idx: Vec<usize> = (0..rows.len())
            .filter(|&i| rows[i].2.get(c) == Some(&true))
            .collect();
        for w in data_idx.windows(2) {
            let (a, b) = (w[0], w[1]);
            if b - a < 2 {
                continue;
            }
            let (Some(va), Some(vb)) = (numv(&rows[a].1[c].value), numv(&rows[b].1[c].value))
            else {
                continue;
            };
            let is_int = matches!(rows[a].1[c].value, Value::Integer(_));
            for (k, row) in rows.iter_mut().enumerate().take(b).skip(a + 1) {
                let frac = (k - a) as f64 / (b - a) as f64;
                let v = va + (vb - va) * frac;
                row.1[c].value = if is_int {
                    Value::Integer(v as i64)
                } else {
                    Value::Float(v)
                };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run_end` (galloping, then bisecting) agrees with a plain bisection everywhere.
    #[test]
    fn run_end_finds_the_end_of_a_bucket_run() {
        let ts: Vec<i64> = vec![
            1, 2, 2, 3, 5, 8, 8, 8, 9, 13, 21, 34, 35, 36, 37, 38, 39, 40,
        ];
        for j in 0..ts.len() {
            for next in ts[j]..=ts[ts.len() - 1] + 1 {
                let want = j + ts[j..].partition_point(|&t| t < next);
                assert_eq!(run_end(&ts, j, next), want, "j={j} next={next}");
            }
        }
    }

    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// The bucket map finds and makes buckets as an ordered map does, whatever the order
        /// of the lookups.
        #[test]
        fn bucket_map_is_an_ordered_map(ops in proptest::collection::vec((0i64..40, proptest::bool::ANY), 0..120)) {
            let mut m = BucketMap::default();
            let mut model: BTreeMap<i64, u64> = BTreeMap::new();
            for (b, make) in ops {
                if make {
                    m.entry(b, 2)[1].count += 1;
                    *model.entry(b).or_default() += 1;
                } else {
                    proptest::prop_assert_eq!(m.get_mut(b).map(|a| a[1].count), model.get(&b).copied());
                }
            }
            let got: Vec<(i64, u64)> = m.iter().map(|(b, a)| (*b, a[1].count)).collect();
            let want: Vec<(i64, u64)> = model.into_iter().collect();
            proptest::prop_assert_eq!(got, want);
        }

        /// Folding float runs at once (in any split into runs) answers exactly what adding
        /// their points one by one does, ties and NaNs included.
        #[test]
        fn folding_float_runs_equals_adding_points(
            vals in proptest::collection::vec(
                proptest::prop_oneof![(-3i32..3).prop_map(f64::from), proptest::strategy::Just(f64::NAN)],
                1..60,
            ),
            cuts in proptest::collection::vec(0usize..60, 0..5),
        ) {
            let ts: Vec<i64> = (0..vals.len() as i64).map(|t| t * 10).collect();
            let col = Values::Float(vals.clone());
            let mut bounds: Vec<usize> = cuts.into_iter().filter(|&c| c < vals.len()).collect();
            bounds.extend([0, vals.len()]);
            bounds.sort_unstable();
            bounds.dedup();
            let no_aux = || vec![Value::Null];
            for func in [AggFn::Count, AggFn::Sum, AggFn::Mean, AggFn::Min, AggFn::Max, AggFn::First, AggFn::Last] {
                let a = spec(func);
                let mut one = Acc::default();
                for (k, &t) in ts.iter().enumerate() {
                    one.add(&a, t, col.get(k), &no_aux);
                }
                let mut runs = Acc::default();
                for w in bounds.windows(2) {
                    proptest::prop_assert!(runs.add_floats(&a, &ts, &col, w[0]..w[1], &no_aux));
                }
                let (x, y) = (one.finish(&a), runs.finish(&a));
                proptest::prop_assert_eq!(format!("{:?}", (x.value, x.time)), format!("{:?}", (y.value, y.time)), "{:?}", func);
            }
        }
    }

    fn spec(func: AggFn) -> AggSpec {
        AggSpec {
            func,
            field: 0,
            n: 2,
            p: 50.0,
            unit: 0,
            count_distinct: false,
            tags: Vec::new(),
            newest_first: false,
            from: i64::MIN,
            to: i64::MAX,
        }
    }

    fn run(func: AggFn, pts: &[(i64, FieldValue)]) -> Out {
        let a = spec(func);
        let mut acc = Acc::default();
        for (t, v) in pts {
            acc.add(&a, *t, v.clone(), &Vec::new);
        }
        acc.finish(&a)
    }

    #[test]
    fn arithmetic_keeps_integers_except_division() {
        let (i, f) = (Value::Integer(7), Value::Float(0.5));
        assert_eq!(
            arith(ArithOp::Mul, &i, &Value::Integer(3)),
            Value::Integer(21)
        );
        assert_eq!(
            arith(ArithOp::Mod, &i, &Value::Integer(3)),
            Value::Integer(1)
        );
        assert_eq!(
            arith(ArithOp::Div, &i, &Value::Integer(2)),
            Value::Float(3.5)
        );
        assert_eq!(arith(ArithOp::Add, &i, &f), Value::Float(7.5));
        assert_eq!(arith(ArithOp::Add, &i, &Value::Null), Value::Null);
        assert_eq!(
            arith(ArithOp::Add, &Value::String("a".into()), &i),
            Value::Null
        );
    }

    #[test]
    fn aggregates_and_selectors() {
        use FieldValue::Integer as I;
        let pts = [(30, I(5)), (10, I(1)), (20, I(5)), (40, I(2))];
        assert_eq!(run(AggFn::Median, &pts).value, Value::Float(3.5));
        assert_eq!(run(AggFn::Mode, &pts).value, Value::Integer(5));
        assert_eq!(run(AggFn::Spread, &pts).value, Value::Integer(4));
        assert_eq!(run(AggFn::Sum, &pts).value, Value::Integer(13));
        let max = run(AggFn::Max, &pts);
        assert_eq!((max.value, max.time), (Value::Integer(5), Some(20)));
        let p = run(AggFn::Percentile, &pts);
        assert_eq!((p.value, p.time), (Value::Integer(2), Some(40)));
        let sd = run(AggFn::Stddev, &pts).value;
        let Value::Float(sd) = sd else {
            panic!("{sd:?}")
        };
        assert!((sd - 2.0615528128088303).abs() < 1e-12);
        assert_eq!(run(AggFn::Stddev, &pts[..1]).value, Value::Null);
    }

    #[test]
    fn top_keeps_the_best_n_earliest_on_ties_in_time_order() {
        let a = spec(AggFn::Top);
        let mut acc = Acc::default();
        for (t, v) in [(1, 3), (2, 9), (3, 9), (4, 9), (5, 1)] {
            acc.add(&a, t, FieldValue::Integer(v), &Vec::new);
        }
        let rows: Vec<(i64, Value)> = acc
            .finish_rows(&a)
            .into_iter()
            .map(|(t, v, _)| (t, v))
            .collect();
        assert_eq!(rows, vec![(2, Value::Integer(9)), (3, Value::Integer(9))]);
    }

    #[test]
    fn count_distinct_of_many_values_is_found_by_hash_and_charged() {
        // 100k distinct values, each read twice (the second time out of order): one pass of
        // O(1) lookups (a scan of the held values per point took 17 s here).
        let a = AggSpec {
            count_distinct: true,
            ..spec(AggFn::Count)
        };
        let mut acc = Acc::default();
        let mut charged = 0;
        let t0 = std::time::Instant::now();
        for round in 0..2i64 {
            for i in 0..100_000i64 {
                let t = if round == 0 { i } else { 300_000 - i };
                charged += acc.add(&a, t, FieldValue::Float(i as f64 / 4.0), &Vec::new);
            }
        }
        assert!(
            t0.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t0.elapsed()
        );
        assert_eq!(acc.finish(&a).value, Value::Integer(100_000));
        // Each value kept is charged once, its index entry included; repeats are not.
        assert_eq!(charged, 100_000 * (48 + 8 + DISTINCT_INDEX_BYTES));
        // -0 and 0 are one value (the first read is kept), integers and floats are not.
        let d = spec(AggFn::Distinct);
        let mut acc = Acc::default();
        for (t, v) in [
            (1, FieldValue::Float(-0.0)),
            (2, FieldValue::Float(0.0)),
            (3, FieldValue::Integer(0)),
        ] {
            acc.add(&d, t, v, &Vec::new);
        }
        let rows: Vec<(i64, Value)> = acc
            .finish_rows(&d)
            .into_iter()
            .map(|(t, v, _)| (t, v))
            .collect();
        assert_eq!(rows, vec![(1, Value::Float(-0.0)), (3, Value::Integer(0))]);
    }

    #[test]
    fn top_with_tags_keeps_the_best_point_of_each_tag_value() {
        let a = AggSpec {
            tags: vec![0],
            n: 3,
            ..spec(AggFn::Top)
        };
        let mut acc = Acc::default();
        for i in 0..50_000i64 {
            let host = Value::String(format!("h{}", i % 10_000).into());
            acc.add(&a, i, FieldValue::Integer(i), &|| vec![host.clone()]);
        }
        let rows: Vec<(i64, Value, Vec<Value>)> = acc.finish_rows(&a);
        let s = |x: &str| vec![Value::String(x.into())];
        assert_eq!(
            rows,
            vec![
                (49_997, Value::Integer(49_997), s("h9997")),
                (49_998, Value::Integer(49_998), s("h9998")),
                (49_999, Value::Integer(49_999), s("h9999")),
            ]
        );
    }

    #[test]
    fn distinct_keeps_the_point_read_first_and_answers_in_its_time_order() {
        // Points of one bucket in any order; value 7 at times 1 and 4, value 2 at 2 and 6.
        let pts = [(4, 7), (2, 2), (1, 7), (3, 5), (6, 2)];
        let rows = |newest_first: bool| -> Vec<(i64, Value)> {
            let a = AggSpec {
                newest_first,
                ..spec(AggFn::Distinct)
            };
            let mut acc = Acc::default();
            for (t, v) in pts {
                acc.add(&a, t, FieldValue::Integer(v), &Vec::new);
            }
            acc.finish_rows(&a)
                .into_iter()
                .map(|(t, v, _)| (t, v))
                .collect()
        };
        let i = Value::Integer;
        assert_eq!(rows(false), vec![(1, i(7)), (2, i(2)), (3, i(5))]);
        // ORDER BY time DESC: 1.x reads newest first and keeps each value's newest point.
        assert_eq!(rows(true), vec![(3, i(5)), (4, i(7)), (6, i(2))]);
        // … and answers a bucket's rows oldest first even then.
        assert_eq!(bucket_order(vec![1, 2, 3], true), vec![3, 2, 1]);
        assert_eq!(bucket_order(vec![1, 2, 3], false), vec![1, 2, 3]);
    }

    #[test]
    fn transformations() {
        let tr = |func, n, unit| {
            TrState::new(
                &TrSpec {
                    func,
                    n,
                    unit,
                    input: TrInput::Var(0),
                },
                1_000_000_000,
            )
        };
        let s = 1_000_000_000;
        let mut d = tr(AggFn::Derivative, 0, 0);
        assert_eq!(d.push(0, &Value::Float(1.0)), None);
        assert_eq!(d.push(2 * s, &Value::Float(5.0)), Some(Value::Float(2.0)));
        assert_eq!(d.push(3 * s, &Value::Null), None);
        let mut nn = tr(AggFn::NonNegativeDifference, 0, 0);
        nn.push(0, &Value::Integer(5));
        assert_eq!(nn.push(1, &Value::Integer(3)), None);
        assert_eq!(nn.push(2, &Value::Integer(4)), Some(Value::Integer(1)));
        let mut ma = tr(AggFn::MovingAverage, 2, 0);
        assert_eq!(ma.push(0, &Value::Integer(1)), None);
        assert_eq!(ma.push(1, &Value::Integer(2)), Some(Value::Float(1.5)));
        let mut el = tr(AggFn::Elapsed, 0, 1_000);
        el.push(0, &Value::Integer(1));
        assert_eq!(el.push(5_000, &Value::Integer(1)), Some(Value::Integer(5)));
        let mut cs = tr(AggFn::CumulativeSum, 0, 0);
        cs.push(0, &Value::Integer(2));
        assert_eq!(cs.push(1, &Value::Integer(3)), Some(Value::Integer(5)));
        // Several points at one time (the distinct() values of a bucket): difference keeps
        // the first, elapsed answers 0 for the others.
        let mut df = tr(AggFn::Difference, 0, 0);
        let mut el = tr(AggFn::Elapsed, 0, 1);
        for (t, x) in [(0, 5), (0, 9), (10, 7), (10, 1)] {
            df.push(t, &Value::Integer(x));
            el.push(t, &Value::Integer(x));
        }
        assert_eq!(df.push(20, &Value::Integer(8)), Some(Value::Integer(1)));
        let mut df = tr(AggFn::Difference, 0, 0);
        df.push(0, &Value::Integer(5));
        df.push(0, &Value::Integer(9));
        assert_eq!(df.push(10, &Value::Integer(7)), Some(Value::Integer(2)));
        assert_eq!(el.push(20, &Value::Integer(0)), Some(Value::Integer(10)));
        assert_eq!(el.push(20, &Value::Integer(0)), Some(Value::Integer(0)));
    }

    fn plan(limit: usize, offset: usize, desc: bool) -> SelectPlan {
        SelectPlan {
            measurements: Vec::new(),
            measurement_regexes: Vec::new(),
            tag_filter: TagPred::True,
            field_filter: None,
            tmin: 0,
            tmax: 0,
            has_tmin: false,
            has_tmax: false,
            projections: Vec::new(),
            group_regexes: Vec::new(),
            group_time: None,
            group_tags: GroupTags::None,
            fill: Fill::Null,
            desc,
            limit,
            offset,
            slimit: 0,
            soffset: 0,
            now: 0,
        }
    }

    #[test]
    fn streams_join_on_time_with_limit_per_column() {
        let i = Value::Integer;
        let a: Stream = vec![(1, i(10)), (2, i(20)), (3, i(30))];
        let b: Stream = vec![(2, i(2)), (3, i(3)), (4, i(4))];
        let t = Value::Time;
        assert_eq!(
            join_streams(&plan(0, 0, false), vec![a.clone(), b.clone()]),
            vec![
                vec![t(1), i(10), Value::Null],
                vec![t(2), i(20), i(2)],
                vec![t(3), i(30), i(3)],
                vec![t(4), Value::Null, i(4)],
            ]
        );
        // LIMIT 1 OFFSET 1 of each column: a's (2, 20) and b's (3, 3).
        assert_eq!(
            join_streams(&plan(1, 1, false), vec![a, b]),
            vec![
                vec![t(2), i(20), Value::Null],
                vec![t(3), Value::Null, i(3)]
            ]
        );
        // DESC: streams come newest first; a duplicate time in one stream gives two rows.
        let c: Stream = vec![(5, i(1)), (5, i(2)), (0, i(3))];
        let d: Stream = vec![(5, i(9))];
        assert_eq!(
            join_streams(&plan(0, 0, true), vec![c, d]),
            vec![
                vec![t(5), i(1), i(9)],
                vec![t(5), i(2), Value::Null],
                vec![t(0), i(3), Value::Null],
            ]
        );
    }

    #[test]
    fn fill_previous_fills_a_joined_row_with_the_columns_value_in_the_row_before() {
        // 1.x: a column without a point at a row's time takes its value in the row before.
        let i = Value::Integer;
        let t = Value::Time;
        let a: Stream = vec![(1, i(10)), (2, i(20)), (2, i(0)), (4, i(40))];
        let b: Stream = vec![(2, i(2)), (3, i(3))];
        let mut p = plan(0, 0, false);
        p.fill = Fill::Previous;
        assert_eq!(
            join_streams(&p, vec![a, b]),
            vec![
                vec![t(1), i(10), Value::Null],
                vec![t(2), i(20), i(2)],
                vec![t(2), i(0), i(2)],
                vec![t(3), i(0), i(3)],
                vec![t(4), i(40), i(3)],
            ]
        );
    }

    #[test]
    fn columns_over_several_calls_evaluate_the_joined_rows() {
        let (i, t, null) = (Value::Integer, Value::Time, Value::Null);
        let add = |a: E, b: E| E::Bin(ArithOp::Add, Box::new(a), Box::new(b));
        let d: Stream = vec![(1, i(3)), (2, i(4)), (4, i(5))];
        let e: Stream = vec![(2, i(10)), (3, i(20)), (4, i(30))];
        // difference(a) + difference(b), difference(a) * 2: null where only one yields.
        let cols = [
            add(E::Tr(0), E::Tr(1)),
            E::Bin(ArithOp::Mul, Box::new(E::Tr(0)), Box::new(E::Lit(i(2)))),
        ];
        assert_eq!(
            join_calls(
                &plan(0, 0, false),
                Vec::new(),
                vec![d.clone(), e.clone()],
                &cols
            ),
            vec![
                vec![t(1), null.clone(), i(6)],
                vec![t(2), i(14), i(8)],
                vec![t(3), null.clone(), null.clone()],
                vec![t(4), i(35), i(10)],
            ]
        );
        // LIMIT 2 applies to each call's stream before the join.
        assert_eq!(
            join_calls(
                &plan(2, 0, false),
                Vec::new(),
                vec![d.clone(), e],
                &cols[..1]
            ),
            vec![
                vec![t(1), null.clone()],
                vec![t(2), i(14)],
                vec![t(3), null.clone()],
            ]
        );
        // mean(a) + derivative(a): the aggregate's one row (at the start) meets no
        // transformation row.
        let mean: Stream = vec![(0, i(100))];
        assert_eq!(
            join_calls(
                &plan(0, 0, false),
                vec![mean],
                vec![d],
                &[add(E::Agg(0), E::Tr(0))]
            ),
            vec![
                vec![t(0), null.clone()],
                vec![t(1), null.clone()],
                vec![t(2), null.clone()],
                vec![t(4), null],
            ]
        );
    }

    #[test]
    fn a_transformations_aggregate_reads_one_interval_past_the_statements_range() {
        // mean(x), derivative(mean(x)), moving_average(mean(x), 4), cumulative_sum(mean(x))
        // with GROUP BY time(10) over [25, 49] (not on bucket boundaries).
        let windows = |desc: bool| -> Vec<(i64, i64)> {
            let mut l = Layout::default();
            for (i, f) in [
                AggFn::Derivative,
                AggFn::MovingAverage,
                AggFn::CumulativeSum,
            ]
            .into_iter()
            .enumerate()
            {
                l.trs.push(TrSpec {
                    func: f,
                    n: 4,
                    unit: 0,
                    input: TrInput::Agg(i + 1),
                });
            }
            l.aggs = vec![spec(AggFn::Mean); 4];
            let mut p = plan(0, 0, desc);
            (p.tmin, p.tmax, p.has_tmin, p.has_tmax) = (25, 49, true, true);
            p.group_time = Some((10, 0));
            call_windows(&p, &mut l);
            l.aggs.iter().map(|a| (a.from, a.to)).collect()
        };
        // The column reads the statement's range; derivative and moving_average of any window
        // one interval more (bucket [20, 29] whole, [10, 19] from 15); cumulative_sum none.
        assert_eq!(windows(false), vec![(25, 49), (15, 49), (15, 49), (25, 49)]);
        // Newest first past the end instead.
        assert_eq!(windows(true), vec![(25, 49), (25, 59), (25, 59), (25, 49)]);
    }

    #[test]
    fn a_transformation_of_a_transformation_reads_as_far_as_1x() {
        // moving_average(difference(difference(mean(x))), 2), GROUP BY time(10) over [25, 49].
        let tr = |func, input| TrSpec {
            func,
            n: 2,
            unit: 0,
            input,
        };
        let mut l = Layout {
            aggs: vec![spec(AggFn::Mean)],
            trs: vec![
                tr(AggFn::Difference, TrInput::Agg(0)),
                tr(AggFn::Difference, TrInput::Tr(0)),
                tr(AggFn::MovingAverage, TrInput::Tr(1)),
            ],
            ..Layout::default()
        };
        // Every level widens the range by its own reach…
        assert_eq!(tr_reaches(&l.trs), vec![3, 2, 1]);
        let mut p = plan(0, 0, false);
        (p.tmin, p.tmax, p.has_tmin, p.has_tmax) = (25, 49, true, true);
        p.group_time = Some((10, 0));
        assert_eq!(bucket_span(&p, &l), (-5, 49));
        // … but data is read only as far as the statement's largest single reach
        // (moving_average: its window): the buckets before are empty.
        assert_eq!(extra_intervals(&l.trs), 2);
        call_windows(&p, &mut l);
        assert_eq!((l.aggs[0].from, l.aggs[0].to), (5, 49));
        p.desc = true;
        assert_eq!(bucket_span(&p, &l), (25, 79));
        call_windows(&p, &mut l);
        assert_eq!((l.aggs[0].from, l.aggs[0].to), (25, 69));
    }

    #[test]
    fn fill_previous_and_linear_fill_each_call_in_the_answers_order() {
        let row = |t: i64, vals: &[Option<i64>]| -> (i64, Vec<Out>, Vec<bool>) {
            let outs = vals
                .iter()
                .map(|v| Out {
                    value: v.map_or(Value::Null, Value::Integer),
                    time: None,
                    aux: None,
                })
                .collect();
            (t, outs, vals.iter().map(Option::is_some).collect())
        };
        // Two calls; the second has no points in bucket 1 though the first has.
        let rows = || {
            vec![
                row(0, &[Some(1), Some(10)]),
                row(1, &[Some(2), None]),
                row(2, &[None, None]),
                row(3, &[Some(4), Some(40)]),
            ]
        };
        let values = |rows: &[(i64, Vec<Out>, Vec<bool>)], c: usize| -> Vec<Value> {
            rows.iter().map(|r| r.1[c].value.clone()).collect()
        };
        let i = Value::Integer;
        let mut r = rows();
        fill_previous(&mut r, false);
        assert_eq!(values(&r, 0), vec![i(1), i(2), i(2), i(4)]);
        assert_eq!(values(&r, 1), vec![i(10), i(10), i(10), i(40)]);
        // ORDER BY time DESC: the previous bucket is the newer one.
        let mut r = rows();
        fill_previous(&mut r, true);
        assert_eq!(values(&r, 0), vec![i(1), i(2), i(4), i(4)]);
        assert_eq!(values(&r, 1), vec![i(10), i(40), i(40), i(40)]);
        let mut r = rows();
        fill_linear(&mut r);
        assert_eq!(values(&r, 0), vec![i(1), i(2), i(3), i(4)]);
        assert_eq!(values(&r, 1), vec![i(10), i(20), i(30), i(40)]);
    }

    #[test]
    fn a_wildcard_call_inside_an_expression_is_1xs_error() {
        let mean = |arg| Call {
            func: AggFn::Mean,
            arg,
            n: 0,
            p: 0.0,
            unit: 0,
            tags: Vec::new(),
        };
        let re = regex::Regex::new("u").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            wildcard_in_expression(&mean(PExpr::Wildcard)).to_string(),
            Error::Query("unsupported expression with wildcard: mean()".into()).to_string()
        );
        assert_eq!(
            wildcard_in_expression(&mean(PExpr::Regex(re))).to_string(),
            Error::Query("unsupported expression with regex field: mean()".into()).to_string()
        );
    }

    #[test]
    fn derivative_newest_first_keeps_elapsed_positive() {
        let spec = TrSpec {
            func: AggFn::Derivative,
            n: 0,
            unit: 0,
            input: TrInput::Var(0),
        };
        let s = 1_000_000_000;
        let mut d = TrState::new(&spec, s);
        assert_eq!(d.push(2 * s, &Value::Float(5.0)), None);
        assert_eq!(d.push(0, &Value::Float(1.0)), Some(Value::Float(-2.0)));
    }

    #[test]
    fn field_regex_matches_strings_only() {
        let re = regex::Regex::new("^b").unwrap_or_else(|e| panic!("{e}"));
        let index = SeriesIndex::new();
        index.insert_known(1, "m");
        let Some(info) = index.get(1) else {
            panic!("series 1 not indexed")
        };
        let fields = vec!["f".to_string()];
        let p = |negated| FieldPred::Match {
            field: "f".into(),
            re: re.clone(),
            negated,
        };
        let st = |x: &str| vec![Some(FieldValue::String(x.into()))];
        assert!(eval_field_pred(&p(false), &fields, &st("busy"), &info));
        assert!(!eval_field_pred(&p(false), &fields, &st("idle"), &info));
        assert!(eval_field_pred(&p(true), &fields, &st("idle"), &info));
        // Numbers and missing values match neither way.
        for vals in [vec![Some(FieldValue::Float(1.0))], vec![None]] {
            assert!(!eval_field_pred(&p(false), &fields, &vals, &info));
            assert!(!eval_field_pred(&p(true), &fields, &vals, &info));
        }
    }

    #[test]
    fn expression_conditions_follow_1xs_evaluation() {
        let index = SeriesIndex::new();
        index.insert_known(1, "m");
        let Some(info) = index.get(1) else {
            panic!("series 1 not indexed")
        };
        let fields = vec!["i".to_string(), "f".to_string(), "b".to_string()];
        let var = |n: &str| PExpr::Var(n.into());
        let bin = |op, a, b| PExpr::Binary(op, Box::new(a), Box::new(b));
        let pred = |op, lhs, rhs| FieldPred::Expr {
            op,
            lhs,
            rhs,
            fields: fields.clone(),
        };
        let row = vec![
            Some(FieldValue::Integer(7)),
            None,
            Some(FieldValue::Boolean(true)),
        ];
        let holds = |p: &FieldPred| eval_field_pred(p, &fields, &row, &info);
        // Integers divide as integers in a condition: 7 / 2 = 3.
        let half = bin(ArithOp::Div, var("i"), PExpr::Integer(2));
        assert!(holds(&pred(CmpOp::Eq, half.clone(), PExpr::Integer(3))));
        assert!(!holds(&pred(CmpOp::Eq, half, PExpr::Number(3.5))));
        // Integer beside float compares as floats.
        assert!(holds(&pred(CmpOp::Lt, var("i"), PExpr::Number(7.5))));
        // A missing field compares false ...
        let f1 = bin(ArithOp::Add, var("f"), PExpr::Integer(1));
        assert!(!holds(&pred(CmpOp::Neq, f1.clone(), PExpr::Integer(5))));
        // ... but an expression's missing value beside a boolean is false; a name's is not.
        assert!(holds(&pred(CmpOp::Eq, f1, PExpr::Bool(false))));
        assert!(!holds(&pred(CmpOp::Eq, var("f"), PExpr::Bool(false))));
        // Booleans and strings: = and != only; no string arithmetic.
        assert!(holds(&pred(CmpOp::Eq, var("b"), PExpr::Bool(true))));
        assert!(!holds(&pred(CmpOp::Gte, var("b"), PExpr::Bool(true))));
        let s = |x: &str| PExpr::String(x.into());
        assert!(!holds(&pred(CmpOp::Gt, s("b"), s("a"))));
        let cat = bin(ArithOp::Add, s("a"), s("b"));
        assert!(!holds(&pred(CmpOp::Eq, cat, s("ab"))));
    }

    /// The rows of an integral of 10 s buckets over points `(seconds, value)` by
    /// [`integral_rows`]: (bucket in seconds, area), in emission order.
    fn bucket_integrals(points: &[(i64, FieldValue)], desc: bool) -> Vec<(i64, f64)> {
        let s = 1_000_000_000;
        let a = spec(AggFn::Integral);
        let mut buckets = BucketMap::default();
        for (t, v) in points {
            buckets.entry(t / 10 * 10 * s, 1)[0].add(&a, t * s, v.clone(), &Vec::new);
        }
        integral_rows(&buckets, 0, 0, 10 * s, desc)
            .into_iter()
            .map(|(b, x)| (b / s, x))
            .collect()
    }

    #[test]
    fn integral_newest_first_is_negative_and_gives_a_gap_to_the_older_bucket() {
        // (0s, 0), (20s, 20), (25s, 20) with 10s buckets; bucket 10s is empty.
        let f = |t, v| (t, FieldValue::Float(v));
        let pts = [f(0, 0.0), f(25, 25.0), f(27, 25.0)];
        // Oldest first: 0..10 to bucket 0 (interpolated 10 at 10s), 10..27 to bucket 20.
        assert_eq!(
            bucket_integrals(&pts, false),
            vec![(0, 50.0), (20, 262.5 + 50.0)]
        );
        // Newest first: 27..20 to bucket 20 (interpolated 20 at 20s), 20..0 to bucket 0.
        assert_eq!(
            bucket_integrals(&pts, true),
            vec![(20, -(50.0 + 112.5)), (0, -200.0)]
        );
    }

    #[test]
    fn integer_integral_keeps_1xs_value_after_interpolating() {
        // (5s, 0), (15s, 20): interpolated 10 at 10s; 1.x integrates 10s..15s with the
        // interpolated value for the point at 15s and the previous point's 0: (10 + 0) / 2 * 5.
        let i = |t, v| (t, FieldValue::Integer(v));
        assert_eq!(
            bucket_integrals(&[i(5, 0), i(15, 20)], false),
            vec![(0, 25.0), (10, 25.0)]
        );
        let f = |t, v| (t, FieldValue::Float(v));
        assert_eq!(
            bucket_integrals(&[f(5, 0.0), f(15, 20.0)], false),
            vec![(0, 25.0), (10, 75.0)]
        );
    }

    #[test]
    fn integral_interpolates_at_bucket_ends() {
        // (0s, 0), (15s, 15), (25s, 25): each bucket gets the area up to or from the
        // interpolated points (10s, 10) and (20s, 20).
        let f = |t, v| (t, FieldValue::Float(v));
        assert_eq!(
            bucket_integrals(&[f(0, 0.0), f(15, 15.0), f(25, 25.0)], false),
            vec![(0, 50.0), (10, 150.0), (20, 112.5)]
        );
    }

    #[test]
    fn integral_drops_a_last_bucket_whose_last_point_is_at_its_start() {
        // As 1.x: (0s, 0), (20s, 20): bucket 20 (its only point at its start, the area over
        // the empty bucket 10 in it) gives no row; the same bucket in the middle does.
        let f = |t, v| (t, FieldValue::Float(v));
        assert_eq!(
            bucket_integrals(&[f(0, 0.0), f(20, 20.0)], false),
            vec![(0, 50.0)]
        );
        assert_eq!(
            bucket_integrals(&[f(0, 0.0), f(20, 20.0), f(25, 25.0)], false),
            vec![(0, 50.0), (20, 150.0 + 112.5)]
        );
        // Newest first a bucket never ends at a point's time: all rows.
        assert_eq!(
            bucket_integrals(&[f(0, 0.0), f(20, 20.0)], true),
            vec![(20, 0.0), (0, -200.0)]
        );
    }

    #[test]
    fn integral_newest_first_emits_twice_a_bucket_with_a_point_at_its_start() {
        // 1.x: the point at 10s ends bucket 10 (newest first it ends at its start) and opens
        // it again; the next point ends it once more, with 0. Oldest first: one row each.
        let f = |t, v| (t, FieldValue::Float(v));
        let pts = [f(0, 1.0), f(10, 3.0), f(15, 5.0), f(40, 8.0)];
        assert_eq!(
            bucket_integrals(&pts, true),
            vec![(40, 0.0), (10, -182.5), (10, 0.0), (0, -20.0)]
        );
        assert_eq!(bucket_integrals(&pts, false), vec![(0, 20.0), (10, 46.5)]);
    }

    #[test]
    fn transformations_of_an_integral_read_its_rows_at_their_times() {
        // derivative(integral(x)), difference(derivative(integral(x))), derivative(mean(x)).
        let tr = |func, input| TrSpec {
            func,
            n: 0,
            unit: 0,
            input,
        };
        let trs = [
            tr(AggFn::Derivative, TrInput::Agg(0)),
            tr(AggFn::Difference, TrInput::Tr(0)),
            tr(AggFn::Derivative, TrInput::Agg(1)),
        ];
        // Newest first, the rows of bucket 10 twice (a point at its start): both read, in
        // order, and the transformations over them lie at the bucket's end.
        let integrals = BTreeMap::from([(0, vec![(40, 0.0), (10, -182.5), (10, 0.0), (0, -20.0)])]);
        assert_eq!(tr_shifts(&trs, &integrals, 10), vec![10, 10, 0]);
        let by = integrals_by_bucket(&integrals);
        assert_eq!(
            by.get(&0).and_then(|b| b.get(&10)),
            Some(&vec![Value::Float(-182.5), Value::Float(0.0)])
        );
        assert_eq!(by.get(&0).map(BTreeMap::len), Some(3));
        assert_eq!(
            integral_stream(&integrals[&0], 10, 10, true),
            vec![
                (50, Value::Float(0.0)),
                (20, Value::Float(-182.5)),
                (20, Value::Float(0.0))
            ]
        );
    }

    #[test]
    fn integral_without_group_by_time_has_no_row_ending_at_the_epoch() {
        let a = spec(AggFn::Integral);
        let mut acc = Acc::default();
        for (t, v) in [(0, 1.0), (10, 3.0)] {
            acc.add(&a, t, FieldValue::Float(v), &Vec::new);
        }
        // Oldest first the last point is at 10; newest first at 0, the window's start.
        assert!(!integral_ends_at_epoch(&acc, false));
        assert!(integral_ends_at_epoch(&acc, true));
        assert!(!integral_ends_at_epoch(&Acc::default(), true));
        // Newest first: no row (null, gone) at the epoch; otherwise the area negated.
        let mut later = Acc::default();
        for (t, v) in [(5, 1.0), (10, 3.0)] {
            later.add(&a, t * 1_000_000_000, FieldValue::Float(v), &Vec::new);
        }
        let aggs = [a.clone(), a.clone(), spec(AggFn::Mean)];
        let mut accs = [acc, later, Acc::default()];
        let mut outs: Vec<Out> = aggs
            .iter()
            .zip(accs.iter_mut())
            .map(|(a, c)| c.finish(a))
            .collect();
        assert_eq!(
            finish_integrals(&aggs, &accs, &mut outs, true),
            vec![true, false, false]
        );
        assert_eq!(outs[0].value, Value::Null);
        assert_eq!(outs[1].value, Value::Float(-10.0));
    }
}
