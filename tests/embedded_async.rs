//! Scenario: an async (tokio) service embeds strata: many tasks write with
//! `Db::write_lines_async` and read with `Db::query_async` on a multi-threaded runtime, a
//! query that goes to the pool is awaited, and a partial write reports its bad line; then the
//! typed vq query builder reads the same data as InfluxQL does.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::sync::Arc;

use strata::query::Value;
use strata::{Config, Db, Error};

#[test]
fn tasks_write_and_query_through_the_async_api() {
    let dir = tempfile::tempdir().unwrap();
    // Every query goes to the pool (nothing inline), so query_async awaits a worker.
    let db = Arc::new(Db::open(dir.path(), Config::new().query_inline_max_points(0)).unwrap());
    db.create_database("svc").unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let mut writers = Vec::new();
        for task in 0..8i64 {
            let db = db.clone();
            writers.push(tokio::spawn(async move {
                for batch in 0..5i64 {
                    let body: String = (0..100i64)
                        .map(|i| format!("m,task=t{task} v={i}i {}\n", batch * 100 + i + 1))
                        .collect();
                    let written = db.write_lines_async("svc", body).await.unwrap();
                    assert_eq!(written.points, 100);
                }
            }));
        }
        for w in writers {
            w.await.unwrap();
        }
        let answer = db
            .query_async("svc", "SELECT count(v) FROM m GROUP BY task")
            .await
            .unwrap();
        let series = &answer.results[0].series;
        assert_eq!(series.len(), 8);
        assert!(series.iter().all(|s| s.values[0][1] == Value::Integer(500)));
        let partial = db
            .write_lines_async("svc", "m,task=x v=1i 1\nnot line protocol\n".to_string())
            .await;
        assert!(
            matches!(&partial, Err(Error::PartialWrite { dropped: 1, message }) if message.contains("line 2")),
            "{partial:?}"
        );
        let missing = db.write_lines_async("nope", "m v=1 1\n".to_string()).await;
        assert!(matches!(missing, Err(Error::DatabaseNotFound(_))), "{missing:?}");
    });
    assert_eq!(db.query_paths().inline, 0);

    // The typed vq builder over the same engine: a vq table, read back by InfluxQL.
    let weather = db.table("weather");
    weather.create(&["city"]).unwrap();
    for (t, city, v) in [(10, "paris", 20.0), (20, "paris", 22.0), (30, "oslo", 1.0)] {
        weather.put(t, "temp", &[("city", city)], v).unwrap();
    }
    let paris = || weather.query().metric("temp").tag("city", "paris");
    assert_eq!(paris().avg().unwrap(), 21.0);
    assert_eq!(paris().between(15, 40).count().unwrap(), 1);
    assert_eq!(weather.query().metric("temp").max().unwrap(), 22.0);
    let influxql = db
        .query("vq", "SELECT mean(temp) FROM weather WHERE city = 'paris'")
        .unwrap();
    assert_eq!(
        influxql.results[0].series[0].values[0][1],
        Value::Float(21.0)
    );
}
