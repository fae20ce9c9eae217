//! The daemon: InfluxDB 1.x's HTTP API (`/ping`, `/write`, `/query`, `/health`), plus `/metrics`
//! (Prometheus text: per-layer compaction metrics), on a Unix socket
//! (mode 0600) and optionally on TCP. The accept loops, connection limits and timeouts are in
//! [`listener`]; serving until a signal and the bounded shutdown in [`shutdown`].

pub mod listener;
pub mod shutdown;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::Extension;
use axum::Router;

use crate::auth::Principal;
use crate::db::Db;
use crate::error::Error;
use crate::query::{Epoch, QueryOptions, QueryResponse, StatementResult};

mod answer_budget;
mod csv_answer;
mod gzip;
mod metrics;
mod pretty_json;
mod vq;
mod write;
pub use metrics::metrics_text;
pub use write::{write_body_text, write_format, write_precision};

/// The version string strata reports where InfluxDB reports its own (`X-Influxdb-Version`).
pub const VERSION: &str = concat!("strata-", env!("CARGO_PKG_VERSION"));

pub use listener::HttpLimits;
pub use shutdown::{bind_unix, serve, serve_until, shutdown_signal, DEFAULT_SHUTDOWN_TIMEOUT};

/// Where the daemon listens, its connection limits and its shutdown bound.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub socket: PathBuf,
    /// Permission bits of the socket file (default 0o600).
    pub socket_mode: u32,
    /// Optional TCP address (`127.0.0.1:8086`); beyond loopback only with `auth_enabled`.
    pub tcp: Option<String>,
    /// Require credentials and check privileges, as InfluxDB 1.x's `auth-enabled`
    /// (`src/auth/http.rs`).
    pub auth_enabled: bool,
    /// Timeouts and the connection cap, for every listener.
    pub limits: HttpLimits,
    /// The longest a shutdown may take, from the signal to the exit (`None`: no bound); see
    /// [`shutdown`].
    pub shutdown_timeout: Option<Duration>,
}

impl ServeOptions {
    /// Listen on the Unix socket `socket` (mode 0600, no TCP, no authentication) with the
    /// default limits and shutdown timeout.
    pub fn new(socket: impl Into<PathBuf>) -> ServeOptions {
        ServeOptions {
            socket: socket.into(),
            socket_mode: 0o600,
            tcp: None,
            auth_enabled: false,
            limits: HttpLimits::default(),
            shutdown_timeout: Some(DEFAULT_SHUTDOWN_TIMEOUT),
        }
    }

    /// Refuse options that must not be served: a TCP address beyond loopback without
    /// authentication ([`Error::TcpWithoutAuth`]). Checked again before anything is bound.
    pub fn validate(&self) -> crate::error::Result<()> {
        match &self.tcp {
            Some(addr) => crate::auth::tcp::check_listen(addr, self.auth_enabled),
            None => Ok(()),
        }
    }
}

#[derive(Clone)]
struct AppState {
    db: Arc<Db>,
    /// Answers made and not yet taken by their clients.
    answers: answer_budget::AnswerBudget,
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

/// Charge the bound of an answer's JSON to a memory budget of `limit` bytes (0: none).
fn charge_json(
    r: &Result<QueryResponse, Error>,
    limit: u64,
) -> Result<Option<crate::query::limits::Charge>, Error> {
    match r {
        Ok(resp) => crate::query::limits::QueryMemory::new(limit)
            .charge(resp.json_bytes_bound())
            .map(Some),
        Err(_) => Ok(None),
    }
}

/// The answer to a request that failed with `error`: its status ([`Error::http_status`]) and
/// 1.x's JSON error body (an authorization error's own answer, with its challenge header).
fn error_response(error: &Error) -> Response {
    error_answer(error, json_error)
}

/// [`error_response`] with the body `render` makes of the status and message (JSON, CSV).
fn error_answer(error: &Error, render: fn(StatusCode, &str) -> Response) -> Response {
    if let Error::Auth(auth) = error {
        return crate::auth::http::refuse(auth);
    }
    let status =
        StatusCode::from_u16(error.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    render(status, &error.to_string())
}

/// The `db` parameter a write, a remote read or a compaction needs (see [`database_required`]).
fn database_param(params: &HashMap<String, String>) -> Option<String> {
    params.get("db").filter(|d| !d.is_empty()).cloned()
}

/// 1.x's answer to a write, a remote read or a compaction without a `db` parameter.
fn database_required() -> Response {
    json_error(StatusCode::BAD_REQUEST, "database is required")
}

/// The answer when the blocking task doing a request's `what` failed (it panicked).
fn task_failed(what: &str, e: &tokio::task::JoinError) -> Response {
    json_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("{what} task failed: {e}"),
    )
}

/// `POST /api/v1/prom/read?db=NAME`: a Prometheus remote read, as InfluxDB 1.x answers it
/// ([`Db::read_prometheus`]): the snappy-compressed protobuf `ReadResponse`, each query run as
/// the request's user.
async fn prom_read(
    State(st): State<AppState>,
    principal: Option<Extension<Principal>>,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let limit = st.db.config().get_max_body_bytes();
    let Some(db) = database_param(&params) else {
        return database_required();
    };
    let bytes = match write::read_body(body, limit).await {
        Ok(b) => b,
        Err(refused) => return refused,
    };
    let principal = principal.map(|Extension(p)| p);
    let dbh = st.db.clone();
    match tokio::task::spawn_blocking(move || dbh.read_prometheus(&db, &bytes, principal)).await {
        // Made within the request's query_memory_limit; held for its client in the server's
        // answer budget, or refused.
        Ok(Ok(answer)) => match st.answers.charge(answer.len() as u64) {
            Ok(held) => {
                let mut r = answer_budget::answer("application/x-protobuf", answer, held);
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("snappy"));
                r
            }
            Err(e) => error_response(&e),
        },
        Ok(Err(e)) => error_response(&e),
        Err(e) => task_failed("read", &e),
    }
}

/// `POST /internal/compact?db=NAME`: a major compaction of the database (everything into C7);
/// answers 204 once it is done. strata's own endpoint (InfluxDB 1.x has none; VictoriaMetrics
/// has `/internal/force_merge`).
async fn compact(
    State(st): State<AppState>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(db) = database_param(&params) else {
        return database_required();
    };
    let dbh = st.db.clone();
    match tokio::task::spawn_blocking(move || dbh.major_compact(&db)).await {
        Ok(Ok(())) => with_version(StatusCode::NO_CONTENT.into_response()),
        Ok(Err(e)) => error_response(&e),
        Err(e) => task_failed("compaction", &e),
    }
}

async fn query(
    State(st): State<AppState>,
    principal: Option<Extension<Principal>>,
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
    let mut opts = QueryOptions::new(params.get("db").map_or("", String::as_str));
    opts.principal = principal.map(|Extension(p)| p);
    // Submitted on a blocking thread: a small query runs right there (inline, under a pool
    // permit, bound by query_timeout), never on the thread that serves other connections. A
    // pooled one is awaited here: if the client goes away, axum drops this future, which drops
    // the pending query and cancels it (its worker is freed at the next check).
    let db = st.db.clone();
    let submitted = tokio::task::spawn_blocking(move || db.submit_query(&q, &opts)).await;
    let r = match submitted {
        Ok(Ok(pending)) => pending.finish().await,
        Ok(Err(e)) => Err(e),
        Err(join) => Err(Error::Internal(format!("the query task failed: {join}"))),
    };
    // A stopped query is answered as InfluxDB 1.x does: 200, the reason as a statement error.
    let r = match r {
        Err(e @ (Error::QueryInterrupted | Error::QueryStopped(_))) => Ok(QueryResponse {
            results: vec![StatementResult::error(0, e.to_string())],
        }),
        r => r,
    };
    let limit = st.db.config().get_query_memory_limit();
    if csv_answer::wanted(&headers) {
        return csv_answer::answer(r, epoch, limit, &st.answers);
    }
    // The JSON is charged to query_memory_limit before it is rendered (the rows it renders
    // were charged while the query made them).
    let charged = charge_json(&r, limit);
    let (r, mut json_mem) = match (r, charged) {
        (Ok(_), Err(e)) => (
            Ok(QueryResponse {
                results: vec![StatementResult::error(0, e.to_string())],
            }),
            None,
        ),
        (r, charge) => (r, charge.ok().flatten()),
    };
    let resp = match r {
        Ok(resp) => resp,
        Err(e) => return error_response(&e),
    };
    // Until its client has taken it, the answer is also held in the server's answer budget
    // (src/server/answer_budget.rs): charged at its bound before it is rendered.
    let bound = json_mem.as_ref().map_or(0, |c| c.bytes());
    let mut held = match st.answers.charge(bound) {
        Ok(charge) => charge,
        Err(e) => return error_response(&e),
    };
    let mut body = resp.to_json_epoch(epoch);
    drop(resp);
    if params.get("pretty").is_some_and(|p| p == "true") {
        // The indented copy is charged beside the compact one before it is made.
        let wanted = pretty_json::pretty_len(&body);
        let charged = json_mem
            .as_mut()
            .map_or(Ok(()), |c| c.add(wanted as u64))
            .and_then(|()| answer_budget::resize(&mut held, body.len() + wanted));
        body = match charged {
            Ok(()) => pretty_json::pretty(&body),
            Err(e @ Error::AnswersBacklog { .. }) => return error_response(&e),
            Err(e) => {
                drop(body);
                let refused = QueryResponse {
                    results: vec![StatementResult::error(0, e.to_string())],
                };
                pretty_json::pretty(&refused.to_json_epoch(epoch))
            }
        };
    }
    drop(json_mem);
    if let Err(e) = answer_budget::resize(&mut held, body.len()) {
        return error_response(&e);
    }
    answer_budget::answer("application/json", body.into_bytes(), held)
}

/// InfluxDB 1.x's answer to a method a route does not take: 405, `Allow`, a plain-text body.
fn method_not_allowed(allow: &'static str) -> Response {
    with_version(
        (
            StatusCode::METHOD_NOT_ALLOWED,
            [
                (header::ALLOW, HeaderValue::from_static(allow)),
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("text/plain; charset=utf-8"),
                ),
                (
                    header::X_CONTENT_TYPE_OPTIONS,
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            "Method Not Allowed\n",
        )
            .into_response(),
    )
}

/// `OPTIONS` on a 1.x route: 200, empty (as 1.x answers CORS preflights).
async fn options() -> Response {
    with_version(StatusCode::OK.into_response())
}

/// `route` answering other methods as 1.x does ([`method_not_allowed`]).
fn only(route: MethodRouter<AppState>, allow: &'static str) -> MethodRouter<AppState> {
    route.fallback(move || async move { method_not_allowed(allow) })
}

/// The HTTP routes.
pub fn router(db: Arc<Db>) -> Router {
    Router::new()
        .route("/ping", only(get(ping).head(ping), "GET, HEAD"))
        .route("/health", get(health))
        .route("/metrics", get(metrics::metrics))
        .route(
            "/write",
            only(post(write::write).options(options), "POST, OPTIONS"),
        )
        .route(
            "/query",
            only(
                get(query).post(query).options(options),
                "GET, POST, OPTIONS",
            ),
        )
        .route("/api/v1/prom/write", only(post(write::prom_write), "POST"))
        .route("/api/v1/prom/read", only(post(prom_read), "POST"))
        .route("/internal/compact", post(compact))
        .route("/vq", only(post(vq::vq), "POST"))
        .with_state(AppState {
            answers: answer_budget::AnswerBudget::new(db.config()),
            db,
        })
}
