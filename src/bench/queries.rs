//! The TSBS devops query set, as InfluxQL (what TSBS's influx query generator emits,
//! `cmd/tsbs_generate_queries/databases/influx/devops.go`) and a PromQL/MetricsQL equivalent for
//! VictoriaMetrics.
//!
//! TSBS draws a new random time window and host set for every generated query; this bench draws
//! one per query type, deterministically from the seed, and times that same query repeatedly, so
//! runs and systems are comparable. A window is TSBS's duration (1 h, 8 h or 12 h) cut to the
//! data's span when the data is shorter, starting at a random whole minute inside the data. A
//! host set larger than the number of hosts is cut to all hosts.

use super::tsbs::{Rng, TsbsSpec, FIELDS};
use strata::query::result::format_rfc3339;

/// A PromQL query for VictoriaMetrics' Prometheus API.
#[derive(Clone, Debug, PartialEq)]
pub enum PromQl {
    /// `/api/v1/query_range` (times in seconds).
    Range {
        query: String,
        start: i64,
        end: i64,
        step: i64,
    },
    /// `/api/v1/query` at `time` (seconds).
    Instant { query: String, time: i64 },
}

impl PromQl {
    /// Path and query string of the HTTP GET that runs it.
    pub fn path(&self) -> String {
        match self {
            PromQl::Range {
                query,
                start,
                end,
                step,
            } => format!(
                "/api/v1/query_range?start={start}&end={end}&step={step}&query={}",
                encode(query)
            ),
            PromQl::Instant { query, time } => {
                format!("/api/v1/query?time={time}&query={}", encode(query))
            }
        }
    }

    /// One-line description: the query and its time parameters.
    pub fn describe(&self) -> String {
        match self {
            PromQl::Range {
                query,
                start,
                end,
                step,
            } => format!("{query}  (query_range start={start} end={end} step={step}s)"),
            PromQl::Instant { query, time } => format!("{query}  (instant query time={time})"),
        }
    }
}

/// Percent-encode a query-string value.
pub fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// One query of the set.
#[derive(Clone, Debug, PartialEq)]
pub struct BenchQuery {
    /// TSBS's query-type name (`single-groupby-1-1-1`, …).
    pub name: &'static str,
    /// The InfluxQL TSBS's influx generator emits for it (for strata and InfluxDB).
    pub influxql: String,
    /// The VictoriaMetrics equivalent, if there is a reasonable one.
    pub promql: Option<PromQl>,
}

/// The names of the query set, in the order [`tsbs_queries`] returns them.
pub const QUERY_NAMES: [&str; 9] = [
    "single-groupby-1-1-1",
    "single-groupby-5-8-1",
    "cpu-max-all-8",
    "double-groupby-1",
    "double-groupby-5",
    "double-groupby-all",
    "high-cpu-all",
    "lastpoint",
    "groupby-orderby-limit",
];

const HOUR: i64 = 3600;

/// A random window of `duration_s` seconds (cut to the data's span) starting at a whole minute
/// inside the data: `(start_s, end_s)`.
pub fn window(rng: &mut Rng, spec: &TsbsSpec, duration_s: i64) -> (i64, i64) {
    let span = (spec.end_s() - spec.start_s).max(0);
    let w = duration_s.min(span);
    let slack = span - w;
    let offset = rng.below(slack as u64 + 1) as i64;
    let offset = offset - offset % 60;
    let start = spec.start_s + offset;
    (start, start + w)
}

/// `n` distinct random host names (all hosts when `n` ≥ the number of hosts).
pub fn random_hosts(rng: &mut Rng, hosts: usize, n: usize) -> Vec<String> {
    let n = n.min(hosts);
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let h = rng.below(hosts as u64) as usize;
        if seen.insert(h) {
            out.push(format!("host_{h}"));
        }
    }
    out
}

fn rfc(s: i64) -> String {
    format_rfc3339(s.saturating_mul(1_000_000_000))
}

/// `(hostname = 'a' or hostname = 'b')`, as TSBS writes it.
fn influx_hosts(hosts: &[String]) -> String {
    let parts: Vec<String> = hosts.iter().map(|h| format!("hostname = '{h}'")).collect();
    format!("({})", parts.join(" or "))
}

/// `{__name__=~"cpu_(usage_user|usage_system)"}`-style selector body for VictoriaMetrics, which
/// stores field `f` of measurement `cpu` as metric `cpu_f`.
fn prom_names(fields: &[&str]) -> String {
    if fields.len() == 1 {
        return format!("__name__=\"cpu_{}\"", fields[0]);
    }
    format!("__name__=~\"cpu_({})\"", fields.join("|"))
}

fn prom_hosts(hosts: &[String]) -> String {
    format!(",hostname=~\"{}\"", hosts.join("|"))
}

fn aggs(agg: &str, fields: &[&str], sep: &str) -> String {
    let parts: Vec<String> = fields.iter().map(|f| format!("{agg}({f})")).collect();
    parts.join(sep)
}

/// TSBS `GroupByTime(nHosts, numMetrics, 1h)`: max per minute of `metrics` fields over `hosts`.
fn single_groupby(
    name: &'static str,
    rng: &mut Rng,
    spec: &TsbsSpec,
    metrics: usize,
    hosts: usize,
) -> BenchQuery {
    let (s, e) = window(rng, spec, HOUR);
    let hosts = random_hosts(rng, spec.hosts, hosts);
    let fields = &FIELDS[..metrics];
    let influxql = format!(
        "SELECT {} from cpu where {} and time >= '{}' and time < '{}' group by time(1m)",
        aggs("max", fields, ", "),
        influx_hosts(&hosts),
        rfc(s),
        rfc(e)
    );
    let sel = format!("{{{}{}}}", prom_names(fields), prom_hosts(&hosts));
    let query = if metrics == 1 {
        format!("max(max_over_time({sel}[1m]))")
    } else {
        format!("max by (__name__) (max_over_time({sel}[1m]) keep_metric_names)")
    };
    BenchQuery {
        name,
        influxql,
        promql: Some(minute_range(query, s, e, 60)),
    }
}

/// A range query whose point at `t` covers `(t - step, t]`: the buckets `[s, s+step)`, … of
/// InfluxQL's `GROUP BY time(step)` become the points `s+step`, …, `e`.
fn minute_range(query: String, s: i64, e: i64, step: i64) -> PromQl {
    PromQl::Range {
        query,
        start: s + step,
        end: e.max(s + step),
        step,
    }
}

/// TSBS `GroupByTimeAndPrimaryTag(numMetrics)`: hourly mean of `metrics` fields per host, 12 h.
fn double_groupby(
    name: &'static str,
    rng: &mut Rng,
    spec: &TsbsSpec,
    metrics: usize,
) -> BenchQuery {
    let (s, e) = window(rng, spec, 12 * HOUR);
    let fields = &FIELDS[..metrics];
    let influxql = format!(
        "SELECT {} from cpu where time >= '{}' and time < '{}' group by time(1h),hostname",
        aggs("mean", fields, ", "),
        rfc(s),
        rfc(e)
    );
    // Each host is one series per field, so a per-series rollup is the per-host group (as
    // peers.sh queries it).
    let query = format!("avg_over_time({{{}}}[1h])", prom_names(fields));
    BenchQuery {
        name,
        influxql,
        promql: Some(minute_range(query, s, e, HOUR)),
    }
}

/// The whole set, deterministic for a spec and a seed.
pub fn tsbs_queries(spec: &TsbsSpec, seed: u64) -> Vec<BenchQuery> {
    let mut rng = Rng::new(seed ^ 0x5153_4253_5454_5342);
    let mut out = vec![
        single_groupby(QUERY_NAMES[0], &mut rng, spec, 1, 1),
        single_groupby(QUERY_NAMES[1], &mut rng, spec, 5, 8),
    ];

    // cpu-max-all-8: TSBS MaxAllCPU(8), 8 h window; the influx generator groups by time(1m).
    let (s, e) = window(&mut rng, spec, 8 * HOUR);
    let hosts = random_hosts(&mut rng, spec.hosts, 8);
    let influxql = format!(
        "SELECT {} from cpu where {} and time >= '{}' and time < '{}' group by time(1m)",
        aggs("max", &FIELDS, ","),
        influx_hosts(&hosts),
        rfc(s),
        rfc(e)
    );
    let query = format!(
        "max by (__name__) (max_over_time({{__name__=~\"cpu_usage_.*\"{}}}[1m]) keep_metric_names)",
        prom_hosts(&hosts)
    );
    out.push(BenchQuery {
        name: QUERY_NAMES[2],
        influxql,
        promql: Some(minute_range(query, s, e, 60)),
    });

    out.push(double_groupby(QUERY_NAMES[3], &mut rng, spec, 1));
    out.push(double_groupby(QUERY_NAMES[4], &mut rng, spec, 5));
    out.push(double_groupby(QUERY_NAMES[5], &mut rng, spec, FIELDS.len()));

    // high-cpu-all: TSBS HighCPUForHosts(0), 12 h window, every row with usage_user > 90.
    let (s, e) = window(&mut rng, spec, 12 * HOUR);
    let influxql = format!(
        "SELECT * from cpu where usage_user > 90.0  and time >= '{}' and time < '{}'",
        rfc(s),
        rfc(e)
    );
    // Every field of the (host, instant) pairs where usage_user > 90, at the data's 10 s step.
    let query = "{__name__=~\"cpu_usage_.*\"} and on (hostname) (cpu_usage_user > 90)".to_string();
    out.push(BenchQuery {
        name: QUERY_NAMES[6],
        influxql,
        promql: Some(PromQl::Range {
            query,
            start: s,
            end: (e - spec.interval_s).max(s),
            step: spec.interval_s.max(1),
        }),
    });

    // lastpoint: TSBS LastPointPerHost.
    out.push(BenchQuery {
        name: QUERY_NAMES[7],
        influxql: "SELECT * from cpu group by \"hostname\" order by time desc limit 1".to_string(),
        // The latest sample of every series: an instant query at the data's last timestamp.
        promql: Some(PromQl::Instant {
            query: "last_over_time({__name__=~\"cpu_usage_.*\"}[1h])".to_string(),
            time: (spec.end_s() - spec.interval_s).max(spec.start_s),
        }),
    });

    // groupby-orderby-limit: TSBS GroupByOrderByLimit, a 1 h window of which only the end is used.
    let (_, e) = window(&mut rng, spec, HOUR);
    let influxql = format!(
        "SELECT max(usage_user) from cpu WHERE time < '{}' group by time(1m) limit 5",
        rfc(e)
    );
    // The intent (TSBS's pseudo-SQL: ORDER BY minute DESC LIMIT 5): the last five one-minute
    // maxima before the end.
    let query = "max(max_over_time(cpu_usage_user[1m]))".to_string();
    out.push(BenchQuery {
        name: QUERY_NAMES[8],
        influxql,
        promql: Some(PromQl::Range {
            query,
            start: e - 4 * 60,
            end: e,
            step: 60,
        }),
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_is_complete_deterministic_and_inside_the_data() {
        let spec = TsbsSpec::new(100, 24.0);
        let a = tsbs_queries(&spec, 1);
        assert_eq!(a, tsbs_queries(&spec, 1));
        assert_ne!(a, tsbs_queries(&spec, 2));
        let names: Vec<&str> = a.iter().map(|q| q.name).collect();
        assert_eq!(names, QUERY_NAMES);
        for q in &a {
            // Every quoted RFC3339 time is inside the data.
            for t in q.influxql.split('\'').filter(|p| p.ends_with('Z')) {
                let ns = strata::query::result::parse_time_string(t).unwrap();
                let s = ns / 1_000_000_000;
                assert!(
                    s >= spec.start_s && s <= spec.end_s(),
                    "{t} in {}",
                    q.influxql
                );
            }
            if let Some(PromQl::Range { start, end, .. }) = &q.promql {
                assert!(start <= end, "{q:?}");
                assert!(*start >= spec.start_s && *end <= spec.end_s(), "{q:?}");
            }
        }
        assert!(a[0]
            .influxql
            .starts_with("SELECT max(usage_user) from cpu where (hostname = 'host_"));
        assert!(a[0].influxql.ends_with("group by time(1m)"));
        assert_eq!(a[1].influxql.matches("hostname = ").count(), 8);
        assert!(a[1].influxql.starts_with(
            "SELECT max(usage_user), max(usage_system), max(usage_idle), max(usage_nice), max(usage_iowait) from cpu"
        ));
        assert!(a[2]
            .influxql
            .contains("max(usage_guest),max(usage_guest_nice) from cpu"));
        assert!(a[5].influxql.contains("mean(usage_guest_nice) from cpu"));
        assert!(a[5].influxql.ends_with("group by time(1h),hostname"));
        assert!(a[6]
            .influxql
            .starts_with("SELECT * from cpu where usage_user > 90.0"));
    }

    #[test]
    fn windows_are_tsbs_durations_cut_to_the_data() {
        let spec = TsbsSpec::new(10, 24.0);
        let mut rng = Rng::new(3);
        for _ in 0..100 {
            let (s, e) = window(&mut rng, &spec, 12 * HOUR);
            assert_eq!(e - s, 12 * HOUR);
            assert_eq!((s - spec.start_s) % 60, 0);
            assert!(s >= spec.start_s && e <= spec.end_s());
        }
        let short = TsbsSpec::new(10, 1.0);
        assert_eq!(
            window(&mut rng, &short, 12 * HOUR),
            (short.start_s, short.end_s())
        );
    }

    #[test]
    fn host_sets_are_distinct_and_cut_to_the_hosts() {
        let mut rng = Rng::new(9);
        let h = random_hosts(&mut rng, 10, 8);
        let set: std::collections::BTreeSet<&String> = h.iter().collect();
        assert_eq!(set.len(), 8);
        assert_eq!(random_hosts(&mut rng, 2, 8).len(), 2);
    }

    #[test]
    fn promql_paths_are_encoded() {
        let q = PromQl::Instant {
            query: "a{b=\"c d\"}".into(),
            time: 5,
        };
        assert_eq!(q.path(), "/api/v1/query?time=5&query=a%7Bb%3D%22c+d%22%7D");
        let r = PromQl::Range {
            query: "x".into(),
            start: 1,
            end: 2,
            step: 3,
        };
        assert_eq!(r.path(), "/api/v1/query_range?start=1&end=2&step=3&query=x");
    }
}
