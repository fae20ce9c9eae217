//! The storage actors of one database (WAL writer → memtable → flusher → compactors C0..C7),
//! wired on bounded crossbeam mailboxes, and the adapters that plug strata's WAL, memtables,
//! tables and catalog into the protocol loops of `strata-actors`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;

use strata_actors::compactor::{run_compactor, CompactMsg, StallGate};
use strata_actors::flusher::{run_flusher, FlushSink};
use strata_actors::memtable::{run_memtable, FlushMsg, MemStore};
use strata_actors::wal_writer::{run_wal_writer, Log, MemMsg, WalMsg};
use strata_actors::{ActorError, Health};

use super::Stats;
use crate::compaction::{CompactionCounters, LayerCompactor, PauseGate};
use crate::config::Config;
use crate::error::{Error, IoContext, Result};
use crate::manifest::sync_dir_with;
use crate::memtable::Memtable;
use crate::retention::RetentionPolicy;
use crate::retry::BackgroundRetry;
use crate::series::SeriesIndex;
use crate::sstable::{Table, TableWriter};
use crate::types::{SeqNo, WriteBatch};
use crate::version::{TableHandle, TableRef, VersionSet, LAYERS};
use crate::wal::{Wal, WalTrimmer};

/// What the WAL writer's mailbox carries: write batches, failing with strata's own error.
pub(super) type WalMail = WalMsg<WriteBatch, Arc<Error>>;
/// What a compactor's mailbox carries.
pub(super) type CompactMail = CompactMsg<Arc<Error>>;

/// Capacity of the WAL writer's mailbox (write requests waiting for a group commit).
const WAL_MAILBOX: usize = 256;
/// Capacity of the memtable actor's mailbox (committed batches waiting to be applied).
const MEMTABLE_MAILBOX: usize = 4;
/// Capacity of each compactor's mailbox (nudges coalesce: one queued message is enough).
const COMPACTOR_MAILBOX: usize = 2;

/// A switch that holds the flusher before it writes its next table: for operators who need to
/// pause background I/O, and for tests that show backpressure.
#[derive(Default)]
pub struct FlushGate {
    paused: Mutex<bool>,
    cv: Condvar,
}

impl FlushGate {
    pub fn set_paused(&self, paused: bool) {
        *self.paused.lock().unwrap_or_else(|p| p.into_inner()) = paused;
        self.cv.notify_all();
    }

    fn wait_open(&self) {
        let mut g = self.paused.lock().unwrap_or_else(|p| p.into_inner());
        while *g {
            g = self.cv.wait(g).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// What the actors of one database share with it, recovered by
/// [`Database::open`](super::Database::open).
pub(super) struct Setup<'a> {
    /// The database's name: the actor threads are named after it.
    pub name: &'a str,
    pub config: &'a Config,
    /// The catalog the memtable actor, the flusher and the compactors edit.
    pub versions: &'a Arc<VersionSet>,
    /// The series index a flush reads series keys from.
    pub index: &'a Arc<SeriesIndex>,
    /// Deletes the WAL segments a flush has made redundant.
    pub trimmer: &'a WalTrimmer,
    /// The retention policy the compactors drop expired data by.
    pub retention: &'a Arc<Mutex<RetentionPolicy>>,
    /// Where the WAL writer counts its syncs.
    pub stats: &'a Arc<Stats>,
}

/// The running actors of one database: the mailboxes it sends to, their threads, and the
/// switches it shares with them (see the fields of [`Database`](super::Database)).
pub(super) struct Running {
    /// The WAL writer's mailbox: the front door of every write and flush.
    pub wal_tx: crossbeam_channel::Sender<WalMail>,
    /// C0's mailbox (barriers); every later layer's sender is held by the layer before it.
    pub compact_tx: crossbeam_channel::Sender<CompactMail>,
    /// Every actor thread, joined at close.
    pub threads: Vec<JoinHandle<()>>,
    pub health: Health<Arc<Error>>,
    pub gate: Arc<FlushGate>,
    pub compaction: Arc<CompactionCounters>,
    pub compaction_pause: Arc<PauseGate>,
    pub closing: Arc<AtomicBool>,
    pub stop_compaction: Arc<AtomicBool>,
    pub stall: Arc<StallGate>,
}

/// Start the actors of a recovered database: the WAL writer (appending `wal`, numbering from
/// `next_seqno`), the memtable actor, the flusher and one compactor per layer, each on its own
/// thread, each compactor's mailbox holding one nudge (debt left by an earlier run).
pub(super) fn start(setup: Setup<'_>, wal: Wal, next_seqno: SeqNo) -> Result<Running> {
    let wal = WalLog {
        wal,
        stats: setup.stats.clone(),
    };
    let gate = Arc::new(FlushGate::default());
    let health = Health::new();
    let closing = Arc::new(AtomicBool::new(false));
    let stop_compaction = Arc::new(AtomicBool::new(false));
    let (wal_tx, wal_rx) = crossbeam_channel::bounded::<WalMail>(WAL_MAILBOX);
    let (mem_tx, mem_rx) =
        crossbeam_channel::bounded::<MemMsg<WriteBatch, Arc<Error>>>(MEMTABLE_MAILBOX);
    let (flush_tx, flush_rx) = crossbeam_channel::bounded::<FlushMsg<Arc<Memtable>, Arc<Error>>>(
        setup.config.get_max_frozen_memtables(),
    );
    let mut threads = Vec::new();
    {
        let health2 = health.clone();
        let batch_max = setup.config.get_wal_batch_max_bytes();
        threads.push(spawn_actor(
            format!("wal-{}", setup.name),
            health.clone(),
            move || run_wal_writer(wal, wal_rx, mem_tx, health2, next_seqno, batch_max),
        )?);
    }
    {
        let store = ActiveMemtable {
            versions: setup.versions.clone(),
            threshold: setup.config.get_memtable_size_bytes(),
        };
        threads.push(spawn_actor(
            format!("mem-{}", setup.name),
            health.clone(),
            move || run_memtable(store, mem_rx, flush_tx),
        )?);
    }
    // Compactors C0..C7: each mailbox gets one nudge now (debt left by an earlier run).
    let compaction = Arc::new(CompactionCounters::default());
    let compaction_pause = Arc::new(PauseGate::default());
    let stall = Arc::new(StallGate::new());
    let mut boxes = Vec::with_capacity(LAYERS);
    for _ in 0..LAYERS {
        let (tx, rx) = crossbeam_channel::bounded::<CompactMail>(COMPACTOR_MAILBOX);
        let _ = tx.try_send(CompactMsg::Nudge);
        boxes.push((tx, rx));
    }
    let compact_tx = boxes[0].0.clone();
    {
        let sink = Flusher {
            versions: setup.versions.clone(),
            index: setup.index.clone(),
            trimmer: setup.trimmer.clone(),
            gate: gate.clone(),
            c0: compact_tx.clone(),
            stall: stall.clone(),
            c0_limit: setup.config.get_layer_max_tables(0),
            counters: compaction.clone(),
            retry: BackgroundRetry::new(closing.clone()),
            stop_compaction: stop_compaction.clone(),
        };
        let health2 = health.clone();
        threads.push(spawn_actor(
            format!("flush-{}", setup.name),
            health.clone(),
            move || run_flusher(sink, flush_rx, health2),
        )?);
    }
    let receivers: Vec<_> = boxes.iter().map(|(_, rx)| rx.clone()).collect();
    let mut nexts: Vec<Option<crossbeam_channel::Sender<CompactMail>>> = boxes
        .iter()
        .skip(1)
        .map(|(tx, _)| Some(tx.clone()))
        .collect();
    nexts.push(None);
    // Only the layer before each compactor (and the database, for C0) may hold its sender:
    // a mailbox closes when the layer before it stops (ordered shutdown).
    drop(boxes);
    for (layer, (inbox, next)) in receivers.into_iter().zip(nexts).enumerate() {
        let io = LayerCompactor {
            layer,
            versions: setup.versions.clone(),
            config: setup.config.clone(),
            counters: compaction.clone(),
            pause: compaction_pause.clone(),
            retention: setup.retention.clone(),
            retry: BackgroundRetry::new(closing.clone()),
            stop: stop_compaction.clone(),
        };
        let health2 = health.clone();
        let stall = (layer == 0).then(|| stall.clone());
        threads.push(spawn_actor(
            format!("compact{layer}-{}", setup.name),
            health.clone(),
            move || {
                lower_thread_priority();
                run_compactor(io, inbox, next, health2, stall)
            },
        )?);
    }
    Ok(Running {
        wal_tx,
        compact_tx,
        threads,
        health,
        gate,
        compaction,
        compaction_pause,
        closing,
        stop_compaction,
        stall,
    })
}

/// The WAL as the WAL writer actor uses it.
struct WalLog {
    wal: Wal,
    stats: Arc<Stats>,
}

impl Log<WriteBatch> for WalLog {
    type Error = Arc<Error>;
    fn append(&mut self, seqno: SeqNo, payload: &WriteBatch) -> Result<(), Arc<Error>> {
        self.wal.append(seqno, payload).map_err(Arc::new)
    }
    fn sync(&mut self) -> Result<(), Arc<Error>> {
        self.stats.wal_syncs.fetch_add(1, Ordering::Relaxed);
        self.wal.sync().map_err(Arc::new)
    }
}

struct ActiveMemtable {
    versions: Arc<VersionSet>,
    threshold: usize,
}

impl MemStore<WriteBatch> for ActiveMemtable {
    type Frozen = Arc<Memtable>;
    type Error = Arc<Error>;
    fn apply(&mut self, seqno: SeqNo, payload: &WriteBatch) -> Result<(), Arc<Error>> {
        self.versions.current().active.apply(seqno, payload);
        Ok(())
    }
    fn is_empty(&self) -> bool {
        self.versions.current().active.is_empty()
    }
    fn should_freeze(&self) -> bool {
        self.versions.current().active.bytes() >= self.threshold
    }
    fn freeze(&mut self) -> Arc<Memtable> {
        self.versions.freeze_active()
    }
}

struct Flusher {
    versions: Arc<VersionSet>,
    index: Arc<SeriesIndex>,
    trimmer: WalTrimmer,
    gate: Arc<FlushGate>,
    /// Nudged after every install.
    c0: crossbeam_channel::Sender<CompactMail>,
    /// Where flushes wait while C0 holds more than `2 * c0_limit` tables.
    stall: Arc<StallGate>,
    c0_limit: usize,
    counters: Arc<CompactionCounters>,
    retry: BackgroundRetry,
    /// Compaction is stopping (shutdown): flush without waiting for C0.
    stop_compaction: Arc<AtomicBool>,
}

/// Write a frozen memtable as a table file (fsync file and directory). On failure the partial
/// file (logged pending, so garbage by construction) is removed, best effort.
pub(super) fn write_memtable_file(
    versions: &VersionSet,
    index: &SeriesIndex,
    frozen: &Memtable,
) -> Result<Option<TableRef>> {
    if frozen.is_empty() {
        return Ok(None);
    }
    let (file, path) = versions.new_table()?;
    let written = (|| {
        let mut writer = TableWriter::create_with(versions.io().clone(), &path)?;
        frozen.for_each_run(|series, field, column| {
            let key = index
                .get(series)
                .map(|info| info.key.clone())
                .ok_or(Error::SeriesNotIndexed { series })?;
            writer.add(series, &key, field, column)
        })?;
        writer.set_provenance(crate::sstable::Provenance {
            layer: 0,
            min_seq: frozen.min_seqno(),
            max_seq: frozen.max_seqno(),
        });
        writer.finish()?;
        if let Some(dir) = path.parent() {
            sync_dir_with(versions.io().as_ref(), dir)?;
        }
        Table::open(&path)
    })();
    let table = match written {
        Ok(table) => table,
        Err(error) => {
            let _ = versions.io().remove(&path);
            return Err(error);
        }
    };
    Ok(Some(versions.table_ref(TableHandle::new(
        file,
        0,
        frozen.min_seqno(),
        frozen.max_seqno(),
        table,
    ))))
}

impl FlushSink<Arc<Memtable>> for Flusher {
    type Table = TableRef;
    type Error = Arc<Error>;
    fn write_frozen(&mut self, frozen: &Arc<Memtable>) -> Result<Option<TableRef>, Arc<Error>> {
        self.gate.wait_open();
        // Compaction backpressure: while C0 holds more than twice its limit, wait for the C0
        // compactor (the frozen memtables queue up behind us and writers block).
        let versions = &self.versions;
        let bound = self.c0_limit.saturating_mul(2);
        let stopping = &self.stop_compaction;
        let too_many =
            || !stopping.load(Ordering::Acquire) && versions.current().layers[0].len() > bound;
        if too_many() {
            // Counted when the stall starts, so the metric shows a flusher waiting right now.
            self.counters.flush_stalls.fetch_add(1, Ordering::Relaxed);
            let waits = self.stall.wait_while(too_many);
            tracing::debug!(waits, "flush waited for C0 compaction");
        }
        write_memtable_file(&self.versions, &self.index, frozen).map_err(|error| {
            self.retry.report("flush", &error);
            Arc::new(error)
        })
    }
    fn install(
        &mut self,
        frozen: &Arc<Memtable>,
        table: Option<TableRef>,
    ) -> Result<SeqNo, Arc<Error>> {
        // On failure the table stays on disk: the manifest edit may have reached it (a failed
        // fsync says nothing), so only the next open, which reads the manifest, may delete it.
        let flushed = self
            .versions
            .install_flush(frozen, table)
            .map_err(|error| {
                self.retry.report("flush (manifest edit)", &error);
                Arc::new(error)
            })?;
        // Idempotent: a full mailbox already holds a message that makes C0 re-plan.
        let _ = self.c0.try_send(CompactMsg::Nudge);
        Ok(flushed)
    }
    fn trim_wal(&mut self, flushed: SeqNo) -> Result<(), Arc<Error>> {
        self.trimmer.trim(flushed).map(|_| ()).map_err(|error| {
            self.retry.report("WAL trim", &error);
            Arc::new(error)
        })
    }
    fn retry_after(&mut self, failures: u32, error: &Arc<Error>) -> Option<std::time::Duration> {
        self.retry.after(failures, error)
    }
}

fn spawn_actor(
    name: String,
    health: Health<Arc<Error>>,
    f: impl FnOnce() + Send + 'static,
) -> Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            if catch_unwind(AssertUnwindSafe(f)).is_err() {
                tracing::error!(actor = %name, "actor panicked; database poisoned");
                health.poison(ActorError::Panicked { actor: name });
            }
        })
        .ctx(|| "spawn actor thread".to_string())
}

/// How many nice levels compactor threads run below the thread that opened the database
/// (Linux clamps the result at 19): writes, flushes and queries win the CPU over background
/// compaction, which catches up when they leave it idle (the flush stall still bounds how far
/// C0 falls behind).
pub const COMPACTION_NICE: i32 = 10;

/// Lower the calling thread's scheduling priority by [`COMPACTION_NICE`] levels. Best effort:
/// where the platform has no per-thread nice value the thread keeps its priority.
fn lower_thread_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: nice(2) reads only its integer argument and touches no memory of this
        // process. On Linux a nice value belongs to a thread and glibc's nice() changes the
        // calling thread's (getpriority/setpriority with PRIO_PROCESS and who = 0, which name
        // the calling thread), so no other thread's priority changes (tested by
        // `compactor_threads_run_at_compaction_nice`). Raising the nice value needs no
        // privilege; its return value (-1 is both an error and a valid value) is not needed.
        let _ = unsafe { libc::nice(COMPACTION_NICE) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::database::Database;

    /// The nice value in a /proc `stat` line: field 19, the 17th after the parenthesised name
    /// (which may hold spaces).
    #[cfg(target_os = "linux")]
    fn nice_in_stat(stat: &str) -> i32 {
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        rest.split(' ').nth(16).unwrap().parse().unwrap()
    }

    /// (thread name, nice value) of every thread of this process, from /proc.
    #[cfg(target_os = "linux")]
    fn thread_nices() -> Vec<(String, i32)> {
        let mut out = Vec::new();
        for e in std::fs::read_dir("/proc/self/task").unwrap() {
            let dir = e.unwrap().path();
            let (Ok(comm), Ok(stat)) = (
                std::fs::read_to_string(dir.join("comm")),
                std::fs::read_to_string(dir.join("stat")),
            ) else {
                continue; // the thread ended meanwhile
            };
            out.push((comm.trim().to_string(), nice_in_stat(&stat)));
        }
        out
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn compactor_threads_run_at_compaction_nice() {
        // Relative to this thread's own (the suite may run under `nice`).
        let base = nice_in_stat(&std::fs::read_to_string("/proc/thread-self/stat").unwrap());
        let lowered = (base + COMPACTION_NICE).min(19);
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("nicedb", dir.path(), &crate::Config::new()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let all = thread_nices();
            let ours: Vec<&(String, i32)> =
                all.iter().filter(|(n, _)| n.ends_with("-nicedb")).collect();
            let compactors: Vec<i32> = ours
                .iter()
                .filter(|(n, _)| n.starts_with("compact"))
                .map(|&(_, nice)| *nice)
                .collect();
            // A listing of /proc/self/task taken while other tests start and end threads may
            // miss one: sample again until every actor thread of this database is seen.
            if ours.len() == LAYERS + 3
                && compactors.len() == LAYERS
                && compactors.iter().all(|&n| n == lowered)
            {
                // Only the compactors: the WAL writer, memtable and flusher keep the default.
                for (n, nice) in &ours {
                    if !n.starts_with("compact") {
                        assert_eq!(*nice, base, "{n} was lowered too");
                    }
                }
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "not every actor thread seen, or compactor threads not at nice {lowered}: {ours:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        d.close().unwrap();
    }
}
