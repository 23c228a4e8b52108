//! What a handler needs, built once per instance (outside the handler, so warm invocations
//! reuse the HTTP connection pool, the cached secrets and the store client).

use std::sync::Arc;

use thiserror::Error;

use crate::config::{Config, ConfigError};
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
}

impl Deps {
    /// With an in-memory guard (a fresh random key): the local server and tests.
    pub fn new(config: Config, secrets: Secrets) -> Result<Self, InitError> {
        let guard = Guard::new(
            config.guard_policy.clone(),
            AnyStore::Memory(MemoryStore::new()),
            Hasher::new(&random_key()).map_err(InitError::Guard)?,
            Arc::new(SystemClock),
            config.guard_fail_open,
        );
        Self::with_guard(config, secrets, guard)
    }

    pub fn with_guard(config: Config, secrets: Secrets, guard: Guard) -> Result<Self, InitError> {
        let client = VerifyClient::new(&config.base_url, config.timeout)?;
        Ok(Self {
            config,
            client,
            secrets,
            guard,
        })
    }

    /// Configuration, secrets and the guard from the environment (see the README's table):
    /// `GUARD_TABLE` selects DynamoDB, which needs a shared key (`GUARD_HMAC_KEY_PARAM` in SSM,
    /// or `GUARD_HMAC_KEY`) so every instance computes the same digests.
    pub async fn from_env() -> Result<Self, InitError> {
        let config = Config::from_env()?;
        let secrets = Secrets::from_env().await?;
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        let Some(table) = var("GUARD_TABLE") else {
            // Each Lambda instance would count alone and /check could not see the ids /request
            // recorded: in Lambda the memory store must be asked for explicitly.
            if var("AWS_LAMBDA_FUNCTION_NAME").is_some()
                && var("GUARD_STORE").as_deref() != Some("memory")
            {
                return Err(InitError::Guard(
                    "set GUARD_TABLE (DynamoDB); GUARD_STORE=memory only for a single instance"
                        .into(),
                ));
            }
            let mut deps = Self::new(config, secrets)?;
            if let Some(key) = var("GUARD_HMAC_KEY") {
                deps.guard = deps
                    .guard
                    .with_hasher(Hasher::new(key.as_bytes()).map_err(InitError::Guard)?);
            }
            return Ok(deps);
        };
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .timeout_config(
                aws_config::timeout::TimeoutConfig::builder()
                    .operation_timeout(std::time::Duration::from_secs(3))
                    .build(),
            )
            .load()
            .await;
        let key = match (var("GUARD_HMAC_KEY_PARAM"), var("GUARD_HMAC_KEY")) {
            (Some(name), _) => ssm_value(&aws_sdk_ssm::Client::new(&sdk), &name).await?,
            (None, Some(key)) => key,
            (None, None) => {
                return Err(InitError::Guard(
                    "GUARD_TABLE needs GUARD_HMAC_KEY_PARAM (SSM) or GUARD_HMAC_KEY".into(),
                ));
            }
        };
        let guard = Guard::new(
            config.guard_policy.clone(),
            AnyStore::Dynamo(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table)),
            Hasher::new(key.as_bytes()).map_err(InitError::Guard)?,
            Arc::new(SystemClock),
            config.guard_fail_open,
        );
        Self::with_guard(config, secrets, guard)
    }
}

async fn ssm_value(client: &aws_sdk_ssm::Client, name: &str) -> Result<String, InitError> {
    let out = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| {
            InitError::Guard(format!(
                "SSM {name}: {}",
                aws_sdk_ssm::error::DisplayErrorContext(e)
            ))
        })?;
    out.parameter
        .and_then(|p| p.value)
        .ok_or_else(|| InitError::Guard(format!("SSM {name} has no value")))
}

/// 32 random bytes from the OS: digests are only comparable within this process.
fn random_key() -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut key = vec![0u8; 32];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut key);
    key
}
