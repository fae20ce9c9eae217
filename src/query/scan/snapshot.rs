//! [`Snapshot`]: the data sources one SELECT reads (a [`Version`]'s tables and memtables under
//! the retention cutoff), with the limits, memory budget and counters of the query reading it.
//! Its reads are in the scan (`super`).

use std::sync::Arc;

use crate::error::Result;
use crate::memtable::Memtable;
use crate::query::limits::{QueryMemory, SelectLimits};
use crate::sstable::BlockCache;
use crate::types::{Column, SeriesId};
use crate::version::{TableRef, Version};

use super::ScanStats;

/// The data sources of one snapshot, in the order newer-wins merging needs.
pub struct Snapshot {
    pub version: Arc<Version>,
    pub(super) tables: Vec<TableRef>,
    pub(super) memtables: Vec<Arc<Memtable>>,
    /// max_select_points / max_select_series of the statement reading this snapshot.
    pub limits: SelectLimits,
    /// The memory budget of the query reading this snapshot.
    pub mem: QueryMemory,
    /// What the reads did (EXPLAIN ANALYZE).
    pub stats: Arc<ScanStats>,
    /// Answer whole blocks from their pre-aggregates when allowed (tests turn it off to
    /// compare).
    pub preaggregates: bool,
    /// Read only the newest blocks of each series a raw `ORDER BY time DESC LIMIT n` needs
    /// (tests turn it off to compare).
    pub early_stop: bool,
    /// Oldest timestamp visible: the retention cutoff (`i64::MIN`: none).
    pub(super) min_time: i64,
    /// Blocks are read through it (`None`: straight from the files).
    pub block_cache: Option<Arc<BlockCache>>,
}

impl Snapshot {
    pub fn new(version: Arc<Version>) -> Snapshot {
        Snapshot {
            tables: version.tables_oldest_first(),
            memtables: version.memtables_oldest_first(),
            version,
            limits: SelectLimits::unlimited(),
            mem: QueryMemory::default(),
            stats: Arc::default(),
            preaggregates: true,
            early_stop: true,
            min_time: i64::MIN,
            block_cache: None,
        }
    }

    /// Hide every point older than `cutoff` (the database's retention), from every source.
    pub fn with_cutoff(mut self, cutoff: Option<i64>) -> Snapshot {
        self.min_time = cutoff.unwrap_or(i64::MIN);
        self
    }

    pub(crate) fn min_time(&self) -> i64 {
        self.min_time
    }

    /// Every table of the snapshot, oldest first.
    pub(crate) fn all_tables(&self) -> &[TableRef] {
        &self.tables
    }

    /// Every memtable of the snapshot, oldest first.
    pub(crate) fn all_memtables(&self) -> &[Arc<Memtable>] {
        &self.memtables
    }

    pub(crate) fn memory(&self) -> &QueryMemory {
        &self.mem
    }

    /// The merged run of (series, field) within `[min, max]`, from every source.
    pub fn read(&self, id: SeriesId, field: &str, min: i64, max: i64) -> Result<Option<Column>> {
        Ok(self.read_in(&self.tables, id, field, min, max)?.0)
    }
}
