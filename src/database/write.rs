//! The write path: resolve each point's series (checking field types and cardinality limits),
//! build one WAL record of the rows, and wait for the WAL writer's group commit to make it
//! durable and the memtable actor to apply it.

use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLockWriteGuard};
use std::time::Instant;

use strata_actors::wal_writer::{write_request, WalMsg};
use strata_actors::{Sender, TrySendError};

use super::Database;
use crate::cardinality::LimitExceeded;
use crate::error::{Error, Result};
use crate::types::{
    FastHash, FieldType, FieldValue, NewSeries, ParsedPoint, Row, SeqNo, SeriesId, WriteBatch,
};

/// What a write accomplished.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WriteOutcome {
    /// Field values written.
    pub points: usize,
    /// The WAL sequence number of the batch (0 if nothing was written).
    pub seqno: SeqNo,
}

impl Database {
    /// Write parsed points. Points whose field types conflict with the schema are rejected
    /// (returned with their index and error); the rest are written as one WAL record and
    /// acknowledged once fsynced and applied.
    pub fn write_points(
        &self,
        points: &[ParsedPoint],
        default_ts: i64,
    ) -> Result<(WriteOutcome, Vec<(usize, Error)>)> {
        self.write_parsed(Points::Borrowed(points), default_ts)
    }

    /// [`Database::write_points`], moving the fields of the points written into the batch
    /// instead of copying them: afterwards those points have no fields (a rejected point keeps
    /// its own). Measurements and tags are left in place.
    pub fn write_points_taking_fields(
        &self,
        points: &mut [ParsedPoint],
        default_ts: i64,
    ) -> Result<(WriteOutcome, Vec<(usize, Error)>)> {
        self.write_parsed(Points::Fields(points), default_ts)
    }

    fn write_parsed(
        &self,
        mut points: Points<'_>,
        default_ts: i64,
    ) -> Result<(WriteOutcome, Vec<(usize, Error)>)> {
        let _gate = self.write_gate.read().unwrap_or_else(|p| p.into_inner());
        if self.dropped.load(Ordering::Acquire) {
            return Err(Error::DatabaseNotFound(self.name.clone()));
        }
        self.health.check().map_err(Error::Poisoned)?;
        let mut batch = WriteBatch::default();
        let mut rejected = Vec::new();
        // The parser shares one measurement, tags and field name `Arc` among the points of a
        // body that spell them alike: what was checked or resolved for one allocation holds
        // for every point sharing it (the points are borrowed, so those allocations are alive
        // and their addresses unique for the whole call).
        let addr = |shared: *const u8| shared as usize;
        let mut fields_ok: std::collections::HashSet<(usize, usize, FieldType), FastHash> =
            Default::default();
        // A series refused by a cardinality limit stays refused for the rest of the body.
        type Resolved = std::result::Result<SeriesId, Arc<LimitExceeded>>;
        let mut series_of: std::collections::HashMap<(usize, usize), Resolved, FastHash> =
            Default::default();
        // The series `batch.new_series` logs, to log each once: a hash set, so a body creating
        // n series does O(n) work here, not a scan of the list per new series (O(n²)).
        let mut logged: std::collections::HashSet<SeriesId, FastHash> = Default::default();
        // What bounds group commits (`WriteBatch::approx_bytes`), summed as rows are made.
        let mut bytes = 0;
        'points: for position in 0..points.len() {
            let point = points.get(position);
            let measurement = addr(Arc::as_ptr(&point.measurement).cast());
            for (field, value) in &point.fields {
                let checked = (
                    measurement,
                    addr(Arc::as_ptr(field).cast()),
                    value.field_type(),
                );
                if fields_ok.contains(&checked) {
                    continue;
                }
                if let Err(conflict) =
                    self.index
                        .check_field(&point.measurement, field, value.field_type())
                {
                    rejected.push((position, conflict));
                    continue 'points;
                }
                fields_ok.insert(checked);
            }
            let key = (measurement, addr(Arc::as_ptr(&point.tags).cast()));
            let resolved = match series_of.get(&key) {
                Some(known) => known.clone(),
                None => {
                    let resolved = match self.index.resolve(point) {
                        Ok((id, created)) => {
                            if let Some(new_series) = created {
                                if logged.insert(new_series.id) {
                                    bytes += new_series.approx_bytes();
                                    batch.new_series.push(new_series);
                                }
                            }
                            Ok(id)
                        }
                        Err(limit) => Err(Arc::new(limit)),
                    };
                    series_of.insert(key, resolved.clone());
                    resolved
                }
            };
            let series = match resolved {
                Ok(id) => id,
                Err(limit) => {
                    rejected.push((position, Error::CardinalityLimit(limit)));
                    continue 'points;
                }
            };
            let timestamp = point.timestamp.unwrap_or(default_ts);
            let row = Row {
                series,
                timestamp,
                fields: points.fields(position),
            };
            bytes += row.approx_bytes();
            batch.rows.push(row);
        }
        if batch.rows.is_empty() {
            return Ok((WriteOutcome::default(), rejected));
        }
        let points_written = batch.point_count();
        let new_ids: Vec<u64> = batch.new_series.iter().map(|series| series.id).collect();
        let seqno = self.submit(batch, bytes)?;
        self.index.mark_durable(new_ids);
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        self.stats
            .points
            .fetch_add(points_written as u64, Ordering::Relaxed);
        Ok((
            WriteOutcome {
                points: points_written,
                seqno,
            },
            rejected,
        ))
    }

    /// Queue a batch for the WAL writer and wait for its acknowledgement, at most
    /// `write_timeout`. On timeout a batch still queued is withdrawn (nothing of it is written);
    /// one already taken into a group commit will be applied whole later. `WriteTimeout` says
    /// which.
    fn submit(&self, batch: WriteBatch, bytes: usize) -> Result<SeqNo> {
        let tx = self.sender()?;
        let timeout = self.config.get_write_timeout();
        let deadline = Instant::now() + timeout;
        let (req, ticket) = write_request(batch, bytes);
        match Sender::send_timeout(&tx, WalMsg::Write(req), timeout) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                return Err(Error::WriteTimeout {
                    duration: timeout,
                    committing: false,
                })
            }
            Err(TrySendError::Closed(_)) => return Err(Error::Closed),
        }
        drop(tx);
        let left = deadline.saturating_duration_since(Instant::now());
        let reply = match ticket.wait_timeout(left) {
            Ok(r) => r,
            Err(ticket) => {
                return Err(Error::WriteTimeout {
                    duration: timeout,
                    committing: !ticket.abandon(),
                });
            }
        };
        reply.map_err(|failure| self.actor_error(failure, Error::WriteFailed))
    }

    /// Wait until no write is between resolving its series and being applied, and keep new
    /// writes out while the guard lives: deletes forget series under it, so no write can use a
    /// series id that is being forgotten. Hold it briefly.
    pub(crate) fn exclusive_writes(&self) -> RwLockWriteGuard<'_, ()> {
        self.write_gate.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Log a WAL record that only names series (no points): after a delete removed every table
    /// holding a series whose newer points are still only in the memtable (and the WAL), this
    /// keeps the series' key recoverable at restart.
    pub(crate) fn log_series(&self, series: Vec<NewSeries>) -> Result<()> {
        let batch = WriteBatch {
            new_series: series,
            rows: Vec::new(),
        };
        let bytes = batch.approx_bytes();
        self.submit(batch, bytes).map(|_| ())
    }
}

/// The points a write takes: borrowed (their fields are copied into the batch) or lent
/// mutably (their fields are moved out). Either way every point stays alive for the whole
/// write, so the addresses of their shared measurement, tags and field names identify them.
enum Points<'p> {
    Borrowed(&'p [ParsedPoint]),
    Fields(&'p mut [ParsedPoint]),
}

impl Points<'_> {
    fn len(&self) -> usize {
        match self {
            Points::Borrowed(points) => points.len(),
            Points::Fields(points) => points.len(),
        }
    }

    /// Point `position` (below [`Points::len`]).
    fn get(&self, position: usize) -> &ParsedPoint {
        match self {
            Points::Borrowed(points) => &points[position],
            Points::Fields(points) => &points[position],
        }
    }

    /// The fields of point `position` for its row.
    fn fields(&mut self, position: usize) -> Vec<(Arc<str>, FieldValue)> {
        match self {
            Points::Borrowed(points) => points[position].fields.clone(),
            Points::Fields(points) => std::mem::take(&mut points[position].fields),
        }
    }
}

/// Default timestamp for lines without one: the server's clock in ns.
pub fn now_ns() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Through the whole write path (the parser's shared series, the WAL, the memtable and a
    /// restart's replay): of the lines of one body that write a series' timestamp, the last
    /// wins, whatever the other series' lines between them, and tags spelt in another order
    /// are the same series.
    #[test]
    fn last_line_of_a_timestamp_wins_within_a_body() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = crate::Config::new();
        let body = "m,h=a,k=1 v=1 10\nm,h=b,k=1 v=2 10\nm,k=1,h=a v=3 10\nm,h=b,k=1 v=4 20\n\
                    m,h=a,k=1 v=5 20\nm,h=b,k=1 v=6 10\nm,h=a,k=1 v=7 10\n";
        let check = |d: &Database| {
            for (h, want) in [("a", [(10, 7.0), (20, 5.0)]), ("b", [(10, 6.0), (20, 4.0)])] {
                let ids = d.index().measurement("m").unwrap().series_with_tag("h", h);
                assert_eq!(ids.len(), 1, "{h}");
                let id = *ids.iter().next().unwrap();
                let snap = crate::query::scan::Snapshot::new(d.versions().current());
                let c = snap.read(id, "v", i64::MIN, i64::MAX).unwrap().unwrap();
                let got: Vec<(i64, f64)> = match c.values {
                    crate::types::Values::Float(v) => c.timestamps.into_iter().zip(v).collect(),
                    other => panic!("{other:?}"),
                };
                assert_eq!(got, want, "{h}");
            }
        };
        let d = Database::open("t", dir.path(), &cfg).unwrap();
        let mut p =
            crate::lineproto::parse(body, crate::lineproto::Precision::Nanosecond, 0, 1 << 16);
        assert!(p.errors.is_empty());
        let (out, rejected) = d.write_points_taking_fields(&mut p.points, 0).unwrap();
        assert!(rejected.is_empty());
        assert_eq!(out.points, 7);
        check(&d);
        // Crash: never closed (the actors are leaked), so the restart replays the WAL.
        std::mem::forget(d);
        let d = Database::open("t", dir.path(), &cfg).unwrap();
        check(&d);
        d.close().unwrap();
    }
}
