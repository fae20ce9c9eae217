//! Prometheus remote write, as InfluxDB 1.x's `/api/v1/prom/write` takes it: a snappy-compressed
//! (block format) protobuf `prometheus.WriteRequest`, each sample of each series one point of
//! the measurement named by its `__name__` label (`prom_metric_not_specified` without one), its
//! labels as tags (`__name__` too), its value as the float field `value`, at its millisecond
//! timestamp. NaN samples are dropped, as 1.x drops them (Prometheus' staleness markers are
//! NaNs); the infinities, which strata cannot store either, are refused by name (1.x refuses the
//! whole request for one). A label with an empty value is no label, as in Prometheus.

use super::body::{ConvertedBody, Record, RecordOrigin};
use super::{float_text, line};

/// A remote write request (`prometheus/prompb/remote.proto`; the fields strata reads, others
/// such as metadata are skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub struct WriteRequest {
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
}

/// One series and its samples (exemplars and native histograms are skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TimeSeries {
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
}

impl TimeSeries {
    /// A series of these labels (name, value) and samples (value, milliseconds), as an embedder
    /// or a test builds one.
    ///
    /// ```
    /// let s = strata::ingest::prometheus::TimeSeries::new(&[("__name__", "up")], &[(1.0, 1000)]);
    /// assert_eq!((s.labels[0].value.as_str(), s.samples[0].timestamp), ("up", 1000));
    /// ```
    pub fn new(labels: &[(&str, &str)], samples: &[(f64, i64)]) -> TimeSeries {
        TimeSeries {
            labels: labels
                .iter()
                .map(|(name, value)| Label {
                    name: name.to_string(),
                    value: value.to_string(),
                })
                .collect(),
            samples: samples
                .iter()
                .map(|&(value, timestamp)| Sample { value, timestamp })
                .collect(),
        }
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Label {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Sample {
    #[prost(double, tag = "1")]
    pub value: f64,
    /// Milliseconds since the epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// The measurement of a series without a `__name__` label (1.x's name).
pub const UNNAMED_MEASUREMENT: &str = "prom_metric_not_specified";

/// Why a remote write or read body was refused whole (nothing of it is written or read).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteBodyError {
    /// Not a snappy block.
    #[error("the body is not snappy-compressed (block format): {0}")]
    Snappy(String),
    /// It would decompress past the body limit (checked before decompressing).
    #[error(
        "the body decompresses to {bytes} bytes, past the limit of {limit} bytes (max_body_bytes)"
    )]
    TooLarge { bytes: usize, limit: usize },
    /// Not the message expected (`WriteRequest`, `ReadRequest`).
    #[error("the body is not a Prometheus {expected}: {reason}")]
    Protobuf {
        expected: &'static str,
        reason: String,
    },
}

/// Decode a remote write body, decompressing at most `limit` bytes: its size is read from the
/// snappy header and checked before anything is allocated for it.
pub fn decode_write_request(body: &[u8], limit: usize) -> Result<WriteRequest, RemoteBodyError> {
    decode_snappy_protobuf(body, limit, "WriteRequest")
}

/// A snappy-compressed protobuf message `expected` (its name, for the error), decompressing
/// at most `limit` bytes, checked from the snappy header first.
pub fn decode_snappy_protobuf<M: prost::Message + Default>(
    body: &[u8],
    limit: usize,
    expected: &'static str,
) -> Result<M, RemoteBodyError> {
    let bytes =
        snap::raw::decompress_len(body).map_err(|e| RemoteBodyError::Snappy(e.to_string()))?;
    if bytes > limit {
        return Err(RemoteBodyError::TooLarge { bytes, limit });
    }
    let plain = snap::raw::Decoder::new()
        .decompress_vec(body)
        .map_err(|e| RemoteBodyError::Snappy(e.to_string()))?;
    M::decode(plain.as_slice()).map_err(|e| RemoteBodyError::Protobuf {
        expected,
        reason: e.to_string(),
    })
}

/// The request as line protocol with millisecond timestamps, each line named by its series and
/// sample (`series 2, sample 0`) for messages; NaN samples make no line and no message. Also
/// the number of NaN samples dropped.
pub fn write_request_to_line_protocol(request: &WriteRequest) -> (ConvertedBody, usize) {
    let mut out = ConvertedBody::default();
    let mut dropped_nan = 0;
    let field = "value".to_string();
    for (series, ts) in request.timeseries.iter().enumerate() {
        let measurement = ts
            .labels
            .iter()
            .find(|l| l.name == "__name__")
            .map_or(UNNAMED_MEASUREMENT, |l| l.value.as_str());
        // An empty label value is no label, in Prometheus (and line protocol has no empty tag
        // value).
        let tags: Vec<(String, String)> = ts
            .labels
            .iter()
            .filter(|l| !l.value.is_empty())
            .map(|l| (l.name.clone(), l.value.clone()))
            .collect();
        for (sample, s) in ts.samples.iter().enumerate() {
            if s.value.is_nan() {
                dropped_nan += 1;
                continue;
            }
            let origin = RecordOrigin {
                record: Record::Sample { series, sample },
                line: None,
            };
            let made = if s.value.is_infinite() {
                Err(format!(
                    "{} is not a value strata stores (finite floats only)",
                    s.value
                ))
            } else {
                line(
                    measurement,
                    &tags,
                    &[(field.clone(), float_text(s.value))],
                    s.timestamp,
                )
            };
            out.push(origin, made);
        }
    }
    (out, dropped_nan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use prost::Message as _;

    fn label(name: &str, value: &str) -> Label {
        Label {
            name: name.into(),
            value: value.into(),
        }
    }

    fn sample(value: f64, timestamp: i64) -> Sample {
        Sample { value, timestamp }
    }

    fn body(request: &WriteRequest) -> Vec<u8> {
        snap::raw::Encoder::new()
            .compress_vec(&request.encode_to_vec())
            .expect("compress")
    }

    #[test]
    fn samples_become_points_of_their_metric_with_labels_as_tags() {
        let request = WriteRequest {
            timeseries: vec![
                TimeSeries {
                    labels: vec![
                        label("__name__", "http_requests_total"),
                        label("job", "api server"),
                        label("code", "200"),
                    ],
                    samples: vec![sample(10.0, 1_700_000_000_000), sample(f64::NAN, 1)],
                },
                TimeSeries {
                    labels: vec![label("job", "x"), label("empty", "")],
                    samples: vec![sample(0.5, 1_700_000_000_001), sample(f64::INFINITY, 2)],
                },
            ],
        };
        let decoded = decode_write_request(&body(&request), 1 << 20).expect("decode");
        // (NaN is not equal to itself: compared as encoded.)
        assert_eq!(decoded.encode_to_vec(), request.encode_to_vec());
        let (converted, dropped) = write_request_to_line_protocol(&decoded);
        assert_eq!(dropped, 1);
        assert_eq!(
            converted.text,
            "http_requests_total,__name__=http_requests_total,job=api\\ server,code=200 \
             value=10.0 1700000000000\n\
             prom_metric_not_specified,job=x value=0.5 1700000000001\n"
        );
        assert_eq!(converted.origins.len(), 2);
        assert_eq!(converted.origins[1].to_string(), "series 1, sample 0");
        assert_eq!(
            converted.rejected,
            ["series 1, sample 1: inf is not a value strata stores (finite floats only)"]
        );
    }

    #[test]
    fn bodies_that_are_not_remote_writes_are_refused_whole() {
        assert!(matches!(
            decode_write_request(b"cpu value=1", 1 << 20),
            Err(RemoteBodyError::Snappy(_)) | Err(RemoteBodyError::Protobuf { .. })
        ));
        let not_protobuf = snap::raw::Encoder::new()
            .compress_vec(&[0xff; 64])
            .expect("compress");
        assert!(matches!(
            decode_write_request(&not_protobuf, 1 << 20),
            Err(RemoteBodyError::Protobuf { .. })
        ));
        // The decompressed size is checked from the header, before decompressing: 1 MB of
        // zeros compresses to a few KB.
        let zeros = snap::raw::Encoder::new()
            .compress_vec(&vec![0u8; 1 << 20])
            .expect("compress");
        assert_eq!(
            decode_write_request(&zeros, 1000),
            Err(RemoteBodyError::TooLarge {
                bytes: 1 << 20,
                limit: 1000
            })
        );
    }
}
