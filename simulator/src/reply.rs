//! Response builders shared by Verify's paths and the hooks.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Verify's JSON responses: HTTP 200, `application/json` without charset, gateway headers.
pub(crate) fn verify_json(body: Value) -> Response {
    secure(sim_json(StatusCode::OK, body))
}

pub(crate) fn plain(status: StatusCode, text: &'static str) -> Response {
    secure((status, text).into_response())
}

pub(crate) fn secure(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert(
        "x-xss-protection",
        HeaderValue::from_static("1; mode=block"),
    );
    h.insert(
        "strict-transport-security",
        HeaderValue::from_static("max-age=31536000; includeSubdomains"),
    );
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    r
}

pub(crate) fn sim_json(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
