//! SSTable format v6 (reads v1 to v5 too): immutable files of columnar data blocks, one run of blocks per
//! (series, field), with a series index, a series filter, file stats and a fixed-size footer.
//!
//! File layout (all integers little-endian):
//!
//! ```text
//! data blocks | series index | series filter | file stats | footer (FOOTER_LEN bytes)
//! ```
//!
//! * A data block holds at most [`BLOCK_POINTS`] points of one (series, field) run; see
//!   [`block`] for its layout. Every block ends with a crc32 of its other bytes.
//! * Versions: v1, v2 and v3 have the same layout; v2 blocks use the compressed codecs of
//!   [`codec`] (chosen per block, their ids recorded in the block), so a build that only knows
//!   v1 refuses v2 files by their version instead of failing on an unknown codec id. v3 adds the
//!   patched packed codec ids (timestamps, integers and unsigned 3, float 4) for the same reason:
//!   a v2-only build refuses v3 files by their version. v4 adds the float codec ids 5 and 6
//!   (decimal-scaled integers decoded by multiplication) for the same reason; v3 files keep
//!   their ids 3 and 4, decoded by division as before. Decoders accept every codec id they know
//!   whatever the file version and reject unknown ids as corrupt.
//! * v5 stores each block's metadata once, compactly: blocks lose their fixed header (time
//!   range, count, type and pre-aggregates are only in the index), regular timestamps take no
//!   bytes ([`block::TS_REGULAR`]), the index is delta- and varint-coded with decimal-scaled
//!   float aggregates and DEFLATE-compressed as a whole (offsets are implied by the tiling), and
//!   the filter holds varint id deltas. The on-disk bytes a block costs beyond its values went
//!   from ~145 to ~25 on TSBS data.
//! * v6 appends the table's [`Provenance`] to the stats section (so it is covered by that
//!   section's crc): the layer it was written for and the WAL seqno range of its data, so a
//!   file says by itself where it belongs and which tables it overrides (the manifest's
//!   catalog can be rebuilt from the tables alone). Nothing else changed; v1–v5 files have no
//!   provenance ([`Table::provenance`] is `None`).
//! * The series index lists, for each series in ascending id, its key and its fields in ascending
//!   name order, and for each field its [`BlockMeta`]s (offset, length, time range, count and
//!   pre-aggregates), so queries can prune blocks and answer aggregates without reading them.
//!   Blocks are written in index order and tile the data section exactly.
//! * The series filter is the sorted array of series ids (binary search).
//! * The file stats are min_ts, max_ts, points, series and blocks; from v6 on, then the
//!   provenance: layer u8, min_seq u64, max_seq u64.
//! * The footer holds (offset u64, length u64, crc32 u32) for the index, filter and stats
//!   sections, the format version u16, the magic `STRATSST` and a crc32 of the footer itself.

pub mod block;
mod cache;
pub mod codec;
mod format;
mod reader;
mod writer;

#[cfg(test)]
mod tests;

pub use block::{BlockAgg, NumericAgg, BLOCK_POINTS};
pub use cache::{BlockCache, BlockCacheStats, MAX_CACHED_BLOCK};
pub use format::BlockMeta;
pub use reader::{DamageKind, Table, TableDamage, VerifyReport};
pub use writer::TableWriter;

/// The SSTable format version this build writes.
pub const FORMAT_VERSION: u16 = 6;

/// The oldest format version this build reads (every version up to [`FORMAT_VERSION`]).
pub const OLDEST_READABLE_VERSION: u16 = 1;

/// The last eight bytes before the footer crc.
pub const MAGIC: &[u8; 8] = b"STRATSST";

/// Summary of a table, stored in its stats section.
///
/// An empty table (no points) has `min_ts = i64::MAX` and `max_ts = i64::MIN`.
#[derive(Clone, Debug, PartialEq)]
pub struct TableStats {
    pub min_ts: i64,
    pub max_ts: i64,
    pub points: u64,
    pub series: u64,
    pub blocks: u64,
    /// Size of the whole file in bytes.
    pub file_bytes: u64,
}

/// Where a table belongs, recorded in the file itself (format v6 on): the compaction layer it
/// was written for and the WAL seqno range of the data it holds. Among tables whose data
/// overlaps, the one with the higher seqnos wins duplicate points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Provenance {
    /// The layer (C0 = 0 … C7 = 7, below [`crate::version::LAYERS`]).
    pub layer: usize,
    /// Lowest WAL seqno whose data the table holds.
    pub min_seq: u64,
    /// Highest WAL seqno whose data the table holds (`>= min_seq`).
    pub max_seq: u64,
}

impl Provenance {
    /// Why this provenance cannot be recorded, if it cannot: a layer outside
    /// `0..LAYERS` or `min_seq > max_seq`.
    pub(crate) fn check(&self) -> Result<(), String> {
        let layers = crate::version::LAYERS;
        if self.layer >= layers {
            return Err(format!(
                "provenance layer {} is not below {layers}",
                self.layer
            ));
        }
        if self.min_seq > self.max_seq {
            return Err(format!(
                "provenance seqno range {}..={} is empty (min_seq > max_seq)",
                self.min_seq, self.max_seq
            ));
        }
        Ok(())
    }
}
