//! Query languages: lexers, parsers, planner, executor.

pub mod influxql;
