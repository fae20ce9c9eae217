//! Benchmark tooling for `strata bench`.

pub mod tsbs;
