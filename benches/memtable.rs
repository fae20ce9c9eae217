//! Memtable insert: applying TSBS-shaped write batches (1,000 hosts x 5 intervals x 10 float
//! fields = 50,000 points per batch, from `strata::bench_data`) to a fresh memtable.
//!
//! Run with `cargo bench --bench memtable`. Throughput is in points.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use strata::bench_data::cpu_batch;
use strata::memtable::Memtable;

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
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
