//! What the operator sees: log levels and CloudWatch metrics.

use super::env::{ConfigError, Env};
use crate::log::LogLevels;

#[derive(Debug, Clone)]
pub struct ObserveConfig {
    /// CloudWatch Embedded Metric Format lines on stdout (`METRICS=emf`; on in Lambda).
    pub metrics: bool,
    pub namespace: String,
}

impl Default for ObserveConfig {
    fn default() -> Self {
        Self {
            metrics: false,
            namespace: "VerifyProxy".into(),
        }
    }
}

impl ObserveConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        Ok(Self {
            metrics: env
                .choice("METRICS", &[("emf", true), ("off", false)])?
                .unwrap_or_else(|| env.in_lambda()),
            namespace: env
                .plain("METRICS_NAMESPACE")
                .unwrap_or_else(|| Self::default().namespace),
        })
    }
}

/// `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls), then `RUST_LOG`.
pub fn log_levels(env: &Env) -> LogLevels {
    LogLevels {
        lambda: env.plain("AWS_LAMBDA_LOG_LEVEL"),
        rust_log: env.plain("RUST_LOG"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics_are_on_in_lambda_unless_turned_off() {
        let lambda = Env::from_pairs(&[("AWS_LAMBDA_FUNCTION_NAME", "check")]);
        assert!(ObserveConfig::from_env(&lambda).unwrap().metrics);
        assert!(
            !ObserveConfig::from_env(&lambda.with("METRICS", "off"))
                .unwrap()
                .metrics
        );
        assert!(!ObserveConfig::from_env(&Env::default()).unwrap().metrics);
        let bad = Env::from_pairs(&[("METRICS", "statsd")]);
        assert_eq!(ObserveConfig::from_env(&bad).unwrap_err().name, "METRICS");
    }
}
