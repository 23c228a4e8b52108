//! The operator's routes on the local server, for `verify-proxy-admin --local URL --token T`:
//! `POST /_admin/explain {"number"}` answers what the guard holds about the number (JSON,
//! `shared::guard::explain`); `POST /_admin/unlock {"number","reason"}` lifts its own
//! refusals, audited (`shared::guard::admin`). Only from loopback, only with the token the
//! banner prints, and never from a browser (a request with an `Origin` is refused): a page you
//! visit can neither read the guard's state nor change it. Answers go through the proxy's one
//! response builder.

use std::net::SocketAddr;

use axum::http::{HeaderMap, header};
use axum::response::Response;
use serde_json::{Value, json};
use shared::Deps;
use shared::caller::response::{error_text, json_text};
use shared::verify::Number;
use subtle::ConstantTimeEq;

use crate::answer;

/// A refusal in the proxy's own error shape (`status` 4: the caller's credentials).
fn refuse(http: u16, text: &str) -> Response {
    answer(error_text(http, "4", text, None))
}

/// Why the call may not use the admin route (loopback, no browser, the token), if it may not.
fn refused(peer: SocketAddr, headers: &HeaderMap, token: &str) -> Option<Response> {
    if !peer.ip().is_loopback() {
        return Some(refuse(403, "the admin route answers loopback only"));
    }
    if headers.contains_key(header::ORIGIN) {
        return Some(refuse(403, "the admin route does not answer browsers"));
    }
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    if token.is_empty() || !bool::from(given.as_bytes().ct_eq(token.as_bytes())) {
        return Some(refuse(401, "send the admin token the banner printed"));
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
    let bad_request = |text: &str| answer(error_text(400, "3", text, None));
    let v = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    let Some(raw) = v.get("number").and_then(Value::as_str) else {
        return bad_request("send {\"number\": \"+44 7700 900123\"}");
    };
    let number = match Number::parse(raw) {
        Ok(n) => n,
        Err(e) => return bad_request(&e.to_string()),
    };
    let subject = deps.guard.subject(&number, None);
    match action {
        Action::Unlock => {
            let Some(reason) = v
                .get("reason")
                .and_then(Value::as_str)
                .filter(|r| !r.is_empty())
            else {
                return bad_request("an unlock needs a reason");
            };
            let by = v.get("by").and_then(Value::as_str).unwrap_or("local-admin");
            ok(deps
                .guard
                .unlock(&subject, by, reason)
                .await
                .map(|u| json!(u)))
        }
        Action::Explain => {
            let explained = deps.guard.explain(&subject).await;
            if let Ok(e) = &explained {
                tracing::info!(number_hmac = %e.number_hmac, "admin: explain");
            }
            ok(explained.map(|e| json!(e)))
        }
    }
}

/// The guard's answer, or 503 when its store could not be reached.
fn ok(r: Result<Value, shared::guard::store::StoreError>) -> Response {
    match r {
        Ok(v) => answer(json_text(200, v.to_string(), None)),
        Err(e) => refuse(503, &e.to_string()),
    }
}
