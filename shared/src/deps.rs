//! What a handler needs, built once per instance (outside the handler, so warm invocations
//! reuse the HTTP connection pool and the cached secrets).

use thiserror::Error;

use crate::config::{Config, ConfigError};
use crate::error::SecretsError;
use crate::verify::{Secrets, VerifyClient};

pub struct Deps {
    pub config: Config,
    pub client: VerifyClient,
    pub secrets: Secrets,
}

#[derive(Debug, Error)]
pub enum InitError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Secrets(#[from] SecretsError),
    #[error("HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl Deps {
    pub fn new(config: Config, secrets: Secrets) -> Result<Self, InitError> {
        let client = VerifyClient::new(&config.base_url, config.timeout)?;
        Ok(Self {
            config,
            client,
            secrets,
        })
    }

    /// Configuration and secrets source from the environment (see the README's table).
    pub async fn from_env() -> Result<Self, InitError> {
        let config = Config::from_env()?;
        let secrets = Secrets::from_env().await?;
        Self::new(config, secrets)
    }
}
