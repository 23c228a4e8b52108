//! Deployment configuration, read once per instance from environment variables. Imports only
//! `verify/` (below it): the caller-facing rules that use it live in `caller/`.

use std::time::Duration;

use thiserror::Error;

use crate::guard::Policy;
use crate::verify::TestNumbers;
use crate::verify::v2::{Workflow, workflow};

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

/// Which Verify API this deployment calls (`VERIFY_API`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyApi {
    V1,
    V2,
}

/// Options that exist only in v1 (v2 has a channel workflow instead).
pub const V1_ONLY_OPTIONS: &[&str] = &["pin_expiry", "next_event_wait", "workflow_id"];

/// Who may call (`CALLER_AUTH`). `api-key` and `iam` are enforced by API Gateway; the function
/// also refuses a request whose context shows no such caller (a route deployed without them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    None,
    ApiKey,
    Iam,
    AppCheck,
}

impl AuthMode {
    pub fn parse(v: &str) -> Option<Self> {
        match v {
            "none" => Some(Self::None),
            "api-key" => Some(Self::ApiKey),
            "iam" => Some(Self::Iam),
            "app-check" => Some(Self::AppCheck),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::ApiKey => "api-key",
            Self::Iam => "iam",
            Self::AppCheck => "app-check",
        }
    }
}

/// Where app attestation tokens come from and what they must say (`APP_CHECK_*`). The
/// defaults are Firebase App Check's, with the project number filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppCheckConfig {
    pub jwks_url: String,
    pub issuer: String,
    pub audiences: Vec<String>,
    /// The request header that carries the token.
    pub header: String,
    /// How long fetched keys are used before they are fetched again.
    pub jwks_ttl: Duration,
}

pub const FIREBASE_APP_CHECK_JWKS: &str = "https://firebaseappcheck.googleapis.com/v1/jwks";

/// The verification token's claims that a deployment chooses (`TOKEN_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenConfig {
    pub issuer: String,
    pub audience: String,
    pub ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct Config {
    pub verify_api: VerifyApi,
    /// v2's workflow (`VERIFY_CHANNELS`, `ALLOWED_CHANNELS`, `VERIFY_CHANNEL_TIMEOUT`,
    /// `VERIFY_CODE_LENGTH`, `VERIFY_LOCALE`, `VERIFY_WHATSAPP_FROM`); unused with v1.
    pub v2: Workflow,
    pub base_url: String,
    pub brand: String,
    pub sender_id: Option<String>,
    pub timeout: Duration,
    /// Which of [`OPTIONS`] callers may pass through.
    pub allowed_options: Vec<String>,
    /// Whether callers may send their own `brand`.
    pub allow_brand_override: bool,
    /// `UNEXPECTED_OPTIONS=ignore`: a `brand` or option this deployment does not let callers
    /// set is dropped (as the Node proxy did) instead of refused with 400.
    pub ignore_unexpected: bool,
    /// Defaults applied to every request unless a caller may and does override them.
    pub workflow_id: Option<String>,
    pub code_length: Option<String>,
    pub max_body_bytes: usize,
    /// `Access-Control-Allow-Origin` value; no CORS headers when `None` (closed by default).
    /// When set, a request whose `Origin` is present and different is refused (403).
    pub cors_origin: Option<String>,
    /// `JSON_ONLY=true`: only `application/json` bodies. Form bodies (and bodies without a
    /// content type) are what a foreign page can post without a CORS preflight.
    pub json_only: bool,
    pub caller_auth: AuthMode,
    /// Set exactly when `caller_auth` is `AppCheck`.
    pub app_check: Option<AppCheckConfig>,
    pub token: TokenConfig,
    /// CloudWatch Embedded Metric Format lines on stdout (`METRICS=emf`; on in Lambda).
    pub metrics: bool,
    pub metrics_namespace: String,
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
            verify_api: VerifyApi::V1,
            v2: Workflow::default(),
            base_url: DEFAULT_BASE_URL.into(),
            brand: "verify-proxy".into(),
            sender_id: None,
            timeout: Duration::from_secs(10),
            allowed_options: Vec::new(),
            allow_brand_override: false,
            ignore_unexpected: false,
            workflow_id: None,
            code_length: None,
            max_body_bytes: 8 * 1024,
            cors_origin: None,
            json_only: false,
            caller_auth: AuthMode::None,
            app_check: None,
            token: TokenConfig {
                issuer: "verify-proxy".into(),
                audience: "verify-proxy-backend".into(),
                ttl: Duration::from_secs(300),
            },
            metrics: false,
            metrics_namespace: "VerifyProxy".into(),
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
        if let Some(problem) = brand_problem(&brand) {
            return Err(invalid("VERIFY_BRAND", problem));
        }
        let sender_id = get("VERIFY_SENDER_ID");
        if let Some(problem) = sender_id.as_deref().and_then(sender_id_problem) {
            return Err(invalid("VERIFY_SENDER_ID", problem));
        }
        let workflow_id = get("VERIFY_WORKFLOW_ID");
        if workflow_id
            .as_deref()
            .is_some_and(|w| !matches!(w, "1" | "2" | "3" | "4" | "5" | "6" | "7"))
        {
            return Err(invalid(
                "VERIFY_WORKFLOW_ID",
                "Verify's workflows are 1 to 7",
            ));
        }
        let verify_api = match get("VERIFY_API").as_deref() {
            None | Some("v1") => VerifyApi::V1,
            Some("v2") => VerifyApi::V2,
            Some(_) => return Err(invalid("VERIFY_API", "use v1 or v2")),
        };
        let code_length = get("VERIFY_CODE_LENGTH");
        if verify_api == VerifyApi::V1
            && code_length
                .as_deref()
                .is_some_and(|c| !matches!(c, "4" | "6"))
        {
            return Err(invalid(
                "VERIFY_CODE_LENGTH",
                "Verify sends codes of 4 or 6 digits",
            ));
        }
        let v2 = match verify_api {
            VerifyApi::V1 => {
                if let Some(name) = V2_ONLY.iter().find(|n| get(n).is_some()) {
                    return Err(invalid(name, "only with VERIFY_API=v2"));
                }
                Workflow::default()
            }
            VerifyApi::V2 => {
                if workflow_id.is_some() {
                    return Err(invalid(
                        "VERIFY_WORKFLOW_ID",
                        "v1 only: with v2 set VERIFY_CHANNELS",
                    ));
                }
                if let Some(o) = allowed_options
                    .iter()
                    .find(|o| V1_ONLY_OPTIONS.contains(&o.as_str()))
                {
                    return Err(invalid(
                        "ALLOWED_OPTIONS",
                        &format!("{o} is v1 only: v2 takes code_length and lg"),
                    ));
                }
                if brand.chars().count() > workflow::MAX_BRAND {
                    return Err(invalid(
                        "VERIFY_BRAND",
                        "v2 brands are at most 16 characters",
                    ));
                }
                v2_workflow(&get, code_length.as_deref())?
            }
        };
        let max_body_bytes = match get("MAX_BODY_BYTES") {
            None => d.max_body_bytes,
            Some(v) => v
                .parse()
                .map_err(|_| invalid("MAX_BODY_BYTES", "not a number"))?,
        };
        let caller_auth = match get("CALLER_AUTH") {
            None => d.caller_auth,
            Some(v) => AuthMode::parse(v.trim())
                .ok_or_else(|| invalid("CALLER_AUTH", "use api-key, iam, app-check or none"))?,
        };
        let app_check = match caller_auth {
            AuthMode::AppCheck => Some(app_check(&get)?),
            _ => None,
        };
        let token = TokenConfig {
            issuer: get("TOKEN_ISSUER").unwrap_or(d.token.issuer),
            audience: get("TOKEN_AUDIENCE").unwrap_or(d.token.audience),
            ttl: match get("TOKEN_TTL_S") {
                None => d.token.ttl,
                Some(v) => match v.parse::<u64>() {
                    Ok(s @ 30..=900) => Duration::from_secs(s),
                    _ => return Err(invalid("TOKEN_TTL_S", "must be 30..900 seconds")),
                },
            },
        };
        let metrics = match get("METRICS").as_deref() {
            None => get("AWS_LAMBDA_FUNCTION_NAME").is_some(),
            Some("emf") => true,
            Some("off") => false,
            Some(_) => return Err(invalid("METRICS", "use emf or off")),
        };
        Ok(Self {
            verify_api,
            v2,
            base_url: get("VERIFY_BASE_URL")
                .unwrap_or(d.base_url)
                .trim_end_matches('/')
                .to_string(),
            brand,
            sender_id,
            timeout,
            allowed_options,
            allow_brand_override: get("ALLOW_BRAND_OVERRIDE").is_some_and(|v| truthy(&v)),
            ignore_unexpected: match get("UNEXPECTED_OPTIONS").as_deref() {
                None | Some("refuse") => false,
                Some("ignore") => true,
                Some(_) => return Err(invalid("UNEXPECTED_OPTIONS", "use refuse or ignore")),
            },
            workflow_id,
            // v2 takes its length in the workflow.
            code_length: code_length.filter(|_| verify_api == VerifyApi::V1),
            max_body_bytes,
            // Browsers send an origin without a trailing slash.
            cors_origin: get("CORS_ALLOW_ORIGIN")
                .map(|o| o.trim().trim_end_matches('/').to_string()),
            json_only: get("JSON_ONLY").is_some_and(|v| truthy(&v)),
            caller_auth,
            app_check,
            token,
            metrics,
            metrics_namespace: get("METRICS_NAMESPACE").unwrap_or(d.metrics_namespace),
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

    /// The longest code callers may send to `/check`.
    pub fn max_code_length(&self) -> usize {
        match self.verify_api {
            VerifyApi::V1 => crate::verify::values::V1_MAX_CODE,
            VerifyApi::V2 => crate::verify::values::V2_MAX_CODE,
        }
    }
}

/// Settings that mean something only with v2: refused with v1 rather than silently unused.
const V2_ONLY: &[&str] = &[
    "VERIFY_CHANNELS",
    "ALLOWED_CHANNELS",
    "VERIFY_CHANNEL_TIMEOUT",
    "VERIFY_LOCALE",
    "VERIFY_WHATSAPP_FROM",
];

/// v2's workflow from `VERIFY_CHANNELS` and friends, checked against v2's limits.
fn v2_workflow(
    get: &impl Fn(&str) -> Option<String>,
    code_length: Option<&str>,
) -> Result<Workflow, ConfigError> {
    let d = Workflow::default();
    let channels = match get("VERIFY_CHANNELS") {
        None => d.channels,
        Some(v) => Workflow::parse_channels(&v).map_err(|r| invalid("VERIFY_CHANNELS", &r))?,
    };
    if channels.is_empty() || channels.len() > workflow::MAX_STEPS {
        return Err(invalid("VERIFY_CHANNELS", "1 to 3 channels"));
    }
    let allowed = match get("ALLOWED_CHANNELS") {
        None => Vec::new(),
        Some(v) => Workflow::parse_channels(&v).map_err(|r| invalid("ALLOWED_CHANNELS", &r))?,
    };
    let channel_timeout = match get("VERIFY_CHANNEL_TIMEOUT") {
        None => d.channel_timeout,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|t| workflow::TIMEOUT_RANGE.contains(t))
            .ok_or_else(|| invalid("VERIFY_CHANNEL_TIMEOUT", "15 to 900 seconds"))?,
    };
    let code_length = match code_length {
        None => d.code_length,
        Some(v) => v
            .parse::<usize>()
            .ok()
            .filter(|n| workflow::CODE_LENGTHS.contains(n))
            .ok_or_else(|| invalid("VERIFY_CODE_LENGTH", "v2 sends codes of 4 to 10 digits"))?,
    };
    let locale = get("VERIFY_LOCALE");
    if locale
        .as_deref()
        .is_some_and(|l| !crate::verify::v2::workflow::locale_ok(l))
    {
        return Err(invalid("VERIFY_LOCALE", "a language such as en-gb"));
    }
    let whatsapp_from = get("VERIFY_WHATSAPP_FROM");
    let uses_whatsapp = channels
        .iter()
        .chain(&allowed)
        .any(|c| *c == crate::verify::v2::Channel::Whatsapp);
    match &whatsapp_from {
        None if uses_whatsapp => {
            return Err(invalid(
                "VERIFY_WHATSAPP_FROM",
                "the whatsapp channel needs your WhatsApp Business number",
            ));
        }
        Some(f) if !(7..=15).contains(&f.len()) || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(invalid(
                "VERIFY_WHATSAPP_FROM",
                "an E.164 number, digits only",
            ));
        }
        _ => {}
    }
    Ok(Workflow {
        channels,
        allowed,
        channel_timeout,
        code_length,
        locale,
        whatsapp_from,
    })
}

/// `APP_CHECK_PROJECT_NUMBER` gives Firebase's issuer and audience; `APP_CHECK_JWKS_URL`,
/// `APP_CHECK_ISSUER` and `APP_CHECK_AUDIENCE` (comma-separated) set them for any provider.
fn app_check(get: &impl Fn(&str) -> Option<String>) -> Result<AppCheckConfig, ConfigError> {
    let project = get("APP_CHECK_PROJECT_NUMBER");
    let issuer = get("APP_CHECK_ISSUER")
        .or_else(|| {
            project
                .as_ref()
                .map(|p| format!("https://firebaseappcheck.googleapis.com/{p}"))
        })
        .ok_or_else(|| {
            invalid(
                "APP_CHECK_ISSUER",
                "app-check needs APP_CHECK_PROJECT_NUMBER or APP_CHECK_ISSUER",
            )
        })?;
    let audiences: Vec<String> = get("APP_CHECK_AUDIENCE")
        .map(|v| {
            v.split(',')
                .map(|a| a.trim().to_string())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .or_else(|| project.as_ref().map(|p| vec![format!("projects/{p}")]))
        .unwrap_or_default();
    if audiences.is_empty() {
        return Err(invalid(
            "APP_CHECK_AUDIENCE",
            "app-check needs APP_CHECK_PROJECT_NUMBER or APP_CHECK_AUDIENCE",
        ));
    }
    let jwks_url = get("APP_CHECK_JWKS_URL").unwrap_or_else(|| FIREBASE_APP_CHECK_JWKS.into());
    if !(jwks_url.starts_with("https://") || jwks_url.starts_with("http://127.0.0.1:")) {
        return Err(invalid(
            "APP_CHECK_JWKS_URL",
            "must be https (http only on 127.0.0.1, for tests)",
        ));
    }
    let jwks_ttl = match get("APP_CHECK_JWKS_TTL_S") {
        None => Duration::from_secs(6 * 3600),
        Some(v) => match v.parse::<u64>() {
            Ok(s @ 60..=86_400) => Duration::from_secs(s),
            _ => return Err(invalid("APP_CHECK_JWKS_TTL_S", "must be 60..86400 seconds")),
        },
    };
    Ok(AppCheckConfig {
        jwks_url,
        issuer,
        audiences,
        header: get("APP_CHECK_HEADER")
            .unwrap_or_else(|| "x-firebase-appcheck".into())
            .to_ascii_lowercase(),
        jwks_ttl,
    })
}

/// Characters that change how text shows without being seen: controls, bidi overrides and
/// isolates, zero-width characters (a brand could otherwise hide or reorder words in the SMS).
pub fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Why a brand cannot go into the SMS text, if it cannot (Verify's 18 characters, nothing
/// invisible).
pub fn brand_problem(brand: &str) -> Option<&'static str> {
    if brand.trim().is_empty() {
        Some("empty")
    } else if brand.chars().count() > 18 {
        Some("Verify allows at most 18 characters")
    } else if brand.chars().any(invisible) {
        Some("control, bidi or zero-width characters")
    } else {
        None
    }
}

/// Verify's sender id rule: up to 11 letters, digits and spaces, or up to 15 digits.
fn sender_id_problem(id: &str) -> Option<&'static str> {
    let digits = id.bytes().all(|b| b.is_ascii_digit());
    let alnum = id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ');
    match (digits, alnum) {
        (true, _) if id.len() <= 15 => None,
        (false, true) if id.len() <= 11 => None,
        _ => Some("up to 11 letters, digits and spaces, or up to 15 digits"),
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
        assert!(from(&[("CALLER_AUTH", "open-sesame")]).is_err());
        assert!(
            from(&[("VERIFY_BRAND", "My\u{202E}ppA")]).is_err(),
            "bidi override"
        );
        assert!(
            from(&[("VERIFY_BRAND", "Shop\u{200B}")]).is_err(),
            "zero width"
        );
        assert!(from(&[("VERIFY_BRAND", " ")]).is_err());
        assert!(from(&[("VERIFY_SENDER_ID", "TwelveLetter")]).is_err());
        assert!(from(&[("VERIFY_SENDER_ID", "1234567890123456")]).is_err());
        assert!(from(&[("VERIFY_SENDER_ID", "Acme-Co")]).is_err());
        assert!(from(&[("VERIFY_SENDER_ID", "Acme Co")]).is_ok());
        assert!(from(&[("VERIFY_SENDER_ID", "447700900000")]).is_ok());
        assert!(from(&[("VERIFY_WORKFLOW_ID", "8")]).is_err());
        assert!(from(&[("VERIFY_WORKFLOW_ID", "6")]).is_ok());
        assert!(from(&[("VERIFY_CODE_LENGTH", "5")]).is_err());
        assert!(from(&[("VERIFY_CODE_LENGTH", "6")]).is_ok());
        assert!(
            from(&[("VERIFY_BRAND", "Booking.com")]).is_ok(),
            "the operator's own brand"
        );
        assert!(from(&[("CALLER_AUTH", "app-check")]).is_err(), "no project");
        assert!(from(&[("TOKEN_TTL_S", "86400")]).is_err());
        assert!(
            from(&[
                ("CALLER_AUTH", "app-check"),
                ("APP_CHECK_PROJECT_NUMBER", "123"),
                ("APP_CHECK_JWKS_URL", "http://evil.example/jwks"),
            ])
            .is_err(),
            "keys over plain http"
        );
        assert!(
            from(&[("GUARD_ON_STORE_ERROR", "open")])
                .unwrap()
                .guard_fail_open
        );
    }

    #[test]
    fn app_check_defaults_are_firebase() {
        let c = from(&[
            ("CALLER_AUTH", "app-check"),
            ("APP_CHECK_PROJECT_NUMBER", "123456"),
        ])
        .unwrap();
        let a = c.app_check.unwrap();
        assert_eq!(a.jwks_url, FIREBASE_APP_CHECK_JWKS);
        assert_eq!(a.issuer, "https://firebaseappcheck.googleapis.com/123456");
        assert_eq!(a.audiences, vec!["projects/123456"]);
        assert_eq!(a.header, "x-firebase-appcheck");
        assert_eq!(c.caller_auth, AuthMode::AppCheck);
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
