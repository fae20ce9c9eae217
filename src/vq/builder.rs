//! A typed query builder over vq tables, in the manner of vkdb's `Table` and
//! `FriendlyQueryBuilder` (VQ.md §9): `db.table("t").query().between(a, b).metric("m")
//! .tag("k", "v").sum()`.
//!
//! Every call builds one vq statement ([`Statement`]), printed by the syntax tree's own printer
//! and run by [`crate::Db::vq_in`], so a builder query is parsed, checked and planned exactly as
//! the same vq text is (the same logical plan as InfluxQL), and fails with the same
//! [`VqError`]s. Names must be vq identifiers
//! (`[A-Za-z_][A-Za-z0-9_]*`); anything else is refused before any text is made.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let db = strata::Db::open(dir.path(), strata::Config::new())?;
//! let weather = db.table("weather");
//! weather.create(&["city"])?;
//! weather.put(1234, "temperature", &[("city", "paris")], 23.5)?;
//! weather.put(1240, "temperature", &[("city", "oslo")], -2.5)?;
//! let paris = weather.query().between(0, 2000).metric("temperature").tag("city", "paris");
//! assert_eq!(paris.sum()?, 23.5);
//! assert_eq!(weather.query().metric("temperature").count()?, 2);
//! let points = weather.query().metric("temperature").at(1240).execute()?;
//! assert_eq!(points[0].tags, vec![("city".to_string(), "oslo".to_string())]);
//! // The same data is a measurement for InfluxQL (database `vq`).
//! let answer = db.query("vq", "SELECT count(temperature) FROM weather")?;
//! assert!(answer.results[0].error.is_none());
//! # Ok(()) }
//! ```

use super::ast::{Clause, SelectType, Statement, Tag, Word};
use super::{VqError, VqOutput, VqPoint, DEFAULT_DATABASE};
use crate::db::Db;

/// A vq table of one database (see [`Db::table`]).
pub struct VqTable<'d> {
    db: &'d Db,
    database: String,
    name: String,
}

/// A read of one metric of a table, built step by step; a terminal (`execute`, `count`,
/// `sum`, `avg`, `min`, `max`) runs it.
pub struct VqQuery<'t> {
    table: &'t VqTable<'t>,
    metric: Option<String>,
    times: Clause,
    tags: Vec<(String, String)>,
}

impl Db {
    /// Table `name` of database `vq` (the one `strata vq` uses).
    pub fn table(&self, name: &str) -> VqTable<'_> {
        self.table_in(DEFAULT_DATABASE, name)
    }

    /// Table `name` of `database`.
    pub fn table_in(&self, database: &str, name: &str) -> VqTable<'_> {
        VqTable {
            db: self,
            database: database.to_string(),
            name: name.to_string(),
        }
    }
}

impl<'d> VqTable<'d> {
    /// The table's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// `CREATE TABLE name [TAGS columns]`.
    pub fn create(&self, tag_columns: &[&str]) -> Result<(), VqError> {
        identifiers(tag_columns.iter().copied().chain([self.name.as_str()]))?;
        self.run(Statement::CreateTable {
            table: word(&self.name),
            columns: tag_columns.iter().map(|c| word(c)).collect(),
        })
        .map(|_| ())
    }

    /// `DROP TABLE name`: the table, its data and its tag columns.
    pub fn drop_table(&self) -> Result<(), VqError> {
        identifiers([self.name.as_str()])?;
        self.run(Statement::DropTable {
            table: word(&self.name),
        })
        .map(|_| ())
    }

    /// `ADD TAGS columns TO name` (refused once the table holds data).
    pub fn add_tag_columns(&self, columns: &[&str]) -> Result<(), VqError> {
        identifiers(columns.iter().copied().chain([self.name.as_str()]))?;
        self.run(Statement::AddTags {
            columns: columns.iter().map(|c| word(c)).collect(),
            table: word(&self.name),
        })
        .map(|_| ())
    }

    /// `REMOVE TAGS columns FROM name` (refused once the table holds data).
    pub fn remove_tag_columns(&self, columns: &[&str]) -> Result<(), VqError> {
        identifiers(columns.iter().copied().chain([self.name.as_str()]))?;
        self.run(Statement::RemoveTags {
            columns: columns.iter().map(|c| word(c)).collect(),
            table: word(&self.name),
        })
        .map(|_| ())
    }

    /// `PUT metric timestamp value INTO name TAGS …`: write (or overwrite) one point. The
    /// value must be finite.
    pub fn put(
        &self,
        timestamp: u64,
        metric: &str,
        tags: &[(&str, &str)],
        value: f64,
    ) -> Result<(), VqError> {
        identifiers(tag_texts(tags).chain([metric, self.name.as_str()]))?;
        if !value.is_finite() {
            return Err(VqError::Runtime {
                line: 1,
                column: 1,
                message: "Invalid value.".to_string(),
            });
        }
        self.run(Statement::Put {
            metric: word(metric),
            timestamp: word(&timestamp.to_string()),
            value: word(&value.to_string()),
            table: word(&self.name),
            tags: tag_words(tags),
        })
        .map(|_| ())
    }

    /// `DELETE metric timestamp FROM name TAGS …`: remove the point with exactly this identity
    /// (absent: nothing happens).
    pub fn remove(
        &self,
        timestamp: u64,
        metric: &str,
        tags: &[(&str, &str)],
    ) -> Result<(), VqError> {
        identifiers(tag_texts(tags).chain([metric, self.name.as_str()]))?;
        self.run(Statement::Delete {
            metric: word(metric),
            timestamp: word(&timestamp.to_string()),
            table: word(&self.name),
            tags: tag_words(tags),
        })
        .map(|_| ())
    }

    /// A read of this table (every time, until `between` or `at` narrow it).
    pub fn query(&self) -> VqQuery<'_> {
        VqQuery {
            table: self,
            metric: None,
            times: Clause::All,
            tags: Vec::new(),
        }
    }

    /// Run one statement as the vq text the syntax tree prints for it: its output. Every name
    /// in it was checked to be an identifier ([`identifiers`]), so the text parses back to
    /// exactly this statement.
    fn run(&self, statement: Statement) -> Result<VqOutput, VqError> {
        let mut outputs = self.db.vq_in(&self.database, &statement.to_string())?;
        Ok(outputs.pop().unwrap_or(VqOutput::None))
    }
}

impl VqQuery<'_> {
    /// Only the points of `metric` (required before a terminal).
    pub fn metric(mut self, metric: &str) -> Self {
        self.metric = Some(metric.to_string());
        self
    }

    /// Only the points with `from <= timestamp <= to` (seconds).
    pub fn between(mut self, from: u64, to: u64) -> Self {
        self.times = Clause::Between(word(&from.to_string()), word(&to.to_string()));
        self
    }

    /// Only the points at `timestamp` (seconds).
    pub fn at(mut self, timestamp: u64) -> Self {
        self.times = Clause::At(word(&timestamp.to_string()));
        self
    }

    /// Only the points whose tags include `key=value` (may be given several times).
    pub fn tag(mut self, key: &str, value: &str) -> Self {
        self.tags.push((key.to_string(), value.to_string()));
        self
    }

    /// The matching points, in vq order (timestamp, metric, tag set).
    pub fn execute(&self) -> Result<Vec<VqPoint>, VqError> {
        match self.run(SelectType::Data)? {
            VqOutput::Points(points) => Ok(points),
            other => Err(unexpected(&other)),
        }
    }

    /// How many points match.
    pub fn count(&self) -> Result<u64, VqError> {
        match self.run(SelectType::Count)? {
            VqOutput::Count(n) => Ok(n),
            other => Err(unexpected(&other)),
        }
    }

    /// The sum of the matching values (an error when none match).
    pub fn sum(&self) -> Result<f64, VqError> {
        self.float(SelectType::Sum)
    }

    /// The mean of the matching values (an error when none match).
    pub fn avg(&self) -> Result<f64, VqError> {
        self.float(SelectType::Avg)
    }

    /// The smallest matching value (an error when none match).
    pub fn min(&self) -> Result<f64, VqError> {
        self.float(SelectType::Min)
    }

    /// The largest matching value (an error when none match).
    pub fn max(&self) -> Result<f64, VqError> {
        self.float(SelectType::Max)
    }

    fn float(&self, kind: SelectType) -> Result<f64, VqError> {
        match self.run(kind)? {
            VqOutput::Float(x) => Ok(x),
            other => Err(unexpected(&other)),
        }
    }

    /// Run this query as `SELECT kind …`.
    fn run(&self, kind: SelectType) -> Result<VqOutput, VqError> {
        let metric = self.metric.as_deref().unwrap_or_default();
        let tags: Vec<(&str, &str)> = self
            .tags
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        identifiers(tag_texts(&tags).chain([metric, self.table.name.as_str()]))?;
        self.table.run(Statement::Select {
            kind,
            metric: word(metric),
            table: word(&self.table.name),
            clause: self.times.clone(),
            filter: tag_words(&tags),
        })
    }
}

/// A word of a statement the builder makes (printed and parsed again, so its position is the
/// parser's to give).
fn word(text: &str) -> Word {
    Word {
        text: text.to_string(),
        line: 0,
        column: 0,
    }
}

/// The syntax tree's `key=value` pairs.
fn tag_words(tags: &[(&str, &str)]) -> Vec<Tag> {
    tags.iter().map(|(k, v)| (word(k), word(v))).collect()
}

/// Every key and value of `tags`.
fn tag_texts<'a>(tags: &'a [(&'a str, &'a str)]) -> impl Iterator<Item = &'a str> + 'a {
    tags.iter().flat_map(|(k, v)| [*k, *v])
}

/// Refuse a name that is not a vq identifier (`[A-Za-z_][A-Za-z0-9_]*`): spliced into the
/// statement's text it would make another statement.
fn identifiers<'a>(names: impl IntoIterator<Item = &'a str>) -> Result<(), VqError> {
    for name in names {
        let mut chars = name.chars();
        let first_ok = chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        if !first_ok || !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(VqError::Runtime {
                line: 1,
                column: 1,
                message: format!(
                    "'{name}' is not a vq identifier: use letters, digits and '_', not starting with a digit."
                ),
            });
        }
    }
    Ok(())
}

/// A statement answered with the wrong kind of output (not reachable: each statement kind has
/// one output kind).
fn unexpected(output: &VqOutput) -> VqError {
    VqError::Runtime {
        line: 1,
        column: 1,
        message: format!("unexpected answer {output:?}"),
    }
}

#[cfg(test)]
mod tests {
    use crate::{Config, Db};

    /// The builder's statements are the vq text they stand for: the same answers and the same
    /// errors as `Db::vq` gives for that text, and names that are not identifiers are refused
    /// by the parser, not spliced into another statement.
    #[test]
    fn builder_answers_as_the_vq_text() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::open(dir.path(), Config::new()).unwrap_or_else(|e| panic!("{e}"));
        let t = db.table("t");
        t.create(&["k"]).unwrap_or_else(|e| panic!("{e}"));
        t.put(1, "m", &[("k", "a")], 1.5)
            .unwrap_or_else(|e| panic!("{e}"));
        t.put(2, "m", &[("k", "b")], 2.5)
            .unwrap_or_else(|e| panic!("{e}"));
        t.put(3, "m", &[], 10.0).unwrap_or_else(|e| panic!("{e}"));
        let q = || t.query().metric("m");
        assert_eq!(q().count().ok(), Some(3));
        assert_eq!(q().between(1, 2).sum().ok(), Some(4.0));
        assert_eq!(q().tag("k", "b").max().ok(), Some(2.5));
        assert_eq!(q().min().ok(), Some(1.5));
        assert_eq!(q().avg().ok(), Some(14.0 / 3.0));
        assert_eq!(q().at(3).execute().map(|p| p.len()).ok(), Some(1));
        let text = db.vq("SELECT SUM m FROM t BETWEEN 1 AND 2;");
        assert_eq!(
            text.map(|o| crate::vq::render(&o)).ok().as_deref(),
            Some("4.000000\n")
        );
        // Errors are vq's.
        let empty = q().between(100, 200).sum().map_err(|e| e.to_string());
        assert_eq!(
            empty,
            Err("[line 1:col 12] Runtime error: Cannot aggregate on empty range.".to_string())
        );
        let missing = db.table("nope").query().metric("m").count();
        assert!(matches!(missing, Err(crate::vq::VqError::Runtime { .. })));
        assert!(t.add_tag_columns(&["j"]).is_err(), "populated");
        // Not identifiers: refused before any text is made, nothing written.
        assert!(t.put(4, "m; DROP TABLE t", &[], 1.0).is_err());
        assert!(q().tag("k", "a, k=b").count().is_err());
        assert!(t.query().count().is_err(), "no metric");
        assert!(t.put(4, "m", &[], f64::NAN).is_err());
        assert_eq!(q().count().ok(), Some(3));
        t.remove(3, "m", &[]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(q().count().ok(), Some(2));
        t.drop_table().unwrap_or_else(|e| panic!("{e}"));
        assert!(t.query().metric("m").count().is_err());
    }
}
