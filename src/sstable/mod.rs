//! SSTable format v5 (reads v1 to v4 too): immutable files of columnar data blocks, one run of blocks per
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
//! * The series index lists, for each series in ascending id, its key and its fields in ascending
//!   name order, and for each field its [`BlockMeta`]s (offset, length, time range, count and
//!   pre-aggregates), so queries can prune blocks and answer aggregates without reading them.
//!   Blocks are written in index order and tile the data section exactly.
//! * The series filter is the sorted array of series ids (binary search).
//! * The file stats are min_ts, max_ts, points, series and blocks.
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
pub use reader::Table;
pub use writer::TableWriter;

/// The SSTable format version this build writes.
pub const FORMAT_VERSION: u16 = 5;

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
