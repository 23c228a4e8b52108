//! Where the secrets come from: Vonage's credentials and the v2 callbacks' signature secret
//! (`VERIFY_*`), each either the value itself (development) or an SSM parameter's name. The
//! guard's and the token's keys are [`Secret`]s too; all SSM names are fetched in one call.

use std::time::Duration;

use super::env::{ConfigError, Env};

/// A secret's value, or the SSM SecureString that holds it.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    Param(String),
    Value(String),
}

impl Secret {
    /// `{name}_PARAM` (SSM) wins over `{name}` (the value).
    pub fn from_env(env: &Env, param: &str, value: &str) -> Option<Self> {
        env.plain(param)
            .map(Self::Param)
            .or_else(|| env.plain(value).map(Self::Value))
    }

    pub fn param(&self) -> Option<&str> {
        match self {
            Self::Param(name) => Some(name),
            Self::Value(_) => None,
        }
    }
}

// A value is never printed; a parameter's name may be.
impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Param(name) => write!(f, "Secret::Param({name})"),
            Self::Value(_) => f.write_str("Secret::Value(<redacted>)"),
        }
    }
}

/// Vonage's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VonageSource {
    /// `VERIFY_API_KEY` and `VERIFY_API_SECRET`.
    Key { api_key: String, api_secret: String },
    /// `VERIFY_API_KEY_PARAM` and `VERIFY_API_SECRET_PARAM` (SSM).
    KeyParams {
        key_param: String,
        secret_param: String,
    },
    /// `VERIFY_APPLICATION_ID` with `VERIFY_PRIVATE_KEY_PARAM` or `VERIFY_PRIVATE_KEY` (v2).
    App { application_id: String, key: Secret },
}

impl VonageSource {
    pub fn is_application(&self) -> bool {
        matches!(self, Self::App { .. })
    }

    pub fn params(&self) -> Vec<&str> {
        match self {
            Self::Key { .. } => Vec::new(),
            Self::KeyParams {
                key_param,
                secret_param,
            } => vec![key_param, secret_param],
            Self::App { key, .. } => key.param().into_iter().collect(),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct SecretsConfig {
    /// `None`: no credentials configured (a function refuses to start; the local server uses
    /// its simulator).
    pub vonage: Option<VonageSource>,
    /// `SECRETS_TTL_SECONDS`: reload SSM credentials after this long (rotation).
    pub ttl: Option<Duration>,
    /// Signs v2 status callbacks (`VERIFY_SIGNATURE_SECRET_PARAM` or `_SECRET`).
    pub signature: Option<Secret>,
}

impl SecretsConfig {
    /// The SSM parameters Vonage's credentials are in (none when given as values).
    pub fn vonage_params(&self) -> Vec<&str> {
        self.vonage
            .as_ref()
            .map(VonageSource::params)
            .unwrap_or_default()
    }

    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let vonage = match env.plain("VERIFY_APPLICATION_ID") {
            Some(application_id) => Some(VonageSource::App {
                application_id,
                key: Secret::from_env(env, "VERIFY_PRIVATE_KEY_PARAM", "VERIFY_PRIVATE_KEY")
                    .ok_or_else(|| {
                        ConfigError::new(
                            "VERIFY_PRIVATE_KEY_PARAM",
                            "VERIFY_APPLICATION_ID needs the application's private key",
                        )
                    })?,
            }),
            None => match (
                env.plain("VERIFY_API_KEY_PARAM"),
                env.plain("VERIFY_API_SECRET_PARAM"),
                env.plain("VERIFY_API_KEY"),
                env.plain("VERIFY_API_SECRET"),
            ) {
                (Some(key_param), Some(secret_param), _, _) => Some(VonageSource::KeyParams {
                    key_param,
                    secret_param,
                }),
                (Some(_), None, _, _) | (None, Some(_), _, _) => {
                    return Err(ConfigError::new(
                        "VERIFY_API_SECRET_PARAM",
                        "set both VERIFY_API_KEY_PARAM and VERIFY_API_SECRET_PARAM",
                    ));
                }
                (None, None, Some(api_key), Some(api_secret)) => Some(VonageSource::Key {
                    api_key,
                    api_secret,
                }),
                (None, None, Some(_), None) | (None, None, None, Some(_)) => {
                    return Err(ConfigError::new(
                        "VERIFY_API_SECRET",
                        "set both VERIFY_API_KEY and VERIFY_API_SECRET",
                    ));
                }
                (None, None, None, None) => None,
            },
        };
        let ttl = env
            .number_in("SECRETS_TTL_SECONDS", 1..=7 * 86_400, "seconds")?
            .map(Duration::from_secs);
        Ok(Self {
            vonage,
            ttl,
            signature: Secret::from_env(
                env,
                "VERIFY_SIGNATURE_SECRET_PARAM",
                "VERIFY_SIGNATURE_SECRET",
            ),
        })
    }

    /// The v2 callbacks' signature secret alone (the events function reads nothing of
    /// Vonage's credentials).
    pub fn signature_only(env: &Env) -> Self {
        Self {
            vonage: None,
            ttl: None,
            signature: Secret::from_env(
                env,
                "VERIFY_SIGNATURE_SECRET_PARAM",
                "VERIFY_SIGNATURE_SECRET",
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<SecretsConfig, ConfigError> {
        SecretsConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn a_bad_ttl_stops_the_instance_instead_of_being_ignored() {
        assert_eq!(
            from(&[("SECRETS_TTL_SECONDS", "abc")]).unwrap_err().name,
            "SECRETS_TTL_SECONDS"
        );
        assert_eq!(
            from(&[("SECRETS_TTL_SECONDS", "0")]).unwrap_err().name,
            "SECRETS_TTL_SECONDS"
        );
        assert_eq!(
            from(&[("SECRETS_TTL_SECONDS", "900")]).unwrap().ttl,
            Some(Duration::from_secs(900))
        );
    }

    #[test]
    fn sources() {
        assert_eq!(from(&[]).unwrap().vonage, None);
        let ssm = from(&[
            ("VERIFY_API_KEY_PARAM", "/k"),
            ("VERIFY_API_SECRET_PARAM", "/s"),
            ("VERIFY_API_KEY", "plain"),
        ]);
        assert_eq!(ssm.unwrap().vonage.unwrap().params(), ["/k", "/s"]);
        assert!(
            from(&[("VERIFY_API_KEY_PARAM", "/k")]).is_err(),
            "half a pair"
        );
        assert!(from(&[("VERIFY_API_KEY", "k")]).is_err(), "half a pair");
        assert!(from(&[("VERIFY_APPLICATION_ID", "app")]).is_err(), "no key");
        let app = from(&[
            ("VERIFY_APPLICATION_ID", "app"),
            ("VERIFY_PRIVATE_KEY", "pem"),
        ])
        .unwrap();
        assert!(
            app.vonage.as_ref().unwrap().is_application()
                && app.vonage.unwrap().params().is_empty()
        );
        let sig = from(&[("VERIFY_SIGNATURE_SECRET", "s3cret")])
            .unwrap()
            .signature
            .unwrap();
        assert!(!format!("{sig:?}").contains("s3cret"));
    }
}
