//! `strata repair DATA_DIR`: rebuild each database's catalog (its manifest) from the SSTables
//! themselves, for when the manifest is damaged or missing.
//!
//! Nothing is deleted. Per database, repair:
//! 1. replays what is intact of the newest manifest (the records before its first damage);
//! 2. opens and fully verifies every table file ([`Table::verify`]); a table that does not open
//!    or has a damaged block is *set aside*, as is a file the intact records say was removed
//!    from the catalog or never finished, and the older of two tables with the same provenance
//!    (a delete rewrites a table with its provenance unchanged, so the older one holds points
//!    that were deleted);
//! 3. copies every manifest into a backup folder `DB/repair-<unix seconds>/` and moves the
//!    set-aside tables into its `sst/`;
//! 4. writes a new manifest (whole, by rename) naming every other table with its layer and
//!    sequence range — from the table's own footer (format v6 and later), else from the intact
//!    manifest records, else layer 0 with sequence range 0 (older than every write) — then
//!    removes the old manifests from the database directory.
//!
//! The WAL is left as it is: the next start replays what in it is newer than the tables.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::db::{database_dirs, lock_data_dir};
use crate::error::{IoContext, Result};
use crate::manifest::{self, ManifestState, ManifestWriter, TableRecord, VersionEdit, LAYERS};
use crate::sstable::Table;
use crate::types::SeqNo;
use crate::version::{list_tables, sync_dir};

/// Where an adopted table's layer and sequence range came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProvenanceSource {
    /// The table's own footer (format v6 and later).
    Footer,
    /// The intact records of the old manifest.
    Manifest,
    /// Neither: layer 0, sequence range 0..=0 (older than every other write).
    Unknown,
}

/// A table named by the new manifest.
#[derive(Debug, Clone)]
pub struct AdoptedTable {
    pub record: TableRecord,
    pub source: ProvenanceSource,
}

/// A file moved into the backup folder instead of being named by the new manifest.
#[derive(Debug, Clone)]
pub struct SetAside {
    /// Where it was.
    pub path: PathBuf,
    /// Where it is now.
    pub moved_to: PathBuf,
    pub reason: String,
}

/// What repair did to one database.
#[derive(Debug, Clone)]
pub struct DatabaseRepair {
    pub name: String,
    /// Holds a copy of every manifest the database had, and the set-aside tables.
    pub backup_dir: PathBuf,
    /// The first damage of the old newest manifest (`None` if it had none, or there was none).
    pub old_manifest_damage: Option<String>,
    pub adopted: Vec<AdoptedTable>,
    pub set_aside: Vec<SetAside>,
    /// The flushed seqno of the new manifest (the highest sequence number in an adopted table).
    pub flushed: SeqNo,
    /// The new manifest.
    pub manifest: PathBuf,
}

/// Repair every database of `data_dir` (or only `only`). Takes the data directory's lock, so it
/// refuses to run beside a daemon.
pub fn repair(data_dir: &Path, only: Option<&str>) -> Result<Vec<DatabaseRepair>> {
    let _lock = lock_data_dir(data_dir)?;
    let mut out = Vec::new();
    for (name, dir) in database_dirs(data_dir)? {
        if only.is_some_and(|o| o != name) {
            continue;
        }
        out.push(repair_database(&name, &dir)?);
    }
    if let Some(o) = only {
        if out.is_empty() {
            return Err(crate::Error::DatabaseNotFound(o.to_string()));
        }
    }
    Ok(out)
}

/// Rebuild the manifest of the database in `dir`.
pub fn repair_database(name: &str, dir: &Path) -> Result<DatabaseRepair> {
    let files = manifest::list(dir)?;
    let (prefix, damage) = match files.manifests.last() {
        Some((_, path)) => {
            let (state, damage) = manifest::replay_prefix(path)?;
            (state, damage.map(|e| e.to_string()))
        }
        None => (ManifestState::default(), None),
    };

    let mut adopted: Vec<(AdoptedTable, PathBuf)> = Vec::new();
    let mut aside: Vec<(PathBuf, String)> = Vec::new();
    for (no, path) in list_tables(dir)? {
        let live_in_prefix = prefix.records.iter().find(|r| r.file == no);
        if live_in_prefix.is_none() && prefix.removed.contains(&no) {
            aside.push((path, "the manifest removed it from the catalog".to_string()));
            continue;
        }
        if live_in_prefix.is_none() && prefix.pending.contains(&no) {
            aside.push((
                path,
                "the output of a flush or compaction that never finished".to_string(),
            ));
            continue;
        }
        let table = match Table::open(&path) {
            Ok(t) => t,
            Err(e) => {
                aside.push((path.clone(), format!("does not open: {e}")));
                continue;
            }
        };
        let verified = table.verify();
        if let Some(first) = verified.damage.first() {
            aside.push((
                path,
                format!(
                    "{} damaged block(s), the first: {first}",
                    verified.damage.len()
                ),
            ));
            continue;
        }
        let (record, source) = match (table.provenance(), live_in_prefix) {
            (Some(p), _) => (
                TableRecord {
                    layer: p.layer.min(LAYERS - 1),
                    file: no,
                    min_seq: p.min_seq,
                    max_seq: p.max_seq,
                },
                ProvenanceSource::Footer,
            ),
            (None, Some(r)) => (r.clone(), ProvenanceSource::Manifest),
            (None, None) => (
                TableRecord {
                    layer: 0,
                    file: no,
                    min_seq: 0,
                    max_seq: 0,
                },
                ProvenanceSource::Unknown,
            ),
        };
        adopted.push((AdoptedTable { record, source }, path));
    }

    // Two tables with one footer provenance: a delete rewrote the older one.
    adopted.sort_by_key(|(t, _)| t.record.file);
    let mut kept: Vec<(AdoptedTable, PathBuf)> = Vec::new();
    for (table, path) in adopted.into_iter().rev() {
        let newer = kept.iter().find(|(k, _)| {
            table.source == ProvenanceSource::Footer
                && k.source == ProvenanceSource::Footer
                && (k.record.layer, k.record.min_seq, k.record.max_seq)
                    == (
                        table.record.layer,
                        table.record.min_seq,
                        table.record.max_seq,
                    )
        });
        if let Some((k, _)) = newer {
            aside.push((
                path,
                format!(
                    "table {:08} has the same layer and sequence range and is newer (a delete \
                     rewrote this one)",
                    k.record.file
                ),
            ));
        } else {
            kept.push((table, path));
        }
    }
    kept.reverse();

    // The backup: every manifest copied, every set-aside table moved.
    let stamp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut backup_dir = dir.join(format!("repair-{stamp}"));
    let mut n = 1;
    while backup_dir.exists() {
        backup_dir = dir.join(format!("repair-{stamp}-{n}"));
        n += 1;
    }
    let backup_sst = backup_dir.join("sst");
    fs::create_dir_all(&backup_sst).ctx(|| format!("create {}", backup_sst.display()))?;
    for path in files
        .manifests
        .iter()
        .map(|(_, p)| p)
        .chain(&files.temporaries)
    {
        let Some(file_name) = path.file_name() else {
            continue;
        };
        let to = backup_dir.join(file_name);
        fs::copy(path, &to).ctx(|| format!("copy {} to {}", path.display(), to.display()))?;
        fs::File::open(&to)
            .and_then(|f| f.sync_all())
            .ctx(|| format!("fsync {}", to.display()))?;
    }
    let mut set_aside = Vec::new();
    for (path, reason) in aside {
        let Some(file_name) = path.file_name() else {
            continue;
        };
        let to = backup_sst.join(file_name);
        fs::rename(&path, &to).ctx(|| format!("move {} to {}", path.display(), to.display()))?;
        tracing::warn!(file = %path.display(), moved_to = %to.display(), %reason, "repair set a table aside");
        set_aside.push(SetAside {
            path,
            moved_to: to,
            reason,
        });
    }
    sync_dir(&backup_sst)?;
    sync_dir(&backup_dir)?;
    sync_dir(&dir.join("sst")).or_else(|e| {
        if dir.join("sst").exists() {
            Err(e)
        } else {
            Ok(())
        }
    })?;

    // The new manifest, then the old ones go (their copies are in the backup).
    let records: Vec<TableRecord> = kept.iter().map(|(t, _)| t.record.clone()).collect();
    let flushed = records.iter().map(|r| r.max_seq).max().unwrap_or(0);
    let next_file = records
        .iter()
        .map(|r| r.file + 1)
        .max()
        .unwrap_or(1)
        .max(prefix.next_file)
        .max(set_aside_next(&set_aside));
    let next_no = files.manifests.last().map_or(1, |(no, _)| no + 1);
    let writer = ManifestWriter::create(
        &crate::file_io::real(),
        dir,
        next_no,
        &VersionEdit {
            add: records,
            flushed_seqno: Some(flushed),
            next_file: Some(next_file),
            // The vq tables the intact records name (what the damage cut off is lost).
            vq_set: prefix.vq_tables.values().cloned().collect(),
            ..VersionEdit::default()
        },
    )?;
    for path in files
        .manifests
        .iter()
        .map(|(_, p)| p)
        .chain(&files.temporaries)
    {
        fs::remove_file(path).ctx(|| format!("remove old manifest {}", path.display()))?;
    }
    sync_dir(dir)?;
    Ok(DatabaseRepair {
        name: name.to_string(),
        backup_dir,
        old_manifest_damage: damage,
        adopted: kept.into_iter().map(|(t, _)| t).collect(),
        set_aside,
        flushed,
        manifest: writer.path().to_path_buf(),
    })
}

/// Past every set-aside file's number: new tables never reuse one.
fn set_aside_next(aside: &[SetAside]) -> u64 {
    aside
        .iter()
        .filter_map(|s| {
            crate::version::table_number(&s.path.file_name()?.to_string_lossy()).map(|n| n + 1)
        })
        .max()
        .unwrap_or(1)
}

/// The report `strata repair` prints.
pub fn render(reports: &[DatabaseRepair]) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    if reports.is_empty() {
        out.push_str("no databases to repair\n");
    }
    for r in reports {
        let _ = writeln!(out, "database {}", r.name);
        match &r.old_manifest_damage {
            Some(d) => {
                let _ = writeln!(out, "  old manifest: {d}");
            }
            None => {
                let _ = writeln!(out, "  old manifest: no damage found");
            }
        }
        let _ = writeln!(out, "  backup: {}", r.backup_dir.display());
        for t in &r.adopted {
            let source = match t.source {
                ProvenanceSource::Footer => "from its footer",
                ProvenanceSource::Manifest => "from the old manifest",
                ProvenanceSource::Unknown => {
                    "unknown (a pre-v6 table the old manifest does not name): placed in C0 as \
                     older than every other write"
                }
            };
            let _ = writeln!(
                out,
                "  adopted {:08}.sst: C{} seq {}..={} ({source})",
                t.record.file, t.record.layer, t.record.min_seq, t.record.max_seq
            );
        }
        for s in &r.set_aside {
            let _ = writeln!(
                out,
                "  set aside {} -> {}: {}",
                s.path.display(),
                s.moved_to.display(),
                s.reason
            );
        }
        let _ = writeln!(
            out,
            "  new manifest {} names {} table(s), flushed seqno {}",
            r.manifest.display(),
            r.adopted.len(),
            r.flushed
        );
    }
    out
}
