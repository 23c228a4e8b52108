//! `GET /.well-known/jwks.json`: the public keys that verify `verification_token`s, for the
//! app's backend. Public and cacheable; it has its own small function (no Verify, no guard).

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};

use crate::caller::TokenSigner;
use crate::config::{Env, TokenConfig};
use crate::deps::{InitError, aws, resolve};

/// Backends may cache the keys this long; a rotation keeps the old key published for longer.
pub const MAX_AGE_S: u64 = 300;

/// The keys' JSON, built once per instance.
pub struct Jwks(String);

impl Jwks {
    pub fn new(signer: &TokenSigner) -> Self {
        Self(serde_json::to_string(&signer.jwks()).unwrap_or_else(|_| r#"{"keys":[]}"#.into()))
    }

    /// From `TOKEN_KEY_PARAM` (SSM) or `TOKEN_PRIVATE_KEY`, as the check function reads them;
    /// only the token's settings are read (no Verify, guard or caller settings).
    pub async fn from_env(env: &Env) -> Result<Self, InitError> {
        let config = TokenConfig::from_env(env)?;
        let key = config
            .key
            .as_ref()
            .ok_or_else(|| InitError::Token("set TOKEN_KEY_PARAM or TOKEN_PRIVATE_KEY".into()))?;
        let values = match key.param() {
            None => Default::default(),
            Some(name) => {
                let ssm = aws_sdk_ssm::Client::new(&aws::sdk_config().await);
                aws::parameters(Some(&ssm), &[name]).await?
            }
        };
        let pem = resolve(key, &values)?;
        let signer = TokenSigner::from_pem(&pem, config).map_err(InitError::Token)?;
        Ok(Self::new(&signer))
    }

    pub fn json(&self) -> &str {
        &self.0
    }

    /// GET (and HEAD) answer the keys; anything else is a JSON 405.
    pub fn serve(&self, req: &Request) -> Response<Body> {
        let (status, body, cache) = match *req.method() {
            Method::GET | Method::HEAD => (
                StatusCode::OK,
                self.0.clone(),
                format!("public, max-age={MAX_AGE_S}"),
            ),
            _ => (
                StatusCode::METHOD_NOT_ALLOWED,
                r#"{"status":"3","error_text":"method not allowed: use GET"}"#.to_string(),
                "no-store".to_string(),
            ),
        };
        let mut resp = Response::new(Body::Text(body));
        *resp.status_mut() = status;
        let h = resp.headers_mut();
        for (k, v) in [
            ("content-type", "application/json"),
            ("cache-control", cache.as_str()),
            ("x-content-type-options", "nosniff"),
            ("access-control-allow-origin", "*"),
        ] {
            if let Ok(v) = v.parse() {
                h.insert(k, v);
            }
        }
        if status == StatusCode::METHOD_NOT_ALLOWED
            && let Ok(v) = "GET".parse()
        {
            h.insert("allow", v);
        }
        resp
    }
}
