//! What a handler needs, built once per instance (outside the handler, so warm invocations
//! reuse the HTTP connection pool, the cached secrets and the store client).

use std::sync::Arc;

use thiserror::Error;

use crate::caller::{CallerAuth, TokenSigner};
use crate::config::{Config, ConfigError, VerifyApi};
use crate::error::SecretsError;
use crate::guard::dynamo::DynamoStore;
use crate::guard::memory::MemoryStore;
use crate::guard::{AnyStore, Guard, Hasher, SystemClock};
use crate::verify::{Secrets, VerifyClient};

pub struct Deps {
    pub config: Config,
    pub client: VerifyClient,
    pub secrets: Secrets,
    pub guard: Guard,
    pub auth: CallerAuth,
    /// Signs `verification_token`s; `None`: `/check` answers without one.
    pub token: Option<TokenSigner>,
    /// Vonage's signature secret, which signs v2 status callbacks (`/events` only).
    pub signature_secret: Option<String>,
}

#[derive(Debug, Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
    #[error("guard: {0}")]
    Guard(String),
    #[error("SSM: {0}")]
    Ssm(String),
    #[error("token key: {0}")]
    Token(String),
    #[error("CALLER_AUTH must be set in Lambda (api-key, iam, app-check, or none for development)")]
    NoCallerAuth,
}

impl Deps {
    /// With an in-memory guard (a fresh random key) and a fresh token key: the local server
    /// and tests.
    pub fn new(config: Config, secrets: Secrets) -> Result<Self, InitError> {
        let guard = memory_guard(&config, &random_key())?;
        Self::with_guard(config, secrets, guard)?.with_generated_token()
    }

    /// With this guard and no token key (see [`Deps::with_token_pem`]).
    pub fn with_guard(config: Config, secrets: Secrets, guard: Guard) -> Result<Self, InitError> {
        let client = match config.verify_api {
            VerifyApi::V1 => VerifyClient::v1(&config.base_url, config.timeout)?,
            VerifyApi::V2 => VerifyClient::v2(&config.base_url, config.timeout, config.v2.clone())?,
        };
        if config.verify_api == VerifyApi::V1 && secrets.is_application() {
            return Err(InitError::Config(ConfigError::Invalid {
                name: "VERIFY_APPLICATION_ID",
                reason: "application JWTs are v2 only: set VERIFY_API=v2, or use a key and secret"
                    .into(),
            }));
        }
        let auth = CallerAuth::new(&config)?;
        Ok(Self {
            config,
            client,
            secrets,
            guard,
            auth,
            token: None,
            signature_secret: None,
        })
    }

    /// Signs with a new Ed25519 key, good for this process only.
    pub fn with_generated_token(self) -> Result<Self, InitError> {
        let pem = TokenSigner::generate_pem().map_err(InitError::Token)?;
        self.with_token_pem(&pem)
    }

    /// Signs with these PEM keys (the first signs; all are published).
    pub fn with_token_pem(mut self, pem: &str) -> Result<Self, InitError> {
        self.token =
            Some(TokenSigner::from_pem(pem, self.config.token.clone()).map_err(InitError::Token)?);
        Ok(self)
    }

    /// Configuration, secrets and the guard from the environment (see the README's table):
    /// `GUARD_TABLE` selects DynamoDB, which needs a shared key (`GUARD_HMAC_KEY_PARAM` in SSM,
    /// or `GUARD_HMAC_KEY`) so every instance computes the same digests.
    pub async fn from_env() -> Result<Self, InitError> {
        let config = Config::from_env()?;
        let in_lambda = var("AWS_LAMBDA_FUNCTION_NAME").is_some();
        if in_lambda && var("CALLER_AUTH").is_none() {
            return Err(InitError::NoCallerAuth);
        }
        let secrets = Secrets::from_env().await?;
        let sdk = sdk_config().await;
        let ssm = aws_sdk_ssm::Client::new(&sdk);
        let token_pem = token_pem(&ssm).await?;
        let guard = match var("GUARD_TABLE") {
            None => {
                // Each Lambda instance would count alone and /check could not see the ids
                // /request recorded: in Lambda the memory store must be asked for explicitly.
                if in_lambda && var("GUARD_STORE").as_deref() != Some("memory") {
                    return Err(InitError::Guard(
                        "set GUARD_TABLE (DynamoDB); GUARD_STORE=memory only for a single instance"
                            .into(),
                    ));
                }
                let key = var("GUARD_HMAC_KEY").map_or_else(random_key, String::into_bytes);
                memory_guard(&config, &key)?
            }
            Some(table) => {
                let key = match (var("GUARD_HMAC_KEY_PARAM"), var("GUARD_HMAC_KEY")) {
                    (Some(name), _) => ssm_value(&ssm, &name).await?,
                    (None, Some(key)) => key,
                    (None, None) => {
                        return Err(InitError::Guard(
                            "GUARD_TABLE needs GUARD_HMAC_KEY_PARAM (SSM) or GUARD_HMAC_KEY".into(),
                        ));
                    }
                };
                Guard::new(
                    config.guard_policy.clone(),
                    AnyStore::Dynamo(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table)),
                    Hasher::new(key.as_bytes()).map_err(InitError::Guard)?,
                    Arc::new(SystemClock),
                    config.guard_fail_open,
                )
            }
        };
        let mut deps = Self::with_guard(config, secrets, guard)?;
        deps.signature_secret = match (
            var("VERIFY_SIGNATURE_SECRET_PARAM"),
            var("VERIFY_SIGNATURE_SECRET"),
        ) {
            (Some(name), _) => Some(ssm_value(&ssm, &name).await?),
            (None, secret) => secret,
        };
        match token_pem {
            Some(pem) => deps.with_token_pem(&pem),
            // A generated key would differ per instance: no tokens rather than unverifiable ones.
            None if in_lambda => Ok(deps),
            None => deps.with_generated_token(),
        }
    }
}

/// A guard counting in this process's memory, digests keyed by `key`.
fn memory_guard(config: &Config, key: &[u8]) -> Result<Guard, InitError> {
    Ok(Guard::new(
        config.guard_policy.clone(),
        AnyStore::Memory(MemoryStore::new()),
        Hasher::new(key).map_err(InitError::Guard)?,
        Arc::new(SystemClock),
        config.guard_fail_open,
    ))
}

fn var(n: &str) -> Option<String> {
    std::env::var(n).ok().filter(|v| !v.trim().is_empty())
}

/// The token signing key(s): `TOKEN_KEY_PARAM` (an SSM SecureString) or `TOKEN_PRIVATE_KEY`.
pub async fn token_pem(ssm: &aws_sdk_ssm::Client) -> Result<Option<String>, InitError> {
    match (var("TOKEN_KEY_PARAM"), var("TOKEN_PRIVATE_KEY")) {
        (Some(name), _) => Ok(Some(ssm_value(ssm, &name).await?)),
        (None, pem) => Ok(pem),
    }
}

/// An SSM client configured like the functions' (3 s per operation).
pub async fn ssm_client() -> aws_sdk_ssm::Client {
    aws_sdk_ssm::Client::new(&sdk_config().await)
}

/// The AWS SDK's configuration from the environment, with 3 s per operation: a slow SSM or
/// DynamoDB fails the call long before API Gateway's 29 s.
async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .operation_timeout(std::time::Duration::from_secs(3))
                .build(),
        )
        .load()
        .await
}

async fn ssm_value(client: &aws_sdk_ssm::Client, name: &str) -> Result<String, InitError> {
    let out = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            InitError::Ssm(format!(
                "{name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            ))
        })?;
    out.parameter
        .and_then(|p| p.value)
        .ok_or_else(|| InitError::Ssm(format!("{name} has no value")))
}

/// 32 random bytes from the OS: digests are only comparable within this process.
pub fn random_key() -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut key = vec![0u8; 32];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut key);
    key
}
