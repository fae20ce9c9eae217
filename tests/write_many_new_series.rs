//! Scenario: one 4.8 MB body that creates 200,000 new series is written in time linear in the
//! body. Resolving a point's series is O(1) amortized, so writing the body costs about what
//! writing the same points again costs once every series exists. Measured as the daemon's CPU
//! time (utime + stime from /proc), which other processes on a busy machine barely change;
//! before the fix (a scan of the batch's new series for each new one) creating the series took
//! about 30 times the CPU of rewriting them.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;
use common::*;

use std::time::{Duration, Instant};

const SERIES: usize = 200_000;

/// CPU time the process has used (user + system), from /proc/PID/stat.
fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the parenthesised name (which may hold spaces): utime is the 12th, stime
    // the 13th.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<u64> = rest
        .split(' ')
        .skip(11)
        .take(2)
        .map(|x| x.parse().unwrap())
        .collect();
    // The clock tick (USER_HZ) is 100 Hz on every Linux the tests run on.
    Duration::from_millis((f[0] + f[1]) * 10)
}

/// Post `body` and return (wall time, daemon CPU time).
fn timed_write(d: &Daemon, body: &[u8]) -> (Duration, Duration) {
    let cpu0 = cpu_time(d.child.id());
    let t0 = Instant::now();
    let a = request(&d.socket, "POST", "/write?db=w", body);
    let wall = t0.elapsed();
    assert_eq!(a.status, 204, "{}", a.body);
    (wall, cpu_time(d.child.id()) - cpu0)
}

#[test]
fn a_body_creating_200k_series_is_written_in_linear_time() {
    let dir = tempfile::tempdir().unwrap();
    let sock = dir.path().join("s.sock");
    let d = Daemon::start(&dir.path().join("data"), &sock, &[]);
    assert_eq!(
        request(&sock, "POST", "/query?q=CREATE+DATABASE+w", b"").status,
        200
    );
    let body: String = (0..SERIES)
        // Two tags (200 hosts × 1,000 ids): one tag of 200k values would pass the default
        // max_values_per_tag (100,000).
        .map(|i| format!("m,h=h{:03},i=i{:03} v=1i 1\n", i / 1000, i % 1000))
        .collect();
    assert!(body.len() > 4_000_000);

    let (new_wall, new_cpu) = timed_write(&d, body.as_bytes());
    // The same points again: every series exists, so this is the write path without creation.
    let (again_wall, again_cpu) = timed_write(&d, body.as_bytes());
    eprintln!(
        "{SERIES} new series in one {} byte body: {new_wall:?} wall, {new_cpu:?} daemon CPU; \
         the same body again (series known): {again_wall:?} wall, {again_cpu:?} CPU",
        body.len()
    );
    let v = query_json(&sock, "w", "SELECT count(v) FROM m");
    assert_eq!(v["results"][0]["series"][0]["values"][0][1], SERIES, "{v}");

    // Linear: creating the series costs a small factor of rewriting them (about 1 now; about
    // 30 with the quadratic scan), whatever the machine's speed and load.
    let floor = Duration::from_millis(500); // below this CPU time the clock's ticks are coarse
    assert!(
        new_cpu <= again_cpu.max(floor) * 4,
        "creating {SERIES} series took {new_cpu:?} CPU, rewriting them {again_cpu:?}"
    );
    // And a generous absolute bound (debug build, shared machine; 116 s before the fix).
    assert!(
        new_wall < Duration::from_secs(30),
        "{SERIES} new series took {new_wall:?}"
    );
    assert!(d.stop().success());
}
