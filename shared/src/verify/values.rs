//! The values Verify takes, as types that can only hold valid ones: parse, don't validate.
//! `Pin` cannot be printed, and `Number` prints masked, so neither reaches a log by accident.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::error::ProxyError;
pub use crate::verify::number::Number;

/// A code the user typed or a test number's fixed code: 4 to 6 digits with v1 (Verify sends 4
/// or 6), up to 10 with v2. No `Display`, and a redacted `Debug`: the only ways out are the
/// upstream call and a constant-time comparison.
#[derive(Clone, PartialEq, Eq)]
pub struct Pin(String);

/// The longest code Verify v1 sends, and v2's.
pub const V1_MAX_CODE: usize = 6;
pub const V2_MAX_CODE: usize = 10;

impl Pin {
    pub fn parse(raw: &str) -> Result<Self, ProxyError> {
        Self::parse_up_to(raw, V1_MAX_CODE)
    }

    /// 4 to `max` digits.
    pub fn parse_up_to(raw: &str, max: usize) -> Result<Self, ProxyError> {
        if (4..=max).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit()) {
            Ok(Self(raw.to_string()))
        } else {
            Err(ProxyError::invalid(
                "code",
                format!("expected 4 to {max} digits"),
            ))
        }
    }

    /// Constant-time comparison (a timing difference would leak digits of a fixed code).
    pub fn matches(&self, other: &Pin) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The digits, for the upstream call only.
    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// A Verify request id: 32 hexadecimal characters (v1) or a UUID (v2). Either way only hex
/// digits and dashes, so it is safe in a v2 URL path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub fn parse(raw: &str) -> Result<Self, ProxyError> {
        let hex = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit());
        let v1 = raw.len() == 32 && hex(raw);
        let parts: Vec<&str> = raw.split('-').collect();
        let v2 = parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| hex(p));
        if v1 || v2 {
            Ok(Self(raw.to_string()))
        } else {
            Err(ProxyError::invalid(
                "request_id",
                "expected 32 hexadecimal characters or a UUID",
            ))
        }
    }

    /// An id this crate built itself from hex digits (test numbers).
    pub(crate) fn from_trusted(id: String) -> Self {
        debug_assert!(Self::parse(&id).is_ok());
        Self(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Verify control commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Cancel,
    TriggerNextEvent,
}

impl Command {
    pub fn parse(raw: Option<&str>) -> Result<Self, ProxyError> {
        match raw {
            None => Err(ProxyError::Missing("cmd")),
            Some("cancel") => Ok(Self::Cancel),
            Some("trigger_next_event") => Ok(Self::TriggerNextEvent),
            Some(_) => Err(ProxyError::invalid(
                "cmd",
                "expected cancel or trigger_next_event",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Cancel => "cancel",
            Self::TriggerNextEvent => "trigger_next_event",
        }
    }
}

/// The brand in the SMS text (`VERIFY_BRAND`, or a caller's where allowed): Verify's 18
/// characters, nothing invisible. v2 allows 16 ([`Brand::fits_v2`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Brand(String);

impl Brand {
    pub const MAX: usize = 18;
    pub const MAX_V2: usize = 16;

    /// The operator's brand (any printable text, such as "Booking.com").
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        if raw.trim().is_empty() {
            Err("empty")
        } else if raw.chars().count() > Self::MAX {
            Err("Verify allows at most 18 characters")
        } else if raw.chars().any(invisible) {
            Err("control, bidi or zero-width characters")
        } else {
            Ok(Self(raw.to_string()))
        }
    }

    /// A caller's brand: words, not a link or an address, since it lands in someone's SMS.
    pub fn parse_from_caller(raw: &str) -> Result<Self, ProxyError> {
        let brand = Self::parse(raw).map_err(|reason| ProxyError::invalid("brand", reason))?;
        if raw
            .chars()
            .all(|c| c.is_alphanumeric() || " -_&'!".contains(c))
        {
            Ok(brand)
        } else {
            Err(ProxyError::invalid(
                "brand",
                "letters, digits, spaces and - _ & ' ! only",
            ))
        }
    }

    pub fn fits_v2(&self) -> bool {
        self.0.chars().count() <= Self::MAX_V2
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Brand {
    fn default() -> Self {
        Self("verify-proxy".into())
    }
}

/// Characters that change how text shows without being seen: controls, bidi overrides and
/// isolates, zero-width characters (a brand could otherwise hide or reorder words in the SMS).
fn invisible(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2069}' | '\u{FEFF}')
}

/// Verify's sender id (`VERIFY_SENDER_ID`): up to 11 letters, digits and spaces, or up to 15
/// digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderId(String);

impl SenderId {
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let digits = raw.bytes().all(|b| b.is_ascii_digit());
        let alnum = raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b' ');
        match (digits, alnum) {
            (true, _) if raw.len() <= 15 => Ok(Self(raw.to_string())),
            (false, true) if raw.len() <= 11 => Ok(Self(raw.to_string())),
            _ => Err("up to 11 letters, digits and spaces, or up to 15 digits"),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A v1 workflow (`VERIFY_WORKFLOW_ID`, the `workflow_id` option): 1 to 7.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorkflowId(u8);

impl WorkflowId {
    pub const RANGE: std::ops::RangeInclusive<u8> = 1..=7;

    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        small_number(raw)
            .filter(|n| Self::RANGE.contains(n))
            .map(Self)
            .ok_or("Verify's workflows are 1 to 7")
    }

    pub fn get(self) -> u8 {
        self.0
    }

    /// Verify's default waits after each event of this workflow, in seconds (one per
    /// delivery; `docs/verify-v1.md` section 4): their count is what an unanswered start
    /// delivers, their sum how long it lives.
    /// Workflows 3 and 7 call first (text-to-speech); the others send an SMS first.
    pub fn voice_first(self) -> bool {
        matches!(self.0, 3 | 7)
    }

    /// How many of its deliveries are voice calls (1: SMS, call, call; 2: SMS, SMS, call;
    /// 3: call, call; 4: SMS, SMS; 5: SMS, call; 6: SMS; 7: call).
    pub fn calls(self) -> u8 {
        match self.0 {
            1 | 3 => 2,
            2 | 5 | 7 => 1,
            _ => 0,
        }
    }

    pub fn waits(self) -> &'static [i64] {
        match self.0 {
            1 | 2 => &[125, 180, 300],
            3 => &[150, 150],
            4 => &[120, 180],
            5 => &[125, 300],
            _ => &[300],
        }
    }
}

impl Default for WorkflowId {
    /// Verify's default: SMS, then two voice calls.
    fn default() -> Self {
        Self(1)
    }
}

/// How many digits a code has (`VERIFY_CODE_LENGTH`, the `code_length` option): v1 sends 4
/// or 6, v2 4 to 10 ([`V1_MAX_CODE`], [`V2_MAX_CODE`] are the longest a caller may type).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeLength(u8);

impl CodeLength {
    /// Six digits unless a deployment asks for fewer: a day's allowed guesses (11-12 per
    /// number) find a 4-digit code about 1 time in 900, a 6-digit one about 1 in 90,000.
    pub const DEFAULT: CodeLength = CodeLength(6);
    pub const V1_REASON: &str = "4 or 6";
    pub const V2_REASON: &str = "4 to 10";

    pub fn parse_v1(raw: &str) -> Result<Self, &'static str> {
        small_number(raw)
            .filter(|n| matches!(n, 4 | 6))
            .map(Self)
            .ok_or(Self::V1_REASON)
    }

    pub fn parse_v2(raw: &str) -> Result<Self, &'static str> {
        small_number(raw)
            .filter(|n| (4..=V2_MAX_CODE as u8).contains(n))
            .map(Self)
            .ok_or(Self::V2_REASON)
    }

    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

/// A language for the message: v1's `lg` takes one of Verify's 39 documented languages, v2's
/// `locale` one of its 13 (the two OpenAPI descriptions' enums; Vonage's v2 SDKs list the same
/// 13). A v1 language v2 lacks is the caller's mistake (400), not an upstream failure (502).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Locale(String);

impl Locale {
    pub fn parse_v1(raw: &str) -> Result<Self, &'static str> {
        if V1_LOCALES.contains(&raw) {
            Ok(Self(raw.to_string()))
        } else {
            Err("one of Verify's languages, such as en-gb")
        }
    }

    pub fn parse_v2(raw: &str) -> Result<Self, &'static str> {
        if V2_LOCALES.contains(&raw) {
            Ok(Self(raw.to_string()))
        } else {
            Err(
                "one of Verify v2's languages: en-us, en-gb, es-es, es-mx, es-us, it-it, fr-fr, de-de, ru-ru, hi-in, pt-br, pt-pt, id-id",
            )
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The languages Verify v1 documents for `lg` (the `verify.yml` enum of the start request).
pub const V1_LOCALES: &[&str] = &[
    "ar-xa", "cs-cz", "cy-cy", "cy-gb", "da-dk", "de-de", "el-gr", "en-au", "en-gb", "en-in",
    "en-us", "es-es", "es-mx", "es-us", "fi-fi", "fil-ph", "fr-ca", "fr-fr", "hi-in", "hu-hu",
    "id-id", "is-is", "it-it", "ja-jp", "ko-kr", "nb-no", "nl-nl", "pl-pl", "pt-br", "pt-pt",
    "ro-ro", "ru-ru", "sv-se", "th-th", "tr-tr", "vi-vn", "yue-cn", "zh-cn", "zh-tw",
];

/// The languages Verify v2 documents for `locale` (the `verify.v2.yml` `Language` enum).
pub const V2_LOCALES: &[&str] = &[
    "en-us", "en-gb", "es-es", "es-mx", "es-us", "it-it", "fr-fr", "de-de", "ru-ru", "hi-in",
    "pt-br", "pt-pt", "id-id",
];

/// Digits only, at most 3 of them (no sign, no space, no `+7`).
fn small_number(raw: &str) -> Option<u8> {
    let digits = (1..=3).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_digit());
    if digits { raw.parse().ok() } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The enum list starting at `first` in a vendored spec.
    fn spec_enum<'a>(spec: &'a str, first: &str) -> Vec<&'a str> {
        let start = spec.find(first).expect("the enum");
        spec[start..]
            .lines()
            .map(str::trim)
            .take_while(|l| l.starts_with("- "))
            .map(|l| l.trim_start_matches("- "))
            .collect()
    }

    /// The lists are the vendored specs', so they cannot drift from them unnoticed.
    #[test]
    fn locales_are_the_specs() {
        let v1 = include_str!("../../../simulator/spec/verify.yml");
        assert_eq!(spec_enum(v1, "- ar-xa"), V1_LOCALES);
        let v2 = include_str!("../../../simulator/spec/verify.v2.yml");
        let language = &v2[v2.find("    Language:").expect("the Language schema")..];
        assert_eq!(spec_enum(language, "- en-us"), V2_LOCALES);
    }

    #[test]
    fn pins_are_digits_and_never_printed() {
        assert!(Pin::parse("1234").is_ok() && Pin::parse("123456").is_ok());
        for bad in ["123", "1234567", "1234567890", "12a4", "", " 1234"] {
            assert!(Pin::parse(bad).is_err(), "{bad}");
        }
        let p = Pin::parse("246810").unwrap();
        assert!(!format!("{p:?}").contains("246810"));
        assert!(p.matches(&Pin::parse("246810").unwrap()));
        assert!(!p.matches(&Pin::parse("246811").unwrap()));
        assert!(!p.matches(&Pin::parse("24681").unwrap()));
        assert!(Pin::parse("12345678").is_err(), "v1: at most 6");
        assert!(Pin::parse_up_to("1234567890", V2_MAX_CODE).is_ok());
        assert!(Pin::parse_up_to("12345678901", V2_MAX_CODE).is_err());
    }

    #[test]
    fn request_ids() {
        assert!(RequestId::parse("abcdef0123456789abcdef0123456789").is_ok());
        assert!(RequestId::parse("c11236f4-00bf-4b89-84ba-88b25df97315").is_ok());
        for bad in [
            "abc",
            "c11236f4-00bf-4b89-84ba-88b25df9731",
            "c11236f4-00bf-4b89-84ba-88b25df97315/next_workflow",
            "../../v2/verify/c11236f4-00bf-4b89-84ba",
            "c11236f400bf-4b89-84ba-88b25df97315-",
            "abcdef0123456789abcdef012345678g",
            "abcdef0123456789abcdef01234567890",
        ] {
            assert!(RequestId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn commands() {
        assert_eq!(Command::parse(Some("cancel")).unwrap(), Command::Cancel);
        assert_eq!(
            Command::parse(Some("trigger_next_event")).unwrap(),
            Command::TriggerNextEvent
        );
        assert!(Command::parse(Some("resend")).is_err() && Command::parse(None).is_err());
    }
}
