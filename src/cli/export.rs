//! `strata export`: a database, a measurement or a time range as line protocol (which
//! `strata import` reads back) or as vctsdb's CSV. Read series by series, a page of rows at a
//! time: memory holds one page, never the database.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use serde_json::Value;
use strata::query::Epoch;

use super::format::{cell_text, Answer};
use super::target::{Target, TargetArgs};
use super::{quote_ident, quote_string, CliError, Result};
use strata::ingest::{escape_key, float_text, quote_string_field};

/// InfluxDB's smallest and largest query times.
const MIN_TIME: i64 = -9_223_372_036_854_775_806;
const MAX_TIME: i64 = 9_223_372_036_854_775_806;

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// Line protocol, every field with its type (integers `i`, unsigned `u`, strings quoted).
    Lp,
    /// vctsdb's CSV: timestamp,value,series and one column per tag key; one numeric field
    /// (`--field`, default `value`).
    Csv,
}

/// `strata export` arguments.
#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The database.
    #[arg(long)]
    pub db: String,
    /// Only this measurement [default: all].
    #[arg(long)]
    pub measurement: Option<String>,
    /// First time exported, inclusive (RFC3339, or integer nanoseconds).
    #[arg(long)]
    pub start: Option<String>,
    /// Last time exported, inclusive (RFC3339, or integer nanoseconds).
    #[arg(long)]
    pub end: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = ExportFormat::Lp)]
    pub format: ExportFormat,
    /// Write here instead of standard output.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// CSV: the numeric field exported as the value column.
    #[arg(long, default_value = "value")]
    pub field: String,
    /// Rows read per query, and series listed per `SHOW SERIES` (memory holds one page).
    #[arg(long, default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(1..))]
    pub page: u64,
    #[command(flatten)]
    pub target: TargetArgs,
}

/// Parse `--start`/`--end`: integer nanoseconds or RFC3339.
pub fn parse_time(s: &str) -> Result<i64> {
    s.trim()
        .parse::<i64>()
        .ok()
        .or_else(|| strata::query::result::parse_time_string(s.trim()))
        .ok_or_else(|| {
            CliError::Usage(format!(
                "{s:?} is not a time: use RFC3339 (2024-01-02T03:04:05Z) or integer nanoseconds"
            ))
        })
}

/// A field value as line protocol writes it, from its JSON cell and declared type.
pub fn field_text(v: &Value, field_type: &str) -> Option<String> {
    match (v, field_type) {
        (Value::Null, _) => None,
        (Value::Number(n), "integer") => Some(format!("{n}i")),
        (Value::Number(n), "unsigned") => Some(format!("{n}u")),
        (Value::Number(n), _) => n.as_f64().map(float_text),
        (Value::Bool(b), _) => Some(b.to_string()),
        (Value::String(s), _) => Some(quote_string_field(s)),
        _ => None,
    }
}

struct Measurement {
    name: String,
    /// (field, type) as `SHOW FIELD KEYS` gives them.
    fields: Vec<(String, String)>,
    tag_keys: Vec<String>,
}

struct Exporter<'a> {
    target: &'a Target,
    args: &'a ExportArgs,
    start: i64,
    end: i64,
    out: Box<dyn Write>,
    lines: u64,
    series: u64,
    /// CSV: the tag columns.
    csv_tags: Vec<String>,
}

/// Export what the arguments select.
pub fn run(a: &ExportArgs) -> Result<()> {
    let start = a
        .start
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(MIN_TIME);
    let end = a
        .end
        .as_deref()
        .map(parse_time)
        .transpose()?
        .unwrap_or(MAX_TIME);
    let target = Target::open(&a.target)?;
    let out: Box<dyn Write> = match &a.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p)
                .map_err(|e| CliError::io(format!("create {}", p.display()), e))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout())),
    };
    let mut ex = Exporter {
        target: &target,
        args: a,
        start,
        end,
        out,
        lines: 0,
        series: 0,
        csv_tags: Vec::new(),
    };
    let r = ex.export();
    let (lines, series) = (ex.lines, ex.series);
    drop(ex);
    let closed = target.close();
    r?;
    closed?;
    eprintln!("exported {lines} points of {series} series from {}", a.db);
    Ok(())
}

impl Exporter<'_> {
    fn query(&self, q: &str) -> Result<Answer> {
        let a = self.target.query(&self.args.db, q, Epoch::Nanosecond)?;
        a.check()?;
        Ok(a)
    }

    /// The first column of every row of every series of the first statement.
    fn column(&self, q: &str, col: usize) -> Result<Vec<String>> {
        let a = self.query(q)?;
        Ok(a.results
            .iter()
            .flat_map(|r| &r.series)
            .flat_map(|s| &s.values)
            .filter_map(|row| row.get(col).map(cell_text))
            .collect())
    }

    fn export(&mut self) -> Result<()> {
        let names = match &self.args.measurement {
            Some(m) => vec![m.clone()],
            None => self.column("SHOW MEASUREMENTS", 0)?,
        };
        let mut ms = Vec::new();
        for name in names {
            let from = quote_ident(&name);
            let keys = self.column(&format!("SHOW FIELD KEYS FROM {from}"), 0)?;
            let types = self.column(&format!("SHOW FIELD KEYS FROM {from}"), 1)?;
            let tag_keys = self.column(&format!("SHOW TAG KEYS FROM {from}"), 0)?;
            ms.push(Measurement {
                name,
                fields: keys.into_iter().zip(types).collect(),
                tag_keys,
            });
        }
        if self.args.format == ExportFormat::Csv {
            let tags: BTreeSet<&String> = ms.iter().flat_map(|m| &m.tag_keys).collect();
            self.csv_tags = tags.into_iter().cloned().collect();
            let mut header = vec!["timestamp".to_string(), "value".into(), "series".into()];
            header.extend(self.csv_tags.iter().cloned());
            self.csv_row(&header)?;
        }
        for m in &ms {
            self.measurement(m)?;
        }
        self.out
            .flush()
            .map_err(|e| CliError::io("write the export", e))
    }

    fn measurement(&mut self, m: &Measurement) -> Result<()> {
        let fields: Vec<&(String, String)> = match self.args.format {
            ExportFormat::Lp => m.fields.iter().collect(),
            ExportFormat::Csv => m
                .fields
                .iter()
                .filter(|(f, t)| {
                    *f == self.args.field && matches!(t.as_str(), "float" | "integer" | "unsigned")
                })
                .collect(),
        };
        if fields.is_empty() {
            return Ok(());
        }
        let (mut offset, page) = (0, self.args.page);
        loop {
            let keys = self.column(
                &format!(
                    "SHOW SERIES FROM {} LIMIT {page} OFFSET {offset}",
                    quote_ident(&m.name)
                ),
                0,
            )?;
            for key in &keys {
                let (_, tags) = strata::types::parse_series_key(key);
                self.series(m, &tags, &fields)?;
            }
            if (keys.len() as u64) < page {
                return Ok(());
            }
            offset += page;
        }
    }

    /// One series, a page of rows at a time.
    fn series(
        &mut self,
        m: &Measurement,
        tags: &[(String, String)],
        fields: &[&(String, String)],
    ) -> Result<()> {
        self.series += 1;
        let mut cond: Vec<String> = m
            .tag_keys
            .iter()
            .map(|k| {
                let v = tags
                    .iter()
                    .find(|(t, _)| t == k)
                    .map_or("", |(_, v)| v.as_str());
                format!("{} = {}", quote_ident(k), quote_string(v))
            })
            .collect();
        let select: Vec<String> = fields.iter().map(|(f, _)| quote_ident(f)).collect();
        let prefix = strata::types::series_key(&m.name, tags);
        let series_name = m.name.clone();
        let mut cursor = self.start;
        cond.push(String::new());
        loop {
            let last = cond.len() - 1;
            cond[last] = format!("time >= {cursor} AND time <= {}", self.end);
            let q = format!(
                "SELECT {} FROM {} WHERE {} LIMIT {}",
                select.join(", "),
                quote_ident(&m.name),
                cond.join(" AND "),
                self.args.page
            );
            let a = self.query(&q)?;
            let rows: Vec<&Vec<Value>> = a
                .results
                .iter()
                .flat_map(|r| &r.series)
                .flat_map(|s| &s.values)
                .collect();
            let mut last_time = None;
            for row in &rows {
                let Some(t) = row.first().and_then(Value::as_i64) else {
                    continue;
                };
                last_time = Some(t);
                match self.args.format {
                    ExportFormat::Lp => {
                        let parts: Vec<String> = fields
                            .iter()
                            .zip(row.iter().skip(1))
                            .filter_map(|((f, ty), v)| {
                                field_text(v, ty).map(|text| format!("{}={text}", escape_key(f)))
                            })
                            .collect();
                        if parts.is_empty() {
                            continue;
                        }
                        writeln!(self.out, "{prefix} {} {t}", parts.join(","))
                            .map_err(|e| CliError::io("write the export", e))?;
                    }
                    ExportFormat::Csv => {
                        let Some(v) = row.get(1).and_then(Value::as_f64) else {
                            continue;
                        };
                        let mut rec = vec![t.to_string(), float_text(v), series_name.clone()];
                        for k in &self.csv_tags {
                            rec.push(
                                tags.iter()
                                    .find(|(t, _)| t == k)
                                    .map_or(String::new(), |(_, v)| v.clone()),
                            );
                        }
                        self.csv_row(&rec)?;
                    }
                }
                self.lines += 1;
            }
            match last_time {
                Some(t) if (rows.len() as u64) >= self.args.page && t < self.end => cursor = t + 1,
                _ => return Ok(()),
            }
        }
    }

    fn csv_row(&mut self, rec: &[String]) -> Result<()> {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(rec)
            .map_err(|e| CliError::Usage(format!("write CSV: {e}")))?;
        let bytes = w
            .into_inner()
            .map_err(|e| CliError::Usage(format!("write CSV: {e}")))?;
        self.out
            .write_all(&bytes)
            .map_err(|e| CliError::io("write the export", e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_keep_their_types() {
        assert_eq!(
            field_text(&serde_json::json!(3), "integer"),
            Some("3i".into())
        );
        assert_eq!(
            field_text(&serde_json::json!(3), "float"),
            Some("3.0".into())
        );
        assert_eq!(
            field_text(&serde_json::json!(0.1), "float"),
            Some("0.1".into())
        );
        assert_eq!(
            field_text(&serde_json::json!(7), "unsigned"),
            Some("7u".into())
        );
        assert_eq!(
            field_text(&serde_json::json!("a\"b"), "string"),
            Some(r#""a\"b""#.into())
        );
        assert_eq!(
            field_text(&serde_json::json!(true), "boolean"),
            Some("true".into())
        );
        assert_eq!(field_text(&Value::Null, "float"), None);
    }

    #[test]
    fn times_parse() {
        assert_eq!(parse_time("5").expect("ns"), 5);
        assert_eq!(
            parse_time("1970-01-01T00:00:01Z").expect("rfc3339"),
            1_000_000_000
        );
        assert!(parse_time("yesterday").is_err());
    }
}
