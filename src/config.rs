//! Configuration: one `Config`, built with setters that document their defaults.

use std::sync::Arc;
use std::time::Duration;

use crate::cardinality::{
    CardinalityLimits, DEFAULT_MAX_SERIES_PER_DATABASE, DEFAULT_MAX_VALUES_PER_TAG,
};
use crate::compaction::Window;
use crate::error::{Error, Result};
use crate::file_io::FileIo;
use crate::version::LAYERS;

/// Default SSTable limit of each layer C0–C7 (DESIGN.md §5).
pub const DEFAULT_LAYER_MAX_TABLES: [usize; LAYERS] =
    [10, 100, 100, 1000, 1000, 1000, 10_000, 10_000];

/// Default time window of each layer C0–C7; C0's entry is unused (C0 tables overlap).
pub const DEFAULT_LAYER_WINDOWS: [Window; LAYERS] = [
    Window::MINUTES_30, // unused: C0 holds flush output as it comes
    Window::MINUTES_30,
    Window::HOUR,
    Window::DAY,
    Window::WEEK,
    Window::MONTH,
    Window::QUARTER,
    Window::YEAR,
];

/// Engine configuration. Start from [`Config::default`] (or [`Config::new`]) and change what you
/// need:
///
/// ```
/// let cfg = strata::Config::new().memtable_size_bytes(8 << 20).max_frozen_memtables(4);
/// assert_eq!(cfg.get_memtable_size_bytes(), 8 << 20);
/// ```
#[derive(Clone, Debug)]
pub struct Config {
    memtable_size_bytes: usize,
    max_frozen_memtables: usize,
    wal_segment_bytes: u64,
    wal_batch_max_bytes: usize,
    wal_skip_corrupt: bool,
    write_timeout: Duration,
    max_body_bytes: usize,
    max_line_bytes: usize,
    query_timeout: Duration,
    layer_max_tables: [usize; LAYERS],
    layer_windows: [Window; LAYERS],
    /// A setter named a layer that has no such setting (for `validate`).
    bad_layer: Option<String>,
    retention_check_interval: Duration,
    max_concurrent_queries: usize,
    query_queue_depth: usize,
    max_select_points: u64,
    max_select_series: u64,
    max_select_buckets: u64,
    query_memory_limit: u64,
    query_parallelism: usize,
    query_inline_max_points: u64,
    block_cache_bytes: u64,
    max_series_per_database: u64,
    max_values_per_tag: u64,
    testing_query_delay: Duration,
    file_io: Arc<dyn FileIo>,
}

/// The default of [`Config::block_cache_bytes`]: 32 MiB.
pub const DEFAULT_BLOCK_CACHE_BYTES: u64 = 32 << 20;

/// The default of [`Config::query_inline_max_points`].
pub const DEFAULT_QUERY_INLINE_MAX_POINTS: u64 = 100_000;

/// Most queries that may run at once (and most that may wait) that [`Config::validate`] accepts.
pub const MAX_QUERY_SLOTS: usize = 65_536;

/// The number of cores (2 if it cannot be determined): the default of
/// [`Config::max_concurrent_queries`].
pub fn default_max_concurrent_queries() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

impl Default for Config {
    fn default() -> Self {
        Config {
            memtable_size_bytes: 64 << 20,
            max_frozen_memtables: 2,
            wal_segment_bytes: 64 << 20,
            wal_batch_max_bytes: 8 << 20,
            wal_skip_corrupt: false,
            write_timeout: Duration::from_secs(10),
            max_body_bytes: 25_000_000,
            max_line_bytes: 64 << 10,
            query_timeout: Duration::from_secs(30),
            max_concurrent_queries: default_max_concurrent_queries(),
            query_queue_depth: 64,
            max_select_points: 0,
            max_select_series: 0,
            max_select_buckets: 0,
            query_memory_limit: 256 << 20,
            query_parallelism: default_max_concurrent_queries(),
            query_inline_max_points: DEFAULT_QUERY_INLINE_MAX_POINTS,
            block_cache_bytes: DEFAULT_BLOCK_CACHE_BYTES,
            max_series_per_database: DEFAULT_MAX_SERIES_PER_DATABASE,
            max_values_per_tag: DEFAULT_MAX_VALUES_PER_TAG,
            testing_query_delay: Duration::ZERO,
            file_io: crate::file_io::real(),
            retention_check_interval: Duration::from_secs(30 * 60),
            layer_max_tables: DEFAULT_LAYER_MAX_TABLES,
            layer_windows: DEFAULT_LAYER_WINDOWS,
            bad_layer: None,
        }
    }
}

impl Config {
    /// The defaults.
    pub fn new() -> Config {
        Config::default()
    }

    /// Freeze threshold of the active memtable, in (approximate) bytes. Default 64 MiB.
    pub fn memtable_size_bytes(mut self, n: usize) -> Self {
        self.memtable_size_bytes = n;
        self
    }

    /// How many frozen memtables may wait in the flusher's queue; beyond it writers wait
    /// (backpressure). At most this many plus two frozen memtables exist at once (the one the
    /// flusher is writing and the one being handed to it), so memtable memory is bounded by
    /// `(max_frozen_memtables + 3) * memtable_size_bytes`. Default 2.
    pub fn max_frozen_memtables(mut self, n: usize) -> Self {
        self.max_frozen_memtables = n;
        self
    }

    /// Size at which a WAL segment is closed and a new one started. Default 64 MiB.
    pub fn wal_segment_bytes(mut self, n: u64) -> Self {
        self.wal_segment_bytes = n;
        self
    }

    /// The most bytes one group commit takes from the WAL writer's queue. Default 8 MiB.
    pub fn wal_batch_max_bytes(mut self, n: usize) -> Self {
        self.wal_batch_max_bytes = n;
        self
    }

    /// What WAL replay does with a bad record (crc mismatch, bad length, undecodable payload)
    /// that is not the torn tail of the newest segment, i.e. that may hide acknowledged writes.
    /// `false`: opening the database fails with [`Error::WalCorrupt`], naming the segment file
    /// and byte offset, and no WAL segment is truncated or deleted. `true`: replay skips only
    /// the bad bytes, logs each skip (segment, offset, bytes) and replays every later record
    /// and segment; the skipped bytes stay on disk until their segment is trimmed after the
    /// next flush. A torn tail of the newest segment (a write in flight at a crash, never
    /// acknowledged) is cut either way. Default false.
    pub fn wal_skip_corrupt(mut self, skip: bool) -> Self {
        self.wal_skip_corrupt = skip;
        self
    }

    /// How long a write may wait for its acknowledgement before it fails with
    /// [`Error::WriteTimeout`](crate::Error::WriteTimeout) (HTTP 503); the error says whether
    /// nothing was written or the whole write will still become visible. Default 10 s.
    pub fn write_timeout(mut self, d: Duration) -> Self {
        self.write_timeout = d;
        self
    }

    /// Largest HTTP request body the daemon accepts (413 beyond). Default 25 MB.
    pub fn max_body_bytes(mut self, n: usize) -> Self {
        self.max_body_bytes = n;
        self
    }

    /// Longest line-protocol line accepted; longer lines are rejected with their line number.
    /// Default 64 KiB.
    pub fn max_line_bytes(mut self, n: usize) -> Self {
        self.max_line_bytes = n;
        self
    }

    /// Deadline of one query: past it the query's tasks stop, their permits are returned and
    /// the query fails with an error naming this limit. Zero means no deadline. Default 30 s.
    pub fn query_timeout(mut self, d: Duration) -> Self {
        self.query_timeout = d;
        self
    }

    /// How many queries execute at once: the query pool's workers and permits. Further queries
    /// wait in the queue (see [`Config::query_queue_depth`]). At least 1. Default: the number of
    /// cores.
    pub fn max_concurrent_queries(mut self, n: usize) -> Self {
        self.max_concurrent_queries = n;
        self
    }

    /// How many queries may wait for a free worker; a query arriving when all these places are
    /// taken fails at once with [`Error::QueryQueueFull`](crate::Error::QueryQueueFull) (HTTP
    /// 503). At least 1. Default 64.
    pub fn query_queue_depth(mut self, n: usize) -> Self {
        self.query_queue_depth = n;
        self
    }

    /// Most points one SELECT statement may read, as InfluxDB 1.x's `max-select-point`: past it
    /// the statement fails with `max-select-point limit exceeded: (read/limit)`. 0 means
    /// unlimited. Default 0.
    pub fn max_select_points(mut self, n: u64) -> Self {
        self.max_select_points = n;
        self
    }

    /// Most series one SELECT statement may select, as InfluxDB 1.x's `max-select-series`: past
    /// it the statement fails with `max-select-series limit exceeded: (selected/limit)`. 0 means
    /// unlimited. Default 0.
    pub fn max_select_series(mut self, n: u64) -> Self {
        self.max_select_series = n;
        self
    }

    /// Most `GROUP BY time()` buckets one SELECT statement may produce, as InfluxDB 1.x's
    /// `max-select-buckets`: past it the statement fails with `max-select-buckets limit
    /// exceeded: (buckets/limit)` before any bucket is made. 0 means unlimited. Default 0.
    pub fn max_select_buckets(mut self, n: u64) -> Self {
        self.max_select_buckets = n;
        self
    }

    /// Most series one database may hold, as InfluxDB 1.x's `max-series-per-database`: a
    /// point that would create a series past it is dropped, and the write is a partial write
    /// (`partial write: max-series-per-database limit exceeded: (N) dropped=M`, HTTP 400);
    /// points of existing series are written. The place is taken before the series is created
    /// and given back when a delete forgets the series. 0 means unlimited. Default 1,000,000.
    pub fn max_series_per_database(mut self, n: u64) -> Self {
        self.max_series_per_database = n;
        self
    }

    /// Most values one tag key of one measurement may have, as InfluxDB 1.x's
    /// `max-values-per-tag`: a point that would create a series with a new value past it is
    /// dropped (`partial write: max-values-per-tag limit exceeded (N/N): measurement="m"
    /// tag="k" value="v" dropped=M`, HTTP 400). 0 means unlimited. Default 100,000.
    pub fn max_values_per_tag(mut self, n: u64) -> Self {
        self.max_values_per_tag = n;
        self
    }

    /// Most bytes one query may hold: decoded columns it keeps, accumulator buffers (median,
    /// distinct, percentile, …) and result rows are charged before they are allocated, and a
    /// query going past the limit fails with an error naming `query_memory_limit`. 0 means
    /// unlimited. Default 256 MiB.
    pub fn query_memory_limit(mut self, bytes: u64) -> Self {
        self.query_memory_limit = bytes;
        self
    }

    /// Tasks one query is split into on the query pool's workers: a request made of one SELECT
    /// runs as this many tasks (each computing the output series whose measurement and group
    /// key hash to it, merged at the end; for a SELECT of one measurement and group whose
    /// aggregates merge exactly, each folding a run of its series, merged by the last), at most
    /// this many at once, each holding a worker and a permit. 1 runs every query as one task.
    /// At least 1. Default: the number of cores.
    pub fn query_parallelism(mut self, n: usize) -> Self {
        self.query_parallelism = n;
        self
    }

    /// Most points a query may be estimated to read and still run on the thread that received
    /// it instead of on a query-pool worker. Handing a query to a worker and waiting to be
    /// woken with its answer costs two thread wake-ups, which is most of the time of a query
    /// reading a few hundred points. A request of one SELECT runs inline when a query permit is
    /// free and no query waits in the queue; it holds the permit like a worker would (so
    /// `max_concurrent_queries` still bounds everything running), is listed by `SHOW QUERIES`
    /// and obeys `KILL QUERY` and `query_timeout`. Once its planner has found the blocks and
    /// memtable points it would read (an upper bound, known before anything is decoded), a
    /// query estimated past this many points stops and is submitted to the pool. 0 runs every
    /// query on the pool. Default 100,000 (under a millisecond when aggregated; a few
    /// milliseconds when every point becomes an output row, less than rendering those rows
    /// as JSON takes).
    pub fn query_inline_max_points(mut self, n: u64) -> Self {
        self.query_inline_max_points = n;
        self
    }

    /// Bytes of SSTable blocks kept in memory for queries, shared by every database: a block
    /// a query reads again comes from memory instead of a read from its file (one system call
    /// per block, ~18 % of a query decoding a few thousand small blocks). The blocks are kept
    /// as stored (compressed; a TSBS block of 1,000 points is a few hundred bytes) and decoded
    /// on every read. Only queries fill it (compaction does not), least recently and least
    /// frequently used blocks leave first, and blocks over 64 KiB are not kept. 0 disables
    /// it. Default 32 MiB.
    pub fn block_cache_bytes(mut self, bytes: u64) -> Self {
        self.block_cache_bytes = bytes;
        self
    }

    /// The door every file write of the databases goes through: WAL segments, SSTables,
    /// manifests (see [`crate::file_io`]). Default: the operating system's files. Tests pass a
    /// [`crate::file_io::FaultInjector`] to fail a chosen write, fsync, rename or directory sync;
    /// an embedder may pass a wrapper of its own (to count or throttle writes).
    pub fn file_io(mut self, io: Arc<dyn FileIo>) -> Self {
        self.file_io = io;
        self
    }

    /// See [`Config::file_io`].
    pub fn get_file_io(&self) -> Arc<dyn FileIo> {
        self.file_io.clone()
    }

    /// **Testing aid, not for production.** Every query with a SELECT statement first waits this
    /// long on its pool worker, in 10 ms steps that check its cancel token (so `KILL QUERY`, a
    /// client that goes away and `query_timeout` stop it like a slow query). The daemon reads it
    /// once at start-up from `STRATA_TEST_QUERY_DELAY_MS`. Default 0 (no wait).
    #[doc(hidden)]
    pub fn testing_query_delay(mut self, d: Duration) -> Self {
        self.testing_query_delay = d;
        self
    }

    /// How often expired tables are dropped: every interval, each database with a retention
    /// duration loses the tables whose newest point is older than `now - duration` (queries
    /// never see expired points, whatever the interval). InfluxDB 1.x's `[retention]
    /// check-interval`. Default 30 min.
    pub fn retention_check_interval(mut self, d: Duration) -> Self {
        self.retention_check_interval = d;
        self
    }

    pub fn get_retention_check_interval(&self) -> Duration {
        self.retention_check_interval
    }

    /// Most SSTables compaction layer `layer` (0–7) may hold before its compactor moves tables
    /// on (C0: merges all of them into C1; C1–C6: moves the oldest windows' tables into the next
    /// layer; C7 is the last layer: its limit only counts as compaction debt). When C0 holds more
    /// than twice its limit, flushes wait for the C0 compactor (backpressure). Defaults (§5 of
    /// DESIGN.md): C0 10, C1 100, C2 100, C3 1000, C4 1000, C5 1000, C6 10000, C7 10000.
    pub fn layer_max_tables(mut self, layer: usize, n: usize) -> Self {
        match self.layer_max_tables.get_mut(layer) {
            Some(slot) => *slot = n,
            None => self.bad_layer = Some(format!("layer_max_tables: no layer C{layer} (C0–C7)")),
        }
        self
    }

    /// Time window of compaction layer `layer` (1–7): each table of the layer holds the points
    /// of one window, and tables of one layer never overlap. Fixed windows are epoch-aligned;
    /// month windows are calendar months in UTC (`3mo` = quarters, `1y` = calendar years); see
    /// [`Window`]. C0 has no window (its tables are flush output and may overlap). Defaults:
    /// C1 30m, C2 1h, C3 1d, C4 1w, C5 1mo, C6 3mo, C7 1y.
    pub fn layer_window(mut self, layer: usize, w: Window) -> Self {
        match self.layer_windows.get_mut(layer) {
            Some(slot) if layer > 0 => *slot = w,
            _ => self.bad_layer = Some(format!("layer_window: no windowed layer C{layer} (C1–C7)")),
        }
        self
    }

    pub fn get_layer_max_tables(&self, layer: usize) -> usize {
        self.layer_max_tables
            .get(layer)
            .copied()
            .unwrap_or(usize::MAX)
    }

    pub fn get_layer_window(&self, layer: usize) -> Window {
        self.layer_windows
            .get(layer)
            .copied()
            .unwrap_or(Window::YEAR)
    }

    pub fn get_query_timeout(&self) -> Duration {
        self.query_timeout
    }
    pub fn get_max_concurrent_queries(&self) -> usize {
        self.max_concurrent_queries
    }
    pub fn get_query_queue_depth(&self) -> usize {
        self.query_queue_depth
    }
    pub fn get_query_parallelism(&self) -> usize {
        self.query_parallelism
    }

    pub fn get_query_inline_max_points(&self) -> u64 {
        self.query_inline_max_points
    }

    pub fn get_block_cache_bytes(&self) -> u64 {
        self.block_cache_bytes
    }

    pub fn get_query_memory_limit(&self) -> u64 {
        self.query_memory_limit
    }

    pub fn get_max_series_per_database(&self) -> u64 {
        self.max_series_per_database
    }
    pub fn get_max_values_per_tag(&self) -> u64 {
        self.max_values_per_tag
    }
    /// Both cardinality limits, as a database's series index enforces them.
    pub fn get_cardinality_limits(&self) -> CardinalityLimits {
        CardinalityLimits {
            max_series_per_database: self.max_series_per_database,
            max_values_per_tag: self.max_values_per_tag,
        }
    }

    pub fn get_max_select_points(&self) -> u64 {
        self.max_select_points
    }
    pub fn get_max_select_series(&self) -> u64 {
        self.max_select_series
    }
    pub fn get_max_select_buckets(&self) -> u64 {
        self.max_select_buckets
    }
    #[doc(hidden)]
    pub fn get_testing_query_delay(&self) -> Duration {
        self.testing_query_delay
    }

    pub fn get_memtable_size_bytes(&self) -> usize {
        self.memtable_size_bytes
    }
    pub fn get_max_frozen_memtables(&self) -> usize {
        self.max_frozen_memtables
    }
    pub fn get_wal_segment_bytes(&self) -> u64 {
        self.wal_segment_bytes
    }
    pub fn get_wal_batch_max_bytes(&self) -> usize {
        self.wal_batch_max_bytes
    }
    pub fn get_wal_skip_corrupt(&self) -> bool {
        self.wal_skip_corrupt
    }
    pub fn get_write_timeout(&self) -> Duration {
        self.write_timeout
    }
    pub fn get_max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }
    pub fn get_max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// Reject values that cannot work.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        if self.memtable_size_bytes < 1024 {
            return bad("memtable_size_bytes must be at least 1024");
        }
        if self.max_frozen_memtables == 0 {
            return bad("max_frozen_memtables must be at least 1");
        }
        if self.wal_segment_bytes < 1024 {
            return bad("wal_segment_bytes must be at least 1024");
        }
        if self.wal_batch_max_bytes == 0 {
            return bad("wal_batch_max_bytes must be at least 1");
        }
        if self.retention_check_interval.is_zero() {
            return bad("retention_check_interval must be more than zero");
        }
        if self.max_line_bytes == 0 || self.max_body_bytes == 0 {
            return bad("max_line_bytes and max_body_bytes must be at least 1");
        }
        if !(1..=MAX_QUERY_SLOTS).contains(&self.max_concurrent_queries) {
            return Err(Error::Config(format!(
                "max_concurrent_queries must be between 1 and {MAX_QUERY_SLOTS} (got {})",
                self.max_concurrent_queries
            )));
        }
        if !(1..=MAX_QUERY_SLOTS).contains(&self.query_queue_depth) {
            return Err(Error::Config(format!(
                "query_queue_depth must be between 1 and {MAX_QUERY_SLOTS} (got {})",
                self.query_queue_depth
            )));
        }
        if let Some(m) = &self.bad_layer {
            return bad(m);
        }
        if let Some(l) = self.layer_max_tables.iter().position(|&n| n == 0) {
            return Err(Error::Config(format!(
                "layer_max_tables of C{l} must be at least 1"
            )));
        }
        for (l, w) in self.layer_windows.iter().enumerate().skip(1) {
            if matches!(w, Window::Nanos(n) if *n <= 0) || matches!(w, Window::Months(0)) {
                return Err(Error::Config(format!(
                    "layer_window of C{l} must be positive"
                )));
            }
        }
        if !(1..=1024).contains(&self.query_parallelism) {
            return Err(Error::Config(format!(
                "query_parallelism must be between 1 and 1024 (got {})",
                self.query_parallelism
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_memory_limit_and_parallelism_defaults_and_validation() {
        let c = Config::new();
        assert_eq!(c.get_query_memory_limit(), 256 << 20);
        assert_eq!(c.get_query_parallelism(), default_max_concurrent_queries());
        assert!(c.validate().is_ok());
        let e = Config::new().query_parallelism(0).validate().unwrap_err();
        assert!(e.to_string().contains("query_parallelism"), "{e}");
        assert!(Config::new().query_memory_limit(0).validate().is_ok());
        assert_eq!(
            Config::new().query_memory_limit(1).get_query_memory_limit(),
            1
        );
    }

    #[test]
    fn wal_skip_corrupt_is_off_by_default() {
        assert!(!Config::new().get_wal_skip_corrupt());
        assert!(Config::new().wal_skip_corrupt(true).get_wal_skip_corrupt());
    }
}
