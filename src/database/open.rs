//! Opening a database: load the catalog, check the WAL, rebuild the series index from the
//! tables, replay the WAL into the memtable (flushing as it fills), then start the actors.

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, RwLock};

use super::actors::{self, write_memtable_file};
use super::{Database, Stats};
use crate::config::Config;
use crate::error::{IoContext, Result};
use crate::retention::RetentionPolicy;
use crate::series::SeriesIndex;
use crate::sstable::BlockCache;
use crate::types::parse_series_key;
use crate::version::VersionSet;
use crate::wal::{OnCorrupt, Wal};

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
        for table in versions.current().tables_oldest_first() {
            for (id, key) in table.table.series() {
                index.insert_known(id, key);
                let (measurement, _) = parse_series_key(key);
                for (field, field_type) in table.table.fields(id) {
                    index.insert_field(&measurement, field, field_type);
                }
            }
        }

        if let Some(torn) = &replay.truncated {
            tracing::warn!(
                db = name,
                segment = %torn.segment.display(),
                offset = torn.offset,
                bytes_cut = torn.bytes_cut,
                reason = %torn.reason,
                "WAL had a torn tail; it was cut"
            );
        }
        if !replay.skipped.is_empty() {
            tracing::warn!(
                db = name,
                records = replay.skipped.len(),
                bytes_skipped = replay
                    .skipped
                    .iter()
                    .map(|skipped| skipped.len)
                    .sum::<u64>(),
                "WAL replay skipped corrupt records (wal_skip_corrupt); see the warnings above"
            );
        }
        let trimmer = wal.trimmer();
        let mut replayed = 0usize;
        // Series first: a record that only names series (logged by a delete that removed every
        // table holding a series still in use by the memtable) may follow the rows using them.
        for (_, batch) in &replay.batches {
            for series in &batch.new_series {
                index.insert_known(series.id, &series.key);
            }
        }
        for (seqno, batch) in &replay.batches {
            for row in &batch.rows {
                if let Some(info) = index.get(row.series) {
                    for (field, value) in &row.fields {
                        index.insert_field(&info.measurement, field, value.field_type());
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
        let next_seqno = replay.last_seqno.max(versions.current().flushed_seqno) + 1;
        let running = actors::start(
            actors::Setup {
                name,
                config,
                versions: &versions,
                index: &index,
                trimmer: &trimmer,
                retention: &retention,
                stats: &stats,
            },
            wal,
            next_seqno,
        )?;
        Ok(Database {
            name: name.to_string(),
            dir: dir.to_path_buf(),
            index,
            versions,
            wal_tx: Mutex::new(Some(running.wal_tx)),
            health: running.health,
            threads: Mutex::new(running.threads),
            config: config.clone(),
            gate: running.gate,
            stats,
            trimmer,
            write_gate: RwLock::new(()),
            retention,
            dropped: AtomicBool::new(false),
            compact_tx: Mutex::new(Some(running.compact_tx)),
            compaction: running.compaction,
            compaction_pause: running.compaction_pause,
            block_cache,
            closing: running.closing,
            stop_compaction: running.stop_compaction,
            stall: running.stall,
        })
    }
}

/// Freeze the active memtable and flush it on the calling thread (recovery, before the actors
/// start).
fn flush_active_now(versions: &VersionSet, index: &SeriesIndex) -> Result<()> {
    let frozen = versions.freeze_active();
    let table = write_memtable_file(versions, index, &frozen)?;
    versions.install_flush(&frozen, table)?;
    Ok(())
}
