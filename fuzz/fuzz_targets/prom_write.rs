//! Prometheus remote write bodies (`strata::ingest::prometheus`, what `/api/v1/prom/write` runs)
//! on arbitrary bytes.
//!
//! Input: a mode byte, then the body. Mode bit 0: the rest is the protobuf itself, which the
//! harness compresses with snappy first (so mutations reach the protobuf decoder and the
//! conversion, not only the snappy checks); bit 1: a 256-byte decompression limit instead of
//! 1 MiB.
//!
//! Asserts no panic; a body over the limit is refused from its snappy header alone; and nothing
//! is lost or made up on the way to line protocol: every sample is a line, a rejection naming
//! it, or a dropped NaN; each line names its series and sample, in order; and each line parses
//! back as exactly one point or one error, the point holding the sample's value (bit for bit)
//! in the field `value` at its millisecond timestamp.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::ingest::prometheus::{
    decode_write_request, write_request_to_line_protocol, RemoteBodyError,
};
use strata::ingest::Record;
use strata::lineproto::{parse, Precision};
use strata::types::FieldValue;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let body = strata_fuzz::prometheus_body(mode, rest);
    let body = body.as_ref();
    let limit = if mode & 2 != 0 { 256 } else { 1 << 20 };
    let request = match decode_write_request(body, limit) {
        Ok(request) => request,
        Err(RemoteBodyError::TooLarge { bytes, limit: l }) => {
            assert_eq!(l, limit);
            assert!(bytes > limit);
            assert_eq!(snap::raw::decompress_len(body).ok(), Some(bytes));
            return;
        }
        Err(e) => {
            assert!(!e.to_string().is_empty());
            return;
        }
    };
    let samples: usize = request.timeseries.iter().map(|t| t.samples.len()).sum();
    let (converted, dropped_nan) = write_request_to_line_protocol(&request);
    let lines: Vec<&str> = converted.text.lines().collect();
    assert_eq!(lines.len(), converted.origins.len(), "one origin per line");
    assert_eq!(
        lines.len() + converted.rejected.len() + dropped_nan,
        samples,
        "every sample is a line, a rejection or a dropped NaN"
    );
    let mut previous = None;
    for (line, origin) in lines.iter().zip(&converted.origins) {
        let Record::Sample { series, sample } = origin.record else {
            panic!("{origin} in a remote write");
        };
        assert!(previous < Some((series, sample)), "origins in order");
        previous = Some((series, sample));
        let s = &request.timeseries[series].samples[sample];
        assert!(s.value.is_finite());
        let parsed = parse(line, Precision::Millisecond, 0, usize::MAX);
        assert_eq!(
            parsed.points.len() + parsed.errors.len(),
            1,
            "{line:?} is one point or one error"
        );
        if let Some(point) = parsed.points.first() {
            assert_eq!(point.timestamp, s.timestamp.checked_mul(1_000_000));
            assert_eq!(point.fields.len(), 1);
            assert_eq!(&*point.fields[0].0, "value");
            match point.fields[0].1 {
                FieldValue::Float(v) => assert_eq!(v.to_bits(), s.value.to_bits()),
                ref other => panic!("{line:?}: value {other:?}"),
            }
        }
    }
    for rejection in &converted.rejected {
        assert!(rejection.starts_with("series "), "{rejection}");
    }
});
