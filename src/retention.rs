//! Retention: each database has one retention policy (InfluxDB 1.x's default RP, `autogen`
//! unless `CREATE DATABASE ... NAME` says otherwise) whose duration bounds how old the data it
//! keeps may be.
//!
//! * **Stored** in `DB/RETENTION`, a small crc'd file replaced atomically (write `RETENTION.tmp`,
//!   fsync it, rename over, fsync the directory). No file means the default: keep forever.
//! * **Queries** never see points older than `now - duration`: the cutoff is applied to every
//!   source of the query snapshot (memtables and tables alike), so expiry is immediate.
//! * **Enforcement** ([`Enforcer`], every `retention_check_interval`, default 30 min as
//!   InfluxDB's `[retention] check-interval`) drops whole tables whose newest point is past the
//!   cutoff with one catalog edit, without rewriting anything (`delete::expire`).

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::{Error, IoContext, Result};
use crate::file_io::{FileIo, IoFile};
use crate::manifest::sync_dir_with;

const HOUR: i64 = 3_600_000_000_000;
const DAY: i64 = 24 * HOUR;

/// Shortest retention duration InfluxDB 1.x accepts (its `MinRetentionPolicyDuration`).
pub const MIN_DURATION: i64 = HOUR;

const FILE: &str = "RETENTION";
const TMP: &str = "RETENTION.tmp";
const MAGIC: &[u8; 8] = b"STRATRP1";

/// The retention policy of one database, as `SHOW RETENTION POLICIES` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RetentionPolicy {
    pub name: String,
    /// Nanoseconds; 0 keeps data forever (`INF`).
    pub duration: i64,
    /// Nanoseconds (shown as `shardGroupDuration`; strata's time windows are per layer).
    pub shard_group_duration: i64,
    pub replica_n: u32,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy {
            name: "autogen".into(),
            duration: 0,
            shard_group_duration: shard_group_duration(0),
            replica_n: 1,
        }
    }
}

/// The shard group duration InfluxDB 1.x derives from a retention duration.
pub fn shard_group_duration(duration: i64) -> i64 {
    if duration == 0 || duration >= 180 * DAY {
        7 * DAY
    } else if duration >= 2 * DAY {
        DAY
    } else {
        HOUR
    }
}

/// A requested shard duration normalised as InfluxDB 1.x does (0: derived from `duration`).
fn normalised_shard_duration(sgd: i64, duration: i64) -> i64 {
    if sgd == 0 {
        shard_group_duration(duration)
    } else if sgd < MIN_DURATION {
        shard_group_duration(MIN_DURATION)
    } else {
        sgd
    }
}

/// The options of `CREATE DATABASE ... WITH` or `ALTER RETENTION POLICY` (`None`: unchanged).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RetentionChange {
    pub duration: Option<i64>,
    pub shard_group_duration: Option<i64>,
    pub replica_n: Option<u32>,
    pub name: Option<String>,
}

impl RetentionPolicy {
    /// This policy with `change` applied, checked as InfluxDB 1.x checks it.
    pub fn with(&self, change: &RetentionChange) -> Result<RetentionPolicy> {
        let mut rp = self.clone();
        if let Some(d) = change.duration {
            if d < 0 || (d != 0 && d < MIN_DURATION) {
                return Err(Error::RetentionPolicy(format!(
                    "retention policy duration must be at least {}",
                    go_duration(MIN_DURATION)
                )));
            }
            rp.duration = d;
        }
        match change.shard_group_duration {
            Some(sgd) => rp.shard_group_duration = normalised_shard_duration(sgd, rp.duration),
            // A new policy derives its shard duration from its duration.
            None if change.duration.is_some() && self == &RetentionPolicy::default() => {
                rp.shard_group_duration = shard_group_duration(rp.duration)
            }
            None => {}
        }
        if let Some(n) = change.replica_n {
            if n < 1 {
                return Err(Error::RetentionPolicy(
                    "retention policy replication factor must be at least 1".into(),
                ));
            }
            rp.replica_n = n;
        }
        if let Some(n) = &change.name {
            if n.is_empty() {
                return Err(Error::RetentionPolicy(
                    "retention policy name required".into(),
                ));
            }
            rp.name = n.clone();
        }
        if rp.duration != 0 && rp.duration < rp.shard_group_duration {
            return Err(Error::RetentionPolicy(
                "retention policy duration must be greater than the shard duration".into(),
            ));
        }
        Ok(rp)
    }

    /// Oldest timestamp a query at `now` may see, if the policy limits it.
    pub fn cutoff(&self, now: i64) -> Option<i64> {
        (self.duration > 0).then(|| now.saturating_sub(self.duration))
    }

    fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(MAGIC);
        b.extend_from_slice(&self.duration.to_le_bytes());
        b.extend_from_slice(&self.shard_group_duration.to_le_bytes());
        b.extend_from_slice(&self.replica_n.to_le_bytes());
        b.extend_from_slice(&(self.name.len() as u32).to_le_bytes());
        b.extend_from_slice(self.name.as_bytes());
        let crc = crc32fast::hash(&b);
        b.extend_from_slice(&crc.to_le_bytes());
        b
    }

    fn decode(b: &[u8]) -> Option<RetentionPolicy> {
        let (body, crc) = b.split_last_chunk::<4>()?;
        if crc32fast::hash(body) != u32::from_le_bytes(*crc) {
            return None;
        }
        let rest = body.strip_prefix(MAGIC)?;
        let (d, rest) = rest.split_first_chunk::<8>()?;
        let (sgd, rest) = rest.split_first_chunk::<8>()?;
        let (n, rest) = rest.split_first_chunk::<4>()?;
        let (len, rest) = rest.split_first_chunk::<4>()?;
        if rest.len() != u32::from_le_bytes(*len) as usize {
            return None;
        }
        Some(RetentionPolicy {
            name: String::from_utf8(rest.to_vec()).ok()?,
            duration: i64::from_le_bytes(*d),
            shard_group_duration: i64::from_le_bytes(*sgd),
            replica_n: u32::from_le_bytes(*n),
        })
    }

    /// Read the policy of the database in `dir` (the default if it has none).
    pub fn load(dir: &Path) -> Result<RetentionPolicy> {
        let path = dir.join(FILE);
        let mut buf = Vec::new();
        match File::open(&path) {
            Ok(mut f) => f
                .read_to_end(&mut buf)
                .ctx(|| format!("read {}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(RetentionPolicy::default())
            }
            Err(e) => return Err(Error::io(format!("open {}", path.display()), e)),
        };
        RetentionPolicy::decode(&buf).ok_or_else(|| Error::Corrupt {
            path,
            reason: "bad retention policy record (checksum or layout); restore it or delete the \
                     file to keep data forever"
                .into(),
        })
    }

    /// Store the policy of the database in `dir` durably and atomically, through `io`.
    pub fn store(&self, dir: &Path, io: &Arc<dyn FileIo>) -> Result<()> {
        let tmp = dir.join(TMP);
        let path = dir.join(FILE);
        let mut f =
            IoFile::create(io.clone(), &tmp, false).ctx(|| format!("create {}", tmp.display()))?;
        f.write_all(&self.encode())
            .and_then(|()| f.sync_all())
            .ctx(|| format!("write {}", tmp.display()))?;
        drop(f);
        io.rename(&tmp, &path)
            .ctx(|| format!("rename {} to {}", tmp.display(), path.display()))?;
        sync_dir_with(io.as_ref(), dir)
    }
}

/// A duration as Go's `time.Duration.String` prints it (`720h0m0s`, `1h30m0s`, `0s`), the form
/// InfluxDB 1.x answers with.
pub fn go_duration(ns: i64) -> String {
    if ns == 0 {
        return "0s".into();
    }
    let sign = if ns < 0 { "-" } else { "" };
    let u = ns.unsigned_abs();
    if u < 1_000_000_000 {
        let (unit, div) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", frac(u, div));
    }
    let h = u / 3_600_000_000_000;
    let m = (u / 60_000_000_000) % 60;
    let s = frac(u % 60_000_000_000, 1_000_000_000);
    if h > 0 {
        format!("{sign}{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{sign}{m}m{s}s")
    } else {
        format!("{sign}{s}s")
    }
}

/// `n / div` with the fraction's trailing zeros trimmed (`1.5`, `2`).
fn frac(n: u64, div: u64) -> String {
    let (whole, rest) = (n / div, n % div);
    if rest == 0 {
        return whole.to_string();
    }
    let digits = div.ilog10() as usize;
    let f = format!("{rest:0digits$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// The periodic retention check: a thread that runs `check` every `interval` until stopped.
pub struct Enforcer {
    stop: Mutex<Option<crossbeam_channel::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Enforcer {
    pub fn start(interval: Duration, check: impl Fn() + Send + 'static) -> Result<Arc<Enforcer>> {
        let (tx, rx) = crossbeam_channel::bounded::<()>(0);
        let thread = std::thread::Builder::new()
            .name("retention".into())
            .spawn(move || loop {
                match rx.recv_timeout(interval) {
                    Err(crossbeam_channel::RecvTimeoutError::Timeout) => check(),
                    _ => return,
                }
            })
            .ctx(|| "spawn the retention thread".to_string())?;
        Ok(Arc::new(Enforcer {
            stop: Mutex::new(Some(tx)),
            thread: Mutex::new(Some(thread)),
        }))
    }

    /// Stop the thread (idempotent); a check in progress finishes first.
    pub fn stop(&self) {
        drop(self.stop.lock().unwrap_or_else(|p| p.into_inner()).take());
        let t = self.thread.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(t) = t {
            let _ = t.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations_as_influxdb_prints_them() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(30 * DAY), "720h0m0s");
        assert_eq!(go_duration(7 * DAY), "168h0m0s");
        assert_eq!(go_duration(HOUR + 90_000_000_000), "1h1m30s");
        assert_eq!(go_duration(90_000_000_000), "1m30s");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(2_500_000), "2.5ms");
    }

    #[test]
    fn policy_changes_are_checked_like_influxdb() {
        let rp = RetentionPolicy::default();
        let d30 = rp
            .with(&RetentionChange {
                duration: Some(30 * DAY),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(d30.shard_group_duration, DAY);
        assert_eq!(
            rp.with(&RetentionChange {
                duration: Some(HOUR),
                ..Default::default()
            })
            .unwrap()
            .shard_group_duration,
            HOUR
        );
        // ALTER keeps the shard duration: shorter than it is refused.
        let e = d30
            .with(&RetentionChange {
                duration: Some(HOUR),
                ..Default::default()
            })
            .unwrap_err();
        assert!(
            e.to_string().contains("greater than the shard duration"),
            "{e}"
        );
        let e = rp
            .with(&RetentionChange {
                duration: Some(60_000_000_000),
                ..Default::default()
            })
            .unwrap_err();
        assert!(e.to_string().contains("at least 1h0m0s"), "{e}");
        assert_eq!(d30.cutoff(100 * DAY), Some(70 * DAY));
        assert_eq!(rp.cutoff(100 * DAY), None);
    }

    #[test]
    fn stored_policy_round_trips_and_corruption_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            RetentionPolicy::load(dir.path()).unwrap(),
            RetentionPolicy::default()
        );
        let rp = RetentionPolicy {
            name: "one_month".into(),
            duration: 30 * DAY,
            shard_group_duration: DAY,
            replica_n: 1,
        };
        rp.store(dir.path(), &crate::file_io::real()).unwrap();
        assert_eq!(RetentionPolicy::load(dir.path()).unwrap(), rp);
        let path = dir.path().join(FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[10] ^= 1;
        std::fs::write(&path, bytes).unwrap();
        let e = RetentionPolicy::load(dir.path()).unwrap_err();
        assert!(matches!(e, Error::Corrupt { .. }), "{e}");
    }
}
