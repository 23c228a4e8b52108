//! v2 errors: HTTP status codes with RFC 7807 problem details (`type`, `title`, `detail`,
//! `instance`), in the shapes of the v2 description and Vonage's SDK fixtures.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::reply::{secure, sim_json};

const DOCS: &str = "https://www.developer.vonage.com/api-errors";

/// One v2 error answer.
pub(crate) fn problem(status: StatusCode, kind: &str, title: &str, detail: &str) -> Response {
    problem_with(status, kind, title, detail, json!({}))
}

/// A problem with extra members (`request_id` on a conflict, `invalid_parameters` on 422).
pub(crate) fn problem_with(
    status: StatusCode,
    kind: &str,
    title: &str,
    detail: &str,
    extra: Value,
) -> Response {
    let mut body = json!({
        "type": format!("{DOCS}{kind}"),
        "title": title,
        "detail": detail,
        "instance": instance(),
    });
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        b.extend(e.clone());
    }
    secure(sim_json(status, body))
}

pub(crate) fn unauthorized() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "#unauthorized",
        "Unauthorized",
        "You did not provide correct credentials.",
    )
}

pub(crate) fn not_found(id: &str) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        "#not-found",
        "Not Found",
        &format!("Request '{id}' was not found or it has been verified already."),
    )
}

pub(crate) fn throttled() -> Response {
    problem(
        StatusCode::TOO_MANY_REQUESTS,
        "#throttled",
        "Rate Limit Hit",
        "Please wait, then retry your request",
    )
}

pub(crate) fn invalid_params(params: &[(&str, String)]) -> Response {
    let list: Vec<Value> = params
        .iter()
        .map(|(name, reason)| json!({ "name": name, "reason": reason }))
        .collect();
    problem_with(
        StatusCode::UNPROCESSABLE_ENTITY,
        "#invalid-params",
        "Invalid params",
        "The value of one or more parameters is invalid",
        json!({ "invalid_parameters": list }),
    )
}

/// A trace id like the real API's (unique enough for a simulator).
fn instance() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("{:032x}", NEXT.fetch_add(1, Ordering::Relaxed))
}
