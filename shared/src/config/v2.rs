//! Verify v2's workflow (`VERIFY_CHANNELS` and friends), checked against v2's limits; with v1
//! these settings are refused rather than silently unused.

use super::env::{ConfigError, Env};
use super::verify::VerifyApi;
use crate::verify::v2::{Channel, Workflow, workflow};
use crate::verify::values::{CodeLength, Locale};

/// Settings that mean something only with v2.
pub const V2_ONLY: &[&str] = &[
    "VERIFY_CHANNELS",
    "ALLOWED_CHANNELS",
    "VERIFY_CHANNEL_TIMEOUT",
    "VERIFY_LOCALE",
    "VERIFY_WHATSAPP_FROM",
];

pub fn from_env(env: &Env, api: VerifyApi) -> Result<Workflow, ConfigError> {
    if api == VerifyApi::V1 {
        if let Some(name) = V2_ONLY.iter().find(|n| env.is_set(n)) {
            return Err(ConfigError::new(name, "only with VERIFY_API=v2"));
        }
        return Ok(Workflow::default());
    }
    let d = Workflow::default();
    let channels = match env.plain("VERIFY_CHANNELS") {
        None => d.channels,
        Some(v) => {
            Workflow::parse_channels(&v).map_err(|r| ConfigError::new("VERIFY_CHANNELS", r))?
        }
    };
    if channels.is_empty() || channels.len() > workflow::MAX_STEPS {
        return Err(ConfigError::new("VERIFY_CHANNELS", "1 to 3 channels"));
    }
    let allowed = match env.plain("ALLOWED_CHANNELS") {
        None => Vec::new(),
        Some(v) => {
            Workflow::parse_channels(&v).map_err(|r| ConfigError::new("ALLOWED_CHANNELS", r))?
        }
    };
    let channel_timeout = match env.plain("VERIFY_CHANNEL_TIMEOUT") {
        None => d.channel_timeout,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|t| workflow::TIMEOUT_RANGE.contains(t))
            .ok_or_else(|| ConfigError::new("VERIFY_CHANNEL_TIMEOUT", "15 to 900 seconds"))?,
    };
    let code_length = match env.plain("VERIFY_CODE_LENGTH") {
        None => d.code_length,
        Some(v) => CodeLength::parse_v2(&v)
            .map_err(|_| {
                ConfigError::new("VERIFY_CODE_LENGTH", "v2 sends codes of 4 to 10 digits")
            })?
            .get(),
    };
    let locale = env
        .plain("VERIFY_LOCALE")
        .map(|l| Locale::parse_v2(&l).map_err(|r| ConfigError::new("VERIFY_LOCALE", r)))
        .transpose()?
        .map(|l| l.as_str().to_string());
    let whatsapp_from = env.plain("VERIFY_WHATSAPP_FROM");
    let uses_whatsapp = channels
        .iter()
        .chain(&allowed)
        .any(|c| *c == Channel::Whatsapp);
    match &whatsapp_from {
        None if uses_whatsapp => {
            return Err(ConfigError::new(
                "VERIFY_WHATSAPP_FROM",
                "the whatsapp channel needs your WhatsApp Business number",
            ));
        }
        Some(f) if !(7..=15).contains(&f.len()) || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return Err(ConfigError::new(
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

#[cfg(test)]
mod tests {
    use super::*;

    fn v2(pairs: &[(&str, &str)]) -> Result<Workflow, ConfigError> {
        from_env(&Env::from_pairs(pairs), VerifyApi::V2)
    }

    #[test]
    fn v2_settings_are_refused_with_v1() {
        for name in V2_ONLY {
            let e = from_env(&Env::from_pairs(&[(name, "x")]), VerifyApi::V1).unwrap_err();
            assert_eq!(e.name, *name);
        }
    }

    #[test]
    fn workflow_limits() {
        let w = v2(&[
            ("VERIFY_CHANNELS", "whatsapp, sms"),
            ("VERIFY_WHATSAPP_FROM", "447700900000"),
        ])
        .unwrap();
        assert_eq!(w.channels, [Channel::Whatsapp, Channel::Sms]);
        for (name, value) in [
            ("VERIFY_CHANNELS", "sms,voice,whatsapp,sms"),
            ("VERIFY_CHANNELS", "email"),
            ("VERIFY_CHANNEL_TIMEOUT", "10"),
            ("VERIFY_CODE_LENGTH", "11"),
            ("VERIFY_LOCALE", "english"),
            ("VERIFY_LOCALE", "ja-jp"),
            ("VERIFY_CHANNELS", "whatsapp"),
        ] {
            let e = v2(&[(name, value)]).unwrap_err();
            assert!(
                e.name == name || e.name == "VERIFY_WHATSAPP_FROM",
                "{name}={value}: {e}"
            );
        }
        assert_eq!(v2(&[("VERIFY_CODE_LENGTH", "8")]).unwrap().code_length, 8);
    }
}
