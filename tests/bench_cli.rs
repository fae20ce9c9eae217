//! Scenario: `strata bench` on a tiny data set runs the embedded and the daemon phases end to end
//! and prints every figure, machine-readably.

#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a failed unwrap is a failed test

use std::process::Command;

/// The queries of the workload (`src/bench/queries.rs`): each has one figure line per system.
const QUERIES: usize = 9;

/// A machine-readable `key=value` figure of an output line: `field(line, "p50_ms")`.
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

#[test]
fn tiny_bench_prints_every_figure_for_embedded_and_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("run");
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["bench", "--hosts", "2", "--hours", "1", "--query-runs", "1"])
        .arg("--data-dir")
        .arg(&data)
        .env("STRATA_LOG", "warn")
        .output()
        .expect("run strata bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "strata bench failed: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    // Without --keep the data directory is removed.
    assert!(!data.exists(), "{} left behind", data.display());

    assert!(stdout.contains("bench: hosts=2 hours=1 seed=42 lines=720 points=7200"));
    assert!(stdout.contains("WAL record is fsynced"), "{stdout}");
    // The data set is generated once, before any load, into the run directory.
    let data_line = stdout
        .lines()
        .find(|l| l.starts_with("data: file="))
        .unwrap_or_else(|| panic!("no data line in:\n{stdout}"));
    assert_eq!(field(data_line, "lines"), Some("720"), "{data_line}");
    assert!(
        field(data_line, "file").is_some_and(|f| f.starts_with(&*data.to_string_lossy())),
        "{data_line}"
    );
    let generator_seconds = field(data_line, "generator_seconds").unwrap();
    for system in ["strata-embedded", "strata-daemon"] {
        let line = |prefix: &str| -> &str {
            let p = format!("{system}: {prefix}");
            stdout
                .lines()
                .find(|l| l.starts_with(&p))
                .unwrap_or_else(|| panic!("no line starting {p:?} in:\n{stdout}"))
        };
        let ingest = line("ingest lines=");
        assert_eq!(field(ingest, "lines"), Some("720"), "{ingest}");
        assert_eq!(field(ingest, "points"), Some("7200"), "{ingest}");
        let pps: f64 = field(ingest, "points_per_s").unwrap().parse().unwrap();
        assert!(pps > 0.0, "{ingest}");
        // Generation happened before the load; the load only read the file back.
        assert_eq!(field(ingest, "generator_seconds"), Some(generator_seconds));
        let read: f64 = field(ingest, "read_seconds").unwrap().parse().unwrap();
        assert!(read >= 0.0, "{ingest}");
        assert!(line("verify ").ends_with("count_usage_user=720 expected=720 ok"));

        let disk = line("bytes_on_disk=");
        let bytes: u64 = field(disk, "bytes_on_disk").unwrap().parse().unwrap();
        let bpp: f64 = field(disk, "bytes_per_point").unwrap().parse().unwrap();
        // The data's values cannot be stored in under 0.95 bytes a point (their entropy); on a
        // data set this small the per-series costs keep it well above 1.
        assert!(bytes > 7200 && (1.0..1000.0).contains(&bpp), "{disk}");
        // The major compaction that follows leaves all of it (plus, on data this small, the
        // manifest's edits of the seven moves down the ladder).
        let compacted = line("compacted_bytes_on_disk=");
        let c_bytes: u64 = field(compacted, "compacted_bytes_on_disk")
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (7200..=bytes + 1024).contains(&c_bytes),
            "{compacted} after {disk}"
        );

        let rss: u64 = field(line("peak_rss_kb="), "peak_rss_kb")
            .unwrap()
            .parse()
            .unwrap();
        assert!(rss > 1000, "peak RSS {rss} kB");

        let query_lines: Vec<&str> = stdout
            .lines()
            .filter(|l| l.starts_with(&format!("{system}: query=")))
            .collect();
        assert_eq!(query_lines.len(), QUERIES, "{stdout}");
        for l in query_lines {
            if !l.contains(" not supported: ") {
                let p50: f64 = field(l, "p50_ms").unwrap().parse().unwrap();
                let p99: f64 = field(l, "p99_ms").unwrap().parse().unwrap();
                assert!(p50 > 0.0 && p99 >= p50, "{l}");
                assert_eq!(field(l, "runs"), Some("1"), "{l}");
                let bytes: usize = field(l, "bytes").unwrap().parse().unwrap();
                assert!(bytes > 20, "{l}");
            }
        }
    }
    let ingest_rss = stdout
        .lines()
        .find(|l| l.starts_with("strata-daemon: ingest_peak_rss_kb="))
        .unwrap_or_else(|| panic!("no ingest RSS line in:\n{stdout}"));
    let kb: u64 = field(ingest_rss, "ingest_peak_rss_kb")
        .unwrap()
        .parse()
        .unwrap();
    assert!(kb > 1000, "{ingest_rss}");
    assert!(stdout.contains("strata-daemon: sigterm exit=0"), "{stdout}");
    let summary = stdout.split("=== summary ===").nth(1).expect("a summary");
    assert!(summary.contains("strata-embedded") && summary.contains("strata-daemon"));
    assert!(summary.contains("ingest points/s (acked)"));
    assert!(summary.contains("lastpoint p99 ms"));
}

#[test]
fn bench_refuses_a_non_empty_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("precious"), b"x").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(["bench", "--hosts", "1", "--hours", "0.01"])
        .arg("--data-dir")
        .arg(dir.path())
        .output()
        .expect("run strata bench");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("is not empty"), "{stderr}");
    assert!(dir.path().join("precious").exists());
}
