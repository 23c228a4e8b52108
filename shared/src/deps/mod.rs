//! What a handler needs, built once per instance (outside the handler, so warm invocations
//! reuse the HTTP connection pool, the cached secrets and the store client).

pub mod aws;

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use thiserror::Error;

use crate::caller::{CallerAuth, TokenSigner};
use crate::config::{
    Config, ConfigError, Env, GuardStore, Secret, VerifyApi, VonageSource, application_needs_v2,
};
use crate::error::SecretsError;
use crate::guard::store::dynamo::DynamoStore;
use crate::guard::store::memory::MemoryStore;
use crate::guard::{AnyStore, Guard, Hasher, SystemClock};
use crate::verify::{Credentials, Secrets, VerifyClient};

/// How long `warm_up` may take.
const WARM_UP_LIMIT: std::time::Duration = std::time::Duration::from_secs(3);

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
        let client = match config.verify.api {
            VerifyApi::V1 => VerifyClient::v1(
                &config.verify.base_url,
                config.verify.timeout,
                &config.tls.extra_roots,
            )?,
            VerifyApi::V2 => VerifyClient::v2(
                &config.verify.base_url,
                config.verify.timeout,
                config.v2.clone(),
                &config.tls.extra_roots,
            )?,
        };
        if config.verify.api == VerifyApi::V1 && secrets.is_application() {
            return Err(InitError::Config(application_needs_v2()));
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

    /// Opens, concurrently, the connections the first request will need (TLS to Verify, to
    /// DynamoDB), while the instance initialises: at Lambda's CPU share a handshake is most of
    /// a cold start's first answer (`scripts/bench`, section 6). Failures are only logged.
    /// Bounded well inside Lambda's 10 s init: an unreachable upstream costs at most 3 s.
    /// The numbering metadata loads while the handshakes are in flight (polled after them).
    pub async fn warm_up(&self) {
        let numbers = async { crate::verify::number::warm_up() };
        let both = async { tokio::join!(self.client.warm_up(), self.guard.warm_up(), numbers) };
        if tokio::time::timeout(WARM_UP_LIMIT, both).await.is_err() {
            tracing::warn!(
                limit_s = WARM_UP_LIMIT.as_secs(),
                "warm-up: gave up; the first request will connect itself"
            );
        }
    }

    /// A function's start-up: the settings (see the README's table), then the AWS SDK's
    /// configuration only when something lives in AWS.
    pub async fn from_env(env: &Env) -> Result<Self, InitError> {
        Self::from_env_for(env, Uses::Vonage).await
    }

    /// As [`Deps::from_env`], for a function that uses Vonage as `uses` says.
    pub async fn from_env_for(env: &Env, uses: Uses) -> Result<Self, InitError> {
        let config = match uses {
            Uses::Vonage => Config::from_env(env)?,
            Uses::Callbacks => Config::for_callbacks(env)?,
        };
        let sdk = match needs_aws(&config) {
            true => Some(aws::sdk_config(&config.tls.extra_roots).await),
            false => None,
        };
        Self::from_config_for(config, sdk.as_ref(), uses).await
    }

    /// Secrets, the guard and the token key for `config`: every SSM name in one call, so the
    /// first request finds Vonage's credentials already loaded.
    pub async fn from_config(config: Config, sdk: Option<&SdkConfig>) -> Result<Self, InitError> {
        Self::from_config_for(config, sdk, Uses::Vonage).await
    }

    /// As [`Deps::from_config`]; with [`Uses::Callbacks`] Vonage's credentials are not fetched
    /// (the events function's role may not read them).
    pub async fn from_config_for(
        config: Config,
        sdk: Option<&SdkConfig>,
        uses: Uses,
    ) -> Result<Self, InitError> {
        let ssm = sdk.map(aws_sdk_ssm::Client::new);
        let vonage_params = config.secrets.vonage_params();
        let names: Vec<&str> = config
            .ssm_params()
            .into_iter()
            .filter(|n| uses == Uses::Vonage || !vonage_params.contains(n))
            .collect();
        let values = aws::parameters(ssm.as_ref(), &names).await?;
        let value = |s: &Secret| resolve(s, &values);
        let secrets = vonage(&config, ssm, &values, uses == Uses::Vonage)?;
        let guard = match &config.guard.store {
            GuardStore::Memory { key } => {
                let key = key.as_ref().map(value).transpose()?;
                memory_guard(&config, &key.map_or_else(random_key, String::into_bytes))?
            }
            GuardStore::Dynamo { table, key } => {
                let sdk = sdk.ok_or_else(|| InitError::Guard("no AWS configuration".into()))?;
                Guard::new(
                    config.guard.policy.clone(),
                    AnyStore::Dynamo(DynamoStore::new(
                        aws_sdk_dynamodb::Client::new(sdk),
                        table.clone(),
                    )),
                    Hasher::new(value(key)?.as_bytes()).map_err(InitError::Guard)?,
                    Arc::new(SystemClock),
                    config.guard.fail_open,
                )
            }
        };
        let token_pem = config.token.key.as_ref().map(value).transpose()?;
        let signature = config.secrets.signature.as_ref().map(value).transpose()?;
        let generate = config.token.generate;
        let mut deps = Self::with_guard(config, secrets, guard)?;
        deps.signature_secret = signature;
        match token_pem {
            Some(pem) => deps.with_token_pem(&pem),
            // A generated key would differ per instance: no tokens rather than unverifiable ones.
            None if !generate => Ok(deps),
            None => deps.with_generated_token(),
        }
    }
}

/// Vonage's credentials alone, as `config` says (the local server with an external Verify).
pub async fn vonage_secrets(config: &Config) -> Result<Secrets, InitError> {
    let params = config.secrets.vonage_params();
    let ssm = match params.is_empty() {
        true => None,
        false => Some(aws_sdk_ssm::Client::new(
            &aws::sdk_config(&config.tls.extra_roots).await,
        )),
    };
    let values = aws::parameters(ssm.as_ref(), &params).await?;
    vonage(config, ssm, &values, true)
}

/// Vonage's credentials from their source: SSM ones already loaded (`values`) when `loaded`,
/// and refreshed through `ssm` after the TTL (or fetched on first use when not loaded).
fn vonage(
    config: &Config,
    ssm: Option<aws_sdk_ssm::Client>,
    values: &BTreeMap<String, String>,
    loaded: bool,
) -> Result<Secrets, InitError> {
    let vonage = match (config.secrets.vonage.clone(), loaded) {
        (Some(v), _) => v,
        // The events function reads no Vonage credential, not even where they are.
        (None, false) => return Ok(Secrets::absent()),
        (None, true) => return Err(SecretsError::NotConfigured.into()),
    };
    let ttl = config.secrets.ttl;
    Ok(match (vonage, ssm) {
        (
            VonageSource::Key {
                api_key,
                api_secret,
            },
            _,
        ) => Secrets::fixed(api_key, api_secret),
        (
            VonageSource::App {
                application_id,
                key: Secret::Value(pem),
            },
            _,
        ) => Secrets::application(application_id, pem),
        (
            VonageSource::KeyParams {
                key_param,
                secret_param,
            },
            Some(ssm),
        ) if !loaded => Secrets::ssm(ssm, key_param, secret_param, ttl),
        (
            VonageSource::KeyParams {
                key_param,
                secret_param,
            },
            Some(ssm),
        ) => {
            let creds = Credentials::Key {
                api_key: resolve_param(&key_param, values)?,
                api_secret: resolve_param(&secret_param, values)?,
            };
            Secrets::ssm(ssm, key_param, secret_param, ttl).primed(creds)
        }
        (
            VonageSource::App {
                application_id,
                key: Secret::Param(param),
            },
            Some(ssm),
        ) if !loaded => Secrets::ssm_application(ssm, application_id, param, ttl),
        (
            VonageSource::App {
                application_id,
                key: Secret::Param(param),
            },
            Some(ssm),
        ) => {
            let creds = Credentials::App {
                application_id: application_id.clone(),
                private_key_pem: resolve_param(&param, values)?,
            };
            Secrets::ssm_application(ssm, application_id, param, ttl).primed(creds)
        }
        (_, None) => return Err(InitError::Ssm("no AWS configuration".into())),
    })
}

/// Whether start-up needs the AWS SDK: a DynamoDB guard or a secret in SSM.
pub fn needs_aws(config: &Config) -> bool {
    matches!(config.guard.store, GuardStore::Dynamo { .. }) || !config.ssm_params().is_empty()
}

/// A secret's value: its own, or its parameter's from the start-up fetch.
pub fn resolve(secret: &Secret, values: &BTreeMap<String, String>) -> Result<String, InitError> {
    match secret {
        Secret::Value(v) => Ok(v.clone()),
        Secret::Param(name) => resolve_param(name, values),
    }
}

fn resolve_param(name: &str, values: &BTreeMap<String, String>) -> Result<String, InitError> {
    values
        .get(name)
        .cloned()
        .ok_or_else(|| InitError::Ssm(format!("{name} has no value")))
}

/// What a function does with Vonage: the five endpoints call it; the events function only
/// receives its signed callbacks, so it fetches no Vonage credential.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Uses {
    Vonage,
    Callbacks,
}

/// A guard counting in this process's memory, digests keyed by `key`.
fn memory_guard(config: &Config, key: &[u8]) -> Result<Guard, InitError> {
    Ok(Guard::new(
        config.guard.policy.clone(),
        AnyStore::Memory(MemoryStore::with_max_items(config.guard.memory_max_items)),
        Hasher::new(key).map_err(InitError::Guard)?,
        Arc::new(SystemClock),
        config.guard.fail_open,
    ))
}

/// 32 random bytes from the OS: digests are only comparable within this process.
pub fn random_key() -> Vec<u8> {
    use rand::{RngCore, SeedableRng};
    let mut key = vec![0u8; 32];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut key);
    key
}
