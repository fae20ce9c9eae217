//! The bench's output: one machine-readable line per figure as it is measured
//! (`strata-daemon: ingest lines=… points=… seconds=… points_per_s=…`), then readable summary
//! tables with the ratios strata / peer.

use std::io::Write;

use super::queries::{BenchQuery, QUERY_NAMES};
use super::stats::{human, ratio, Better};
use super::tsbs::DataFile;
use super::{BenchError, BenchOptions};

/// The strata systems and the peers, as they are labelled in the output.
pub const EMBEDDED: &str = "strata-embedded";
pub const DAEMON: &str = "strata-daemon";
pub const INFLUXDB: &str = "influxdb";
pub const VICTORIAMETRICS: &str = "victoriametrics";

/// The outcome of one query on one system.
#[derive(Clone, Debug, PartialEq)]
pub enum QueryFigure {
    /// Timed: percentiles in ms over `runs` runs; `bytes` is the size of the answer.
    Timed {
        p50_ms: f64,
        p99_ms: f64,
        runs: usize,
        bytes: usize,
    },
    /// The system answered with an error.
    NotSupported(String),
    /// No equivalent query for this system.
    NotApplicable(String),
}

/// What an ingest phase measured.
#[derive(Clone, Debug, PartialEq)]
pub struct IngestFigures {
    pub lines: u64,
    pub points: u64,
    /// From the first batch read to the last write acknowledged.
    pub seconds: f64,
    /// The writers' time reading batches from the data file, summed over writers (inside
    /// `seconds`).
    pub read_seconds: f64,
    /// Seconds it took to generate the data set, once per run before any load (outside
    /// `seconds`; the same for every system).
    pub generator_seconds: f64,
}

impl IngestFigures {
    pub fn points_per_s(&self) -> f64 {
        if self.seconds > 0.0 {
            self.points as f64 / self.seconds
        } else {
            0.0
        }
    }
}

/// The figures of one system.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemFigures {
    pub points_per_s: Option<f64>,
    /// Points/s until the data is queryable (VictoriaMetrics: until `force_flush` returned).
    pub until_queryable: Option<f64>,
    pub bytes_per_point: Option<f64>,
    /// Bytes/point after a major compaction (strata: `major_compact`, VictoriaMetrics:
    /// `/internal/force_merge`); `None` where the system has none (InfluxDB 1.x).
    pub bytes_per_point_compacted: Option<f64>,
    pub peak_rss_kb: Option<u64>,
    pub queries: Vec<(String, QueryFigure)>,
}

impl SystemFigures {
    fn query(&self, name: &str) -> Option<&QueryFigure> {
        self.queries.iter().find(|(n, _)| n == name).map(|(_, f)| f)
    }
}

/// Parse a machine-readable `key=value` figure out of an output line: `field(line, "p50_ms")`
/// (what a reader of the output does; the tests read it with this).
#[cfg(test)]
fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    line.split_whitespace()
        .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// Collects and prints the figures.
pub struct Report<'a> {
    out: &'a mut dyn Write,
    systems: Vec<(&'static str, SystemFigures)>,
    problems: Vec<String>,
}

impl<'a> Report<'a> {
    pub fn new(out: &'a mut dyn Write) -> Report<'a> {
        Report {
            out,
            systems: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// Print one line.
    pub fn line(&mut self, text: &str) -> Result<(), BenchError> {
        writeln!(self.out, "{text}")
            .and_then(|()| self.out.flush())
            .map_err(|e| BenchError::io("write the bench output", e))
    }

    /// The figures of `system` (created empty on first use, in order of appearance).
    pub fn system(&mut self, system: &'static str) -> &mut SystemFigures {
        if let Some(i) = self.systems.iter().position(|(s, _)| *s == system) {
            return &mut self.systems[i].1;
        }
        self.systems.push((system, SystemFigures::default()));
        let last = self.systems.len() - 1;
        &mut self.systems[last].1
    }

    /// The run's parameters, the durability statement and the queries.
    pub fn header(&mut self, o: &BenchOptions, queries: &[BenchQuery]) -> Result<(), BenchError> {
        let s = &o.spec;
        self.line(&format!(
            "strata bench: TSBS cpu-only data, {} hosts x {} h at {} s from {} s, seed {}: {} lines, {} points; {} workers, batches of {} lines; {} timed runs per query after 1 warm-up",
            s.hosts, s.hours, s.interval_s, s.start_s, s.seed, s.lines(), s.points(), o.workers, o.batch_lines, o.query_runs
        ))?;
        self.line(&format!(
            "bench: hosts={} hours={} seed={} lines={} points={} workers={} batch_lines={} query_runs={}",
            s.hosts,
            s.hours,
            s.seed,
            s.lines(),
            s.points(),
            o.workers,
            o.batch_lines,
            o.query_runs
        ))?;
        self.line("durability: strata acknowledges a write only after its WAL record is fsynced (group commit) and applied to the memtable; that is its only WAL mode, so every acked write is durable and queryable (points/s below are fsynced points/s)")?;
        if o.peers {
            self.line("durability: influxdb as configured here (wal-fsync-delay 0) acks after fsync; victoriametrics acks before its data is durable or queryable, so its points_per_s_until_flushed (load + /internal/force_flush) is the comparable figure")?;
        }
        self.line("data: generated once, before any load, into a file in the run directory (as TSBS's tsbs_generate_data; fsynced, so its writeback does not compete with the loads); each load's writers only read batches back from it (page cache, one batch buffer per writer) and send them, and seconds runs from the first read to the last acknowledgement; generator_seconds is the time to generate the file, outside seconds; read_seconds is the writers' summed time reading batches, inside it")?;
        for q in queries {
            self.line(&format!("query: name={} influxql: {}", q.name, q.influxql))?;
            if o.peers {
                match &q.promql {
                    Some(p) => {
                        self.line(&format!("query: name={} promql: {}", q.name, p.describe()))?
                    }
                    None => self.line(&format!("query: name={} promql: n/a", q.name))?,
                }
            }
        }
        Ok(())
    }

    /// The generated data set: where, how large, how long it took.
    pub fn data(&mut self, file: &DataFile, generator_seconds: f64) -> Result<(), BenchError> {
        self.line(&format!(
            "data: file={} lines={} bytes={} batches={} generator_seconds={generator_seconds:.3}",
            file.path().display(),
            file.lines(),
            file.bytes(),
            file.batches(),
        ))
    }

    pub fn ingest(&mut self, system: &'static str, f: &IngestFigures) -> Result<(), BenchError> {
        let pps = f.points_per_s();
        let sys = self.system(system);
        sys.points_per_s = Some(pps);
        sys.until_queryable.get_or_insert(pps);
        self.line(&format!(
            "{system}: ingest lines={} points={} seconds={:.3} points_per_s={:.0} read_seconds={:.3} generator_seconds={:.3}",
            f.lines, f.points, f.seconds, pps, f.read_seconds, f.generator_seconds
        ))
    }

    /// VictoriaMetrics: points/s counting until `force_flush` returned.
    pub fn until_flushed(
        &mut self,
        system: &'static str,
        points: u64,
        seconds: f64,
    ) -> Result<(), BenchError> {
        let pps = if seconds > 0.0 {
            points as f64 / seconds
        } else {
            0.0
        };
        self.system(system).until_queryable = Some(pps);
        self.line(&format!(
            "{system}: ingest points_per_s_until_flushed={pps:.0} seconds_until_flushed={seconds:.3}"
        ))
    }

    /// A loaded-count check: `count(usage_user)` must equal the lines written.
    pub fn verify(
        &mut self,
        system: &'static str,
        got: Result<u64, String>,
        expected: u64,
    ) -> Result<(), BenchError> {
        match got {
            Ok(n) if n == expected => self.line(&format!(
                "{system}: verify count_usage_user={n} expected={expected} ok"
            )),
            Ok(n) => {
                self.problems.push(format!(
                    "{system}: SELECT count(usage_user) answered {n}, expected {expected}"
                ));
                self.line(&format!(
                    "{system}: verify count_usage_user={n} expected={expected} MISMATCH"
                ))
            }
            Err(e) => {
                self.problems
                    .push(format!("{system}: could not count the loaded data: {e}"));
                self.line(&format!("{system}: verify failed: {e}"))
            }
        }
    }

    pub fn query(
        &mut self,
        system: &'static str,
        name: &str,
        f: QueryFigure,
    ) -> Result<(), BenchError> {
        let text = match &f {
            QueryFigure::Timed {
                p50_ms,
                p99_ms,
                runs,
                bytes,
            } => format!(
                "{system}: query={name} p50_ms={p50_ms:.3} p99_ms={p99_ms:.3} runs={runs} bytes={bytes}"
            ),
            QueryFigure::NotSupported(e) => {
                format!("{system}: query={name} not supported: {}", one_line(e))
            }
            QueryFigure::NotApplicable(why) => format!("{system}: query={name} n/a: {why}"),
        };
        self.system(system).queries.push((name.to_string(), f));
        self.line(&text)
    }

    pub fn peak_rss(
        &mut self,
        system: &'static str,
        kb: Option<u64>,
        note: &str,
    ) -> Result<(), BenchError> {
        self.system(system).peak_rss_kb = kb;
        match kb {
            Some(kb) => self.line(&format!("{system}: peak_rss_kb={kb} ({note})")),
            None => self.line(&format!("{system}: peak_rss_kb=unknown ({note})")),
        }
    }

    pub fn disk(
        &mut self,
        system: &'static str,
        bytes: u64,
        points: u64,
        what: &str,
    ) -> Result<(), BenchError> {
        let bpp = per_point(bytes, points);
        self.system(system).bytes_per_point = Some(bpp);
        self.line(&format!(
            "{system}: bytes_on_disk={bytes} bytes_per_point={bpp:.2} ({what})"
        ))
    }

    /// The size on disk after a major compaction.
    pub fn disk_compacted(
        &mut self,
        system: &'static str,
        bytes: u64,
        points: u64,
        what: &str,
    ) -> Result<(), BenchError> {
        let bpp = per_point(bytes, points);
        self.system(system).bytes_per_point_compacted = Some(bpp);
        self.line(&format!(
            "{system}: compacted_bytes_on_disk={bytes} compacted_bytes_per_point={bpp:.3} ({what})"
        ))
    }

    /// The summary table and the ratio table.
    pub fn summary(&mut self) -> Result<(), BenchError> {
        let systems: Vec<&'static str> = self.systems.iter().map(|(s, _)| *s).collect();
        self.line("")?;
        self.line("==================== summary ====================")?;
        let mut head = format!("{:<40}", "figure");
        for s in &systems {
            head.push_str(&format!("{s:>18}"));
        }
        self.line(&head)?;
        let rows = self.rows();
        for (label, _, values) in &rows {
            let mut l = format!("{label:<40}");
            for s in &systems {
                let cell = values
                    .iter()
                    .find(|(sys, _)| sys == s)
                    .map_or("-".to_string(), |(_, c)| c.text());
                l.push_str(&format!("{cell:>18}"));
            }
            self.line(&l)?;
        }
        let stratas: Vec<&str> = systems
            .iter()
            .copied()
            .filter(|s| *s == EMBEDDED || *s == DAEMON)
            .collect();
        let peers: Vec<&str> = systems
            .iter()
            .copied()
            .filter(|s| *s == INFLUXDB || *s == VICTORIAMETRICS)
            .collect();
        if stratas.is_empty() || peers.is_empty() {
            return Ok(());
        }
        self.line("")?;
        self.line("==================== ratios (strata / peer) ====================")?;
        let mut pairs = Vec::new();
        for s in &stratas {
            for p in &peers {
                pairs.push((*s, *p));
            }
        }
        let mut head = format!("{:<40}", "figure");
        for (s, p) in &pairs {
            head.push_str(&format!(
                "  {:<24}",
                format!("{}/{}", s.trim_start_matches("strata-"), p)
            ));
        }
        self.line(&head)?;
        let mut machine = Vec::new();
        for (label, key, values) in &rows {
            let Some(better) = key.better() else { continue };
            let mut l = format!("{label:<40}");
            for (s, p) in &pairs {
                let get = |sys: &str| {
                    values
                        .iter()
                        .find(|(x, _)| *x == sys)
                        .and_then(|(_, c)| c.value())
                };
                let r = ratio(get(s), get(p), better);
                if let (Some(a), Some(b)) = (get(s), get(p)) {
                    if b != 0.0 {
                        machine.push(format!(
                            "ratio: figure={} strata={s} peer={p} value={:.3}",
                            key.name(),
                            a / b
                        ));
                    }
                }
                l.push_str(&format!("  {r:<24}"));
            }
            self.line(&l)?;
        }
        self.line("")?;
        for m in machine {
            self.line(&m)?;
        }
        Ok(())
    }

    /// Fail if a sanity check failed during the run.
    pub fn check(&self) -> Result<(), BenchError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(BenchError::Check(self.problems.join("; ")))
        }
    }

    #[allow(clippy::type_complexity)]
    fn rows(&self) -> Vec<(String, RowKey, Vec<(&'static str, Cell)>)> {
        let mut rows = Vec::new();
        let each = |f: &dyn Fn(&SystemFigures) -> Cell| -> Vec<(&'static str, Cell)> {
            self.systems.iter().map(|(s, fig)| (*s, f(fig))).collect()
        };
        rows.push((
            "ingest points/s (acked)".to_string(),
            RowKey::Ingest,
            each(&|f| Cell::num(f.points_per_s)),
        ));
        rows.push((
            "ingest points/s (until queryable)".to_string(),
            RowKey::UntilQueryable,
            each(&|f| Cell::num(f.until_queryable)),
        ));
        rows.push((
            "bytes/point on disk".to_string(),
            RowKey::BytesPerPoint,
            each(&|f| Cell::num(f.bytes_per_point)),
        ));
        rows.push((
            "bytes/point after major compaction".to_string(),
            RowKey::BytesPerPointCompacted,
            each(&|f| Cell::num(f.bytes_per_point_compacted)),
        ));
        rows.push((
            "peak RSS kB".to_string(),
            RowKey::PeakRss,
            each(&|f| Cell::num(f.peak_rss_kb.map(|k| k as f64))),
        ));
        for name in QUERY_NAMES {
            for (pct, key) in [("p50", RowKey::P50(name)), ("p99", RowKey::P99(name))] {
                rows.push((
                    format!("{name} {pct} ms"),
                    key,
                    each(&|f| match f.query(name) {
                        None => Cell::Missing,
                        Some(QueryFigure::Timed { p50_ms, p99_ms, .. }) => {
                            Cell::num(Some(if pct == "p50" { *p50_ms } else { *p99_ms }))
                        }
                        Some(QueryFigure::NotSupported(_)) => Cell::Text("unsupported"),
                        Some(QueryFigure::NotApplicable(_)) => Cell::Text("n/a"),
                    }),
                ));
            }
        }
        rows
    }
}

#[derive(Clone, Copy, Debug)]
enum RowKey {
    Ingest,
    UntilQueryable,
    BytesPerPoint,
    BytesPerPointCompacted,
    PeakRss,
    P50(&'static str),
    P99(&'static str),
}

impl RowKey {
    fn better(self) -> Option<Better> {
        Some(match self {
            RowKey::Ingest | RowKey::UntilQueryable => Better::Higher,
            _ => Better::Lower,
        })
    }

    fn name(self) -> String {
        match self {
            RowKey::Ingest => "ingest_points_per_s".into(),
            RowKey::UntilQueryable => "ingest_points_per_s_until_queryable".into(),
            RowKey::BytesPerPoint => "bytes_per_point".into(),
            RowKey::BytesPerPointCompacted => "bytes_per_point_compacted".into(),
            RowKey::PeakRss => "peak_rss_kb".into(),
            RowKey::P50(q) => format!("{q}_p50_ms"),
            RowKey::P99(q) => format!("{q}_p99_ms"),
        }
    }
}

#[derive(Clone, Debug)]
enum Cell {
    Missing,
    Num(f64),
    Text(&'static str),
}

impl Cell {
    fn num(v: Option<f64>) -> Cell {
        v.map_or(Cell::Missing, Cell::Num)
    }

    fn value(&self) -> Option<f64> {
        match self {
            Cell::Num(v) => Some(*v),
            _ => None,
        }
    }

    fn text(&self) -> String {
        match self {
            Cell::Missing => "-".to_string(),
            Cell::Num(v) => human(Some(*v)),
            Cell::Text(t) => t.to_string(),
        }
    }
}

/// Bytes per point (0 for no points).
fn per_point(bytes: u64, points: u64) -> f64 {
    if points > 0 {
        bytes as f64 / points as f64
    } else {
        0.0
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_parse_back() {
        let l = "strata-daemon: query=lastpoint p50_ms=1.500 p99_ms=2.000 runs=5 bytes=10";
        assert_eq!(field(l, "p50_ms"), Some("1.500"));
        assert_eq!(field(l, "query"), Some("lastpoint"));
        assert_eq!(field(l, "p5"), None);
        assert_eq!(field(l, "missing"), None);
    }

    #[test]
    fn lines_summary_and_ratios() {
        let mut out = Vec::new();
        {
            let mut r = Report::new(&mut out);
            r.ingest(
                DAEMON,
                &IngestFigures {
                    lines: 10,
                    points: 100,
                    seconds: 0.5,
                    read_seconds: 0.01,
                    generator_seconds: 0.1,
                },
            )
            .unwrap();
            r.ingest(
                INFLUXDB,
                &IngestFigures {
                    lines: 10,
                    points: 100,
                    seconds: 1.0,
                    read_seconds: 0.02,
                    generator_seconds: 0.1,
                },
            )
            .unwrap();
            r.disk(DAEMON, 1500, 100, "after SIGTERM").unwrap();
            r.disk(INFLUXDB, 1000, 100, "after SIGINT").unwrap();
            r.query(
                DAEMON,
                "lastpoint",
                QueryFigure::NotSupported("no\nORDER BY".into()),
            )
            .unwrap();
            r.query(
                INFLUXDB,
                "lastpoint",
                QueryFigure::Timed {
                    p50_ms: 2.0,
                    p99_ms: 3.0,
                    runs: 5,
                    bytes: 9,
                },
            )
            .unwrap();
            r.query(
                DAEMON,
                "cpu-max-all-8",
                QueryFigure::Timed {
                    p50_ms: 1.0,
                    p99_ms: 1.0,
                    runs: 5,
                    bytes: 9,
                },
            )
            .unwrap();
            r.query(
                INFLUXDB,
                "cpu-max-all-8",
                QueryFigure::Timed {
                    p50_ms: 4.0,
                    p99_ms: 4.0,
                    runs: 5,
                    bytes: 9,
                },
            )
            .unwrap();
            r.verify(DAEMON, Ok(10), 10).unwrap();
            assert!(r.check().is_ok());
            r.summary().unwrap();
            r.verify(INFLUXDB, Ok(9), 10).unwrap();
            assert!(r.check().is_err());
        }
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains(
            "strata-daemon: ingest lines=10 points=100 seconds=0.500 points_per_s=200 read_seconds=0.010 generator_seconds=0.100"
        ));
        assert!(text.contains("strata-daemon: bytes_on_disk=1500 bytes_per_point=15.00"));
        assert!(text.contains("strata-daemon: query=lastpoint not supported: no ORDER BY"));
        assert!(text.contains(
            "ratio: figure=ingest_points_per_s strata=strata-daemon peer=influxdb value=2.000"
        ));
        assert!(text.contains(
            "ratio: figure=bytes_per_point strata=strata-daemon peer=influxdb value=1.500"
        ));
        assert!(text.contains(
            "ratio: figure=cpu-max-all-8_p50_ms strata=strata-daemon peer=influxdb value=0.250"
        ));
        assert!(!text.contains("figure=lastpoint_p50_ms"));
        let row = text
            .lines()
            .find(|l| l.starts_with("ingest points/s (acked)") && l.contains('x'))
            .unwrap();
        assert!(row.contains("2.00x (strata better)"), "{row}");
        let row = text
            .lines()
            .find(|l| l.starts_with("lastpoint p50 ms") && l.contains("unsupported"))
            .unwrap();
        assert!(row.contains("2.00"), "{row}");
        assert!(text.contains("MISMATCH"));
    }
}
