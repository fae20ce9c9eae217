//! `POST /vq?db=NAME`: run the body as vq text against database `NAME` (default `vq`) of the
//! daemon's data directory, so `strata vq --socket PATH` works beside a running daemon.
//!
//! The answer is 200 with JSON `{"output": TEXT}` (what `strata vq` prints on stdout), or
//! `{"output": "", "error": LINE, "exit": 65|70}` for a parse or runtime error (the §6.2 line
//! and the exit code file mode gives). With authentication on, the user needs `ALL` privileges
//! on the database (an admin may also create it by running vq on it).

use axum::body::{to_bytes, Body};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use std::collections::HashMap;

use super::{json_error, with_version, AppState};
use crate::auth::Principal;
use crate::vq::{cli::exit_code, render, DEFAULT_DATABASE};

pub(super) async fn vq(
    State(st): State<AppState>,
    principal: Option<Extension<Principal>>,
    Query(params): Query<HashMap<String, String>>,
    body: Body,
) -> Response {
    let database = params
        .get("db")
        .filter(|d| !d.is_empty())
        .cloned()
        .unwrap_or_else(|| DEFAULT_DATABASE.to_string());
    if let Some(Extension(who)) = principal {
        let users = st.db.users();
        let exists = st.db.database(&database).is_ok();
        let allowed = users.is_admin(&who) || (exists && users.may_read_and_write(&who, &database));
        if !allowed {
            return json_error(
                StatusCode::FORBIDDEN,
                &format!(
                    "not authorized to run vq on database {database:?}: requires ALL privileges"
                ),
            );
        }
    }
    let Ok(bytes) = to_bytes(body, st.db.config().get_max_body_bytes()).await else {
        return json_error(StatusCode::PAYLOAD_TOO_LARGE, "request body too large");
    };
    let Ok(source) = String::from_utf8(bytes.to_vec()) else {
        return json_error(StatusCode::BAD_REQUEST, "the vq text is not UTF-8");
    };
    let db = st.db.clone();
    let ran = tokio::task::spawn_blocking(move || db.vq_in(&database, &source)).await;
    let answer = match ran {
        Ok(Ok(outputs)) => serde_json::json!({ "output": render(&outputs) }),
        Ok(Err(e)) => serde_json::json!({
            "output": "",
            "error": e.to_string(),
            "exit": exit_code(&e),
        }),
        Err(e) => {
            return json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("the vq task failed: {e}"),
            )
        }
    };
    with_version(
        (
            StatusCode::OK,
            [(
                axum::http::header::CONTENT_TYPE,
                axum::http::HeaderValue::from_static("application/json"),
            )],
            answer.to_string(),
        )
            .into_response(),
    )
}
