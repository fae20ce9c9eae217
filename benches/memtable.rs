//! Memtable insert: applying TSBS-shaped write batches (1,000 hosts x 5 intervals x 10 float
//! fields = 50,000 points per batch, from `strata::bench_data`) to a fresh memtable, and forty
//! of them (2 M points, every column growing from empty to 200 points: a memtable's life in the
//! daemon); and reading every column of such a memtable out in time order (the flush).
//!
//! Run with `cargo bench --bench memtable`. Throughput is in points.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use strata::bench_data::cpu_batch;
use strata::memtable::Memtable;
use strata::types::WriteBatch;

fn bench(c: &mut Criterion) {
    // Four consecutive batches of the same hosts: the first creates the series and fields,
    // the later ones append to them.
    let batches: Vec<_> = (0..4)
        .map(|i| {
            let mut b = cpu_batch(1_000, 20, 1);
            b.rows.drain(..i * 5_000);
            b.rows.truncate(5_000);
            b
        })
        .collect();
    let points: usize = batches.iter().map(|b| b.point_count()).sum();
    let mut group = c.benchmark_group("memtable");
    group.throughput(Throughput::Elements(points as u64));
    group.sample_size(20);
    group.bench_function("apply_4x5000x10", |b| {
        b.iter_batched(
            Memtable::new,
            |m| {
                for (seq, batch) in batches.iter().enumerate() {
                    m.apply(seq as u64 + 1, batch);
                }
                m
            },
            BatchSize::LargeInput,
        )
    });
    // A memtable's whole life in a daemon: 200 intervals of 1,000 hosts (2 M points, far more
    // than the caches) into a fresh memtable, so every column grows from empty to 200 points.
    let fill: Vec<WriteBatch> = cpu_batch(1_000, 200, 1)
        .rows
        .chunks(5_000)
        .map(|rows| WriteBatch {
            new_series: Vec::new(),
            rows: rows.to_vec(),
        })
        .collect();
    group.throughput(Throughput::Elements(
        fill.iter().map(|b| b.point_count() as u64).sum(),
    ));
    group.sample_size(10);
    group.bench_function("apply_40x5000x10_life", |b| {
        b.iter_batched(
            Memtable::new,
            |m| {
                for (seq, batch) in fill.iter().enumerate() {
                    m.apply(seq as u64 + 1, batch);
                }
                m
            },
            BatchSize::PerIteration,
        )
    });
    // What the flusher does with a frozen memtable: every column read out in time order. The
    // batches applied in pairs, the later first (two writers' batches reach the WAL in either
    // order), so the columns are not in time order and each read sorts.
    let m = Memtable::new();
    for (seq, pair) in fill.chunks(2).enumerate() {
        for (k, batch) in pair.iter().rev().enumerate() {
            m.apply((2 * seq + k) as u64 + 1, batch);
        }
    }
    group.bench_function("read_all_40x5000x10_late_pairs", |b| {
        b.iter(|| {
            let mut n = 0usize;
            m.for_each_run(|_, _, col| {
                n += col.len();
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(n as u64, m.points());
            n
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
