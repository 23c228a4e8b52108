//! The guard's limits, modes and prices (`GUARD_LIMITS`, `GUARD_MODES`, `GUARD_PRICES`), where
//! it counts, and the key its digests are made with.

use super::env::{ConfigError, Env};
use super::secrets::Secret;
use crate::guard::Policy;

/// Where the guard counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardStore {
    /// In this process: one instance only. Without a key, digests are only comparable within
    /// the process (a fresh random key).
    Memory { key: Option<Secret> },
    /// DynamoDB (`GUARD_TABLE`), shared by every instance, so they must share the key.
    Dynamo { table: String, key: Secret },
}

#[derive(Debug, Clone)]
pub struct GuardConfig {
    pub policy: Policy,
    /// `GUARD_ON_STORE_ERROR=open` lets calls through when the guard's store is unreachable;
    /// the default refuses them (503), since an unguarded endpoint is the money pump.
    pub fail_open: bool,
    pub store: GuardStore,
    /// `GUARD_MEMORY_MAX_ITEMS`: the memory store's bound (new items past it are a store
    /// error, handled as `GUARD_ON_STORE_ERROR` says).
    pub memory_max_items: usize,
}

impl Default for GuardConfig {
    fn default() -> Self {
        Self {
            policy: Policy::default(),
            fail_open: false,
            store: GuardStore::Memory { key: None },
            memory_max_items: crate::guard::store::memory::DEFAULT_MAX_ITEMS,
        }
    }
}

impl GuardConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let policy = Policy::parse(
            &env.plain("GUARD_LIMITS").unwrap_or_default(),
            &env.plain("GUARD_MODES").unwrap_or_default(),
            &env.plain("GUARD_PRICES").unwrap_or_default(),
        )
        .map_err(|reason| ConfigError::new("GUARD_LIMITS/GUARD_MODES/GUARD_PRICES", reason))?;
        let fail_open = env
            .choice("GUARD_ON_STORE_ERROR", &[("closed", false), ("open", true)])?
            .unwrap_or(false);
        let key = Secret::from_env(env, "GUARD_HMAC_KEY_PARAM", "GUARD_HMAC_KEY");
        let memory = env.choice("GUARD_STORE", &[("memory", true), ("dynamodb", false)])?;
        let store = match (env.plain("GUARD_TABLE"), memory) {
            (Some(_), Some(true)) => {
                return Err(ConfigError::new(
                    "GUARD_STORE",
                    "memory, but GUARD_TABLE is set",
                ));
            }
            (Some(table), _) => GuardStore::Dynamo {
                table,
                key: key.ok_or_else(|| {
                    ConfigError::new(
                        "GUARD_HMAC_KEY_PARAM",
                        "GUARD_TABLE needs GUARD_HMAC_KEY_PARAM (SSM) or GUARD_HMAC_KEY",
                    )
                })?,
            },
            // Each Lambda instance would count alone and /check could not see the ids
            // /request recorded: in Lambda the memory store must be asked for explicitly.
            (None, None) if env.in_lambda() => {
                return Err(ConfigError::new(
                    "GUARD_TABLE",
                    "set GUARD_TABLE (DynamoDB); GUARD_STORE=memory only for a single instance",
                ));
            }
            (None, Some(false)) => {
                return Err(ConfigError::new(
                    "GUARD_TABLE",
                    "GUARD_STORE=dynamodb needs GUARD_TABLE",
                ));
            }
            (None, _) => GuardStore::Memory { key },
        };
        let memory_max_items = env
            .number_in("GUARD_MEMORY_MAX_ITEMS", 1_000..=100_000_000, "items")?
            .map_or(Self::default().memory_max_items, |n| n as usize);
        Ok(Self {
            policy,
            fail_open,
            store,
            memory_max_items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<GuardConfig, ConfigError> {
        GuardConfig::from_env(&Env::from_pairs(pairs))
    }

    const LAMBDA: (&str, &str) = ("AWS_LAMBDA_FUNCTION_NAME", "request");

    #[test]
    fn lambda_needs_a_table_or_an_explicit_memory_store() {
        assert_eq!(from(&[LAMBDA]).unwrap_err().name, "GUARD_TABLE");
        let memory = from(&[LAMBDA, ("GUARD_STORE", "memory")]).unwrap();
        assert_eq!(memory.store, GuardStore::Memory { key: None });
        assert_eq!(
            from(&[]).unwrap().store,
            GuardStore::Memory { key: None },
            "local"
        );
    }

    #[test]
    fn a_table_needs_a_shared_key() {
        assert_eq!(
            from(&[("GUARD_TABLE", "t")]).unwrap_err().name,
            "GUARD_HMAC_KEY_PARAM"
        );
        let c = from(&[
            LAMBDA,
            ("GUARD_TABLE", "t"),
            ("GUARD_HMAC_KEY_PARAM", "/gk"),
        ])
        .unwrap();
        assert_eq!(
            c.store,
            GuardStore::Dynamo {
                table: "t".into(),
                key: Secret::Param("/gk".into())
            }
        );
        assert!(
            from(&[
                ("GUARD_TABLE", "t"),
                ("GUARD_HMAC_KEY", "k"),
                ("GUARD_STORE", "memory")
            ])
            .is_err()
        );
    }

    #[test]
    fn modes_and_store_errors() {
        assert!(from(&[("GUARD_MODES", "ip_per_day=maybe")]).is_err());
        assert_eq!(
            from(&[("GUARD_ON_STORE_ERROR", "ajar")]).unwrap_err().name,
            "GUARD_ON_STORE_ERROR"
        );
        assert!(from(&[("GUARD_ON_STORE_ERROR", "open")]).unwrap().fail_open);
    }
}
