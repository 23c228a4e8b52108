//! Where the guard's state is read: a deployment's table through the shared guard, or the
//! local server's admin route. Both answer the same JSON (`shared::guard::explain`).

use std::sync::Arc;

use serde_json::{Value, json};
use shared::config::{Env, GuardConfig, GuardStore, Secret};
use shared::guard::store::any::AnyStore;
use shared::guard::store::dynamo::DynamoStore;
use shared::guard::{Guard, Hasher, SystemClock};
use shared::verify::Number;

#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    #[error("{0}")]
    Usage(String),
    #[error("the number: {0}")]
    Number(String),
    #[error("the guard's store: {0}")]
    Store(String),
    #[error("the local server: {0}")]
    Local(String),
}

pub enum Backend {
    Local {
        url: String,
        token: String,
        http: reqwest::Client,
    },
    Table(Box<Guard>),
}

impl Backend {
    pub fn local(url: &str, token: &str) -> Self {
        Self::Local {
            url: url.trim_end_matches('/').to_string(),
            token: token.to_string(),
            http: reqwest::Client::new(),
        }
    }

    /// A deployment's table, read with the functions' own settings: `GUARD_TABLE` (or
    /// `table`), the HMAC key from `GUARD_HMAC_KEY_PARAM` (SSM, or `key_param`) or
    /// `GUARD_HMAC_KEY`, and `GUARD_LIMITS`/`GUARD_MODES`/`GUARD_PRICES` for the limits.
    pub async fn table(
        env: &Env,
        table: Option<String>,
        key_param: Option<String>,
    ) -> Result<Self, AdminError> {
        let config = GuardConfig::from_env(env).map_err(|e| AdminError::Usage(e.to_string()))?;
        let (table, key) = match (&config.store, table) {
            (_, Some(t)) => (t, key_param.map(Secret::Param)),
            (GuardStore::Dynamo { table, key }, None) => (
                table.clone(),
                key_param.map(Secret::Param).or(Some(key.clone())),
            ),
            (GuardStore::Memory { .. }, None) => {
                return Err(AdminError::Usage(
                    "name the deployment's table: --table or GUARD_TABLE (or --local URL)".into(),
                ));
            }
        };
        let key = key
            .or_else(|| Secret::from_env(env, "GUARD_HMAC_KEY_PARAM", "GUARD_HMAC_KEY"))
            .ok_or_else(|| {
                AdminError::Usage("the guard's key: --key-param or GUARD_HMAC_KEY_PARAM".into())
            })?;
        let sdk = shared::deps::aws::sdk_config(&[]).await;
        let key = match key {
            Secret::Value(v) => v,
            Secret::Param(name) => {
                let ssm = aws_sdk_ssm::Client::new(&sdk);
                let values = shared::deps::aws::parameters(Some(&ssm), &[name.as_str()])
                    .await
                    .map_err(|e| AdminError::Store(e.to_string()))?;
                values
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| AdminError::Store(format!("{name} has no value")))?
            }
        };
        let hasher = Hasher::new(key.as_bytes()).map_err(AdminError::Usage)?;
        let store = AnyStore::Dynamo(DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table));
        Ok(Self::Table(Box::new(Guard::new(
            config.policy,
            store,
            hasher,
            Arc::new(SystemClock),
            false,
        ))))
    }

    /// Lifts the number's own refusals (cooldowns, the owner's hold, its hourly and daily
    /// counters), audited as `by` for `reason`; what was lifted, as JSON.
    pub async fn unlock(&self, number: &str, by: &str, reason: &str) -> Result<Value, AdminError> {
        let parsed = Number::parse(number).map_err(|e| AdminError::Number(e.to_string()))?;
        match self {
            Self::Table(guard) => guard
                .unlock(&guard.subject(&parsed, None), by, reason)
                .await
                .map(|u| json!(u))
                .map_err(|e| AdminError::Store(e.to_string())),
            Self::Local { .. } => {
                let body = json!({ "number": format!("+{}", parsed.digits()), "reason": reason, "by": by });
                self.post("unlock", body).await
            }
        }
    }

    /// One call to the local server's admin route.
    async fn post(&self, action: &str, body: Value) -> Result<Value, AdminError> {
        let Self::Local { url, token, http } = self else {
            return Err(AdminError::Usage("not the local server".into()));
        };
        let r = http
            .post(format!("{url}/_admin/{action}"))
            .bearer_auth(token)
            .json(&body)
            .send()
            .await
            .map_err(|e| AdminError::Local(e.to_string()))?;
        let status = r.status();
        let body: Value = r
            .json()
            .await
            .map_err(|e| AdminError::Local(e.to_string()))?;
        match status.is_success() {
            true => Ok(body),
            false => Err(AdminError::Local(format!(
                "{status}: {}",
                body["error_text"].as_str().unwrap_or("no reason given")
            ))),
        }
    }

    /// The guard's explanation of `number` (any international notation), as JSON.
    pub async fn explain(&self, number: &str) -> Result<Value, AdminError> {
        let parsed = Number::parse(number).map_err(|e| AdminError::Number(e.to_string()))?;
        match self {
            Self::Table(guard) => guard
                .explain(&guard.subject(&parsed, None))
                .await
                .map(|e| json!(e))
                .map_err(|e| AdminError::Store(e.to_string())),
            Self::Local { .. } => {
                let body = json!({ "number": format!("+{}", parsed.digits()) });
                self.post("explain", body).await
            }
        }
    }
}
