//! Quarantine: a table file found corrupt is taken out of the catalog and moved aside into
//! `DB/quarantine/`, so the rest of the database keeps serving and compaction goes on without it.
//!
//! What triggers it: a query or a compaction (regular or major) reading a block of a live table
//! gets [`Error::Corrupt`] naming that table's file, or a live table fails [`Table::open`] with
//! [`Error::Corrupt`] when the database opens (I/O errors and missing files never quarantine).
//!
//! On disk, per quarantined table `NNNNNNNN.sst`:
//! * `DB/quarantine/NNNNNNNN.sst`: the table file itself, moved by rename (never deleted by
//!   strata);
//! * `DB/quarantine/NNNNNNNN.sst.reason`: when, why, and its catalog record (layer and seqno
//!   range), written whole (temporary file, fsync, rename, directory fsync).
//!
//! The list of quarantined tables *is* the set of `.sst` files in `DB/quarantine/` ([`list`]): it
//! survives restarts, and an operator clears an entry by removing (or moving elsewhere) its two
//! files; `/health` passes again at once.
//!
//! **Order, and why every crash point is consistent.** Under the manifest lock
//! ([`VersionSet::quarantine_table`], so no flush or compaction edit interleaves):
//! 1. write the reason file. A crash here leaves a reason file without its table: stale, ignored
//!    by [`list`] (and overwritten if the table is quarantined again); the table is still live;
//! 2. rename `sst/N` to `quarantine/N.sst`, fsync `quarantine/` then `sst/`. A crash after the
//!    rename but before step 3 leaves a manifest that names N live while `sst/N` is gone: the
//!    open treats a live table whose file is in `quarantine/` as quarantined (left out of the
//!    catalog, not "missing"), so it never stops the open and never deletes anything;
//! 3. log the remove edit (fsynced) and publish a version without the table. Had the edit come
//!    first, a crash before the rename would leave `sst/N` named as removed by the manifest, and
//!    the next open deletes such files as garbage: the rename must come first.
//!
//! The table's [`TableHandle`](crate::version::TableHandle) is marked to keep its file, and it
//! is never marked obsolete, so the [`TableDeleter`](crate::version::TableDeleter) does not
//! touch it when the last reader's version drops it (readers still holding it keep reading
//! through their open descriptor).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::database::{now_ns, Database};
use crate::error::{Error, IoContext, Result};
use crate::file_io::{FileIo, IoFile};
use crate::manifest::{sync_dir_with, TableRecord};
use crate::version::{table_number, VersionSet};

/// The quarantine directory of a database directory.
pub const DIR: &str = "quarantine";
const REASON_SUFFIX: &str = ".reason";

/// One quarantined table, as [`list`] finds it.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantinedTable {
    /// Its file number (`NNNNNNNN.sst`).
    pub file: u64,
    /// Where the file is now (`DB/quarantine/NNNNNNNN.sst`).
    pub path: PathBuf,
    /// Why it was quarantined.
    pub reason: String,
    /// When (ns since the epoch), if the reason file says.
    pub time_ns: Option<i64>,
    /// Its catalog record when it was quarantined, if the reason file says.
    pub record: Option<TableRecord>,
}

impl QuarantinedTable {
    /// `00000042.sst (C1, seq 3..=9) quarantined at 2024-…Z: reason`.
    pub fn describe(&self) -> String {
        let rec = self.record.as_ref().map_or(String::new(), |r| {
            format!(" (C{}, seq {}..={})", r.layer, r.min_seq, r.max_seq)
        });
        let at = self.time_ns.map_or(String::new(), |t| {
            format!(" at {}", crate::compaction::rfc3339(t))
        });
        format!(
            "table {:08}.sst{rec} quarantined{at} in {}: {}",
            self.file,
            self.path.display(),
            self.reason
        )
    }
}

/// What [`Database::quarantine`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The table was live: it is out of the catalog now, its file moved to this path.
    Quarantined(PathBuf),
    /// It was quarantined before (by a concurrent reader or compaction): its file is here.
    AlreadyQuarantined(PathBuf),
    /// Not a live table of the database (a compaction or delete already replaced it): nothing
    /// was done.
    NotLive,
}

/// `DB/quarantine/NNNNNNNN.sst`.
pub fn quarantined_path(db_dir: &Path, file: u64) -> PathBuf {
    db_dir.join(DIR).join(format!("{file:08}.sst"))
}

fn reason_path(db_dir: &Path, file: u64) -> PathBuf {
    db_dir
        .join(DIR)
        .join(format!("{file:08}.sst{REASON_SUFFIX}"))
}

/// Move table `record.file` from `DB/sst/` into `DB/quarantine/` with its reason file (steps 1
/// and 2 of the module docs; the caller holds the manifest lock or owns the database alone).
/// Idempotent: a file already moved is left where it is. Returns the new path.
pub(crate) fn move_aside(
    io: &Arc<dyn FileIo>,
    db_dir: &Path,
    record: &TableRecord,
    reason: &str,
) -> Result<PathBuf> {
    let sync_dir = |dir: &Path| sync_dir_with(io.as_ref(), dir);
    let qdir = db_dir.join(DIR);
    if !qdir.is_dir() {
        io.create_dir_all(&qdir)
            .ctx(|| format!("create {}", qdir.display()))?;
        sync_dir(db_dir)?;
    }
    let from = crate::version::table_path(db_dir, record.file);
    let to = quarantined_path(db_dir, record.file);
    if !from.exists() && to.exists() {
        return Ok(to);
    }
    // 1. The reason, whole or not at all.
    let text = format!(
        "time_ns {}\nlayer {}\nseq {} {}\nreason {}\n",
        now_ns(),
        record.layer,
        record.min_seq,
        record.max_seq,
        reason.replace('\n', " ")
    );
    let rpath = reason_path(db_dir, record.file);
    let tmp = rpath.with_extension("reason.tmp");
    {
        let mut f =
            IoFile::create(io.clone(), &tmp, false).ctx(|| format!("create {}", tmp.display()))?;
        f.write_all(text.as_bytes())
            .ctx(|| format!("write {}", tmp.display()))?;
        f.sync_all().ctx(|| format!("fsync {}", tmp.display()))?;
    }
    io.rename(&tmp, &rpath)
        .ctx(|| format!("rename {} to {}", tmp.display(), rpath.display()))?;
    // 2. The table itself: both directories fsynced, the new entry first.
    io.rename(&from, &to)
        .ctx(|| format!("move {} to {}", from.display(), to.display()))?;
    sync_dir(&qdir)?;
    if let Some(sst) = from.parent() {
        sync_dir(sst)?;
    }
    Ok(to)
}

/// The quarantined tables of the database in `db_dir`, by file number (read-only; a database
/// without a quarantine directory has none).
pub fn list(db_dir: &Path) -> Result<Vec<QuarantinedTable>> {
    let qdir = db_dir.join(DIR);
    let entries = match fs::read_dir(&qdir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(Error::io(format!("list {}", qdir.display()), e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.ctx(|| format!("list {}", qdir.display()))?;
        let Some(file) = table_number(&entry.file_name().to_string_lossy()) else {
            continue;
        };
        let mut q = QuarantinedTable {
            file,
            path: entry.path(),
            reason: "no reason recorded (its .reason file is missing)".to_string(),
            time_ns: None,
            record: None,
        };
        if let Ok(text) = fs::read_to_string(reason_path(db_dir, file)) {
            parse_reason(&text, &mut q);
        }
        out.push(q);
    }
    out.sort_by_key(|q| q.file);
    Ok(out)
}

fn parse_reason(text: &str, q: &mut QuarantinedTable) {
    let (mut layer, mut seq) = (None, None);
    for line in text.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match key {
            "time_ns" => q.time_ns = value.parse().ok(),
            "layer" => layer = value.parse::<usize>().ok(),
            "seq" => {
                seq = value
                    .split_once(' ')
                    .and_then(|(a, b)| Some((a.parse().ok()?, b.parse().ok()?)))
            }
            "reason" => q.reason = value.to_string(),
            _ => {}
        }
    }
    if let (Some(layer), Some((min_seq, max_seq))) = (layer, seq) {
        q.record = Some(TableRecord {
            layer,
            file: q.file,
            min_seq,
            max_seq,
        });
    }
}

/// Quarantine live table `file` of the catalog `versions` (see the module docs for the order):
/// one remove edit, the file moved into `DB/quarantine/`, an error logged naming it and
/// `reason`. `db` names the database in the log.
pub fn quarantine(versions: &VersionSet, db: &str, file: u64, reason: &str) -> Result<Outcome> {
    let dir = versions.dir().to_path_buf();
    let gone = || {
        let q = quarantined_path(&dir, file);
        if q.exists() {
            Outcome::AlreadyQuarantined(q)
        } else {
            Outcome::NotLive
        }
    };
    let Some(t) = versions
        .current()
        .layers
        .iter()
        .flatten()
        .find(|t| t.file == file)
        .cloned()
    else {
        return Ok(gone());
    };
    let record = TableRecord {
        layer: t.layer,
        file: t.file,
        min_seq: t.min_seq,
        max_seq: t.max_seq,
    };
    match versions.quarantine_table(&t, || move_aside(versions.io(), &dir, &record, reason)) {
        Ok(to) => {
            tracing::error!(
                db,
                file = %t.table.path().display(),
                moved_to = %to.display(),
                reason,
                "corrupt table quarantined: removed from the catalog and moved aside; the rest \
                 of the database keeps serving (see /health; remove the file from the \
                 quarantine directory to clear it)"
            );
            Ok(Outcome::Quarantined(to))
        }
        Err(Error::VersionConflict { .. }) => Ok(gone()),
        Err(e) => Err(e),
    }
}

/// The file number of `path` if it is a table file of the database in `db_dir` (`DB/sst/N.sst`).
pub fn table_of(db_dir: &Path, path: &Path) -> Option<u64> {
    if path.parent() != Some(db_dir.join("sst").as_path()) {
        return None;
    }
    table_number(&path.file_name()?.to_string_lossy())
}

impl Database {
    /// Quarantine live table `file` because of `reason`: remove it from the catalog (one
    /// manifest edit), move its file into `DB/quarantine/` with the reason, log an error. See
    /// [`crate::quarantine`].
    pub fn quarantine(&self, file: u64, reason: &str) -> Result<Outcome> {
        quarantine(&self.versions, self.name(), file, reason)
    }

    /// The tables of this database in quarantine (from `DB/quarantine/`).
    pub fn quarantined(&self) -> Result<Vec<QuarantinedTable>> {
        list(self.dir())
    }

    /// What a read of this database's tables (a query) answers for error `e`: an
    /// [`Error::Corrupt`] naming one of its table files quarantines that table and becomes
    /// [`Error::TableQuarantined`]; any other error is returned as it is.
    pub fn quarantine_on_corrupt(&self, e: Error) -> Error {
        let Error::Corrupt { path, reason } = e else {
            return e;
        };
        let Some(file) = table_of(self.dir(), &path) else {
            return Error::Corrupt { path, reason };
        };
        let moved_to = match self.quarantine(file, &reason) {
            Ok(Outcome::Quarantined(to) | Outcome::AlreadyQuarantined(to)) => to,
            Ok(Outcome::NotLive) => return Error::Corrupt { path, reason },
            Err(qe) => {
                tracing::error!(db = self.name(), file = %path.display(), error = %qe, "could not quarantine a corrupt table");
                return Error::Corrupt { path, reason };
            }
        };
        Error::TableQuarantined(Box::new(crate::error::QuarantinedRead {
            db: self.name().to_string(),
            path,
            moved_to,
            reason,
        }))
    }
}

#[cfg(test)]
#[path = "quarantine_tests.rs"]
mod tests;
