//! The vq interpreter (VQ.md §5): statements run in order against one strata database; the
//! first runtime error ends the run (earlier effects stay, and are durable).
//!
//! * A table is a measurement plus a catalog record (`VersionEdit` `vq_set`/`vq_drop` in the
//!   manifest): its tag columns and whether it has been populated.
//! * PUT writes one float field through the normal write path (WAL fsynced before the
//!   acknowledgement). DELETE removes that metric's value of exactly that series at that time
//!   through the delete path (rewrite of the tables, [`crate::delete::delete_field_points`]).
//! * SELECT runs the plan of [`super::plan`] through [`crate::query::exec`]. COUNT, MIN and MAX
//!   are the InfluxQL aggregates' answers. DATA is the raw-rows plan, sorted in vq's order
//!   (timestamp, metric, tag set). SUM and AVG also run the raw-rows plan and add the values in
//!   vq's order from 0.0 (VQ.md §5.2): the engine's `sum()`/`mean()` add series by series
//!   (and in parallel parts), which can round differently when there are several series.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use crate::database::Database;
use crate::db::Db;
use crate::error::Error;
use crate::query::limits::{Charge, QueryMemory, SelectLimits};
use crate::query::plan::AggFn;
use crate::query::Value;
use crate::types::{FieldValue, ParsedPoint};
use crate::version::{VqChange, VqTableRecord};
use std::cell::RefCell;

use super::ast::{Clause, Program, SelectType, Statement, Tag, Word};
use super::plan::{select_plan, NANOS_PER_SECOND};
use super::{parse, VqError, VqOutput, VqPoint, DEFAULT_DATABASE};

/// The largest vq timestamp: its nanoseconds still fit an i64.
pub const MAX_TIMESTAMP: u64 = (i64::MAX / NANOS_PER_SECOND) as u64;

impl Db {
    /// Run vq text against the database `vq` (created if missing); see [`Db::vq_in`].
    pub fn vq(&self, source: &str) -> Result<Vec<VqOutput>, VqError> {
        self.vq_in(DEFAULT_DATABASE, source)
    }

    /// Run vq text against `database` (created if missing): parse it whole (a parse error runs
    /// nothing), then run its statements in order; one output per statement. The first runtime
    /// error stops the run and is returned: the statements before it took effect (durably),
    /// their outputs are not returned (vkdb prints nothing of a run that failed).
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use strata::vq::VqOutput;
    /// let dir = tempfile::tempdir()?;
    /// let db = strata::Db::open(dir.path(), strata::Config::new())?;
    /// let out = db.vq_in("climate", "CREATE TABLE t; PUT m 1 2.5 INTO t; SELECT COUNT m FROM t ALL; TABLES;")?;
    /// assert_eq!(out[2..], [VqOutput::Count(1), VqOutput::Tables(vec!["t".into()])]);
    /// let answer = db.query("climate", "SELECT m FROM t")?;
    /// assert_eq!(answer.results[0].series[0].values.len(), 1);
    /// # Ok(()) }
    /// ```
    pub fn vq_in(&self, database: &str, source: &str) -> Result<Vec<VqOutput>, VqError> {
        run_program(self, database, &parse(source)?)
    }
}

/// Run a parsed program against `database` of `db` (created if missing); see [`Db::vq_in`].
pub fn run_program(db: &Db, database: &str, program: &Program) -> Result<Vec<VqOutput>, VqError> {
    let first = program.statements.first().map(first_word);
    let d = db
        .create_database(database)
        .and_then(|()| db.database(database))
        .map_err(|e| engine(&first.unwrap_or_else(start), e))?;
    let outputs = QueryMemory::new(db.config().get_query_memory_limit()).empty_charge();
    let run = Runner {
        db,
        d: &d,
        outputs: RefCell::new(outputs),
    };
    // Consecutive PUTs share one WAL write (one fsync) when no point of them can be refused by
    // the engine (see `Runner::prepare_put`); any other statement writes them first.
    let mut batch = Batch::default();
    let mut outputs = Vec::with_capacity(program.statements.len());
    for s in &program.statements {
        let Statement::Put {
            metric,
            timestamp,
            value,
            table,
            tags,
        } = s
        else {
            run.write(&mut batch)?;
            outputs.push(run.statement(s)?);
            continue;
        };
        let (point, batchable) = match run.prepare_put(metric, timestamp, value, table, tags) {
            Ok(prepared) => prepared,
            Err(e) => {
                run.write(&mut batch)?;
                return Err(e);
            }
        };
        if !batchable || batch.points.len() >= MAX_BATCH {
            run.write(&mut batch)?;
        }
        batch.points.push(point);
        batch.metrics.push(metric.clone());
        if !batchable {
            // Alone: if the engine refuses it, nothing after it has been written.
            run.write(&mut batch)?;
        }
        outputs.push(VqOutput::None);
    }
    run.write(&mut batch)?;
    Ok(outputs)
}

/// Most points one batched write of consecutive PUTs holds.
const MAX_BATCH: usize = 4096;

/// Validated PUTs not written yet, with their metric tokens (where a write failure is told).
#[derive(Default)]
struct Batch {
    points: Vec<ParsedPoint>,
    metrics: Vec<Word>,
}

fn start() -> Word {
    Word {
        text: String::new(),
        line: 1,
        column: 1,
    }
}

/// Where an engine failure of a statement is reported: its table or metric token.
fn first_word(s: &Statement) -> Word {
    match s {
        Statement::Select { metric, .. }
        | Statement::Put { metric, .. }
        | Statement::Delete { metric, .. } => metric.clone(),
        Statement::CreateTable { table, .. }
        | Statement::DropTable { table }
        | Statement::AddTags { table, .. }
        | Statement::RemoveTags { table, .. } => table.clone(),
        Statement::Tables => start(),
    }
}

/// An engine error (I/O, a full disk, a field type conflict…) as a runtime error at `at`.
fn engine(at: &Word, e: Error) -> VqError {
    VqError::runtime(at, e.to_string())
}

fn missing(table: &Word) -> String {
    format!("Table '{table}' does not exist.")
}

struct Runner<'a> {
    db: &'a Db,
    d: &'a Arc<Database>,
    /// What the program's outputs hold (the points of its SELECTs), charged to one
    /// `query_memory_limit` across the program before each is made: a program of many SELECTs
    /// keeps all their points until it ends.
    outputs: RefCell<Charge>,
}

type Outcome = Result<VqOutput, VqError>;

impl Runner<'_> {
    fn statement(&self, s: &Statement) -> Outcome {
        match s {
            Statement::CreateTable { table, columns } => self.create(table, columns),
            Statement::DropTable { table } => self.drop_table(table),
            Statement::AddTags { columns, table } => self.change_columns(table, columns, true),
            Statement::RemoveTags { columns, table } => self.change_columns(table, columns, false),
            Statement::Tables => Ok(VqOutput::Tables(
                self.d.versions().vq_tables().into_keys().collect(),
            )),
            Statement::Put {
                metric,
                timestamp,
                value,
                table,
                tags,
            } => {
                let (point, _) = self.prepare_put(metric, timestamp, value, table, tags)?;
                self.write(&mut Batch {
                    points: vec![point],
                    metrics: vec![metric.clone()],
                })?;
                Ok(VqOutput::None)
            }
            Statement::Delete {
                metric,
                timestamp,
                table,
                tags,
            } => self.delete(metric, timestamp, table, tags),
            Statement::Select {
                kind,
                metric,
                table,
                clause,
                filter,
            } => self.select(*kind, metric, table, clause, filter),
        }
    }

    /// Change vq table `table` as `decide` says, atomically with the catalog; `decide`'s
    /// refusal is a runtime error at `table`.
    fn update(
        &self,
        table: &Word,
        decide: impl FnOnce(Option<&VqTableRecord>) -> Result<VqChange, String>,
    ) -> Result<(), VqError> {
        self.d
            .versions()
            .update_vq_table(&table.text, |cur| {
                Ok(match decide(cur) {
                    Ok(change) => (change, Ok(())),
                    Err(message) => (VqChange::Keep, Err(message)),
                })
            })
            .map_err(|e| engine(table, e))?
            .map_err(|message| VqError::runtime(table, message))
    }

    fn table(&self, table: &Word, at: &Word) -> Result<VqTableRecord, VqError> {
        self.d
            .versions()
            .vq_tables()
            .remove(&table.text)
            .ok_or_else(|| VqError::runtime(at, missing(table)))
    }

    fn create(&self, table: &Word, columns: &[Word]) -> Outcome {
        // Points already in the measurement (written through InfluxQL) make it populated.
        let has_data = self.d.index().measurement(&table.text).is_some();
        self.update(table, |cur| match cur {
            Some(_) => Err(format!("Table '{table}' already exists.")),
            None => Ok(VqChange::Set(VqTableRecord {
                name: table.text.clone(),
                tag_columns: columns.iter().map(|c| c.text.clone()).collect(),
                populated: has_data,
            })),
        })?;
        Ok(VqOutput::None)
    }

    /// The data goes first, then the catalog record: a crash between them leaves an empty
    /// table that a second DROP removes, never a dropped table whose points come back.
    fn drop_table(&self, table: &Word) -> Outcome {
        self.table(table, table)?;
        let index = self.d.index();
        if let Some(mi) = index.measurement(&table.text) {
            crate::delete::delete_points(self.d, mi.series_ids(), i64::MIN, i64::MAX)
                .map_err(|e| engine(table, self.d.quarantine_on_corrupt(e)))?;
        }
        self.update(table, |cur| match cur {
            Some(_) => Ok(VqChange::Drop),
            None => Err(missing(table)),
        })?;
        Ok(VqOutput::None)
    }

    /// ADD (`add`) or REMOVE tag columns: every column checked before anything changes.
    fn change_columns(&self, table: &Word, columns: &[Word], add: bool) -> Outcome {
        let what = if add { "add" } else { "remove" };
        self.update(table, |cur| {
            let cur = cur.ok_or_else(|| missing(table))?;
            if cur.populated {
                return Err(format!(
                    "Table '{table}' has previously been populated with data."
                ));
            }
            let mut next = cur.clone();
            for c in columns {
                let changed = if add {
                    next.tag_columns.insert(c.text.clone())
                } else {
                    next.tag_columns.remove(&c.text)
                };
                let had = cur.tag_columns.contains(&c.text);
                if !changed && had == add {
                    return Err(if add {
                        format!("Tag column '{c}' already exists in '{table}'.")
                    } else {
                        format!("Tag column '{c}' does not exist in '{table}'.")
                    });
                }
            }
            tracing::debug!(table = %table, what, "vq tag columns changed");
            Ok(VqChange::Set(next))
        })?;
        Ok(VqOutput::None)
    }

    /// The table of a PUT or DELETE, its tags checked, marked populated (before the write: a
    /// failed write leaves it populated, which only refuses later column changes).
    fn writable(
        &self,
        metric: &Word,
        table: &Word,
        tags: &[Tag],
    ) -> Result<Vec<(String, String)>, VqError> {
        let t = self.table(table, metric)?;
        let tags = checked_tags(&t, tags, metric)?;
        if !t.populated {
            self.update(table, |cur| match cur {
                Some(cur) => Ok(VqChange::Set(VqTableRecord {
                    populated: true,
                    ..cur.clone()
                })),
                None => Err(missing(table)),
            })
            .map_err(|e| relocate(e, metric))?;
        }
        Ok(tags)
    }

    /// A PUT's point, validated (timestamp, value, table, tags) and its table marked
    /// populated; `true` when the engine cannot refuse it (its series exists and its field is
    /// a float field), so it may share a write with the PUTs around it.
    fn prepare_put(
        &self,
        metric: &Word,
        ts: &Word,
        value: &Word,
        table: &Word,
        tags: &[Tag],
    ) -> Result<(ParsedPoint, bool), VqError> {
        let ts = timestamp(ts)?;
        let v = parse_value(value)?;
        let tags = self.writable(metric, table, tags)?;
        let index = self.d.index();
        let known = index
            .id_of(&crate::types::series_key(&table.text, &tags))
            .is_some()
            && index
                .measurement(&table.text)
                .and_then(|mi| mi.field_type(&metric.text))
                == Some(crate::types::FieldType::Float);
        let point = ParsedPoint::new(
            &table.text,
            tags,
            vec![(metric.text.clone(), FieldValue::Float(v))],
            Some(ts as i64 * NANOS_PER_SECOND),
        );
        Ok((point, known))
    }

    /// Write the batch (one WAL record, fsynced) and empty it. A refused point is reported at
    /// its metric.
    fn write(&self, batch: &mut Batch) -> Result<(), VqError> {
        if batch.points.is_empty() {
            return Ok(());
        }
        let points = std::mem::take(&mut batch.points);
        let metrics = std::mem::take(&mut batch.metrics);
        let at = |i: usize| metrics.get(i).cloned().unwrap_or_else(start);
        let (_, rejected) = self
            .d
            .write_points(&points, 0)
            .map_err(|e| engine(&at(0), e))?;
        match rejected.into_iter().next() {
            Some((i, e)) => Err(engine(&at(i), e)),
            None => Ok(()),
        }
    }

    fn delete(&self, metric: &Word, ts: &Word, table: &Word, tags: &[Tag]) -> Outcome {
        let ns = timestamp(ts)? as i64 * NANOS_PER_SECOND;
        let tags = self.writable(metric, table, tags)?;
        let index = self.d.index();
        let Some(mi) = index.measurement(&table.text) else {
            return Ok(VqOutput::None);
        };
        // Exactly this tag set: no more, no fewer tags.
        let series: BTreeSet<_> = mi
            .series_ids()
            .into_iter()
            .filter(|id| index.get(*id).is_some_and(|s| s.tags == tags))
            .collect();
        crate::delete::delete_field_points(self.d, series, &metric.text, ns, ns)
            .map_err(|e| engine(metric, self.d.quarantine_on_corrupt(e)))?;
        Ok(VqOutput::None)
    }

    fn select(
        &self,
        kind: SelectType,
        metric: &Word,
        table: &Word,
        clause: &Clause,
        filter: &[Tag],
    ) -> Outcome {
        let t = self.table(table, metric)?;
        let range = match clause {
            Clause::All => None,
            Clause::Between(a, b) => Some((timestamp(a)?, timestamp(b)?)),
            Clause::At(a) => {
                let a = timestamp(a)?;
                Some((a, a))
            }
        };
        let filter = checked_tags(&t, filter, metric)?;
        // vq timestamps are unsigned: ALL is every time from 0 on.
        let range = range.or(Some((0, MAX_TIMESTAMP)));
        let function = match kind {
            SelectType::Count => Some(AggFn::Count),
            SelectType::Min => Some(AggFn::Min),
            SelectType::Max => Some(AggFn::Max),
            SelectType::Data | SelectType::Sum | SelectType::Avg => None,
        };
        let now = crate::database::now_ns();
        let plan = select_plan(function, &metric.text, &table.text, range, &filter, now);
        let cfg = self.db.config();
        let limits = SelectLimits::new(cfg.get_max_select_points(), cfg.get_max_select_series())
            .with_buckets(cfg.get_max_select_buckets());
        let mem = QueryMemory::new(cfg.get_query_memory_limit());
        let token = strata_actors::CancelToken::new();
        let series = crate::query::exec::execute_select(self.d, plan, &token, &limits, &mem)
            .map_err(|e| engine(metric, self.d.quarantine_on_corrupt(e)))?;
        let empty = || VqError::runtime(metric, "Cannot aggregate on empty range.");
        if function.is_some() {
            let value = series
                .first()
                .and_then(|s| s.values.first())
                .and_then(|row| row.get(1));
            return match (kind, value) {
                (SelectType::Count, v) => Ok(VqOutput::Count(match v {
                    Some(Value::Integer(n)) => u64::try_from(*n).unwrap_or(0),
                    Some(Value::Unsigned(n)) => *n,
                    _ => 0,
                })),
                (_, Some(v)) => v.as_f64().map(VqOutput::Float).ok_or_else(empty),
                (_, None) => Err(empty()),
            };
        }
        let points = points(&metric.text, series, &mut self.outputs.borrow_mut())
            .map_err(|e| engine(metric, e))?;
        let sum = || points.iter().fold(0.0, |acc, p| acc + p.value);
        match kind {
            SelectType::Sum if points.is_empty() => Err(empty()),
            SelectType::Sum => Ok(VqOutput::Float(sum())),
            SelectType::Avg if points.is_empty() => Err(empty()),
            SelectType::Avg => Ok(VqOutput::Float(sum() / points.len() as f64)),
            _ => Ok(VqOutput::Points(points)),
        }
    }
}

/// A refusal reported at the table token, moved to the metric (PUT/DELETE report there).
fn relocate(e: VqError, at: &Word) -> VqError {
    match e {
        VqError::Runtime { message, .. } => VqError::runtime(at, message),
        other => other,
    }
}

/// The tags of a tag list (first occurrence of a key wins), sorted; every key must be a tag
/// column of `t` (else the first offending key in sorted order is reported at `at`).
fn checked_tags(
    t: &VqTableRecord,
    tags: &[Tag],
    at: &Word,
) -> Result<Vec<(String, String)>, VqError> {
    let mut map = BTreeMap::new();
    for (k, v) in tags {
        map.entry(k.text.clone()).or_insert_with(|| v.text.clone());
    }
    if let Some(k) = map.keys().find(|k| !t.tag_columns.contains(*k)) {
        return Err(VqError::runtime(
            at,
            format!("Tag '{k}' not in tag columns."),
        ));
    }
    Ok(map.into_iter().collect())
}

/// A timestamp literal: `[0-9]+` up to [`MAX_TIMESTAMP`], else `Invalid timestamp.` at it.
pub fn timestamp(w: &Word) -> Result<u64, VqError> {
    let invalid = || VqError::runtime(w, "Invalid timestamp.");
    if w.text.is_empty() || !w.text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    match w.text.parse::<u64>() {
        Ok(n) if n <= MAX_TIMESTAMP => Ok(n),
        _ => Err(invalid()),
    }
}

/// A value literal as C's `strtod` reads it; out of f64's range (overflow, or a non-zero value
/// that underflows to zero or a subnormal) is `Invalid value.` at it.
pub fn parse_value(w: &Word) -> Result<f64, VqError> {
    let invalid = || VqError::runtime(w, "Invalid value.");
    let v: f64 = w.text.parse().map_err(|_| invalid())?;
    let nonzero_digits = w.text.bytes().any(|b| (b'1'..=b'9').contains(&b));
    if !v.is_finite() || (nonzero_digits && (v == 0.0 || !v.is_normal())) {
        return Err(invalid());
    }
    Ok(v)
}

/// The rows of a raw `GROUP BY *` answer as vq points, in vq's order (timestamp, metric, tag
/// set). Empty tag values (a key the series lacks) are not part of the tag set.
fn points(
    metric: &str,
    series: Vec<crate::query::SeriesResult>,
    held: &mut Charge,
) -> Result<Vec<VqPoint>, Error> {
    // Every point holds its own copy of the metric and the tags: charged before any is made.
    let mut bytes = 0u64;
    let mut count = 0usize;
    for s in &series {
        let tags: usize = s
            .tags
            .iter()
            .flatten()
            .map(|(k, v)| std::mem::size_of::<(String, String)>() + k.len() + v.len())
            .sum();
        let point = std::mem::size_of::<(i64, VqPoint)>() + metric.len() + tags;
        bytes = bytes.saturating_add((point as u64).saturating_mul(s.values.len() as u64));
        count += s.values.len();
    }
    held.add(bytes)?;
    let mut rows: Vec<(i64, VqPoint)> = Vec::with_capacity(count);
    for s in series {
        let tags: Vec<(String, String)> = s
            .tags
            .unwrap_or_default()
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        for row in s.values {
            let (Some(Value::Time(ns)), Some(v)) =
                (row.first(), row.get(1).and_then(Value::as_f64))
            else {
                continue;
            };
            rows.push((
                *ns,
                VqPoint {
                    timestamp: ns.div_euclid(NANOS_PER_SECOND).max(0) as u64,
                    metric: metric.to_string(),
                    tags: tags.clone(),
                    value: v,
                },
            ));
        }
    }
    rows.sort_by(|(a, p), (b, q)| a.cmp(b).then_with(|| p.tags.cmp(&q.tags)));
    Ok(rows.into_iter().map(|(_, p)| p).collect())
}

#[cfg(test)]
#[path = "exec_tests.rs"]
mod tests;
