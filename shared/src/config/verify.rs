//! Which Verify API is called, where, and what every start sends by default (`VERIFY_*`).

use std::time::Duration;

use super::env::{ConfigError, Env};
use crate::verify::TestNumbers;
use crate::verify::values::{Brand, CodeLength, SenderId, V1_MAX_CODE, V2_MAX_CODE, WorkflowId};

/// Real Verify by default; the local server and tests point this at the simulator.
pub const DEFAULT_BASE_URL: &str = "https://api.nexmo.com";
/// API Gateway gives up after 29 s; answer well before that with a 504 of our own.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(25);

/// Which Verify API this deployment calls (`VERIFY_API`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyApi {
    V1,
    V2,
}

#[derive(Debug, Clone)]
pub struct VerifyConfig {
    pub api: VerifyApi,
    pub base_url: String,
    pub timeout: Duration,
    pub brand: Brand,
    pub sender_id: Option<SenderId>,
    /// v1 defaults for every start unless a caller may and does override them (v2 takes its
    /// code length in the workflow). The code length is 6 unless `VERIFY_CODE_LENGTH` says 4.
    pub workflow_id: Option<WorkflowId>,
    pub code_length: Option<CodeLength>,
    /// Numbers with fixed codes answered without Vonage (`TEST_NUMBERS`); none by default.
    pub test_numbers: TestNumbers,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            api: VerifyApi::V1,
            base_url: DEFAULT_BASE_URL.into(),
            timeout: Duration::from_secs(10),
            brand: Brand::default(),
            sender_id: None,
            workflow_id: None,
            code_length: Some(CodeLength::DEFAULT),
            test_numbers: TestNumbers::default(),
        }
    }
}

impl VerifyConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        let api = env
            .choice(
                "VERIFY_API",
                &[("v1", VerifyApi::V1), ("v2", VerifyApi::V2)],
            )?
            .unwrap_or(d.api);
        let timeout = match env.number_in(
            "VERIFY_TIMEOUT_MS",
            1..=25_000,
            "ms (API Gateway stops at 29 s)",
        )? {
            None => d.timeout,
            Some(ms) => Duration::from_millis(ms),
        };
        let brand = match env.plain("VERIFY_BRAND") {
            None => d.brand,
            Some(b) => Brand::parse(&b).map_err(|r| ConfigError::new("VERIFY_BRAND", r))?,
        };
        if api == VerifyApi::V2 && !brand.fits_v2() {
            return Err(ConfigError::new(
                "VERIFY_BRAND",
                "v2 brands are at most 16 characters",
            ));
        }
        let sender_id = env
            .plain("VERIFY_SENDER_ID")
            .map(|s| SenderId::parse(&s).map_err(|r| ConfigError::new("VERIFY_SENDER_ID", r)))
            .transpose()?;
        let workflow_id = env
            .plain("VERIFY_WORKFLOW_ID")
            .map(|w| WorkflowId::parse(&w).map_err(|r| ConfigError::new("VERIFY_WORKFLOW_ID", r)))
            .transpose()?;
        if api == VerifyApi::V2 && workflow_id.is_some() {
            return Err(ConfigError::new(
                "VERIFY_WORKFLOW_ID",
                "v1 only: with v2 set VERIFY_CHANNELS",
            ));
        }
        // Under v2 the length is part of the workflow (config/v2.rs reads it there).
        let code_length = match (api, env.plain("VERIFY_CODE_LENGTH")) {
            (VerifyApi::V1, Some(c)) => Some(CodeLength::parse_v1(&c).map_err(|_| {
                ConfigError::new("VERIFY_CODE_LENGTH", "Verify sends codes of 4 or 6 digits")
            })?),
            (VerifyApi::V1, None) => Some(CodeLength::DEFAULT),
            (VerifyApi::V2, _) => None,
        };
        let test_numbers = TestNumbers::parse(&env.plain("TEST_NUMBERS").unwrap_or_default())
            .map_err(|reason| ConfigError::new("TEST_NUMBERS", reason))?;
        Ok(Self {
            api,
            base_url: env
                .plain("VERIFY_BASE_URL")
                .unwrap_or(d.base_url)
                .trim_end_matches('/')
                .to_string(),
            timeout,
            brand,
            sender_id,
            workflow_id,
            code_length,
            test_numbers,
        })
    }

    /// The longest code callers may send to `/check`.
    pub fn max_code_length(&self) -> usize {
        match self.api {
            VerifyApi::V1 => V1_MAX_CODE,
            VerifyApi::V2 => V2_MAX_CODE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<VerifyConfig, ConfigError> {
        VerifyConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn defaults_and_bad_values() {
        let c = from(&[]).unwrap();
        assert_eq!(c.base_url, DEFAULT_BASE_URL);
        assert!(c.test_numbers.is_empty() && c.timeout < Duration::from_secs(29));
        for (name, value) in [
            ("VERIFY_TIMEOUT_MS", "30000"),
            ("VERIFY_TIMEOUT_MS", "x"),
            ("VERIFY_TIMEOUT_MS", "0"),
            ("VERIFY_BRAND", "a brand that is far too long"),
            ("VERIFY_BRAND", "My\u{202E}ppA"),
            ("VERIFY_BRAND", "Shop\u{200B}"),
            ("VERIFY_SENDER_ID", "TwelveLetter"),
            ("VERIFY_SENDER_ID", "1234567890123456"),
            ("VERIFY_SENDER_ID", "Acme-Co"),
            ("VERIFY_WORKFLOW_ID", "8"),
            ("VERIFY_WORKFLOW_ID", "+7"),
            ("VERIFY_CODE_LENGTH", "5"),
            ("VERIFY_API", "v3"),
            ("TEST_NUMBERS", "447700900999"),
        ] {
            assert_eq!(
                from(&[(name, value)]).unwrap_err().name,
                name,
                "{name}={value}"
            );
        }
        for (name, value) in [
            ("VERIFY_SENDER_ID", "Acme Co"),
            ("VERIFY_SENDER_ID", "447700900000"),
            ("VERIFY_WORKFLOW_ID", "6"),
            ("VERIFY_CODE_LENGTH", "6"),
            ("VERIFY_BRAND", "Booking.com"),
        ] {
            assert!(from(&[(name, value)]).is_ok(), "{name}={value}");
        }
        let c = from(&[("VERIFY_BASE_URL", "http://127.0.0.1:1/")]).unwrap();
        assert_eq!(c.base_url, "http://127.0.0.1:1");
    }

    #[test]
    fn v2_rules() {
        let v2 = |extra: (&str, &str)| from(&[("VERIFY_API", "v2"), extra]);
        assert_eq!(
            v2(("VERIFY_WORKFLOW_ID", "1")).unwrap_err().name,
            "VERIFY_WORKFLOW_ID"
        );
        assert_eq!(
            v2(("VERIFY_BRAND", "Seventeen letters")).unwrap_err().name,
            "VERIFY_BRAND"
        );
        // v2's length goes into the workflow, not the v1 default.
        assert_eq!(v2(("VERIFY_CODE_LENGTH", "8")).unwrap().code_length, None);
    }
}
