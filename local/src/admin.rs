//! The operator's routes on the local server, for `verify-proxy-admin --local URL --token T`:
//! `POST /_admin/explain {"number"}` answers what the guard holds about the number (JSON,
//! `shared::guard::explain`); `POST /_admin/unlock {"number","reason"}` lifts its own
//! refusals, audited (`shared::guard::admin`). Only from loopback, only with the token the banner prints, and
//! never from a browser (a request with an `Origin` is refused): a page you visit can neither
//! read the guard's state nor change it.

use std::net::SocketAddr;

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use shared::Deps;
use shared::verify::Number;
use subtle::ConstantTimeEq;

fn refuse(status: StatusCode, text: &str) -> Response {
    let body = json!({ "status": "4", "error_text": text });
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// Why the call may not use the admin route (loopback, no browser, the token), if it may not.
fn refused(peer: SocketAddr, headers: &HeaderMap, token: &str) -> Option<Response> {
    if !peer.ip().is_loopback() {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "the admin route answers loopback only",
        ));
    }
    if headers.contains_key(header::ORIGIN) {
        return Some(refuse(
            StatusCode::FORBIDDEN,
            "the admin route does not answer browsers",
        ));
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if token.is_empty() || !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return Some(refuse(
            StatusCode::UNAUTHORIZED,
            "send the admin token the banner printed",
        ));
    }
    None
}

/// Which admin call.
#[derive(Clone, Copy)]
pub enum Action {
    Explain,
    Unlock,
}

pub async fn handle(
    action: Action,
    deps: &Deps,
    token: &str,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    if let Some(no) = refused(peer, headers, token) {
        return no;
    }
    let v = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let raw = v.get("number").and_then(Value::as_str).map(String::from);
    let Some(raw) = raw else {
        return bad_request("send {\"number\": \"+44 7700 900123\"}");
    };
    let number = match Number::parse(&raw) {
        Ok(n) => n,
        Err(e) => return bad_request(&e.to_string()),
    };
    let subject = deps.guard.subject(&number, None);
    if let Action::Unlock = action {
        let Some(reason) = v
            .get("reason")
            .and_then(Value::as_str)
            .filter(|r| !r.is_empty())
        else {
            return bad_request("an unlock needs a reason");
        };
        let by = v.get("by").and_then(Value::as_str).unwrap_or("local-admin");
        return match deps.guard.unlock(&subject, by, reason).await {
            Ok(done) => (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                json!(done).to_string(),
            )
                .into_response(),
            Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
        };
    }
    match deps.guard.explain(&subject).await {
        Ok(e) => {
            let mut v = json!(e);
            v["number"] = json!(number.masked());
            tracing::info!(number_hmac = %e.number_hmac, "admin: explain");
            (
                StatusCode::OK,
                [(header::CONTENT_TYPE, "application/json")],
                v.to_string(),
            )
                .into_response()
        }
        Err(e) => refuse(StatusCode::SERVICE_UNAVAILABLE, &e.to_string()),
    }
}

fn bad_request(text: &str) -> Response {
    let body = json!({ "status": "3", "error_text": text });
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}
