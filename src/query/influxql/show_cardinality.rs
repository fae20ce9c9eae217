//! The AST of InfluxDB 1.x's cardinality statements: `SHOW SERIES`, `SHOW MEASUREMENT`,
//! `SHOW TAG KEY`, `SHOW TAG VALUES` and `SHOW FIELD KEY` followed by `[EXACT] CARDINALITY`.

use std::fmt;

use super::ast::{write_from, write_limits, write_list, write_on, write_where};
use super::{Dimension, Expr, Source, TagKeyFilter};

/// What a cardinality statement counts.
#[derive(Clone, Debug, PartialEq)]
pub enum CardinalityOf {
    /// Series (per measurement).
    Series,
    /// Measurements (of the whole database).
    Measurements,
    /// Tag keys (per measurement).
    TagKeys,
    /// The values of the tag keys `WITH KEY` selects (per measurement).
    TagValues(TagKeyFilter),
    /// Field keys (per measurement).
    FieldKeys,
}

/// `SHOW {SERIES | MEASUREMENT | TAG KEY | TAG VALUES | FIELD KEY} [EXACT] CARDINALITY [ON db]
/// [FROM ...] [WITH KEY ...] [WHERE] [GROUP BY ...] [LIMIT] [OFFSET]` (`WITH KEY` for, and
/// only for, `TAG VALUES`).
#[derive(Clone, Debug, PartialEq)]
pub struct ShowCardinalityStatement {
    pub of: CardinalityOf,
    /// `EXACT`: counted. Without it, `SHOW SERIES` and `SHOW MEASUREMENT` with nothing but `ON`
    /// answer a `cardinality estimation` (strata's is exact too); anything else is counted.
    pub exact: bool,
    pub database: Option<String>,
    pub sources: Vec<Source>,
    pub condition: Option<Expr>,
    pub dimensions: Vec<Dimension>,
    pub limit: Option<u64>,
    pub offset: Option<u64>,
}

impl ShowCardinalityStatement {
    /// The statement's words before `[EXACT] CARDINALITY`.
    pub fn prefix(&self) -> &'static str {
        match self.of {
            CardinalityOf::Series => "SHOW SERIES",
            CardinalityOf::Measurements => "SHOW MEASUREMENT",
            CardinalityOf::TagKeys => "SHOW TAG KEY",
            CardinalityOf::TagValues(_) => "SHOW TAG VALUES",
            CardinalityOf::FieldKeys => "SHOW FIELD KEY",
        }
    }
}

impl fmt::Display for ShowCardinalityStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.prefix())?;
        if self.exact {
            f.write_str(" EXACT")?;
        }
        f.write_str(" CARDINALITY")?;
        write_on(f, &self.database)?;
        write_from(f, &self.sources)?;
        if let CardinalityOf::TagValues(key) = &self.of {
            write!(f, " WITH KEY {key}")?;
        }
        write_where(f, &self.condition)?;
        if !self.dimensions.is_empty() {
            f.write_str(" GROUP BY ")?;
            write_list(f, &self.dimensions)?;
        }
        write_limits(f, self.limit, self.offset)
    }
}
