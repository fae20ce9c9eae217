//! Compaction: the C0–C7 time-window ladder (DESIGN.md §5).
//!
//! * **C0** holds flush output as it comes (tables may overlap). Over its limit, the C0 compactor
//!   merges *all* of C0 into C1, cut at C1's windows.
//! * **C1–C6**: over its limit, a layer moves its *oldest* excess tables (by window start) into
//!   the next layer, merged with the next layer's tables of the same (next-layer) windows.
//! * **C7** is the last layer: it has nowhere to move tables, so its limit only shows as
//!   compaction debt in the metrics.
//!
//! Beyond C0, every table of a layer holds the points of one window of that layer, so the tables
//! of a layer are disjoint in time. A move merges with *every* next-layer table that overlaps a
//! window it writes (and with the windows those tables touch, so a table left straddling a
//! boundary by a window reconfiguration is re-cut), which keeps that invariant.
//!
//! **Newest wins across layers.** For a given timestamp, data in a shallower layer is always
//! newer (higher seqnos) than data in a deeper one: flushes install in seqno order, C0 is taken
//! whole, and a move rewrites the moved data together with the next layer's data of the same
//! windows, so nothing can overtake older data of the same timestamp on its way down. A late
//! write into an old window therefore lands in C0, is merged into C1 (with C1's table of that
//! window if any), and goes down layer by layer until it is merged with the deeper table holding
//! that window; until then the reader's order (`Version::tables_oldest_first`: deepest layer
//! first, then by `max_seq`) lets it win. The merge itself orders its inputs the same way.
//!
//! **Crash safety.** Outputs are written and fsynced (files, then the directory), then one
//! manifest edit (fsynced) replaces the inputs by the outputs, then the version is published;
//! the inputs' files are deleted once no version in use names them. A crash before the manifest
//! edit leaves outputs the manifest does not name: `VersionSet::open` deletes them. A crash after
//! it leaves inputs the manifest no longer names: deleted the same way. See
//! [`crate::failpoint`] for the fail points the crash tests use.

mod merge;
mod window;

pub use merge::{merge_window, merge_window_until, windows_of, MergeStats, PointFilter};
pub use window::{rfc3339, Window};

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use strata_actors::compactor::{CompactIo, Installed};

use crate::config::Config;
use crate::database::now_ns;
use crate::error::{Error, Result};
use crate::manifest::sync_dir_with;
use crate::retention::RetentionPolicy;
use crate::retry::BackgroundRetry;
use crate::sstable::{Provenance, Table, TableWriter};
use crate::types::SeriesId;
use crate::version::{TableHandle, TableRef, Version, VersionSet, LAYERS};

/// Cumulative counters of one layer's compactor.
#[derive(Default, Debug)]
pub struct LayerCounters {
    /// Jobs installed.
    pub compactions: AtomicU64,
    /// Installs refused because a concurrent edit replaced an input (the job was re-planned).
    pub conflicts: AtomicU64,
    /// Bytes of blocks read by merges.
    pub bytes_read: AtomicU64,
    /// Bytes of table files written by merges.
    pub bytes_written: AtomicU64,
    /// Bytes of the tables moved out of this layer (the new data the next layer received).
    pub bytes_moved: AtomicU64,
}

/// Counters of every layer's compactor and of flush stalls.
#[derive(Default, Debug)]
pub struct CompactionCounters {
    pub layers: [LayerCounters; LAYERS],
    /// Times the flusher waited because C0 held more than twice its limit.
    pub flush_stalls: AtomicU64,
}

/// A snapshot of one layer: its tables now, and its compactor's counters.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerStats {
    pub layer: usize,
    /// `None` for C0 (overlapping flush output).
    pub window: Option<Window>,
    pub max_tables: usize,
    pub tables: usize,
    pub bytes: u64,
    pub points: u64,
    /// Compactions of this layer (moves into the next layer) so far.
    pub compactions: u64,
    pub conflicts: u64,
    pub bytes_read: u64,
    pub bytes_written: u64,
    pub bytes_moved: u64,
    /// `bytes_written / bytes_moved`: bytes the merge into the next layer wrote per byte of new
    /// data it moved there (0 before the first compaction).
    pub write_amplification: f64,
    /// Tables over the limit (C0: all of them once over the limit, since C0 moves whole).
    pub debt_tables: usize,
    /// Bytes of those tables.
    pub debt_bytes: u64,
}

/// Per-layer statistics of a database.
#[derive(Debug, Clone, PartialEq)]
pub struct CompactionStats {
    pub layers: Vec<LayerStats>,
    pub flush_stalls: u64,
}

/// The tables of layer `layer` that are over its limit: all of C0, or the oldest windows of
/// C1–C6 (ordered by window start, then file number). Empty if within the limit (and for C7).
pub fn over_limit(version: &Version, layer: usize, max_tables: usize) -> Vec<TableRef> {
    let tables = &version.layers[layer];
    if layer + 1 >= LAYERS || tables.len() <= max_tables {
        return Vec::new();
    }
    if layer == 0 {
        return tables.clone();
    }
    let mut sorted = tables.clone();
    sorted.sort_by_key(|t| (t.table.stats().min_ts, t.file));
    sorted.truncate(tables.len() - max_tables);
    sorted
}

/// Statistics of every layer of `version` with `counters`.
pub fn stats(version: &Version, config: &Config, counters: &CompactionCounters) -> CompactionStats {
    let layers = (0..LAYERS)
        .map(|l| {
            let tables = &version.layers[l];
            let c = &counters.layers[l];
            let max_tables = config.get_layer_max_tables(l);
            let debt: Vec<TableRef> = if l + 1 == LAYERS {
                let mut t = tables.clone();
                t.sort_by_key(|t| t.table.stats().min_ts);
                t.truncate(tables.len().saturating_sub(max_tables));
                t
            } else {
                over_limit(version, l, max_tables)
            };
            let bytes_written = c.bytes_written.load(Ordering::Relaxed);
            let bytes_moved = c.bytes_moved.load(Ordering::Relaxed);
            LayerStats {
                layer: l,
                window: (l > 0).then(|| config.get_layer_window(l)),
                max_tables,
                tables: tables.len(),
                bytes: tables.iter().map(|t| t.table.stats().file_bytes).sum(),
                points: tables.iter().map(|t| t.table.stats().points).sum(),
                compactions: c.compactions.load(Ordering::Relaxed),
                conflicts: c.conflicts.load(Ordering::Relaxed),
                bytes_read: c.bytes_read.load(Ordering::Relaxed),
                bytes_written,
                bytes_moved,
                write_amplification: if bytes_moved == 0 {
                    0.0
                } else {
                    bytes_written as f64 / bytes_moved as f64
                },
                debt_tables: debt.len(),
                debt_bytes: debt.iter().map(|t| t.table.stats().file_bytes).sum(),
            }
        })
        .collect();
    CompactionStats {
        layers,
        flush_stalls: counters.flush_stalls.load(Ordering::Relaxed),
    }
}

/// A switch that holds every compactor before it plans its next job: for operators who need to
/// pause background I/O, and for tests that show compaction backpressure.
#[derive(Default)]
pub struct PauseGate {
    paused: Mutex<bool>,
    cv: Condvar,
}

impl PauseGate {
    pub fn set_paused(&self, paused: bool) {
        *self.paused.lock().unwrap_or_else(|p| p.into_inner()) = paused;
        self.cv.notify_all();
    }

    pub fn wait_open(&self) {
        let mut g = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        while *g {
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// A planned job: tables to move out of `layer`, and the next layer's tables when it was
/// planned. Only those tables: a job does not hold its whole `Version`, whose memtables (the
/// active one and the frozen ones of that moment) would otherwise stay in memory until the
/// merge ends, long after they were flushed (at 100 M points, with compaction behind, that was
/// ~400 MB of memtables held by running jobs).
pub struct Job {
    next: Vec<TableRef>,
    moved: Vec<TableRef>,
}

/// What a job wrote.
pub struct Output {
    removed: Vec<TableRef>,
    added: Vec<TableRef>,
    stats: MergeStats,
    bytes_written: u64,
    /// Nothing to install, plan again: the job met a corrupt input, which was quarantined, or
    /// it was abandoned because compaction is stopping (planning then finds no job).
    replan: bool,
}

/// The production [`CompactIo`] of one layer: plans from the [`VersionSet`], merges into real
/// table files, installs through the manifest.
pub struct LayerCompactor {
    pub layer: usize,
    pub versions: Arc<VersionSet>,
    pub config: Config,
    pub counters: Arc<CompactionCounters>,
    pub pause: Arc<PauseGate>,
    /// The database's retention policy (shared with [`crate::database::Database`], which changes
    /// it on `ALTER RETENTION POLICY`): merges drop the points it has expired, so a table that
    /// straddles the cutoff loses its expired part when it is next compacted.
    pub retention: Arc<Mutex<RetentionPolicy>>,
    /// Whether and when a failed step is tried again.
    pub retry: BackgroundRetry,
    /// Set at shutdown ([`crate::database::Database::stop_compactions`]): plan no new job, and
    /// abandon a running one at its next (series, field) run; its outputs are logged pending
    /// and removed, the catalog is unchanged.
    pub stop: Arc<AtomicBool>,
}

impl LayerCompactor {
    /// Merge `job` into the next layer: one output table per next-layer window with points.
    pub fn run_job(&self, job: &Job) -> Result<Output> {
        let stopping = || self.stop.load(Ordering::Acquire);
        let to = self.layer + 1;
        let window = self.config.get_layer_window(to);
        let mut stats = MergeStats::default();
        let mut windows = BTreeSet::new();
        for t in &job.moved {
            windows_of(&t.table, window, &mut windows, &mut stats)?;
        }
        // The next layer's tables overlapping those windows, to a fixpoint (normally one round:
        // each of them lies in one window).
        let mut merged_with: Vec<TableRef> = Vec::new();
        loop {
            let mut grew = false;
            for t in &job.next {
                if merged_with.iter().any(|m| m.file == t.file) {
                    continue;
                }
                let s = t.table.stats();
                let overlaps = windows
                    .range(..=s.max_ts)
                    .next_back()
                    .is_some_and(|&w| window.next_start(w) > s.min_ts);
                if overlaps {
                    windows_of(&t.table, window, &mut windows, &mut stats)?;
                    merged_with.push(t.clone());
                    grew = true;
                }
            }
            if !grew {
                break;
            }
        }
        // Oldest first: the next layer's tables, then the moved ones, each by max_seq.
        merged_with.sort_by_key(|t| t.max_seq);
        let mut moved = job.moved.clone();
        moved.sort_by_key(|t| t.max_seq);
        let mut removed = merged_with;
        removed.extend(moved);
        let inputs: Vec<&Table> = removed.iter().map(|t| &t.table).collect();
        let min_seq = removed.iter().map(|t| t.min_seq).min().unwrap_or(0);
        let max_seq = removed.iter().map(|t| t.max_seq).max().unwrap_or(0);

        let cutoff = self
            .retention
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cutoff(now_ns());
        let expired = cutoff.map(|c| move |_: SeriesId, ts: i64| ts >= c);
        let filter = expired.as_ref().map(|f| f as &dyn PointFilter);

        let mut added: Vec<TableRef> = Vec::new();
        let mut bytes_written = 0;
        // The output being written, if any: on failure it and the finished outputs (all logged
        // pending, never installed) are removed, so a retry starts clean.
        let mut writing: Option<std::path::PathBuf> = None;
        let written = (|| -> Result<()> {
            for &lo in &windows {
                if stopping() {
                    return Err(Error::CompactionStopped);
                }
                let hi = window.next_start(lo);
                let mut file = None;
                let mut create = || {
                    let (n, path) = self.versions.new_table()?;
                    file = Some((n, path.clone()));
                    TableWriter::create_with(self.versions.io().clone(), &path)
                };
                let w =
                    merge_window_until(&inputs, lo, hi, filter, &mut create, &mut stats, &stopping);
                if let Some((_, path)) = &file {
                    writing = Some(path.clone());
                }
                let (Some(mut w), Some((n, path))) = (w?, file) else {
                    continue;
                };
                w.set_provenance(Provenance {
                    layer: to,
                    min_seq,
                    max_seq,
                });
                let ts = w.finish()?;
                bytes_written += ts.file_bytes;
                let table = Table::open(&path)?;
                writing = None;
                added.push(
                    self.versions
                        .table_ref(TableHandle::new(n, to, min_seq, max_seq, table)),
                );
                if added.len() == 1 && windows.len() > 1 {
                    crate::failpoint::hit("compaction-during-write");
                }
            }
            sync_dir_with(
                self.versions.io().as_ref(),
                &self.versions.dir().join("sst"),
            )
        })();
        if let Err(e) = written {
            for t in &added {
                t.mark_obsolete();
            }
            if let Some(path) = writing {
                let _ = self.versions.io().remove(&path);
            }
            return Err(e);
        }
        crate::failpoint::hit("compaction-after-write");
        Ok(Output {
            removed,
            added,
            stats,
            bytes_written,
            replan: false,
        })
    }
}

impl CompactIo for LayerCompactor {
    type Job = Job;
    type Output = Output;
    type Error = Arc<Error>;

    fn plan(&mut self, force: bool) -> Result<Option<Job>, Arc<Error>> {
        // Planning reads only the current version; it cannot fail with I/O.
        if self.stop.load(Ordering::Acquire) {
            return Ok(None);
        }
        self.pause.wait_open();
        if self.stop.load(Ordering::Acquire) {
            return Ok(None);
        }
        let version = self.versions.current();
        let limit = if force {
            0
        } else {
            self.config.get_layer_max_tables(self.layer)
        };
        let moved = over_limit(&version, self.layer, limit);
        if moved.is_empty() {
            return Ok(None);
        }
        let next = version
            .layers
            .get(self.layer + 1)
            .cloned()
            .unwrap_or_default();
        Ok(Some(Job { next, moved }))
    }

    fn run(&mut self, job: &Job) -> Result<Output, Arc<Error>> {
        match self.run_job(job) {
            // Stopping (shutdown): `run_job` removed the unfinished outputs; nothing to install,
            // and planning again finds no job, so the compactor goes idle at once.
            Err(Error::CompactionStopped) => {
                tracing::info!(layer = self.layer, "compaction abandoned for shutdown");
                Ok(Output {
                    removed: Vec::new(),
                    added: Vec::new(),
                    stats: MergeStats::default(),
                    bytes_written: 0,
                    replan: true,
                })
            }
            // A corrupt block of an input: quarantine that table and abort the job (`run_job`
            // already removed its unfinished outputs); the compactor plans again without it
            // instead of poisoning the database.
            Err(Error::Corrupt { path, reason }) => {
                let Some(t) = job
                    .moved
                    .iter()
                    .chain(&job.next)
                    .find(|t| t.table.path() == path)
                else {
                    return Err(Arc::new(Error::Corrupt { path, reason }));
                };
                let db = self
                    .versions
                    .dir()
                    .file_name()
                    .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
                crate::quarantine::quarantine(&self.versions, &db, t.file, &reason)
                    .map_err(Arc::new)?;
                Ok(Output {
                    removed: Vec::new(),
                    added: Vec::new(),
                    stats: MergeStats::default(),
                    bytes_written: 0,
                    replan: true,
                })
            }
            r => r.map_err(|e| {
                self.retry.report("compaction", &e);
                Arc::new(e)
            }),
        }
    }

    fn retry_after(&mut self, failures: u32, error: &Arc<Error>) -> Option<std::time::Duration> {
        self.retry.after(failures, error)
    }

    fn install(&mut self, job: Job, out: Output) -> Result<Installed, Arc<Error>> {
        if out.replan {
            // Nothing was written: plan again (against the catalog without a quarantined
            // table, or to find that compaction is stopping).
            return Ok(Installed::Conflict);
        }
        let c = &self.counters.layers[self.layer];
        c.bytes_read
            .fetch_add(out.stats.bytes_read, Ordering::Relaxed);
        c.bytes_written
            .fetch_add(out.bytes_written, Ordering::Relaxed);
        let added = out.added.clone();
        match self.versions.replace_tables_at(
            &out.removed,
            out.added,
            Some("compaction-after-manifest"),
        ) {
            Ok(()) => {
                crate::failpoint::hit("compaction-after-install");
                let moved: u64 = job.moved.iter().map(|t| t.table.stats().file_bytes).sum();
                c.bytes_moved.fetch_add(moved, Ordering::Relaxed);
                c.compactions.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(
                    layer = self.layer,
                    moved = job.moved.len(),
                    inputs = out.removed.len(),
                    outputs = added.len(),
                    points = out.stats.points_written,
                    "compaction installed"
                );
                Ok(Installed::Done)
            }
            Err(Error::VersionConflict { file }) => {
                c.conflicts.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(layer = self.layer, file, "compaction conflict; re-planning");
                // Never named by the manifest: delete the outputs once dropped.
                for t in &added {
                    t.mark_obsolete();
                }
                Ok(Installed::Conflict)
            }
            // The edit may or may not have reached the disk: leave the outputs to the next open,
            // which knows from the manifest whether they are live or garbage.
            Err(e) => {
                self.retry.report("compaction (manifest edit)", &e);
                Err(Arc::new(e))
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::types::{Column, Values};

    /// A table of series 1, field `v`, with `pts`, added live to `layer` (also used by the
    /// quarantine tests).
    pub(crate) fn add_table(
        vs: &VersionSet,
        layer: usize,
        seq: u64,
        pts: &[(i64, f64)],
    ) -> TableRef {
        let (file, path) = vs.new_table().unwrap();
        let mut w = TableWriter::create(&path).unwrap();
        let col = Column {
            timestamps: pts.iter().map(|p| p.0).collect(),
            values: Values::Float(pts.iter().map(|p| p.1).collect()),
        };
        w.add(1, "m", "v", &col).unwrap();
        w.set_provenance(Provenance {
            layer,
            min_seq: seq,
            max_seq: seq,
        });
        w.finish().unwrap();
        let t = vs.table_ref(TableHandle::new(
            file,
            layer,
            seq,
            seq,
            Table::open(&path).unwrap(),
        ));
        vs.replace_tables(&[], vec![t.clone()]).unwrap();
        t
    }

    fn compactor(vs: &Arc<VersionSet>, layer: usize) -> LayerCompactor {
        LayerCompactor {
            layer,
            versions: vs.clone(),
            config: Config::new().layer_max_tables(0, 1).layer_max_tables(1, 1),
            counters: Arc::new(CompactionCounters::default()),
            pause: Arc::new(PauseGate::default()),
            retention: Arc::new(Mutex::new(RetentionPolicy::default())),
            retry: BackgroundRetry::new(Arc::new(AtomicBool::new(false))),
            stop: Arc::new(AtomicBool::new(false)),
        }
    }

    const H: i64 = 3_600_000_000_000;

    #[test]
    fn outputs_record_their_layer_and_the_seqno_range_of_their_inputs() {
        let dir = tempfile::tempdir().unwrap();
        let vs = Arc::new(VersionSet::open(dir.path()).unwrap());
        add_table(&vs, 0, 4, &[(0, 1.0), (2 * H, 2.0)]);
        add_table(&vs, 0, 9, &[(10, 2.0)]);
        add_table(&vs, 1, 2, &[(60, 5.0)]);
        let mut c = compactor(&vs, 0);
        let job = c.plan(false).unwrap().unwrap();
        let out = c.run(&job).unwrap();
        assert_eq!(out.added.len(), 2);
        for t in &out.added {
            assert_eq!((t.layer, t.min_seq, t.max_seq), (1, 2, 9));
            assert_eq!(
                t.table.provenance(),
                Some(Provenance {
                    layer: 1,
                    min_seq: 2,
                    max_seq: 9
                })
            );
        }
    }

    /// A planned job holds the tables it merges, not the version it was planned against: that
    /// version's memtables (flushed meanwhile) must not stay in memory until the merge ends.
    #[test]
    fn a_planned_job_does_not_hold_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let vs = Arc::new(VersionSet::open(dir.path()).unwrap());
        add_table(&vs, 0, 1, &[(0, 1.0)]);
        add_table(&vs, 0, 2, &[(10, 2.0)]);
        add_table(&vs, 1, 0, &[(60, 5.0)]);
        let planned_against = Arc::downgrade(&vs.current());
        let mut c = compactor(&vs, 0);
        let job = c.plan(false).unwrap().unwrap();
        assert_eq!((job.moved.len(), job.next.len()), (2, 1));
        // A newer version replaces the one the job was planned against.
        add_table(&vs, 2, 0, &[(7 * H, 1.0)]);
        assert!(
            planned_against.upgrade().is_none(),
            "the job keeps its version (and its memtables) alive"
        );
        // The job still runs against the tables it was given.
        let out = c.run_job(&job).unwrap();
        assert_eq!(out.removed.len(), 3);
    }

    #[test]
    fn a_conflicting_install_changes_nothing_deletes_its_outputs_and_replans() {
        let dir = tempfile::tempdir().unwrap();
        let vs = Arc::new(VersionSet::open(dir.path()).unwrap());
        add_table(&vs, 0, 1, &[(0, 1.0), (2 * H, 2.0)]);
        add_table(&vs, 0, 2, &[(0, 10.0)]);
        let c1 = add_table(&vs, 1, 0, &[(60, 5.0)]);
        let mut c = compactor(&vs, 0);
        let job = c.plan(false).unwrap().unwrap();
        let out = c.run(&job).unwrap();
        assert_eq!(
            out.removed.len(),
            3,
            "C0 whole, plus C1's table of the same window"
        );
        let outputs: Vec<_> = out
            .added
            .iter()
            .map(|t| t.table.path().to_path_buf())
            .collect();
        assert_eq!(
            outputs.len(),
            2,
            "one table per 30-minute window with points"
        );
        // A concurrent edit (another layer's compactor, a delete) replaces the C1 table first.
        vs.replace_tables(std::slice::from_ref(&c1), Vec::new())
            .unwrap();
        drop(c1);
        assert_eq!(c.install(job, out).unwrap(), Installed::Conflict);
        assert!(
            outputs.iter().all(|p| !p.exists()),
            "discarded outputs are deleted"
        );
        assert_eq!(vs.current().layers[0].len(), 2, "nothing changed");
        // Planned again against the new version, it installs; newest seqno wins at ts 0.
        let job = c.plan(false).unwrap().unwrap();
        let out = c.run(&job).unwrap();
        assert_eq!(c.install(job, out).unwrap(), Installed::Done);
        let v = vs.current();
        assert!(v.layers[0].is_empty());
        assert_eq!(v.layers[1].len(), 2);
        let first = v.layers[1]
            .iter()
            .find(|t| t.table.stats().min_ts == 0)
            .unwrap();
        let col = first.table.read_range(1, "v", 0, 0).unwrap().unwrap();
        assert_eq!(col.values, Values::Float(vec![10.0]));
        let s = stats(&v, &c.config, &c.counters);
        assert_eq!((s.layers[0].compactions, s.layers[0].conflicts), (1, 1));
        assert_eq!(
            s.layers[1].debt_tables, 1,
            "C1 over its limit of 1 by one table"
        );
        drop(v);
        // C1's compactor moves the oldest window on into C2 (1 h windows).
        let mut c = compactor(&vs, 1);
        let job = c.plan(false).unwrap().unwrap();
        let out = c.run(&job).unwrap();
        assert_eq!(c.install(job, out).unwrap(), Installed::Done);
        let v = vs.current();
        assert_eq!((v.layers[1].len(), v.layers[2].len()), (1, 1));
        assert_eq!(v.layers[2][0].table.stats().max_ts, 0);
        assert!(c.plan(false).unwrap().is_none(), "within limits");
    }

    /// Stopping (shutdown): no new job is planned, and a job already planned is abandoned
    /// with its outputs removed and the catalog unchanged.
    #[test]
    fn a_stopped_compactor_plans_nothing_and_abandons_its_job() {
        let dir = tempfile::tempdir().unwrap();
        let vs = Arc::new(VersionSet::open(dir.path()).unwrap());
        add_table(&vs, 0, 1, &[(0, 1.0), (2 * H, 2.0)]);
        add_table(&vs, 0, 2, &[(10, 2.0)]);
        let files = |vs: &VersionSet| std::fs::read_dir(vs.dir().join("sst")).unwrap().count();
        let before = files(&vs);
        let mut c = compactor(&vs, 0);
        let job = c.plan(false).unwrap().unwrap();
        c.stop.store(true, Ordering::Release);
        assert!(c.plan(false).unwrap().is_none(), "no new job once stopping");
        assert!(matches!(c.run_job(&job), Err(Error::CompactionStopped)));
        let out = c.run(&job).unwrap();
        assert_eq!(c.install(job, out).unwrap(), Installed::Conflict);
        assert_eq!(files(&vs), before, "no output left behind");
        assert_eq!(vs.current().layers[0].len(), 2, "catalog unchanged");
        assert!(vs.current().layers[1].is_empty());
    }

    #[test]
    fn merges_drop_points_past_the_retention_cutoff() {
        let dir = tempfile::tempdir().unwrap();
        let vs = Arc::new(VersionSet::open(dir.path()).unwrap());
        let now = now_ns();
        let recent = now - H / 4; // inside the 1 h retention
        let old = recent - 3 * H; // past it
        add_table(&vs, 0, 1, &[(old, 1.0), (recent, 2.0)]);
        add_table(&vs, 0, 2, &[(old + 1, 3.0)]);
        let mut c = compactor(&vs, 0);
        c.retention.lock().unwrap().duration = H;
        let job = c.plan(false).unwrap().unwrap();
        let out = c.run(&job).unwrap();
        assert_eq!(c.install(job, out).unwrap(), Installed::Done);
        let v = vs.current();
        assert!(v.layers[0].is_empty());
        assert_eq!(
            v.layers[1].len(),
            1,
            "only the window with unexpired points is written"
        );
        let col = v.layers[1][0]
            .table
            .read_range(1, "v", i64::MIN, i64::MAX)
            .unwrap()
            .unwrap();
        assert_eq!(col.timestamps, vec![recent]);
        assert_eq!(col.values, Values::Float(vec![2.0]));

        // Without a retention policy the same merge keeps everything.
        let dir = tempfile::tempdir().unwrap();
        let vs = Arc::new(VersionSet::open(dir.path()).unwrap());
        add_table(&vs, 0, 1, &[(old, 1.0), (recent, 2.0)]);
        add_table(&vs, 0, 2, &[(old + 1, 3.0)]);
        let mut c = compactor(&vs, 0);
        let job = c.plan(false).unwrap().unwrap();
        let out = c.run(&job).unwrap();
        assert_eq!(c.install(job, out).unwrap(), Installed::Done);
        let points: usize = vs.current().layers[1]
            .iter()
            .map(|t| t.table.stats().points as usize)
            .sum();
        assert_eq!(points, 3);
    }
}
