//! One database: its series index, its catalog (`VersionSet`) and its storage actors
//! (WAL writer → memtable → flusher → compactors), wired on bounded crossbeam mailboxes.
//!
//! * [`open`](Database::open) (`open.rs`): recovery: catalog, WAL check, index, replay.
//! * `actors.rs`: the actors' wiring and the adapters between them and strata's storage.
//! * `write.rs`: the write path, from parsed points to an acknowledged WAL record.
//! * `stats.rs`: counters and statistics.
//! * here: the handle itself, flushes, compactions, retention and shutdown.

mod actors;
mod open;
mod stats;
mod write;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;

use strata_actors::compactor::{CompactMsg, StallGate};
use strata_actors::wal_writer::WalMsg;
use strata_actors::{oneshot, Done, Health, OneshotReceiver, OneshotSender};

use crate::compaction::{CompactionCounters, PauseGate};
use crate::config::Config;
use crate::error::{ActorFailure, Error, Result};
use crate::retention::{RetentionChange, RetentionPolicy};
use crate::series::SeriesIndex;
use crate::sstable::BlockCache;
use crate::version::VersionSet;
use crate::wal::WalTrimmer;

use actors::{CompactMail, WalMail};
pub use actors::{FlushGate, COMPACTION_NICE};
pub use stats::Stats;
pub use write::{now_ns, WriteOutcome};

/// One open database.
pub struct Database {
    name: String,
    dir: PathBuf,
    pub(crate) index: Arc<SeriesIndex>,
    pub(crate) versions: Arc<VersionSet>,
    wal_tx: Mutex<Option<crossbeam_channel::Sender<WalMail>>>,
    health: Health<Arc<Error>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    config: Config,
    gate: Arc<FlushGate>,
    stats: Arc<Stats>,
    trimmer: WalTrimmer,
    /// Held shared by every write from resolving its series until it is applied, and
    /// exclusively by deletes while they forget series (see [`Database::exclusive_writes`]).
    write_gate: RwLock<()>,
    /// The retention policy (stored in `DB/RETENTION`, see [`crate::retention`]).
    retention: Arc<Mutex<RetentionPolicy>>,
    /// Set by `DROP DATABASE`: writes answer "database not found".
    dropped: AtomicBool,
    /// The C0 compactor's mailbox (barriers); dropped at close, after the flusher's.
    compact_tx: Mutex<Option<crossbeam_channel::Sender<CompactMail>>>,
    compaction: Arc<CompactionCounters>,
    compaction_pause: Arc<PauseGate>,
    /// Query block reads go through it ([`Config::block_cache_bytes`]).
    block_cache: Arc<BlockCache>,
    /// Set by [`Database::close`]: background retries give up.
    closing: Arc<AtomicBool>,
    /// Set by [`Database::stop_compactions`]: compactors plan no new job and abandon a running
    /// one; the flusher no longer waits for C0.
    stop_compaction: Arc<AtomicBool>,
    /// Where the flusher waits while C0 is too far behind (woken when compaction stops).
    stall: Arc<StallGate>,
}

impl Database {
    /// The cache queries of this database read blocks through.
    pub fn block_cache(&self) -> &Arc<BlockCache> {
        &self.block_cache
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn index(&self) -> &Arc<SeriesIndex> {
        &self.index
    }

    pub fn versions(&self) -> &Arc<VersionSet> {
        &self.versions
    }

    /// Hold (or release) the flusher before its next table write.
    pub fn set_flush_paused(&self, paused: bool) {
        self.gate.set_paused(paused);
    }

    /// Hold (or release) every compactor before it plans its next job. While C0's compactor is
    /// held and C0 holds more than twice its limit, flushes wait and so do writers.
    pub fn set_compaction_paused(&self, paused: bool) {
        self.compaction_pause.set_paused(paused);
    }

    /// Wait until every compactor has finished the work queued so far (each layer within its
    /// limits, or stopped by a failure, which is returned).
    pub fn compact(&self) -> Result<()> {
        self.through_compactors(CompactMsg::Barrier)
    }

    /// Send a barrier-like message into C0's mailbox and wait for the last layer's answer.
    fn through_compactors(
        &self,
        msg: fn(OneshotSender<Done<Arc<Error>>>) -> CompactMail,
    ) -> Result<()> {
        let tx = self
            .compact_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::Closed)?;
        let (otx, orx) = oneshot();
        tx.send(msg(otx)).map_err(|_| Error::Closed)?;
        drop(tx);
        self.wait_done(orx, Error::CompactionFailed)
    }

    /// Wait for an actor's answer to a flush or a barrier; a failure is `step`'s error (or the
    /// poison reason, see [`Database::actor_error`]).
    fn wait_done(
        &self,
        answer: OneshotReceiver<Done<Arc<Error>>>,
        step: fn(ActorFailure) -> Error,
    ) -> Result<()> {
        match answer.recv() {
            Some(Ok(())) => Ok(()),
            Some(Err(failure)) => Err(self.actor_error(failure, step)),
            None => Err(Error::Closed),
        }
    }

    /// The error of an actor request that failed with `failure`: [`Error::Poisoned`] once the
    /// database is poisoned (nothing will succeed until a restart), else the failed `step`'s
    /// error ([`Error::WriteFailed`], [`Error::FlushFailed`], [`Error::CompactionFailed`]),
    /// which later requests may not meet.
    fn actor_error(&self, failure: ActorFailure, step: fn(ActorFailure) -> Error) -> Error {
        if self.health.is_poisoned() {
            Error::Poisoned(failure)
        } else {
            step(failure)
        }
    }

    /// A major compaction: flush the memtables, then move every table down the ladder, layer by
    /// layer, into the last layer (C7), merged per C7 window. Returns once the data acknowledged
    /// before the call is all in C7 (or the failure that stopped a compactor). Writes go on
    /// meanwhile; what they flush later starts again in C0. Costly: it rewrites every table once
    /// per layer it passes; it is for operators (like VictoriaMetrics' `/internal/force_merge`)
    /// and for measuring the smallest on-disk size.
    pub fn major_compact(&self) -> Result<()> {
        self.flush()?;
        self.through_compactors(CompactMsg::Force)
    }

    fn sender(&self) -> Result<crossbeam_channel::Sender<WalMail>> {
        self.wal_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::Closed)
    }

    /// The database's retention policy.
    pub fn retention(&self) -> RetentionPolicy {
        self.retention
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Change the retention policy (checked as InfluxDB 1.x does) and store it durably before
    /// it takes effect. Queries use the new duration at once.
    pub fn alter_retention(&self, change: &RetentionChange) -> Result<RetentionPolicy> {
        let mut rp = self.retention.lock().unwrap_or_else(|p| p.into_inner());
        let next = rp.with(change)?;
        if next != *rp {
            next.store(&self.dir, self.versions.io())?;
            tracing::info!(db = %self.name, duration = next.duration, "retention policy changed");
            *rp = next.clone();
        }
        Ok(next)
    }

    /// Oldest timestamp a query running at `now` may see (`None`: no retention limit).
    pub fn retention_cutoff(&self, now: i64) -> Option<i64> {
        self.retention
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .cutoff(now)
    }

    /// Mark the database dropped: from now on writes answer "database not found".
    pub(crate) fn mark_dropped(&self) {
        let _gate = self.exclusive_writes();
        self.dropped.store(true, Ordering::Release);
    }

    /// Freeze the active memtable and wait until everything acknowledged before this call is in
    /// a table.
    pub fn flush(&self) -> Result<()> {
        let tx = self.sender()?;
        let (otx, orx) = oneshot();
        tx.send(WalMsg::Flush(otx)).map_err(|_| Error::Closed)?;
        drop(tx);
        self.wait_done(orx, Error::FlushFailed)
    }

    /// Stop compacting, for a prompt [`Database::close`]: each compactor plans no new job and
    /// abandons a running one at its next (series, field) run (its outputs are logged pending
    /// and removed; the catalog is unchanged, so this is as safe as a crash between jobs), and
    /// the flusher stops waiting for C0 to shrink. Flushes, writes and queries go on; the
    /// compaction backlog is taken up again at the next open. There is no way back: it is for
    /// shutting down.
    pub fn stop_compactions(&self) {
        self.stop_compaction.store(true, Ordering::Release);
        // A flusher waiting for C0 re-checks (and no longer waits); held compactors go on to
        // find that they must stop.
        self.stall.notify();
        self.compaction_pause.set_paused(false);
    }

    /// Stop accepting writes, drain WAL → memtable → flusher → compactors C0..C7 (each stops
    /// when the one before it has; each finishes its layer's backlog first unless
    /// [`Database::stop_compactions`] was called), and join the actor threads.
    pub fn close(&self) -> Result<()> {
        // A flush or compaction failing now gives up instead of retrying: its data stays in the
        // WAL and the input tables.
        self.closing.store(true, Ordering::Release);
        let tx = self.wal_tx.lock().unwrap_or_else(|p| p.into_inner()).take();
        drop(tx);
        let ctx = self
            .compact_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        drop(ctx);
        let threads = std::mem::take(&mut *self.threads.lock().unwrap_or_else(|p| p.into_inner()));
        self.gate.set_paused(false);
        self.compaction_pause.set_paused(false);
        for t in threads {
            let _ = t.join();
        }
        self.health.check().map_err(Error::Poisoned)?;
        // The WAL writer has closed its last segment and the flusher has put everything in
        // tables: no segment is needed any more.
        self.trimmer.trim(self.versions.current().flushed_seqno)?;
        Ok(())
    }

    /// Whether a background failure has poisoned this database.
    pub fn health(&self) -> Result<(), ActorFailure> {
        self.health.check()
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
