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

use super::answer_budget::{answer, AnswerBudget, ByteCount};
use super::{error_response, json_error, task_failed, with_version, AppState};
use crate::auth::Principal;
use crate::query::limits::Charge;
use crate::query::result::JsonStringContents;
use crate::vq::{cli::exit_code, write_rendered, VqOutput, DEFAULT_DATABASE};

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
        Ok(Ok(outputs)) => {
            return match output_json(&outputs, &st.answers) {
                Ok((json, held)) => answer("application/json", json.into_bytes(), held),
                Err(e) => error_response(&e),
            }
        }
        Ok(Err(e)) => serde_json::json!({
            "output": "",
            "error": e.to_string(),
            "exit": exit_code(&e),
        }),
        Err(e) => return task_failed("vq", &e),
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

/// `{"output": TEXT}` for a program's outputs, written straight from them (no copy of the text
/// first): its escaped size is counted, charged to the server's answer budget, then the JSON is
/// made at that capacity. The charge travels with the answer.
fn output_json(outputs: &[VqOutput], answers: &AnswerBudget) -> crate::Result<(String, Charge)> {
    const OPEN: &str = r#"{"output":""#;
    const CLOSE: &str = r#""}"#;
    let mut count = ByteCount(0);
    let _ = write_rendered(&mut JsonStringContents(&mut count), outputs);
    let len = OPEN.len() + count.0 + CLOSE.len();
    let held = answers.charge(len as u64)?;
    let mut json = String::with_capacity(len);
    json.push_str(OPEN);
    let _ = write_rendered(&mut JsonStringContents(&mut json), outputs);
    json.push_str(CLOSE);
    Ok((json, held))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::vq::{render, VqPoint};

    #[test]
    fn the_answer_is_the_rendered_text_as_json_and_charged_at_its_size() {
        let outputs = vec![
            VqOutput::Points(vec![VqPoint {
                timestamp: 1,
                metric: "m".into(),
                tags: vec![("k".into(), "a \"b\" \\ \u{1} é".into())],
                value: 2.5,
            }]),
            VqOutput::None,
            VqOutput::Count(3),
            VqOutput::Tables(vec!["t\tab".into(), "u".into()]),
        ];
        let answers = AnswerBudget::new(&Config::new().query_memory_limit(1 << 20));
        let (json, held) = output_json(&outputs, &answers).expect("fits");
        assert_eq!(held.bytes(), json.len() as u64);
        assert_eq!(json.capacity(), json.len());
        let value: serde_json::Value = serde_json::from_str(&json).expect("valid JSON");
        assert_eq!(value["output"], render(&outputs));
        // Past the budget: refused before it is made.
        let small = AnswerBudget::new(
            &Config::new()
                .max_concurrent_queries(1)
                .query_memory_limit(10),
        );
        assert!(matches!(
            output_json(&outputs, &small),
            Err(crate::Error::AnswersBacklog { .. })
        ));
    }
}
