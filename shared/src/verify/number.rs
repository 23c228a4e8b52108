//! A phone number as Verify takes it: one canonical E.164 form whatever the notation, read with
//! libphonenumber's metadata (rlibphonenumber, its `lite` regex engine: 0.7 MB and ~4 ms to
//! load at full CPU, against 1.9 MB and ~10 ms with the full `regex`; `phonenumber` 0.3 took
//! 2.7 MB and 85 ms). Numbers the metadata calls impossible are refused here, before anything
//! is counted; what a valid number's line type may receive is the policy's (`caller/policy.rs`).

use std::fmt;
use std::hash::{Hash, Hasher};

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat, PhoneNumberType};

use crate::error::ProxyError;
use crate::log::mask_number;

/// What a number is, by its metadata: what decides whether an SMS or a call goes to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineType {
    Mobile,
    FixedLine,
    /// Where the numbering plan does not tell them apart (North America, among others).
    FixedLineOrMobile,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    Uan,
    Voicemail,
    /// Valid, but of no type the metadata names.
    Unknown,
    /// Ofcom's range for drama, +44 7700 900000-900999: never allocated, so only a simulator
    /// answers it (every example and test here uses it).
    Fictional,
}

impl LineType {
    pub const ALL: [LineType; 13] = [
        Self::Mobile,
        Self::FixedLine,
        Self::FixedLineOrMobile,
        Self::TollFree,
        Self::PremiumRate,
        Self::SharedCost,
        Self::Voip,
        Self::PersonalNumber,
        Self::Pager,
        Self::Uan,
        Self::Voicemail,
        Self::Unknown,
        Self::Fictional,
    ];

    /// The name in settings (`SMS_LINE_TYPES`) and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::FixedLine => "fixed_line",
            Self::FixedLineOrMobile => "fixed_line_or_mobile",
            Self::TollFree => "toll_free",
            Self::PremiumRate => "premium_rate",
            Self::SharedCost => "shared_cost",
            Self::Voip => "voip",
            Self::PersonalNumber => "personal_number",
            Self::Pager => "pager",
            Self::Uan => "uan",
            Self::Voicemail => "voicemail",
            Self::Unknown => "unknown",
            Self::Fictional => "fictional",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == raw)
    }

    fn of(kind: PhoneNumberType) -> Self {
        match kind {
            PhoneNumberType::Mobile => Self::Mobile,
            PhoneNumberType::FixedLine => Self::FixedLine,
            PhoneNumberType::FixedLineOrMobile => Self::FixedLineOrMobile,
            PhoneNumberType::TollFree => Self::TollFree,
            PhoneNumberType::PremiumRate => Self::PremiumRate,
            PhoneNumberType::SharedCost => Self::SharedCost,
            PhoneNumberType::VoIP => Self::Voip,
            PhoneNumberType::PersonalNumber => Self::PersonalNumber,
            PhoneNumberType::Pager => Self::Pager,
            PhoneNumberType::UAN => Self::Uan,
            PhoneNumberType::VoiceMail => Self::Voicemail,
            _ => Self::Unknown,
        }
    }
}

/// An E.164 number as digits without `+` (what Verify wants), with its line type. Equality and
/// hashing are the digits'.
#[derive(Clone)]
pub struct Number {
    digits: String,
    line: LineType,
    /// Digits of the calling code and the national destination code (the operator or area
    /// prefix), at least 3 national digits: the segment between a number's range and its
    /// country.
    prefix_len: u8,
}

/// The longest input read (E.164 is 15 digits; this leaves room for spaces and brackets).
const MAX_INPUT: usize = 40;

impl Number {
    /// International notation only: a leading `+` or `00`, or bare E.164 digits. Spaces,
    /// dashes, dots and brackets are separators; a trunk 0 after the calling code (`+44 0`,
    /// `+44 (0)`) is dropped as libphonenumber drops it, and a `(0)` anywhere else stays a
    /// digit (so the number is refused, not silently sent elsewhere). Letters, extensions and
    /// URIs are refused.
    pub fn parse(raw: &str) -> Result<Self, ProxyError> {
        let invalid = |why: &str| ProxyError::invalid("number", why.to_string());
        let shape = "expected an E.164 number such as +447700900000";
        let separators = |c: char| matches!(c, ' ' | '-' | '.' | '(' | ')');
        // One `+`, before every digit (`+44 ...`, `(+44) ...`).
        let body = match raw.split_once('+') {
            Some((before, after)) if before.chars().all(separators) => after,
            Some(_) => return Err(invalid(shape)),
            None => raw,
        };
        if !body.chars().any(|c| c.is_ascii_digit())
            || raw.len() > MAX_INPUT
            || !body.chars().all(|c| c.is_ascii_digit() || separators(c))
        {
            return Err(invalid(shape));
        }
        let leading: String = body.chars().filter(|c| !separators(*c)).take(2).collect();
        // `00` is the international prefix in most of the world; a lone national `0` is not
        // international notation at all.
        let body = match leading.as_str() {
            "00" => without_two_zeros(body),
            l if l.starts_with('0') => return Err(invalid(shape)),
            _ => body.to_string(),
        };
        let parsed = PHONE_NUMBER_UTIL
            .parse(format!("+{body}"), None)
            .map_err(|_| invalid(shape))?;
        let code = parsed.country_code;
        let national = parsed.national_number;
        let line = if parsed.is_valid() {
            LineType::of(parsed.get_type())
        } else if code == 44 && (7_700_900_000..=7_700_900_999).contains(&national) {
            LineType::Fictional
        } else {
            return Err(invalid("not a possible number in its country"));
        };
        let digits = e164_digits(&parsed);
        let prefix_len = code.to_string().len() + ndc_len(&parsed, line).max(3);
        // Always wider than the range (the number without its last four digits).
        let prefix_len = prefix_len.min(digits.len().saturating_sub(5));
        Ok(Self {
            prefix_len: prefix_len as u8,
            digits,
            line,
        })
    }

    /// Digits this deployment stored itself (a sealed number in the guard's record): no
    /// metadata check, so a metadata update cannot make a live verification unreadable.
    pub(crate) fn stored(digits: &str) -> Option<Self> {
        let ok = (7..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0');
        ok.then(|| Self {
            digits: digits.to_string(),
            line: LineType::Unknown,
            prefix_len: 0,
        })
    }

    /// The digits, for the upstream call and prefix rules.
    pub fn digits(&self) -> &str {
        &self.digits
    }

    pub fn line_type(&self) -> LineType {
        self.line
    }

    /// Calling code and national destination code (`44` `7819`; France's one-digit `6` is
    /// read as `612`); none for a number stored without its metadata.
    pub fn network_prefix(&self) -> Option<&str> {
        (self.prefix_len > 0).then(|| &self.digits[..usize::from(self.prefix_len)])
    }

    /// `+44*******123`, for logs and callers.
    pub fn masked(&self) -> String {
        mask_number(&self.digits)
    }
}

/// `body` after its first two digits (both `0`), separators kept.
fn without_two_zeros(body: &str) -> String {
    let mut zeros = 0;
    body.chars()
        .filter(|c| {
            let skip = zeros < 2 && *c == '0';
            zeros += usize::from(skip);
            !skip
        })
        .collect()
}

fn e164_digits(n: &PhoneNumber) -> String {
    let e164 = n.format_as(PhoneNumberFormat::E164);
    e164.trim_start_matches('+').to_string()
}

fn ndc_len(n: &PhoneNumber, line: LineType) -> usize {
    match line {
        LineType::Fictional => 4,
        _ => n.get_length_of_national_destination_code(),
    }
}

/// Loads the metadata now (at start-up) instead of on the first request.
pub fn warm_up() {
    let _ = Number::parse("+447819912345");
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        self.digits == other.digits
    }
}

impl Eq for Number {}

impl Hash for Number {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.digits.hash(state);
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digits(raw: &str) -> String {
        Number::parse(raw).unwrap().digits().to_string()
    }

    #[test]
    fn one_canonical_form_whatever_the_notation() {
        for raw in [
            "+447819912345",
            "+44 7819 912345",
            "0044-7819-912345",
            "00 44 7819 912345",
            "0 044 7819 912345",
            "447819912345",
            "+44 0 7819 912345",
            "+4407819912345",
            "+44 (0)7819 912345",
            "+44 (0) 7819.912.345",
            "(+44) 7819 912345",
            " +44 7819 912345 ",
        ] {
            assert_eq!(digits(raw), "447819912345", "{raw}");
        }
        assert_eq!(digits("+33 (0)6 12 34 56 78"), "33612345678");
        // Italy keeps its leading 0 in E.164.
        assert_eq!(digits("+39 06 1234 5678"), "390612345678");
        assert_eq!(digits("+1 (415) 555-0100"), "14155550100");
    }

    #[test]
    fn a_trunk_zero_cannot_make_a_premium_number_look_different() {
        for raw in ["+449098790000", "+44 0 909 879 0000", "+4409098790000"] {
            let n = Number::parse(raw).unwrap();
            assert_eq!(n.digits(), "449098790000", "{raw}");
            assert_eq!(n.line_type(), LineType::PremiumRate);
        }
    }

    #[test]
    fn impossible_numbers_and_other_shapes_are_refused() {
        for bad in [
            "",
            "+",
            "123",
            "07819912345",
            "0 7819 912345",
            "+44770090000012345",
            "44781o912345",
            "+44 7819 912345; DROP",
            "+44 7819 (0)912345",
            "+44 (00)7819912345",
            "+44 7819 912345 ext 5",
            "tel:+447819912345",
            "+447819",
            "+4470123456",
            "+123456789012",
            "+88212360003",
            "+٤٤٧٨١٩٩١٢٣٤٥",
            "+44 7819 912345#",
            "++447819912345",
            "44+7819912345",
            "()",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn line_types() {
        let kind = |raw: &str| Number::parse(raw).unwrap().line_type();
        assert_eq!(kind("+447819912345"), LineType::Mobile);
        assert_eq!(kind("+442079460000"), LineType::FixedLine);
        assert_eq!(kind("+14155550100"), LineType::FixedLineOrMobile);
        assert_eq!(kind("+448001234567"), LineType::TollFree);
        assert_eq!(kind("+33899123456"), LineType::PremiumRate);
        assert_eq!(kind("+15005550006"), LineType::PersonalNumber);
        assert_eq!(kind("+447700900123"), LineType::Fictional);
        assert!(
            Number::parse("+447700901000").is_err(),
            "outside the drama range"
        );
        for t in LineType::ALL {
            assert_eq!(LineType::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn network_prefix_is_the_operator_block() {
        let prefix = |raw: &str| {
            Number::parse(raw)
                .unwrap()
                .network_prefix()
                .map(String::from)
        };
        assert_eq!(prefix("+447819912345").as_deref(), Some("447819"));
        assert_eq!(prefix("+447700900123").as_deref(), Some("447700"));
        assert_eq!(prefix("+33612345678").as_deref(), Some("33612"));
        assert_eq!(prefix("+14155550100").as_deref(), Some("1415"));
        assert_eq!(prefix("+4915123456789").as_deref(), Some("491512"));
        assert_eq!(
            Number::stored("447819912345").unwrap().network_prefix(),
            None
        );
    }

    #[test]
    fn stored_digits_open_without_metadata_and_compare_by_digits() {
        let n = Number::stored("447700900123").unwrap();
        assert_eq!(n, Number::parse("+44 7700 900123").unwrap());
        assert!(Number::stored("0447").is_none() && Number::stored("44a7700900123").is_none());
        assert_eq!(format!("{n:?}"), "Number(+44*******123)");
    }
}
