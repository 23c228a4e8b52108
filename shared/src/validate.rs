//! Validation of the caller's input, done before any upstream call so that nothing
//! unvalidated reaches Verify (and bad input costs neither money nor an SSM call).

use crate::config::Config;
use crate::error::ProxyError;
use crate::fields::Fields;

pub const REQUEST_ID: &[&str] = &["request_id", "requestId"];
pub const REQUEST_IDS: &[&str] = &["request_ids", "requestIds"];
pub const MAX_SEARCH_IDS: usize = 10;

/// An E.164 number as digits without `+` (what Verify wants). Spaces, dashes, dots and
/// parentheses are tolerated; a leading `+` or `00` is the international prefix.
pub fn number(raw: &str) -> Result<String, ProxyError> {
    let compact: String = raw
        .chars()
        .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')'))
        .collect();
    let digits = compact
        .strip_prefix('+')
        .or_else(|| compact.strip_prefix("00"))
        .unwrap_or(&compact);
    let ok = (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0');
    if ok {
        Ok(digits.to_string())
    } else {
        Err(ProxyError::invalid(
            "number",
            "expected an E.164 number such as +447700900000",
        ))
    }
}

/// Applies the deployment's calling-code allowlist and denylist to a validated number.
pub fn destination(number: &str, config: &Config) -> Result<(), ProxyError> {
    let starts = |codes: &[String]| codes.iter().any(|c| number.starts_with(c.as_str()));
    if (!config.allowed_calling_codes.is_empty() && !starts(&config.allowed_calling_codes))
        || starts(&config.denied_calling_codes)
    {
        return Err(ProxyError::DestinationNotAllowed);
    }
    Ok(())
}

/// A PIN: 4 to 10 digits.
pub fn code(raw: &str) -> Result<String, ProxyError> {
    if (4..=10).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
        Ok(raw.to_string())
    } else {
        Err(ProxyError::invalid("code", "expected 4 to 10 digits"))
    }
}

/// A Verify request id: 32 hexadecimal characters.
pub fn request_id(raw: &str) -> Result<String, ProxyError> {
    if raw.len() == 32 && raw.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(raw.to_string())
    } else {
        Err(ProxyError::invalid(
            "request_id",
            "expected 32 hexadecimal characters",
        ))
    }
}

/// The request id of a check/cancel/control call, under `request_id` or `requestId`.
pub fn required_request_id(fields: &Fields) -> Result<String, ProxyError> {
    request_id(
        fields
            .get(REQUEST_ID)
            .ok_or(ProxyError::Missing("request_id"))?,
    )
}

/// Search ids: `request_id`, or 1 to 10 `request_ids` (a JSON array, repeated form fields or
/// a comma-separated string).
pub fn search_ids(fields: &Fields) -> Result<Vec<String>, ProxyError> {
    if let Some(one) = fields.get(REQUEST_ID) {
        return Ok(vec![request_id(one)?]);
    }
    let ids: Vec<&str> = fields
        .all(REQUEST_IDS)
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .collect();
    if ids.is_empty() {
        return Err(ProxyError::Missing("request_id"));
    }
    if ids.len() > MAX_SEARCH_IDS {
        return Err(ProxyError::TooManyIds);
    }
    ids.into_iter().map(request_id).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Cancel,
    TriggerNextEvent,
}

impl Command {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::TriggerNextEvent => "trigger_next_event",
        }
    }
}

pub fn command(raw: Option<&str>) -> Result<Command, ProxyError> {
    match raw {
        None => Err(ProxyError::Missing("cmd")),
        Some("cancel") => Ok(Command::Cancel),
        Some("trigger_next_event") => Ok(Command::TriggerNextEvent),
        Some(_) => Err(ProxyError::invalid(
            "cmd",
            "expected cancel or trigger_next_event",
        )),
    }
}

/// The brand for the SMS text: the configured one, or the caller's when the deployment
/// allows overriding it.
pub fn brand(fields: &Fields, config: &Config) -> Result<String, ProxyError> {
    match fields.get(&["brand"]) {
        None => Ok(config.brand.clone()),
        Some(_) if !config.allow_brand_override => Err(ProxyError::NotAllowed("brand".into())),
        Some(b) if b.chars().count() > 18 => {
            Err(ProxyError::invalid("brand", "at most 18 characters"))
        }
        Some(b) if b.chars().any(char::is_control) => {
            Err(ProxyError::invalid("brand", "control characters"))
        }
        Some(b) => Ok(b.to_string()),
    }
}

/// Optional Verify request options the caller sent, each checked against the deployment's
/// allowlist and Verify's own limits; configured defaults fill the rest.
pub fn options(
    fields: &Fields,
    config: &Config,
) -> Result<Vec<(&'static str, String)>, ProxyError> {
    let mut out = Vec::new();
    for &name in crate::config::OPTIONS {
        let Some(value) = fields.get(&[name]) else {
            continue;
        };
        if !config.option_allowed(name) {
            return Err(ProxyError::NotAllowed(name.to_string()));
        }
        let ok = match name {
            "code_length" => matches!(value, "4" | "6"),
            "pin_expiry" => int_in(value, 60, 3600),
            "next_event_wait" => int_in(value, 60, 900),
            "workflow_id" => int_in(value, 1, 7),
            "lg" => locale(value),
            _ => false,
        };
        if !ok {
            let reason = match name {
                "code_length" => "4 or 6",
                "pin_expiry" => "60 to 3600 seconds",
                "next_event_wait" => "60 to 900 seconds",
                "workflow_id" => "1 to 7",
                _ => "a locale such as en-gb",
            };
            return Err(ProxyError::invalid(name, reason));
        }
        out.push((name, value.to_string()));
    }
    for (name, default) in [
        ("workflow_id", &config.workflow_id),
        ("code_length", &config.code_length),
    ] {
        if let Some(d) = default
            && !out.iter().any(|(n, _)| *n == name)
        {
            out.push((name, d.clone()));
        }
    }
    Ok(out)
}

fn int_in(v: &str, lo: u32, hi: u32) -> bool {
    v.len() <= 5
        && v.bytes().all(|b| b.is_ascii_digit())
        && v.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n))
}

fn locale(v: &str) -> bool {
    let Some((lang, region)) = v.split_once('-') else {
        return false;
    };
    (2..=3).contains(&lang.len())
        && region.len() == 2
        && lang
            .bytes()
            .chain(region.bytes())
            .all(|b| b.is_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(number("+44 7700 900000").unwrap(), "447700900000");
        assert_eq!(number("0044-7700-900000").unwrap(), "447700900000");
        assert_eq!(number("14155550100").unwrap(), "14155550100");
        for bad in [
            "",
            "+",
            "123",
            "07700900000",
            "+44770090000012345",
            "44770o900000",
            "+44 7700 900000; DROP",
        ] {
            assert!(number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn destinations() {
        let open = Config::default();
        assert!(destination("447700900000", &open).is_ok());
        let uk_fr = Config {
            allowed_calling_codes: vec!["44".into(), "33".into()],
            denied_calling_codes: vec!["3375".into()],
            ..Config::default()
        };
        assert!(destination("447700900000", &uk_fr).is_ok());
        assert!(destination("33612345678", &uk_fr).is_ok());
        assert!(matches!(
            destination("14155550100", &uk_fr),
            Err(ProxyError::DestinationNotAllowed)
        ));
        let deny = Config {
            denied_calling_codes: vec!["882".into(), "7".into()],
            ..Config::default()
        };
        assert!(destination("88212345678", &deny).is_err());
        assert!(destination("79161234567", &deny).is_err());
        assert!(destination("447700900000", &deny).is_ok());
    }

    #[test]
    fn codes_and_ids() {
        assert!(code("1234").is_ok() && code("1234567890").is_ok());
        for bad in ["123", "12345678901", "12a4", "", " 1234"] {
            assert!(code(bad).is_err(), "{bad}");
        }
        assert!(request_id("abcdef0123456789abcdef0123456789").is_ok());
        for bad in [
            "abc",
            "abcdef0123456789abcdef012345678g",
            "abcdef0123456789abcdef01234567890",
        ] {
            assert!(request_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn search_id_rules() {
        let id = "abcdef0123456789abcdef0123456789";
        let many: Vec<(&str, &str)> = (0..11).map(|_| ("request_ids", id)).collect();
        assert!(matches!(
            search_ids(&Fields::from_pairs(&many)),
            Err(ProxyError::TooManyIds)
        ));
        assert_eq!(
            search_ids(&Fields::from_pairs(&many[..10])).unwrap().len(),
            10
        );
        let csv = format!("{id},{id}");
        assert_eq!(
            search_ids(&Fields::from_pairs(&[("requestIds", &csv)]))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(
            search_ids(&Fields::from_pairs(&[
                ("requestId", id),
                ("request_ids", "x")
            ]))
            .unwrap(),
            vec![id]
        );
        assert!(matches!(
            search_ids(&Fields::default()),
            Err(ProxyError::Missing(_))
        ));
    }

    #[test]
    fn commands() {
        assert_eq!(command(Some("cancel")).unwrap(), Command::Cancel);
        assert_eq!(
            command(Some("trigger_next_event")).unwrap(),
            Command::TriggerNextEvent
        );
        assert!(command(Some("resend")).is_err() && command(None).is_err());
    }

    #[test]
    fn options_follow_the_allowlist() {
        let closed = Config::default();
        let f = Fields::from_pairs(&[("code_length", "6")]);
        assert!(matches!(
            options(&f, &closed),
            Err(ProxyError::NotAllowed(_))
        ));
        let open = Config {
            allowed_options: vec!["code_length".into(), "lg".into()],
            ..Config::default()
        };
        assert_eq!(
            options(&f, &open).unwrap(),
            vec![("code_length", "6".to_string())]
        );
        assert!(options(&Fields::from_pairs(&[("code_length", "5")]), &open).is_err());
        assert!(options(&Fields::from_pairs(&[("lg", "en_us")]), &open).is_err());
        assert!(options(&Fields::from_pairs(&[("lg", "yue-cn")]), &open).is_ok());
        let defaults = Config {
            workflow_id: Some("6".into()),
            ..Config::default()
        };
        assert_eq!(
            options(&Fields::default(), &defaults).unwrap(),
            vec![("workflow_id", "6".to_string())]
        );
    }

    #[test]
    fn brand_override() {
        let c = Config::default();
        assert_eq!(brand(&Fields::default(), &c).unwrap(), "verify-proxy");
        assert!(brand(&Fields::from_pairs(&[("brand", "X")]), &c).is_err());
        let open = Config {
            allow_brand_override: true,
            ..Config::default()
        };
        assert_eq!(
            brand(&Fields::from_pairs(&[("brand", "X")]), &open).unwrap(),
            "X"
        );
        assert!(
            brand(
                &Fields::from_pairs(&[("brand", "ABCDEFGHIJKLMNOPQRS")]),
                &open
            )
            .is_err()
        );
    }
}
