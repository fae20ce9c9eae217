//! Time one query on an existing data directory at `query_parallelism` 1 and 2, alternately
//! (BENCHMARKS.md: the gain of splitting a one-group aggregate by series, on a database whose
//! ingest has settled, which `strata bench` does not measure: it queries right after loading).
//!
//! ```sh
//! strata bench --hosts 100 --hours 24 --embedded-only --keep --data-dir /tmp/b
//! cargo run --release --example query_parallelism -- /tmp/b/embedded bench "SELECT …" 200
//! ```

use std::time::{Duration, Instant};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: query_parallelism DATA_DIR DATABASE QUERY [RUNS]";
    let dir = args.next().ok_or(usage)?;
    let database = args.next().ok_or(usage)?;
    let query = args.next().ok_or(usage)?;
    let runs: usize = args.next().map_or(Ok(200), |n| n.parse())?;
    for round in 1..=3 {
        for parallelism in [1, 2] {
            let config = strata::Config::new().query_parallelism(parallelism);
            let db = strata::Db::open(std::path::Path::new(&dir), config)?;
            // One warm-up run: the block cache and the tables' indexes.
            db.query(&database, &query)?;
            let mut times: Vec<Duration> = Vec::with_capacity(runs);
            for _ in 0..runs {
                let started = Instant::now();
                let answer = db.query(&database, &query)?;
                times.push(started.elapsed());
                if let Some(error) = answer.results.iter().find_map(|r| r.error.as_ref()) {
                    return Err(error.clone().into());
                }
            }
            times.sort();
            let p50 = times.get(runs / 2).copied().unwrap_or_default();
            println!(
                "round {round} query_parallelism {parallelism}: p50 {:.3} ms over {runs} runs ({:?})",
                p50.as_secs_f64() * 1000.0,
                db.query_paths()
            );
            db.close()?;
        }
    }
    Ok(())
}
