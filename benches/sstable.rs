//! SSTable benchmarks: write and fully scan a table of 100 series x 10 float fields x 8,640
//! points (one day at a 10 s interval, 2-decimal random walks).
//!
//! Run with `cargo bench --bench sstable`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata::sstable::{Table, TableWriter};
use strata::types::{Column, Values};

const SERIES: u64 = 100;
const FIELDS: usize = 10;
const POINTS: usize = 8_640;
const INTERVAL_NS: i64 = 10_000_000_000;
const START_NS: i64 = 1_700_000_000_000_000_000;

/// xorshift64*: a small deterministic generator so the bench needs no extra crates.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn field_names() -> Vec<String> {
    (0..FIELDS).map(|f| format!("field{f:02}")).collect()
}

fn columns() -> Vec<Vec<Column>> {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let timestamps: Vec<i64> = (0..POINTS as i64)
        .map(|i| START_NS + i * INTERVAL_NS)
        .collect();
    (0..SERIES)
        .map(|_| {
            (0..FIELDS)
                .map(|_| {
                    let mut v = rng.next_f64() * 100.0;
                    let values = (0..POINTS)
                        .map(|_| {
                            v += rng.next_f64() - 0.5;
                            (v * 100.0).round() / 100.0
                        })
                        .collect();
                    Column {
                        timestamps: timestamps.clone(),
                        values: Values::Float(values),
                    }
                })
                .collect()
        })
        .collect()
}

fn write_table(path: &Path, cols: &[Vec<Column>], names: &[String]) -> u64 {
    let mut w = TableWriter::create(path).expect("create table");
    for (s, fields) in cols.iter().enumerate() {
        let key = format!("cpu,host=h{s:03}");
        for (name, c) in names.iter().zip(fields) {
            w.add(s as u64, &key, name, c).expect("add run");
        }
    }
    w.finish().expect("finish table").points
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cols = columns();
    let names = field_names();
    let points = SERIES * FIELDS as u64 * POINTS as u64;

    let mut group = c.benchmark_group("sstable");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    group.throughput(Throughput::Elements(points));

    let mut n = 0u32;
    group.bench_function("write_100x10x8640_float", |b| {
        b.iter(|| {
            n += 1;
            let path = dir.path().join(format!("w{n}.sst"));
            let written = write_table(&path, &cols, &names);
            std::fs::remove_file(&path).expect("remove");
            written
        })
    });

    let path = dir.path().join("scan.sst");
    assert_eq!(write_table(&path, &cols, &names), points);
    let table = Table::open(&path).expect("open table");
    eprintln!(
        "table: {} points, {} blocks, {} bytes ({:.2} bytes/point)",
        table.stats().points,
        table.stats().blocks,
        table.stats().file_bytes,
        table.stats().file_bytes as f64 / points as f64
    );
    group.bench_function("full_scan_read_block", |b| {
        b.iter(|| {
            let mut scanned = 0u64;
            for (id, _) in table.series() {
                for (field, _) in table.fields(id) {
                    for block in table.blocks(id, field) {
                        scanned += table.read_block(block).expect("read block").len() as u64;
                    }
                }
            }
            assert_eq!(scanned, points);
            scanned
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
