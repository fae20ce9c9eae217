//! Query answers as the command line prints them: aligned tables (like the `influx` CLI's
//! column output), CSV, or InfluxDB's JSON as the daemon sends it.

use std::io::Write;

use serde_json::Value;

use super::{CliError, Result};

/// How answers are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns, a `name:` / `tags:` head per series.
    Table,
    /// `name,tags,COLUMNS…` rows (a header whenever the columns change).
    Csv,
    /// InfluxDB 1.x's `/query` JSON, one line.
    Json,
}

impl Format {
    /// Parse `table`, `csv` or `json` (REPL's `format` command).
    pub fn parse(s: &str) -> Option<Format> {
        match s.to_ascii_lowercase().as_str() {
            "table" | "column" => Some(Format::Table),
            "csv" => Some(Format::Csv),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// One series of a statement's answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Series {
    pub name: String,
    pub tags: Vec<(String, String)>,
    pub columns: Vec<String>,
    pub values: Vec<Vec<Value>>,
}

/// One statement's answer.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct StatementAnswer {
    pub series: Vec<Series>,
    pub error: Option<String>,
}

/// A whole answer: its JSON text and its parsed statements.
#[derive(Clone, Debug)]
pub struct Answer {
    pub json: String,
    pub results: Vec<StatementAnswer>,
}

impl Answer {
    /// Parse InfluxDB's `/query` JSON.
    pub fn from_json(json: String) -> Result<Answer> {
        let v: Value = serde_json::from_str(&json)
            .map_err(|e| CliError::Protocol(format!("the answer is not JSON: {e}")))?;
        if let Some(e) = v.get("error").and_then(Value::as_str) {
            return Err(CliError::Usage(e.to_string()));
        }
        let mut results = Vec::new();
        for r in v
            .get("results")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let mut st = StatementAnswer {
                error: r.get("error").and_then(Value::as_str).map(str::to_string),
                series: Vec::new(),
            };
            for s in r
                .get("series")
                .and_then(Value::as_array)
                .map(Vec::as_slice)
                .unwrap_or_default()
            {
                let strings = |key: &str| -> Vec<String> {
                    s.get(key)
                        .and_then(Value::as_array)
                        .map(|a| a.iter().map(cell_text).collect())
                        .unwrap_or_default()
                };
                st.series.push(Series {
                    name: s
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string(),
                    tags: s
                        .get("tags")
                        .and_then(Value::as_object)
                        .map(|m| m.iter().map(|(k, v)| (k.clone(), cell_text(v))).collect())
                        .unwrap_or_default(),
                    columns: strings("columns"),
                    values: s
                        .get("values")
                        .and_then(Value::as_array)
                        .map(|rows| {
                            rows.iter()
                                .map(|r| r.as_array().cloned().unwrap_or_default())
                                .collect()
                        })
                        .unwrap_or_default(),
                });
            }
            results.push(st);
        }
        Ok(Answer { json, results })
    }

    /// The statement errors, in order.
    pub fn errors(&self) -> Vec<&str> {
        self.results
            .iter()
            .filter_map(|r| r.error.as_deref())
            .collect()
    }

    /// `Ok` if no statement failed, else the first error.
    pub fn check(&self) -> Result<()> {
        match self.errors().first() {
            None => Ok(()),
            Some(e) => Err(CliError::Usage(e.to_string())),
        }
    }

    /// Print the answer in `format`; statement errors go to `err` as `ERR: message`.
    pub fn print(&self, format: Format, out: &mut dyn Write, err: &mut dyn Write) -> Result<()> {
        let io = |e| CliError::io("write the answer", e);
        let mut last_header: Option<Vec<String>> = None;
        match format {
            Format::Json => writeln!(out, "{}", self.json).map_err(io)?,
            Format::Table => {
                for r in &self.results {
                    write_table(r, out).map_err(io)?;
                }
            }
            Format::Csv => {
                for r in &self.results {
                    write_csv(r, &mut last_header, out)?;
                }
            }
        }
        for e in self.errors() {
            writeln!(err, "ERR: {e}").map_err(io)?;
        }
        Ok(())
    }
}

/// A cell as printed: strings bare, null empty, numbers as the JSON has them.
pub fn cell_text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn tags_text(tags: &[(String, String)]) -> String {
    tags.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn write_table(r: &StatementAnswer, out: &mut dyn Write) -> std::io::Result<()> {
    for s in &r.series {
        if !s.name.is_empty() {
            writeln!(out, "name: {}", s.name)?;
        }
        if !s.tags.is_empty() {
            writeln!(out, "tags: {}", tags_text(&s.tags))?;
        }
        let cells: Vec<Vec<String>> = s
            .values
            .iter()
            .map(|row| row.iter().map(cell_text).collect())
            .collect();
        let mut widths: Vec<usize> = s.columns.iter().map(|c| c.chars().count()).collect();
        for row in &cells {
            for (i, c) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(c.chars().count());
                }
            }
        }
        let line = |cells: &[String]| -> String {
            let parts: Vec<String> = cells
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let w = widths.get(i).copied().unwrap_or(0);
                    format!("{c:<w$}")
                })
                .collect();
            parts.join(" ").trim_end().to_string()
        };
        writeln!(out, "{}", line(&s.columns))?;
        let dashes: Vec<String> = s
            .columns
            .iter()
            .map(|c| "-".repeat(c.chars().count()))
            .collect();
        writeln!(out, "{}", line(&dashes))?;
        for row in &cells {
            writeln!(out, "{}", line(row))?;
        }
        writeln!(out)?;
    }
    Ok(())
}

fn write_csv(
    r: &StatementAnswer,
    last_header: &mut Option<Vec<String>>,
    out: &mut dyn Write,
) -> Result<()> {
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    let csv_err = |e: csv::Error| CliError::Usage(format!("write CSV: {e}"));
    for s in &r.series {
        let mut header = vec!["name".to_string(), "tags".to_string()];
        header.extend(s.columns.iter().cloned());
        if last_header.as_ref() != Some(&header) {
            w.write_record(&header).map_err(csv_err)?;
            *last_header = Some(header);
        }
        let tags: Vec<String> = s.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
        for row in &s.values {
            let mut rec = vec![s.name.clone(), tags.join(",")];
            rec.extend(row.iter().map(cell_text));
            w.write_record(&rec).map_err(csv_err)?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| CliError::Usage(format!("write CSV: {e}")))?;
    out.write_all(&bytes)
        .map_err(|e| CliError::io("write the answer", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"host":"a"},"columns":["time","usage"],"values":[[1,12.5],[2,null]]}]},{"statement_id":1,"error":"boom"}]}"#;

    fn render(f: Format) -> (String, String) {
        let a = Answer::from_json(JSON.to_string()).expect("parse");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        a.print(f, &mut out, &mut err).expect("print");
        (
            String::from_utf8(out).expect("utf8"),
            String::from_utf8(err).expect("utf8"),
        )
    }

    #[test]
    fn tables_are_aligned() {
        let (out, err) = render(Format::Table);
        assert_eq!(
            out,
            "name: cpu\ntags: host=a\ntime usage\n---- -----\n1    12.5\n2\n\n"
        );
        assert_eq!(err, "ERR: boom\n");
    }

    #[test]
    fn csv_has_name_and_tags() {
        let (out, _) = render(Format::Csv);
        assert_eq!(
            out,
            "name,tags,time,usage\ncpu,host=a,1,12.5\ncpu,host=a,2,\n"
        );
    }

    #[test]
    fn json_is_as_sent() {
        let (out, err) = render(Format::Json);
        assert_eq!(out, format!("{JSON}\n"));
        assert_eq!(err, "ERR: boom\n");
    }

    #[test]
    fn errors_are_collected() {
        let a = Answer::from_json(JSON.to_string()).expect("parse");
        assert_eq!(a.errors(), vec!["boom"]);
        assert!(a.check().is_err());
        assert!(Answer::from_json("nope".into()).is_err());
    }
}
