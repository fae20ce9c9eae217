//! Line protocol parsing throughput on a TSBS-shaped `cpu` body (the `strata bench` generator,
//! `src/bench/tsbs.rs`): 5,000 lines, 10 tags and 10 float fields with two decimals per line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strata::lineproto::{parse, Precision};

// The generator belongs to the `strata` command, not to the library's API: included by path.
// Only the batches are used here.
#[allow(dead_code)]
#[path = "../src/bench/tsbs.rs"]
mod tsbs;

use tsbs::TsbsSpec;

const LINES: usize = 5_000;

/// The first 5,000 lines of the `strata bench` data set (1,000 hosts, TSBS cpu-only shape).
fn tsbs_cpu_body() -> String {
    let batch = TsbsSpec::new(1_000, 1.0)
        .batches(LINES)
        .next()
        .expect("the spec has lines");
    assert_eq!(batch.lines, LINES);
    batch.text
}

fn bench_parse(c: &mut Criterion) {
    let body = tsbs_cpu_body();
    let check = parse(&body, Precision::Nanosecond, 0, 65_536);
    assert_eq!(check.points.len(), LINES);
    assert!(check.errors.is_empty());

    let mut group = c.benchmark_group("lineproto");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse_tsbs_cpu_5000", |b| {
        b.iter(|| parse(black_box(&body), Precision::Nanosecond, 0, 65_536))
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
