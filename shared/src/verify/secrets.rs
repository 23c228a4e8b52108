//! Vonage credentials: an API key and secret (v1, or v2 with Basic auth), or a Vonage
//! application's id and private key (v2 with JWTs). From SSM Parameter Store (one
//! `GetParameters` call with decryption, cached for the instance's life or an optional TTL, so
//! a rotated secret is picked up), or given as values for local development. Which one is
//! `config::secrets`'s choice; the SSM client is the instance's one (`deps::aws`).

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

use tokio::sync::Mutex;

pub use crate::error::SecretsError;

#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Key {
        api_key: String,
        api_secret: String,
    },
    App {
        application_id: String,
        private_key_pem: String,
    },
}

// Never print the secret or the key, even in debug output.
impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key { api_key, .. } => f
                .debug_struct("Credentials::Key")
                .field("api_key", api_key)
                .field("api_secret", &"<redacted>")
                .finish(),
            Self::App { application_id, .. } => f
                .debug_struct("Credentials::App")
                .field("application_id", application_id)
                .field("private_key_pem", &"<redacted>")
                .finish(),
        }
    }
}

/// What the SSM parameters hold.
enum Params {
    Key { key: String, secret: String },
    App { application_id: String, key: String },
}

enum Source {
    /// None configured: the events function, which never calls Vonage.
    Absent,
    Static(Credentials),
    Ssm {
        client: aws_sdk_ssm::Client,
        params: Params,
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
            source: Source::Static(Credentials::Key {
                api_key: api_key.into(),
                api_secret: api_secret.into(),
            }),
        }
    }

    /// No credentials: every use is [`SecretsError::NotConfigured`].
    pub fn absent() -> Self {
        Self {
            source: Source::Absent,
        }
    }

    pub fn application(
        application_id: impl Into<String>,
        private_key_pem: impl Into<String>,
    ) -> Self {
        Self {
            source: Source::Static(Credentials::App {
                application_id: application_id.into(),
                private_key_pem: private_key_pem.into(),
            }),
        }
    }

    pub fn ssm(
        client: aws_sdk_ssm::Client,
        key_param: String,
        secret_param: String,
        ttl: Option<Duration>,
    ) -> Self {
        Self::from_ssm(
            client,
            Params::Key {
                key: key_param,
                secret: secret_param,
            },
            ttl,
        )
    }

    /// A Vonage application's private key from an SSM SecureString.
    pub fn ssm_application(
        client: aws_sdk_ssm::Client,
        application_id: String,
        key_param: String,
        ttl: Option<Duration>,
    ) -> Self {
        Self::from_ssm(
            client,
            Params::App {
                application_id,
                key: key_param,
            },
            ttl,
        )
    }

    fn from_ssm(client: aws_sdk_ssm::Client, params: Params, ttl: Option<Duration>) -> Self {
        Self {
            source: Source::Ssm {
                client,
                params,
                ttl,
                cache: Mutex::new(None),
            },
        }
    }

    /// With these credentials already loaded (start-up fetched them with the other secrets):
    /// the first request makes no SSM call, and a TTL counts from now.
    pub fn primed(self, loaded: Credentials) -> Self {
        if let Source::Ssm { cache, .. } = &self.source
            && let Ok(mut slot) = cache.try_lock()
        {
            *slot = Some((loaded, Instant::now()));
        }
        self
    }

    /// Whether these are a Vonage application's (v2 only).
    pub fn is_application(&self) -> bool {
        match &self.source {
            Source::Absent => false,
            Source::Static(c) => matches!(c, Credentials::App { .. }),
            Source::Ssm { params, .. } => matches!(params, Params::App { .. }),
        }
    }

    /// The credentials, fetched from SSM on first use and then served from the cache.
    pub async fn get(&self) -> Result<Credentials, SecretsError> {
        match &self.source {
            Source::Absent => Err(SecretsError::NotConfigured),
            Source::Static(c) => Ok(c.clone()),
            Source::Ssm {
                client,
                params,
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
                let creds = fetch(client, params).await?;
                *guard = Some((creds.clone(), Instant::now()));
                Ok(creds)
            }
        }
    }
}

async fn fetch(client: &aws_sdk_ssm::Client, params: &Params) -> Result<Credentials, SecretsError> {
    let names: Vec<&str> = match params {
        Params::Key { key, secret } => vec![key, secret],
        Params::App { key, .. } => vec![key],
    };
    let values = parameters(client, &names).await?;
    let value = |name: &str| {
        values
            .get(name)
            .cloned()
            .ok_or_else(|| SecretsError::Missing(name.to_string()))
    };
    Ok(match params {
        Params::Key { key, secret } => Credentials::Key {
            api_key: value(key)?,
            api_secret: value(secret)?,
        },
        Params::App {
            application_id,
            key,
        } => Credentials::App {
            application_id: application_id.clone(),
            private_key_pem: value(key)?,
        },
    })
}

/// SSM parameters' values by name, decrypted, in one `GetParameters` per ten names: all of
/// them, or an error naming the missing ones (start-up fetches every secret with this too).
pub async fn parameters(
    client: &aws_sdk_ssm::Client,
    names: &[&str],
) -> Result<BTreeMap<String, String>, SecretsError> {
    let mut values = BTreeMap::new();
    for chunk in names.chunks(10) {
        let out = client
            .get_parameters()
            .set_names(Some(chunk.iter().map(|n| n.to_string()).collect()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                SecretsError::Ssm(format!(
                    "{}: {}",
                    chunk.join(", "),
                    aws_sdk_ssm::error::DisplayErrorContext(e)
                ))
            })?;
        if !out.invalid_parameters().is_empty() {
            return Err(SecretsError::Missing(out.invalid_parameters().join(", ")));
        }
        for p in out.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                values.insert(name.to_string(), value.to_string());
            }
        }
    }
    match names.iter().find(|n| !values.contains_key(**n)) {
        Some(missing) => Err(SecretsError::Missing(missing.to_string())),
        None => Ok(values),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_the_secret_and_the_key() {
        let c = Credentials::Key {
            api_key: "k".into(),
            api_secret: "hunter2".into(),
        };
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && s.contains("redacted"));
        let c = Credentials::App {
            application_id: "app".into(),
            private_key_pem: "-----BEGIN PRIVATE KEY-----secret".into(),
        };
        assert!(!format!("{c:?}").contains("BEGIN"));
    }

    #[tokio::test]
    async fn fixed_credentials_are_served() {
        let s = Secrets::fixed("k", "v");
        assert!(
            matches!(s.get().await.unwrap(), Credentials::Key { api_secret, .. } if api_secret == "v")
        );
        assert!(!s.is_application());
        assert!(Secrets::application("a", "pem").is_application());
    }
}
