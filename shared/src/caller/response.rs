//! Turning an upstream reply or a `ProxyError` into our HTTP response (statuses come from
//! `status.rs`); the one place where headers are set.

use lambda_http::{Body, Response};
use serde::Serialize;
use serde_json::{Value, json};

use crate::caller::status;
use crate::config::Config;
use crate::error::ProxyError;
use crate::verify::types::HasStatus;

/// An answer for the caller: Verify's `status` (which decides the HTTP status) and the JSON.
#[derive(Debug, Clone)]
pub struct Reply {
    pub verify_status: String,
    pub body: Value,
}

impl Reply {
    pub fn from_typed<T: Serialize + HasStatus>(typed: &T) -> Self {
        Self {
            verify_status: typed.status().to_string(),
            body: serde_json::to_value(typed).unwrap_or(Value::Null),
        }
    }
}

pub use crate::caller::status::ACCOUNT_PROBLEM_TEXT;

pub fn from_reply(mut reply: Reply, config: &Config) -> Response<Body> {
    let http = status::http_for(&reply.verify_status);
    if let Some(text) = status::generic_text(&reply.verify_status)
        && let Some(obj) = reply.body.as_object_mut()
    {
        // The operator needs Verify's own words; the caller gets ours.
        let original = obj.insert("error_text".into(), json!(text));
        tracing::warn!(
            verify_status = reply.verify_status,
            upstream_error_text = original.as_ref().and_then(|v| v.as_str()),
            "upstream error text replaced"
        );
    }
    // A status Verify's documents do not have is not passed on: callers' tables know `5`.
    if !status::is_known(&reply.verify_status)
        && let Some(obj) = reply.body.as_object_mut()
    {
        tracing::warn!(upstream_status = %reply.verify_status, "unknown upstream status answered as 5");
        obj.insert("status".into(), json!("5"));
    }
    if http >= 400
        && let Some(obj) = reply.body.as_object_mut()
        && !obj.get("error_text").is_some_and(Value::is_string)
    {
        let text = status::fallback_text(&reply.verify_status);
        obj.insert("error_text".into(), json!(text));
    }
    let retry_after = (reply.verify_status == "1").then_some("1");
    build(http, &reply.body, config, retry_after)
}

pub fn from_error(err: &ProxyError, config: &Config) -> Response<Body> {
    let (http, verify_status) = status::for_error(err);
    let body = json!({ "status": verify_status, "error_text": err.to_string() });
    let retry_after = err.retry_after().map(|s| s.to_string());
    let mut resp = build(http, &body, config, retry_after.as_deref());
    if http == 405
        && let Ok(v) = "POST, OPTIONS".parse()
    {
        resp.headers_mut().insert("allow", v);
    }
    resp
}

/// An empty 204 answer to a CORS preflight (only when CORS is configured); `auth_header` is
/// the app attestation header a page must be allowed to send.
pub fn preflight(config: &Config, auth_header: Option<&str>) -> Response<Body> {
    let mut resp = build(204, &Value::Null, config, None);
    *resp.body_mut() = Body::Empty;
    let headers = match auth_header {
        Some(h) => format!("content-type, {h}"),
        None => "content-type".into(),
    };
    let h = resp.headers_mut();
    for (k, v) in [
        ("access-control-allow-methods", "POST, OPTIONS"),
        ("access-control-allow-headers", headers.as_str()),
        ("access-control-max-age", "600"),
    ] {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    }
    resp
}

fn build(http: u16, body: &Value, config: &Config, retry_after: Option<&str>) -> Response<Body> {
    let mut resp = json_text(http, body.to_string(), config.caller.cors_origin.as_deref());
    if let Some(r) = retry_after {
        set(&mut resp, "retry-after", r);
    }
    resp
}

/// The one builder of our answers (every endpoint, `/events` and `/jwks` too): JSON, not
/// cached, not sniffed, and CORS headers for `cors_origin` when a deployment has one.
pub fn json_text(http: u16, text: String, cors_origin: Option<&str>) -> Response<Body> {
    let mut resp = Response::new(Body::Text(text));
    *resp.status_mut() = lambda_http::http::StatusCode::from_u16(http)
        .unwrap_or(lambda_http::http::StatusCode::BAD_GATEWAY);
    set(&mut resp, "content-type", "application/json");
    set(&mut resp, "cache-control", "no-store");
    set(&mut resp, "x-content-type-options", "nosniff");
    if let Some(origin) = cors_origin {
        set(&mut resp, "access-control-allow-origin", origin);
        set(&mut resp, "vary", "Origin");
    }
    resp
}

/// A JSON error in our shape (`status` 3 is Verify's "invalid value": the request's fault).
pub fn error_text(
    http: u16,
    status: &str,
    text: &str,
    cors_origin: Option<&str>,
) -> Response<Body> {
    json_text(
        http,
        json!({ "status": status, "error_text": text }).to_string(),
        cors_origin,
    )
}

/// Sets a header (values here are ours, so a bad one is a bug caught by the tests).
pub fn set(resp: &mut Response<Body>, name: &'static str, value: &str) {
    if let Ok(v) = value.parse() {
        resp.headers_mut().insert(name, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::UpstreamError;

    fn body(r: &Response<Body>) -> Value {
        serde_json::from_slice(r.body().as_ref()).unwrap()
    }

    #[test]
    fn account_problems_are_not_echoed() {
        let r = from_reply(
            Reply {
                verify_status: "4".into(),
                body: json!({"status":"4","error_text":"Bad Credentials"}),
            },
            &Config::default(),
        );
        assert_eq!(r.status(), 502);
        assert_eq!(body(&r)["error_text"], ACCOUNT_PROBLEM_TEXT);
        assert_eq!(body(&r)["status"], "4");
    }

    #[test]
    fn throttled_has_retry_after() {
        let r = from_reply(
            Reply {
                verify_status: "1".into(),
                body: json!({"status":"1","error_text":"Throttled"}),
            },
            &Config::default(),
        );
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
    }

    #[test]
    fn errors_are_json_with_status() {
        let cfg = Config::from_pairs(&[("CORS_ALLOW_ORIGIN", "https://app.example")]).unwrap();
        let r = from_error(&ProxyError::Upstream(UpstreamError::Timeout), &cfg);
        assert_eq!(r.status(), 504);
        assert_eq!(r.headers()["content-type"], "application/json");
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://app.example"
        );
        assert_eq!(body(&r)["status"], "5");
        let r = from_error(
            &ProxyError::MethodNotAllowed("GET".into()),
            &Config::default(),
        );
        assert_eq!(r.status(), 405);
        assert!(r.headers().get("access-control-allow-origin").is_none());
        assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    }
}
