//! What callers may send and how their requests are read: options, brand, bodies and
//! browsers (where codes may go is `destinations.rs`).

use super::env::{ConfigError, Env};

/// Request options a deployment may let callers set (all off by default).
pub const OPTIONS: &[&str] = &[
    "code_length",
    "pin_expiry",
    "next_event_wait",
    "workflow_id",
    "lg",
];

/// Options that exist only in v1 (v2 has a channel workflow instead).
pub const V1_ONLY_OPTIONS: &[&str] = &["pin_expiry", "next_event_wait", "workflow_id"];

#[derive(Debug, Clone)]
pub struct CallerConfig {
    /// Which of [`OPTIONS`] callers may pass through (`ALLOWED_OPTIONS`).
    pub allowed_options: Vec<String>,
    /// Whether callers may send their own `brand` (`ALLOW_BRAND_OVERRIDE`).
    pub allow_brand_override: bool,
    /// `UNEXPECTED_OPTIONS=ignore`: a `brand` or option this deployment does not let callers
    /// set is dropped (as the Node proxy did) instead of refused with 400.
    pub ignore_unexpected: bool,
    pub max_body_bytes: usize,
    /// `Access-Control-Allow-Origin` value; no CORS headers when `None` (closed by default).
    /// When set, a request whose `Origin` is present and different is refused (403).
    pub cors_origin: Option<String>,
    /// `JSON_ONLY=true`: only `application/json` bodies. Form bodies (and bodies without a
    /// content type) are what a foreign page can post without a CORS preflight.
    pub json_only: bool,
}

impl Default for CallerConfig {
    fn default() -> Self {
        Self {
            allowed_options: Vec::new(),
            allow_brand_override: false,
            ignore_unexpected: false,
            max_body_bytes: 8 * 1024,
            cors_origin: None,
            json_only: false,
        }
    }
}

impl CallerConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let allowed_options = env.list("ALLOWED_OPTIONS");
        if let Some(bad) = allowed_options
            .iter()
            .find(|o| !OPTIONS.contains(&o.as_str()))
        {
            return Err(ConfigError::new(
                "ALLOWED_OPTIONS",
                format!("unknown option {bad:?}"),
            ));
        }
        Ok(Self {
            allowed_options,
            allow_brand_override: env.flag("ALLOW_BRAND_OVERRIDE")?,
            ignore_unexpected: env
                .choice("UNEXPECTED_OPTIONS", &[("refuse", false), ("ignore", true)])?
                .unwrap_or(false),
            max_body_bytes: env
                .parsed("MAX_BODY_BYTES", "a number of bytes")?
                .unwrap_or(d.max_body_bytes),
            // Browsers send an origin without a trailing slash.
            cors_origin: env
                .plain("CORS_ALLOW_ORIGIN")
                .map(|o| o.trim_end_matches('/').to_string()),
            json_only: env.flag("JSON_ONLY")?,
        })
    }

    pub fn option_allowed(&self, name: &str) -> bool {
        self.allowed_options.iter().any(|o| o == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<CallerConfig, ConfigError> {
        CallerConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn closed_by_default_and_bad_values_name_their_variable() {
        let c = from(&[]).unwrap();
        assert!(c.allowed_options.is_empty() && !c.allow_brand_override && c.cors_origin.is_none());
        for (name, value) in [
            ("ALLOWED_OPTIONS", "code_length,pin_code"),
            ("UNEXPECTED_OPTIONS", "shrug"),
            ("ALLOW_BRAND_OVERRIDE", "maybe"),
            ("JSON_ONLY", "sometimes"),
            ("MAX_BODY_BYTES", "8k"),
        ] {
            assert_eq!(
                from(&[(name, value)]).unwrap_err().name,
                name,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn reads_options() {
        let c = from(&[
            ("ALLOWED_OPTIONS", "code_length, lg"),
            ("ALLOW_BRAND_OVERRIDE", "true"),
            ("CORS_ALLOW_ORIGIN", "https://app.example/"),
        ])
        .unwrap();
        assert!(c.option_allowed("lg") && c.option_allowed("code_length"));
        assert!(!c.option_allowed("workflow_id") && c.allow_brand_override);
        assert_eq!(c.cors_origin.as_deref(), Some("https://app.example"));
    }
}
