//! One database: its series index, its catalog (`VersionSet`) and its storage actors
//! (WAL writer → memtable → flusher), wired on bounded crossbeam mailboxes.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, RwLock, RwLockWriteGuard};
use std::thread::JoinHandle;
use std::time::Instant;

use strata_actors::compactor::{run_compactor, CompactMsg, StallGate};
use strata_actors::flusher::{run_flusher, FlushSink};
use strata_actors::memtable::{run_memtable, FlushMsg, MemStore};
use strata_actors::wal_writer::{run_wal_writer, write_request, Log, MemMsg, WalMsg};
use strata_actors::{oneshot, ActorError, Done, Health, Sender, TrySendError};

use crate::cardinality::LimitExceeded;
use crate::compaction::{self, CompactionCounters, CompactionStats, LayerCompactor, PauseGate};
use crate::config::Config;
use crate::error::{ActorFailure, Error, IoContext, Result};
use crate::manifest::sync_dir_with;
use crate::memtable::Memtable;
use crate::retention::{RetentionChange, RetentionPolicy};
use crate::retry::BackgroundRetry;
use crate::series::SeriesIndex;
use crate::sstable::{BlockCache, Table, TableWriter};
use crate::types::{
    parse_series_key, FastHash, FieldType, FieldValue, NewSeries, ParsedPoint, Row, SeqNo,
    SeriesId, WriteBatch,
};
use crate::version::{TableHandle, TableRef, VersionSet, LAYERS};
use crate::wal::{OnCorrupt, Wal, WalTrimmer};

/// What the WAL writer's mailbox carries: write batches, failing with strata's own error.
type WalMail = WalMsg<WriteBatch, Arc<Error>>;
/// What a compactor's mailbox carries.
type CompactMail = CompactMsg<Arc<Error>>;

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

/// What a write accomplished.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct WriteOutcome {
    /// Field values written.
    pub points: usize,
    /// The WAL sequence number of the batch (0 if nothing was written).
    pub seqno: SeqNo,
}

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

/// Counters of one database's activity.
#[derive(Default, Debug)]
pub struct Stats {
    /// Group commits: WAL fsyncs.
    pub wal_syncs: AtomicU64,
    /// Write requests acknowledged.
    pub writes: AtomicU64,
    /// Field values written.
    pub points: AtomicU64,
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
fn write_memtable_file(
    versions: &VersionSet,
    index: &SeriesIndex,
    frozen: &Memtable,
) -> Result<Option<TableRef>> {
    if frozen.is_empty() {
        return Ok(None);
    }
    let (file, path) = versions.new_table()?;
    let written = (|| {
        let mut w = TableWriter::create_with(versions.io().clone(), &path)?;
        frozen.for_each_run(|series, field, col| {
            let key = index
                .get(series)
                .map(|s| s.key.clone())
                .ok_or(Error::SeriesNotIndexed { series })?;
            w.add(series, &key, field, col)
        })?;
        w.set_provenance(crate::sstable::Provenance {
            layer: 0,
            min_seq: frozen.min_seqno(),
            max_seq: frozen.max_seqno(),
        });
        w.finish()?;
        if let Some(dir) = path.parent() {
            sync_dir_with(versions.io().as_ref(), dir)?;
        }
        Table::open(&path)
    })();
    let table = match written {
        Ok(t) => t,
        Err(e) => {
            let _ = versions.io().remove(&path);
            return Err(e);
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

/// Freeze the active memtable and flush it on the calling thread (recovery, before the actors
/// start).
fn flush_active_now(versions: &VersionSet, index: &SeriesIndex) -> Result<()> {
    let frozen = versions.freeze_active();
    let table = write_memtable_file(versions, index, &frozen)?;
    versions.install_flush(&frozen, table)?;
    Ok(())
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
        write_memtable_file(&self.versions, &self.index, frozen).map_err(|e| {
            self.retry.report("flush", &e);
            Arc::new(e)
        })
    }
    fn install(
        &mut self,
        frozen: &Arc<Memtable>,
        table: Option<TableRef>,
    ) -> Result<SeqNo, Arc<Error>> {
        // On failure the table stays on disk: the manifest edit may have reached it (a failed
        // fsync says nothing), so only the next open, which reads the manifest, may delete it.
        let flushed = self.versions.install_flush(frozen, table).map_err(|e| {
            self.retry.report("flush (manifest edit)", &e);
            Arc::new(e)
        })?;
        // Idempotent: a full mailbox already holds a message that makes C0 re-plan.
        let _ = self.c0.try_send(CompactMsg::Nudge);
        Ok(flushed)
    }
    fn trim_wal(&mut self, flushed: SeqNo) -> Result<(), Arc<Error>> {
        self.trimmer.trim(flushed).map(|_| ()).map_err(|e| {
            self.retry.report("WAL trim", &e);
            Arc::new(e)
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

impl Database {
    /// Open (or create) the database stored in `dir`: catalog, series index, WAL replay, actors.
    /// Its queries read blocks through a cache of its own of `block_cache_bytes`; see
    /// [`Database::open_with_cache`] to share one.
    pub fn open(name: &str, dir: &Path, config: &Config) -> Result<Database> {
        let cache = Arc::new(BlockCache::new(config.get_block_cache_bytes()));
        Database::open_with_cache(name, dir, config, cache)
    }

    /// [`Database::open`] whose queries read blocks through `block_cache` (a [`Db`](crate::Db)
    /// shares one among its databases).
    pub fn open_with_cache(
        name: &str,
        dir: &Path,
        config: &Config,
        block_cache: Arc<BlockCache>,
    ) -> Result<Database> {
        config
            .get_file_io()
            .create_dir_all(dir)
            .ctx(|| format!("create {}", dir.display()))?;
        let retention = Arc::new(Mutex::new(RetentionPolicy::load(dir)?));
        // The catalog and the WAL are both checked before either changes a file: a damaged
        // WAL stops the open with the manifest untouched too.
        let catalog = VersionSet::load(dir, config.get_file_io())?;
        let (wal, replay) = Wal::open_with(
            &dir.join("wal"),
            config.get_wal_segment_bytes(),
            catalog.flushed_seqno(),
            if config.get_wal_skip_corrupt() {
                OnCorrupt::Skip
            } else {
                OnCorrupt::Fail
            },
            config.get_file_io(),
        )?;
        let versions = Arc::new(catalog.commit()?);
        let index = Arc::new(SeriesIndex::with_limits(config.get_cardinality_limits()));
        let v = versions.current();
        for t in v.tables_oldest_first() {
            for (id, key) in t.table.series() {
                index.insert_known(id, key);
                let (measurement, _) = parse_series_key(key);
                for (field, ft) in t.table.fields(id) {
                    index.insert_field(&measurement, field, ft);
                }
            }
        }

        if let Some(t) = &replay.truncated {
            tracing::warn!(
                db = name,
                segment = %t.segment.display(),
                offset = t.offset,
                bytes_cut = t.bytes_cut,
                reason = %t.reason,
                "WAL had a torn tail; it was cut"
            );
        }
        if !replay.skipped.is_empty() {
            tracing::warn!(
                db = name,
                records = replay.skipped.len(),
                bytes_skipped = replay.skipped.iter().map(|s| s.len).sum::<u64>(),
                "WAL replay skipped corrupt records (wal_skip_corrupt); see the warnings above"
            );
        }
        let gate = Arc::new(FlushGate::default());
        let trimmer = wal.trimmer();
        let mut replayed = 0usize;
        // Series first: a record that only names series (logged by a delete that removed every
        // table holding a series still in use by the memtable) may follow the rows using them.
        for (_, batch) in &replay.batches {
            for s in &batch.new_series {
                index.insert_known(s.id, &s.key);
            }
        }
        for (seqno, batch) in &replay.batches {
            for row in &batch.rows {
                if let Some(info) = index.get(row.series) {
                    for (f, val) in &row.fields {
                        index.insert_field(&info.measurement, f, val.field_type());
                    }
                }
            }
            let cur = versions.current();
            cur.active.apply(*seqno, batch);
            replayed += batch.point_count();
            if cur.active.bytes() >= config.get_memtable_size_bytes() {
                flush_active_now(&versions, &index)?;
            }
        }
        if replayed > 0 {
            tracing::info!(db = name, points = replayed, "replayed WAL");
        }
        // Anything replayed is already durable: put it in a table now so the WAL can be trimmed.
        let cur = versions.current();
        if !cur.active.is_empty() {
            flush_active_now(&versions, &index)?;
        }
        trimmer.trim(versions.current().flushed_seqno)?;
        let stats = Arc::new(Stats::default());
        let wal = WalLog {
            wal,
            stats: stats.clone(),
        };

        let health = Health::new();
        let closing = Arc::new(AtomicBool::new(false));
        let stop_compaction = Arc::new(AtomicBool::new(false));
        let (wal_tx, wal_rx) = crossbeam_channel::bounded::<WalMail>(WAL_MAILBOX);
        let (mem_tx, mem_rx) =
            crossbeam_channel::bounded::<MemMsg<WriteBatch, Arc<Error>>>(MEMTABLE_MAILBOX);
        let (flush_tx, flush_rx) = crossbeam_channel::bounded::<FlushMsg<Arc<Memtable>, Arc<Error>>>(
            config.get_max_frozen_memtables(),
        );
        let mut threads = Vec::new();
        let next_seqno = replay.last_seqno.max(versions.current().flushed_seqno) + 1;
        {
            let health2 = health.clone();
            let batch_max = config.get_wal_batch_max_bytes();
            threads.push(spawn_actor(
                format!("wal-{name}"),
                health.clone(),
                move || run_wal_writer(wal, wal_rx, mem_tx, health2, next_seqno, batch_max),
            )?);
        }
        {
            let store = ActiveMemtable {
                versions: versions.clone(),
                threshold: config.get_memtable_size_bytes(),
            };
            threads.push(spawn_actor(
                format!("mem-{name}"),
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
                versions: versions.clone(),
                index: index.clone(),
                trimmer: trimmer.clone(),
                gate: gate.clone(),
                c0: compact_tx.clone(),
                stall: stall.clone(),
                c0_limit: config.get_layer_max_tables(0),
                counters: compaction.clone(),
                retry: BackgroundRetry::new(closing.clone()),
                stop_compaction: stop_compaction.clone(),
            };
            let health2 = health.clone();
            threads.push(spawn_actor(
                format!("flush-{name}"),
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
                versions: versions.clone(),
                config: config.clone(),
                counters: compaction.clone(),
                pause: compaction_pause.clone(),
                retention: retention.clone(),
                retry: BackgroundRetry::new(closing.clone()),
                stop: stop_compaction.clone(),
            };
            let health2 = health.clone();
            let stall = (layer == 0).then(|| stall.clone());
            threads.push(spawn_actor(
                format!("compact{layer}-{name}"),
                health.clone(),
                move || {
                    lower_thread_priority();
                    run_compactor(io, inbox, next, health2, stall)
                },
            )?);
        }

        Ok(Database {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            index,
            versions,
            wal_tx: Mutex::new(Some(wal_tx)),
            health,
            threads: Mutex::new(threads),
            config: config.clone(),
            gate,
            stats,
            trimmer,
            write_gate: RwLock::new(()),
            retention,
            dropped: AtomicBool::new(false),
            compact_tx: Mutex::new(Some(compact_tx)),
            compaction,
            compaction_pause,
            block_cache,
            closing,
            stop_compaction,
            stall,
        })
    }

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
        msg: fn(strata_actors::OneshotSender<Done<Arc<Error>>>) -> CompactMail,
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
        match orx.recv() {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) if self.health.is_poisoned() => Err(Error::Poisoned(e)),
            Some(Err(e)) => Err(Error::CompactionFailed(e)),
            None => Err(Error::Closed),
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

    /// Per-layer compaction statistics: tables, bytes, points, compactions, bytes read and
    /// written, write amplification, debt.
    pub fn compaction_stats(&self) -> CompactionStats {
        compaction::stats(&self.versions.current(), &self.config, &self.compaction)
    }

    fn sender(&self) -> Result<crossbeam_channel::Sender<WalMail>> {
        self.wal_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or(Error::Closed)
    }

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
        let addr = |a: *const u8| a as usize;
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
        'points: for i in 0..points.len() {
            let p = points.get(i);
            let m = addr(Arc::as_ptr(&p.measurement).cast());
            for (f, v) in &p.fields {
                let k = (m, addr(Arc::as_ptr(f).cast()), v.field_type());
                if fields_ok.contains(&k) {
                    continue;
                }
                if let Err(e) = self.index.check_field(&p.measurement, f, v.field_type()) {
                    rejected.push((i, e));
                    continue 'points;
                }
                fields_ok.insert(k);
            }
            let key = (m, addr(Arc::as_ptr(&p.tags).cast()));
            let resolved = match series_of.get(&key) {
                Some(r) => r.clone(),
                None => {
                    let r = match self.index.resolve(p) {
                        Ok((id, new)) => {
                            if let Some(n) = new {
                                if logged.insert(n.id) {
                                    bytes += n.approx_bytes();
                                    batch.new_series.push(n);
                                }
                            }
                            Ok(id)
                        }
                        Err(limit) => Err(Arc::new(limit)),
                    };
                    series_of.insert(key, r.clone());
                    r
                }
            };
            let series = match resolved {
                Ok(id) => id,
                Err(limit) => {
                    rejected.push((i, Error::CardinalityLimit(limit)));
                    continue 'points;
                }
            };
            let timestamp = p.timestamp.unwrap_or(default_ts);
            let row = Row {
                series,
                timestamp,
                fields: points.fields(i),
            };
            bytes += row.approx_bytes();
            batch.rows.push(row);
        }
        if batch.rows.is_empty() {
            return Ok((WriteOutcome::default(), rejected));
        }
        let points_n = batch.point_count();
        let new_ids: Vec<u64> = batch.new_series.iter().map(|s| s.id).collect();
        let seqno = self.submit(batch, bytes)?;
        self.index.mark_durable(new_ids);
        self.stats.writes.fetch_add(1, Ordering::Relaxed);
        self.stats
            .points
            .fetch_add(points_n as u64, Ordering::Relaxed);
        Ok((
            WriteOutcome {
                points: points_n,
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
        reply.map_err(|e| {
            if self.health.is_poisoned() {
                Error::Poisoned(e)
            } else {
                Error::WriteFailed(e)
            }
        })
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
        match orx.recv() {
            Some(Ok(())) => Ok(()),
            Some(Err(e)) if self.health.is_poisoned() => Err(Error::Poisoned(e)),
            Some(Err(e)) => Err(Error::FlushFailed(e)),
            None => Err(Error::Closed),
        }
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

    /// Activity counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Write requests queued for the WAL writer now.
    pub fn pending_writes(&self) -> usize {
        self.wal_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(0, |t| t.len())
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        let _ = self.close();
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
            Points::Borrowed(p) => p.len(),
            Points::Fields(p) => p.len(),
        }
    }

    fn get(&self, i: usize) -> &ParsedPoint {
        match self {
            Points::Borrowed(p) => &p[i],
            Points::Fields(p) => &p[i],
        }
    }

    /// The fields of point `i` for its row.
    fn fields(&mut self, i: usize) -> Vec<(Arc<str>, FieldValue)> {
        match self {
            Points::Borrowed(p) => p[i].fields.clone(),
            Points::Fields(p) => std::mem::take(&mut p[i].fields),
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
            if compactors.len() == LAYERS && compactors.iter().all(|&n| n == lowered) {
                // Only the compactors: the WAL writer, memtable and flusher keep the default.
                for (n, nice) in &ours {
                    if !n.starts_with("compact") {
                        assert_eq!(*nice, base, "{n} was lowered too");
                    }
                }
                assert_eq!(ours.len(), LAYERS + 3, "{ours:?}");
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "compactor threads not at nice {lowered}: {ours:?}"
            );
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        d.close().unwrap();
    }

    /// CPU time (user + system) of the calling thread, from /proc.
    #[cfg(target_os = "linux")]
    fn thread_cpu() -> std::time::Duration {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        let rest = &stat[stat.rfind(')').unwrap() + 2..];
        let ticks: u64 = rest
            .split(' ')
            .skip(11)
            .take(2)
            .map(|x| x.parse::<u64>().unwrap())
            .sum();
        std::time::Duration::from_millis(ticks * 10) // USER_HZ: 100
    }

    /// Resolving the series of a body is O(1) amortized per point: the writer's thread spends
    /// about as much CPU on a body creating 100k series as on the same body once they exist
    /// (with the scan of the batch's new series per new one it was over 10 times as much).
    #[cfg(target_os = "linux")]
    #[test]
    fn a_body_of_new_series_is_resolved_in_linear_time() {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("lin", dir.path(), &crate::Config::new()).unwrap();
        let body: String = (0..100_000)
            .map(|i| format!("m,h=h{},k=k{} v=1i 1\n", i / 1000, i % 1000))
            .collect();
        let p = crate::lineproto::parse(&body, crate::lineproto::Precision::Nanosecond, 0, 1 << 16);
        let write = || {
            let t0 = thread_cpu();
            let (out, rejected) = d.write_points(&p.points, 0).unwrap();
            assert!(rejected.is_empty());
            assert_eq!(out.points, 100_000);
            thread_cpu() - t0
        };
        let new = write();
        let again = write();
        assert_eq!(d.index().series_count(), 100_000);
        let floor = std::time::Duration::from_millis(300);
        assert!(
            new <= again.max(floor) * 4,
            "creating the series took {new:?} of CPU, writing them again {again:?}"
        );
        d.close().unwrap();
    }

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
                let snap = crate::query::exec::Snapshot::new(d.versions().current());
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
