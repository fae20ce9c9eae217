//! What a database reports about itself: activity counters, compaction statistics, the
//! writes waiting for the WAL writer.

use std::sync::atomic::AtomicU64;

use super::Database;
use crate::compaction::{self, CompactionStats};

/// Counters of one database's activity.
#[derive(Default, Debug)]
pub struct Stats {
    /// Group commits: WAL fsyncs.
    pub wal_syncs: AtomicU64,
    /// Write requests acknowledged.
    pub writes: AtomicU64,
    /// Field values written.
    pub points: AtomicU64,
}

impl Database {
    /// Per-layer compaction statistics: tables, bytes, points, compactions, bytes read and
    /// written, write amplification, debt.
    pub fn compaction_stats(&self) -> CompactionStats {
        compaction::stats(&self.versions.current(), &self.config, &self.compaction)
    }

    /// Activity counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// Write requests queued for the WAL writer now.
    pub fn pending_writes(&self) -> usize {
        self.wal_tx
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map_or(0, |t| t.len())
    }
}
