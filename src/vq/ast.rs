//! The vq syntax tree (VQ.md §3) and its printer back to canonical vq.
//!
//! Names and numbers keep their token (text and position): runtime errors point at them (§5).

use std::fmt;

use super::lexer::Token;

/// A word or number of the source: its text and where it starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    pub text: String,
    pub line: u32,
    pub column: u32,
}

impl From<&Token> for Word {
    fn from(t: &Token) -> Word {
        Word {
            text: t.lexeme.clone(),
            line: t.line,
            column: t.column,
        }
    }
}

impl fmt::Display for Word {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// `SELECT`'s result kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SelectType {
    Data,
    Avg,
    Sum,
    Count,
    Min,
    Max,
}

impl SelectType {
    /// The keyword.
    pub fn keyword(self) -> &'static str {
        match self {
            SelectType::Data => "DATA",
            SelectType::Avg => "AVG",
            SelectType::Sum => "SUM",
            SelectType::Count => "COUNT",
            SelectType::Min => "MIN",
            SelectType::Max => "MAX",
        }
    }
}

/// Which timestamps a SELECT matches.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    All,
    /// Inclusive at both ends.
    Between(Word, Word),
    At(Word),
}

/// A `key=value` pair of a tag list.
pub type Tag = (Word, Word);

/// One statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Statement {
    Select {
        kind: SelectType,
        metric: Word,
        table: Word,
        clause: Clause,
        /// `WHERE` tags (empty when absent).
        filter: Vec<Tag>,
    },
    Put {
        metric: Word,
        timestamp: Word,
        value: Word,
        table: Word,
        tags: Vec<Tag>,
    },
    Delete {
        metric: Word,
        timestamp: Word,
        table: Word,
        tags: Vec<Tag>,
    },
    CreateTable {
        table: Word,
        columns: Vec<Word>,
    },
    DropTable {
        table: Word,
    },
    AddTags {
        columns: Vec<Word>,
        table: Word,
    },
    RemoveTags {
        columns: Vec<Word>,
        table: Word,
    },
    Tables,
}

/// A parsed source: at least one statement.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Program {
    pub statements: Vec<Statement>,
}

fn tag_list(f: &mut fmt::Formatter<'_>, tags: &[Tag]) -> fmt::Result {
    for (i, (k, v)) in tags.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(f, "{sep}{k}={v}")?;
    }
    Ok(())
}

/// ` TAGS k=v, …` when there are tags.
fn optional_tags(f: &mut fmt::Formatter<'_>, tags: &[Tag]) -> fmt::Result {
    if tags.is_empty() {
        return Ok(());
    }
    f.write_str(" TAGS ")?;
    tag_list(f, tags)
}

fn columns(f: &mut fmt::Formatter<'_>, cols: &[Word]) -> fmt::Result {
    for (i, c) in cols.iter().enumerate() {
        let sep = if i == 0 { "" } else { ", " };
        write!(f, "{sep}{c}")?;
    }
    Ok(())
}

/// Canonical vq: `SELECT DATA metric FROM table_name ALL WHERE tag=value;`.
impl fmt::Display for Statement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Statement::Select {
                kind,
                metric,
                table,
                clause,
                filter,
            } => {
                write!(f, "SELECT {} {metric} FROM {table} ", kind.keyword())?;
                match clause {
                    Clause::All => f.write_str("ALL")?,
                    Clause::Between(a, b) => write!(f, "BETWEEN {a} AND {b}")?,
                    Clause::At(t) => write!(f, "AT {t}")?,
                }
                if !filter.is_empty() {
                    f.write_str(" WHERE ")?;
                    tag_list(f, filter)?;
                }
            }
            Statement::Put {
                metric,
                timestamp,
                value,
                table,
                tags,
            } => {
                write!(f, "PUT {metric} {timestamp} {value} INTO {table}")?;
                optional_tags(f, tags)?;
            }
            Statement::Delete {
                metric,
                timestamp,
                table,
                tags,
            } => {
                write!(f, "DELETE {metric} {timestamp} FROM {table}")?;
                optional_tags(f, tags)?;
            }
            Statement::CreateTable { table, columns: c } => {
                write!(f, "CREATE TABLE {table}")?;
                if !c.is_empty() {
                    f.write_str(" TAGS ")?;
                    columns(f, c)?;
                }
            }
            Statement::DropTable { table } => write!(f, "DROP TABLE {table}")?,
            Statement::AddTags { columns: c, table } => {
                f.write_str("ADD TAGS ")?;
                columns(f, c)?;
                write!(f, " TO {table}")?;
            }
            Statement::RemoveTags { columns: c, table } => {
                f.write_str("REMOVE TAGS ")?;
                columns(f, c)?;
                write!(f, " FROM {table}")?;
            }
            Statement::Tables => f.write_str("TABLES")?,
        }
        f.write_str(";")
    }
}

/// One statement a line.
impl fmt::Display for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, s) in self.statements.iter().enumerate() {
            let sep = if i == 0 { "" } else { "\n" };
            write!(f, "{sep}{s}")?;
        }
        Ok(())
    }
}
