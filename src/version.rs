//! The catalog: which memtables and SSTables make up a database now ([`Version`]), and the
//! manifest log that makes table additions and removals durable.
//!
//! A `Version` is an immutable snapshot. Readers take an `Arc<Version>` and keep using it while
//! flushes and compactions publish newer ones; a table file is deleted only when it has been
//! removed from the catalog *and* the last version that references it is dropped (the file's
//! [`TableHandle`] is reference-counted and deletes its file on drop once marked obsolete).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use strata_actors::catalog::{Deleter, FileRef, FlushEdit, ReplaceEdit, VersionCell};

use crate::error::{Error, IoContext, Result};
use crate::file_io::FileIo;
use crate::manifest::{self, sync_dir_with, ManifestWriter};
pub use crate::manifest::{
    sync_dir, ManifestState, TableRecord, VersionEdit, VqTableRecord, LAYERS,
};
use crate::memtable::Memtable;
use crate::sstable::Table;
use crate::types::SeqNo;

/// One table file in the catalog.
pub struct TableHandle {
    pub file: u64,
    pub layer: usize,
    /// Lowest and highest WAL seqno whose data the table holds: newer tables win duplicates.
    pub min_seq: SeqNo,
    pub max_seq: SeqNo,
    pub table: Table,
    /// Set when the table is quarantined: its file was moved aside and the deleter must never
    /// delete it (see [`crate::quarantine`]).
    keep_file: AtomicBool,
}

impl TableHandle {
    pub fn new(file: u64, layer: usize, min_seq: SeqNo, max_seq: SeqNo, table: Table) -> Self {
        TableHandle {
            file,
            layer,
            min_seq,
            max_seq,
            table,
            keep_file: AtomicBool::new(false),
        }
    }

    /// Whether the file is kept whatever happens to the handle (a quarantined table).
    pub fn keeps_file(&self) -> bool {
        self.keep_file.load(Ordering::Acquire)
    }
}

/// Deletes table files once no version references them (the catalog protocol of
/// `strata_actors::catalog`, model-checked in `loom_tests/tests/catalog.rs`), through the
/// database's [`FileIo`]. A failed delete leaves a file the manifest calls removed: the next
/// open deletes it.
pub struct TableDeleter {
    io: Arc<dyn FileIo>,
}

impl Deleter<TableHandle> for TableDeleter {
    fn delete(&self, t: &TableHandle) {
        if t.keeps_file() {
            return;
        }
        let path = t.table.path();
        if let Err(e) = self.io.remove(path) {
            tracing::warn!(path = %path.display(), error = %e, "could not delete obsolete table");
        }
    }
}

/// A reference-counted table in a version: the file is deleted once it is marked obsolete and
/// the last version naming it is dropped.
pub type TableRef = FileRef<TableHandle, TableDeleter>;

/// An immutable snapshot of what data exists.
pub struct Version {
    pub active: Arc<Memtable>,
    /// Frozen memtables waiting for the flusher, oldest first.
    pub frozen: Vec<Arc<Memtable>>,
    /// Tables per layer.
    pub layers: Vec<Vec<TableRef>>,
    /// Every WAL record at or below this seqno is in a table.
    pub flushed_seqno: SeqNo,
}

impl Version {
    /// Tables ordered oldest data first (deepest layer first, then by seqno), so that a reader
    /// applying sources in this order, then frozen then active memtables, lets newer writes win.
    /// This is right because compaction keeps, for every timestamp, shallower layers newer than
    /// deeper ones (see the invariant in [`crate::compaction`]).
    pub fn tables_oldest_first(&self) -> Vec<TableRef> {
        let mut out = Vec::new();
        for layer in self.layers.iter().rev() {
            let mut l: Vec<TableRef> = layer.clone();
            l.sort_by_key(|t| t.max_seq);
            out.extend(l);
        }
        out
    }

    /// Memtables oldest first: frozen ones, then the active one.
    pub fn memtables_oldest_first(&self) -> Vec<Arc<Memtable>> {
        let mut v = self.frozen.clone();
        v.push(self.active.clone());
        v
    }

    pub fn table_count(&self) -> usize {
        self.layers.iter().map(|l| l.len()).sum()
    }
}

impl FlushEdit for Version {
    type FrozenId = Arc<Memtable>;
    type Table = TableRef;

    fn without_frozen(&self, frozen: &Arc<Memtable>) -> Version {
        Version {
            active: self.active.clone(),
            frozen: self
                .frozen
                .iter()
                .filter(|f| !Arc::ptr_eq(f, frozen))
                .cloned()
                .collect(),
            layers: self.layers.clone(),
            flushed_seqno: self.flushed_seqno.max(frozen.max_seqno()),
        }
    }

    fn with_table(&self, table: TableRef) -> Version {
        let mut layers = self.layers.clone();
        let layer = table.layer;
        layers[layer].push(table);
        Version {
            active: self.active.clone(),
            frozen: self.frozen.clone(),
            layers,
            flushed_seqno: self.flushed_seqno,
        }
    }
}

impl ReplaceEdit for Version {
    type Table = TableRef;

    fn contains(&self, t: &TableRef) -> bool {
        self.layers
            .get(t.layer)
            .is_some_and(|l| l.iter().any(|x| x.file == t.file))
    }

    fn replaced(&self, removed: &[TableRef], added: Vec<TableRef>) -> Version {
        let mut layers: Vec<Vec<TableRef>> = self
            .layers
            .iter()
            .map(|l| {
                l.iter()
                    .filter(|t| !removed.iter().any(|r| r.file == t.file))
                    .cloned()
                    .collect()
            })
            .collect();
        for t in added {
            let layer = t.layer;
            if let Some(l) = layers.get_mut(layer) {
                l.push(t);
            }
        }
        Version {
            active: self.active.clone(),
            frozen: self.frozen.clone(),
            layers,
            flushed_seqno: self.flushed_seqno,
        }
    }
}

/// Path of table `file` in a database directory.
pub fn table_path(db_dir: &Path, file: u64) -> PathBuf {
    db_dir.join("sst").join(format!("{file:08}.sst"))
}

/// Parse a table file name (`00000042.sst`) into its number.
pub fn table_number(name: &str) -> Option<u64> {
    let digits = name.strip_suffix(".sst")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Table files in `dir/sst`, by number.
pub fn list_tables(dir: &Path) -> Result<Vec<(u64, PathBuf)>> {
    let sst_dir = dir.join("sst");
    let mut out = Vec::new();
    let entries = match fs::read_dir(&sst_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(Error::io(format!("list {}", sst_dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.ctx(|| format!("list {}", sst_dir.display()))?;
        if let Some(n) = table_number(&entry.file_name().to_string_lossy()) {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// The live catalog of one database: the current version and the manifest.
pub struct VersionSet {
    dir: PathBuf,
    current: VersionCell<Version>,
    /// Held while changing the catalog: the manifest edit is appended (and fsynced) before the
    /// version that reflects it is published.
    manifest: Mutex<ManifestWriter>,
    next_file: AtomicU64,
    deleter: Arc<TableDeleter>,
    /// Table files allocated by [`VersionSet::new_table`] and not installed yet (logged as
    /// pending; carried into a new manifest when one replaces a failed one).
    pending: Mutex<BTreeSet<u64>>,
    /// Every write of the catalog and its tables goes through it.
    io: Arc<dyn FileIo>,
    /// The vq tables (changed only under the manifest lock, after their edit is durable).
    vq_tables: Mutex<BTreeMap<String, VqTableRecord>>,
}

/// What [`VersionSet::update_vq_table`] does to a vq table.
#[derive(Debug, Clone, PartialEq)]
pub enum VqChange {
    /// Nothing (no manifest edit).
    Keep,
    /// Create or replace the table.
    Set(VqTableRecord),
    /// Drop the table.
    Drop,
}

/// What the newest manifest of a database says, and which manifest files there are.
pub struct ManifestSummary {
    /// Every manifest file, oldest first.
    pub manifests: Vec<(u64, PathBuf)>,
    /// The newest manifest, replayed.
    pub state: ManifestState,
}

/// Replay the newest manifest of the database in `dir` (read-only: `strata inspect` uses it on
/// a database another process may have open). A database with no manifest yet replays as empty.
pub fn read_manifest(dir: &Path) -> Result<ManifestSummary> {
    let files = manifest::list(dir)?;
    let state = match files.manifests.last() {
        Some((_, path)) => manifest::replay(path)?,
        None => ManifestState {
            next_file: 1,
            ..ManifestState::default()
        },
    };
    Ok(ManifestSummary {
        manifests: files.manifests,
        state,
    })
}

impl VersionSet {
    /// Open the catalog of the database in `dir`: replay the newest manifest strictly, check
    /// that it accounts for every table file, open every live table, delete the files it proves
    /// garbage (removed from the catalog, or pending outputs of an unfinished flush or
    /// compaction, and unfinished manifest snapshots), then start a fresh manifest holding one
    /// snapshot edit.
    ///
    /// Damage stops the open before any file is changed: a damaged newest manifest
    /// ([`Error::ManifestCorrupt`]), table files but no manifest ([`Error::ManifestMissing`]), a
    /// table file the manifest does not account for ([`Error::UnaccountedTable`]), a live table
    /// that is missing or does not open for a reason other than corruption (an I/O error). A
    /// live table that fails [`Table::open`] with [`Error::Corrupt`] is quarantined instead
    /// (moved into `DB/quarantine/` by the commit, see [`crate::quarantine`]), and one whose file
    /// is already there is left out as quarantined.
    pub fn open(dir: &Path) -> Result<VersionSet> {
        VersionSet::load(dir, crate::file_io::real())?.commit()
    }

    /// The checking half of [`VersionSet::open`]: replay and account, open the live tables,
    /// change nothing on disk. [`LoadedCatalog::commit`] does the rest, so a caller can check
    /// more (the WAL) before any file changes.
    pub fn load(dir: &Path, io: Arc<dyn FileIo>) -> Result<LoadedCatalog> {
        let files = manifest::list(dir)?;
        let tables = list_tables(dir)?;
        let (manifest_no, state, manifest_path) = match files.manifests.last() {
            Some((no, path)) => (*no, manifest::replay(path)?, Some(path.clone())),
            None => {
                // An empty segment holds nothing (a first open that failed right after creating
                // it leaves one); a segment with bytes may hold acknowledged writes.
                let wal_segments = fs::read_dir(dir.join("wal"))
                    .map(|entries| {
                        entries
                            .flatten()
                            .filter(|e| e.file_name().to_string_lossy().ends_with(".wal"))
                            .filter(|e| e.metadata().map_or(true, |m| m.len() > 0))
                            .count()
                    })
                    .unwrap_or(0);
                if !tables.is_empty() || wal_segments > 0 {
                    return Err(Error::ManifestMissing {
                        dir: dir.to_path_buf(),
                        what: format!(
                            "{} table file(s) and {wal_segments} WAL segment(s)",
                            tables.len()
                        ),
                    });
                }
                let empty = ManifestState {
                    next_file: 1,
                    ..ManifestState::default()
                };
                (0, empty, None)
            }
        };
        if let (Some((offset, bytes)), Some(path)) = (state.torn_tail, &manifest_path) {
            tracing::warn!(
                path = %path.display(),
                offset,
                bytes,
                "manifest ends in a record cut short by a crash (an edit that was never \
                 acknowledged); it is left out"
            );
        }

        // Account for every table file before changing anything.
        let mut garbage = Vec::new();
        for (no, path) in &tables {
            if state.records.iter().any(|r| r.file == *no) {
                continue;
            }
            if state.removed.contains(no) || state.pending.contains(no) {
                garbage.push(path.clone());
                continue;
            }
            return Err(Error::UnaccountedTable {
                path: path.clone(),
                manifest: manifest_path.clone().unwrap_or_else(|| dir.to_path_buf()),
            });
        }
        let mut next_file = state.next_file;
        if let Some((no, _)) = tables.last() {
            next_file = next_file.max(no + 1);
        }

        // Open live tables (a missing or unreadable one stops the open, nothing changed yet).
        // A corrupt one is left out, to be quarantined by `commit`; one whose file is already
        // in the quarantine directory (a quarantine cut short by a crash after its rename,
        // before its manifest edit) is left out as quarantined.
        let deleter = Arc::new(TableDeleter { io: io.clone() });
        let mut layers: Vec<Vec<TableRef>> = vec![Vec::new(); LAYERS];
        let mut quarantine = Vec::new();
        let mut left_out = Vec::new();
        for r in &state.records {
            let path = table_path(dir, r.file);
            if !tables.iter().any(|(no, _)| *no == r.file)
                && crate::quarantine::quarantined_path(dir, r.file).exists()
            {
                tracing::warn!(
                    file = %path.display(),
                    "the manifest names a table whose file is in the quarantine directory (a \
                     quarantine cut short by a crash): it stays quarantined"
                );
                left_out.push(r.file);
                continue;
            }
            if !tables.iter().any(|(no, _)| *no == r.file) {
                return Err(Error::Corrupt {
                    path: path.clone(),
                    reason: format!(
                        "the table is named by manifest {} but its file is missing; strata \
                         stopped without changing any file (`strata repair DATA_DIR` rebuilds \
                         the catalog from the tables that exist)",
                        manifest_path
                            .as_deref()
                            .map_or_else(|| dir.display().to_string(), |p| p.display().to_string())
                    ),
                });
            }
            let table = match Table::open(&path) {
                Ok(t) => t,
                Err(Error::Corrupt { reason, .. }) => {
                    quarantine.push((r.clone(), reason));
                    left_out.push(r.file);
                    continue;
                }
                Err(e) => return Err(e),
            };
            layers[r.layer].push(FileRef::new(
                TableHandle::new(r.file, r.layer, r.min_seq, r.max_seq, table),
                deleter.clone(),
            ));
        }

        let mut state = state;
        state.records.retain(|r| !left_out.contains(&r.file));
        Ok(LoadedCatalog {
            io,
            dir: dir.to_path_buf(),
            files,
            garbage,
            quarantine,
            state,
            next_file,
            manifest_no,
            layers,
            deleter,
        })
    }
}

/// A catalog replayed and checked by [`VersionSet::load`], nothing on disk changed yet.
pub struct LoadedCatalog {
    io: Arc<dyn FileIo>,
    dir: PathBuf,
    files: manifest::ManifestFiles,
    garbage: Vec<PathBuf>,
    /// Live tables that failed to open as corrupt (left out of `state.records`): moved into
    /// the quarantine directory by `commit`, before the new manifest that no longer names them.
    quarantine: Vec<(TableRecord, String)>,
    state: ManifestState,
    next_file: u64,
    manifest_no: u64,
    layers: Vec<Vec<TableRef>>,
    deleter: Arc<TableDeleter>,
}

impl LoadedCatalog {
    /// Every WAL record at or below this seqno is in a table.
    pub fn flushed_seqno(&self) -> SeqNo {
        self.state.flushed
    }

    /// Delete the files the manifest proves garbage, write a fresh manifest holding one snapshot
    /// edit (whole, by rename) and drop the old ones.
    pub fn commit(self) -> Result<VersionSet> {
        let LoadedCatalog {
            io,
            dir,
            files,
            garbage,
            quarantine,
            state,
            next_file,
            manifest_no,
            layers,
            deleter,
        } = self;
        let dir = dir.as_path();
        // Provable garbage goes before the new manifest (which no longer names it) is written.
        for path in files.temporaries.iter().chain(&garbage) {
            tracing::info!(file = %path.display(), "removing the output of an unfinished flush, compaction or manifest write");
            match io.remove(path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("remove {}", path.display()), e)),
            }
        }
        let sst_dir = dir.join("sst");
        io.create_dir_all(&sst_dir)
            .ctx(|| format!("create {}", sst_dir.display()))?;
        if !garbage.is_empty() {
            sync_dir_with(io.as_ref(), &sst_dir)?;
        }
        // Corrupt live tables go aside before the manifest stops naming them (a crash between
        // the two leaves a named table whose file is in quarantine: quarantined at the next open).
        for (record, reason) in &quarantine {
            let to = crate::quarantine::move_aside(&io, dir, record, reason)?;
            tracing::error!(
                file = %table_path(dir, record.file).display(),
                moved_to = %to.display(),
                reason = %reason,
                "corrupt table quarantined at open: left out of the catalog and moved aside; the \
                 rest of the database opens (see /health; remove the file from the quarantine \
                 directory to clear it)"
            );
        }

        // A fresh manifest, complete before it can shadow the old ones; then drop those.
        let writer = ManifestWriter::create(
            &io,
            dir,
            manifest_no + 1,
            &VersionEdit {
                add: state.records.clone(),
                flushed_seqno: Some(state.flushed),
                next_file: Some(next_file),
                vq_set: state.vq_tables.values().cloned().collect(),
                ..VersionEdit::default()
            },
        )?;
        for (_, old) in &files.manifests {
            io.remove(old)
                .ctx(|| format!("remove old manifest {}", old.display()))?;
        }
        sync_dir_with(io.as_ref(), dir)?;

        Ok(VersionSet {
            dir: dir.to_path_buf(),
            current: VersionCell::new(Version {
                active: Arc::new(Memtable::new()),
                frozen: Vec::new(),
                layers,
                flushed_seqno: state.flushed,
            }),
            manifest: Mutex::new(writer),
            next_file: AtomicU64::new(next_file),
            deleter,
            pending: Mutex::new(BTreeSet::new()),
            io,
            vq_tables: Mutex::new(state.vq_tables),
        })
    }
}

impl VersionSet {
    /// The catalog as one edit: every live table, pending files, the flushed seqno and the next
    /// file number (the first record of a manifest that replaces a failed one). Tables removed
    /// from the catalog whose files still exist (a reader holds them) are listed as removed.
    fn snapshot_edit(&self) -> VersionEdit {
        let cur = self.current();
        let add: Vec<TableRecord> = cur
            .layers
            .iter()
            .flatten()
            .map(|t| TableRecord {
                layer: t.layer,
                file: t.file,
                min_seq: t.min_seq,
                max_seq: t.max_seq,
            })
            .collect();
        let pending: Vec<u64> = self
            .pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect();
        let remove = list_tables(&self.dir)
            .unwrap_or_default()
            .into_iter()
            .filter(|(no, _)| !add.iter().any(|r| r.file == *no) && !pending.contains(no))
            .map(|(no, _)| (0, no))
            .collect();
        VersionEdit {
            add,
            remove,
            pending,
            flushed_seqno: Some(cur.flushed_seqno),
            next_file: Some(self.next_file.load(Ordering::Relaxed)),
            vq_drop: Vec::new(),
            vq_set: self.vq_tables().into_values().collect(),
        }
    }

    /// The vq tables, by name.
    pub fn vq_tables(&self) -> BTreeMap<String, VqTableRecord> {
        self.vq_tables
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Look at vq table `name` (`None`: there is none) and decide its change with `decide`,
    /// atomically with respect to every other catalog change: the change is logged in the
    /// manifest (fsynced) before it is visible. `decide`'s error changes nothing.
    pub fn update_vq_table<T>(
        &self,
        name: &str,
        decide: impl FnOnce(Option<&VqTableRecord>) -> Result<(VqChange, T)>,
    ) -> Result<T> {
        let mut m = self.lock_manifest();
        let current = self.vq_tables().get(name).cloned();
        let (change, out) = decide(current.as_ref())?;
        let edit = match &change {
            VqChange::Keep => return Ok(out),
            VqChange::Set(t) => VersionEdit {
                vq_set: vec![t.clone()],
                ..VersionEdit::default()
            },
            VqChange::Drop => VersionEdit {
                vq_drop: vec![name.to_string()],
                ..VersionEdit::default()
            },
        };
        self.log_edit(&mut m, &edit)?;
        let mut tables = self.vq_tables.lock().unwrap_or_else(|p| p.into_inner());
        match change {
            VqChange::Set(t) => {
                tables.insert(t.name.clone(), t);
            }
            VqChange::Drop => {
                tables.remove(name);
            }
            VqChange::Keep => {}
        }
        Ok(out)
    }

    /// Append `edit` to the manifest (fsynced). If an earlier append failed, first replace the
    /// manifest by a new one holding a snapshot of the catalog, so a write error that has
    /// cleared (space freed) does not leave the catalog frozen.
    fn log_edit(&self, m: &mut ManifestWriter, edit: &VersionEdit) -> Result<()> {
        if m.needs_rollover() {
            let snapshot = self.snapshot_edit();
            m.roll_over(&self.dir, &snapshot)?;
            tracing::info!(manifest = %m.path().display(), "started a new manifest after a failed append");
        }
        m.append(edit)
    }

    /// The current version (a cheap `Arc` clone: a consistent snapshot for a reader).
    pub fn current(&self) -> Arc<Version> {
        self.current.current()
    }

    /// Wrap a newly written table for the catalog.
    pub fn table_ref(&self, t: TableHandle) -> TableRef {
        FileRef::new(t, self.deleter.clone())
    }

    fn lock_manifest(&self) -> std::sync::MutexGuard<'_, ManifestWriter> {
        self.manifest.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Freeze the active memtable: publish a version where it is the newest frozen memtable and
    /// a fresh memtable is active. Returns the frozen memtable.
    pub fn freeze_active(&self) -> Arc<Memtable> {
        let _guard = self.lock_manifest();
        self.current.edit(|cur| {
            let mut frozen = cur.frozen.clone();
            frozen.push(cur.active.clone());
            let next = Version {
                active: Arc::new(Memtable::new()),
                frozen,
                layers: cur.layers.clone(),
                flushed_seqno: cur.flushed_seqno,
            };
            (next, cur.active.clone())
        })
    }

    /// Allocate a new table file number and its path. The number is logged as pending in the
    /// manifest (fsynced) before the caller creates the file, so a crash while it is written
    /// leaves a file the next open can prove is garbage.
    pub fn new_table(&self) -> Result<(u64, PathBuf)> {
        let mut m = self.lock_manifest();
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        self.log_edit(
            &mut m,
            &VersionEdit {
                pending: vec![n],
                next_file: Some(n + 1),
                ..VersionEdit::default()
            },
        )?;
        self.pending
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(n);
        Ok((n, table_path(&self.dir, n)))
    }

    fn forget_pending(&self, files: impl IntoIterator<Item = u64>) {
        let mut pending = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        for f in files {
            pending.remove(&f);
        }
    }

    /// Install a flushed memtable: log the edit (fsynced), then publish a version with the table
    /// in C0 and without the frozen memtable. Returns the new flushed seqno.
    pub fn install_flush(&self, frozen: &Arc<Memtable>, table: Option<TableRef>) -> Result<SeqNo> {
        let mut m = self.lock_manifest();
        let cur = self.current();
        let flushed = cur.flushed_seqno.max(frozen.max_seqno());
        let edit = VersionEdit {
            add: table
                .iter()
                .map(|t| TableRecord {
                    layer: 0,
                    file: t.file,
                    min_seq: t.min_seq,
                    max_seq: t.max_seq,
                })
                .collect(),
            flushed_seqno: Some(flushed),
            next_file: Some(self.next_file.load(Ordering::Relaxed)),
            ..VersionEdit::default()
        };
        self.log_edit(&mut m, &edit)?;
        self.forget_pending(table.iter().map(|t| t.file));
        // One publish removes the frozen memtable and adds its table.
        self.current.install_flush(frozen, table);
        Ok(flushed)
    }

    /// Replace tables (compaction): log the edit, publish, and mark removed tables obsolete so
    /// their files go once the last reader's version drops them.
    ///
    /// Every edit of the table set holds the manifest lock, so checking here that each removed
    /// table is still current is race-free: if a concurrent edit already replaced one of them,
    /// nothing is logged or published and [`Error::VersionConflict`] is returned (the caller
    /// plans again against [`VersionSet::current`]). Without the check two edits planned on the
    /// same version could both succeed and one's output would silently resurrect or drop data.
    pub fn replace_tables(&self, removed: &[TableRef], added: Vec<TableRef>) -> Result<()> {
        self.replace_tables_at(removed, added, None)
    }

    /// [`VersionSet::replace_tables`] with a fail point (see [`crate::failpoint`]) between the
    /// fsynced manifest edit and the publish.
    pub(crate) fn replace_tables_at(
        &self,
        removed: &[TableRef],
        added: Vec<TableRef>,
        after_manifest: Option<&str>,
    ) -> Result<()> {
        let mut m = self.lock_manifest();
        {
            let cur = self.current.current();
            for r in removed {
                let present = cur
                    .layers
                    .get(r.layer)
                    .is_some_and(|l| l.iter().any(|t| t.file == r.file));
                if !present {
                    return Err(Error::VersionConflict { file: r.file });
                }
            }
        }
        let edit = VersionEdit {
            add: added
                .iter()
                .map(|t| TableRecord {
                    layer: t.layer,
                    file: t.file,
                    min_seq: t.min_seq,
                    max_seq: t.max_seq,
                })
                .collect(),
            remove: removed.iter().map(|t| (t.layer, t.file)).collect(),
            pending: vec![],
            flushed_seqno: None,
            next_file: Some(self.next_file.load(Ordering::Relaxed)),
            ..VersionEdit::default()
        };
        self.log_edit(&mut m, &edit)?;
        self.forget_pending(added.iter().map(|t| t.file));
        if let Some(fp) = after_manifest {
            crate::failpoint::hit(fp);
        }
        // Still under the manifest lock, so the check above holds and this publishes.
        if !self.current.replace(removed, added) {
            return Err(Error::VersionConflict {
                file: removed.first().map_or(0, |t| t.file),
            });
        }
        for r in removed {
            r.mark_obsolete();
        }
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file I/O the database's writes go through ([`crate::Config::file_io`]).
    pub fn io(&self) -> &Arc<dyn FileIo> {
        &self.io
    }

    /// Take `t` out of the catalog because its file is corrupt: under the manifest lock (no
    /// other edit interleaves), check it is still live ([`Error::VersionConflict`] if not), run
    /// `move_aside` (which moves the file out of `sst/`, durably), mark its file kept (the
    /// deleter never removes it), then log the remove edit (fsynced) and publish a version
    /// without it. The file is moved before the edit because an edit naming a file in `sst/`
    /// as removed makes the next open delete it; see [`crate::quarantine`] for every crash
    /// point. Returns what `move_aside` returned.
    pub fn quarantine_table<T>(
        &self,
        t: &TableRef,
        move_aside: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let mut m = self.lock_manifest();
        if !self.current.current().contains(t) {
            return Err(Error::VersionConflict { file: t.file });
        }
        let moved = move_aside()?;
        // No deleter can run before this: `t` is held and was never marked obsolete.
        t.keep_file.store(true, Ordering::Release);
        let edit = VersionEdit {
            remove: vec![(t.layer, t.file)],
            next_file: Some(self.next_file.load(Ordering::Relaxed)),
            ..VersionEdit::default()
        };
        self.log_edit(&mut m, &edit)?;
        if !self.current.replace(std::slice::from_ref(t), Vec::new()) {
            return Err(Error::VersionConflict { file: t.file });
        }
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_table(vs: &VersionSet, m: &Arc<Memtable>) -> TableRef {
        use crate::sstable::TableWriter;
        use crate::types::{Column, Values};
        let (file, path) = vs.new_table().unwrap();
        let mut w = TableWriter::create(&path).unwrap();
        let col = Column {
            timestamps: vec![1, 2],
            values: Values::Float(vec![1.0, 2.0]),
        };
        w.add(1, "m", "v", &col).unwrap();
        // An empty memtable's min_seqno is u64::MAX, above its max_seqno.
        w.set_provenance(crate::sstable::Provenance {
            layer: 0,
            min_seq: m.min_seqno().min(m.max_seqno()),
            max_seq: m.max_seqno(),
        });
        w.finish().unwrap();
        let t = Table::open(&path).unwrap();
        vs.table_ref(TableHandle::new(file, 0, m.min_seqno(), m.max_seqno(), t))
    }

    #[test]
    fn replaced_tables_live_until_the_last_reader_drops_them() {
        let dir = tempfile::tempdir().unwrap();
        let vs = VersionSet::open(dir.path()).unwrap();
        let frozen = vs.freeze_active();
        let t = write_table(&vs, &frozen);
        let path = t.table.path().to_path_buf();
        vs.install_flush(&frozen, Some(t.clone())).unwrap();
        drop(t);
        let reader = vs.current();
        assert_eq!(reader.table_count(), 1);
        assert!(reader.frozen.is_empty());

        let old = reader.layers[0].clone();
        vs.replace_tables(&old, Vec::new()).unwrap();
        drop(old);
        assert_eq!(vs.current().table_count(), 0);
        assert!(path.exists(), "a reader's version still names the file");
        // A second edit planned on the same (now stale) version is refused, not applied.
        let again = vs.replace_tables(&reader.layers[0], Vec::new());
        assert!(
            matches!(again, Err(Error::VersionConflict { .. })),
            "{again:?}"
        );
        drop(reader);
        assert!(
            !path.exists(),
            "deleted once the last version naming it is gone"
        );

        // The manifest agrees after a restart.
        drop(vs);
        let vs = VersionSet::open(dir.path()).unwrap();
        assert_eq!(vs.current().table_count(), 0);
    }

    #[test]
    fn flushed_tables_and_seqno_survive_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let vs = VersionSet::open(dir.path()).unwrap();
        let frozen = vs.freeze_active();
        frozen.apply(
            7,
            &crate::types::WriteBatch {
                new_series: vec![],
                rows: vec![crate::types::Row {
                    series: 1,
                    timestamp: 1,
                    fields: vec![(Arc::from("v"), crate::types::FieldValue::Float(1.0))],
                }],
            },
        );
        let t = write_table(&vs, &frozen);
        assert_eq!(vs.install_flush(&frozen, Some(t)).unwrap(), 7);
        drop(vs);
        let vs = VersionSet::open(dir.path()).unwrap();
        let v = vs.current();
        assert_eq!((v.table_count(), v.flushed_seqno), (1, 7));
    }

    fn manifest_files(dir: &Path) -> Vec<PathBuf> {
        manifest::list(dir)
            .unwrap()
            .manifests
            .into_iter()
            .map(|(_, p)| p)
            .collect()
    }

    /// Every file under `dir` with its bytes.
    fn snapshot_files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap().flatten() {
                if e.file_type().unwrap().is_dir() {
                    stack.push(e.path());
                } else {
                    out.push((e.path(), fs::read(e.path()).unwrap()));
                }
            }
        }
        out.sort();
        out
    }

    /// A database with one flushed table; returns its table path.
    fn one_table(dir: &Path) -> PathBuf {
        let vs = VersionSet::open(dir).unwrap();
        let frozen = vs.freeze_active();
        let t = write_table(&vs, &frozen);
        let path = t.table.path().to_path_buf();
        vs.install_flush(&frozen, Some(t)).unwrap();
        path
    }

    #[test]
    fn torn_manifest_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        one_table(dir.path());
        let path = manifest_files(dir.path()).pop().unwrap();
        let mut f = fs::OpenOptions::new().append(true).open(&path).unwrap();
        // A header whose length checksum is right, and only part of its payload.
        let rec = manifest::encode_record(&[3, 1, 2, 3, 4, 5, 6, 7, 8]);
        std::io::Write::write_all(&mut f, &rec[..rec.len() - 3]).unwrap();
        drop(f);
        let vs = VersionSet::open(dir.path()).unwrap();
        assert_eq!(vs.current().table_count(), 1);
    }

    #[test]
    fn a_damaged_manifest_stops_the_open_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        one_table(dir.path());
        let path = manifest_files(dir.path()).pop().unwrap();
        let mut bytes = fs::read(&path).unwrap();
        let at = bytes.len() - 5;
        bytes[at] ^= 0x10;
        fs::write(&path, &bytes).unwrap();
        let before = snapshot_files(dir.path());
        let err = VersionSet::open(dir.path()).err().unwrap();
        assert!(matches!(err, Error::ManifestCorrupt { .. }), "{err}");
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{err}"
        );
        assert_eq!(snapshot_files(dir.path()), before);
    }

    #[test]
    fn an_empty_or_missing_manifest_never_deletes_tables() {
        let dir = tempfile::tempdir().unwrap();
        one_table(dir.path());
        let old = manifest_files(dir.path()).pop().unwrap();
        let newer = dir.path().join("MANIFEST-000099");
        fs::write(&newer, b"").unwrap();
        let before = snapshot_files(dir.path());
        let err = VersionSet::open(dir.path()).err().unwrap();
        assert!(matches!(err, Error::ManifestCorrupt { .. }), "{err}");
        assert!(err.to_string().contains("MANIFEST-000099"), "{err}");
        assert_eq!(snapshot_files(dir.path()), before);

        fs::remove_file(&newer).unwrap();
        fs::remove_file(&old).unwrap();
        let before = snapshot_files(dir.path());
        let err = VersionSet::open(dir.path()).err().unwrap();
        assert!(matches!(err, Error::ManifestMissing { .. }), "{err}");
        assert_eq!(snapshot_files(dir.path()), before);
    }

    #[test]
    fn an_unnamed_table_stops_the_open_and_pending_ones_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let table = one_table(dir.path());
        // A table file the manifest knows nothing about.
        let stray = table_path(dir.path(), 500);
        fs::copy(&table, &stray).unwrap();
        let before = snapshot_files(dir.path());
        let err = VersionSet::open(dir.path()).err().unwrap();
        assert!(matches!(err, Error::UnaccountedTable { .. }), "{err}");
        assert!(err.to_string().contains("00000500.sst"), "{err}");
        assert_eq!(snapshot_files(dir.path()), before);
        fs::remove_file(&stray).unwrap();

        // A file allocated (logged pending) and written, never installed: garbage.
        let vs = VersionSet::open(dir.path()).unwrap();
        let (_, pending) = vs.new_table().unwrap();
        fs::copy(&table, &pending).unwrap();
        // An unfinished manifest snapshot: garbage too.
        let tmp = dir.path().join("MANIFEST-000123.tmp");
        fs::write(&tmp, b"STRMANI2").unwrap();
        drop(vs);
        let vs = VersionSet::open(dir.path()).unwrap();
        assert_eq!(vs.current().table_count(), 1);
        assert!(!pending.exists() && !tmp.exists() && table.exists());
    }

    #[test]
    fn a_table_removed_while_a_reader_holds_it_is_accounted_for() {
        let dir = tempfile::tempdir().unwrap();
        let table = one_table(dir.path());
        let vs = VersionSet::open(dir.path()).unwrap();
        let reader = vs.current();
        vs.replace_tables(&reader.layers[0], Vec::new()).unwrap();
        // The process dies while the reader still holds the file.
        std::mem::forget(reader);
        drop(vs);
        assert!(table.exists());
        let vs = VersionSet::open(dir.path()).unwrap();
        assert_eq!(vs.current().table_count(), 0);
        assert!(
            !table.exists(),
            "removed from the catalog: provably garbage"
        );
    }
}
