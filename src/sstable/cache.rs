//! The block cache: raw SSTable blocks that queries read, kept in memory up to
//! [`Config::block_cache_bytes`](crate::Config::block_cache_bytes) so that a block read again
//! costs a lookup instead of a positional read (a system call: ~18 % of a query that decodes
//! a few thousand small blocks).
//!
//! It holds the blocks' bytes as they are on disk (compressed; every hit is decoded, and its
//! crc checked, as a read from the file is), keyed by the table's process-wide id
//! ([`Table::uid`](super::Table::uid)) and the block's offset: a table's file never changes
//! once written, and a table that is dropped is never read again, so an entry is never stale;
//! its bytes are evicted in time like any other. Only query reads go through it: compaction
//! streams whole tables once and would only push out what queries use. A block enters only
//! after it decoded, so a corrupt block is never served from memory.
//!
//! The cache is [`quick_cache`]'s (sharded, scan-resistant CLOCK-Pro), weighed in bytes.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Bytes counted for one entry beyond the block's own: the key, the `Arc` header and the
/// cache's slot, so a cache of tiny blocks stays within its configured bytes too.
const ENTRY_OVERHEAD: u64 = 64;

/// Blocks of at most this many bytes are cached (a larger one would push out many small
/// ones for a single read; the largest blocks, of strings, are rare).
pub const MAX_CACHED_BLOCK: u64 = 64 << 10;

#[derive(Clone, Copy, Default)]
struct Weigh;

/// (table uid, block offset) → the block's bytes.
type Blocks = quick_cache::sync::Cache<(u64, u64), Arc<[u8]>, Weigh>;

impl quick_cache::Weighter<(u64, u64), Arc<[u8]>> for Weigh {
    fn weight(&self, _key: &(u64, u64), val: &Arc<[u8]>) -> u64 {
        val.len() as u64 + ENTRY_OVERHEAD
    }
}

/// What a [`BlockCache`] did since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BlockCacheStats {
    /// Block reads answered from memory.
    pub hits: u64,
    /// Block reads that went to the file.
    pub misses: u64,
    /// Bytes held now (blocks plus a fixed overhead per entry).
    pub bytes: u64,
    /// Blocks held now.
    pub blocks: u64,
    /// The configured capacity in bytes.
    pub capacity: u64,
}

/// A bounded cache of raw blocks shared by every database of a [`Db`](crate::Db). See the
/// module documentation.
pub struct BlockCache {
    /// `None`: the capacity is 0 and nothing is cached.
    cache: Option<Blocks>,
    capacity: u64,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache")
            .field("stats", &self.stats())
            .finish()
    }
}

impl BlockCache {
    /// A cache of at most `capacity` bytes; 0 caches nothing.
    pub fn new(capacity: u64) -> BlockCache {
        // Sized for TSBS-like blocks of a few hundred bytes; the weight bounds it whatever
        // the estimate.
        let cache = (capacity > 0).then(|| {
            let items = usize::try_from(capacity / 512)
                .unwrap_or(usize::MAX)
                .max(16);
            quick_cache::sync::Cache::with_weighter(items, capacity, Weigh)
        });
        BlockCache {
            cache,
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The bytes of block `offset` of table `table`, if cached. A lookup of a disabled cache
    /// counts as neither hit nor miss.
    pub fn get(&self, table: u64, offset: u64) -> Option<Arc<[u8]>> {
        let cache = self.cache.as_ref()?;
        let got = cache.get(&(table, offset));
        let counter = if got.is_some() {
            &self.hits
        } else {
            &self.misses
        };
        counter.fetch_add(1, Ordering::Relaxed);
        got
    }

    /// Keep `bytes` as block `offset` of table `table` (unless the cache is disabled or the
    /// block is over [`MAX_CACHED_BLOCK`]).
    pub fn insert(&self, table: u64, offset: u64, bytes: &[u8]) {
        if let Some(cache) = &self.cache {
            if bytes.len() as u64 <= MAX_CACHED_BLOCK {
                cache.insert((table, offset), Arc::from(bytes));
            }
        }
    }

    /// Whether the cache holds anything at all (capacity above 0).
    pub fn enabled(&self) -> bool {
        self.cache.is_some()
    }

    /// Hits, misses and what is held now.
    pub fn stats(&self) -> BlockCacheStats {
        BlockCacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            bytes: self.cache.as_ref().map_or(0, |c| c.weight()),
            blocks: self.cache.as_ref().map_or(0, |c| c.len() as u64),
            capacity: self.capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holds_blocks_by_table_and_offset() {
        let c = BlockCache::new(1 << 20);
        assert!(c.get(1, 0).is_none());
        c.insert(1, 0, b"abc");
        c.insert(2, 0, b"xyz");
        assert_eq!(c.get(1, 0).as_deref(), Some(&b"abc"[..]));
        assert_eq!(c.get(2, 0).as_deref(), Some(&b"xyz"[..]));
        assert!(c.get(1, 3).is_none());
        let s = c.stats();
        assert_eq!((s.hits, s.misses, s.blocks), (2, 2, 2));
        assert_eq!(s.bytes, 2 * (3 + ENTRY_OVERHEAD));
    }

    #[test]
    fn stays_within_its_capacity() {
        let cap = 64 << 10;
        let c = BlockCache::new(cap);
        let block = vec![7u8; 300];
        for off in 0..10_000u64 {
            c.insert(1, off * 300, &block);
            assert!(c.stats().bytes <= cap, "{:?}", c.stats());
        }
        // Most were pushed out; some are still there.
        let s = c.stats();
        assert!(s.blocks > 0 && s.blocks < 10_000, "{s:?}");
    }

    #[test]
    fn a_huge_capacity_allocates_nothing_up_front() {
        for cap in [u64::MAX, 1 << 40] {
            let c = BlockCache::new(cap);
            c.insert(1, 0, b"abc");
            assert_eq!(c.get(1, 0).as_deref(), Some(&b"abc"[..]));
            assert_eq!(c.stats().capacity, cap);
        }
    }

    #[test]
    fn zero_capacity_caches_nothing() {
        let c = BlockCache::new(0);
        assert!(!c.enabled());
        c.insert(1, 0, b"abc");
        assert!(c.get(1, 0).is_none());
        assert_eq!(c.stats(), BlockCacheStats::default());
    }

    #[test]
    fn a_block_over_the_limit_is_not_kept() {
        let c = BlockCache::new(64 << 20);
        c.insert(1, 0, &vec![0u8; MAX_CACHED_BLOCK as usize + 1]);
        assert!(c.get(1, 0).is_none());
        c.insert(1, 0, &vec![0u8; 8 << 10]);
        assert!(c.get(1, 0).is_some());
    }
}
