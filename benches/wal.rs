//! WAL write path: append + sync of TSBS-shaped batches (cpu-only: 10 float fields per row),
//! 5,000 rows per batch, into a segment in a temporary directory. Also the encode step alone.
//!
//! Throughput is in points (field values): 50,000 per batch.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata::bench_data::cpu_batch;
use strata::types::WriteBatch;
use strata::wal::{encode_batch, OnCorrupt, Wal};

/// 1,000 hosts × 5 ten-second intervals in TSBS order (`strata::bench_data::cpu_batch`:
/// by time, then host; each field a two-decimal random walk).
fn tsbs_batch() -> WriteBatch {
    let batch = cpu_batch(1_000, 5, 42);
    assert_eq!(batch.rows.len(), 5_000);
    batch
}

fn bench_wal(c: &mut Criterion) {
    let batch = tsbs_batch();
    let points = batch.point_count() as u64;
    let mut group = c.benchmark_group("wal");
    group.throughput(Throughput::Elements(points));
    group.sample_size(20);

    group.bench_function("encode_5000x10", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            buf.clear();
            encode_batch(1, black_box(&batch), &mut buf);
            black_box(buf.len())
        })
    });

    let dir = tempfile::tempdir().expect("tempdir");
    let (mut wal, _) = Wal::open(dir.path(), 64 << 20, 0, OnCorrupt::Fail).expect("open WAL");
    let trimmer = wal.trimmer();
    let mut seqno = 0u64;
    group.bench_function("append_sync_5000x10", |b| {
        b.iter(|| {
            seqno += 1;
            wal.append(seqno, black_box(&batch)).expect("append");
            wal.sync().expect("sync");
            // Keep the temporary directory small: everything before this batch counts as
            // flushed. Cheap (a lock and a map scan) unless a segment was just closed.
            trimmer.trim(seqno - 1).expect("trim");
        })
    });
    group.finish();
}

criterion_group!(benches, bench_wal);
criterion_main!(benches);
