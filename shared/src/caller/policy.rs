//! This deployment's policy on what callers may ask for: destinations (calling-code allow and
//! deny lists), the brand, and Verify's request options. Values are already parsed
//! (`verify::values`); this decides whether they are allowed here.

use crate::caller::fields::Fields;
use crate::config::{Config, OPTIONS, VerifyApi};
use crate::error::ProxyError;
use crate::verify::types::Shape;
use crate::verify::v2::Channel;
use crate::verify::values::{Brand, CodeLength, Locale, WorkflowId};
use crate::verify::{LineType, Number};

/// The deployment's calling-code allowlist and denylist, then the line types the first delivery
/// may reach (SMS to mobiles; a call to landlines too). E.164 calling codes are a prefix code,
/// so a prefix match on the digits is exact; denylist prefixes may be longer (a premium range).
pub fn destination(number: &Number, first: Delivery, config: &Config) -> Result<(), ProxyError> {
    let digits = number.digits();
    let to = &config.destinations;
    let starts = |codes: &[String]| codes.iter().any(|c| digits.starts_with(c.as_str()));
    if (!to.allowed_calling_codes.is_empty() && !starts(&to.allowed_calling_codes))
        || starts(&to.denied_calling_codes)
    {
        return Err(ProxyError::DestinationNotAllowed);
    }
    let line = number.line_type();
    let reaches = match (line, first) {
        (LineType::Fictional, _) => to.fictional_allowed(&config.verify.base_url),
        (_, Delivery::Sms) => to.sms_line_types.contains(&line),
        (_, Delivery::Voice) => to.voice_line_types.contains(&line),
    };
    match reaches {
        true => Ok(()),
        false => Err(ProxyError::LineTypeNotAllowed {
            line: line.as_str(),
            channel: first.as_str(),
        }),
    }
}

/// What a start sends first: what decides the line types it may reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// SMS or WhatsApp: text to a mobile.
    Sms,
    Voice,
}

impl Delivery {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Voice => "voice",
        }
    }
}

/// The first delivery of this start: v1's workflow (the option, else the deployment's, else
/// Verify's 1), v2's first step.
pub fn first_delivery(
    options: &[(&'static str, String)],
    channel: Option<Channel>,
    config: &Config,
) -> Delivery {
    let voice = match config.verify.api {
        VerifyApi::V2 => config.v2.steps(channel).first() == Some(&Channel::Voice),
        VerifyApi::V1 => options
            .iter()
            .find(|(n, _)| *n == "workflow_id")
            .and_then(|(_, w)| WorkflowId::parse(w).ok())
            .unwrap_or_default()
            .voice_first(),
    };
    if voice {
        Delivery::Voice
    } else {
        Delivery::Sms
    }
}

/// The brand for the SMS text: the configured one, or the caller's when the deployment
/// allows overriding it.
pub fn brand(fields: &Fields, config: &Config) -> Result<String, ProxyError> {
    let configured = || Ok(config.verify.brand.as_str().to_string());
    match fields.get(&["brand"]) {
        None => configured(),
        Some(_) if !config.caller.allow_brand_override && config.caller.ignore_unexpected => {
            configured()
        }
        Some(_) if !config.caller.allow_brand_override => {
            Err(ProxyError::NotAllowed("brand".into()))
        }
        Some(b) => Ok(Brand::parse_from_caller(b)?.as_str().to_string()),
    }
}

/// Optional Verify request options the caller sent, each checked against the deployment's
/// allowlist and Verify's own limits; configured defaults fill the rest.
pub fn options(
    fields: &Fields,
    config: &Config,
) -> Result<Vec<(&'static str, String)>, ProxyError> {
    let mut out = Vec::new();
    let v2 = config.verify.api == VerifyApi::V2;
    for &name in OPTIONS {
        let Some(value) = fields.get(&[name]) else {
            continue;
        };
        if !config.caller.option_allowed(name) {
            if config.caller.ignore_unexpected {
                continue;
            }
            return Err(ProxyError::NotAllowed(name.to_string()));
        }
        let checked = match name {
            "code_length" if v2 => CodeLength::parse_v2(value).map(|c| c.get().to_string()),
            "code_length" => CodeLength::parse_v1(value).map(|c| c.get().to_string()),
            "pin_expiry" => seconds(value, 60, 3600, "60 to 3600 seconds"),
            "next_event_wait" => seconds(value, 60, 900, "60 to 900 seconds"),
            "workflow_id" => WorkflowId::parse(value).map(|w| w.get().to_string()),
            _ if v2 => Locale::parse_v2(value).map(|l| l.as_str().to_string()),
            _ => Locale::parse_v1(value).map(|l| l.as_str().to_string()),
        };
        out.push((
            name,
            checked.map_err(|reason| ProxyError::invalid(name, reason))?,
        ));
    }
    // v1's defaults; v2 takes its length from the workflow (`VERIFY_CODE_LENGTH` there).
    let (workflow, length) = match v2 {
        true => (None, None),
        false => (config.verify.workflow_id, config.verify.code_length),
    };
    let defaults = [
        ("workflow_id", workflow.map(|w| w.get().to_string())),
        ("code_length", length.map(|c| c.get().to_string())),
    ];
    for (name, default) in defaults {
        if let Some(d) = default
            && !out.iter().any(|(n, _)| *n == name)
        {
            out.push((name, d));
        }
    }
    Ok(out)
}

/// What a start's workflow does when its code is never entered: v1's workflow (the option,
/// else the deployment's, else Verify's 1) with `next_event_wait` replacing each wait; v2's
/// steps for this channel, each `VERIFY_CHANNEL_TIMEOUT` long.
pub fn shape(
    options: &[(&'static str, String)],
    channel: Option<Channel>,
    config: &Config,
) -> Shape {
    let option = |name: &str| {
        options
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    };
    if config.verify.api == VerifyApi::V2 {
        let steps = config.v2.steps(channel);
        let calls = steps.iter().filter(|c| **c == Channel::Voice).count();
        let steps = steps.len().max(1);
        return Shape {
            deliveries: steps as u8,
            calls: calls as u8,
            lifetime_ms: i64::from(config.v2.channel_timeout) * 1000 * steps as i64,
        };
    }
    let workflow = option("workflow_id")
        .and_then(|w| WorkflowId::parse(w).ok())
        .unwrap_or_default();
    let waits = workflow.waits();
    let lifetime_s: i64 = match option("next_event_wait").and_then(|w| w.parse::<i64>().ok()) {
        Some(wait) => wait * waits.len() as i64,
        None => waits.iter().sum(),
    };
    Shape {
        deliveries: waits.len() as u8,
        calls: workflow.calls(),
        lifetime_ms: lifetime_s * 1000,
    }
}

/// The channel a caller asks to come first (`"channel"`): v2 only, and only one the
/// deployment allows (`ALLOWED_CHANNELS`); otherwise refused, or dropped with
/// `UNEXPECTED_OPTIONS=ignore` like any option.
pub fn channel(fields: &Fields, config: &Config) -> Result<Option<Channel>, ProxyError> {
    let Some(value) = fields.get(&["channel"]) else {
        return Ok(None);
    };
    let allowed = match config.verify.api {
        VerifyApi::V2 => &config.v2.allowed,
        VerifyApi::V1 => &Vec::new(),
    };
    if allowed.is_empty() {
        return if config.caller.ignore_unexpected {
            Ok(None)
        } else {
            Err(ProxyError::NotAllowed("channel".into()))
        };
    }
    match Channel::parse(value).filter(|c| allowed.contains(c)) {
        Some(c) => Ok(Some(c)),
        None => Err(ProxyError::invalid(
            "channel",
            format!(
                "one of {}",
                allowed
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

/// Whole seconds in `lo..=hi`, as the caller wrote them.
fn seconds(v: &str, lo: u32, hi: u32, reason: &'static str) -> Result<String, &'static str> {
    let ok = v.len() <= 5
        && v.bytes().all(|b| b.is_ascii_digit())
        && v.parse::<u32>().is_ok_and(|n| (lo..=hi).contains(&n));
    if ok { Ok(v.to_string()) } else { Err(reason) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }

    #[test]
    fn destinations() {
        let sms = Delivery::Sms;
        let open = Config::from_pairs(&[("FICTIONAL_NUMBERS", "allow")]).unwrap();
        assert!(destination(&n("447700900000"), sms, &open).is_ok());
        let uk_fr = Config::from_pairs(&[
            ("ALLOWED_CALLING_CODES", "44,33"),
            ("DENIED_CALLING_CODES", "3375"),
        ])
        .unwrap();
        assert!(destination(&n("447819912345"), sms, &uk_fr).is_ok());
        assert!(destination(&n("33612345678"), sms, &uk_fr).is_ok());
        assert!(matches!(
            destination(&n("14155550100"), sms, &uk_fr),
            Err(ProxyError::DestinationNotAllowed)
        ));
        let deny = Config::from_pairs(&[("DENIED_CALLING_CODES", "882,7")]).unwrap();
        assert!(destination(&n("88216123456"), sms, &deny).is_err());
        assert!(destination(&n("79161234567"), sms, &deny).is_err());
        assert!(destination(&n("447819912345"), sms, &deny).is_ok());
    }

    #[test]
    fn line_types_by_first_delivery() {
        let config = Config::default();
        let to = |raw: &str, first| destination(&n(raw), first, &config);
        let refused =
            |r: Result<(), ProxyError>| matches!(r, Err(ProxyError::LineTypeNotAllowed { .. }));
        assert!(to("+447819912345", Delivery::Sms).is_ok());
        assert!(
            to("+14155550100", Delivery::Sms).is_ok(),
            "fixed line or mobile"
        );
        assert!(refused(to("+442079460000", Delivery::Sms)), "a landline");
        assert!(
            to("+442079460000", Delivery::Voice).is_ok(),
            "a landline takes a call"
        );
        for premium in [
            "+449098790000",
            "+33899123456",
            "+448001234567",
            "+15005550006",
        ] {
            assert!(refused(to(premium, Delivery::Sms)), "{premium}");
            assert!(refused(to(premium, Delivery::Voice)), "{premium}");
        }
        assert!(
            refused(to("+447700900123", Delivery::Sms)),
            "fictional, upstream Vonage"
        );
        let sim = Config::from_pairs(&[("VERIFY_BASE_URL", "http://127.0.0.1:8081")]).unwrap();
        assert!(destination(&n("+447700900123"), Delivery::Sms, &sim).is_ok());
        let voip = Config::from_pairs(&[("SMS_LINE_TYPES", "mobile,voip")]).unwrap();
        assert!(destination(&n("+88216123456"), Delivery::Sms, &voip).is_ok());
    }

    #[test]
    fn a_workflows_shape_counts_its_calls() {
        let v1 = Config::default();
        let wf = |w: &str| vec![("workflow_id", w.to_string())];
        let of = |o: &[(&'static str, String)]| {
            let s = shape(o, None, &v1);
            (s.deliveries, s.calls, s.lifetime_ms / 1000)
        };
        assert_eq!(of(&[]), (3, 2, 605), "workflow 1: SMS, call, call");
        assert_eq!(of(&wf("2")), (3, 1, 605));
        assert_eq!(of(&wf("6")), (1, 0, 300));
        assert_eq!(of(&wf("7")), (1, 1, 300));
        let v2 = Config::from_pairs(&[
            ("VERIFY_API", "v2"),
            ("VERIFY_CHANNELS", "sms,voice"),
            ("VERIFY_CHANNEL_TIMEOUT", "300"),
        ])
        .unwrap();
        let s = shape(&[], None, &v2);
        assert_eq!((s.deliveries, s.calls, s.lifetime_ms), (2, 1, 600_000));
    }

    #[test]
    fn the_first_delivery_follows_the_workflow() {
        let v1 = Config::default();
        let wf = |w: &str| vec![("workflow_id", w.to_string())];
        assert_eq!(first_delivery(&[], None, &v1), Delivery::Sms);
        assert_eq!(first_delivery(&wf("3"), None, &v1), Delivery::Voice);
        assert_eq!(first_delivery(&wf("7"), None, &v1), Delivery::Voice);
        assert_eq!(first_delivery(&wf("6"), None, &v1), Delivery::Sms);
        let v2 = Config::from_pairs(&[
            ("VERIFY_API", "v2"),
            ("VERIFY_CHANNELS", "voice,sms"),
            ("ALLOWED_CHANNELS", "sms,voice"),
        ])
        .unwrap();
        assert_eq!(first_delivery(&[], None, &v2), Delivery::Voice);
        assert_eq!(first_delivery(&[], Some(Channel::Sms), &v2), Delivery::Sms);
    }

    #[test]
    fn options_follow_the_allowlist() {
        let closed = Config::default();
        let f = Fields::from_pairs(&[("code_length", "6")]);
        assert!(matches!(
            options(&f, &closed),
            Err(ProxyError::NotAllowed(_))
        ));
        let open = Config::from_pairs(&[("ALLOWED_OPTIONS", "code_length,lg")]).unwrap();
        assert_eq!(
            options(&f, &open).unwrap(),
            vec![("code_length", "6".to_string())]
        );
        assert!(options(&Fields::from_pairs(&[("code_length", "5")]), &open).is_err());
        assert!(options(&Fields::from_pairs(&[("lg", "en_us")]), &open).is_err());
        assert!(options(&Fields::from_pairs(&[("lg", "yue-cn")]), &open).is_ok());
        assert!(
            options(&Fields::from_pairs(&[("lg", "xx-yy")]), &open).is_err(),
            "not documented"
        );
        let defaults = Config::from_pairs(&[("VERIFY_WORKFLOW_ID", "6")]).unwrap();
        assert_eq!(
            options(&Fields::default(), &defaults).unwrap(),
            vec![
                ("workflow_id", "6".to_string()),
                ("code_length", "6".to_string())
            ]
        );
        // 6 digits unless the deployment says 4 (#21: 4 was the default outside the template).
        assert_eq!(
            options(&Fields::default(), &Config::default()).unwrap(),
            vec![("code_length", "6".to_string())]
        );
        let four = Config::from_pairs(&[("VERIFY_CODE_LENGTH", "4")]).unwrap();
        assert_eq!(
            options(&Fields::default(), &four).unwrap(),
            vec![("code_length", "4".to_string())]
        );
    }

    /// Under v2 a v1-only language (Japanese) is the caller's 400, not Vonage's 422 turned 502.
    #[test]
    fn a_language_v2_lacks_is_a_400_under_v2() {
        let v2 = Config::from_pairs(&[("VERIFY_API", "v2"), ("ALLOWED_OPTIONS", "lg")]).unwrap();
        let asked = |lg: &str| options(&Fields::from_pairs(&[("lg", lg)]), &v2);
        assert!(matches!(asked("ja-jp"), Err(ProxyError::Invalid { .. })));
        assert_eq!(asked("pt-br").unwrap(), vec![("lg", "pt-br".to_string())]);
        let v1 = Config::from_pairs(&[("ALLOWED_OPTIONS", "lg")]).unwrap();
        let ja = options(&Fields::from_pairs(&[("lg", "ja-jp")]), &v1).unwrap();
        assert!(ja.contains(&("lg", "ja-jp".to_string())));
    }

    #[test]
    fn unexpected_fields_can_be_ignored_like_the_node_proxy_did() {
        let sent = Fields::from_pairs(&[("brand", "Other"), ("code_length", "4")]);
        let strict = Config::default();
        assert!(matches!(
            brand(&sent, &strict),
            Err(ProxyError::NotAllowed(_))
        ));
        assert!(matches!(
            options(&sent, &strict),
            Err(ProxyError::NotAllowed(_))
        ));
        let lenient = Config::from_pairs(&[("UNEXPECTED_OPTIONS", "ignore")]).unwrap();
        assert_eq!(brand(&sent, &lenient).unwrap(), "verify-proxy");
        // The caller's 4 is dropped: the deployment's 6 is sent.
        assert_eq!(
            options(&sent, &lenient).unwrap(),
            vec![("code_length", "6".to_string())]
        );
        // Ignoring is for fields the deployment does not allow, not for bad values of allowed ones.
        let allowed = Config::from_pairs(&[
            ("UNEXPECTED_OPTIONS", "ignore"),
            ("ALLOWED_OPTIONS", "code_length"),
        ])
        .unwrap();
        assert!(options(&Fields::from_pairs(&[("code_length", "5")]), &allowed).is_err());
    }

    #[test]
    fn brand_override() {
        let c = Config::default();
        assert_eq!(brand(&Fields::default(), &c).unwrap(), "verify-proxy");
        assert!(brand(&Fields::from_pairs(&[("brand", "X")]), &c).is_err());
        let open = Config::from_pairs(&[("ALLOW_BRAND_OVERRIDE", "true")]).unwrap();
        assert_eq!(
            brand(&Fields::from_pairs(&[("brand", "X")]), &open).unwrap(),
            "X"
        );
        for bad in [
            "ABCDEFGHIJKLMNOPQRS",
            "evil.example/x",
            "https://x.io",
            "Bank\u{202E}kcab",
            "Pay\u{200D}Pal",
            "a@b.c",
        ] {
            assert!(
                brand(&Fields::from_pairs(&[("brand", bad)]), &open).is_err(),
                "{bad}"
            );
        }
        assert_eq!(
            brand(&Fields::from_pairs(&[("brand", "Café & Co")]), &open).unwrap(),
            "Café & Co"
        );
    }
}
