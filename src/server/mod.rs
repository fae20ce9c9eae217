//! The daemon: InfluxDB 1.x's HTTP API (`/ping`, `/write`, `/query`, `/health`), plus `/metrics`
//! (Prometheus text: per-layer compaction metrics), on a Unix socket
//! (mode 0600) and optionally on TCP.

use std::borrow::Cow;
use std::collections::HashMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;

use crate::db::Db;
use crate::error::{Error, IoContext, Result};
use crate::lineproto::Precision;
use crate::query::{Epoch, QueryOptions, QueryResponse, StatementResult};

/// The version string strata reports where InfluxDB reports its own (`X-Influxdb-Version`).
pub const VERSION: &str = concat!("strata-", env!("CARGO_PKG_VERSION"));

/// Where the daemon listens.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub socket: PathBuf,
    /// Permission bits of the socket file (default 0o600).
    pub socket_mode: u32,
    /// Optional TCP address (`127.0.0.1:8086`).
    pub tcp: Option<String>,
}

#[derive(Clone)]
struct AppState {
    db: Arc<Db>,
}

fn json_error(status: StatusCode, msg: &str) -> Response {
    let body = serde_json::json!({ "error": msg }).to_string();
    with_version(
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body,
        )
            .into_response(),
    )
}

fn with_version(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("X-Influxdb-Version", HeaderValue::from_static(VERSION));
    h.insert("X-Influxdb-Build", HeaderValue::from_static("OSS"));
    h.insert("Request-Id", HeaderValue::from_static(""));
    r
}

async fn ping() -> Response {
    with_version(StatusCode::NO_CONTENT.into_response())
}

async fn health(State(st): State<AppState>) -> Response {
    // Poisoned databases, and every quarantined table (read from each database's quarantine
    // directory, so removing its files clears it at once).
    let dbh = st.db.clone();
    let bad = tokio::task::spawn_blocking(move || {
        let mut bad = Vec::new();
        for d in dbh
            .database_names()
            .into_iter()
            .filter_map(|n| dbh.database(&n).ok())
        {
            if let Err(e) = d.health() {
                bad.push(format!("{}: {e}", d.name()));
            }
            match d.quarantined() {
                Ok(q) => bad.extend(
                    q.iter()
                        .map(|q| format!("{}: corrupt {}", d.name(), q.describe())),
                ),
                Err(e) => bad.push(format!("{}: cannot list quarantined tables: {e}", d.name())),
            }
        }
        bad
    })
    .await
    .unwrap_or_else(|e| vec![format!("health check task failed: {e}")]);
    let (status, body) = if bad.is_empty() {
        (
            StatusCode::OK,
            serde_json::json!({"name": "strata", "message": "ready for queries and writes", "status": "pass", "version": VERSION}),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"name": "strata", "message": bad.join("; "), "status": "fail", "version": VERSION}),
        )
    };
    with_version(
        (
            status,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            )],
            body.to_string(),
        )
            .into_response(),
    )
}

/// Per-database, per-layer compaction metrics in the Prometheus text format.
pub fn metrics_text(db: &Db) -> String {
    type Get = fn(&crate::compaction::LayerStats) -> f64;
    let gauges: [(&str, &str, &str, Get); 10] = [
        (
            "strata_layer_tables",
            "gauge",
            "SSTables in the layer",
            |l| l.tables as f64,
        ),
        (
            "strata_layer_bytes",
            "gauge",
            "bytes of the layer's SSTables",
            |l| l.bytes as f64,
        ),
        (
            "strata_layer_points",
            "gauge",
            "points in the layer's SSTables",
            |l| l.points as f64,
        ),
        (
            "strata_compactions_total",
            "counter",
            "compactions out of the layer",
            |l| l.compactions as f64,
        ),
        (
            "strata_compaction_bytes_read_total",
            "counter",
            "bytes read by the layer's merges",
            |l| l.bytes_read as f64,
        ),
        (
            "strata_compaction_bytes_written_total",
            "counter",
            "bytes written by the layer's merges",
            |l| l.bytes_written as f64,
        ),
        (
            "strata_compaction_bytes_moved_total",
            "counter",
            "bytes of tables moved out of the layer",
            |l| l.bytes_moved as f64,
        ),
        (
            "strata_compaction_write_amplification",
            "gauge",
            "bytes written per byte moved into the next layer",
            |l| l.write_amplification,
        ),
        (
            "strata_compaction_debt_tables",
            "gauge",
            "tables over the layer's limit",
            |l| l.debt_tables as f64,
        ),
        (
            "strata_compaction_debt_bytes",
            "gauge",
            "bytes of the tables over the layer's limit",
            |l| l.debt_bytes as f64,
        ),
    ];
    let stats: Vec<(String, crate::compaction::CompactionStats)> = db
        .database_names()
        .into_iter()
        .filter_map(|n| db.database(&n).ok().map(|d| (n, d.compaction_stats())))
        .collect();
    let mut out = String::new();
    for (name, kind, help, get) in gauges {
        let samples = stats.iter().flat_map(|(dbname, s)| {
            s.layers
                .iter()
                .map(move |l| (format!("db=\"{dbname}\",layer=\"C{}\"", l.layer), get(l)))
        });
        family(&mut out, name, kind, help, samples);
    }
    let paths = db.query_paths();
    family(
        &mut out,
        "strata_queries_total",
        "counter",
        "queries run, by where: on the connection's thread (inline) or on the query pool",
        [
            ("path=\"inline\"".to_string(), paths.inline),
            ("path=\"pool\"".to_string(), paths.pooled),
        ],
    );
    family(
        &mut out,
        "strata_queries_moved_to_pool_total",
        "counter",
        "queries started inline whose estimate went past query_inline_max_points",
        [(String::new(), paths.moved)],
    );
    let bc = db.block_cache_stats();
    family(
        &mut out,
        "strata_block_cache_reads_total",
        "counter",
        "query block reads, by whether the block cache held the block (hit) or it was read from its file (miss)",
        [
            ("result=\"hit\"".to_string(), bc.hits),
            ("result=\"miss\"".to_string(), bc.misses),
        ],
    );
    family(
        &mut out,
        "strata_block_cache_bytes",
        "gauge",
        "bytes the block cache holds (block_cache_bytes bounds it)",
        [(String::new(), bc.bytes)],
    );
    family(
        &mut out,
        "strata_flush_stalls_total",
        "counter",
        "flushes that waited for C0 compaction",
        stats
            .iter()
            .map(|(dbname, s)| (format!("db=\"{dbname}\""), s.flush_stalls)),
    );
    out
}

/// Append one metric family in the Prometheus text format: its HELP and TYPE lines, then a
/// sample per (labels, value), the labels in braces unless there are none.
fn family<V: std::fmt::Display>(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    samples: impl IntoIterator<Item = (String, V)>,
) {
    use std::fmt::Write as _;
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, value) in samples {
        let _ = if labels.is_empty() {
            writeln!(out, "{name} {value}")
        } else {
            writeln!(out, "{name}{{{labels}}} {value}")
        };
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    let body = metrics_text(&st.db);
    with_version(
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4"),
            )],
            body,
        )
            .into_response(),
    )
}

fn write_status(e: &Error) -> StatusCode {
    match e {
        Error::DatabaseNotFound(_) => StatusCode::NOT_FOUND,
        Error::PartialWrite { .. } | Error::FieldTypeConflict { .. } => StatusCode::BAD_REQUEST,
        Error::WriteTimeout { .. } | Error::Closed => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Decompress a gzip body (`Content-Encoding: gzip`, as Telegraf and client libraries send),
/// refusing to produce more than `limit` bytes. Every member of the body is decompressed (a
/// gzip file may be several members one after the other, as InfluxDB's Go reader reads it);
/// bytes after the last member that are not a member are an error.
fn gunzip(data: &[u8], limit: usize) -> std::result::Result<Vec<u8>, (StatusCode, String)> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut dec = flate2::read::MultiGzDecoder::new(data).take(limit as u64 + 1);
    if let Err(e) = dec.read_to_end(&mut out) {
        return Err((
            StatusCode::BAD_REQUEST,
            format!("body is not valid gzip: {e}"),
        ));
    }
    if out.len() > limit {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "request body too large: the limit is {limit} bytes after decompression (max_body_bytes)"
            ),
        ));
    }
    Ok(out)
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

/// The line protocol text of a `/write` body: decompressed first when it came with
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

async fn write(
    State(st): State<AppState>,
    headers: HeaderMap,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let limit = st.db.config().get_max_body_bytes();
    let Some(db) = params.get("db").filter(|d| !d.is_empty()).cloned() else {
        return json_error(StatusCode::BAD_REQUEST, "database is required");
    };
    let precision = match write_precision(params.get("precision").map(String::as_str)) {
        Ok(p) => p,
        Err(msg) => return json_error(StatusCode::BAD_REQUEST, &msg),
    };
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(_) => {
            return json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!("request body too large: the limit is {limit} bytes (max_body_bytes)"),
            )
        }
    };
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("gzip"));
    // The body is decompressed, validated and parsed off the async threads, like the write
    // itself, and where it was received (no copy unless it was compressed).
    let dbh = st.db.clone();
    let r = tokio::task::spawn_blocking(move || {
        write_body_text(&bytes, gzip, limit).map(|text| dbh.write_lines_with(&db, &text, precision))
    })
    .await;
    match r {
        Ok(Err((status, msg))) => json_error(status, &msg),
        Ok(Ok(Ok(_))) => with_version(StatusCode::NO_CONTENT.into_response()),
        Ok(Ok(Err(e))) => json_error(write_status(&e), &e.to_string()),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("write task failed: {e}"),
        ),
    }
}

/// `POST /internal/compact?db=NAME`: a major compaction of the database (everything into C7);
/// answers 204 once it is done. strata's own endpoint (InfluxDB 1.x has none; VictoriaMetrics
/// has `/internal/force_merge`).
async fn compact(
    State(st): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(db) = params.get("db").filter(|d| !d.is_empty()).cloned() else {
        return json_error(StatusCode::BAD_REQUEST, "database is required");
    };
    let dbh = st.db.clone();
    match tokio::task::spawn_blocking(move || dbh.major_compact(&db)).await {
        Ok(Ok(())) => with_version(StatusCode::NO_CONTENT.into_response()),
        Ok(Err(e)) => json_error(write_status(&e), &e.to_string()),
        Err(e) => json_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("compaction task failed: {e}"),
        ),
    }
}

async fn query(
    State(st): State<AppState>,
    method: Method,
    headers: HeaderMap,
    Query(mut params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    if method == Method::POST {
        let is_form = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if let Ok(b) = to_bytes(body, st.db.config().get_max_body_bytes()).await {
            if is_form || !params.contains_key("q") {
                for (k, v) in form_urlencoded::parse(&b) {
                    params.entry(k.into_owned()).or_insert(v.into_owned());
                }
            }
        }
    }
    let Some(q) = params.get("q").filter(|q| !q.trim().is_empty()).cloned() else {
        return json_error(StatusCode::BAD_REQUEST, "missing required parameter \"q\"");
    };
    let epoch = match Epoch::parse(params.get("epoch").map_or("", String::as_str)) {
        Some(e) => e,
        None => {
            return json_error(
                StatusCode::BAD_REQUEST,
                "invalid epoch: use one of ns, u, ms, s, m, h",
            )
        }
    };
    let opts = QueryOptions::new(params.get("db").map_or("", String::as_str));
    // Awaited here, not in a blocking task: if the client goes away, axum drops this future,
    // which drops the pending query and cancels it (its worker is freed at the next check).
    let r = match st.db.submit_query(&q, &opts) {
        Ok(pending) => pending.finish().await,
        Err(e) => Err(e),
    };
    // A stopped query is answered as InfluxDB 1.x does: 200, the reason as a statement error.
    let r = match r {
        Err(e @ (Error::QueryInterrupted | Error::QueryStopped(_))) => Ok(QueryResponse {
            results: vec![StatementResult::error(0, e.to_string())],
        }),
        r => r,
    };
    match r {
        Ok(resp) => {
            let mut body = resp.to_json_epoch(epoch);
            if params.get("pretty").is_some_and(|p| p == "true") {
                if let Ok(v) = serde_json::from_str::<serde_json::Value>(&body) {
                    body = serde_json::to_string_pretty(&v).unwrap_or(body);
                }
            }
            with_version(
                (
                    StatusCode::OK,
                    [(
                        header::CONTENT_TYPE,
                        HeaderValue::from_static("application/json"),
                    )],
                    body,
                )
                    .into_response(),
            )
        }
        Err(e @ Error::Parse { .. }) => json_error(StatusCode::BAD_REQUEST, &e.to_string()),
        Err(e @ Error::QueryQueueFull(_)) => {
            json_error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string())
        }
        Err(e) => json_error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

/// The HTTP routes.
pub fn router(db: Arc<Db>) -> Router {
    Router::new()
        .route("/ping", get(ping).head(ping))
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/write", any(write))
        .route("/query", get(query).post(query))
        .route("/internal/compact", post(compact))
        .with_state(AppState { db })
}

/// Bind the Unix socket: a stale file left by a crash is replaced; a live socket (another
/// process answering on it) is refused.
pub fn bind_unix(path: &Path, mode: u32) -> Result<std::os::unix::net::UnixListener> {
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(Error::Config(format!(
                "socket {} is in use by a running process; stop it or choose another --socket",
                path.display()
            )));
        }
        tracing::info!(socket = %path.display(), "removing stale socket file");
        std::fs::remove_file(path).ctx(|| format!("remove stale socket {}", path.display()))?;
    }
    let l = std::os::unix::net::UnixListener::bind(path)
        .ctx(|| format!("bind socket {}", path.display()))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .ctx(|| format!("chmod socket {}", path.display()))?;
    l.set_nonblocking(true)
        .ctx(|| "set socket non-blocking".to_string())?;
    Ok(l)
}

/// Serve until SIGINT or SIGTERM, then stop accepting, drain the database to disk and remove
/// the socket.
pub async fn serve(db: Arc<Db>, opts: ServeOptions) -> Result<()> {
    serve_until(db, opts, shutdown_signal()).await
}

/// Serve until `shutdown` completes, then stop accepting, drain the database to disk and remove
/// the socket (what [`serve`] does on a signal; embedders pass their own trigger).
pub async fn serve_until(
    db: Arc<Db>,
    opts: ServeOptions,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let unix = tokio::net::UnixListener::from_std(bind_unix(&opts.socket, opts.socket_mode)?)
        .ctx(|| "register socket with tokio".to_string())?;
    let app = router(db.clone());
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);

    let mut tasks = Vec::new();
    {
        let mut rx = stop_rx.clone();
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            axum::serve(unix, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await
        }));
    }
    if let Some(addr) = &opts.tcp {
        let tcp = tokio::net::TcpListener::bind(addr)
            .await
            .ctx(|| format!("bind TCP {addr}"))?;
        let mut rx = stop_rx.clone();
        tasks.push(tokio::spawn(async move {
            axum::serve(tcp, app)
                .with_graceful_shutdown(async move {
                    let _ = rx.wait_for(|s| *s).await;
                })
                .await
        }));
    }
    tracing::info!(socket = %opts.socket.display(), tcp = ?opts.tcp, "strata is serving");
    println!("strata: listening on unix socket {}", opts.socket.display());

    shutdown.await;
    tracing::info!("shutting down: draining writes to disk");
    let _ = stop_tx.send(true);
    for t in tasks {
        let _ = t.await;
    }
    let _ = std::fs::remove_file(&opts.socket);
    let db2 = db.clone();
    tokio::task::spawn_blocking(move || db2.flush())
        .await
        .map_err(|e| Error::Query(format!("shutdown task failed: {e}")))??;
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

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
