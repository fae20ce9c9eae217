//! Criterion benchmarks of the query engine's hot paths through the embedded API: aggregation
//! into accumulators (GROUP BY time and tags, selectors, means, a median holding every point),
//! transformations over raw points (moving_average, exponential_moving_average), raw rows, and a
//! one-group aggregate split by series over `query_parallelism` tasks, on a settled database
//! (flushed and compacted, so the reads come from tables and the block cache).
//!
//! `cargo bench --bench query`; BENCHMARKS.md compares two commits with
//! `-- --save-baseline before` and `-- --baseline before`.

use criterion::{criterion_group, criterion_main, Criterion};
use strata::{Config, Db};

const HOSTS: usize = 50;
const POINTS_PER_HOST: i64 = 8_640; // one day at 10 s
const FIELDS: [&str; 4] = ["usage_user", "usage_system", "usage_idle", "usage_iowait"];

fn load(db: &Db) {
    db.create_database("b").expect("create database");
    let mut body = String::new();
    for t in 0..POINTS_PER_HOST {
        for h in 0..HOSTS {
            let values: Vec<String> = FIELDS
                .iter()
                .enumerate()
                .map(|(k, f)| {
                    format!(
                        "{f}={}",
                        ((t * 7 + h as i64 * 13 + k as i64) % 1000) as f64 / 10.0
                    )
                })
                .collect();
            body.push_str(&format!(
                "cpu,hostname=host_{h},region=r{} {} {}\n",
                h % 4,
                values.join(","),
                t * 10_000_000_000
            ));
        }
        if body.len() > 4 << 20 {
            db.write_lines("b", &body).expect("write");
            body.clear();
        }
    }
    db.write_lines("b", &body).expect("write");
    db.flush().expect("flush");
    db.major_compact("b").expect("major compaction");
}

fn queries(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = Config::new().query_inline_max_points(0);
    let db = Db::open(dir.path(), config).expect("open");
    load(&db);
    let day = POINTS_PER_HOST * 10;
    let cases = [
        (
            "max_8_hosts_by_minute",
            format!(
                "SELECT max(usage_user), max(usage_system), max(usage_idle), max(usage_iowait) \
                 FROM cpu WHERE hostname =~ /^host_[0-7]$/ AND time >= 0s AND time < {}s \
                 GROUP BY time(1m)",
                day / 3
            ),
        ),
        (
            "mean_by_hour_and_host",
            format!(
                "SELECT mean(usage_user), mean(usage_idle) FROM cpu WHERE time >= 0s \
                 AND time < {day}s GROUP BY time(1h), hostname"
            ),
        ),
        (
            "last_by_host",
            "SELECT last(usage_user), last(usage_idle) FROM cpu GROUP BY hostname".to_string(),
        ),
        (
            "count_spread_one_group",
            format!("SELECT count(usage_user), spread(usage_idle) FROM cpu WHERE time < {day}s"),
        ),
        (
            // Every point held (median keeps its bucket's values): the per-point add and its
            // memory charge.
            "median_by_hour_8_hosts",
            format!(
                "SELECT median(usage_user) FROM cpu WHERE hostname =~ /^host_[0-7]$/ \
                 AND time >= 0s AND time < {day}s GROUP BY time(1h), hostname"
            ),
        ),
        (
            // A transformation over raw points with a wide window: its per-point cost.
            "moving_average_500_one_host",
            format!(
                "SELECT moving_average(usage_user, 500) FROM cpu WHERE hostname = 'host_3' \
                 AND time < {day}s"
            ),
        ),
        (
            "exponential_moving_average_one_host",
            format!(
                "SELECT exponential_moving_average(usage_user, 500) FROM cpu \
                 WHERE hostname = 'host_3' AND time < {day}s"
            ),
        ),
        (
            "raw_one_host",
            format!(
                "SELECT usage_user, usage_idle FROM cpu WHERE hostname = 'host_3' AND time < {}s",
                day / 4
            ),
        ),
    ];
    let mut group = c.benchmark_group("query");
    group.sample_size(20);
    for (name, q) in &cases {
        let answer = db.query("b", q).expect("query");
        assert!(
            answer.results.iter().all(|r| r.error.is_none()),
            "{name}: {answer:?}"
        );
        group.bench_function(*name, |b| {
            b.iter(|| db.query("b", q).expect("query"));
        });
    }
    group.finish();
}

criterion_group!(benches, queries);
criterion_main!(benches);
