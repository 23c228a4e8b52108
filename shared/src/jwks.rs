//! `GET /.well-known/jwks.json`: the public keys that verify `verification_token`s, for the
//! app's backend. Public and cacheable; it has its own small function (no Verify, no guard).

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};

use crate::caller::TokenSigner;
use crate::caller::response;
use crate::config::{Env, TlsConfig, TokenConfig};
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
    /// only the token's settings are read (and the TLS roots for SSM; no Verify, guard or
    /// caller settings).
    pub async fn from_env(env: &Env) -> Result<Self, InitError> {
        let config = TokenConfig::from_env(env)?;
        let key = config
            .key
            .as_ref()
            .ok_or_else(|| InitError::Token("set TOKEN_KEY_PARAM or TOKEN_PRIVATE_KEY".into()))?;
        let values = match key.param() {
            None => Default::default(),
            Some(name) => {
                let tls = TlsConfig::from_env(env)?;
                let ssm = aws_sdk_ssm::Client::new(&aws::sdk_config(&tls.extra_roots).await);
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
        // Public keys: any page may read them, and backends may cache them a while.
        let cors = Some("*");
        match *req.method() {
            Method::GET | Method::HEAD => {
                let mut resp = response::json_text(200, self.0.clone(), cors);
                response::set(
                    &mut resp,
                    "cache-control",
                    &format!("public, max-age={MAX_AGE_S}"),
                );
                resp
            }
            _ => {
                let mut resp = response::error_text(405, "3", "method not allowed: use GET", cors);
                response::set(&mut resp, "allow", "GET");
                resp
            }
        }
    }
}
