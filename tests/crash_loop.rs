//! Scenario: a crash loop. `strata serve` is killed with SIGKILL again and again while writers
//! ingest, a deleter deletes and compactions run (small memtables, small WAL segments and tiny
//! layer limits keep flushes and compactions happening all the time). After every kill the
//! daemon must start, every acknowledged point must be there exactly once (a batch in flight at
//! the kill may or may not be, but whole or not at all), and every acknowledged delete must
//! hold.
//!
//! `STRATA_CRASH_CYCLES` sets the number of cycles (default 6, for CI; `scripts/crash_loop.sh`
//! runs a long loop).

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

const BASE_NS: i64 = 1_700_000_000_000_000_000;
const PER_BATCH: usize = 50;
const WRITERS: usize = 2;

fn batch(writer: usize, b: usize) -> String {
    let mut s = String::new();
    for i in 0..PER_BATCH {
        let n = b * PER_BATCH + i;
        s.push_str(&format!(
            "m,w=w{writer} v={n}i {}\n",
            BASE_NS + n as i64 * 1_000_000_000
        ));
    }
    s
}

/// What one writer knows after a cycle: batches below `acked` were acknowledged; `in_flight`
/// was sent and not answered.
#[derive(Clone, Copy, Default)]
struct WriterState {
    acked: usize,
    in_flight: Option<usize>,
}

/// A small deterministic generator (xorshift), so the kill times repeat from run to run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

fn sum_below(n_points: usize) -> i64 {
    (0..n_points as i64).sum()
}

#[test]
fn every_acknowledged_point_survives_a_crash_loop() {
    let cycles: usize = std::env::var("STRATA_CRASH_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6);
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let sock = dir.path().join("s.sock");
    let flags = [
        "--memtable-size-bytes",
        "16384",
        "--wal-segment-bytes",
        "8192",
        "--layer-max-tables",
        "2,2,2,2,2,2,2,2",
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut writers = [WriterState::default(); WRITERS];
    // Points of measurement `d` below this timestamp were deleted by an acknowledged delete.
    let mut deleted_below: i64 = 0;
    let mut next_d: i64 = 0;

    {
        let d = Daemon::start(&data, &sock, &flags);
        assert_eq!(
            request(&sock, "POST", "/query?q=CREATE+DATABASE+c", b"").status,
            200
        );
        d.kill9();
    }

    for cycle in 0..cycles {
        let d = Daemon::start(&data, &sock, &flags);
        verify(&sock, &mut writers, deleted_below, cycle);

        let stop = Arc::new(AtomicBool::new(false));
        let mut handles = Vec::new();
        for (w, state) in writers.iter().enumerate() {
            let (sock, stop, mut state) = (sock.clone(), stop.clone(), *state);
            handles.push(thread::spawn(move || {
                // A batch in flight at the last kill is sent again: the same points overwrite.
                let mut b = state.in_flight.unwrap_or(state.acked);
                while !stop.load(Ordering::Relaxed) {
                    state.in_flight = Some(b);
                    match try_request(&sock, "POST", "/write?db=c", batch(w, b).as_bytes()) {
                        Some(a) if a.status == 204 => {
                            state.acked = state.acked.max(b + 1);
                            state.in_flight = None;
                            b = state.acked;
                        }
                        // The daemon is gone (or answered something else): stop here.
                        _ => break,
                    }
                }
                state
            }));
        }
        // The deleter: writes points to `d`, deletes all but the newest, again and again.
        let deleter = {
            let (sock, stop) = (sock.clone(), stop.clone());
            thread::spawn(move || {
                let mut acked_below = deleted_below;
                let mut n = next_d;
                while !stop.load(Ordering::Relaxed) {
                    let lines: String = (0..20)
                        .map(|i| format!("d v={} {}\n", n + i, BASE_NS + (n + i) * 1_000_000))
                        .collect();
                    match try_request(&sock, "POST", "/write?db=c", lines.as_bytes()) {
                        Some(a) if a.status == 204 => n += 20,
                        _ => break,
                    }
                    let cut = BASE_NS + (n - 5) * 1_000_000;
                    let q = format!("DELETE FROM d WHERE time < {cut}");
                    let path = format!(
                        "/query?db=c&q={}",
                        form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()
                    );
                    match try_request(&sock, "POST", &path, b"") {
                        Some(a) if a.status == 200 && !a.body.contains("error") => {
                            acked_below = cut
                        }
                        _ => break,
                    }
                }
                (acked_below, n)
            })
        };
        // Major compactions now and then.
        let compactor = {
            let (sock, stop) = (sock.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if try_request(&sock, "POST", "/internal/compact?db=c", b"").is_none() {
                        break;
                    }
                    thread::sleep(Duration::from_millis(40));
                }
            })
        };

        thread::sleep(Duration::from_millis(150 + rng.next() % 450));
        d.kill9();
        stop.store(true, Ordering::Relaxed);
        for (w, h) in handles.into_iter().enumerate() {
            writers[w] = h.join().unwrap();
        }
        let (below, n) = deleter.join().unwrap();
        deleted_below = below;
        next_d = n;
        compactor.join().unwrap();
    }

    let d = Daemon::start(&data, &sock, &flags);
    verify(&sock, &mut writers, deleted_below, cycles);
    let total: usize = writers.iter().map(|w| w.acked).sum();
    assert!(total > 0, "the writers acknowledged nothing");
    assert_eq!(d.stop().code(), Some(0));
    eprintln!(
        "crash loop: {cycles} kill -9 cycles, {} acknowledged points, deletes acknowledged up to {deleted_below}",
        total * PER_BATCH
    );
}

/// Every acknowledged batch is there exactly once; a batch in flight at the kill is there whole
/// or not at all (then it is acknowledged: it will be sent again). Points deleted by an
/// acknowledged delete are gone.
fn verify(sock: &std::path::Path, writers: &mut [WriterState], deleted_below: i64, cycle: usize) {
    for (w, state) in writers.iter_mut().enumerate() {
        let q = format!("SELECT count(v), sum(v) FROM m WHERE w = 'w{w}'");
        let v = query_json(sock, "c", &q);
        let row = &v["results"][0]["series"][0]["values"][0];
        let count = row[1].as_u64().unwrap_or(0) as usize;
        let sum = row[2].as_i64().unwrap_or(0);
        let acked_points = state.acked * PER_BATCH;
        let with_in_flight = state
            .in_flight
            .map_or(acked_points, |b| (b + 1) * PER_BATCH);
        assert!(
            count == acked_points || count == with_in_flight,
            "cycle {cycle}, writer {w}: {count} points, acknowledged {acked_points} (in flight up to {with_in_flight}): {v}"
        );
        assert_eq!(
            sum,
            sum_below(count),
            "cycle {cycle}, writer {w}: every point exactly once"
        );
    }
    if deleted_below > 0 {
        let q = format!("SELECT count(v) FROM d WHERE time < {deleted_below}");
        let v = query_json(sock, "c", &q);
        assert!(
            v["results"][0]["series"].is_null(),
            "cycle {cycle}: deleted points came back: {v}"
        );
    }
}
