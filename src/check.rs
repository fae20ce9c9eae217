//! `strata check DATA_DIR`: verify everything on disk, read-only — every manifest record, that
//! the manifest accounts for every table file, every SSTable's footer, index and every block's
//! checksum and contents, and every WAL record — and list what is damaged with the file, the
//! byte offset and what the damaged bytes hold.
//!
//! It changes nothing, so it may run beside a daemon; what the daemon writes meanwhile (a WAL
//! record or manifest edit half-written at that instant) can show as a torn tail, which is not
//! damage.

use std::fmt::Write;
use std::path::{Path, PathBuf};

use crate::db::database_dirs;
use crate::error::Result;
use crate::manifest;
use crate::sstable::Table;
use crate::version::list_tables;
use crate::wal;

/// One damaged thing.
#[derive(Debug, Clone, PartialEq)]
pub struct Damage {
    /// The damaged file.
    pub file: PathBuf,
    /// Byte offset of the damage in it, where one is known.
    pub offset: Option<u64>,
    /// What is wrong, and what the damaged bytes hold.
    pub what: String,
}

/// What `strata check` found.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// Every damage found.
    pub damage: Vec<Damage>,
    /// The readable report: one section per database.
    pub text: String,
}

impl CheckReport {
    /// Whether nothing is damaged.
    pub fn is_clean(&self) -> bool {
        self.damage.is_empty()
    }

    fn damaged(&mut self, file: &Path, offset: Option<u64>, what: String) {
        let at = offset.map_or(String::new(), |o| format!(" at byte {o}"));
        let _ = writeln!(self.text, "  DAMAGED {}{at}: {what}", file.display());
        self.damage.push(Damage {
            file: file.to_path_buf(),
            offset,
            what,
        });
    }

    fn note(&mut self, line: String) {
        let _ = writeln!(self.text, "  {line}");
    }
}

/// Check every database of `data_dir`.
pub fn check(data_dir: &Path) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let dbs = database_dirs(data_dir)?;
    if dbs.is_empty() {
        let _ = writeln!(report.text, "no databases in {}", data_dir.display());
    }
    for (name, dir) in dbs {
        let _ = writeln!(report.text, "database {name}");
        check_database(&dir, &mut report)?;
    }
    check_users(data_dir, &mut report)?;
    let _ = writeln!(
        report.text,
        "{}",
        if report.is_clean() {
            "no damage found".to_string()
        } else {
            format!("{} damaged item(s)", report.damage.len())
        }
    );
    Ok(report)
}

/// The user catalog (`DATA_DIR/.users`), if there is one.
fn check_users(data_dir: &Path, report: &mut CheckReport) -> Result<()> {
    use crate::auth::AuthError;
    match crate::auth::store::load(data_dir) {
        Ok(c) if c.is_empty() => {}
        Ok(c) => {
            let _ = writeln!(report.text, "users");
            report.note(format!(
                "{}: {} user(s), intact",
                crate::auth::store::path(data_dir).display(),
                c.users.len()
            ));
        }
        Err(crate::Error::Auth(AuthError::CatalogCorrupt {
            path,
            offset,
            reason,
        })) => {
            let _ = writeln!(report.text, "users");
            report.damaged(&path, Some(offset as u64), reason);
        }
        Err(crate::Error::Auth(e @ AuthError::CatalogVersion { .. })) => {
            let _ = writeln!(report.text, "users");
            report.note(e.to_string());
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

fn check_database(dir: &Path, report: &mut CheckReport) -> Result<()> {
    // The manifest: strict replay of the newest; what its intact records say for accounting.
    let files = manifest::list(dir)?;
    let tables = list_tables(dir)?;
    for tmp in &files.temporaries {
        report.note(format!(
            "{} is an unfinished manifest write (removed at the next start)",
            tmp.display()
        ));
    }
    let state = match files.manifests.last() {
        None => {
            if !tables.is_empty() {
                report.damaged(
                    dir,
                    None,
                    format!(
                        "no manifest, but {} table file(s): `strata repair` rebuilds it",
                        tables.len()
                    ),
                );
            } else {
                report.note("no manifest yet (an empty database)".to_string());
            }
            None
        }
        Some((_, path)) => {
            let (state, damage) = manifest::replay_prefix(path)?;
            match damage {
                Some(crate::Error::ManifestCorrupt { offset, reason, .. }) => {
                    report.damaged(
                        path,
                        Some(offset),
                        format!(
                            "{reason} (the {} record(s) before it name {} live table(s))",
                            state.record_count,
                            state.records.len()
                        ),
                    );
                }
                Some(other) => report.damaged(path, None, other.to_string()),
                None => {
                    report.note(format!(
                        "manifest {}: {} record(s), {} live table(s), flushed seqno {}",
                        path.display(),
                        state.record_count,
                        state.records.len(),
                        state.flushed
                    ));
                    if let Some((offset, bytes)) = state.torn_tail {
                        report.note(format!(
                            "manifest ends in a {bytes}-byte record cut short at byte {offset} \
                             (an edit in flight at a crash; ignored at the next start)"
                        ));
                    }
                }
            }
            Some(state)
        }
    };

    // Quarantined tables: damage found by the daemon, moved aside (listed until an operator
    // removes them from the quarantine directory).
    let quarantined = crate::quarantine::list(dir)?;
    for q in &quarantined {
        report.damaged(&q.path, None, q.describe());
    }

    // Accounting, and every table verified block by block.
    if let Some(state) = &state {
        for r in &state.records {
            if !tables.iter().any(|(no, _)| *no == r.file) {
                if quarantined.iter().any(|q| q.file == r.file) {
                    report.note(format!(
                        "{:08}.sst is named live by the manifest but is in quarantine (a \
                         quarantine cut short by a crash; the next start leaves it out)",
                        r.file
                    ));
                    continue;
                }
                report.damaged(
                    &crate::version::table_path(dir, r.file),
                    None,
                    format!(
                        "missing: the manifest names it live in C{} (seq {}..={})",
                        r.layer, r.min_seq, r.max_seq
                    ),
                );
            }
        }
    }
    let mut verified = (0usize, 0u64, 0u64);
    for (no, path) in &tables {
        if let Some(state) = &state {
            let live = state.records.iter().any(|r| r.file == *no);
            if !live {
                if state.accounts_for(*no) {
                    report.note(format!(
                        "{} was removed from the catalog or left by an unfinished flush or \
                         compaction (deleted at the next start)",
                        path.display()
                    ));
                    continue;
                }
                report.damaged(
                    path,
                    None,
                    "not named by the manifest (the next start stops; `strata repair` adopts it)"
                        .to_string(),
                );
            }
        }
        match Table::verify_file(path) {
            Err(e) => report.damaged(path, None, format!("does not open: {e}")),
            Ok(v) => {
                verified.0 += 1;
                verified.1 += v.blocks;
                verified.2 += v.points;
                for d in &v.damage {
                    report.damaged(path, Some(d.offset), d.to_string());
                }
            }
        }
    }
    report.note(format!(
        "{} table(s) verified: {} block(s), {} point(s)",
        verified.0, verified.1, verified.2
    ));
    // The WAL.
    let wal_dir = dir.join("wal");
    if wal_dir.is_dir() {
        let w = wal::verify_dir(&wal_dir)?;
        report.note(format!(
            "WAL: {} segment(s), {} record(s), {} byte(s), highest seqno {}",
            w.segments,
            w.records,
            w.bytes,
            w.max_seqno.map_or("none".to_string(), |s| s.to_string())
        ));
        for bad in &w.bad {
            if bad.torn_tail {
                report.note(format!(
                    "WAL segment {} ends in a record cut short at byte {} (a write in flight at a \
                     crash, never acknowledged; cut at the next start): {}",
                    bad.segment.display(),
                    bad.offset,
                    bad.reason
                ));
            } else {
                report.damaged(
                    &bad.segment,
                    Some(bad.offset),
                    format!(
                        "WAL record of {} byte(s): {} (the next start stops; \
                         --wal-skip-corrupt skips just this record)",
                        bad.len, bad.reason
                    ),
                );
            }
        }
    }
    Ok(())
}
