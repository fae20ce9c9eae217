//! `strata inspect DATA_DIR`: what is on disk, per database and per compaction layer, read from
//! the manifests and table footers only (read-only; safe while a daemon has the directory open,
//! though the answer may then be a moment old).

use std::fmt::Write as _;
use std::path::Path;

use crate::compaction::{rfc3339, Window};
use crate::config::Config;
use crate::error::{IoContext, Result};
use crate::sstable::Table;
use crate::version::{list_tables, read_manifest, table_path, LAYERS};

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Describe every database under `data_dir`; `config` supplies the layer windows and limits the
/// debt is measured against (pass the daemon's settings).
pub fn inspect(data_dir: &Path, config: &Config) -> Result<String> {
    let mut out = String::new();
    let mut dbs: Vec<_> = std::fs::read_dir(data_dir)
        .ctx(|| format!("list data directory {}", data_dir.display()))?
        .flatten()
        .filter(|e| e.path().join("sst").is_dir())
        .map(|e| e.path())
        .collect();
    dbs.sort();
    if dbs.is_empty() {
        let _ = writeln!(out, "no databases in {}", data_dir.display());
    }
    for dir in dbs {
        inspect_db(&dir, config, &mut out)?;
    }
    Ok(out)
}

fn inspect_db(dir: &Path, config: &Config, out: &mut String) -> Result<()> {
    let name = dir
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().to_string());
    let m = read_manifest(dir)?;
    let manifest = m
        .manifests
        .last()
        .map_or("none".to_string(), |(_, p)| p.display().to_string());
    let _ = writeln!(out, "database {name}");
    let _ = writeln!(
        out,
        "  manifest {manifest}, flushed seqno {}",
        m.state.flushed
    );
    let mut total = (0usize, 0u64, 0u64);
    let mut unreadable = Vec::new();
    for layer in 0..LAYERS {
        let mut tables = Vec::new();
        for r in m.state.records.iter().filter(|r| r.layer == layer) {
            // A live table that does not open is listed below, not a reason to stop.
            match Table::open(&table_path(dir, r.file)) {
                Ok(t) => tables.push((r.clone(), t)),
                Err(e) => unreadable.push((r.clone(), e)),
            }
        }
        tables.sort_by_key(|(r, t)| (t.stats().min_ts, r.file));
        let bytes: u64 = tables.iter().map(|(_, t)| t.stats().file_bytes).sum();
        let points: u64 = tables.iter().map(|(_, t)| t.stats().points).sum();
        total = (total.0 + tables.len(), total.1 + bytes, total.2 + points);
        let limit = config.get_layer_max_tables(layer);
        let window = (layer > 0).then(|| config.get_layer_window(layer));
        let debt: Vec<u64> = if tables.len() <= limit {
            Vec::new()
        } else if layer == 0 {
            tables.iter().map(|(_, t)| t.stats().file_bytes).collect()
        } else {
            tables
                .iter()
                .take(tables.len() - limit)
                .map(|(_, t)| t.stats().file_bytes)
                .collect()
        };
        let _ = writeln!(
            out,
            "  C{layer}  window {:<11} limit {limit:<6} files {:<5} bytes {:<10} points {:<10} debt {} files / {}",
            window.map_or("overlapping".to_string(), |w: Window| w.to_string()),
            tables.len(),
            human(bytes),
            points,
            debt.len(),
            human(debt.iter().sum()),
        );
        for (r, t) in &tables {
            let s = t.stats();
            let win = match window {
                Some(w) => {
                    let (lo, hi) = w.bounds(s.min_ts);
                    let inside = s.max_ts < hi;
                    format!(
                        "window {}..{}{}",
                        rfc3339(lo),
                        rfc3339(hi),
                        if inside {
                            ""
                        } else {
                            " (STRADDLES its window)"
                        }
                    )
                }
                None => String::new(),
            };
            let _ = writeln!(
                out,
                "      {:08}.sst  {} .. {}  points {}  series {}  bytes {}  seq {}..{}  {win}",
                r.file,
                rfc3339(s.min_ts),
                rfc3339(s.max_ts),
                s.points,
                s.series,
                s.file_bytes,
                r.min_seq,
                r.max_seq,
            );
        }
    }
    for (r, e) in &unreadable {
        let _ = writeln!(
            out,
            "  UNREADABLE live table {:08}.sst (C{}): {e}",
            r.file, r.layer
        );
    }
    let quarantined = crate::quarantine::list(dir)?;
    let _ = writeln!(out, "  quarantined tables {}", quarantined.len());
    for q in &quarantined {
        let _ = writeln!(out, "    {}", q.describe());
    }
    let mut garbage = 0usize;
    let mut unaccounted = Vec::new();
    for (no, path) in list_tables(dir)? {
        if m.state.records.iter().any(|r| r.file == no) {
            continue;
        }
        if m.state.accounts_for(no) {
            garbage += 1;
        } else {
            unaccounted.push(path);
        }
    }
    let _ = writeln!(
        out,
        "  total files {}  bytes {}  points {}",
        total.0,
        human(total.1),
        total.2
    );
    let _ = writeln!(
        out,
        "  orphaned files {garbage} (removed from the catalog or left by an unfinished flush or \
         compaction; deleted at the next open)"
    );
    for path in &unaccounted {
        let _ = writeln!(
            out,
            "  UNACCOUNTED table file {} (not named by the manifest: the next open stops; see \
             `strata check`)",
            path.display()
        );
    }
    let _ = writeln!(
        out,
        "  tombstones: none recorded in the manifest (it logs only table additions and removals)"
    );
    let _ = writeln!(
        out,
        "  compaction counters (compactions, bytes read/written, write amplification) live in the \
         running process: GET /metrics"
    );
    Ok(())
}
