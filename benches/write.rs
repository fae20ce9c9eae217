//! Criterion benchmarks of the write path through the embedded API: one line-protocol body of
//! 50,000 points, each of a different series, written when none of its series exists yet
//! (every point creates one) and when all of them exist. Resolving a point's series is O(1)
//! amortized, so the two stay within a small factor of each other; when the batch's new series
//! were scanned for each new one (issue #15) creating them cost over ten times as much.
//!
//! `cargo bench --bench write`. Each write is one WAL record, fsynced.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use strata::{Config, Db};

const SERIES: usize = 50_000;

/// 50 hosts × 1,000 ids: two tags, so no tag passes the default `max_values_per_tag`.
fn body() -> String {
    (0..SERIES)
        .map(|i| format!("m,h=h{:03},i=i{:03} v=1i 1\n", i / 1000, i % 1000))
        .collect()
}

fn fresh_database() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = Db::open(dir.path(), Config::new()).expect("open");
    db.create_database("w").expect("create database");
    (dir, db)
}

fn writes(c: &mut Criterion) {
    let body = body();
    let mut group = c.benchmark_group("write");
    group.sample_size(20);
    group.throughput(Throughput::Elements(SERIES as u64));

    group.bench_function("body_of_50k_new_series", |b| {
        b.iter_batched(
            fresh_database,
            |(dir, db)| {
                let summary = db.write_lines("w", &body).expect("write");
                assert_eq!(summary.points, SERIES);
                // Returned, so that closing the database is not timed.
                (dir, db)
            },
            BatchSize::PerIteration,
        )
    });

    let (_dir, db) = fresh_database();
    db.write_lines("w", &body).expect("write");
    group.bench_function("body_of_50k_known_series", |b| {
        b.iter(|| {
            let summary = db.write_lines("w", &body).expect("write");
            assert_eq!(summary.points, SERIES);
        })
    });
    group.finish();
}

criterion_group!(benches, writes);
criterion_main!(benches);
