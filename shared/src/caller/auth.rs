//! Who may call (`CALLER_AUTH`). API keys and SigV4 are checked by API Gateway before the
//! function runs; the function also refuses a request whose context shows no such caller, so a
//! route deployed without them fails closed. App attestation tokens (Firebase App Check: App
//! Attest, Play Integrity and reCAPTCHA in one JWT) are verified here against a JWKS that each
//! instance caches.

use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use lambda_http::Request;
use lambda_http::RequestExt;
use lambda_http::request::RequestContext;
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

use crate::config::{AppCheckConfig, AuthMode, Config};
use crate::error::ProxyError;
use crate::verify::types::TokenUse;

/// Algorithms App Check tokens may use; anything else (`none`, HMAC) is refused.
const ALGORITHMS: &[Algorithm] = &[Algorithm::RS256, Algorithm::ES256];
/// A token with an unknown `kid` may make an instance fetch the keys again at most this often,
/// so random `kid`s cannot turn us into a load generator against the key server.
const REFETCH_GAP: Duration = Duration::from_secs(60);
/// Old keys are still used this long when the key server cannot be reached.
const STALE_GRACE: Duration = Duration::from_secs(24 * 3600);
const FETCH_TIMEOUT: Duration = Duration::from_secs(3);

/// The caller, as far as this deployment knows it: its name for the log line and budgets
/// (`api-key:ID`, an IAM principal, `app:APP_ID`), and the App Check token it came with.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Caller {
    pub name: Option<String>,
    /// One install's token for its lifetime (the app id is every install's).
    pub token: Option<TokenUse>,
}

impl Caller {
    fn named(name: String) -> Self {
        Self {
            name: Some(name),
            token: None,
        }
    }
}

pub struct CallerAuth {
    mode: AuthMode,
    app_check: Option<AppCheck>,
}

impl CallerAuth {
    pub fn new(config: &Config) -> Result<Self, reqwest::Error> {
        let app_check = match &config.auth.app_check {
            Some(c) if config.auth.mode == AuthMode::AppCheck => {
                Some(AppCheck::new(c.clone(), &config.tls.extra_roots)?)
            }
            _ => None,
        };
        Ok(Self {
            mode: config.auth.mode,
            app_check,
        })
    }

    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Whether `X-End-User-IP`/`X-End-User-Key` are believed: from an authenticated backend
    /// (`api-key`, `iam`), and with `app-check` only when the deployment says its backend
    /// relays the tokens.
    pub fn trusts_end_user_headers(&self) -> bool {
        match self.mode {
            AuthMode::ApiKey | AuthMode::Iam => true,
            AuthMode::AppCheck => self
                .app_check
                .as_ref()
                .is_some_and(|a| a.config.trust_end_user_headers),
            AuthMode::None => false,
        }
    }

    /// The header a browser page must be allowed to send (CORS preflight).
    pub fn header(&self) -> Option<&str> {
        self.app_check.as_ref().map(|a| a.config.header.as_str())
    }

    pub async fn check(&self, req: &Request) -> Result<Caller, ProxyError> {
        let refused = |reason| Err(ProxyError::Unauthorized { reason });
        match self.mode {
            AuthMode::None => Ok(Caller::default()),
            AuthMode::ApiKey => match identity(req, |i| i.api_key_id.clone()) {
                Some(id) => Ok(Caller::named(format!("api-key:{id}"))),
                None => refused("no_api_key"),
            },
            AuthMode::Iam => match identity(req, |i| i.user_arn.clone().or(i.caller.clone())) {
                Some(arn) => Ok(Caller::named(arn)),
                None => refused("no_iam_caller"),
            },
            AuthMode::AppCheck => {
                let Some(app_check) = &self.app_check else {
                    return refused("app_check_not_configured");
                };
                let token = req
                    .headers()
                    .get(app_check.config.header.as_str())
                    .and_then(|v| v.to_str().ok())
                    .map(str::trim)
                    .filter(|t| !t.is_empty());
                let Some(token) = token else {
                    return refused("app_check_missing");
                };
                let (app, token) = app_check.verify(token).await?;
                Ok(Caller {
                    name: Some(format!("app:{app}")),
                    token: Some(token),
                })
            }
        }
    }
}

/// A field of API Gateway's caller identity (REST APIs; the local server leaves it empty).
fn identity(
    req: &Request,
    pick: impl Fn(&lambda_http::aws_lambda_events::apigw::ApiGatewayRequestIdentity) -> Option<String>,
) -> Option<String> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => pick(&ctx.identity).filter(|v| !v.is_empty()),
        _ => None,
    }
}

#[derive(Deserialize)]
struct AppClaims {
    /// The app's id (App Check puts the Firebase app id here).
    sub: String,
    exp: i64,
    #[serde(default)]
    iat: Option<i64>,
    #[serde(default)]
    nbf: Option<i64>,
    /// Set on limited-use tokens (Firebase: 16 to 500 bytes).
    #[serde(default)]
    jti: Option<String>,
}

/// Firebase's bounds on a limited-use token's `jti`.
const JTI_BYTES: std::ops::RangeInclusive<usize> = 16..=500;

/// The longest lifetime App Check gives a token (its TTL is 30 minutes to 7 days): a token
/// valid for longer was not made by App Check.
const APP_CHECK_MAX_LIFETIME_S: i64 = 7 * 24 * 3600;
/// Clock skew forgiven either way, as for `exp`.
const LEEWAY_S: i64 = 30;

/// The key set, decoded once when fetched (not on every request).
struct Cached {
    keys: Vec<(String, DecodingKey)>,
    fetched: Instant,
}

impl Cached {
    fn new(set: &JwkSet) -> Self {
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| Some((jwk.common.key_id.clone()?, DecodingKey::from_jwk(jwk).ok()?)))
            .collect();
        Self {
            keys,
            fetched: Instant::now(),
        }
    }

    fn key(&self, kid: &str) -> Option<DecodingKey> {
        self.keys
            .iter()
            .find(|(id, _)| id == kid)
            .map(|(_, key)| key.clone())
    }
}

/// App Check token verification with the key set cached per instance.
pub struct AppCheck {
    config: AppCheckConfig,
    http: reqwest::Client,
    cache: RwLock<Option<Cached>>,
    /// One fetch at a time; holds when an unknown kid last made one.
    fetching: Mutex<Option<Instant>>,
}

impl AppCheck {
    pub fn new(
        config: AppCheckConfig,
        extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Self, reqwest::Error> {
        Ok(Self {
            config,
            http: crate::verify::http::http_client(FETCH_TIMEOUT, extra_roots)?,
            cache: RwLock::new(None),
            fetching: Mutex::new(None),
        })
    }

    /// The app id of a valid token: signed by a key of the set, RS256 or ES256, with this
    /// deployment's issuer and one of its audiences, not expired.
    /// The app id and the token, when it is genuine, current and shaped as App Check makes them.
    pub async fn verify(&self, token: &str) -> Result<(String, TokenUse), ProxyError> {
        let refused = |reason| ProxyError::Unauthorized { reason };
        let header = decode_header(token).map_err(|_| refused("app_check_malformed"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(refused("app_check_algorithm"));
        }
        let kid = header.kid.ok_or(refused("app_check_no_kid"))?;
        let key = self
            .key(&kid)
            .await?
            .ok_or(refused("app_check_unknown_key"))?;
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&self.config.audiences);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY_S as u64;
        validation.validate_nbf = true;
        let data = decode::<AppClaims>(token, &key, &validation).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind;
            refused(match e.kind() {
                ErrorKind::ExpiredSignature => "app_check_expired",
                ErrorKind::InvalidAudience => "app_check_audience",
                ErrorKind::InvalidIssuer => "app_check_issuer",
                ErrorKind::InvalidSignature => "app_check_signature",
                _ => "app_check_invalid",
            })
        })?;
        let c = &data.claims;
        let now = jsonwebtoken::get_current_timestamp() as i64;
        // A token from the future, or one living longer than App Check issues them, is a
        // forgery or a leaked signing key; the library checks only `exp` (and `nbf`).
        if c.iat.is_some_and(|iat| iat > now + LEEWAY_S)
            || c.nbf.is_some_and(|nbf| nbf > now + LEEWAY_S)
        {
            return Err(refused("app_check_not_yet_valid"));
        }
        let issued = c.iat.or(c.nbf).unwrap_or(now);
        if c.exp - issued > APP_CHECK_MAX_LIFETIME_S || c.exp - now > APP_CHECK_MAX_LIFETIME_S {
            return Err(refused("app_check_lifetime"));
        }
        if c.jti
            .as_ref()
            .is_some_and(|j| !JTI_BYTES.contains(&j.len()))
        {
            return Err(refused("app_check_jti"));
        }
        let id = match &c.jti {
            Some(jti) => jti.clone(),
            None => token.rsplit('.').next().unwrap_or(token).to_string(),
        };
        let app_token = TokenUse {
            id,
            limited_use: c.jti.is_some(),
            spend: self.config.limited_use_on_request,
            expires_ms: c.exp.saturating_mul(1000),
        };
        Ok((data.claims.sub, app_token))
    }

    /// The key `kid` names: from the cache while it is fresh; otherwise fetched again (at
    /// most every [`REFETCH_GAP`] for unknown ids); stale keys only while the server is down.
    async fn key(&self, kid: &str) -> Result<Option<DecodingKey>, ProxyError> {
        let (fresh, found) = self.lookup(kid).await;
        if fresh && found.is_some() {
            return Ok(found);
        }
        let mut last = self.fetching.lock().await;
        // Another task may have fetched while this one waited.
        let (fresh_now, found_now) = self.lookup(kid).await;
        if fresh_now && found_now.is_some() {
            return Ok(found_now);
        }
        if fresh_now {
            // An unknown kid in a fresh set: maybe a new key, maybe made up. Look again, but
            // only once per gap, whatever kids callers invent.
            if last.is_some_and(|t| t.elapsed() < REFETCH_GAP) {
                return Ok(None);
            }
            *last = Some(Instant::now());
        }
        match self.fetch().await {
            Ok(set) => {
                let cached = Cached::new(&set);
                let key = cached.key(kid);
                *self.cache.write().await = Some(cached);
                return Ok(key);
            }
            Err(e) => tracing::error!(error = %e, "app check: could not fetch keys"),
        }
        let cache = self.cache.read().await;
        match cache.as_ref() {
            Some(c) if c.fetched.elapsed() < self.config.jwks_ttl + STALE_GRACE => Ok(c.key(kid)),
            _ => Err(ProxyError::AuthUnavailable),
        }
    }

    /// (cache fresh?, the key if the cache has it)
    async fn lookup(&self, kid: &str) -> (bool, Option<DecodingKey>) {
        let cache = self.cache.read().await;
        match cache.as_ref() {
            None => (false, None),
            Some(c) => (c.fetched.elapsed() < self.config.jwks_ttl, c.key(kid)),
        }
    }

    async fn fetch(&self) -> Result<JwkSet, reqwest::Error> {
        self.http
            .get(&self.config.jwks_url)
            .send()
            .await?
            .error_for_status()?
            .json::<JwkSet>()
            .await
    }
}
