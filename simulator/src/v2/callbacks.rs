//! v2 status callbacks: each finished verification's `summary` is POSTed to the configured
//! URL, signed as Vonage signs webhooks: `Authorization: Bearer <JWT>`, HS256 with the
//! account's signature secret, claims `api_key`, `iat`, `jti` and `payload_hash` (the
//! SHA-256 of the body, hex).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

#[derive(Debug, Clone, Deserialize, Serialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CallbackTarget {
    pub url: String,
    pub signature_secret: String,
}

/// The `Authorization` value for `body` sent on behalf of `api_key` at `now_s`.
pub fn signature(api_key: &str, body: &str, secret: &str, now_s: u64, jti: &str) -> Option<String> {
    let hash: String = Sha256::digest(body.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let claims = json!({ "api_key": api_key, "iat": now_s, "jti": jti, "payload_hash": hash });
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    let token = jsonwebtoken::encode(&jsonwebtoken::Header::default(), &claims, &key).ok()?;
    Some(format!("Bearer {token}"))
}

/// Posts one callback in the background; a failed delivery is logged, not retried.
pub(crate) fn send(target: &CallbackTarget, api_key: &str, body: &Value, seq: u64) {
    let body = body.to_string();
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let Some(auth) = signature(
        api_key,
        &body,
        &target.signature_secret,
        now_s,
        // Unique across restarts too: the proxy answers a jti it saw as a duplicate.
        &format!("sim-{now_s}-{seq}"),
    ) else {
        tracing::warn!("callback: could not sign");
        return;
    };
    let url = target.url.clone();
    tokio::spawn(async move {
        let sent = reqwest::Client::new()
            .post(&url)
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        if let Err(e) = sent {
            tracing::warn!("callback to {url} failed: {e}");
        }
    });
}
