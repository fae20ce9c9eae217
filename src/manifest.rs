//! The manifest: the log that makes changes to a database's table set durable, and its strict
//! replay.
//!
//! A database directory holds one manifest, `MANIFEST-NNNNNN`. It is only ever created whole:
//! the first record (a snapshot of the catalog) is written to `MANIFEST-NNNNNN.tmp`, fsynced,
//! renamed to its final name and the directory fsynced ([`write_snapshot`]), so a manifest under
//! its final name always begins with a complete snapshot and a newer manifest can never be
//! empty or partial. Older manifests are deleted only after the new one is durable.
//!
//! # File format (version 2)
//!
//! ```text
//! magic            8 bytes "STRMANI2"
//! records          [len u32 LE][crc32 of the 4 len bytes u32 LE][crc32 of payload u32 LE][payload]
//! ```
//!
//! The length carries its own checksum, so a damaged length is told apart from a record cut
//! short by a crash: the only damage replay tolerates is a **torn tail** — the last record's
//! header or payload running past the end of the file, the append that was in flight when the
//! process died (such an append was never acknowledged: nothing after it, no WAL trim or table
//! deletion, happened). Any other bad byte stops replay with [`Error::ManifestCorrupt`] naming
//! the file and the offset. Manifests written before this format (no magic; `[len][crc][payload]`)
//! are still read, by the same rules less the length check.
//!
//! # What a table file can be
//!
//! Every `.sst` file in `sst/` is accounted for by the manifest: **live** (added and not
//! removed), **removed** (the catalog dropped it; its file goes once no reader holds it), or
//! **pending** (a flush or compaction allocated it and is writing it: recorded *before* the file
//! is created). At open, removed and pending files are provably garbage and are deleted; a file
//! the manifest does not account for stops the open ([`Error::UnaccountedTable`]): the manifest
//! may have lost records, and the file may hold the only copy of its data.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, IoContext, Result};
use crate::file_io::{FileIo, IoFile};
use crate::types::SeqNo;

/// Number of compaction layers (C0–C7).
pub const LAYERS: usize = 8;

/// The first bytes of a version-2 manifest.
pub const MAGIC: &[u8; 8] = b"STRMANI2";

/// Bytes of a version-2 record header: length, length crc, payload crc.
const HEADER_V2: usize = 12;
/// Bytes of a version-1 record header: length, payload crc.
const HEADER_V1: usize = 8;

/// A table as the manifest names it.
#[derive(Debug, Clone, PartialEq)]
pub struct TableRecord {
    pub layer: usize,
    pub file: u64,
    pub min_seq: SeqNo,
    pub max_seq: SeqNo,
}

/// One atomic change to the catalog, as logged in the manifest.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VersionEdit {
    /// Tables that become live.
    pub add: Vec<TableRecord>,
    /// Tables that stop being live: (layer, file).
    pub remove: Vec<(usize, u64)>,
    /// Table files allocated by a flush or compaction that is writing them (logged before the
    /// file is created; an `add` of the same file later makes it live).
    pub pending: Vec<u64>,
    pub flushed_seqno: Option<SeqNo>,
    pub next_file: Option<u64>,
    /// vq tables dropped (applied before `vq_set`).
    pub vq_drop: Vec<String>,
    /// vq tables created or changed: each record replaces the table of its name.
    pub vq_set: Vec<VqTableRecord>,
}

/// A vq table as the catalog holds it (VQ.md §1): the measurement of that name, the tag keys
/// its points may carry, and whether a PUT or DELETE has been applied to it since it was
/// created (then its tag columns can no longer change).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VqTableRecord {
    pub name: String,
    pub tag_columns: BTreeSet<String>,
    pub populated: bool,
}

const TAG_ADD: u8 = 1;
const TAG_REMOVE: u8 = 2;
const TAG_FLUSHED: u8 = 3;
const TAG_NEXT_FILE: u8 = 4;
const TAG_PENDING: u8 = 5;
const TAG_VQ_DROP: u8 = 6;
const TAG_VQ_TABLE: u8 = 7;

/// Longest name a vq record may hold (a bound for decoding damaged bytes).
const MAX_VQ_NAME: usize = 64 * 1024;
/// Most tag columns a vq table record may hold.
const MAX_VQ_COLUMNS: usize = 64 * 1024;

fn put_str(b: &mut Vec<u8>, s: &str) {
    b.extend_from_slice(&(s.len() as u32).to_le_bytes());
    b.extend_from_slice(s.as_bytes());
}

impl VersionEdit {
    /// The payload of one manifest record.
    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        for t in &self.add {
            b.push(TAG_ADD);
            b.push(t.layer as u8);
            b.extend_from_slice(&t.file.to_le_bytes());
            b.extend_from_slice(&t.min_seq.to_le_bytes());
            b.extend_from_slice(&t.max_seq.to_le_bytes());
        }
        for (layer, file) in &self.remove {
            b.push(TAG_REMOVE);
            b.push(*layer as u8);
            b.extend_from_slice(&file.to_le_bytes());
        }
        for file in &self.pending {
            b.push(TAG_PENDING);
            b.extend_from_slice(&file.to_le_bytes());
        }
        if let Some(s) = self.flushed_seqno {
            b.push(TAG_FLUSHED);
            b.extend_from_slice(&s.to_le_bytes());
        }
        if let Some(n) = self.next_file {
            b.push(TAG_NEXT_FILE);
            b.extend_from_slice(&n.to_le_bytes());
        }
        for name in &self.vq_drop {
            b.push(TAG_VQ_DROP);
            put_str(&mut b, name);
        }
        for t in &self.vq_set {
            b.push(TAG_VQ_TABLE);
            put_str(&mut b, &t.name);
            b.push(u8::from(t.populated));
            b.extend_from_slice(&(t.tag_columns.len() as u32).to_le_bytes());
            for c in &t.tag_columns {
                put_str(&mut b, c);
            }
        }
        b
    }

    /// Decode a payload; the error says what was wrong.
    pub fn decode(mut b: &[u8]) -> std::result::Result<VersionEdit, String> {
        fn u64_at(b: &mut &[u8]) -> std::result::Result<u64, String> {
            let (head, rest) = b
                .split_first_chunk::<8>()
                .ok_or("edit ends inside a number")?;
            *b = rest;
            Ok(u64::from_le_bytes(*head))
        }
        fn layer_at(b: &mut &[u8]) -> std::result::Result<usize, String> {
            let (head, rest) = b.split_first().ok_or("edit ends before a layer")?;
            *b = rest;
            let layer = usize::from(*head);
            if layer >= LAYERS {
                return Err(format!("layer {layer} out of range (0..{LAYERS})"));
            }
            Ok(layer)
        }
        fn u32_at(b: &mut &[u8], max: usize, what: &str) -> std::result::Result<usize, String> {
            let (head, rest) = b
                .split_first_chunk::<4>()
                .ok_or_else(|| format!("edit ends inside {what}"))?;
            *b = rest;
            let n = u32::from_le_bytes(*head) as usize;
            if n > max {
                return Err(format!("{what} {n} out of range (at most {max})"));
            }
            Ok(n)
        }
        fn str_at(b: &mut &[u8]) -> std::result::Result<String, String> {
            let len = u32_at(b, MAX_VQ_NAME, "a name's length")?;
            if b.len() < len {
                return Err("edit ends inside a name".to_string());
            }
            let (head, rest) = b.split_at(len);
            *b = rest;
            match std::str::from_utf8(head) {
                Ok(s) if !s.is_empty() => Ok(s.to_string()),
                Ok(_) => Err("an empty vq name".to_string()),
                Err(_) => Err("a vq name that is not UTF-8".to_string()),
            }
        }
        let mut e = VersionEdit::default();
        while let Some((tag, rest)) = b.split_first() {
            b = rest;
            match *tag {
                TAG_ADD => {
                    let layer = layer_at(&mut b)?;
                    let file = u64_at(&mut b)?;
                    // Table numbers come from `next_file`, which must stay above every live
                    // table's: the largest number has no number after it.
                    if file == u64::MAX {
                        return Err(format!("table file number {file} out of range"));
                    }
                    e.add.push(TableRecord {
                        layer,
                        file,
                        min_seq: u64_at(&mut b)?,
                        max_seq: u64_at(&mut b)?,
                    });
                }
                TAG_REMOVE => {
                    let layer = layer_at(&mut b)?;
                    e.remove.push((layer, u64_at(&mut b)?));
                }
                TAG_PENDING => e.pending.push(u64_at(&mut b)?),
                TAG_FLUSHED => e.flushed_seqno = Some(u64_at(&mut b)?),
                TAG_NEXT_FILE => e.next_file = Some(u64_at(&mut b)?),
                TAG_VQ_DROP => e.vq_drop.push(str_at(&mut b)?),
                TAG_VQ_TABLE => {
                    let name = str_at(&mut b)?;
                    let (flag, rest) = b.split_first().ok_or("edit ends before a flag")?;
                    b = rest;
                    let populated = match flag {
                        0 => false,
                        1 => true,
                        other => return Err(format!("vq populated flag {other} is not 0 or 1")),
                    };
                    let n = u32_at(&mut b, MAX_VQ_COLUMNS, "a tag column count")?;
                    let mut tag_columns = BTreeSet::new();
                    for _ in 0..n {
                        tag_columns.insert(str_at(&mut b)?);
                    }
                    e.vq_set.push(VqTableRecord {
                        name,
                        tag_columns,
                        populated,
                    });
                }
                other => return Err(format!("unknown edit tag {other}")),
            }
        }
        Ok(e)
    }
}

/// One version-2 record: header and payload.
pub fn encode_record(payload: &[u8]) -> Vec<u8> {
    let len = (payload.len() as u32).to_le_bytes();
    let mut rec = Vec::with_capacity(payload.len() + HEADER_V2);
    rec.extend_from_slice(&len);
    rec.extend_from_slice(&crc32fast::hash(&len).to_le_bytes());
    rec.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    rec.extend_from_slice(payload);
    rec
}

/// What the manifest says, replayed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ManifestState {
    /// Live tables.
    pub records: Vec<TableRecord>,
    /// Files removed from the catalog and not re-added (their files may still exist).
    pub removed: BTreeSet<u64>,
    /// Files allocated and never added (the output of an unfinished flush or compaction).
    pub pending: BTreeSet<u64>,
    pub flushed: SeqNo,
    pub next_file: u64,
    /// The vq tables, by name.
    pub vq_tables: BTreeMap<String, VqTableRecord>,
    /// Valid records replayed.
    pub record_count: usize,
    /// Set when the last record was cut short by a crash: its offset and the bytes ignored.
    pub torn_tail: Option<(u64, u64)>,
}

impl ManifestState {
    fn apply(&mut self, edit: VersionEdit) {
        for (layer, file) in &edit.remove {
            self.records
                .retain(|r| !(r.layer == *layer && r.file == *file));
            if !self.records.iter().any(|r| r.file == *file) {
                self.removed.insert(*file);
            }
        }
        for f in &edit.pending {
            self.pending.insert(*f);
        }
        for r in &edit.add {
            self.pending.remove(&r.file);
            self.removed.remove(&r.file);
        }
        self.records.extend(edit.add);
        if let Some(s) = edit.flushed_seqno {
            self.flushed = s;
        }
        if let Some(n) = edit.next_file {
            self.next_file = self.next_file.max(n);
        }
        for name in &edit.vq_drop {
            self.vq_tables.remove(name);
        }
        for t in edit.vq_set {
            self.vq_tables.insert(t.name.clone(), t);
        }
        for r in &self.records {
            // `decode` refuses u64::MAX, so this never saturates.
            self.next_file = self.next_file.max(r.file.saturating_add(1));
        }
    }

    /// Whether the manifest accounts for table `file` (live, removed or pending).
    pub fn accounts_for(&self, file: u64) -> bool {
        self.records.iter().any(|r| r.file == file)
            || self.removed.contains(&file)
            || self.pending.contains(&file)
    }
}

/// Replay one manifest file strictly (see the module doc).
pub fn replay(path: &Path) -> Result<ManifestState> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .ctx(|| format!("read manifest {}", path.display()))?;
    replay_bytes(path, &buf)
}

/// [`replay`] of bytes already read (`path` names them in errors).
pub fn replay_bytes(path: &Path, buf: &[u8]) -> Result<ManifestState> {
    let (state, damage) = replay_prefix_bytes(path, buf);
    match damage {
        Some(e) => Err(e),
        None => Ok(state),
    }
}

/// Replay a manifest up to its first damaged record (for `strata repair`, which wants what the
/// intact records say): the state they build and the damage, if any.
pub fn replay_prefix(path: &Path) -> Result<(ManifestState, Option<Error>)> {
    let mut buf = Vec::new();
    File::open(path)
        .and_then(|mut f| f.read_to_end(&mut buf))
        .ctx(|| format!("read manifest {}", path.display()))?;
    Ok(replay_prefix_bytes(path, &buf))
}

fn replay_prefix_bytes(path: &Path, buf: &[u8]) -> (ManifestState, Option<Error>) {
    let mut state = ManifestState {
        next_file: 1,
        ..ManifestState::default()
    };
    let damage = replay_into(path, buf, &mut state).err();
    (state, damage)
}

fn replay_into(path: &Path, buf: &[u8], state: &mut ManifestState) -> Result<()> {
    let corrupt = |offset: usize, reason: String| Error::ManifestCorrupt {
        path: path.to_path_buf(),
        offset: offset as u64,
        reason,
    };
    let (v2, mut off) = if buf.starts_with(MAGIC) {
        (true, MAGIC.len())
    } else if buf.len() < MAGIC.len() && MAGIC.starts_with(buf) {
        return Err(corrupt(
            0,
            format!(
                "the file holds {} bytes, not even its header and first record",
                buf.len()
            ),
        ));
    } else {
        (false, 0)
    };
    let header = if v2 { HEADER_V2 } else { HEADER_V1 };
    while off < buf.len() {
        let rest = &buf[off..];
        let Some(head) = rest.get(..header) else {
            state.torn_tail = Some((off as u64, rest.len() as u64));
            break;
        };
        let len_bytes: [u8; 4] = [head[0], head[1], head[2], head[3]];
        let len = u32::from_le_bytes(len_bytes) as usize;
        let crc_at =
            |i: usize| u32::from_le_bytes([head[i], head[i + 1], head[i + 2], head[i + 3]]);
        let payload_crc = if v2 {
            if crc32fast::hash(&len_bytes) != crc_at(4) {
                return Err(corrupt(
                    off,
                    "the record's length does not match its checksum".to_string(),
                ));
            }
            crc_at(8)
        } else {
            crc_at(4)
        };
        let Some(payload) = rest.get(header..header + len) else {
            state.torn_tail = Some((off as u64, rest.len() as u64));
            break;
        };
        if crc32fast::hash(payload) != payload_crc {
            return Err(corrupt(
                off,
                format!("the {len}-byte record does not match its checksum"),
            ));
        }
        let edit = VersionEdit::decode(payload)
            .map_err(|why| corrupt(off, format!("undecodable version edit: {why}")))?;
        state.apply(edit);
        state.record_count += 1;
        off += header + len;
    }
    if state.record_count == 0 {
        return Err(corrupt(
            0,
            "no complete record: a manifest always begins with a snapshot of the catalog"
                .to_string(),
        ));
    }
    Ok(())
}

/// Parse `MANIFEST-NNNNNN` into its number (not the `.tmp` of one being written).
pub fn manifest_number(name: &str) -> Option<u64> {
    let digits = name.strip_prefix("MANIFEST-")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The path of manifest number `no` in `dir`.
pub fn manifest_path(dir: &Path, no: u64) -> PathBuf {
    dir.join(format!("MANIFEST-{no:06}"))
}

/// Manifest files of `dir` (oldest first) and leftovers of interrupted snapshot writes
/// (`MANIFEST-NNNNNN.tmp`).
pub struct ManifestFiles {
    pub manifests: Vec<(u64, PathBuf)>,
    pub temporaries: Vec<PathBuf>,
}

/// List the manifests of the database in `dir`.
pub fn list(dir: &Path) -> Result<ManifestFiles> {
    let mut manifests = Vec::new();
    let mut temporaries = Vec::new();
    for entry in fs::read_dir(dir).ctx(|| format!("list {}", dir.display()))? {
        let entry = entry.ctx(|| format!("list {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if let Some(n) = manifest_number(&name) {
            manifests.push((n, entry.path()));
        } else if name
            .strip_suffix(".tmp")
            .and_then(manifest_number)
            .is_some()
        {
            temporaries.push(entry.path());
        }
    }
    manifests.sort();
    Ok(ManifestFiles {
        manifests,
        temporaries,
    })
}

/// fsync a directory so that file creations, renames and deletions in it are durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx(|| format!("fsync directory {}", dir.display()))
}

/// [`sync_dir`] through `io`.
pub fn sync_dir_with(io: &dyn FileIo, dir: &Path) -> Result<()> {
    io.sync_dir(dir)
        .ctx(|| format!("fsync directory {}", dir.display()))
}

/// Create manifest number `no` in `dir` holding `snapshot` as its first record: written to a
/// temporary name, fsynced, renamed, directory fsynced. Returns the open file (positioned at its
/// end, for appends) and its path. On error no file under the final name exists (a leftover
/// temporary is garbage by construction: the next open removes it).
pub fn write_snapshot(
    io: &Arc<dyn FileIo>,
    dir: &Path,
    no: u64,
    snapshot: &VersionEdit,
) -> Result<(IoFile, PathBuf)> {
    let path = manifest_path(dir, no);
    let tmp = path.with_extension("tmp");
    let written = (|| {
        let mut file = IoFile::create(io.clone(), &tmp, false)
            .ctx(|| format!("create manifest {}", tmp.display()))?;
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&encode_record(&snapshot.encode()));
        file.write_all(&bytes)
            .ctx(|| format!("write manifest {}", tmp.display()))?;
        file.sync_all()
            .ctx(|| format!("fsync manifest {}", tmp.display()))?;
        io.rename(&tmp, &path)
            .ctx(|| format!("rename {} to {}", tmp.display(), path.display()))?;
        Ok(file)
    })();
    match written {
        Ok(file) => {
            sync_dir_with(io.as_ref(), dir)?;
            Ok((file, path))
        }
        Err(e) => {
            let _ = io.remove(&tmp);
            Err(e)
        }
    }
}

/// The open manifest of a database: appends records, each fsynced.
pub struct ManifestWriter {
    io: Arc<dyn FileIo>,
    file: IoFile,
    path: PathBuf,
    no: u64,
    /// Bytes of complete records in the file.
    len: u64,
    /// Set when an append failed and the file's tail could not be restored: the next append
    /// starts a new manifest from a snapshot instead (see [`ManifestWriter::needs_rollover`]).
    broken: bool,
}

impl ManifestWriter {
    /// A writer appending to `file` (manifest number `no`, `len` bytes long).
    pub fn new(
        io: Arc<dyn FileIo>,
        file: IoFile,
        path: PathBuf,
        no: u64,
        len: u64,
    ) -> ManifestWriter {
        ManifestWriter {
            io,
            file,
            path,
            no,
            len,
            broken: false,
        }
    }

    /// Create manifest `no` from `snapshot` ([`write_snapshot`]).
    pub fn create(
        io: &Arc<dyn FileIo>,
        dir: &Path,
        no: u64,
        snapshot: &VersionEdit,
    ) -> Result<ManifestWriter> {
        let (file, path) = write_snapshot(io, dir, no, snapshot)?;
        let len = file
            .len()
            .ctx(|| format!("stat manifest {}", path.display()))?;
        Ok(ManifestWriter::new(io.clone(), file, path, no, len))
    }

    /// Whether a failed append left this manifest unusable: the next edit must be written to a
    /// new manifest holding a snapshot of the catalog.
    pub fn needs_rollover(&self) -> bool {
        self.broken
    }

    /// The manifest's number.
    pub fn number(&self) -> u64 {
        self.no
    }

    /// The manifest's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append one edit and fsync it. On failure the file is cut back to its last complete
    /// record where possible; if the write or fsync failed the manifest is marked for rollover
    /// (after a failed fsync nothing says what reached the disk).
    pub fn append(&mut self, edit: &VersionEdit) -> Result<()> {
        let rec = encode_record(&edit.encode());
        let res = self
            .file
            .write_all(&rec)
            .ctx(|| format!("append to manifest {}", self.path.display()))
            .and_then(|()| {
                self.file
                    .sync_data()
                    .ctx(|| format!("fsync manifest {}", self.path.display()))
            });
        match res {
            Ok(()) => {
                self.len += rec.len() as u64;
                Ok(())
            }
            Err(e) => {
                // Best effort: drop a partial record so the file ends on a complete one. Either
                // way this file takes no more appends.
                let _ = self.file.truncate(self.len);
                self.broken = true;
                Err(e)
            }
        }
    }

    /// Replace this manifest with manifest `no + 1` holding `snapshot`, then delete this one.
    pub fn roll_over(&mut self, dir: &Path, snapshot: &VersionEdit) -> Result<()> {
        let next = ManifestWriter::create(&self.io, dir, self.no + 1, snapshot)?;
        let old = std::mem::replace(self, next);
        self.io
            .remove(&old.path)
            .ctx(|| format!("remove old manifest {}", old.path.display()))?;
        sync_dir_with(self.io.as_ref(), dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edit(files: &[u64]) -> VersionEdit {
        VersionEdit {
            add: files
                .iter()
                .map(|&f| TableRecord {
                    layer: 0,
                    file: f,
                    min_seq: f,
                    max_seq: f + 1,
                })
                .collect(),
            remove: vec![],
            pending: vec![],
            flushed_seqno: Some(3),
            next_file: Some(10),
            ..VersionEdit::default()
        }
    }

    /// Found by the `manifest_replay` fuzz target: a (checksummed) record adding table number
    /// u64::MAX overflowed `next_file` (a panic in debug builds; in release, a `next_file` at or
    /// below a live table's number, which the next flush would reuse).
    #[test]
    fn a_table_number_with_no_successor_is_corrupt() {
        let mut e = edit(&[5]);
        e.add[0].file = u64::MAX;
        let why = VersionEdit::decode(&e.encode()).expect_err("table u64::MAX");
        assert!(why.contains("out of range"), "{why}");
        let mut buf = MAGIC.to_vec();
        buf.extend(encode_record(&e.encode()));
        let err = replay_bytes(Path::new("MANIFEST-000001"), &buf).expect_err("refused");
        assert!(
            matches!(err, Error::ManifestCorrupt { offset: 8, .. }),
            "{err}"
        );
        e.add[0].file = u64::MAX - 1;
        buf.truncate(MAGIC.len());
        buf.extend(encode_record(&e.encode()));
        let state = replay_bytes(Path::new("MANIFEST-000001"), &buf).expect("the largest usable");
        assert_eq!(state.next_file, u64::MAX);
    }

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
            pending: vec![11, 12],
            flushed_seqno: Some(7),
            next_file: Some(13),
            vq_drop: vec!["gone".into()],
            vq_set: vec![vq_table("weather", &["city", "unit"], true)],
        };
        assert_eq!(VersionEdit::decode(&e.encode()), Ok(e));
        assert!(VersionEdit::decode(&[9]).is_err());
        assert!(VersionEdit::decode(&[TAG_ADD, 8]).is_err());
        assert!(VersionEdit::decode(&[TAG_VQ_DROP, 0, 0, 0, 0]).is_err());
        assert!(VersionEdit::decode(&[TAG_VQ_DROP, 5, 0, 0, 0, b'a']).is_err());
        assert!(VersionEdit::decode(&[TAG_VQ_TABLE, 1, 0, 0, 0, b'a', 2, 0, 0, 0, 0]).is_err());
        assert!(VersionEdit::decode(&[TAG_VQ_TABLE, 1, 0, 0, 0, 0xff, 0, 0, 0, 0, 0]).is_err());
    }

    fn vq_table(name: &str, cols: &[&str], populated: bool) -> VqTableRecord {
        VqTableRecord {
            name: name.into(),
            tag_columns: cols.iter().map(|c| c.to_string()).collect(),
            populated,
        }
    }

    /// vq tables replay in order (a drop then a set of the same name re-creates it), and a
    /// damaged vq record stops the replay naming its offset, like any other record.
    #[test]
    fn vq_tables_replay_and_damage_is_reported() {
        let p = Path::new("MANIFEST-000002");
        let edits = [
            edit(&[1]),
            VersionEdit {
                vq_set: vec![vq_table("a", &["k"], false), vq_table("b", &[], false)],
                ..VersionEdit::default()
            },
            VersionEdit {
                vq_drop: vec!["a".into(), "b".into()],
                vq_set: vec![vq_table("b", &["x", "y"], true)],
                ..VersionEdit::default()
            },
        ];
        let b = manifest_bytes(&edits);
        let s = replay_bytes(p, &b).unwrap();
        assert_eq!(s.vq_tables.len(), 1);
        assert_eq!(s.vq_tables["b"], vq_table("b", &["x", "y"], true));
        assert_eq!(s.records.len(), 1);
        // A payload that checks out but does not decode (an unknown populated flag).
        let mut bad = VersionEdit {
            vq_set: vec![vq_table("c", &[], false)],
            ..VersionEdit::default()
        }
        .encode();
        let flag = 1 + 4 + 1;
        bad[flag] = 7;
        let mut b2 = manifest_bytes(&edits[..1]);
        let off = b2.len();
        b2.extend_from_slice(&encode_record(&bad));
        match replay_bytes(p, &b2) {
            Err(Error::ManifestCorrupt { offset, reason, .. }) => {
                assert_eq!(offset, off as u64);
                assert!(reason.contains("populated flag"), "{reason}");
            }
            other => panic!("{other:?}"),
        }
    }

    fn manifest_bytes(edits: &[VersionEdit]) -> Vec<u8> {
        let mut b = MAGIC.to_vec();
        for e in edits {
            b.extend_from_slice(&encode_record(&e.encode()));
        }
        b
    }

    #[test]
    fn pending_removed_and_live_are_told_apart() {
        let p = Path::new("MANIFEST-000001");
        let edits = [
            edit(&[1, 2]),
            VersionEdit {
                pending: vec![3, 4],
                ..VersionEdit::default()
            },
            VersionEdit {
                add: vec![TableRecord {
                    layer: 1,
                    file: 3,
                    min_seq: 1,
                    max_seq: 3,
                }],
                remove: vec![(0, 1), (0, 2)],
                ..VersionEdit::default()
            },
        ];
        let s = replay_bytes(p, &manifest_bytes(&edits)).unwrap();
        assert_eq!(s.records.len(), 1);
        assert_eq!(s.removed, BTreeSet::from([1, 2]));
        assert_eq!(s.pending, BTreeSet::from([4]));
        assert!(s.accounts_for(4) && s.accounts_for(1) && s.accounts_for(3));
        assert!(!s.accounts_for(5));
        assert_eq!(s.next_file, 10);
    }

    #[test]
    fn every_single_byte_change_is_detected_or_harmless() {
        let p = Path::new("MANIFEST-000001");
        let good = manifest_bytes(&[edit(&[1, 2]), edit(&[5])]);
        let clean = replay_bytes(p, &good).unwrap();
        for offset in 0..good.len() {
            for delta in [1u8, 0x80, 0xff] {
                let mut bad = good.clone();
                bad[offset] = bad[offset].wrapping_add(delta);
                match replay_bytes(p, &bad) {
                    Err(Error::ManifestCorrupt { offset: at, .. }) => {
                        assert!(
                            at as usize <= offset,
                            "reported {at} for damage at {offset}"
                        )
                    }
                    // A change of the magic makes it parse as the old format, which must fail.
                    Err(other) => panic!("offset {offset}: unexpected error {other}"),
                    Ok(s) => panic!(
                        "offset {offset} +{delta}: undetected, replayed {s:?} (clean {clean:?})"
                    ),
                }
            }
        }
    }

    #[test]
    fn a_torn_tail_is_the_only_damage_tolerated() {
        let p = Path::new("MANIFEST-000001");
        let good = manifest_bytes(&[edit(&[1]), edit(&[5])]);
        let first_len = MAGIC.len() + HEADER_V2 + edit(&[1]).encode().len();
        for cut in first_len..good.len() {
            let s = replay_bytes(p, &good[..cut]).unwrap();
            assert_eq!(s.record_count, 1);
            assert_eq!(s.torn_tail.is_some(), cut > first_len);
        }
        for cut in 0..first_len {
            assert!(
                matches!(
                    replay_bytes(p, &good[..cut]),
                    Err(Error::ManifestCorrupt { .. })
                ),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn old_format_is_still_read() {
        let p = Path::new("MANIFEST-000001");
        let payload = edit(&[1, 2]).encode();
        let mut b = (payload.len() as u32).to_le_bytes().to_vec();
        b.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        b.extend_from_slice(&payload);
        let s = replay_bytes(p, &b).unwrap();
        assert_eq!(s.records.len(), 2);
        b[HEADER_V1 + 2] ^= 1;
        assert!(matches!(
            replay_bytes(p, &b),
            Err(Error::ManifestCorrupt { .. })
        ));
    }

    #[test]
    fn snapshot_is_renamed_into_place_whole() {
        let dir = tempfile::tempdir().unwrap();
        let io = crate::file_io::real();
        let mut w = ManifestWriter::create(&io, dir.path(), 1, &edit(&[1])).unwrap();
        w.append(&edit(&[2])).unwrap();
        let files = list(dir.path()).unwrap();
        assert_eq!(files.manifests.len(), 1);
        assert!(files.temporaries.is_empty());
        let s = replay(&files.manifests[0].1).unwrap();
        assert_eq!((s.records.len(), s.record_count), (2, 2));
        w.roll_over(dir.path(), &edit(&[7])).unwrap();
        let files = list(dir.path()).unwrap();
        assert_eq!(files.manifests.len(), 1);
        assert_eq!(files.manifests[0].0, 2);
    }
}
