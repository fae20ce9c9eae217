//! The vq parser (`strata::vq::parse`) on arbitrary text: the input as is when it is UTF-8,
//! else made UTF-8 lossily.
//!
//! Asserts no panic; an error is a parse error (never a runtime one) at a 1-based line and
//! column inside the text (or just after it); a program that parses prints as canonical vq
//! that parses to the same number of statements, and printing is a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strata::vq::{parse, VqError};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match parse(&text) {
        Ok(program) => {
            let printed = program.to_string();
            let reparsed = match parse(&printed) {
                Ok(p) => p,
                Err(e) => panic!("{text:?} printed as {printed:?}, which does not parse: {e}"),
            };
            assert_eq!(reparsed.statements.len(), program.statements.len());
            assert_eq!(
                reparsed.to_string(),
                printed,
                "printing is not a fixed point"
            );
        }
        Err(VqError::Parse { line, column, .. }) => {
            let lines = text.split('\n').count() as u32;
            assert!(
                line >= 1 && line <= lines && column >= 1,
                "error at line {line} column {column} of {lines} lines"
            );
        }
        Err(e) => panic!("parse failed with a runtime error: {e}"),
    }
});
