//! The InfluxQL parser (`strata::query::influxql::parse`) on arbitrary text: the input as is
//! when it is UTF-8, else made UTF-8 lossily.
//!
//! Asserts no panic; a parse error has a 1-based line and column; and every statement that
//! parses prints (its `Display`) as InfluxQL that parses back to the same tree, and whose
//! printing is a fixed point (what the `ast` module promises).
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::query::influxql::{parse, parse_statement};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse(&text) {
        Ok(statements) => {
            for stmt in statements {
                let printed = stmt.to_string();
                let reparsed = match parse_statement(&printed) {
                    Ok(s) => s,
                    Err(e) => panic!("{text:?} parsed as {stmt:?}, printed as {printed:?}, which does not parse: {e}"),
                };
                assert_eq!(
                    reparsed, stmt,
                    "{text:?} printed as {printed:?} parses back to another tree"
                );
                assert_eq!(
                    reparsed.to_string(),
                    printed,
                    "printing is not a fixed point"
                );
            }
        }
        Err(strata::Error::Parse { line, column, .. }) => {
            assert!(
                line >= 1 && column >= 1,
                "error at line {line} column {column}"
            );
        }
        Err(e) => panic!("parse failed with a non-parse error: {e}"),
    }
});
