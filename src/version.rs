//! The catalog: which memtables and SSTables make up a database now ([`Version`]), and the
//! manifest log that makes table additions and removals durable.
//!
//! A `Version` is an immutable snapshot. Readers take an `Arc<Version>` and keep using it while
//! flushes and compactions publish newer ones; a table file is deleted only when it has been
//! removed from the catalog *and* the last version that references it is dropped (the file's
//! [`TableHandle`] is reference-counted and deletes its file on drop once marked obsolete).

use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use strata_actors::catalog::{Deleter, FileRef, FlushEdit, ReplaceEdit, VersionCell};

use crate::error::{Error, IoContext, Result};
use crate::memtable::Memtable;
use crate::sstable::Table;
use crate::types::SeqNo;

/// Number of compaction layers (C0–C7).
pub const LAYERS: usize = 8;

/// One table file in the catalog.
pub struct TableHandle {
    pub file: u64,
    pub layer: usize,
    /// Lowest and highest WAL seqno whose data the table holds: newer tables win duplicates.
    pub min_seq: SeqNo,
    pub max_seq: SeqNo,
    pub table: Table,
}

impl TableHandle {
    pub fn new(file: u64, layer: usize, min_seq: SeqNo, max_seq: SeqNo, table: Table) -> Self {
        TableHandle {
            file,
            layer,
            min_seq,
            max_seq,
            table,
        }
    }
}

/// Deletes table files once no version references them (the catalog protocol of
/// `strata_actors::catalog`, model-checked in `loom_tests/tests/catalog.rs`).
pub struct TableDeleter;

impl Deleter<TableHandle> for TableDeleter {
    fn delete(&self, t: &TableHandle) {
        let path = t.table.path();
        if let Err(e) = fs::remove_file(path) {
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

/// One atomic change to the catalog, as logged in the manifest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionEdit {
    pub add: Vec<TableRecord>,
    pub remove: Vec<(usize, u64)>,
    pub flushed_seqno: Option<SeqNo>,
    pub next_file: Option<u64>,
}

/// A table as the manifest names it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRecord {
    pub layer: usize,
    pub file: u64,
    pub min_seq: SeqNo,
    pub max_seq: SeqNo,
}

impl VersionEdit {
    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        for t in &self.add {
            b.push(1);
            b.push(t.layer as u8);
            b.extend_from_slice(&t.file.to_le_bytes());
            b.extend_from_slice(&t.min_seq.to_le_bytes());
            b.extend_from_slice(&t.max_seq.to_le_bytes());
        }
        for (layer, file) in &self.remove {
            b.push(2);
            b.push(*layer as u8);
            b.extend_from_slice(&file.to_le_bytes());
        }
        if let Some(s) = self.flushed_seqno {
            b.push(3);
            b.extend_from_slice(&s.to_le_bytes());
        }
        if let Some(n) = self.next_file {
            b.push(4);
            b.extend_from_slice(&n.to_le_bytes());
        }
        b
    }

    fn decode(mut b: &[u8]) -> Option<VersionEdit> {
        fn u64_at(b: &mut &[u8]) -> Option<u64> {
            let (head, rest) = b.split_first_chunk::<8>()?;
            *b = rest;
            Some(u64::from_le_bytes(*head))
        }
        fn u8_at(b: &mut &[u8]) -> Option<u8> {
            let (head, rest) = b.split_first()?;
            *b = rest;
            Some(*head)
        }
        let mut e = VersionEdit::default();
        while !b.is_empty() {
            match u8_at(&mut b)? {
                1 => {
                    let layer = u8_at(&mut b)? as usize;
                    if layer >= LAYERS {
                        return None;
                    }
                    e.add.push(TableRecord {
                        layer,
                        file: u64_at(&mut b)?,
                        min_seq: u64_at(&mut b)?,
                        max_seq: u64_at(&mut b)?,
                    });
                }
                2 => {
                    let layer = u8_at(&mut b)? as usize;
                    e.remove.push((layer, u64_at(&mut b)?));
                }
                3 => e.flushed_seqno = Some(u64_at(&mut b)?),
                4 => e.next_file = Some(u64_at(&mut b)?),
                _ => return None,
            }
        }
        Some(e)
    }
}

struct ManifestWriter {
    file: File,
    path: PathBuf,
}

impl ManifestWriter {
    fn append(&mut self, edit: &VersionEdit) -> Result<()> {
        let payload = edit.encode();
        let mut rec = Vec::with_capacity(payload.len() + 8);
        rec.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        rec.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        rec.extend_from_slice(&payload);
        self.file
            .write_all(&rec)
            .ctx(|| format!("append to manifest {}", self.path.display()))?;
        self.file
            .sync_data()
            .ctx(|| format!("fsync manifest {}", self.path.display()))
    }
}

/// fsync a directory so that file creations, renames and deletions in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx(|| format!("fsync directory {}", dir.display()))
}

/// Path of table `file` in a database directory.
pub fn table_path(db_dir: &Path, file: u64) -> PathBuf {
    db_dir.join("sst").join(format!("{file:08}.sst"))
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
}

/// What the newest manifest of a database says.
pub struct ManifestState {
    /// Every manifest file, oldest first.
    pub manifests: Vec<(u64, PathBuf)>,
    /// The tables it names.
    pub records: Vec<TableRecord>,
    pub flushed: SeqNo,
    pub next_file: u64,
    pub manifest_no: u64,
}

/// Replay the newest manifest of the database in `dir` (read-only: `strata inspect` uses it on
/// a database another process may have open).
pub fn read_manifest(dir: &Path) -> Result<ManifestState> {
    let mut manifests: Vec<(u64, PathBuf)> = fs::read_dir(dir)
        .ctx(|| format!("list {}", dir.display()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let n = manifest_number(&e.file_name().to_string_lossy())?;
            Some((n, e.path()))
        })
        .collect();
    manifests.sort();

    let mut records: Vec<TableRecord> = Vec::new();
    let mut flushed = 0;
    let mut next_file = 1;
    let mut manifest_no = 0;
    if let Some((n, path)) = manifests.last() {
        manifest_no = *n;
        let mut buf = Vec::new();
        File::open(path)
            .and_then(|mut f| f.read_to_end(&mut buf))
            .ctx(|| format!("read manifest {}", path.display()))?;
        let mut off = 0usize;
        while off < buf.len() {
            let rec = read_record(&buf[off..]);
            let Some((payload, used)) = rec else {
                tracing::warn!(
                    path = %path.display(),
                    offset = off,
                    bytes = buf.len() - off,
                    "manifest has a torn or corrupt tail; ignoring it"
                );
                break;
            };
            let Some(edit) = VersionEdit::decode(payload) else {
                return Err(Error::Corrupt {
                    path: path.clone(),
                    reason: format!("undecodable version edit at offset {off}"),
                });
            };
            for (layer, file) in &edit.remove {
                records.retain(|r| !(r.layer == *layer && r.file == *file));
            }
            records.extend(edit.add.iter().cloned());
            if let Some(s) = edit.flushed_seqno {
                flushed = s;
            }
            if let Some(n) = edit.next_file {
                next_file = n;
            }
            off += used;
        }
    }
    Ok(ManifestState {
        manifests,
        records,
        flushed,
        next_file,
        manifest_no,
    })
}

fn manifest_number(name: &str) -> Option<u64> {
    name.strip_prefix("MANIFEST-")?.parse().ok()
}

impl VersionSet {
    /// Open the catalog of the database in `dir`: replay the newest manifest, open every table it
    /// names, delete table files it does not name (left by a crash between write and install),
    /// and start a fresh manifest holding one snapshot edit.
    pub fn open(dir: &Path) -> Result<VersionSet> {
        let sst_dir = dir.join("sst");
        fs::create_dir_all(&sst_dir).ctx(|| format!("create {}", sst_dir.display()))?;
        let ManifestState {
            manifests,
            records,
            flushed,
            mut next_file,
            manifest_no,
        } = read_manifest(dir)?;
        for r in &records {
            next_file = next_file.max(r.file + 1);
        }

        // Open named tables; remove orphans.
        let deleter = Arc::new(TableDeleter);
        let mut layers: Vec<Vec<TableRef>> = vec![Vec::new(); LAYERS];
        for r in &records {
            let path = table_path(dir, r.file);
            let table = Table::open(&path)?;
            layers[r.layer].push(FileRef::new(
                TableHandle::new(r.file, r.layer, r.min_seq, r.max_seq, table),
                deleter.clone(),
            ));
        }
        for e in fs::read_dir(&sst_dir)
            .ctx(|| format!("list {}", sst_dir.display()))?
            .flatten()
        {
            let name = e.file_name().to_string_lossy().to_string();
            let named = name
                .strip_suffix(".sst")
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|n| records.iter().any(|r| r.file == n));
            if !named {
                tracing::info!(file = %e.path().display(), "removing orphaned table file");
                fs::remove_file(e.path()).ctx(|| format!("remove {}", e.path().display()))?;
                next_file = next_file.max(
                    name.strip_suffix(".sst")
                        .and_then(|n| n.parse::<u64>().ok())
                        .map_or(0, |n| n + 1),
                );
            }
        }

        // Fresh manifest with one snapshot edit, then drop the old ones.
        let new_path = dir.join(format!("MANIFEST-{:06}", manifest_no + 1));
        let file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&new_path)
            .ctx(|| format!("create manifest {}", new_path.display()))?;
        let mut writer = ManifestWriter {
            file,
            path: new_path.clone(),
        };
        writer.append(&VersionEdit {
            add: records.clone(),
            remove: vec![],
            flushed_seqno: Some(flushed),
            next_file: Some(next_file),
        })?;
        sync_dir(dir)?;
        for (_, old) in &manifests {
            fs::remove_file(old).ctx(|| format!("remove old manifest {}", old.display()))?;
        }
        sync_dir(dir)?;

        Ok(VersionSet {
            dir: dir.to_path_buf(),
            current: VersionCell::new(Version {
                active: Arc::new(Memtable::new()),
                frozen: Vec::new(),
                layers,
                flushed_seqno: flushed,
            }),
            manifest: Mutex::new(writer),
            next_file: AtomicU64::new(next_file),
            deleter,
        })
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

    /// Allocate a new table file number and its path.
    pub fn new_table(&self) -> (u64, PathBuf) {
        let n = self.next_file.fetch_add(1, Ordering::Relaxed);
        (n, table_path(&self.dir, n))
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
            remove: vec![],
            flushed_seqno: Some(flushed),
            next_file: Some(self.next_file.load(Ordering::Relaxed)),
        };
        m.append(&edit)?;
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
            flushed_seqno: None,
            next_file: Some(self.next_file.load(Ordering::Relaxed)),
        };
        m.append(&edit)?;
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
}

fn read_record(b: &[u8]) -> Option<(&[u8], usize)> {
    let (len, rest) = b.split_first_chunk::<4>()?;
    let (crc, rest) = rest.split_first_chunk::<4>()?;
    let len = u32::from_le_bytes(*len) as usize;
    let payload = rest.get(..len)?;
    (crc32fast::hash(payload) == u32::from_le_bytes(*crc)).then_some((payload, len + 8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_round_trip() {
        let e = VersionEdit {
            add: vec![TableRecord {
                layer: 3,
                file: 9,
                min_seq: 1,
                max_seq: 7,
            }],
            remove: vec![(0, 4)],
            flushed_seqno: Some(7),
            next_file: Some(10),
        };
        assert_eq!(VersionEdit::decode(&e.encode()), Some(e));
        assert_eq!(VersionEdit::decode(&[9]), None);
    }

    fn write_table(vs: &VersionSet, m: &Arc<Memtable>) -> TableRef {
        use crate::sstable::TableWriter;
        use crate::types::{Column, Values};
        let (file, path) = vs.new_table();
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

    #[test]
    fn torn_manifest_tail_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        {
            let vs = VersionSet::open(dir.path()).unwrap();
            let m = vs.freeze_active();
            vs.install_flush(&m, None).unwrap();
        }
        let path = fs::read_dir(dir.path())
            .unwrap()
            .flatten()
            .find(|e| e.file_name().to_string_lossy().starts_with("MANIFEST-"))
            .unwrap()
            .path();
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(&[5, 0, 0, 0, 1, 2]).unwrap();
        drop(f);
        let vs = VersionSet::open(dir.path()).unwrap();
        assert_eq!(vs.current().table_count(), 0);
    }
}
