//! The verification token's claims and signing key (`TOKEN_*`).

use std::time::Duration;

use super::env::{ConfigError, Env};
use super::secrets::Secret;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
    /// `TOKEN_KEY_PARAM` (SSM) or `TOKEN_PRIVATE_KEY`: PEM keys, the first signs.
    pub key: Option<Secret>,
    /// Without a key: sign with one generated for this process. Not in Lambda, where each
    /// instance would sign with its own (no tokens rather than unverifiable ones).
    pub generate: bool,
}

impl Default for TokenConfig {
    fn default() -> Self {
        Self {
            issuer: "verify-proxy".into(),
            audience: "verify-proxy-backend".into(),
            ttl: Duration::from_secs(300),
            key: None,
            generate: true,
        }
    }
}

impl TokenConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            issuer: env.plain("TOKEN_ISSUER").unwrap_or(d.issuer),
            audience: env.plain("TOKEN_AUDIENCE").unwrap_or(d.audience),
            ttl: env
                .number_in("TOKEN_TTL_S", 30..=900, "seconds")?
                .map_or(d.ttl, Duration::from_secs),
            key: Secret::from_env(env, "TOKEN_KEY_PARAM", "TOKEN_PRIVATE_KEY"),
            generate: !env.in_lambda(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claims_and_key() {
        let env = Env::from_pairs(&[("TOKEN_TTL_S", "86400")]);
        assert_eq!(TokenConfig::from_env(&env).unwrap_err().name, "TOKEN_TTL_S");
        let env = Env::from_pairs(&[
            ("TOKEN_ISSUER", "https://v.example"),
            ("TOKEN_KEY_PARAM", "/tk"),
        ]);
        let t = TokenConfig::from_env(&env).unwrap();
        assert_eq!(t.issuer, "https://v.example");
        assert_eq!(t.key, Some(Secret::Param("/tk".into())));
    }
}
