//! `POST /write` (line protocol, or vctsdb's JSON and CSV) and `POST /api/v1/prom/write` (a
//! Prometheus remote write): the body read under its limit and timeout, decompressed and
//! converted off the async threads, written, and 1.x's answers.

use std::borrow::Cow;
use std::collections::HashMap;

use axum::body::{to_bytes, Body};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::gzip::gunzip;
use super::{
    database_param, database_required, error_response, json_error, listener, task_failed,
    with_version, AppState,
};
use crate::error::Error;
use crate::ingest::{RecordFormat, RecordOptions};
use crate::lineproto::Precision;

/// [`error_response`] for a write (`/write`, a Prometheus remote write): 1.x's write endpoints
/// quote a missing database's name (`database not found: "db"`); its statements do not.
pub(super) fn write_error_response(error: &Error) -> Response {
    match error {
        Error::DatabaseNotFound(name) => json_error(
            StatusCode::NOT_FOUND,
            &format!("database not found: {name:?}"),
        ),
        e => error_response(e),
    }
}

/// The `precision=` parameter of a `/write`: nanoseconds when absent or empty. The error is the
/// message of the 400 answer.
pub fn write_precision(param: Option<&str>) -> std::result::Result<Precision, String> {
    match param {
        None | Some("") => Ok(Precision::Nanosecond),
        Some(p) => Precision::parse(p)
            .ok_or_else(|| format!("invalid precision {p:?}: use one of n, ns, u, ms, s, m, h")),
    }
}

/// The format of a `/write` body and how its records map to points: `?format=lp|json|csv`
/// if given, else the `Content-Type` (`application/json`, `text/csv` or `application/csv`;
/// anything else is line protocol). JSON and CSV take `measurement=` (the measurement of
/// records without a series), and CSV `timestamp_column=`, `value_column=`, `series_column=`
/// and `delimiter=` (one byte). The error is the message of the 400 answer.
pub fn write_format(
    content_type: Option<&str>,
    params: &HashMap<String, String>,
) -> std::result::Result<(RecordFormat, RecordOptions), String> {
    let format = match params.get("format") {
        Some(name) => RecordFormat::from_name(name)
            .ok_or_else(|| format!("invalid format {name:?}: use one of lp, json, csv"))?,
        None => content_type.map_or(RecordFormat::LineProtocol, RecordFormat::from_content_type),
    };
    let mut options = RecordOptions {
        measurement: params.get("measurement").filter(|m| !m.is_empty()).cloned(),
        ..RecordOptions::default()
    };
    for (param, column) in [
        ("timestamp_column", &mut options.timestamp_column),
        ("value_column", &mut options.value_column),
        ("series_column", &mut options.series_column),
    ] {
        if let Some(name) = params.get(param).filter(|n| !n.is_empty()) {
            *column = name.clone();
        }
    }
    if let Some(delimiter) = params.get("delimiter") {
        match delimiter.as_bytes() {
            [byte] => options.delimiter = *byte,
            _ => {
                return Err(format!(
                    "invalid delimiter {delimiter:?}: give one byte, such as ; or %09 (tab)"
                ))
            }
        }
    }
    Ok((format, options))
}

/// The text of a `/write` body (line protocol, JSON or CSV): decompressed first when it came with
/// `Content-Encoding: gzip` (`gzip`), producing at most `limit` bytes, then checked to be UTF-8.
/// Borrowed when the body was not compressed. The error is the status and message of the answer.
pub fn write_body_text(
    body: &[u8],
    gzip: bool,
    limit: usize,
) -> std::result::Result<Cow<'_, str>, (StatusCode, String)> {
    let not_utf8 = |e: std::str::Utf8Error| {
        (
            StatusCode::BAD_REQUEST,
            format!("body is not valid UTF-8 (at byte {})", e.valid_up_to()),
        )
    };
    if gzip {
        let plain = gunzip(body, limit)?;
        String::from_utf8(plain)
            .map(Cow::Owned)
            .map_err(|e| not_utf8(e.utf8_error()))
    } else {
        std::str::from_utf8(body)
            .map(Cow::Borrowed)
            .map_err(not_utf8)
    }
}

/// A write's body, at most `limit` bytes; the answer when it is refused: 408 (and the
/// connection closed) when it came too slowly, 413 when it is too large.
pub(super) async fn read_body(
    body: Body,
    limit: usize,
) -> std::result::Result<axum::body::Bytes, Response> {
    match to_bytes(body, limit).await {
        Ok(b) => Ok(b),
        Err(e) if listener::is_body_timeout(&e) => {
            let mut r = json_error(StatusCode::REQUEST_TIMEOUT, &e.to_string());
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            Err(r)
        }
        Err(_) => Err(json_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            &format!("request body too large: the limit is {limit} bytes (max_body_bytes)"),
        )),
    }
}

pub(super) async fn write(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let limit = st.db.config().get_max_body_bytes();
    let Some(db) = database_param(&params) else {
        return database_required();
    };
    let precision = match write_precision(params.get("precision").map(String::as_str)) {
        Ok(p) => p,
        Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
    };
    let bytes = match read_body(body, limit).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let (format, options) = match write_format(content_type, &params) {
        Ok(chosen) => chosen,
        Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
    };
    // The body is decompressed, validated and parsed off the async threads, like the write
    // itself, and where it was received (no copy unless it was compressed).
    let dbh = st.db.clone();
    let r = tokio::task::spawn_blocking(move || {
        write_body_text(&bytes, gzip, limit)
            .map(|text| dbh.write_records(&db, &text, format, &options, precision))
    })
    .await;
    match r {
        Ok(Err((status, msg))) => json_error(status, &msg),
        Ok(Ok(Ok(_))) => with_version(StatusCode::NO_CONTENT.into_response()),
        Ok(Ok(Err(e))) => write_error_response(&e),
        Err(e) => task_failed("write", &e),
    }
}

/// `POST /api/v1/prom/write?db=NAME`: a Prometheus remote write (snappy-compressed protobuf), as
/// InfluxDB 1.x takes it ([`Db::write_prometheus`]); 204 when written, the body limit and the
/// errors of `/write`.
pub(super) async fn prom_write(
    State(st): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let limit = st.db.config().get_max_body_bytes();
    let Some(db) = database_param(&params) else {
        return database_required();
    };
    let bytes = match read_body(body, limit).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let dbh = st.db.clone();
    match tokio::task::spawn_blocking(move || dbh.write_prometheus(&db, &bytes)).await {
        Ok(Ok(_)) => with_version(StatusCode::NO_CONTENT.into_response()),
        Ok(Err(e)) => write_error_response(&e),
        Err(e) => task_failed("write", &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_write_format_comes_from_the_parameter_then_the_content_type() {
        let params = |pairs: &[(&str, &str)]| -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let format = |ct: Option<&str>, p: &[(&str, &str)]| write_format(ct, &params(p));
        assert_eq!(format(None, &[]).unwrap().0, RecordFormat::LineProtocol);
        assert_eq!(
            format(Some("application/json; charset=utf-8"), &[])
                .unwrap()
                .0,
            RecordFormat::Json
        );
        assert_eq!(
            format(Some("text/csv"), &[("format", "lp")]).unwrap().0,
            RecordFormat::LineProtocol
        );
        assert_eq!(
            format(Some("text/plain"), &[("format", "CSV")]).unwrap().0,
            RecordFormat::Csv
        );
        assert!(format(None, &[("format", "xml")])
            .unwrap_err()
            .contains("lp, json, csv"));
        assert!(format(Some("text/csv"), &[("delimiter", ";;")])
            .unwrap_err()
            .contains("one byte"));
        let (_, o) = format(
            Some("text/csv"),
            &[
                ("delimiter", "\t"),
                ("measurement", "m"),
                ("series_column", "name"),
                ("timestamp_column", "t"),
                ("value_column", "v"),
            ],
        )
        .unwrap();
        assert_eq!(o.delimiter, b'\t');
        assert_eq!(o.measurement.as_deref(), Some("m"));
        assert_eq!(
            (
                o.series_column.as_str(),
                o.timestamp_column.as_str(),
                o.value_column.as_str()
            ),
            ("name", "t", "v")
        );
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).expect("gzip into memory");
        e.finish().expect("gzip into memory")
    }

    /// Found by the `http_write` fuzz target: a body of two gzip members (what a client that
    /// compresses chunk by chunk sends) was cut to its first member, and the write of the
    /// second member's lines was acknowledged without them.
    #[test]
    fn every_gzip_member_of_a_body_is_decompressed() {
        let mut body = gzip(b"cpu value=1 1\n");
        body.extend(gzip(b"cpu value=2 2\n"));
        let text = write_body_text(&body, true, 1 << 20).expect("a two-member gzip body");
        assert_eq!(text, "cpu value=1 1\ncpu value=2 2\n");
        // The limit counts every member.
        let (status, _) = write_body_text(&body, true, 20).expect_err("over the limit");
        assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
        // Garbage after the members is refused, not ignored.
        body.extend_from_slice(b"garbage");
        let (status, msg) = write_body_text(&body, true, 1 << 20).expect_err("trailing garbage");
        assert_eq!(status, StatusCode::BAD_REQUEST, "{msg}");
    }
}
