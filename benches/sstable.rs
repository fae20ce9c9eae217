//! SSTable benchmarks: write and fully scan a table of 100 series x 10 float fields x 8,640
//! points (one day at a 10 s interval, 2-decimal random walks from `strata::bench_data`).
//! The scans decode every block; `scan_decode_sum` also sums the values (what a query does
//! when the pre-aggregates cannot answer), reusing its buffers like a scan loop would.
//!
//! Run with `cargo bench --bench sstable`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use strata::bench_data;
use strata::sstable::{Provenance, Table, TableWriter};
use strata::types::{Column, FieldType, Values};

const SERIES: u64 = 100;
const FIELDS: usize = 10;
const POINTS: usize = 8_640;

fn field_names() -> Vec<String> {
    (0..FIELDS).map(|f| format!("field{f:02}")).collect()
}

/// One day of TSBS-shaped runs per (series, field), each its own random walk.
fn columns() -> Vec<Vec<Column>> {
    (0..SERIES)
        .map(|s| {
            (0..FIELDS as u64)
                .map(|f| bench_data::float_column(s * FIELDS as u64 + f, POINTS))
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
    w.set_provenance(Provenance {
        layer: 1,
        min_seq: 1,
        max_seq: 1,
    });
    w.finish().expect("finish table").points
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let cols = columns();
    let names = field_names();
    let points = SERIES * FIELDS as u64 * POINTS as u64;

    let mut group = c.benchmark_group("sstable");
    group.sample_size(10);
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
    group.bench_function("scan_decode_sum", |b| {
        let (mut buf, mut col) = (Vec::new(), Column::new(FieldType::Float));
        b.iter(|| {
            let (mut sum, mut n) = (0.0f64, 0u64);
            for (id, _) in table.series() {
                for (field, _) in table.fields(id) {
                    for block in table.blocks(id, field) {
                        table
                            .read_block_into(block, &mut buf, &mut col)
                            .expect("read block");
                        let Values::Float(v) = &col.values else {
                            panic!("float block");
                        };
                        sum += v.iter().sum::<f64>();
                        n += v.len() as u64;
                    }
                }
            }
            assert_eq!(n, points);
            sum
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
