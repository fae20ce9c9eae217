//! WAL write path: append + sync of TSBS-shaped batches (cpu-only: 10 float fields per row),
//! 5,000 rows per batch, into a segment in a temporary directory. Also the encode step alone.
//!
//! Throughput is in points (field values): 50,000 per batch.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata::types::{FieldValue, Row, WriteBatch};
use strata::wal::{encode_batch, Wal};

const ROWS: usize = 5_000;
const HOSTS: usize = 1_000;
const FIELDS: [&str; 10] = [
    "usage_user",
    "usage_system",
    "usage_idle",
    "usage_nice",
    "usage_iowait",
    "usage_irq",
    "usage_softirq",
    "usage_steal",
    "usage_guest",
    "usage_guest_nice",
];

/// 1,000 hosts × 5 ten-second intervals, TSBS order (by time, then host), values like TSBS's
/// random walks: percentages with a fractional part.
fn tsbs_batch() -> WriteBatch {
    let names: Vec<Arc<str>> = FIELDS.iter().map(|&f| Arc::from(f)).collect();
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 100.0
    };
    let start: i64 = 1_451_606_400_000_000_000; // 2016-01-01, TSBS default
    let rows = (0..ROWS)
        .map(|i| Row {
            series: (i % HOSTS) as u64,
            timestamp: start + (i / HOSTS) as i64 * 10_000_000_000,
            fields: names
                .iter()
                .map(|n| (Arc::clone(n), FieldValue::Float(next())))
                .collect(),
        })
        .collect();
    WriteBatch {
        new_series: Vec::new(),
        rows,
    }
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
    let (mut wal, _) = Wal::open(dir.path(), 64 << 20, 0).expect("open WAL");
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
