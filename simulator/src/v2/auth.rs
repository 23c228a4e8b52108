//! v2 authentication: `Basic base64(key:secret)`, or `Bearer <JWT>` signed RS256 with a
//! Vonage application's private key (checked against the application's public key).

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode};
use serde::Deserialize;

use crate::engine::Account;

/// A Vonage application: JWTs carrying its id and signed with its key act for `api_key`.
#[derive(Debug, Clone)]
pub struct Application {
    pub id: String,
    pub api_key: String,
    pub public_key_pem: String,
}

#[derive(Deserialize)]
struct Claims {
    application_id: String,
}

/// The account a request acts for, or `None` (401).
pub(crate) fn account(
    headers: &HeaderMap,
    accounts: &[Account],
    applications: &[Application],
) -> Option<Account> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    if let Some(encoded) = value.strip_prefix("Basic ") {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (key, secret) = text.split_once(':')?;
        return accounts
            .iter()
            .find(|a| a.api_key == key && a.api_secret == secret)
            .cloned();
    }
    let token = value.strip_prefix("Bearer ")?.trim();
    let unverified = jsonwebtoken::dangerous::insecure_decode::<Claims>(token).ok()?;
    let app = applications
        .iter()
        .find(|a| a.id == unverified.claims.application_id)?;
    let key = DecodingKey::from_rsa_pem(app.public_key_pem.as_bytes()).ok()?;
    let mut validation = Validation::new(Algorithm::RS256);
    validation.required_spec_claims = ["exp", "iat"].iter().map(|s| s.to_string()).collect();
    validation.validate_aud = false;
    let verified = decode::<Claims>(token, &key, &validation).ok()?;
    if verified.claims.application_id != app.id {
        return None;
    }
    accounts.iter().find(|a| a.api_key == app.api_key).cloned()
}
