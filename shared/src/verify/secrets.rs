//! Vonage credentials: from SSM Parameter Store (one `GetParameters` call with decryption,
//! cached for the instance's life or an optional TTL, so a rotated secret is picked up), or
//! from plain environment variables for local development.

use std::fmt;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

pub use crate::error::SecretsError;

#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub api_key: String,
    pub api_secret: String,
}

// Never print the secret, even in debug output.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("api_key", &self.api_key)
            .field("api_secret", &"<redacted>")
            .finish()
    }
}

enum Source {
    Static(Credentials),
    Ssm {
        client: aws_sdk_ssm::Client,
        key_param: String,
        secret_param: String,
        ttl: Option<Duration>,
        cache: Mutex<Option<(Credentials, Instant)>>,
    },
}

pub struct Secrets {
    source: Source,
}

impl Secrets {
    pub fn fixed(api_key: impl Into<String>, api_secret: impl Into<String>) -> Self {
        Self {
            source: Source::Static(Credentials {
                api_key: api_key.into(),
                api_secret: api_secret.into(),
            }),
        }
    }

    pub fn ssm(
        client: aws_sdk_ssm::Client,
        key_param: String,
        secret_param: String,
        ttl: Option<Duration>,
    ) -> Self {
        Self {
            source: Source::Ssm {
                client,
                key_param,
                secret_param,
                ttl,
                cache: Mutex::new(None),
            },
        }
    }

    /// SSM when `VERIFY_API_KEY_PARAM` and `VERIFY_API_SECRET_PARAM` are set (optional
    /// `SECRETS_TTL_SECONDS`), else `VERIFY_API_KEY`/`VERIFY_API_SECRET`.
    pub async fn from_env() -> Result<Self, SecretsError> {
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        if let (Some(key_param), Some(secret_param)) =
            (var("VERIFY_API_KEY_PARAM"), var("VERIFY_API_SECRET_PARAM"))
        {
            let ttl = var("SECRETS_TTL_SECONDS")
                .and_then(|v| v.parse().ok())
                .map(Duration::from_secs);
            let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
                .load()
                .await;
            let client = aws_sdk_ssm::Client::new(&sdk);
            return Ok(Self::ssm(client, key_param, secret_param, ttl));
        }
        match (var("VERIFY_API_KEY"), var("VERIFY_API_SECRET")) {
            (Some(k), Some(s)) => Ok(Self::fixed(k, s)),
            _ => Err(SecretsError::NotConfigured),
        }
    }

    /// The credentials, fetched from SSM on first use and then served from the cache.
    pub async fn get(&self) -> Result<Credentials, SecretsError> {
        match &self.source {
            Source::Static(c) => Ok(c.clone()),
            Source::Ssm {
                client,
                key_param,
                secret_param,
                ttl,
                cache,
            } => {
                // Holding the lock across the fetch means concurrent cold callers share one call.
                let mut guard = cache.lock().await;
                if let Some((creds, at)) = guard.as_ref()
                    && ttl.is_none_or(|t| at.elapsed() < t)
                {
                    return Ok(creds.clone());
                }
                let creds = fetch(client, key_param, secret_param).await?;
                *guard = Some((creds.clone(), Instant::now()));
                Ok(creds)
            }
        }
    }
}

async fn fetch(
    client: &aws_sdk_ssm::Client,
    key_param: &str,
    secret_param: &str,
) -> Result<Credentials, SecretsError> {
    let out = client
        .get_parameters()
        .names(key_param)
        .names(secret_param)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| SecretsError::Ssm(aws_sdk_ssm::error::DisplayErrorContext(e).to_string()))?;
    let invalid = out.invalid_parameters();
    if !invalid.is_empty() {
        return Err(SecretsError::Missing(invalid.join(", ")));
    }
    let value = |name: &str| {
        out.parameters()
            .iter()
            .find(|p| p.name() == Some(name))
            .and_then(|p| p.value())
            .map(str::to_string)
            .ok_or_else(|| SecretsError::Missing(name.to_string()))
    };
    Ok(Credentials {
        api_key: value(key_param)?,
        api_secret: value(secret_param)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret() {
        let c = Credentials {
            api_key: "k".into(),
            api_secret: "hunter2".into(),
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && s.contains("redacted"));
    }

    #[tokio::test]
    async fn fixed_credentials_are_served() {
        let s = Secrets::fixed("k", "v");
        assert_eq!(s.get().await.unwrap().api_secret, "v");
    }
}
