//! Writing a body: line protocol parsed and written to a database, its bad lines reported by
//! line number, or the lines made from JSON or CSV records ([`super::body`]) reported by the
//! record they came from.

use crate::database::{now_ns, Database, WriteOutcome};
use crate::db::{Databases, WriteSummary};
use crate::error::{Error, Result};
use crate::lineproto::{self, Precision};

use super::body::RecordOrigin;

/// Where the lines of a body came from.
pub(crate) enum Records<'a> {
    /// The body is line protocol: a bad line is named by its line number.
    LineProtocol,
    /// The lines were made from records: line `i + 1` from `origins[i]`; `rejected` are the
    /// records that made no line, already named.
    Converted {
        origins: &'a [RecordOrigin],
        rejected: &'a [String],
    },
}

impl Records<'_> {
    /// The name of line `line` (1-based) of the text in messages.
    fn name(&self, line: usize) -> String {
        match self {
            Records::LineProtocol => format!("line {line}"),
            Records::Converted { origins, .. } => match line.checked_sub(1) {
                Some(i) if i < origins.len() => origins[i].to_string(),
                _ => format!("line {line}"),
            },
        }
    }
}

/// Parse `text` (line protocol, timestamps in `precision`) and write its points to `database`
/// (looked up once, by the caller, before anything was converted). Good
/// lines are written even when others are bad; then the result is [`Error::PartialWrite`]
/// naming every bad line (by `records`), the records that made no line first.
pub(crate) fn write_body(
    dbs: &Databases,
    database: &Database,
    text: &str,
    precision: Precision,
    records: &Records<'_>,
) -> Result<WriteSummary> {
    let now = now_ns();
    let default_ts = now - now.rem_euclid(precision_nanos(precision));
    let mut parsed = lineproto::parse(
        text,
        precision,
        default_ts,
        dbs.config().get_max_line_bytes(),
    );
    let mut messages: Vec<String> = match records {
        Records::LineProtocol => Vec::new(),
        Records::Converted { rejected, .. } => rejected.to_vec(),
    };
    let mut dropped = messages.len();
    messages.extend(parsed.errors.iter().map(|e| match records {
        Records::LineProtocol => e.to_string(),
        Records::Converted { .. } => format!(
            "{}: unable to parse '{}': {}",
            records.name(e.line),
            e.text,
            e.message
        ),
    }));
    dropped += parsed.errors.len();
    let (outcome, rejected): (WriteOutcome, _) =
        database.write_points_taking_fields(&mut parsed.points, default_ts)?;
    // Points dropped by a cardinality limit are reported as InfluxDB 1.x does: the reason
    // of the first, once, and their number in `dropped`.
    let mut limit = None;
    for (i, e) in &rejected {
        if let Error::CardinalityLimit(l) = e {
            limit.get_or_insert(l);
            continue;
        }
        let line = parsed.lines.get(*i).copied().unwrap_or(0);
        messages.push(format!("{}: {e}", records.name(line)));
    }
    if let Some(l) = limit {
        messages.push(l.to_string());
    }
    dropped += rejected.len();
    if dropped > 0 {
        return Err(Error::PartialWrite {
            message: messages.join("\n"),
            dropped,
        });
    }
    Ok(WriteSummary {
        points: outcome.points,
        lines: parsed.points.len(),
    })
}

fn precision_nanos(p: Precision) -> i64 {
    p.to_nanos(1).unwrap_or(1).max(1)
}
