//! In-memory stand-ins for the actors' I/O, built on the sync facade so loom sees every access.
//!
//! * [`FakeLog`]: a WAL that records which seqnos were appended and up to which one it is synced.
//! * [`SyncCheckedStore`]: a memtable that refuses (panics on) records not yet synced.
//! * [`LsmVersion`] / [`LsmStore`] / [`LsmSink`]: active memtable, frozen memtables and tables
//!   published the way production publishes them: one [`VersionCell`] swapped atomically, the
//!   flush installed with [`VersionCell::install_flush`].

use strata_actors::catalog::{FlushEdit, ReplaceEdit, VersionCell};
use strata_actors::compactor::{CompactIo, Installed, StallGate};
use strata_actors::flusher::FlushSink;
use strata_actors::memtable::MemStore;
use strata_actors::sync::{self, Arc, Mutex};
use strata_actors::wal_writer::{Log, SeqNo};

/// What the fake log holds.
#[derive(Default, Debug)]
pub struct LogState {
    pub appended: Vec<SeqNo>,
    /// Every seqno at or below this is durable (0: nothing is).
    pub synced: SeqNo,
    pub syncs: usize,
}

/// A WAL in memory; clones share one [`LogState`].
#[derive(Clone, Default)]
pub struct FakeLog(pub Arc<Mutex<LogState>>);

impl FakeLog {
    pub fn new() -> Self {
        FakeLog(Arc::new(Mutex::new(LogState::default())))
    }
    pub fn synced(&self) -> SeqNo {
        sync::lock(&self.0).synced
    }
    pub fn appended(&self) -> Vec<SeqNo> {
        sync::lock(&self.0).appended.clone()
    }
}

impl<P> Log<P> for FakeLog {
    type Error = String;
    fn append(&mut self, seqno: SeqNo, _payload: &P) -> Result<(), String> {
        sync::lock(&self.0).appended.push(seqno);
        Ok(())
    }
    fn sync(&mut self) -> Result<(), String> {
        let mut st = sync::lock(&self.0);
        st.synced = st.appended.last().copied().unwrap_or(st.synced);
        st.syncs += 1;
        Ok(())
    }
}

/// A memtable that checks, on every apply, that the record is already durable in `log`, and
/// records the order of applies (which is the order of acknowledgements).
pub struct SyncCheckedStore {
    pub log: FakeLog,
    pub applied: Arc<Mutex<Vec<SeqNo>>>,
    pending: usize,
}

impl SyncCheckedStore {
    pub fn new(log: FakeLog) -> Self {
        SyncCheckedStore {
            log,
            applied: Arc::new(Mutex::new(Vec::new())),
            pending: 0,
        }
    }
}

impl<P> MemStore<P> for SyncCheckedStore {
    type Frozen = usize;
    type Error = String;
    fn apply(&mut self, seqno: SeqNo, _payload: &P) -> Result<(), String> {
        let synced = self.log.synced();
        assert!(
            seqno <= synced,
            "record {seqno} applied (and about to be acked) before the WAL sync covering it \
             (synced up to {synced})"
        );
        sync::lock(&self.applied).push(seqno);
        self.pending += 1;
        Ok(())
    }
    fn is_empty(&self) -> bool {
        self.pending == 0
    }
    fn should_freeze(&self) -> bool {
        false
    }
    fn freeze(&mut self) -> usize {
        std::mem::take(&mut self.pending)
    }
}

// ---------------------------------------------------------------------------------------------
// LSM state published as one version

/// A memtable: mutated in place (under a short lock) while active, immutable once frozen.
#[derive(Default)]
pub struct Mem {
    pub points: Mutex<Vec<SeqNo>>,
}

impl Mem {
    pub fn points(&self) -> Vec<SeqNo> {
        sync::lock(&self.points).clone()
    }
}

/// A table (an immutable file's contents) and the compaction layer it sits in.
pub struct Table {
    pub points: Vec<SeqNo>,
    pub layer: usize,
}

/// What data exists: the `Version` of the engine, in miniature.
#[derive(Clone)]
pub struct LsmVersion {
    pub active: Arc<Mem>,
    pub frozen: Vec<(u64, Arc<Mem>)>,
    pub tables: Vec<Arc<Table>>,
}

impl LsmVersion {
    pub fn empty() -> Self {
        LsmVersion {
            active: Arc::new(Mem::default()),
            frozen: Vec::new(),
            tables: Vec::new(),
        }
    }

    /// How many times `seqno` is visible in this snapshot (active, frozen and tables together).
    pub fn count(&self, seqno: SeqNo) -> usize {
        let mut n = self.active.points().iter().filter(|&&s| s == seqno).count();
        for (_, m) in &self.frozen {
            n += m.points().iter().filter(|&&s| s == seqno).count();
        }
        for t in &self.tables {
            n += t.points.iter().filter(|&&s| s == seqno).count();
        }
        n
    }

    /// Every point in tables.
    pub fn in_tables(&self) -> Vec<SeqNo> {
        let mut v: Vec<SeqNo> = self
            .tables
            .iter()
            .flat_map(|t| t.points.iter().copied())
            .collect();
        v.sort_unstable();
        v
    }
}

impl FlushEdit for LsmVersion {
    type FrozenId = u64;
    type Table = Arc<Table>;
    fn without_frozen(&self, id: &u64) -> Self {
        LsmVersion {
            active: self.active.clone(),
            frozen: self
                .frozen
                .iter()
                .filter(|(f, _)| f != id)
                .cloned()
                .collect(),
            tables: self.tables.clone(),
        }
    }
    fn with_table(&self, table: Arc<Table>) -> Self {
        let mut tables = self.tables.clone();
        tables.push(table);
        LsmVersion {
            active: self.active.clone(),
            frozen: self.frozen.clone(),
            tables,
        }
    }
}

/// Assert that a reader of the current version sees each of `acked` exactly once.
pub fn assert_each_visible_once(cell: &VersionCell<LsmVersion>, acked: &[SeqNo]) {
    let v = cell.current();
    for &s in acked {
        let n = v.count(s);
        assert_eq!(
            n, 1,
            "acknowledged point {s} is visible {n} times in a reader's version"
        );
    }
}

/// The memtable actor's store: applies into the active memtable of the published version and
/// freezes by publishing a version where it is frozen and a fresh one is active.
pub struct LsmStore {
    pub cell: Arc<VersionCell<LsmVersion>>,
    active: Arc<Mem>,
    next_id: u64,
    /// Freeze once the active memtable holds this many points.
    pub freeze_at: usize,
}

impl LsmStore {
    pub fn new(cell: Arc<VersionCell<LsmVersion>>, freeze_at: usize) -> Self {
        let active = cell.current().active.clone();
        LsmStore {
            cell,
            active,
            next_id: 1,
            freeze_at,
        }
    }
}

/// A frozen memtable on its way to the flusher.
pub struct FrozenMem {
    pub id: u64,
    pub mem: Arc<Mem>,
}

impl<P> MemStore<P> for LsmStore {
    type Frozen = FrozenMem;
    type Error = String;
    fn apply(&mut self, seqno: SeqNo, _payload: &P) -> Result<(), String> {
        sync::lock(&self.active.points).push(seqno);
        Ok(())
    }
    fn is_empty(&self) -> bool {
        sync::lock(&self.active.points).is_empty()
    }
    fn should_freeze(&self) -> bool {
        sync::lock(&self.active.points).len() >= self.freeze_at
    }
    fn freeze(&mut self) -> FrozenMem {
        let id = self.next_id;
        self.next_id += 1;
        let fresh = Arc::new(Mem::default());
        let old = std::mem::replace(&mut self.active, fresh.clone());
        let frozen = old.clone();
        self.cell.edit(move |v| {
            let mut next = v.clone();
            next.active = fresh;
            next.frozen.push((id, frozen));
            (next, ())
        });
        FrozenMem { id, mem: old }
    }
}

/// The flusher's I/O: "writes" a table from the frozen memtable and installs it.
pub struct LsmSink {
    pub cell: Arc<VersionCell<LsmVersion>>,
    /// Highest seqno trimmed from the WAL.
    pub trimmed: Arc<Mutex<SeqNo>>,
}

impl LsmSink {
    pub fn new(cell: Arc<VersionCell<LsmVersion>>) -> Self {
        LsmSink {
            cell,
            trimmed: Arc::new(Mutex::new(0)),
        }
    }
}

impl FlushSink<FrozenMem> for LsmSink {
    type Table = Arc<Table>;
    type Error = String;
    fn write_frozen(&mut self, frozen: &FrozenMem) -> Result<Option<Arc<Table>>, String> {
        let points = frozen.mem.points();
        if points.is_empty() {
            return Ok(None);
        }
        Ok(Some(Arc::new(Table { points, layer: 0 })))
    }
    fn install(&mut self, frozen: &FrozenMem, table: Option<Arc<Table>>) -> Result<SeqNo, String> {
        self.cell.install_flush(&frozen.id, table);
        Ok(self.cell.current().in_tables().last().copied().unwrap_or(0))
    }
    fn trim_wal(&mut self, flushed: SeqNo) -> Result<(), String> {
        let mut t = sync::lock(&self.trimmed);
        *t = (*t).max(flushed);
        Ok(())
    }
}

impl ReplaceEdit for LsmVersion {
    type Table = Arc<Table>;
    fn contains(&self, t: &Arc<Table>) -> bool {
        self.tables.iter().any(|x| Arc::ptr_eq(x, t))
    }
    fn replaced(&self, removed: &[Arc<Table>], added: Vec<Arc<Table>>) -> Self {
        let mut tables: Vec<Arc<Table>> = self
            .tables
            .iter()
            .filter(|t| !removed.iter().any(|r| Arc::ptr_eq(r, t)))
            .cloned()
            .collect();
        tables.extend(added);
        LsmVersion {
            active: self.active.clone(),
            frozen: self.frozen.clone(),
            tables,
        }
    }
}

impl LsmVersion {
    /// Tables of one layer.
    pub fn layer(&self, layer: usize) -> Vec<Arc<Table>> {
        self.tables
            .iter()
            .filter(|t| t.layer == layer)
            .cloned()
            .collect()
    }
}

/// One layer's compactor I/O over the published [`LsmVersion`]: over `limit` tables, merge the
/// whole layer with the next layer's tables (one window, in miniature) into one table of the
/// next layer, installed with [`VersionCell::replace`] like production.
pub struct LayerIo {
    pub cell: Arc<VersionCell<LsmVersion>>,
    pub layer: usize,
    pub limit: usize,
}

impl CompactIo for LayerIo {
    /// (inputs: this layer's and the next layer's tables)
    type Job = Vec<Arc<Table>>;
    type Output = Arc<Table>;
    type Error = String;
    fn plan(&mut self, force: bool) -> Result<Option<Vec<Arc<Table>>>, String> {
        let v = self.cell.current();
        let mine = v.layer(self.layer);
        if mine.len() <= if force { 0 } else { self.limit } {
            return Ok(None);
        }
        let mut inputs = mine;
        inputs.extend(v.layer(self.layer + 1));
        Ok(Some(inputs))
    }
    fn run(&mut self, job: &Vec<Arc<Table>>) -> Result<Arc<Table>, String> {
        let mut points: Vec<SeqNo> = job.iter().flat_map(|t| t.points.iter().copied()).collect();
        points.sort_unstable();
        points.dedup();
        Ok(Arc::new(Table {
            points,
            layer: self.layer + 1,
        }))
    }
    fn install(&mut self, job: Vec<Arc<Table>>, out: Arc<Table>) -> Result<Installed, String> {
        Ok(if self.cell.replace(&job, vec![out]) {
            Installed::Done
        } else {
            Installed::Conflict
        })
    }
}

/// The flusher's I/O with compaction backpressure and a nudge to C0, as in production: waits
/// on the [`StallGate`] while C0 holds more than `c0_bound` tables, nudges C0 after installing.
pub struct StallingSink<
    S: strata_actors::mailbox::Sender<strata_actors::compactor::CompactMsg<String>>,
> {
    pub inner: LsmSink,
    pub stall: Arc<StallGate>,
    pub c0_bound: usize,
    pub c0: S,
}

impl<S: strata_actors::mailbox::Sender<strata_actors::compactor::CompactMsg<String>>>
    FlushSink<FrozenMem> for StallingSink<S>
{
    type Table = Arc<Table>;
    type Error = String;
    fn write_frozen(&mut self, frozen: &FrozenMem) -> Result<Option<Arc<Table>>, String> {
        let cell = self.inner.cell.clone();
        let bound = self.c0_bound;
        self.stall
            .wait_while(|| cell.current().layer(0).len() > bound);
        self.inner.write_frozen(frozen)
    }
    fn install(&mut self, frozen: &FrozenMem, table: Option<Arc<Table>>) -> Result<SeqNo, String> {
        let r = self.inner.install(frozen, table)?;
        let _ = self
            .c0
            .try_send(strata_actors::compactor::CompactMsg::Nudge);
        Ok(r)
    }
    fn trim_wal(&mut self, flushed: SeqNo) -> Result<(), String> {
        self.inner.trim_wal(flushed)
    }
}
