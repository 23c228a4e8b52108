//! Verify v1's rules as data and small functions: locales, prices, limits, workflows, the
//! standard error texts, parameter parsing and message texts.

use serde_json::{Value, json};

use super::verification::{Channel, Purpose, Verification};
use crate::params::Params;

/// Locales accepted by `lg` on a standard request.
pub const LOCALES: &[&str] = &[
    "ar-xa", "cs-cz", "cy-cy", "cy-gb", "da-dk", "de-de", "el-gr", "en-au", "en-gb", "en-in",
    "en-us", "es-es", "es-mx", "es-us", "fi-fi", "fil-ph", "fr-ca", "fr-fr", "hi-in", "hu-hu",
    "id-id", "is-is", "it-it", "ja-jp", "ko-kr", "nb-no", "nl-nl", "pl-pl", "pt-br", "pt-pt",
    "ro-ro", "ru-ru", "sv-se", "th-th", "tr-tr", "vi-vn", "yue-cn", "zh-cn", "zh-tw",
];

/// Locales accepted by `lg` on a PSD2 request.
pub const PSD2_LOCALES: &[&str] = &[
    "en-gb", "bg-bg", "cs-cz", "da-dk", "de-de", "ee-et", "el-gr", "es-es", "fi-fi", "fr-fr",
    "ga-ie", "hu-hu", "it-it", "lv-lv", "lt-lt", "mt-mt", "nl-nl", "pl-pl", "sk-sk", "sl-si",
    "sv-se",
];

pub const PRICE_SUCCESS: &str = "0.10000000";
/// What one delivered message costs on the per-message pricing model, in EUR.
pub(super) const PRICE_PER_MESSAGE: f64 = 0.0333;
pub(super) const MAX_WRONG_CODES: u32 = 3;
pub(super) const CANCEL_AFTER_MS: i64 = 30_000;

/// The event sequence and default waits (seconds after each event) of a workflow.
pub fn workflow(id: u8) -> Option<(&'static [Channel], &'static [i64])> {
    use Channel::{Sms, Tts};
    Some(match id {
        1 => (&[Sms, Tts, Tts], &[125, 180, 300]),
        2 => (&[Sms, Sms, Tts], &[125, 180, 300]),
        3 => (&[Tts, Tts], &[150, 150]),
        4 => (&[Sms, Sms], &[120, 180]),
        5 => (&[Sms, Tts], &[125, 300]),
        6 => (&[Sms], &[300]),
        7 => (&[Tts], &[300]),
        _ => return None,
    })
}

/// A Verify JSON response: always HTTP 200 with a string `status`.
pub type Reply = Value;

pub fn error(status: &str, text: impl Into<String>) -> Reply {
    json!({ "status": status, "error_text": text.into() })
}

/// The standard `error_text` of a status, for fault injection and generic errors.
pub fn standard_text(status: &str) -> &'static str {
    match status {
        "1" => "Throttled",
        "2" => "Your request is incomplete and missing some mandatory parameters",
        "3" => "Invalid value for param",
        "4" => "Invalid credentials were provided",
        "5" => "Internal Error",
        "6" => {
            "The Vonage platform was unable to process this message for the following reason: Unroutable"
        }
        "7" => "The number you are trying to verify is blacklisted for verification.",
        "8" => {
            "The api_key you supplied is for an account that has been barred from submitting messages."
        }
        "9" => "Partner quota exceeded",
        "10" => "Concurrent verifications to the same number are not allowed",
        "15" => "The destination number is not in a supported network",
        "16" => "The code inserted does not match the expected value",
        "17" => "The wrong code was provided too many times. Request terminated",
        "18" => "Too many request_ids provided",
        "19" => "No more events are left to execute for the request",
        "20" => "This account does not support the parameter: pin_code.",
        "29" => "Non-Permitted Destination",
        "101" => "No response found",
        _ => "Internal Error",
    }
}

pub(super) fn missing(param: &str) -> Reply {
    error(
        "2",
        format!("Your request is incomplete and missing the mandatory parameter: {param}"),
    )
}

pub(super) fn too_long(param: &str) -> Reply {
    error(
        "3",
        format!("Invalid value for param: {param}. Parameter is too long."),
    )
}

/// A mandatory text parameter of at most `max` characters (counted as characters, not bytes).
pub(super) fn required_text(p: &Params, name: &str, max: usize) -> Result<String, Reply> {
    match p.get(name) {
        None => Err(missing(name)),
        Some(v) if v.chars().count() > max => Err(too_long(name)),
        Some(v) => Ok(v.to_string()),
    }
}

pub(super) fn invalid(param: &str) -> Reply {
    error("3", format!("Invalid value for param: {param}"))
}

/// Parses an unsigned integer the way Verify does: digits only, leading zeros allowed.
pub(super) fn parse_uint(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok().or(Some(u64::MAX))
}

pub(super) fn price(eur: f64) -> String {
    format!("{eur:.8}")
}

pub(super) fn message_text(v: &Verification, channel: Channel) -> String {
    let minutes = v.pin_expiry / 60;
    let validity = if v.pin_expiry % 60 == 0 {
        format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
    } else {
        format!("{} seconds", v.pin_expiry)
    };
    match (&v.purpose, channel) {
        (Purpose::Brand(brand), Channel::Sms | Channel::Whatsapp | Channel::Email) => {
            format!("{brand} code: {}. Valid for {validity}.", v.pin)
        }
        (Purpose::Brand(brand), Channel::Tts) => {
            let spoken: Vec<String> = v.pin.chars().map(String::from).collect();
            format!(
                "Your {brand} code is {}. Valid for {validity}.",
                spoken.join(" ")
            )
        }
        (Purpose::Payment { payee, amount }, _) => format!(
            "Your code to pay EUR {amount} to {payee}: {}. Valid for {validity}.",
            v.pin
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_uint_follows_verify() {
        assert_eq!(parse_uint("0004"), Some(4));
        assert_eq!(parse_uint("+4"), None);
        assert_eq!(parse_uint("4.0"), None);
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_uint("99999999999999999999999"), Some(u64::MAX));
    }

    #[test]
    fn workflows_match_the_guide() {
        assert_eq!(workflow(1).map(|w| w.1.iter().sum::<i64>()), Some(605));
        assert_eq!(workflow(3).map(|w| w.1.iter().sum::<i64>()), Some(300));
        assert_eq!(workflow(5).map(|w| w.1.iter().sum::<i64>()), Some(425));
        assert!(workflow(0).is_none() && workflow(8).is_none());
    }
}
