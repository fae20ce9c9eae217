//! Prometheus remote read, as InfluxDB 1.x's `/api/v1/prom/read` answers it, over what remote
//! write stored (`crate::ingest::prometheus`): each query of a snappy-compressed protobuf
//! `ReadRequest` becomes one InfluxQL `SELECT "value" … GROUP BY *` run by the query engine
//! (its limits, its admission, its authorization), and its series come back as Prometheus time
//! series: the tags as labels (empty ones left out, as 1.x leaves them out), `__name__` the
//! measurement, the samples in time order at millisecond timestamps.
//!
//! Matchers are Prometheus': regexes are anchored at both ends, and a matcher on `__name__`
//! selects measurements (resolved against the database's measurement names, so `!=` and `!~`
//! work too). Unlike 1.x, a request may hold several queries.

use crate::error::{Error, Result};
use crate::ingest::prometheus::{Label, Sample, TimeSeries};
use crate::query::influxql::{quote_ident, quote_string, Regex};
use crate::query::{SeriesResult, Value};

/// A remote read request (`prometheus/prompb/remote.proto`; hints and accepted response types
/// are skipped: strata answers samples).
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadRequest {
    #[prost(message, repeated, tag = "1")]
    pub queries: Vec<Query>,
}

/// One query: a time range (milliseconds, both ends inclusive) and label matchers.
#[derive(Clone, PartialEq, prost::Message)]
pub struct Query {
    #[prost(int64, tag = "1")]
    pub start_timestamp_ms: i64,
    #[prost(int64, tag = "2")]
    pub end_timestamp_ms: i64,
    #[prost(message, repeated, tag = "3")]
    pub matchers: Vec<LabelMatcher>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct LabelMatcher {
    #[prost(enumeration = "MatchType", tag = "1")]
    pub r#type: i32,
    #[prost(string, tag = "2")]
    pub name: String,
    #[prost(string, tag = "3")]
    pub value: String,
}

/// How a matcher compares (`=`, `!=`, `=~`, `!~`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum MatchType {
    Eq = 0,
    Neq = 1,
    Re = 2,
    Nre = 3,
}

/// The answer: one result per query, in order.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ReadResponse {
    #[prost(message, repeated, tag = "1")]
    pub results: Vec<QueryResult>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct QueryResult {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// A matcher's comparison, its regex anchored as Prometheus anchors it.
enum Comparison {
    Equal(String),
    NotEqual(String),
    Matches(Regex),
    NotMatches(Regex),
}

impl Comparison {
    fn of(m: &LabelMatcher) -> Result<Comparison> {
        let regex = || {
            Regex::new(&format!("^(?:{})$", m.value)).map_err(|e| {
                Error::Query(format!(
                    "matcher {}=~{:?}: not a regex: {e}",
                    m.name, m.value
                ))
            })
        };
        Ok(match MatchType::try_from(m.r#type) {
            Ok(MatchType::Eq) => Comparison::Equal(m.value.clone()),
            Ok(MatchType::Neq) => Comparison::NotEqual(m.value.clone()),
            Ok(MatchType::Re) => Comparison::Matches(regex()?),
            Ok(MatchType::Nre) => Comparison::NotMatches(regex()?),
            Err(_) => {
                return Err(Error::Query(format!(
                    "matcher on {:?}: unknown match type {}",
                    m.name, m.r#type
                )))
            }
        })
    }

    fn accepts(&self, s: &str) -> bool {
        match self {
            Comparison::Equal(v) => s == v,
            Comparison::NotEqual(v) => s != v,
            Comparison::Matches(r) => r.is_match(s),
            Comparison::NotMatches(r) => !r.is_match(s),
        }
    }

    /// The InfluxQL condition on tag `key`.
    fn condition(&self, key: &str) -> String {
        let key = quote_ident(key);
        match self {
            Comparison::Equal(v) => format!("{key} = {}", quote_string(v)),
            Comparison::NotEqual(v) => format!("{key} != {}", quote_string(v)),
            Comparison::Matches(r) => format!("{key} =~ {r}"),
            Comparison::NotMatches(r) => format!("{key} !~ {r}"),
        }
    }
}

/// The InfluxQL of one query over a database with these measurements; `None` when no
/// measurement matches (nothing to read).
pub fn query_text(query: &Query, measurements: &[String]) -> Result<Option<String>> {
    let mut selected: Vec<&String> = measurements.iter().collect();
    let mut conditions = vec![
        format!(
            "time >= {}",
            query.start_timestamp_ms.saturating_mul(1_000_000)
        ),
        format!(
            "time <= {}",
            query
                .end_timestamp_ms
                .saturating_mul(1_000_000)
                .saturating_add(999_999)
        ),
    ];
    for m in &query.matchers {
        let comparison = Comparison::of(m)?;
        if m.name == "__name__" {
            selected.retain(|name| comparison.accepts(name));
        } else {
            conditions.push(comparison.condition(&m.name));
        }
    }
    if selected.is_empty() {
        return Ok(None);
    }
    let sources: Vec<String> = selected
        .iter()
        .map(|m| quote_ident(m).into_owned())
        .collect();
    Ok(Some(format!(
        "SELECT \"value\" FROM {} WHERE {} GROUP BY *",
        sources.join(", "),
        conditions.join(" AND ")
    )))
}

/// The bytes [`time_series`] allocates for `series` (the series, their labels and samples and
/// the vectors holding them, each made at its exact capacity), so a caller charges them before
/// they are made.
pub fn time_series_bytes(series: &[SeriesResult]) -> u64 {
    use std::mem::size_of;
    let mut bytes = 0u64;
    for s in series {
        let tags = s.tags.iter().flatten();
        let label_text: usize = tags.clone().map(|(k, v)| k.len() + v.len()).sum();
        let labels = tags.count() + 1;
        let text = label_text + "__name__".len() + s.name.len();
        let samples = s.values.len();
        bytes = bytes.saturating_add(
            (size_of::<TimeSeries>()
                + labels * size_of::<Label>()
                + text
                + samples * size_of::<Sample>()) as u64,
        );
    }
    bytes
}

/// The time series of one query's answer, sorted by their labels (as Prometheus orders series).
/// Every vector is made at its exact capacity ([`time_series_bytes`] counts them).
pub fn time_series(series: &[SeriesResult]) -> Vec<TimeSeries> {
    let mut out: Vec<TimeSeries> = Vec::with_capacity(series.len());
    for s in series {
        let tags = s.tags.iter().flatten();
        let mut labels: Vec<Label> = Vec::with_capacity(tags.clone().count() + 1);
        labels.extend(
            tags.filter(|(k, v)| !v.is_empty() && *k != "__name__")
                .map(|(k, v)| Label {
                    name: k.clone(),
                    value: v.clone(),
                }),
        );
        labels.push(Label {
            name: "__name__".into(),
            value: s.name.clone(),
        });
        labels.sort_by(|a, b| a.name.cmp(&b.name));
        let mut samples: Vec<Sample> = Vec::with_capacity(s.values.len());
        samples.extend(s.values.iter().filter_map(|row| {
            let Some(Value::Time(t)) = row.first() else {
                return None;
            };
            Some(Sample {
                value: row.get(1)?.as_f64()?,
                timestamp: t.div_euclid(1_000_000),
            })
        }));
        if !samples.is_empty() {
            out.push(TimeSeries { labels, samples });
        }
    }
    // Compared in place: no copy of the labels as sort keys.
    out.sort_by(|a, b| {
        a.labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .cmp(b.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())))
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(kind: MatchType, name: &str, value: &str) -> LabelMatcher {
        LabelMatcher {
            r#type: kind as i32,
            name: name.into(),
            value: value.into(),
        }
    }

    #[test]
    fn a_query_becomes_one_select_over_the_matching_measurements() {
        let names: Vec<String> = ["up", "up_time", "down", "odd 'name"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let q = |matchers: Vec<LabelMatcher>| {
            query_text(
                &Query {
                    start_timestamp_ms: 1_000,
                    end_timestamp_ms: 2_000,
                    matchers,
                },
                &names,
            )
            .expect("query")
        };
        assert_eq!(
            q(vec![
                matcher(MatchType::Eq, "__name__", "up"),
                matcher(MatchType::Re, "job", "api|web"),
                matcher(MatchType::Neq, "env", "it's"),
            ])
            .as_deref(),
            Some(
                "SELECT \"value\" FROM up WHERE time >= 1000000000 AND time <= 2000999999 \
                 AND job =~ /^(?:api|web)$/ AND env != 'it\\'s' GROUP BY *"
            )
        );
        // Regexes are anchored: `up` does not match `up_time`; `!~` and `!=` select too.
        assert_eq!(
            q(vec![matcher(MatchType::Re, "__name__", "up|down")]).as_deref(),
            Some(
                "SELECT \"value\" FROM up, down WHERE time >= 1000000000 \
                 AND time <= 2000999999 GROUP BY *"
            )
        );
        let selected = q(vec![matcher(MatchType::Nre, "__name__", "up.*|down")]).expect("some");
        assert!(selected.contains("FROM \"odd 'name\" WHERE"), "{selected}");
        assert_eq!(q(vec![matcher(MatchType::Eq, "__name__", "nope")]), None);
        // A line break in a regex (the fuzzer's find) is printed as an escape InfluxQL reads.
        let text = q(vec![matcher(MatchType::Re, "job", "a\nb")]).expect("some");
        assert!(text.contains("job =~ /^(?:a\\nb)$/"), "{text}");
        assert!(
            crate::query::influxql::parse_statement(&text).is_ok(),
            "{text}"
        );
        let newline = Comparison::of(&matcher(MatchType::Re, "job", "a\nb")).expect("regex");
        assert!(newline.accepts("a\nb") && !newline.accepts("anb"));
        // A bad regex is the client's error.
        let bad = query_text(
            &Query {
                start_timestamp_ms: 0,
                end_timestamp_ms: 1,
                matchers: vec![matcher(MatchType::Re, "job", "(")],
            },
            &names,
        );
        assert!(matches!(bad, Err(Error::Query(m)) if m.contains("not a regex")));
    }

    #[test]
    fn series_come_back_as_labels_and_samples_in_milliseconds() {
        let series = SeriesResult {
            name: "up".into(),
            tags: Some(
                [
                    ("job".to_string(), "api".to_string()),
                    ("env".to_string(), String::new()),
                    ("__name__".to_string(), "up".to_string()),
                ]
                .into_iter()
                .collect(),
            ),
            columns: vec!["time".into(), "value".into()],
            values: vec![
                vec![Value::Time(1_500_000_000), Value::Float(1.0)],
                vec![Value::Time(2_500_000_000), Value::Integer(2)],
                vec![Value::Time(3_000_000_000), Value::Null],
            ],
        };
        let ts = time_series(&[series]);
        assert_eq!(ts.len(), 1);
        let names: Vec<(&str, &str)> = ts[0]
            .labels
            .iter()
            .map(|l| (l.name.as_str(), l.value.as_str()))
            .collect();
        assert_eq!(names, [("__name__", "up"), ("job", "api")]);
        let samples: Vec<(f64, i64)> = ts[0]
            .samples
            .iter()
            .map(|s| (s.value, s.timestamp))
            .collect();
        assert_eq!(samples, [(1.0, 1_500), (2.0, 2_500)]);
    }
}
