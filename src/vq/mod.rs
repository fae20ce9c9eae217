//! vq, the query language of vkdb (VQ.md in the shared folder is its contract): a lexer with
//! line:column tokens ([`lexer`]), a recursive-descent parser to a syntax tree ([`parser`],
//! [`ast`], printed back as canonical vq), and an interpreter ([`exec`]) that keeps a vq
//! table's tag columns in the database's catalog (the manifest) and runs every SELECT as the
//! same logical plan InfluxQL builds ([`plan`]), through the same executor.
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let dir = tempfile::tempdir()?;
//! let db = strata::Db::open(dir.path(), strata::Config::new())?;
//! let out = db.vq("CREATE TABLE weather TAGS city;\
//!                  PUT temperature 1234 23.5 INTO weather TAGS city=paris;\
//!                  SELECT DATA temperature FROM weather ALL;\
//!                  SELECT AVG temperature FROM weather BETWEEN 0 AND 2000 WHERE city=paris;")?;
//! assert_eq!(
//!     strata::vq::render(&out),
//!     "[[{00000000000000001234}{temperature}{city:paris}|23.5]]\n23.500000\n"
//! );
//! let err = db.vq("SELECT DATA temperature FROM nope ALL;").unwrap_err();
//! assert_eq!(err.to_string(), "[line 1:col 13] Runtime error: Table 'nope' does not exist.");
//! # Ok(()) }
//! ```

pub mod ast;
mod builder;
pub mod cli;
pub mod client;
mod error;
pub mod exec;
pub mod format;
pub mod lexer;
pub mod parser;
pub mod plan;

pub use builder::{VqQuery, VqTable};
pub use error::VqError;
pub use lexer::keywords;
pub use parser::parse;

/// The database `strata vq` and [`crate::Db::vq`] use unless told otherwise.
pub const DEFAULT_DATABASE: &str = "vq";

/// One point of a DATA result.
#[derive(Clone, Debug, PartialEq)]
pub struct VqPoint {
    /// Seconds.
    pub timestamp: u64,
    pub metric: String,
    /// Sorted by key.
    pub tags: Vec<(String, String)>,
    pub value: f64,
}

/// What one statement answered (VQ.md §7).
#[derive(Clone, Debug, PartialEq)]
pub enum VqOutput {
    /// `SELECT DATA`: the matching points in vq order (timestamp, metric, tag set).
    Points(Vec<VqPoint>),
    /// `SELECT AVG/SUM/MIN/MAX`.
    Float(f64),
    /// `SELECT COUNT`.
    Count(u64),
    /// `TABLES`: the table names, sorted by bytes.
    Tables(Vec<String>),
    /// Statements without a result (CREATE, DROP, ADD, REMOVE, PUT, DELETE).
    None,
}

impl VqOutput {
    /// The output line of a statement that has a result (VQ.md §6.1), without its newline.
    pub fn line(&self) -> Option<String> {
        let mut line = String::new();
        matches!(self.write_line(&mut line), Ok(true)).then_some(line)
    }

    /// Write [`VqOutput::line`] to `out` (a counter sizes it before it is made); `false` for a
    /// statement without a result, which writes nothing.
    pub fn write_line(&self, out: &mut impl std::fmt::Write) -> Result<bool, std::fmt::Error> {
        match self {
            VqOutput::Points(p) => format::write_points(out, p)?,
            VqOutput::Float(v) => out.write_str(&format::format_f(*v))?,
            VqOutput::Count(n) => write!(out, "{n}")?,
            VqOutput::Tables(t) => {
                for (i, name) in t.iter().enumerate() {
                    if i > 0 {
                        out.write_char(' ')?;
                    }
                    out.write_str(name)?;
                }
            }
            VqOutput::None => return Ok(false),
        }
        Ok(true)
    }
}

/// The text `strata vq` prints for these outputs: one line per statement with a result.
///
/// ```
/// use strata::vq::{render, VqOutput};
/// let out = [VqOutput::None, VqOutput::Count(3), VqOutput::Tables(vec![]), VqOutput::Float(2.5)];
/// assert_eq!(render(&out), "3\n\n2.500000\n");
/// ```
pub fn render(outputs: &[VqOutput]) -> String {
    let mut s = String::new();
    let _ = write_rendered(&mut s, outputs);
    s
}

/// [`render`] into any writer, one line after another, with no copy of a line.
pub fn write_rendered(out: &mut impl std::fmt::Write, outputs: &[VqOutput]) -> std::fmt::Result {
    for output in outputs {
        if output.write_line(out)? {
            out.write_char('\n')?;
        }
    }
    Ok(())
}
