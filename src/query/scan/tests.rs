use super::*;
use crate::database::Database;
use crate::query::exec::{execute_on, snapshot, Explain, PhysicalPlan};
use crate::query::influxql::ast::Statement;
use crate::query::limits::{QueryMemory, SelectLimits};
use crate::query::{SeriesResult, Value};
use proptest::prelude::*;
use std::sync::Arc;
use strata_actors::CancelToken;

fn write(d: &Database, lines: &str) {
    let p = crate::lineproto::parse(lines, crate::lineproto::Precision::Nanosecond, 0, 1 << 16);
    assert!(p.errors.is_empty(), "{:?}", p.errors.first());
    let (_, rejected) = d.write_points(&p.points, 0).unwrap();
    assert!(rejected.is_empty());
}

/// Run `q`; with `preaggregates` false no block is answered from its aggregates.
fn select(d: &Database, q: &str, preaggregates: bool) -> (Vec<SeriesResult>, Arc<ScanStats>) {
    select_with(d, q, preaggregates, true)
}

/// [`select`], with `early_stop` false reading every block a raw `ORDER BY time DESC
/// LIMIT n` covers.
fn select_with(
    d: &Database,
    q: &str,
    preaggregates: bool,
    early_stop: bool,
) -> (Vec<SeriesResult>, Arc<ScanStats>) {
    let st = crate::query::influxql::parse(q).unwrap();
    let Some(Statement::Select(s)) = st.first() else {
        panic!("not a select: {q}");
    };
    let plan = crate::query::compile::compile_select(d, s, 1_000_000 * S).unwrap();
    let physical = PhysicalPlan::build(d, plan);
    let mut snap = snapshot(
        d,
        physical.select(),
        &SelectLimits::unlimited(),
        &QueryMemory::default(),
    );
    snap.preaggregates = preaggregates;
    snap.early_stop = early_stop;
    let out = execute_on(
        d,
        &snap,
        &physical,
        &CancelToken::new(),
        &mut Explain::default(),
    )
    .unwrap_or_else(|e| panic!("{q}: {e}"));
    (out, snap.stats.clone())
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        // Block sums are added block by block: float sums may differ in the last bits.
        (Value::Float(x), Value::Float(y)) => {
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        _ => a == b,
    }
}

fn same(q: &str, a: &[SeriesResult], b: &[SeriesResult]) {
    assert_eq!(a.len(), b.len(), "{q}");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(
            (&x.name, &x.tags, &x.columns),
            (&y.name, &y.tags, &y.columns),
            "{q}"
        );
        assert_eq!(x.values.len(), y.values.len(), "{q}");
        for (r, s) in x.values.iter().zip(&y.values) {
            assert!(
                r.len() == s.len() && r.iter().zip(s).all(|(u, v)| close(u, v)),
                "{q}: {r:?} != {s:?}"
            );
        }
    }
}

const S: i64 = 1_000_000_000;

/// Run `q` against `d` charging `mem`.
fn run_with_memory(d: &Database, q: &str, mem: &QueryMemory) -> Result<Vec<SeriesResult>> {
    let st = crate::query::influxql::parse(q).unwrap();
    let Some(Statement::Select(s)) = st.first() else {
        panic!("not a select: {q}")
    };
    let plan = crate::query::compile::compile_select(d, s, 1_000_000 * S).unwrap();
    let physical = PhysicalPlan::build(d, plan);
    let snap = snapshot(d, physical.select(), &SelectLimits::unlimited(), mem);
    execute_on(
        d,
        &snap,
        &physical,
        &CancelToken::new(),
        &mut Explain::default(),
    )
}

/// Lines for hosts a and b, fields f (float) and i (integer), one point per second over
/// `[from, to)` seconds, values from `seed`.
fn lines(from: i64, to: i64, seed: u64) -> String {
    lines_at(from, to, 0, seed)
}

/// [`lines`] at `shift` nanoseconds past each second (`S / 2`: no time in common with
/// [`lines`]' points).
fn lines_at(from: i64, to: i64, shift: i64, seed: u64) -> String {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = move || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 33) as i64
    };
    let mut out = String::new();
    for t in from..to {
        for h in ["a", "b"] {
            let f = (next() % 20_000 - 10_000) as f64 / 100.0;
            let i = next() % 1_000_000 - 500_000;
            out.push_str(&format!("m,host={h} f={f},i={i}i {}\n", t * S + shift));
        }
    }
    out
}

const CALLS: &[&str] = &[
    "count(f)",
    "sum(f)",
    "mean(f)",
    "min(f)",
    "max(f)",
    "first(f)",
    "last(f)",
    "spread(f)",
    "count(i)",
    "sum(i)",
    "mean(i)",
    "min(i)",
    "max(i)",
    "first(i)",
    "last(i)",
    "spread(i), sum(f)",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 6, ..ProptestConfig::default() })]

    /// Random data in four overlapping tables (newer ones overwrite ranges of older ones,
    /// or fall between their points) and a memtable: every aggregate the shortcut serves gives the same answer with and
    /// without it, over random time ranges and GROUP BY intervals.
    #[test]
    fn preaggregates_give_the_same_answers(
        seed in any::<u64>(),
        over in 0i64..2500,
        over_len in 1i64..600,
        mem in 0i64..2600,
        mem_len in 0i64..300,
        half in 0i64..2600,
        half_len in 0i64..400,
        lo in 0i64..1500,
        len in 1i64..3000,
        interval in prop::sample::select(vec![0i64, 7, 100, 1000, 3000]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        write(&d, &lines(0, 2500, seed));
        d.flush().unwrap();
        write(&d, &lines(over, over + over_len, seed ^ 1));
        d.flush().unwrap();
        // Overlapping the others with no time in common: their blocks may keep their
        // pre-aggregates ([`Snapshot::shares_no_point`]).
        write(&d, &lines_at(half, half + half_len, S / 2, seed ^ 3));
        d.flush().unwrap();
        write(&d, &lines(mem, mem + mem_len, seed ^ 2));
        for call in CALLS {
            let group = if interval > 0 { format!(" GROUP BY time({interval}s)") } else { String::new() };
            for (q, tags) in [
                (format!("SELECT {call} FROM m{group}"), ""),
                (
                    format!(
                        "SELECT {call} FROM m WHERE time >= {} AND time < {}{group}",
                        lo * S,
                        (lo + len) * S
                    ),
                    "",
                ),
                (format!("SELECT {call} FROM m{group}, host"), "host"),
            ] {
                let q = if tags.is_empty() || interval > 0 { q } else { q.replace(", host", " GROUP BY host") };
                let (with, st) = select(&d, &q, true);
                let (without, st0) = select(&d, &q, false);
                same(&q, &with, &without);
                prop_assert_eq!(ScanStats::get(&st0.blocks_from_aggregates), 0);
                // Every block is either answered from its aggregates or decoded.
                prop_assert!(
                    ScanStats::get(&st.blocks_from_aggregates) + ScanStats::get(&st.blocks_decoded)
                        <= ScanStats::get(&st0.blocks_decoded)
                );
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 8, ..ProptestConfig::default() })]

    /// Random data in three overlapping tables and a memtable (newer sources overwrite
    /// points of older ones, some points carry one field only): raw `ORDER BY time DESC
    /// LIMIT n` answers are identical with and without reading only the newest blocks, and
    /// the widening tries decode fewer than three times the blocks of one whole read.
    #[test]
    fn newest_first_reads_give_the_same_answers(
        seed in any::<u64>(),
        over in 0i64..2500,
        over_len in 1i64..1500,
        mem in 0i64..2600,
        mem_len in 0i64..300,
        sparse in prop::collection::vec((0i64..2700, any::<bool>(), any::<bool>()), 0..20),
        lo in 0i64..2600,
        len in 1i64..3000,
        limit in prop::sample::select(vec![1usize, 2, 5, 999, 1001, 2500]),
        offset in prop::sample::select(vec![0usize, 1, 998]),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        write(&d, &lines(0, 2500, seed));
        d.flush().unwrap();
        write(&d, &lines(over, over + over_len, seed ^ 1));
        d.flush().unwrap();
        write(&d, &lines(over / 2, over / 2 + 700, seed ^ 3));
        d.flush().unwrap();
        write(&d, &lines(mem, mem + mem_len, seed ^ 2));
        let mut one_field = String::new();
        for (t, host_a, float) in &sparse {
            let h = if *host_a { "a" } else { "b" };
            let f = if *float { "f=0.5" } else { "i=7i" };
            one_field.push_str(&format!("m,host={h} {f} {}\n", t * S));
        }
        if !one_field.is_empty() {
            write(&d, &one_field);
        }
        let range = format!("WHERE time >= {} AND time < {}", lo * S, (lo + len) * S);
        for q in [
            "SELECT * FROM m".to_string(),
            "SELECT * FROM m GROUP BY host".to_string(),
            "SELECT f, host FROM m GROUP BY host".to_string(),
            "SELECT i FROM m".to_string(),
            "SELECT f FROM m WHERE i > 0 GROUP BY host".to_string(),
            "SELECT f FROM m WHERE host = 'a' OR f > 0".to_string(),
            format!("SELECT * FROM m {range} GROUP BY host"),
            format!("SELECT f, i FROM m {range} AND i < 0"),
        ] {
            let q = format!("{q} ORDER BY time DESC LIMIT {limit} OFFSET {offset}");
            let (with, st) = select_with(&d, &q, true, true);
            let (without, st0) = select_with(&d, &q, true, false);
            prop_assert_eq!(format!("{with:?}"), format!("{without:?}"), "{}", q);
            prop_assert!(
                ScanStats::get(&st.blocks_decoded) < 3 * ScanStats::get(&st0.blocks_decoded).max(1),
                "{}: {} vs {}", q, ScanStats::get(&st.blocks_decoded), ScanStats::get(&st0.blocks_decoded)
            );
        }
    }
}

/// Every source of (series, field) within `[min, max]` decoded whole and merged: what a
/// [`SegmentStream`] must hand out, computed without it.
fn reference(snap: &Snapshot, id: SeriesId, field: &str, min: i64, max: i64) -> Option<Column> {
    let mut srcs = Vec::new();
    for t in snap.all_tables() {
        let mut blocks = Vec::new();
        for b in t.table.blocks(id, field) {
            let c = t.table.read_block(b).unwrap();
            let lo = c.timestamps.partition_point(|&x| x < min);
            let hi = c.timestamps.partition_point(|&x| x <= max);
            blocks.push(slice(c, lo, hi).unwrap());
        }
        srcs.extend(merge_columns(blocks));
    }
    for m in snap.all_memtables() {
        srcs.extend(m.read(id, field, min, max));
    }
    merge_columns(srcs)
}

/// The timestamps of block `b` (found in whichever table of `snap` holds it).
fn block_times(snap: &Snapshot, b: &BlockMeta) -> Vec<i64> {
    for t in snap.all_tables() {
        for (id, _) in t.table.series() {
            for (f, _) in t.table.fields(id) {
                if t.table.blocks(id, f).contains(b) {
                    let mut out = Vec::new();
                    t.table
                        .read_timestamps(b, None, &mut Vec::new(), &mut out)
                        .unwrap();
                    return out;
                }
            }
        }
    }
    panic!("no table holds {b:?}")
}

/// Drain a stream: the points it hands out (concatenated), the blocks it answers whole,
/// and the largest chunk.
fn drain(mut st: SegmentStream<'_>) -> (Option<Column>, Vec<BlockMeta>, usize) {
    let (mut chunks, mut blocks, mut largest) = (Vec::new(), Vec::new(), 0);
    let mut last = i64::MIN;
    while let Some(seg) = st.next().unwrap() {
        match seg {
            Segment::Points(c) => {
                assert!(
                    c.timestamps.first().is_some_and(|&t| t > last),
                    "time order"
                );
                last = *c.timestamps.last().unwrap();
                largest = largest.max(c.len());
                chunks.push(c);
            }
            Segment::Block(b) => {
                assert!(b.min_ts > last, "time order");
                // Other sources' points within its range may follow it.
                last = b.min_ts;
                blocks.push(b);
            }
        }
    }
    (merge_columns(chunks), blocks, largest)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Random data in tables that overlap (newer overwrite older) or not, and a memtable:
    /// the stream hands out exactly the merged points of every source, in time order and
    /// in chunks of at most a few blocks; with pre-aggregates allowed, the points it hands
    /// out plus the whole blocks it answers are the same points.
    #[test]
    fn segment_stream_is_the_merge_of_every_source(
        seed in any::<u64>(),
        writes in prop::collection::vec((0i64..6000, 1i64..2500, any::<bool>()), 1..6),
        mem in 0i64..6000,
        mem_len in 0i64..400,
        lo in 0i64..6000,
        len in 1i64..7000,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
        for (i, (from, n, half)) in writes.iter().enumerate() {
            // Half a second off: overlapping the others with no time in common.
            let shift = if *half { S / 2 } else { 0 };
            write(&d, &lines_at(*from, from + n, shift, seed ^ i as u64));
            d.flush().unwrap();
        }
        write(&d, &lines(mem, mem + mem_len, seed ^ 99));
        let snap = Snapshot::new(d.versions().current());
        let ids: Vec<SeriesId> = d.index().measurement("m").unwrap().series_ids().into_iter().collect();
        for (min, max) in [(i64::MIN, i64::MAX), (lo * S, (lo + len) * S)] {
            for &id in &ids {
                for field in ["f", "i"] {
                    let want = reference(&snap, id, field, min, max);
                    let tables = snap.all_tables();
                    prop_assert_eq!(
                        snap.first_time(tables, id, field, min, max).unwrap(),
                        want.as_ref().and_then(|w| w.timestamps.first().copied())
                    );
                    let st = snap.segments(tables, id, field, min, max, &|_| false).unwrap();
                    let (got, blocks, largest) = drain(st);
                    prop_assert!(blocks.is_empty());
                    prop_assert_eq!(&got, &want);
                    // A chunk never exceeds one block per source plus the memtable.
                    prop_assert!(largest <= 1000 * (tables.len() + 1) + mem_len as usize);
                    let st = snap.segments(tables, id, field, min, max, &|_| true).unwrap();
                    let (got, blocks, _) = drain(st);
                    // The points handed out and the whole blocks' points are the merge.
                    let mut all: Vec<i64> = got.map(|c| c.timestamps).unwrap_or_default();
                    for b in &blocks {
                        all.extend(block_times(&snap, b));
                    }
                    all.sort_unstable();
                    prop_assert_eq!(&all, &want.map(|w| w.timestamps).unwrap_or_default());
                }
            }
        }
    }
}

/// What a read holds does not grow with the points it scans: one series in 30 tables of
/// 1000 points each (disjoint in time) plus two tables overlapping all of them is read
/// holding a few decoded blocks at most, far below the 30 × 16 kB its decoded column takes.
#[test]
fn a_stream_holds_a_few_blocks_whatever_the_points_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    for k in 0..30 {
        write(&d, &lines(k * 1000, (k + 1) * 1000, k as u64));
        d.flush().unwrap();
    }
    write(&d, &lines(500, 501, 1));
    write(&d, &lines(29_500, 29_501, 1));
    d.flush().unwrap();
    let mut snap = Snapshot::new(d.versions().current());
    snap.mem = QueryMemory::new(0);
    let id = d
        .index()
        .measurement("m")
        .unwrap()
        .series_ids()
        .into_iter()
        .next()
        .unwrap();
    let st = snap
        .segments(snap.all_tables(), id, "f", i64::MIN, i64::MAX, &|_| false)
        .unwrap();
    let (got, _, largest) = drain(st);
    assert_eq!(got.unwrap().len(), 30_000);
    assert!(largest <= 2000, "largest chunk {largest}");
    // One block of the table being read, the overlapping table's block and the chunk.
    let peak = snap.mem.peak();
    assert!(peak <= 4 * 16_000, "peak {peak}");
    assert_eq!(snap.mem.used(), 0);
    // A query over all of it holds as little.
    let mem = QueryMemory::new(100_000);
    let out = run_with_memory(&d, "SELECT count(f), max(i) FROM m WHERE f > 0", &mem).unwrap();
    assert_eq!(out.len(), 1);
    assert!(mem.peak() <= 100_000, "peak {}", mem.peak());
}

/// Raw rows share their series' tag values (one string, not a copy per row) and are
/// charged for the strings they hold alone (here a 1000-byte string field per row) as they
/// are built, so `query_memory_limit` stays near what the process really holds.
#[test]
fn raw_rows_share_tags_and_are_charged_for_their_own_strings() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    let tag = "t".repeat(1000);
    let mut lp = String::new();
    for t in 0..200 {
        let s = format!("{t:04}").repeat(250);
        lp.push_str(&format!("m,host={tag} s=\"{s}\",f={t} {}\n", t * S));
    }
    write(&d, &lp);
    d.flush().unwrap();
    let mem = QueryMemory::new(0);
    let out = run_with_memory(&d, "SELECT * FROM m", &mem).unwrap();
    let rows = &out[0].values;
    assert_eq!(rows.len(), 200);
    // Columns: time, f, host, s.
    let (Value::String(h0), Value::String(h1)) = (&rows[0][2], &rows[199][2]) else {
        panic!("{:?}", rows[0])
    };
    assert!(std::sync::Arc::ptr_eq(h0, h1), "rows copy the tag");
    assert!(mem.peak() >= 200 * 1000, "peak {}", mem.peak());
    // The decoded block (~205 kB) plus the rows' cells (~25 kB) fit in 300 kB; with the
    // rows' own strings (~200 kB more) they do not: the query stops while building rows,
    // on one row's charge (charging cells only, it would answer).
    match run_with_memory(&d, "SELECT * FROM m", &QueryMemory::new(300_000)) {
        Err(Error::QueryMemoryLimitExceeded { wanted, .. }) => {
            assert!(wanted < 2_000, "stopped on a charge of {wanted} bytes")
        }
        other => panic!(
            "expected the memory error, got {:?}",
            other.map(|r| r.len())
        ),
    }
}

/// `GROUP BY time … LIMIT n` without a lower time bound reads only the first buckets of
/// each group: the same rows as the unlimited query cut by OFFSET/LIMIT, from a fraction
/// of the blocks (groups whose data starts at different times included).
#[test]
fn limited_group_by_time_reads_only_its_first_buckets() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    write(&d, &lines(0, 3000, 7));
    d.flush().unwrap();
    let mut late = String::new();
    for t in 1234..3000 {
        late.push_str(&format!("m,host=c f={},i={}i {}\n", t % 17, t % 5, t * S));
    }
    write(&d, &late);
    d.flush().unwrap();
    for (q, cut) in [
        (
            "SELECT max(f), count(i) FROM m WHERE time < 2900s GROUP BY time(100s)",
            " LIMIT 3",
        ),
        (
            "SELECT max(f), count(i) FROM m WHERE time < 2900s GROUP BY time(100s)",
            " LIMIT 2 OFFSET 4",
        ),
        (
            "SELECT max(f), sum(i) FROM m WHERE time < 2900s GROUP BY time(100s), host",
            " LIMIT 3",
        ),
        (
            "SELECT mean(f) FROM m WHERE host = 'c' GROUP BY time(70s, 30s) fill(previous)",
            " LIMIT 5",
        ),
        (
            "SELECT first(f), last(i) FROM m GROUP BY time(1000s), host fill(0)",
            " LIMIT 1",
        ),
    ] {
        let limited = format!("{q}{cut}");
        let (with, st) = select(&d, &limited, false);
        let (all, st0) = select(&d, q, false);
        let (offset, limit) = if cut.contains("OFFSET") {
            (4, 2)
        } else {
            (0, cut.trim_start_matches(" LIMIT ").parse().unwrap())
        };
        let want: Vec<SeriesResult> = all
            .into_iter()
            .map(|mut r| {
                r.values = r.values.into_iter().skip(offset).take(limit).collect();
                r
            })
            .filter(|r| !r.values.is_empty())
            .collect();
        assert_eq!(format!("{with:?}"), format!("{want:?}"), "{limited}");
        assert!(
            ScanStats::get(&st.blocks_decoded) < ScanStats::get(&st0.blocks_decoded),
            "{limited}: {} vs {}",
            ScanStats::get(&st.blocks_decoded),
            ScanStats::get(&st0.blocks_decoded)
        );
    }
    // Not bounded: a lower time bound, DESC, fill(linear), a field condition.
    for q in [
        "SELECT max(f) FROM m WHERE time >= 0s AND time < 2900s GROUP BY time(100s) LIMIT 3",
        "SELECT max(f) FROM m WHERE time < 2900s GROUP BY time(100s) ORDER BY time DESC LIMIT 3",
        "SELECT max(f) FROM m WHERE time < 2900s GROUP BY time(100s) fill(linear) LIMIT 3",
        "SELECT max(f) FROM m WHERE time < 2900s AND i > 1 GROUP BY time(100s) LIMIT 3",
    ] {
        let (_, st) = select(&d, q, false);
        let (_, st0) = select(&d, &q.replace(" LIMIT 3", ""), false);
        let n = ScanStats::get(&st0.blocks_decoded);
        assert!(n >= 6 && ScanStats::get(&st.blocks_decoded) == n, "{q}");
    }
}

/// `ORDER BY time DESC LIMIT n` reads only the newest blocks of each series: with three
/// blocks per (series, field), the last point of each host decodes one block per field.
#[test]
fn lastpoint_decodes_only_the_newest_blocks() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    write(&d, &lines(0, 3000, 7));
    d.flush().unwrap();
    let q = "SELECT * FROM m GROUP BY host ORDER BY time DESC LIMIT 1";
    let (with, st) = select_with(&d, q, true, true);
    let (without, st0) = select_with(&d, q, true, false);
    assert_eq!(format!("{with:?}"), format!("{without:?}"));
    assert_eq!(with.len(), 2);
    assert_eq!(with[0].values.len(), 1);
    assert_eq!(with[0].values[0][0], Value::Time(2999 * S));
    // 2 series × 2 fields × 3 blocks against the newest block of each.
    assert_eq!(ScanStats::get(&st0.blocks_decoded), 12);
    assert_eq!(ScanStats::get(&st.blocks_decoded), 4);
    // A newer memtable point wins over the table's and is what comes back.
    write(&d, "m,host=a f=1e6 2999000000000\n");
    let (with, st) = select_with(&d, q, true, true);
    let (without, _) = select_with(&d, q, true, false);
    assert_eq!(format!("{with:?}"), format!("{without:?}"));
    assert_eq!(ScanStats::get(&st.blocks_decoded), 4);
    // A memtable point after every block's end (both fields of host a): the first window
    // starts after the blocks and decodes none of host a's; host b still decodes its two.
    write(&d, "m,host=a f=2.5,i=3i 3000000000000\n");
    let (with, st) = select_with(&d, q, true, true);
    let (without, _) = select_with(&d, q, true, false);
    assert_eq!(format!("{with:?}"), format!("{without:?}"));
    assert_eq!(with[1].values[0][0], Value::Time(3000 * S), "{with:?}");
    assert_eq!(ScanStats::get(&st.blocks_decoded), 2);
    // Needing more rows than the newest block holds widens the window block by block.
    let q = "SELECT f FROM m WHERE host = 'b' ORDER BY time DESC LIMIT 1500";
    let (with, st) = select_with(&d, q, true, true);
    let (without, st0) = select_with(&d, q, true, false);
    assert_eq!(format!("{with:?}"), format!("{without:?}"));
    assert_eq!(with[0].values.len(), 1500);
    assert_eq!(ScanStats::get(&st0.blocks_decoded), 3);
    assert!(ScanStats::get(&st.blocks_decoded) < 1 + 3);
}

/// The shortcut is really taken: a GROUP BY time aligned with the blocks decodes nothing,
/// a field condition decodes every block, and a newer table overriding part of one block
/// makes exactly the blocks it overlaps be decoded.
#[test]
fn aligned_group_by_is_answered_without_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    // 3000 points per (series, field): blocks of 1000 at [0,1000) s, [1000,2000) s, …
    write(&d, &lines(0, 3000, 7));
    d.flush().unwrap();
    let q = "SELECT count(f), sum(i), max(f) FROM m GROUP BY time(1000s)";
    let (with, st) = select(&d, q, true);
    let (without, st0) = select(&d, q, false);
    same(q, &with, &without);
    // 2 series × 2 fields × 3 blocks.
    assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 12);
    assert_eq!(ScanStats::get(&st.blocks_decoded), 0);
    assert_eq!(ScanStats::get(&st.points_decoded), 0);
    assert_eq!(ScanStats::get(&st0.blocks_decoded), 12);
    // Blocks straddling buckets are decoded.
    let (_, st) = select(&d, "SELECT count(f) FROM m GROUP BY time(500s)", true);
    assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 0);
    assert_eq!(ScanStats::get(&st.blocks_decoded), 6);
    // A field condition forces decoding.
    let (_, st) = select(
        &d,
        "SELECT count(f) FROM m WHERE i > 0 GROUP BY time(1000s)",
        true,
    );
    assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 0);
    assert!(ScanStats::get(&st.blocks_decoded) >= 6);
    // A newer write inside the second block of host=a: that block is decoded (newer wins),
    // the others still come from their aggregates.
    write(&d, "m,host=a f=1e6 1500000000000\n");
    let q = "SELECT max(f) FROM m GROUP BY time(1000s), host";
    let (with, st) = select(&d, q, true);
    let (without, _) = select(&d, q, false);
    same(q, &with, &without);
    assert_eq!(ScanStats::get(&st.blocks_decoded), 1);
    assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 5);
    assert_eq!(with[0].values[1][1], Value::Float(1e6));
    // Outside every block's range nothing is decoded at all.
    let (_, st) = select(&d, "SELECT f FROM m WHERE time > 1000000s", true);
    assert_eq!(ScanStats::get(&st.blocks_decoded), 0);
}

/// Two tables that overlap at their edges without a point in common (writers whose
/// batches straddled a memtable freeze): the older table's block lies in one bucket and
/// is still answered from its pre-aggregates, after reading the timestamps of both
/// blocks; the newer one, straddling buckets, is decoded. A point at one of the block's
/// times, in a table or in the memtable, makes it decoded again.
#[test]
fn a_block_sharing_no_time_with_an_overlapping_table_keeps_its_preaggregates() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    let pts = |ts: &mut dyn Iterator<Item = i64>| -> String {
        ts.map(|t| format!("m f={}.5 {}\n", t % 97, t * S))
            .collect()
    };
    // Every 10 s over [0, 600) s but 550, 560, 570; then those three and [600, 1200) s.
    write(
        &d,
        &pts(&mut (0..600).step_by(10).filter(|t| !(550..=570).contains(t))),
    );
    d.flush().unwrap();
    write(
        &d,
        &pts(&mut (550..=570).step_by(10).chain((600..1200).step_by(10))),
    );
    d.flush().unwrap();
    let q = "SELECT count(f), sum(f), max(f), first(f), last(f) FROM m WHERE time < 1200s GROUP BY time(10m)";
    let (with, st) = select(&d, q, true);
    let (without, st0) = select(&d, q, false);
    same(q, &with, &without);
    assert_eq!(with[0].values[0][1], Value::Integer(60), "{with:?}");
    assert_eq!(ScanStats::get(&st0.blocks_decoded), 2);
    assert_eq!(ScanStats::get(&st.blocks_from_aggregates), 1);
    assert_eq!(ScanStats::get(&st.blocks_decoded), 1);
    assert_eq!(ScanStats::get(&st.blocks_timestamps_read), 2);

    // A newer point at one of the first block's times (a table's or the memtable's):
    // newest wins, so the block is decoded and merged.
    for flush in [false, true] {
        write(&d, "m f=1000.5 300000000000\n");
        if flush {
            d.flush().unwrap();
        }
        let (with, st) = select(&d, q, true);
        let (without, _) = select(&d, q, false);
        same(q, &with, &without);
        assert_eq!(with[0].values[0][1], Value::Integer(60), "{with:?}");
        assert_eq!(with[0].values[0][3], Value::Float(1000.5), "{with:?}");
        assert_eq!(
            ScanStats::get(&st.blocks_from_aggregates),
            0,
            "flush {flush}"
        );
        assert_eq!(ScanStats::get(&st.blocks_decoded), 2 + u64::from(flush));
    }
}

/// Pruning: a narrow time range keeps only the tables it overlaps; a tag filter keeps only
/// the tables holding the selected series.
#[test]
fn prune_by_time_and_series() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    write(&d, "m,host=a f=1 1000000000\n");
    d.flush().unwrap();
    write(&d, "m,host=b f=1 2000000000\n");
    d.flush().unwrap();
    write(&d, "m,host=a f=1 3000000000\n");
    d.flush().unwrap();
    let snap = Snapshot::new(d.versions().current());
    let a = d
        .index()
        .measurement("m")
        .unwrap()
        .series_with_tag("host", "a");
    let a: Vec<SeriesId> = a.into_iter().collect();
    let all: Vec<SeriesId> = d
        .index()
        .measurement("m")
        .unwrap()
        .series_ids()
        .into_iter()
        .collect();
    let f = vec!["f".to_string()];
    let p = snap.prune(&all, &f, i64::MIN, i64::MAX).unwrap();
    assert_eq!((p.tables.len(), p.blocks, p.estimated_points), (3, 3, 3));
    let p = snap.prune(&a, &f, i64::MIN, i64::MAX).unwrap();
    assert_eq!((p.tables.len(), p.blocks), (2, 2));
    let p = snap.prune(&all, &f, 2_500_000_000, i64::MAX).unwrap();
    assert_eq!((p.tables.len(), p.blocks), (1, 1));
    assert_eq!(p.layers.iter().map(|l| l.2).sum::<usize>(), 3);
    assert_eq!(p.memtables, 0);
}

/// Plain EXPLAIN runs nothing: it prunes by the tables' indexes and reads no block, no
/// timestamp and no memtable point, while EXPLAIN ANALYZE of the same plan does.
#[test]
fn explain_reads_no_data_and_explain_analyze_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = Database::open("t", dir.path(), &crate::Config::new()).unwrap();
    write(&d, &lines(0, 3000, 3));
    d.flush().unwrap();
    write(&d, &lines_at(3000, 3100, 0, 4)); // also in the memtable
    let st = crate::query::influxql::parse(
        "SELECT max(f), median(i) FROM m GROUP BY time(500s) fill(none)",
    )
    .unwrap();
    let Some(Statement::Select(s)) = st.first() else {
        panic!("not a select");
    };
    let plan = crate::query::compile::compile_select(&d, s, 1_000_000 * S).unwrap();
    let physical = PhysicalPlan::build(&d, plan);
    let totals = |stats: &ScanStats| {
        [
            &stats.blocks_from_aggregates,
            &stats.blocks_decoded,
            &stats.blocks_timestamps_read,
            &stats.points_decoded,
            &stats.memtable_points,
        ]
        .map(ScanStats::get)
    };
    let limits = SelectLimits::unlimited();
    let snap = snapshot(&d, physical.select(), &limits, &QueryMemory::default());
    let mut explain = Explain {
        on: true,
        ..Default::default()
    };
    crate::query::exec::explain_plan(&d, &snap, &physical, &mut explain).unwrap();
    assert_eq!(totals(&snap.stats), [0; 5], "{:?}", explain.lines);
    assert_eq!(explain.series, 2);
    assert!(explain.lines.iter().any(|l| l.starts_with("  BLOCKS: ")));
    let snap = snapshot(&d, physical.select(), &limits, &QueryMemory::default());
    let out = execute_on(
        &d,
        &snap,
        &physical,
        &CancelToken::new(),
        &mut Explain::default(),
    )
    .unwrap();
    assert_eq!(out[0].values.len(), 7);
    let read = totals(&snap.stats);
    assert!(read[1] > 0 && read[4] > 0, "{read:?}");
}
