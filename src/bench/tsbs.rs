//! A deterministic generator of TSBS "cpu-only"-shaped data in line protocol (DESIGN §8).
//!
//! The shape is the one `../shared/bench/gen_tsbs.py` writes: `hosts` hosts, one `cpu` line per
//! host every `interval_s` seconds starting at `start_s`, each with the ten TSBS tags
//! (`hostname, region, datacenter, rack, os, arch, team, service, service_version,
//! service_environment`) and ten float fields `usage_user … usage_guest_nice`, each a bounded
//! random walk: every step adds a uniform value in [-1, 1], clamps to [0, 100], and is written
//! with two decimals. Lines are ordered by time, then by host, like the Python generator.
//!
//! The same [`TsbsSpec`] (including the seed) always yields the same bytes. The random source is
//! a SplitMix64 stream, not Python's Mersenne Twister, so the values differ from
//! `gen_tsbs.py`'s for the same seed; the shape, cardinality, value ranges and walk statistics
//! are the same.
//!
//! Generation streams: [`Generator::next_batch`] (or the [`Batches`] iterator) produces at most
//! `lines` lines at a time and keeps only one walk state per host, so any size can be generated
//! in constant memory. [`TsbsSpec::generate_file`] writes the whole data set to a file first, as
//! TSBS's `tsbs_generate_data` does, so that a timed load only reads batches back
//! ([`DataFile::read_batch`]) and sends them, like TSBS's loaders; memory stays one batch per
//! reader whatever the size of the data set (the file lives in the page cache, not in the
//! process).
//!
//! Part of the `strata` command (`src/main.rs`), not of the library; `benches/lineproto.rs`
//! includes this file by path to parse the same body.

use std::fmt::Write as _;
use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

/// The measurement name.
pub const MEASUREMENT: &str = "cpu";

/// The ten fields, in TSBS's order.
pub const FIELDS: [&str; 10] = strata::bench_data::CPU_FIELDS;

/// The ten tag keys, in the order they are written (the generator writes them from `REGIONS`
/// and the host number; the tests check its lines against this).
#[cfg(test)]
const TAG_KEYS: [&str; 10] = [
    "hostname",
    "region",
    "datacenter",
    "rack",
    "os",
    "arch",
    "team",
    "service",
    "service_version",
    "service_environment",
];

const REGIONS: [(&str, &[&str]); 4] = [
    ("us-east-1", &["us-east-1a", "us-east-1b", "us-east-1c"]),
    ("us-west-1", &["us-west-1a", "us-west-1b"]),
    ("eu-central-1", &["eu-central-1a", "eu-central-1b"]),
    ("ap-southeast-2", &["ap-southeast-2a", "ap-southeast-2b"]),
];
const OSES: [&str; 3] = ["Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"];
const ARCHS: [&str; 2] = ["x64", "x86"];
const TEAMS: [&str; 4] = ["SF", "NYC", "LON", "CHI"];
const SERVICES: u64 = 20;
const ENVS: [&str; 3] = ["production", "staging", "test"];

/// What to generate. Defaults: start 1700000000 s, interval 10 s, seed 42 (as `gen_tsbs.py`).
#[derive(Clone, Debug, PartialEq)]
pub struct TsbsSpec {
    /// Number of hosts (series per field).
    pub hosts: usize,
    /// Hours of data; the number of steps is `floor(hours * 3600 / interval_s)`.
    pub hours: f64,
    /// Seed of the random walks and tag choices.
    pub seed: u64,
    /// First timestamp, in seconds since the epoch.
    pub start_s: i64,
    /// Seconds between two lines of one host.
    pub interval_s: i64,
}

impl TsbsSpec {
    /// `hosts` hosts, `hours` hours, seed 42, from 1700000000 s every 10 s.
    pub fn new(hosts: usize, hours: f64) -> TsbsSpec {
        TsbsSpec {
            hosts,
            hours,
            seed: 42,
            start_s: 1_700_000_000,
            interval_s: 10,
        }
    }

    /// The same spec with another seed.
    pub fn with_seed(mut self, seed: u64) -> TsbsSpec {
        self.seed = seed;
        self
    }

    /// Time steps (lines per host).
    pub fn steps(&self) -> u64 {
        if self.interval_s <= 0 || self.hours.is_nan() || self.hours <= 0.0 {
            return 0;
        }
        (self.hours * 3600.0 / self.interval_s as f64).floor() as u64
    }

    /// Lines in the whole data set.
    pub fn lines(&self) -> u64 {
        self.steps() * self.hosts as u64
    }

    /// Points (field values) in the whole data set.
    pub fn points(&self) -> u64 {
        self.lines() * FIELDS.len() as u64
    }

    /// One past the last timestamp, in seconds: the data covers `[start_s, end_s())`.
    pub fn end_s(&self) -> i64 {
        self.start_s + self.steps() as i64 * self.interval_s
    }

    /// The generator for this spec.
    pub fn generator(&self) -> Generator {
        Generator::new(self.clone())
    }

    /// An iterator of batches of at most `lines` lines (at least 1).
    pub fn batches(&self, lines: usize) -> Batches {
        Batches {
            generator: self.generator(),
            lines,
        }
    }

    /// Generate the whole data set into a new file at `path` (an existing file is an error), in
    /// batches of at most `batch_lines` lines whose places are remembered, and fsync it, so its
    /// writeback cannot compete with a later load's fsyncs. `progress` is called with the lines
    /// of each batch written. Memory: one batch at a time.
    pub fn generate_file(
        &self,
        batch_lines: usize,
        path: &Path,
        mut progress: impl FnMut(usize),
    ) -> std::io::Result<DataFile> {
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(path)?;
        let mut spans = Vec::new();
        let mut offset = 0u64;
        let mut lines = 0u64;
        for batch in self.batches(batch_lines) {
            file.write_all(batch.text.as_bytes())?;
            spans.push(Span {
                offset,
                len: batch.text.len(),
                lines: batch.lines,
            });
            offset += batch.text.len() as u64;
            lines += batch.lines as u64;
            progress(batch.lines);
        }
        file.sync_all()?;
        Ok(DataFile {
            path: path.to_path_buf(),
            file,
            spans,
            lines,
            bytes: offset,
        })
    }
}

/// Where one batch lies in a [`DataFile`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// Byte offset of its first line.
    pub offset: u64,
    /// Bytes (whole lines, each newline-terminated).
    pub len: usize,
    /// Lines in it.
    pub lines: usize,
}

/// A data set generated to a file by [`TsbsSpec::generate_file`]: the batches can be read back
/// by any number of threads at once (positioned reads), each into its own buffer. The file is
/// not removed on drop.
#[derive(Debug)]
pub struct DataFile {
    path: PathBuf,
    file: File,
    spans: Vec<Span>,
    lines: u64,
    bytes: u64,
}

impl DataFile {
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Lines in the whole file.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Bytes in the whole file.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Number of batches.
    pub fn batches(&self) -> usize {
        self.spans.len()
    }

    /// Where batch `i` lies, if there is one.
    pub fn span(&self, i: usize) -> Option<Span> {
        self.spans.get(i).copied()
    }

    /// Bytes of the largest batch (a reader's buffer size).
    pub fn max_batch_bytes(&self) -> usize {
        self.spans.iter().map(|s| s.len).max().unwrap_or(0)
    }

    /// Read batch `i` into `buf` (its previous contents are replaced) and return it as text
    /// with its line count, or `None` past the last batch.
    pub fn read_batch<'b>(
        &self,
        i: usize,
        buf: &'b mut Vec<u8>,
    ) -> std::io::Result<Option<(&'b str, usize)>> {
        let Some(span) = self.span(i) else {
            return Ok(None);
        };
        buf.clear();
        buf.resize(span.len, 0);
        self.file.read_exact_at(buf, span.offset)?;
        let text = std::str::from_utf8(buf).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}: batch {i} is not UTF-8: {e}", self.path.display()),
            )
        })?;
        Ok(Some((text, span.lines)))
    }
}

/// The generator's random source: SplitMix64, shared with the criterion benches' data.
pub use strata::bench_data::Rng;

/// One batch of line protocol.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    /// Newline-terminated lines.
    pub text: String,
    /// Lines in `text`.
    pub lines: usize,
    /// Points (field values) in `text`.
    pub points: usize,
}

struct Host {
    /// `cpu,hostname=…,…,service_environment=… ` (measurement, tags and the separating space).
    prefix: String,
    values: [f64; FIELDS.len()],
}

/// Streams the data set of a [`TsbsSpec`], line by line, in batches.
pub struct Generator {
    spec: TsbsSpec,
    hosts: Vec<Host>,
    rng: Rng,
    /// Next line to produce: step `step`, host `host`.
    step: u64,
    host: usize,
}

impl Generator {
    /// Draw the hosts' tags and initial values (in that order, host by host).
    pub fn new(spec: TsbsSpec) -> Generator {
        let mut rng = Rng::new(spec.seed);
        let mut hosts = Vec::with_capacity(spec.hosts);
        for h in 0..spec.hosts {
            let (region, dcs) = REGIONS[rng.below(REGIONS.len() as u64) as usize];
            let dc = rng.pick(dcs);
            let rack = rng.below(100);
            let os = rng.pick(&OSES);
            let arch = rng.pick(&ARCHS);
            let team = rng.pick(&TEAMS);
            let service = rng.below(SERVICES);
            let version = rng.below(2);
            let env = rng.pick(&ENVS);
            let prefix = format!(
                "{MEASUREMENT},hostname=host_{h},region={region},datacenter={dc},rack={rack},os={os},\
                 arch={arch},team={team},service={service},service_version={version},\
                 service_environment={env} "
            );
            let mut values = [0.0; FIELDS.len()];
            for v in &mut values {
                *v = rng.uniform(0.0, 100.0);
            }
            hosts.push(Host { prefix, values });
        }
        Generator {
            spec,
            hosts,
            rng,
            step: 0,
            host: 0,
        }
    }

    /// The next batch of at most `max_lines` lines (at least 1), or `None` at the end.
    pub fn next_batch(&mut self, max_lines: usize) -> Option<Batch> {
        let max_lines = max_lines.max(1);
        let steps = self.spec.steps();
        if self.hosts.is_empty() || self.step >= steps {
            return None;
        }
        let mut text = String::with_capacity(max_lines * 384);
        let mut lines = 0;
        while lines < max_lines && self.step < steps {
            let ts = (self.spec.start_s + self.step as i64 * self.spec.interval_s)
                .saturating_mul(1_000_000_000);
            let host = &mut self.hosts[self.host];
            text.push_str(&host.prefix);
            for (i, (name, v)) in FIELDS.iter().zip(host.values.iter_mut()).enumerate() {
                *v = (*v + self.rng.uniform(-1.0, 1.0)).clamp(0.0, 100.0);
                if i > 0 {
                    text.push(',');
                }
                // Writing to a String cannot fail.
                let _ = write!(text, "{name}={v:.2}");
            }
            let _ = writeln!(text, " {ts}");
            lines += 1;
            self.host += 1;
            if self.host == self.hosts.len() {
                self.host = 0;
                self.step += 1;
            }
        }
        Some(Batch {
            text,
            lines,
            points: lines * FIELDS.len(),
        })
    }
}

/// Iterator over the batches of a spec (see [`TsbsSpec::batches`]).
pub struct Batches {
    generator: Generator,
    lines: usize,
}

impl Iterator for Batches {
    type Item = Batch;

    fn next(&mut self) -> Option<Batch> {
        self.generator.next_batch(self.lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_hosts_for_an_hour_is_720_lines_in_batches_of_at_most_500() {
        let spec = TsbsSpec::new(2, 1.0); // 2 hosts × 1 hour at 10 s
        assert_eq!(spec.lines(), 720);
        assert_eq!(spec.points(), 7_200);
        let mut lines = 0;
        for batch in spec.batches(500) {
            assert!(batch.lines <= 500);
            lines += batch.lines;
        }
        assert_eq!(lines, 720);
    }

    fn all_text(spec: &TsbsSpec, batch: usize) -> String {
        spec.batches(batch).map(|b| b.text).collect()
    }

    #[test]
    fn counts_follow_the_spec() {
        let spec = TsbsSpec::new(3, 0.5);
        assert_eq!(spec.steps(), 180);
        assert_eq!(spec.lines(), 540);
        assert_eq!(spec.points(), 5400);
        assert_eq!(spec.end_s(), 1_700_000_000 + 1800);
        let batches: Vec<Batch> = spec.batches(100).collect();
        assert_eq!(batches.len(), 6);
        assert!(batches[..5].iter().all(|b| b.lines == 100));
        assert_eq!(batches[5].lines, 40);
        let lines: usize = batches.iter().map(|b| b.lines).sum();
        let points: usize = batches.iter().map(|b| b.points).sum();
        assert_eq!(lines as u64, spec.lines());
        assert_eq!(points as u64, spec.points());
        for b in &batches {
            assert_eq!(b.text.lines().count(), b.lines);
        }
        assert_eq!(TsbsSpec::new(0, 1.0).batches(10).count(), 0);
        assert_eq!(TsbsSpec::new(5, 0.0).batches(10).count(), 0);
    }

    #[test]
    fn deterministic_and_independent_of_batch_size() {
        let spec = TsbsSpec::new(4, 0.25);
        let a = all_text(&spec, 7);
        assert_eq!(a, all_text(&spec, 7));
        assert_eq!(a, all_text(&spec, 1000));
        assert_eq!(a, all_text(&spec, 1));
        let other = all_text(&spec.clone().with_seed(43), 7);
        assert_ne!(a, other);
        assert!(!a.is_empty());
        assert_eq!(a.lines().count(), other.lines().count());
    }

    #[test]
    fn shape_matches_tsbs_cpu_only() {
        let spec = TsbsSpec::new(5, 1.0);
        let text = all_text(&spec, 333);
        let mut last_value: std::collections::HashMap<(String, &str), f64> = Default::default();
        for (n, line) in text.lines().enumerate() {
            let parts: Vec<&str> = line.split(' ').collect();
            assert_eq!(parts.len(), 3, "{line}");
            let mut key = parts[0].split(',');
            assert_eq!(key.next(), Some("cpu"));
            let tags: Vec<(&str, &str)> = key.map(|kv| kv.split_once('=').unwrap()).collect();
            let keys: Vec<&str> = tags.iter().map(|(k, _)| *k).collect();
            assert_eq!(keys, TAG_KEYS);
            // Time-major order, hosts in order, 10 s apart.
            let step = (n / 5) as i64;
            assert_eq!(tags[0].1, format!("host_{}", n % 5));
            let region = tags[1].1;
            let (_, dcs) = REGIONS.iter().find(|(r, _)| *r == region).unwrap();
            assert!(dcs.contains(&tags[2].1), "{line}");
            assert!(tags[3].1.parse::<u32>().unwrap() < 100);
            assert!(OSES.contains(&tags[4].1));
            assert!(ARCHS.contains(&tags[5].1));
            assert!(TEAMS.contains(&tags[6].1));
            assert!(tags[7].1.parse::<u64>().unwrap() < SERVICES);
            assert!(["0", "1"].contains(&tags[8].1));
            assert!(ENVS.contains(&tags[9].1));
            assert_eq!(
                parts[2].parse::<i64>().unwrap(),
                (1_700_000_000 + step * 10) * 1_000_000_000
            );
            let fields: Vec<(&str, &str)> = parts[1]
                .split(',')
                .map(|kv| kv.split_once('=').unwrap())
                .collect();
            let names: Vec<&str> = fields.iter().map(|(k, _)| *k).collect();
            assert_eq!(names, FIELDS);
            for (name, v) in fields {
                let (_, decimals) = v.split_once('.').expect("two decimals");
                assert_eq!(decimals.len(), 2, "{v}");
                let x: f64 = v.parse().unwrap();
                assert!((0.0..=100.0).contains(&x), "{v}");
                // A step moves at most 1 (plus the rounding of both printed values).
                if let Some(prev) = last_value.insert((tags[0].1.to_string(), name), x) {
                    assert!((x - prev).abs() <= 1.0 + 0.011, "{prev} -> {x}");
                }
            }
        }
        assert_eq!(text.lines().count(), 5 * 360);
    }

    #[test]
    fn tags_are_fixed_per_host() {
        let spec = TsbsSpec::new(3, 0.1);
        let text = all_text(&spec, 50);
        let keys: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
        for (i, k) in keys.iter().enumerate().skip(3) {
            assert_eq!(*k, keys[i % 3]);
        }
        assert_ne!(keys[0], keys[1]);
    }

    #[test]
    fn a_generated_file_reads_back_batch_by_batch() {
        let dir = tempfile::tempdir().unwrap();
        let spec = TsbsSpec::new(3, 0.5);
        let path = dir.path().join("data.lp");
        let mut reported = 0;
        let file = spec.generate_file(100, &path, |n| reported += n).unwrap();
        assert_eq!(reported as u64, spec.lines());
        assert_eq!(file.lines(), spec.lines());
        assert_eq!(file.batches(), 6);
        assert_eq!(
            file.bytes(),
            std::fs::metadata(&path).unwrap().len(),
            "sizes agree"
        );
        // The same batches, byte for byte, as the streaming generator's.
        let mut buf = Vec::new();
        for (i, want) in spec.batches(100).enumerate() {
            let (text, lines) = file.read_batch(i, &mut buf).unwrap().unwrap();
            assert_eq!(text, want.text);
            assert_eq!(lines, want.lines);
            assert!(file.max_batch_bytes() >= text.len());
        }
        assert!(file.read_batch(6, &mut buf).unwrap().is_none());
        // A second file at the same place is refused rather than overwritten.
        assert!(spec.generate_file(100, &path, |_| {}).is_err());
        let empty = TsbsSpec::new(0, 1.0)
            .generate_file(10, &dir.path().join("empty.lp"), |_| {})
            .unwrap();
        assert_eq!((empty.batches(), empty.lines(), empty.bytes()), (0, 0, 0));
    }

    #[test]
    fn rng_ranges() {
        let mut r = Rng::new(7);
        for _ in 0..10_000 {
            let u = r.uniform(-1.0, 1.0);
            assert!((-1.0..1.0).contains(&u));
            assert!(r.below(3) < 3);
        }
        assert_eq!(r.below(0), 0);
        let mut a = Rng::new(1);
        let mut b = Rng::new(1);
        assert_eq!(a.next_u64(), b.next_u64());
    }
}
