//! The values Verify takes, as types that can only hold valid ones: parse, don't validate.
//! `Pin` cannot be printed, and `Number` prints masked, so neither reaches a log by accident.

use std::fmt;

use subtle::ConstantTimeEq;

use crate::error::ProxyError;
use crate::log::mask_number;

/// An E.164 number as digits without `+` (what Verify wants).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

impl Number {
    /// Spaces, dashes, dots and parentheses are tolerated; a leading `+` or `00` is the
    /// international prefix.
    pub fn parse(raw: &str) -> Result<Self, ProxyError> {
        // `+44 (0)7700 900123`: the national trunk 0 written in brackets after the calling code
        // is not part of the E.164 number (kept, it would slip past prefix rules like `447`).
        let raw = raw.replace("(0)", "");
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
            Ok(Self(digits.to_string()))
        } else {
            Err(ProxyError::invalid(
                "number",
                "expected an E.164 number such as +447700900000",
            ))
        }
    }

    /// The digits, for the upstream call and prefix rules.
    pub fn digits(&self) -> &str {
        &self.0
    }

    /// `+44*******123`, for logs and callers.
    pub fn masked(&self) -> String {
        mask_number(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.masked())
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(
            Number::parse("+44 7700 900000").unwrap().digits(),
            "447700900000"
        );
        assert_eq!(
            Number::parse("0044-7700-900000").unwrap().digits(),
            "447700900000"
        );
        assert_eq!(
            Number::parse("14155550100").unwrap().digits(),
            "14155550100"
        );
        // The bracketed trunk 0 is dropped, so a premium `+44 (0)9...` still reads as `449...`
        // and meets a deny prefix `449`.
        assert_eq!(
            Number::parse("+44 (0)909 8790000").unwrap().digits(),
            "449098790000"
        );
        for bad in [
            "",
            "+",
            "123",
            "07700900000",
            "+44770090000012345",
            "44770o900000",
            "+44 7700 900000; DROP",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
        let n = Number::parse("+447700900123").unwrap();
        assert_eq!(format!("{n:?}"), "Number(+44*******123)");
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
