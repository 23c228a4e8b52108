//! Deployment configuration, read once per instance from environment variables. Imports only
//! `verify/` (below it): the caller-facing rules that use it live in `caller/`.

use std::time::Duration;

use thiserror::Error;

use crate::guard::Policy;
use crate::verify::TestNumbers;

/// Real Verify by default; the local server and tests point this at the simulator.
pub const DEFAULT_BASE_URL: &str = "https://api.nexmo.com";
/// API Gateway gives up after 29 s; answer well before that with a 504 of our own.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(25);

/// Request options a deployment may let callers set (all off by default).
pub const OPTIONS: &[&str] = &[
    "code_length",
    "pin_expiry",
    "next_event_wait",
    "workflow_id",
    "lg",
];

#[derive(Debug, Clone)]
pub struct Config {
    pub base_url: String,
    pub brand: String,
    pub sender_id: Option<String>,
    pub timeout: Duration,
    /// Which of [`OPTIONS`] callers may pass through.
    pub allowed_options: Vec<String>,
    /// Whether callers may send their own `brand`.
    pub allow_brand_override: bool,
    /// Defaults applied to every request unless a caller may and does override them.
    pub workflow_id: Option<String>,
    pub code_length: Option<String>,
    pub max_body_bytes: usize,
    /// `Access-Control-Allow-Origin` value; no CORS headers when `None` (closed by default).
    pub cors_origin: Option<String>,
    /// Calling codes a number must start with (empty: any). E.164 calling codes are a prefix
    /// code, so a prefix match is exact without a numbering-plan table.
    pub allowed_calling_codes: Vec<String>,
    /// Calling codes (or longer prefixes, up to 6 digits) always refused: SMS-pumping hot spots.
    pub denied_calling_codes: Vec<String>,
    /// Numbers with fixed codes answered without Vonage (`TEST_NUMBERS`); none by default.
    pub test_numbers: TestNumbers,
    /// The guard's limits, modes and prices (`GUARD_LIMITS`, `GUARD_MODES`, `GUARD_PRICES`).
    pub guard_policy: Policy,
    /// `GUARD_ON_STORE_ERROR=open` lets calls through when the guard's store is unreachable;
    /// the default refuses them (503), since an unguarded endpoint is the money pump.
    pub guard_fail_open: bool,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{name} is invalid: {reason}")]
    Invalid { name: &'static str, reason: String },
}

impl Default for Config {
    fn default() -> Self {
        Self {
            base_url: DEFAULT_BASE_URL.into(),
            brand: "verify-proxy".into(),
            sender_id: None,
            timeout: Duration::from_secs(10),
            allowed_options: Vec::new(),
            allow_brand_override: false,
            workflow_id: None,
            code_length: None,
            max_body_bytes: 8 * 1024,
            cors_origin: None,
            allowed_calling_codes: Vec::new(),
            denied_calling_codes: Vec::new(),
            test_numbers: TestNumbers::default(),
            guard_policy: Policy::default(),
            guard_fail_open: false,
        }
    }
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()))
    }

    /// Builds the config from any key -> value lookup (tests pass a map).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let timeout = match get("VERIFY_TIMEOUT_MS") {
            None => d.timeout,
            Some(v) => {
                let ms: u64 = v
                    .parse()
                    .map_err(|_| invalid("VERIFY_TIMEOUT_MS", "not a number"))?;
                let t = Duration::from_millis(ms);
                if t.is_zero() || t > MAX_TIMEOUT {
                    return Err(invalid(
                        "VERIFY_TIMEOUT_MS",
                        "must be 1..25000 (API Gateway stops at 29 s)",
                    ));
                }
                t
            }
        };
        let allowed_options: Vec<String> = get("ALLOWED_OPTIONS")
            .map(|v| {
                v.split(',')
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(bad) = allowed_options
            .iter()
            .find(|o| !OPTIONS.contains(&o.as_str()))
        {
            return Err(invalid(
                "ALLOWED_OPTIONS",
                &format!("unknown option {bad:?}"),
            ));
        }
        let brand = get("VERIFY_BRAND").unwrap_or(d.brand);
        if brand.chars().count() > 18 {
            return Err(invalid(
                "VERIFY_BRAND",
                "Verify allows at most 18 characters",
            ));
        }
        let max_body_bytes = match get("MAX_BODY_BYTES") {
            None => d.max_body_bytes,
            Some(v) => v
                .parse()
                .map_err(|_| invalid("MAX_BODY_BYTES", "not a number"))?,
        };
        Ok(Self {
            base_url: get("VERIFY_BASE_URL")
                .unwrap_or(d.base_url)
                .trim_end_matches('/')
                .to_string(),
            brand,
            sender_id: get("VERIFY_SENDER_ID"),
            timeout,
            allowed_options,
            allow_brand_override: get("ALLOW_BRAND_OVERRIDE").is_some_and(|v| truthy(&v)),
            workflow_id: get("VERIFY_WORKFLOW_ID"),
            code_length: get("VERIFY_CODE_LENGTH"),
            max_body_bytes,
            cors_origin: get("CORS_ALLOW_ORIGIN"),
            allowed_calling_codes: calling_codes(
                get("ALLOWED_CALLING_CODES"),
                "ALLOWED_CALLING_CODES",
            )?,
            denied_calling_codes: calling_codes(
                get("DENIED_CALLING_CODES"),
                "DENIED_CALLING_CODES",
            )?,
            test_numbers: TestNumbers::parse(&get("TEST_NUMBERS").unwrap_or_default())
                .map_err(|reason| invalid("TEST_NUMBERS", &reason))?,
            guard_policy: Policy::parse(
                &get("GUARD_LIMITS").unwrap_or_default(),
                &get("GUARD_MODES").unwrap_or_default(),
                &get("GUARD_PRICES").unwrap_or_default(),
            )
            .map_err(|reason| invalid("GUARD_LIMITS/GUARD_MODES/GUARD_PRICES", &reason))?,
            guard_fail_open: match get("GUARD_ON_STORE_ERROR").as_deref() {
                None | Some("closed") => false,
                Some("open") => true,
                Some(_) => return Err(invalid("GUARD_ON_STORE_ERROR", "use closed or open")),
            },
        })
    }

    pub fn option_allowed(&self, name: &str) -> bool {
        self.allowed_options.iter().any(|o| o == name)
    }
}

fn invalid(name: &'static str, reason: &str) -> ConfigError {
    ConfigError::Invalid {
        name,
        reason: reason.to_string(),
    }
}

fn calling_codes(value: Option<String>, name: &'static str) -> Result<Vec<String>, ConfigError> {
    let codes: Vec<String> = value
        .unwrap_or_default()
        .split(',')
        .map(|c| c.trim().trim_start_matches('+').to_string())
        .filter(|c| !c.is_empty())
        .collect();
    match codes
        .iter()
        .find(|c| c.len() > 6 || !c.bytes().all(|b| b.is_ascii_digit()))
    {
        Some(bad) => Err(invalid(
            name,
            &format!("{bad:?} is not a calling code or prefix (1 to 6 digits)"),
        )),
        None => Ok(codes),
    }
}

fn truthy(v: &str) -> bool {
    matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "yes" | "on")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| m.get(k).cloned())
    }

    #[test]
    fn defaults_are_closed() {
        let c = from(&[]).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert!(c.allowed_options.is_empty());
        assert!(!c.allow_brand_override);
        assert!(c.cors_origin.is_none());
        assert!(c.test_numbers.is_empty());
        assert!(c.timeout < Duration::from_secs(29));
    }

    #[test]
    fn rejects_bad_values() {
        assert!(from(&[("VERIFY_TIMEOUT_MS", "30000")]).is_err());
        assert!(from(&[("VERIFY_TIMEOUT_MS", "x")]).is_err());
        assert!(from(&[("ALLOWED_OPTIONS", "code_length,pin_code")]).is_err());
        assert!(from(&[("VERIFY_BRAND", "a brand that is far too long")]).is_err());
        assert!(from(&[("ALLOWED_CALLING_CODES", "44,UK")]).is_err());
        assert!(from(&[("DENIED_CALLING_CODES", "1234567")]).is_err());
        assert!(from(&[("TEST_NUMBERS", "447700900999")]).is_err());
        assert!(from(&[("GUARD_MODES", "ip_per_day=maybe")]).is_err());
        assert!(from(&[("GUARD_ON_STORE_ERROR", "ajar")]).is_err());
        assert!(
            from(&[("GUARD_ON_STORE_ERROR", "open")])
                .unwrap()
                .guard_fail_open
        );
    }

    #[test]
    fn reads_options() {
        let c = from(&[
            ("ALLOWED_OPTIONS", "code_length, lg"),
            ("ALLOW_BRAND_OVERRIDE", "true"),
            ("VERIFY_BASE_URL", "http://127.0.0.1:1/"),
        ])
        .unwrap();
        assert!(
            c.option_allowed("lg")
                && c.option_allowed("code_length")
                && !c.option_allowed("workflow_id")
        );
        assert!(c.allow_brand_override);
        assert_eq!(c.base_url, "http://127.0.0.1:1");
        let c = from(&[
            ("ALLOWED_CALLING_CODES", "+44, 33"),
            ("DENIED_CALLING_CODES", "882"),
        ])
        .unwrap();
        assert_eq!(c.allowed_calling_codes, vec!["44", "33"]);
        assert_eq!(c.denied_calling_codes, vec!["882"]);
    }
}
