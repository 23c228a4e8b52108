//! Where codes may go: calling codes allowed and denied, and which line types each channel
//! reaches (libphonenumber's types, `verify/number.rs`).

use super::env::{ConfigError, Env};
use crate::verify::LineType;

#[derive(Debug, Clone)]
pub struct DestinationConfig {
    /// Calling codes a number must start with (empty: any). E.164 calling codes are a prefix
    /// code, so a prefix match is exact without a numbering-plan table.
    pub allowed_calling_codes: Vec<String>,
    /// Calling codes (or longer prefixes, up to 6 digits) always refused: SMS-pumping hot
    /// spots, and ranges the metadata cannot see.
    pub denied_calling_codes: Vec<String>,
    /// Line types an SMS (or WhatsApp) code goes to (`SMS_LINE_TYPES`).
    pub sms_line_types: Vec<LineType>,
    /// Line types a voice call goes to (`VOICE_LINE_TYPES`): a landline can take a call.
    pub voice_line_types: Vec<LineType>,
    /// `FICTIONAL_NUMBERS=allow|refuse`: Ofcom's drama range (+44 7700 900xxx). Unset, they
    /// are accepted only while Verify is a simulator on loopback ([`Self::fictional_allowed`]),
    /// since no phone answers them.
    pub fictional_numbers: Option<bool>,
}

/// Where SMS pumping cannot earn: premium rate, shared cost, UAN, VoIP, pagers, personal and
/// toll-free numbers are refused (Twilio refuses SMS to landlines the same way).
const SMS_DEFAULT: [LineType; 2] = [LineType::Mobile, LineType::FixedLineOrMobile];
const VOICE_DEFAULT: [LineType; 3] = [
    LineType::Mobile,
    LineType::FixedLineOrMobile,
    LineType::FixedLine,
];

impl Default for DestinationConfig {
    fn default() -> Self {
        Self {
            allowed_calling_codes: Vec::new(),
            denied_calling_codes: Vec::new(),
            sms_line_types: SMS_DEFAULT.to_vec(),
            voice_line_types: VOICE_DEFAULT.to_vec(),
            fictional_numbers: None,
        }
    }
}

impl DestinationConfig {
    pub fn from_env(env: &Env) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            allowed_calling_codes: calling_codes(env, "ALLOWED_CALLING_CODES")?,
            denied_calling_codes: calling_codes(env, "DENIED_CALLING_CODES")?,
            sms_line_types: line_types(env, "SMS_LINE_TYPES")?.unwrap_or(d.sms_line_types),
            voice_line_types: line_types(env, "VOICE_LINE_TYPES")?.unwrap_or(d.voice_line_types),
            fictional_numbers: env
                .choice("FICTIONAL_NUMBERS", &[("allow", true), ("refuse", false)])?,
        })
    }

    /// Whether fictional numbers go to `upstream` (Verify's base URL, as the instance uses it:
    /// the local server and tests set it after reading the settings).
    pub fn fictional_allowed(&self, upstream: &str) -> bool {
        self.fictional_numbers
            .unwrap_or_else(|| is_loopback(upstream))
    }
}

fn line_types(env: &Env, name: &'static str) -> Result<Option<Vec<LineType>>, ConfigError> {
    if !env.is_set(name) {
        return Ok(None);
    }
    let mut out = Vec::new();
    for raw in env.list(name) {
        let t = LineType::parse(&raw).ok_or_else(|| {
            let names: Vec<&str> = LineType::ALL.iter().map(|t| t.as_str()).collect();
            ConfigError::new(
                name,
                format!("unknown line type {raw:?} (one of {})", names.join(", ")),
            )
        })?;
        out.push(t);
    }
    Ok(Some(out))
}

fn calling_codes(env: &Env, name: &'static str) -> Result<Vec<String>, ConfigError> {
    let codes: Vec<String> = env
        .list(name)
        .into_iter()
        .map(|c| c.trim_start_matches('+').to_string())
        .filter(|c| !c.is_empty())
        .collect();
    match codes
        .iter()
        .find(|c| c.len() > 6 || !c.bytes().all(|b| b.is_ascii_digit()))
    {
        Some(bad) => Err(ConfigError::new(
            name,
            format!("{bad:?} is not a calling code or prefix (1 to 6 digits)"),
        )),
        None => Ok(codes),
    }
}

/// `http://127.0.0.1:8081`, `http://[::1]:80/`, `http://localhost:9000`.
fn is_loopback(url: &str) -> bool {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?']).next().unwrap_or("");
    let host = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(h, _)| h),
    };
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VONAGE: &str = "https://api.nexmo.com";

    fn from(pairs: &[(&str, &str)]) -> Result<DestinationConfig, ConfigError> {
        DestinationConfig::from_env(&Env::from_pairs(pairs))
    }

    #[test]
    fn defaults_send_sms_to_mobiles_and_calls_to_landlines_too() {
        let c = from(&[]).unwrap();
        assert_eq!(c.sms_line_types, SMS_DEFAULT);
        assert_eq!(c.voice_line_types, VOICE_DEFAULT);
        assert!(!c.fictional_allowed(VONAGE) && c.allowed_calling_codes.is_empty());
    }

    #[test]
    fn reads_codes_and_line_types() {
        let c = from(&[
            ("ALLOWED_CALLING_CODES", "+44, 33"),
            ("DENIED_CALLING_CODES", "882"),
            ("SMS_LINE_TYPES", "mobile, voip"),
            ("VOICE_LINE_TYPES", "mobile"),
            ("FICTIONAL_NUMBERS", "allow"),
        ])
        .unwrap();
        assert_eq!(c.allowed_calling_codes, vec!["44", "33"]);
        assert_eq!(c.denied_calling_codes, vec!["882"]);
        assert_eq!(c.sms_line_types, vec![LineType::Mobile, LineType::Voip]);
        assert_eq!(c.voice_line_types, vec![LineType::Mobile]);
        assert!(c.fictional_allowed(VONAGE));
    }

    #[test]
    fn bad_values_name_their_variable() {
        for (name, value) in [
            ("ALLOWED_CALLING_CODES", "44,UK"),
            ("DENIED_CALLING_CODES", "1234567"),
            ("SMS_LINE_TYPES", "mobile,landline"),
            ("VOICE_LINE_TYPES", "everything"),
            ("FICTIONAL_NUMBERS", "sometimes"),
        ] {
            assert_eq!(
                from(&[(name, value)]).unwrap_err().name,
                name,
                "{name}={value}"
            );
        }
    }

    #[test]
    fn fictional_numbers_follow_the_upstream_unless_set() {
        let unset = from(&[]).unwrap();
        for url in [
            "http://127.0.0.1:8081",
            "http://[::1]:80/",
            "http://localhost:9000/v2",
        ] {
            assert!(unset.fictional_allowed(url), "{url}");
        }
        for url in [
            VONAGE,
            "https://127.0.0.1.example.com",
            "http://10.0.0.1:80",
        ] {
            assert!(!unset.fictional_allowed(url), "{url}");
        }
        let refused = from(&[("FICTIONAL_NUMBERS", "refuse")]).unwrap();
        assert!(!refused.fictional_allowed("http://127.0.0.1:1"));
    }
}
