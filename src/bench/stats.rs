//! Small measurement helpers: percentiles, peak RSS from `/proc`, bytes on disk, ratios.

use std::path::Path;
use std::time::Duration;

/// The `p`-th percentile (0 < p ≤ 100) of `samples` by the nearest-rank method: the smallest
/// sample with at least p % of the samples at or below it. With 5 samples p50 is the median and
/// p99 the maximum. `None` for no samples.
pub fn percentile(samples: &[Duration], p: f64) -> Option<Duration> {
    if samples.is_empty() {
        return None;
    }
    let mut s = samples.to_vec();
    s.sort();
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    Some(s[rank.clamp(1, s.len()) - 1])
}

/// `VmHWM` (peak resident set size) in kB from the text of `/proc/PID/status`.
pub fn parse_vm_hwm_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Peak RSS in kB of process `pid` (`None` if it cannot be read, e.g. it has exited).
pub fn peak_rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    parse_vm_hwm_kb(&status)
}

/// Peak RSS in kB of this process.
pub fn own_peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_vm_hwm_kb(&status)
}

/// Apparent size in bytes of every regular file under `path` (what `du -sb` counts for files;
/// directories themselves are not counted).
pub fn dir_bytes(path: &Path) -> std::io::Result<u64> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.is_file() {
        return Ok(meta.len());
    }
    if !meta.is_dir() {
        return Ok(0);
    }
    let mut total = 0;
    for e in std::fs::read_dir(path)? {
        total += dir_bytes(&e?.path())?;
    }
    Ok(total)
}

/// The summed [`dir_bytes`] of `paths`, with the path that failed named in the error.
pub fn size<P: AsRef<Path>>(paths: &[P]) -> Result<u64, super::BenchError> {
    let mut total = 0;
    for p in paths {
        let p = p.as_ref();
        total += dir_bytes(p)
            .map_err(|e| super::BenchError::io(format!("size of {}", p.display()), e))?;
    }
    Ok(total)
}

/// Which direction of a figure is better.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Better {
    Higher,
    Lower,
}

/// `strata / peer`, with a word on which side it favours: `"1.86x (strata better)"`; `"-"` when
/// either side is missing or the peer's figure is 0.
pub fn ratio(strata: Option<f64>, peer: Option<f64>, better: Better) -> String {
    match (strata, peer) {
        (Some(s), Some(p)) if p != 0.0 && s.is_finite() && p.is_finite() => {
            let r = s / p;
            if (r - 1.0).abs() < 0.005 {
                return "1.00x (same)".to_string();
            }
            let strata_better = (r > 1.0) == (better == Better::Higher);
            format!(
                "{r:.2}x ({})",
                if strata_better {
                    "strata better"
                } else {
                    "strata worse"
                }
            )
        }
        _ => "-".to_string(),
    }
}

/// A figure for a table: thousands separators from 1000 up, two decimals below.
pub fn human(v: Option<f64>) -> String {
    match v {
        None => "-".to_string(),
        Some(v) if v.abs() >= 1000.0 => {
            let s = format!("{:.0}", v.abs());
            let mut out = String::new();
            for (i, c) in s.chars().enumerate() {
                if i > 0 && (s.len() - i) % 3 == 0 {
                    out.push(',');
                }
                out.push(c);
            }
            if v < 0.0 {
                out.insert(0, '-');
            }
            out
        }
        Some(v) => format!("{v:.2}"),
    }
}

/// Milliseconds of a duration as f64.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn percentiles_nearest_rank() {
        let s = [d(5), d(1), d(4), d(2), d(3)];
        assert_eq!(percentile(&s, 50.0), Some(d(3)));
        assert_eq!(percentile(&s, 99.0), Some(d(5)));
        assert_eq!(percentile(&s, 20.0), Some(d(1)));
        assert_eq!(percentile(&[d(7)], 50.0), Some(d(7)));
        assert_eq!(percentile(&[d(7)], 99.0), Some(d(7)));
        assert_eq!(percentile(&[], 50.0), None);
        let hundred: Vec<Duration> = (1..=100).map(d).collect();
        assert_eq!(percentile(&hundred, 99.0), Some(d(99)));
        assert_eq!(percentile(&hundred, 50.0), Some(d(50)));
    }

    #[test]
    fn vm_hwm() {
        let text = "Name:\tstrata\nVmPeak:\t  999 kB\nVmHWM:\t   361772 kB\nVmRSS:\t 1000 kB\n";
        assert_eq!(parse_vm_hwm_kb(text), Some(361_772));
        assert_eq!(parse_vm_hwm_kb("Name: x\n"), None);
        assert!(own_peak_rss_kb().unwrap_or(0) > 0);
    }

    #[test]
    fn ratios() {
        assert_eq!(
            ratio(Some(200.0), Some(100.0), Better::Higher),
            "2.00x (strata better)"
        );
        assert_eq!(
            ratio(Some(200.0), Some(100.0), Better::Lower),
            "2.00x (strata worse)"
        );
        assert_eq!(
            ratio(Some(50.0), Some(100.0), Better::Lower),
            "0.50x (strata better)"
        );
        assert_eq!(ratio(Some(1.0), Some(1.001), Better::Lower), "1.00x (same)");
        assert_eq!(ratio(None, Some(1.0), Better::Lower), "-");
        assert_eq!(ratio(Some(1.0), Some(0.0), Better::Lower), "-");
    }

    #[test]
    fn human_numbers() {
        assert_eq!(human(Some(1_225_263.4)), "1,225,263");
        assert_eq!(human(Some(1000.0)), "1,000");
        assert_eq!(human(Some(999.0)), "999.00");
        assert_eq!(human(Some(14.8)), "14.80");
        assert_eq!(human(Some(-12_345.0)), "-12,345");
        assert_eq!(human(None), "-");
    }

    #[test]
    fn dir_sizes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a"), [0u8; 10]).unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/b"), [0u8; 32]).unwrap();
        assert_eq!(dir_bytes(dir.path()).unwrap(), 42);
        assert!(dir_bytes(&dir.path().join("missing")).is_err());
    }
}
