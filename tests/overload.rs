//! Scenario: overload through `strata serve` is refused, never absorbed. Many writers and heavy
//! queries at once against a daemon allowing 2 running and 2 queued queries: refused queries
//! get 503, `/ping` keeps answering quickly (no query runs on a thread that serves
//! connections), peak memory stays bounded, and every acknowledged point is there afterwards.
//! A burst of ten small (inline) queries respects the same queue.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

const BASE: i64 = 1_700_000_000_000_000_000;

#[test]
fn overload_is_refused_and_the_daemon_stays_responsive_and_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(
        &data,
        &sock,
        &[
            "--max-concurrent-queries",
            "2",
            "--query-queue-depth",
            "2",
            "--query-memory-limit",
            &(64u64 << 20).to_string(),
            "--query-inline-max-points",
            "10000000",
        ],
    );
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+o", b"").status,
        200
    );
    // 100 series x 2,000 points to query.
    for chunk in 0..4 {
        let mut body = String::new();
        for host in 0..100 {
            for i in 0..500 {
                let n = chunk * 500 + i;
                body.push_str(&format!(
                    "m,host=h{host} v={n}i {}\n",
                    BASE + n * 1_000_000_000
                ));
            }
        }
        assert_eq!(write(&sock, "o", &body).status, 204);
    }

    // A burst of ten queries small enough to run inline, started together.
    let barrier = Arc::new(Barrier::new(10));
    let burst: Vec<_> = (0..10)
        .map(|_| {
            let (sock, barrier) = (sock.clone(), barrier.clone());
            thread::spawn(move || {
                barrier.wait();
                query(&sock, "o", "SELECT percentile(v, 50) FROM m GROUP BY host").status
            })
        })
        .collect();
    let statuses: Vec<u16> = burst.into_iter().map(|h| h.join().unwrap()).collect();
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&503),
        "ten at once with 2 running and 2 queued: some must be refused: {statuses:?}"
    );

    let stop = Arc::new(AtomicBool::new(false));
    let refused = Arc::new(AtomicU64::new(0));
    let answered = Arc::new(AtomicU64::new(0));
    // Six writers, each its own series, acknowledged batches counted.
    let writers: Vec<_> = (0..6)
        .map(|w| {
            let sock = sock.clone();
            thread::spawn(move || {
                let mut acked = 0usize;
                for b in 0..30 {
                    let body: String = (0..500)
                        .map(|i| {
                            let n = b * 500 + i;
                            format!("w,writer=w{w} v={n}i {}\n", BASE + n as i64 * 1_000_000)
                        })
                        .collect();
                    let a = write(&sock, "o", &body);
                    assert!(a.status == 204 || a.status == 503, "{}", a.body);
                    if a.status == 204 {
                        acked += 500;
                    }
                }
                acked
            })
        })
        .collect();
    // Six query loops.
    let queriers: Vec<_> = (0..6)
        .map(|i| {
            let (sock, stop, refused, answered) = (
                sock.clone(),
                stop.clone(),
                refused.clone(),
                answered.clone(),
            );
            thread::spawn(move || {
                let q = if i % 2 == 0 {
                    "SELECT count(distinct(v)) FROM m GROUP BY host"
                } else {
                    "SELECT percentile(v, 90) FROM m GROUP BY time(1m), host"
                };
                while !stop.load(Ordering::Relaxed) {
                    let a = query(&sock, "o", q);
                    match a.status {
                        200 => answered.fetch_add(1, Ordering::Relaxed),
                        503 => refused.fetch_add(1, Ordering::Relaxed),
                        other => panic!("{other}: {}", a.body),
                    };
                }
            })
        })
        .collect();
    // /ping latency throughout.
    let pinger = {
        let (sock, stop) = (sock.clone(), stop.clone());
        thread::spawn(move || {
            let mut worst = Duration::ZERO;
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                assert_eq!(request(&sock, "GET", "/ping", b"").status, 204);
                worst = worst.max(t.elapsed());
                thread::sleep(Duration::from_millis(50));
            }
            worst
        })
    };
    let acked: Vec<usize> = writers.into_iter().map(|h| h.join().unwrap()).collect();
    thread::sleep(Duration::from_secs(1));
    stop.store(true, Ordering::Relaxed);
    for q in queriers {
        q.join().unwrap();
    }
    let worst_ping = pinger.join().unwrap();
    let peak = peak_rss_kib(d.child.id());
    eprintln!(
        "overload: {} answered, {} refused (503), worst /ping {worst_ping:?}, peak RSS {peak} KiB",
        answered.load(Ordering::Relaxed),
        refused.load(Ordering::Relaxed)
    );
    assert!(answered.load(Ordering::Relaxed) > 0);
    assert!(
        worst_ping < Duration::from_secs(2),
        "/ping took {worst_ping:?} under load"
    );
    assert!(peak < 1 << 20, "peak RSS {peak} KiB past 1 GiB");

    for (w, n) in acked.iter().enumerate() {
        let v = query_json(
            &sock,
            "o",
            &format!("SELECT count(v) FROM w WHERE writer = 'w{w}'"),
        );
        let got = v["results"][0]["series"][0]["values"][0][1]
            .as_u64()
            .unwrap_or(0) as usize;
        assert!(got >= *n, "writer {w}: {got} points, {n} acknowledged");
    }
    assert_eq!(d.stop().code(), Some(0));
}
