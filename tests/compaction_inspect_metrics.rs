//! Scenario: the daemon takes the layer knobs from flags and `STRATA_*` variables, shows per-layer
//! compaction counters on `/metrics`, and `strata inspect` shows the layers, their windows and
//! files, and the debt measured against the given limits.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

mod common;

use std::time::{Duration, Instant};

use common::{inspect, request, write, Daemon};

const SEC: i64 = 1_000_000_000;
/// 2021-01-01T00:00:00Z
const T0: i64 = 1_609_459_200 * SEC;

fn metric(text: &str, name: &str, layer: &str) -> f64 {
    let prefix = format!("{name}{{db=\"i\",layer=\"{layer}\"}} ");
    text.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no {prefix} in\n{text}"))
        .parse()
        .unwrap()
}

#[test]
fn layer_knobs_metrics_and_inspect() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let socket = dir.path().join("s.sock");
    let flags = [
        "--memtable-size-bytes",
        "1024",
        "--layer-max-tables",
        "2,1,100,100,100,100,100,100",
    ];
    let env = [("STRATA_LAYER_WINDOWS", "1h,1d,1w,1mo,3mo,1y,1y")];
    let d = Daemon::start_with_env(&data, &socket, &flags, &env);
    assert_eq!(
        request(&socket, "POST", "/query?q=CREATE+DATABASE+i", b"").status,
        200
    );
    // Points every 10 minutes over 36 hours, in batches big enough to fill a memtable each.
    for b in 0..6 {
        let mut text = String::new();
        for j in 0..36 {
            let ts = T0 + (j * 6 + b) * 600 * SEC;
            text.push_str(&format!("m,host=h v={}i {ts}\n", b * 100 + j));
        }
        assert_eq!(write(&socket, "i", &text).status, 204);
    }
    // Every write is acknowledged, but flushes and compactions go on in the background: wait
    // until C1 has compacted and the ladder has settled within C1's limit (a C0 merge into C1
    // can land just before C1 moves its excess on, so a sample taken in between sees two).
    let deadline = Instant::now() + Duration::from_secs(15);
    let text = loop {
        let a = request(&socket, "GET", "/metrics", b"");
        assert_eq!(a.status, 200);
        if metric(&a.body, "strata_compactions_total", "C1") >= 1.0
            && metric(&a.body, "strata_layer_tables", "C1") <= 1.0
        {
            break a.body;
        }
        assert!(
            Instant::now() < deadline,
            "no C1 compaction, or C1 over its limit of 1 table:\n{}",
            a.body
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(metric(&text, "strata_compactions_total", "C0") >= 1.0);
    assert!(metric(&text, "strata_compaction_bytes_written_total", "C0") > 0.0);
    assert!(metric(&text, "strata_compaction_write_amplification", "C1") > 0.0);
    assert!(metric(&text, "strata_layer_tables", "C1") <= 1.0);
    assert!(text.contains("# TYPE strata_flush_stalls_total counter"));
    assert!(d.stop().success());
    // A shutdown flushes the memtable but stops compaction at a safe point, so that last table
    // can leave C0 over its limit; the next start takes the backlog up again. Let it settle.
    let d = Daemon::start_with_env(&data, &socket, &flags, &env);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let a = request(&socket, "GET", "/metrics", b"");
        if metric(&a.body, "strata_layer_tables", "C0") <= 2.0
            && metric(&a.body, "strata_layer_tables", "C1") <= 1.0
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "compaction did not settle after the restart:\n{}",
            a.body
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(d.stop().success());

    let out = inspect(&data, &["--layer-windows", "1h,1d,1w,1mo,3mo,1y,1y"]);
    assert!(out.contains("database i"), "{out}");
    let c1 = out
        .lines()
        .find(|l| l.trim_start().starts_with("C1 "))
        .unwrap();
    assert!(c1.contains("window 1h"), "{c1}");
    // C1 holds the newest hour; the other hours went to C2, whose window is a day.
    assert!(c1.contains("files 1 "), "{c1}");
    assert!(
        out.contains("window 2021-01-02T11:00:00Z..2021-01-02T12:00:00Z"),
        "{out}"
    );
    assert!(
        out.contains("window 2021-01-01T00:00:00Z..2021-01-02T00:00:00Z"),
        "{out}"
    );
    assert!(out.contains("tombstones:"), "{out}");
    assert!(out.contains("orphaned files 0 "), "{out}");
    // C0 may keep up to its limit of 2 tables (the last flushes stay there when the ladder
    // settled within the limits); everything else is the 1 table of C1 and the 2 of C2.
    let c0 = out
        .lines()
        .find(|l| l.trim_start().starts_with("C0 "))
        .unwrap();
    let c0_files: usize = c0
        .split("files ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no file count in {c0}"));
    assert!(c0_files <= 2, "{c0}");
    assert!(
        out.contains(&format!("total files {}  bytes", 3 + c0_files)),
        "{out}"
    );
    assert!(out.contains("points 216"), "{out}");
    // Debt is measured against the limits given: none with the defaults, one table with C2 = 1.
    let c2 = out
        .lines()
        .find(|l| l.trim_start().starts_with("C2 "))
        .unwrap();
    assert!(
        c2.contains("files 2 ") && c2.contains("debt 0 files"),
        "{c2}"
    );
    let strict = inspect(
        &data,
        &[
            "--layer-max-tables",
            "10,100,1,1,1,1,1,1",
            "--layer-windows",
            "1h,1d,1w,1mo,3mo,1y,1y",
        ],
    );
    assert!(
        strict
            .lines()
            .any(|l| l.trim_start().starts_with("C2 ") && l.contains("debt 1 files")),
        "{strict}"
    );

    // A malformed knob is refused with a message naming it.
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_strata"))
        .args([
            "inspect",
            data.to_str().unwrap(),
            "--layer-windows",
            "1h,1x,1w,1mo,3mo,1y,1y",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("invalid compaction window \"1x\""));
}
