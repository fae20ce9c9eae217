//! Prometheus remote read bodies (`strata::query::prometheus_read`, what `/api/v1/prom/read`
//! runs before the query engine) on arbitrary bytes.
//!
//! Input: a mode byte, then the body. Mode bit 0: the rest is the protobuf itself, which the
//! harness compresses with snappy first (so mutations reach the protobuf decoder and the
//! translation, not only the snappy checks).
//!
//! Asserts no panic, and that every query of a request that decodes becomes InfluxQL that
//! parses as one SELECT of the `value` field grouped by every tag (or nothing, when no
//! measurement matches its `__name__` matchers, or an error naming a bad regex or match type):
//! the text made from label names, values and regexes cannot inject InfluxQL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::ingest::prometheus::decode_snappy_protobuf;
use strata::query::influxql::{parse_statement, Dimension, Statement};
use strata::query::prometheus_read::{query_text, ReadRequest};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let body = strata_fuzz::prometheus_body(mode, rest);
    let body = body.as_ref();
    let Ok(request) = decode_snappy_protobuf::<ReadRequest>(body, 1 << 20, "ReadRequest") else {
        return;
    };
    let measurements: Vec<String> = ["up", "cpu load", "a\"b", "x,y", "/re/"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for query in &request.queries {
        let text = match query_text(query, &measurements) {
            Ok(Some(text)) => text,
            Ok(None) => continue,
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.contains("not a regex") || message.contains("unknown match type"),
                    "{message}"
                );
                continue;
            }
        };
        let statement = match parse_statement(&text) {
            Ok(statement) => statement,
            // A regex literal longer than a query may hold is refused by the parser.
            Err(e) if e.to_string().contains("regex literals hold more than") => continue,
            Err(e) => panic!("{text:?} does not parse: {e}"),
        };
        let Statement::Select(select) = statement else {
            panic!("{text:?} is not a SELECT");
        };
        assert_eq!(select.fields.len(), 1, "{text:?}");
        assert_eq!(select.fields[0].column_name(), "value", "{text:?}");
        assert_eq!(select.dimensions, vec![Dimension::Wildcard], "{text:?}");
        assert!(!select.sources.is_empty(), "{text:?}");
    }
});
