//! Line protocol parsing throughput on a TSBS-shaped `cpu` body: 5,000 lines, 10 tags and
//! 10 float fields with two decimals per line.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use strata::lineproto::{parse, write_point, Precision};
use strata::types::{FieldValue, ParsedPoint};

const LINES: usize = 5_000;

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

/// A small deterministic generator (64-bit LCG), so every run parses the same body.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn pick<'a>(&mut self, options: &[&'a str]) -> &'a str {
        let n = options.len() as u64;
        options
            .get((self.next() % n) as usize)
            .copied()
            .unwrap_or("")
    }
}

fn tsbs_cpu_body() -> String {
    let mut rng = Lcg(42);
    let mut body = String::with_capacity(LINES * 400);
    let start: i64 = 1_451_606_400_000_000_000;
    for i in 0..LINES {
        let host = i % 100;
        let tags = vec![
            ("arch".to_string(), rng.pick(&["x64", "x86"]).to_string()),
            (
                "datacenter".to_string(),
                rng.pick(&["us-east-1a", "us-east-1b", "eu-west-1c", "ap-south-1a"])
                    .to_string(),
            ),
            ("hostname".to_string(), format!("host_{host}")),
            (
                "os".to_string(),
                rng.pick(&["Ubuntu16.04LTS", "Ubuntu15.10", "Ubuntu16.10"])
                    .to_string(),
            ),
            ("rack".to_string(), (rng.next() % 100).to_string()),
            (
                "region".to_string(),
                rng.pick(&["us-east-1", "eu-west-1", "ap-south-1"])
                    .to_string(),
            ),
            ("service".to_string(), (rng.next() % 20).to_string()),
            (
                "service_environment".to_string(),
                rng.pick(&["production", "staging", "test"]).to_string(),
            ),
            ("service_version".to_string(), (rng.next() % 2).to_string()),
            (
                "team".to_string(),
                rng.pick(&["SF", "NYC", "LON", "CHI"]).to_string(),
            ),
        ];
        let fields = FIELDS
            .iter()
            .map(|name| {
                // Two decimals, 0.00 to 99.99.
                let hundredths = (rng.next() % 10_000) as f64;
                (name.to_string(), FieldValue::Float(hundredths / 100.0))
            })
            .collect();
        let point = ParsedPoint {
            measurement: "cpu".to_string(),
            tags,
            fields,
            timestamp: Some(start + (i / 100) as i64 * 10_000_000_000),
        };
        write_point(&mut body, &point);
        body.push('\n');
    }
    body
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
