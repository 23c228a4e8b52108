//! `POST /events`: Verify v2's status callbacks. Vonage signs each one: `Authorization:
//! Bearer <JWT>`, HS256 with the account's signature secret, with `payload_hash` (SHA-256 of
//! the body, hex) and `iat`. Anything unsigned, wrongly signed, altered or stale is 401 and
//! changes nothing. A finished verification's outcome is recorded on the guard's record (the
//! first report wins), where `/search`, the conversion figures and the metrics read it.

use std::time::Instant;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use thiserror::Error;

use crate::caller::response;
use crate::deps::Deps;
use crate::guard::keys::hex;
use crate::metrics::{self, Facts};
use crate::verify::RequestId;

/// How old (or how far in the future) a callback's `iat` may be: a captured callback cannot
/// be replayed later.
pub const MAX_AGE_S: i64 = 300;

#[derive(Debug, Error)]
pub enum EventError {
    #[error("method not allowed: use POST")]
    Method,
    #[error("unsigned or wrongly signed callback ({0})")]
    Signature(&'static str),
    #[error("not a Verify v2 callback")]
    Body,
    #[error("this deployment receives no events (no signature secret configured)")]
    NotConfigured,
}

impl EventError {
    /// (HTTP status, Verify-style `status`), as the endpoints answer the same kinds of error.
    fn http(&self) -> (u16, &'static str) {
        match self {
            Self::Method => (405, "3"),
            Self::Signature(_) => (401, "4"),
            Self::Body => (400, "3"),
            Self::NotConfigured => (503, "5"),
        }
    }
}

#[derive(Deserialize)]
struct Claims {
    iat: i64,
    payload_hash: String,
    /// The token's id: a replay of a captured callback carries the same one.
    #[serde(default)]
    jti: Option<String>,
}

/// Checks the signature of `body` against the `Authorization` header; `now_s` for `iat`.
/// The token's `jti`, when it has one.
pub fn verify_signature(
    authorization: Option<&str>,
    body: &[u8],
    secret: &str,
    now_s: i64,
) -> Result<Option<String>, EventError> {
    let token = authorization
        .and_then(|v| v.strip_prefix("Bearer "))
        .ok_or(EventError::Signature("no bearer token"))?
        .trim();
    let mut validation = Validation::new(Algorithm::HS256);
    // Vonage's webhook JWTs carry no `exp`; freshness is `iat`'s, checked below.
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    let data = jsonwebtoken::decode::<Claims>(
        token,
        &DecodingKey::from_secret(secret.as_bytes()),
        &validation,
    )
    .map_err(|_| EventError::Signature("bad signature"))?;
    if (now_s - data.claims.iat).abs() > MAX_AGE_S {
        return Err(EventError::Signature("stale"));
    }
    let hash = hex(&Sha256::digest(body));
    if !hash.eq_ignore_ascii_case(&data.claims.payload_hash) {
        return Err(EventError::Signature(
            "payload_hash does not match the body",
        ));
    }
    Ok(data.claims.jti.filter(|j| !j.is_empty()))
}

/// What one accepted callback did.
struct Received {
    /// The verification it is about (for the log line, linking it to the proxy's own).
    request_id: String,
    outcome: Option<&'static str>,
    recorded: bool,
    /// The same signed callback (its `jti`) was received before: nothing was done.
    duplicate: bool,
}

#[derive(Deserialize)]
struct Callback {
    request_id: String,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    status: Option<String>,
}

/// A callback's verdict on the whole verification, in v1's search words; `None` when it is
/// not final (one channel failed and the next takes over, a silent-auth step, ...).
pub fn outcome(kind: Option<&str>, status: Option<&str>) -> Option<&'static str> {
    match (kind, status?) {
        (Some("summary"), "completed") | (Some("event"), "completed") => Some("SUCCESS"),
        (Some("summary"), "failed" | "user_rejected") => Some("FAILED"),
        (Some("summary"), "expired") => Some("EXPIRED"),
        (Some("summary"), "cancelled") => Some("CANCELLED"),
        _ => None,
    }
}

/// One callback, start to answer, with one log line (and a metric for a recorded outcome).
pub async fn serve(req: Request, deps: &Deps) -> Response<Body> {
    let started = Instant::now();
    let result = receive(&req, deps).await;
    let duplicate = matches!(&result, Ok(r) if r.duplicate);
    let (http, body, outcome, recorded, error) = match &result {
        // A replay is acknowledged (the sender may stop) and said to be one.
        Ok(r) if r.duplicate => (
            200,
            json!({"status": "0", "duplicate": true}),
            None,
            false,
            None,
        ),
        Ok(r) => (200, json!({"status": "0"}), r.outcome, r.recorded, None),
        Err(e) => {
            let ((http, status), text) = (e.http(), e.to_string());
            let body = json!({"status": status, "error_text": text});
            (http, body, None, false, Some(text))
        }
    };
    let verify_request_id = result.as_ref().ok().map(|r| r.request_id.as_str());
    tracing::info!(
        endpoint = "events",
        verify_request_id,
        http_status = http,
        outcome,
        recorded,
        duplicate,
        duration_ms = started.elapsed().as_millis() as u64,
        error,
        "invocation"
    );
    if deps.config.observe.metrics && recorded {
        metrics::emit(
            &deps.config.observe.namespace,
            &Facts {
                endpoint: "events",
                outcome,
                store_errors: deps.guard.take_store_errors(),
                ..Facts::default()
            },
        );
    }
    // Vonage posts these server to server: no CORS.
    let mut resp = response::json_text(http, body.to_string(), None);
    if http == 405 {
        response::set(&mut resp, "allow", "POST");
    }
    resp
}

async fn receive(req: &Request, deps: &Deps) -> Result<Received, EventError> {
    if req.method() != Method::POST {
        return Err(EventError::Method);
    }
    let secret = deps
        .signature_secret
        .as_deref()
        .ok_or(EventError::NotConfigured)?;
    let body = req.body().as_ref();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok());
    let now_s = jsonwebtoken::get_current_timestamp() as i64;
    let jti = verify_signature(authorization, body, secret, now_s)?;
    let cb: Callback = serde_json::from_slice(body).map_err(|_| EventError::Body)?;
    let id = RequestId::parse(&cb.request_id).map_err(|_| EventError::Body)?;
    // Within the window a signature is fresh in (either side of `iat`), a jti is seen once.
    let window_ms = 2 * MAX_AGE_S * 1000;
    if let Some(jti) = &jti
        && !deps.guard.first_callback(jti, window_ms).await
    {
        return Ok(Received {
            request_id: id.to_string(),
            outcome: None,
            recorded: false,
            duplicate: true,
        });
    }
    let Some(outcome) = outcome(cb.kind.as_deref(), cb.status.as_deref()) else {
        return Ok(Received {
            request_id: id.to_string(),
            outcome: None,
            recorded: false,
            duplicate: false,
        });
    };
    let recorded = deps
        .guard
        .finished(id.as_str(), outcome, deps.guard.now())
        .await;
    Ok(Received {
        request_id: id.to_string(),
        outcome: Some(outcome),
        recorded,
        duplicate: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign(body: &str, secret: &str, iat: i64, hash: Option<&str>) -> String {
        let h = hex(&Sha256::digest(body.as_bytes()));
        let claims =
            json!({"iat": iat, "jti": "x", "api_key": "k", "payload_hash": hash.unwrap_or(&h)});
        let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
        format!(
            "Bearer {}",
            jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).unwrap()
        )
    }

    #[test]
    fn signatures() {
        let body = r#"{"request_id":"x","status":"completed"}"#;
        let ok = sign(body, "s3cret", 1000, None);
        assert!(verify_signature(Some(&ok), body.as_bytes(), "s3cret", 1000).is_ok());
        let tampered = body.replace("completed", "failed");
        for (auth, body, now, why) in [
            (None, body, 1000, "unsigned"),
            (Some(ok.as_str()), body, 1000 + MAX_AGE_S + 1, "stale"),
            (Some(ok.as_str()), tampered.as_str(), 1000, "tampered body"),
        ] {
            assert!(
                matches!(
                    verify_signature(auth, body.as_bytes(), "s3cret", now),
                    Err(EventError::Signature(_))
                ),
                "{why}"
            );
        }
        let other = sign(body, "other-secret", 1000, None);
        assert!(verify_signature(Some(&other), body.as_bytes(), "s3cret", 1000).is_err());
        let lie = sign(body, "s3cret", 1000, Some("00"));
        assert!(verify_signature(Some(&lie), body.as_bytes(), "s3cret", 1000).is_err());
        // `alg: none` and an RS256 header are not HS256.
        let none = format!(
            "Bearer {}.{}.",
            base64_url(r#"{"alg":"none","typ":"JWT"}"#),
            base64_url(r#"{"iat":1000,"payload_hash":"x"}"#)
        );
        assert!(verify_signature(Some(&none), body.as_bytes(), "s3cret", 1000).is_err());
    }

    fn base64_url(s: &str) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    #[test]
    fn only_final_statuses_are_outcomes() {
        assert_eq!(outcome(Some("summary"), Some("completed")), Some("SUCCESS"));
        assert_eq!(outcome(Some("summary"), Some("expired")), Some("EXPIRED"));
        assert_eq!(
            outcome(Some("summary"), Some("cancelled")),
            Some("CANCELLED")
        );
        assert_eq!(
            outcome(Some("event"), Some("failed")),
            None,
            "a fallback follows"
        );
        assert_eq!(outcome(Some("summary"), None), None);
    }
}
