//! The daemon's front door when authentication is on (`--auth-enabled`): a middleware that
//! finds the request's credentials the ways InfluxDB 1.x accepts them, checks them, answers
//! 401 or 403 in 1.x's words, and hands the [`Principal`] to the handlers (the `/query`
//! handler passes it on in [`crate::query::QueryOptions`], where each statement is authorized).
//!
//! Credentials, in 1.x's order: `u` and `p` in the URL (both non-empty); then, strata's
//! addition, `u` and `p` in a form body (`POST /query`, `application/x-www-form-urlencoded`);
//! then the `Authorization` header: `Token user:password`, or HTTP Basic. `Bearer` (1.x's JWT)
//! is answered `bearer auth disabled`, as 1.x does without a shared secret.
//!
//! `/ping`, `/health` and `/metrics` stay open, as in 1.x. While no user exists, requests pass
//! without credentials (as 1.x: only the first admin can then be created). Once users exist,
//! every other request needs valid credentials: missing ones are 401
//! `unable to parse authentication credentials`, a wrong user or password 401
//! `authorization failed` (with `WWW-Authenticate: Basic realm="InfluxDB"`). A write needs
//! `WRITE` or `ALL` on its database (else 403 `"bob" user is not authorized to write to database
//! "db"`), `/internal/compact` an admin.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Router;

use super::{AuthError, Principal};
use crate::db::Db;

/// Paths that never need credentials (1.x leaves them open).
const OPEN: &[&str] = &["/ping", "/health", "/metrics"];

/// `router` behind the authentication middleware.
pub fn protect(router: Router, db: Arc<Db>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(db, guard))
}

/// The answer to a request refused for `e`: 1.x's JSON error body, 401 with a Basic challenge
/// or 403.
pub fn refuse(e: &AuthError) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::FORBIDDEN);
    let msg = e.to_string();
    let mut r = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        serde_json::json!({ "error": msg }).to_string(),
    )
        .into_response();
    let h = r.headers_mut();
    h.insert(
        "X-Influxdb-Version",
        HeaderValue::from_static(crate::server::VERSION),
    );
    h.insert("X-Influxdb-Build", HeaderValue::from_static("OSS"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"InfluxDB\""),
        );
    } else if let Ok(v) = HeaderValue::from_str(&msg.chars().take(1024).collect::<String>()) {
        h.insert("X-Influxdb-Error", v);
    }
    r
}

/// What a request presented.
#[derive(Debug, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password.
    Password {
        user: String,
        password: String,
    },
    /// `Authorization: Bearer ...` (JWT, which strata does not support).
    Bearer,
    None,
}

/// `u` and `p` of a query string or form body, if both are non-empty (1.x's rule).
fn user_password(pairs: &[u8]) -> Option<(String, String)> {
    let mut u = None;
    let mut p = None;
    for (k, v) in form_urlencoded::parse(pairs) {
        match &*k {
            "u" if u.is_none() => u = Some(v.into_owned()),
            "p" if p.is_none() => p = Some(v.into_owned()),
            _ => {}
        }
    }
    match (u, p) {
        (Some(u), Some(p)) if !u.is_empty() && !p.is_empty() => Some((u, p)),
        _ => None,
    }
}

/// The credentials of a request: its query string, its form body (if it has one) and its
/// headers, in 1.x's order.
pub fn credentials(query: &str, form: Option<&[u8]>, headers: &HeaderMap) -> Credentials {
    let pw = |(user, password)| Credentials::Password { user, password };
    if let Some(c) = user_password(query.as_bytes()) {
        return pw(c);
    }
    if let Some(c) = form.and_then(user_password) {
        return pw(c);
    }
    let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Credentials::None;
    };
    let parts: Vec<&str> = auth.split(' ').collect();
    if let [scheme, value] = parts.as_slice() {
        match *scheme {
            "Bearer" => return Credentials::Bearer,
            "Token" => {
                if let Some((u, p)) = value.split_once(':') {
                    return pw((u.to_string(), p.to_string()));
                }
            }
            _ => {}
        }
    }
    match basic(auth) {
        Some(c) => pw(c),
        None => Credentials::None,
    }
}

/// HTTP Basic credentials (`Basic base64(user:password)`, scheme case-insensitive).
fn basic(auth: &str) -> Option<(String, String)> {
    let (scheme, b64) = auth.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    use base64ct::Encoding as _;
    let raw = base64ct::Base64::decode_vec(b64.trim()).ok()?;
    let text = String::from_utf8(raw).ok()?;
    let (u, p) = text.split_once(':')?;
    Some((u.to_string(), p.to_string()))
}

/// Whether a request's body is a form (`POST /query` may carry `u`/`p` there).
fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

/// The middleware (see the module documentation).
async fn guard(State(db): State<Arc<Db>>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if OPEN.contains(&path.as_str()) {
        return next.run(req).await;
    }
    let query = req.uri().query().unwrap_or_default().to_string();
    let users = db.users();
    let (req, principal) = if users.is_empty() {
        (req, Principal::Bootstrap)
    } else {
        // A form body may hold the credentials: read it (bounded like the handler reads it)
        // and put it back for the handler.
        let (req, form) = if path == "/query" && is_form(req.headers()) {
            let (parts, body) = req.into_parts();
            let limit = db.config().get_max_body_bytes();
            let Ok(bytes) = to_bytes(body, limit).await else {
                return refuse(&AuthError::NoCredentials);
            };
            (
                Request::from_parts(parts, Body::from(bytes.clone())),
                Some(bytes),
            )
        } else {
            (req, None)
        };
        let (user, password) = match credentials(&query, form.as_deref(), req.headers()) {
            Credentials::Password { user, password } => (user, password),
            Credentials::Bearer => return refuse(&AuthError::BearerDisabled),
            Credentials::None => return refuse(&AuthError::NoCredentials),
        };
        if user.is_empty() {
            return refuse(&AuthError::UsernameRequired);
        }
        if !users.authenticate_cached(&user, &password) {
            // An argon2 verification: tens of milliseconds of CPU, off the async threads.
            let dbh = db.clone();
            let u = user.clone();
            let checked =
                tokio::task::spawn_blocking(move || dbh.users().authenticate(&u, &password)).await;
            match checked {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return refuse(&e),
                Err(_) => return refuse(&AuthError::AuthorizationFailed),
            }
        }
        (req, Principal::User(user))
    };
    if let Some(refused) = authorize_endpoint(&db, &path, &query, &principal) {
        return refused;
    }
    let mut req = req;
    req.extensions_mut().insert(principal);
    next.run(req).await
}

/// The per-endpoint checks that need no statement: a write (`/write`, a Prometheus remote
/// write) needs `WRITE` on its database (checked after the handler's own 400 "database is
/// required" and 404 "database not found", as 1.x orders them), `/internal/compact` an admin.
/// A Prometheus remote read runs its queries as the user, each statement authorized.
fn authorize_endpoint(db: &Db, path: &str, query: &str, principal: &Principal) -> Option<Response> {
    let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let database = params.get("db").filter(|d| !d.is_empty())?;
    if db.database(database).is_err() {
        return None;
    }
    let users = db.users();
    match path {
        "/write" | "/api/v1/prom/write" => users
            .authorize_write(principal, database)
            .err()
            .map(|e| refuse(&e)),
        "/internal/compact" if !users.is_admin(principal) => {
            Some(refuse(&AuthError::CompactNotAuthorized {
                user: match principal {
                    Principal::User(u) => u.clone(),
                    Principal::Bootstrap => String::new(),
                },
                database: database.clone(),
            }))
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn headers(auth: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(auth).unwrap());
        h
    }

    fn pw(u: &str, p: &str) -> Credentials {
        Credentials::Password {
            user: u.into(),
            password: p.into(),
        }
    }

    #[test]
    fn credentials_in_1x_order() {
        let none = HeaderMap::new();
        assert_eq!(credentials("u=bob&p=pw", None, &none), pw("bob", "pw"));
        assert_eq!(
            credentials("db=x&u=b%20b&p=p%26w", None, &none),
            pw("b b", "p&w")
        );
        // Both must be non-empty, else the header is looked at.
        assert_eq!(credentials("u=bob&p=", None, &none), Credentials::None);
        assert_eq!(
            credentials("u=bob", Some(b"q=SHOW+USERS&u=bob&p=pw"), &none),
            pw("bob", "pw")
        );
        // "bob:pw" in base64.
        assert_eq!(
            credentials("", None, &headers("Basic Ym9iOnB3")),
            pw("bob", "pw")
        );
        assert_eq!(
            credentials("", None, &headers("Token bob:p:w")),
            pw("bob", "p:w")
        );
        assert_eq!(
            credentials("", None, &headers("Bearer xyz")),
            Credentials::Bearer
        );
        assert_eq!(
            credentials("", None, &headers("Basic !!")),
            Credentials::None
        );
        // URL parameters win over the header.
        assert_eq!(
            credentials("u=a&p=b", None, &headers("Basic Ym9iOnB3")),
            pw("a", "b")
        );
    }
}
