//! This deployment's settings, one file per concern, each read from an [`Env`] (every
//! environment read goes through `env.rs`). This file composes them and holds only the checks
//! that span two concerns. Imports `guard/` and `verify/` (below it); the caller-facing rules
//! that use it live in `caller/`.

pub mod auth;
pub mod caller;
pub mod destinations;
pub mod env;
pub mod guard;
pub mod observe;
pub mod secrets;
pub mod tls;
pub mod token;
pub mod v2;
pub mod verify;

pub use auth::{AppCheckConfig, AuthConfig, AuthMode, FIREBASE_APP_CHECK_JWKS};
pub use caller::{CallerConfig, OPTIONS, V1_ONLY_OPTIONS};
pub use destinations::DestinationConfig;
pub use env::{ConfigError, Env};
pub use guard::{GuardConfig, GuardStore};
pub use observe::ObserveConfig;
pub use secrets::{Secret, SecretsConfig, VonageSource};
pub use tls::TlsConfig;
pub use token::TokenConfig;
pub use verify::{DEFAULT_BASE_URL, MAX_TIMEOUT, VerifyApi, VerifyConfig};

use crate::verify::v2::Workflow;

/// Everything a Verify-calling function reads (the jwks function reads only [`TokenConfig`]).
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub verify: VerifyConfig,
    /// v2's workflow; unused with v1.
    pub v2: Workflow,
    pub caller: CallerConfig,
    pub destinations: DestinationConfig,
    pub auth: AuthConfig,
    pub token: TokenConfig,
    pub guard: GuardConfig,
    pub secrets: SecretsConfig,
    pub observe: ObserveConfig,
    pub tls: TlsConfig,
}

impl Config {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let verify = VerifyConfig::from_env(env)?;
        let config = Self {
            v2: v2::from_env(env, verify.api)?,
            verify,
            caller: CallerConfig::from_env(env)?,
            destinations: DestinationConfig::from_env(env)?,
            auth: AuthConfig::from_env(env)?,
            token: TokenConfig::from_env(env)?,
            guard: GuardConfig::from_env(env)?,
            secrets: SecretsConfig::from_env(env)?,
            observe: ObserveConfig::from_env(env)?,
            tls: TlsConfig::from_env(env)?,
        };
        config.check_across()?;
        Ok(config)
    }

    /// What the events function reads: where the guard counts and its key, the callbacks'
    /// signature secret, logs and metrics, TLS. Verify's own settings (brand, channels,
    /// options, destinations) are not its business, so a mistake in one cannot stop v2's
    /// callbacks from being received.
    pub fn for_callbacks(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            verify: VerifyConfig {
                api: VerifyApi::V2,
                ..VerifyConfig::default()
            },
            guard: GuardConfig::from_env(env)?,
            secrets: SecretsConfig::signature_only(env),
            observe: ObserveConfig::from_env(env)?,
            tls: TlsConfig::from_env(env)?,
            ..Self::default()
        })
    }

    /// From name/value pairs, as a test writes them.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Result<Self, ConfigError> {
        Self::from_env(&Env::from_pairs(pairs))
    }

    /// The rules that span two concerns.
    fn check_across(&self) -> Result<(), ConfigError> {
        if self.verify.api == VerifyApi::V2
            && let Some(o) = self
                .caller
                .allowed_options
                .iter()
                .find(|o| V1_ONLY_OPTIONS.contains(&o.as_str()))
        {
            return Err(ConfigError::new(
                "ALLOWED_OPTIONS",
                format!("{o} is v1 only: v2 takes code_length and lg"),
            ));
        }
        if self.verify.api == VerifyApi::V1
            && self
                .secrets
                .vonage
                .as_ref()
                .is_some_and(VonageSource::is_application)
        {
            return Err(application_needs_v2());
        }
        Ok(())
    }

    /// Every SSM parameter this configuration names (fetched at start-up in one call).
    pub fn ssm_params(&self) -> Vec<&str> {
        let mut names = self.secrets.vonage_params();
        let guard_key = match &self.guard.store {
            GuardStore::Memory { key } => key.as_ref(),
            GuardStore::Dynamo { key, .. } => Some(key),
        };
        for secret in [
            guard_key,
            self.token.key.as_ref(),
            self.secrets.signature.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            names.extend(secret.param());
        }
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// Vonage application credentials under v1 (checked on the settings, and again by
/// `Deps::with_guard` on credentials handed over directly).
pub fn application_needs_v2() -> ConfigError {
    ConfigError::new(
        "VERIFY_APPLICATION_ID",
        "application JWTs are v2 only: set VERIFY_API=v2, or use a key and secret",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_closed() {
        let c = Config::from_pairs(&[]).unwrap();
        assert_eq!(c.verify.base_url, DEFAULT_BASE_URL);
        assert!(c.caller.allowed_options.is_empty() && c.caller.cors_origin.is_none());
        assert_eq!(c.auth.mode, AuthMode::None);
        assert!(c.ssm_params().is_empty());
    }

    #[test]
    fn rules_across_concerns() {
        let e = Config::from_pairs(&[("VERIFY_API", "v2"), ("ALLOWED_OPTIONS", "pin_expiry")]);
        assert_eq!(e.unwrap_err().name, "ALLOWED_OPTIONS");
        assert!(
            Config::from_pairs(&[("VERIFY_API", "v2"), ("ALLOWED_OPTIONS", "code_length,lg")])
                .is_ok()
        );
        let app = [
            ("VERIFY_APPLICATION_ID", "app"),
            ("VERIFY_PRIVATE_KEY", "pem"),
        ];
        assert_eq!(
            Config::from_pairs(&app).unwrap_err().name,
            "VERIFY_APPLICATION_ID"
        );
        assert!(Config::from_pairs(&[app[0], app[1], ("VERIFY_API", "v2")]).is_ok());
    }

    #[test]
    fn every_ssm_name_once() {
        let c = Config::from_pairs(&[
            ("VERIFY_API_KEY_PARAM", "/vonage/key"),
            ("VERIFY_API_SECRET_PARAM", "/vonage/secret"),
            ("GUARD_TABLE", "t"),
            ("GUARD_HMAC_KEY_PARAM", "/keys/shared"),
            ("TOKEN_KEY_PARAM", "/keys/shared"),
            ("VERIFY_SIGNATURE_SECRET", "plain"),
        ])
        .unwrap();
        assert_eq!(
            c.ssm_params(),
            ["/keys/shared", "/vonage/key", "/vonage/secret"]
        );
    }
}
