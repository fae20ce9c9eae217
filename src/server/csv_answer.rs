//! `Accept: application/csv` (or `text/csv`) on `/query`: the answer as InfluxDB 1.x writes it
//! in CSV. Per statement a header `name,tags,<columns>` (again after a blank line when a
//! series has other columns, and between statements), then a row per value row: the series
//! name, its tags as `k=v,k2=v2` (sorted, `,` `=` and space escaped with a backslash, empty
//! values left out), the values (times as integers in the `epoch` unit, nanoseconds by
//! default; floats in full decimal notation). Fields are quoted as Go's CSV writer quotes
//! them. As in 1.x, statements without series, statement errors included, write nothing; an
//! error of the whole request is `error` and its message.
//!
//! The text is written straight from the rows: its exact size is counted first (no
//! allocation), charged to `query_memory_limit` and to the answer budget, then the text is
//! made at that capacity.

use std::fmt;

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::answer_budget::{AnswerBudget, ByteCount};
use super::with_version;
use crate::error::Error;
use crate::query::limits::QueryMemory;
use crate::query::result::{Epoch, QueryResponse, SeriesResult, Value};

/// Whether the request asks for CSV: its `Accept` header is exactly `application/csv` or
/// `text/csv`, as 1.x decides.
pub(super) fn wanted(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "application/csv" || v == "text/csv")
}

/// The CSV answer to a query's result: charged before it is made, refused (as a CSV error)
/// past `query_memory_limit` or the answer budget.
pub(super) fn answer(
    r: Result<QueryResponse, Error>,
    epoch: Epoch,
    query_memory_limit: u64,
    answers: &AnswerBudget,
) -> Response {
    let resp = match r {
        Ok(resp) => resp,
        Err(e) => return error_response(&e),
    };
    let mut count = ByteCount(0);
    let _ = write_answer(&mut count, &resp, epoch);
    let len = count.0 as u64;
    let held = QueryMemory::new(query_memory_limit)
        .charge(len)
        .and_then(|rendering| answers.charge(len).map(|held| (rendering, held)));
    let (rendering, held) = match held {
        Ok(charges) => charges,
        Err(e) => return error_response(&e),
    };
    let mut text = String::with_capacity(count.0);
    let _ = write_answer(&mut text, &resp, epoch);
    drop(resp);
    drop(rendering);
    super::answer_budget::answer("text/csv", text.into_bytes(), held)
}

/// An error of the whole request, in CSV: `error` and the message, with the error's status.
fn error_response(error: &Error) -> Response {
    super::error_answer(error, csv_error)
}

/// The CSV error body of 1.x: `error`, then the message.
fn csv_error(status: StatusCode, message: &str) -> Response {
    let mut text = String::new();
    let _ = write_record(&mut text, ["error"]);
    let _ = write_record(&mut text, [message]);
    with_version(
        (
            status,
            [(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"))],
            text,
        )
            .into_response(),
    )
}

/// The whole answer, to any writer (a counter sizes it).
fn write_answer(out: &mut impl fmt::Write, resp: &QueryResponse, epoch: Epoch) -> fmt::Result {
    let mut wrote_statement = false;
    for result in &resp.results {
        let Some(first) = result.series.first() else {
            continue;
        };
        if wrote_statement {
            out.write_char('\n')?;
        }
        wrote_statement = true;
        write_header(out, first)?;
        for (i, series) in result.series.iter().enumerate() {
            if i > 0 && result.series[i - 1].columns != series.columns {
                out.write_char('\n')?;
                write_header(out, series)?;
            }
            let tags = tag_key(series);
            for row in &series.values {
                let names = [Field::Text(&series.name), Field::Text(&tags)];
                write_record(
                    out,
                    names
                        .into_iter()
                        .chain(row.iter().map(|v| Field::Value(v, epoch))),
                )?;
            }
        }
    }
    Ok(())
}

fn write_header(out: &mut impl fmt::Write, series: &SeriesResult) -> fmt::Result {
    let mut fields = vec!["name", "tags"];
    fields.extend(series.columns.iter().map(String::as_str));
    write_record(out, fields)
}

/// A series' tags as 1.x's CSV shows them (its series key without the name).
fn tag_key(series: &SeriesResult) -> String {
    let mut key = String::new();
    for (k, v) in series.tags.iter().flatten() {
        if v.is_empty() {
            continue;
        }
        if !key.is_empty() {
            key.push(',');
        }
        escape_tag(&mut key, k);
        key.push('=');
        escape_tag(&mut key, v);
    }
    key
}

fn escape_tag(out: &mut String, s: &str) {
    for c in s.chars() {
        if matches!(c, ',' | '=' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// One field of a record: text as it is, or a value as 1.x formats it.
enum Field<'a> {
    Text(&'a str),
    Value(&'a Value, Epoch),
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(s: &'a str) -> Field<'a> {
        Field::Text(s)
    }
}

/// A record as Go's `encoding/csv` writes it: fields joined by commas, a field quoted when it
/// holds a comma, a quote, a CR or LF, starts with white space, or is `\.` (quotes doubled
/// inside), a line feed at the end. Numbers, booleans and times never need quotes.
fn write_record<'a, F: Into<Field<'a>>>(
    out: &mut impl fmt::Write,
    fields: impl IntoIterator<Item = F>,
) -> fmt::Result {
    for (i, field) in fields.into_iter().enumerate() {
        if i > 0 {
            out.write_char(',')?;
        }
        let text = match field.into() {
            Field::Text(s) => s,
            Field::Value(Value::String(s), _) => &**s,
            Field::Value(other, epoch) => {
                write_plain(out, other, epoch)?;
                continue;
            }
        };
        if needs_quotes(text) {
            out.write_char('"')?;
            for c in text.chars() {
                if c == '"' {
                    out.write_char('"')?;
                }
                out.write_char(c)?;
            }
            out.write_char('"')?;
        } else {
            out.write_str(text)?;
        }
    }
    out.write_char('\n')
}

/// A value that never needs quotes, as 1.x formats it: times as integers in the epoch unit,
/// floats in full decimal notation, the shortest that reads back (Go's 'f', -1); null empty.
fn write_plain(out: &mut impl fmt::Write, value: &Value, epoch: Epoch) -> fmt::Result {
    match value {
        Value::Null => Ok(()),
        Value::Time(t) => write!(out, "{}", epoch.integer(*t)),
        Value::Float(x) => write!(out, "{x}"),
        Value::Integer(x) => write!(out, "{x}"),
        Value::Unsigned(x) => write!(out, "{x}"),
        Value::Boolean(b) => out.write_str(if *b { "true" } else { "false" }),
        Value::String(s) => out.write_str(s),
    }
}

/// Go's `csv.Writer.fieldNeedsQuotes`.
fn needs_quotes(field: &str) -> bool {
    if field.is_empty() {
        return false;
    }
    if field == "\\." || field.contains([',', '"', '\r', '\n']) {
        return true;
    }
    field.chars().next().is_some_and(char::is_whitespace)
}
