//! InfluxQL front end: lexer, AST, parser.
//!
//! [`parse`] turns query text into a list of [`Statement`]s. The tree is described in
//! [`ast`]; its `Display` prints InfluxQL that parses back to the same tree.
//!
//! ```
//! use strata::query::influxql::{parse, Statement, Expr, BinaryOp};
//! let stmts = parse("SELECT mean(usage) FROM cpu WHERE host = 'a' GROUP BY time(1m)").unwrap();
//! let Statement::Select(s) = &stmts[0] else { panic!() };
//! assert_eq!(s.fields[0].column_name(), "mean");
//! assert!(matches!(s.condition, Some(Expr::Binary { op: BinaryOp::Eq, .. })));
//! assert_eq!(s.group_by_time(), Some((60_000_000_000, None)));
//! ```
//!
//! The language is InfluxDB 1.x's InfluxQL (keywords case-insensitive, identifiers
//! case-sensitive, `--` and `/* */` comments) plus a prefix `NOT`. Errors are
//! [`crate::Error::Parse`] with InfluxDB's wording, e.g.
//! `error parsing query: found FROM, expected identifier, string, number, bool at line 1, char 8`.

pub mod ast;
pub mod lexer;
pub mod parser;
mod regex_literal;
mod show_cardinality;
mod statement;

#[cfg(test)]
mod tests;

pub use ast::{
    format_duration, parse_duration, quote_ident, quote_string, BinaryOp, DataType, Dimension,
    Expr, Field, Fill, Measurement, MeasurementName, Password, Privilege, Regex,
    RetentionPolicySpec, SelectStatement, ShowKeysStatement, ShowMeasurementsStatement,
    ShowTagValuesStatement, Source, Statement, TagKeyFilter, TimeOffset,
};
pub use lexer::{Lexer, Pos, Token, TokenKind};
pub use parser::{parse, parse_expr, parse_statement};
pub use show_cardinality::{CardinalityOf, ShowCardinalityStatement};
