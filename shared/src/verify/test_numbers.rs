//! Test numbers: configured numbers with fixed codes that never reach Vonage (app-store review,
//! CI smoke tests). Off unless `TEST_NUMBERS` is set; codes (6 digits) are compared in
//! constant time. Answers look like Verify's (an event id and a price like a real success's),
//! and every start gets an id of its own: 8 random bytes and an HMAC of the number and those
//! bytes keyed by the code, so knowing the number gives no id and one start's id says nothing
//! of the next (before, every start to a test number had the same id). The guard counts their
//! wrong codes like any other.

use hmac::{Hmac, KeyInit, Mac};
use rand::{RngCore, SeedableRng};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::verify::types::{CheckResponse, ControlResponse, StartResponse};
use crate::verify::values::{Command, Number, Pin, RequestId};

/// Fixed codes shorter than this are refused: four digits are guessed in hours.
pub const MIN_CODE_DIGITS: usize = 6;

#[derive(Clone, Default, PartialEq, Eq)]
pub struct TestNumbers {
    entries: Vec<(Number, Pin)>,
}

// The codes are secrets of a sort: keep them out of debug output.
impl std::fmt::Debug for TestNumbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestNumbers({} configured)", self.entries.len())
    }
}

impl TestNumbers {
    /// Parses `number:code,number:code`; numbers in E.164 (`+` optional), codes of 6 digits.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (number, code) = item.split_once(':').ok_or("expected number:code")?;
            let number =
                Number::parse(number).map_err(|_| "a test number is not E.164".to_string())?;
            let code = Pin::parse(code.trim())
                .ok()
                .filter(|c| c.len() >= MIN_CODE_DIGITS)
                .ok_or_else(|| "a test code must be 6 digits".to_string())?;
            entries.push((number, code));
        }
        Ok(Self { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn code_for(&self, number: &Number) -> Option<&Pin> {
        self.entries
            .iter()
            .find(|(n, _)| n == number)
            .map(|(_, c)| c)
    }

    /// A test verification's id: `nonce` and HMAC-SHA256(code, number | nonce), 16 bytes in
    /// all, as 32 hex digits like a v1 id.
    fn id_of(number: &Number, code: &Pin, nonce: &[u8; 8]) -> [u8; 16] {
        let digest = Hmac::<Sha256>::new_from_slice(code.expose().as_bytes())
            .map(|mut mac| {
                mac.update(number.digits().as_bytes());
                mac.update(b"|");
                mac.update(nonce);
                mac.finalize().into_bytes()
            })
            .unwrap_or_default();
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(nonce);
        id[8..].copy_from_slice(&digest[..8]);
        id
    }

    /// A fresh id for a start to a configured test number (`None` for other numbers).
    pub fn request_id(&self, number: &Number) -> Option<RequestId> {
        let code = self.code_for(number)?;
        let mut nonce = [0u8; 8];
        rand::rngs::StdRng::from_os_rng().fill_bytes(&mut nonce);
        let hex: String = Self::id_of(number, code, &nonce)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Some(RequestId::from_trusted(hex))
    }

    /// The test number an id was issued for (compared in constant time), if any.
    fn number_of(&self, request_id: &RequestId) -> Option<&Number> {
        let raw = request_id.as_str();
        let bytes: Vec<u8> = (0..raw.len() / 2)
            .filter_map(|i| u8::from_str_radix(raw.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        let id: [u8; 16] = bytes.try_into().ok()?;
        let nonce: [u8; 8] = id[..8].try_into().ok()?;
        self.entries
            .iter()
            .find(|(n, c)| bool::from(Self::id_of(n, c, &nonce).ct_eq(&id)))
            .map(|(n, _)| n)
    }

    /// Whether `request_id` is one this deployment issued to a test number.
    pub fn issued(&self, request_id: &RequestId) -> bool {
        self.number_of(request_id).is_some()
    }

    /// `/request` for a test number: answered here, nothing is sent.
    pub fn start(&self, number: &Number) -> Option<StartResponse> {
        Some(StartResponse {
            request_id: Some(self.request_id(number)?.to_string()),
            status: "0".into(),
            ..StartResponse::default()
        })
    }

    /// `/check` of a test verification: the fixed code, compared in constant time.
    pub fn check(&self, request_id: &RequestId, code: &Pin) -> Option<CheckResponse> {
        let expected = self.code_for(self.number_of(request_id)?)?;
        let id = Some(request_id.to_string());
        Some(if expected.matches(code) {
            CheckResponse {
                request_id: id,
                event_id: Some(event_id()),
                status: "0".into(),
                // What a real verification's success says (nothing is billed for this one).
                price: Some("0.10000000".into()),
                currency: Some("EUR".into()),
                ..CheckResponse::default()
            }
        } else {
            CheckResponse {
                request_id: id,
                status: "16".into(),
                error_text: Some("The code inserted does not match the expected value".into()),
                ..CheckResponse::default()
            }
        })
    }

    /// `/cancel` and `/control` of a test verification: accepted, nothing is sent.
    pub fn control(&self, request_id: &RequestId, cmd: Command) -> Option<ControlResponse> {
        self.number_of(request_id)?;
        Some(ControlResponse {
            status: "0".into(),
            command: Some(cmd.as_str().into()),
            error_text: None,
        })
    }
}

/// An event id shaped like Verify's (16 hex digits, upper case), random.
fn event_id() -> String {
    let mut raw = [0u8; 8];
    rand::rngs::StdRng::from_os_rng().fill_bytes(&mut raw);
    raw.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(s: &str) -> Number {
        Number::parse(s).unwrap()
    }
    fn p(s: &str) -> Pin {
        Pin::parse(s).unwrap()
    }

    #[test]
    fn off_unless_configured() {
        let none = TestNumbers::parse("").unwrap();
        assert!(none.is_empty());
        assert!(none.start(&n("447700900999")).is_none());
        assert!(none.request_id(&n("447700900999")).is_none());
        let id = RequestId::parse("abcdef0123456789abcdef0123456789").unwrap();
        assert!(none.check(&id, &p("123456")).is_none());
    }

    #[test]
    fn fixed_codes() {
        let t = TestNumbers::parse("+447700900999:123456, 14155550100:004200").unwrap();
        let start = t.start(&n("447700900999")).unwrap();
        let id = RequestId::parse(start.request_id.as_deref().unwrap()).unwrap();
        assert!(
            !id.as_str().contains("447700900999"),
            "not derived from the number alone"
        );
        let other_code = TestNumbers::parse("+447700900999:654321").unwrap();
        assert!(!other_code.issued(&id), "the id is keyed by the code");
        let again = t.request_id(&n("447700900999")).unwrap();
        assert_ne!(again, id, "every start its own id");
        assert!(t.issued(&again) && t.issued(&id));
        // Another id with the same random part but a made-up rest is not one of ours.
        let forged =
            RequestId::parse(&format!("{}{}", &id.as_str()[..16], "0123456789abcdef")).unwrap();
        assert!(t.check(&forged, &p("123456")).is_none());
        let success = t.check(&id, &p("123456")).unwrap();
        let event = success.event_id.clone().unwrap();
        assert!(event.len() == 16 && event.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(event, t.check(&id, &p("123456")).unwrap().event_id.unwrap());
        assert_eq!(success.price.as_deref(), Some("0.10000000"));
        assert_eq!(t.check(&id, &p("123456")).unwrap().status, "0");
        assert_eq!(t.check(&id, &p("123457")).unwrap().status, "16");
        assert_eq!(t.check(&id, &p("12345")).unwrap().status, "16");
        let real = RequestId::parse("abcdef0123456789abcdef0123456789").unwrap();
        assert!(
            t.check(&real, &p("123456")).is_none(),
            "real ids go upstream"
        );
        assert!(
            t.start(&n("447700900998")).is_none(),
            "other numbers go upstream"
        );
        let us = t.request_id(&n("14155550100")).unwrap();
        assert_eq!(t.check(&us, &p("004200")).unwrap().status, "0");
        assert_eq!(
            t.control(&us, Command::Cancel).unwrap().command.as_deref(),
            Some("cancel")
        );
        assert!(!format!("{t:?}").contains("123456"));
    }

    #[test]
    fn bad_specs_are_rejected() {
        assert!(TestNumbers::parse("447700900999").is_err());
        assert!(TestNumbers::parse("447700900999:12").is_err());
        assert!(
            TestNumbers::parse("447700900999:1234").is_err(),
            "4 digits are too few"
        );
        assert!(TestNumbers::parse("447700900999:12345").is_err());
        assert!(TestNumbers::parse("12:123456").is_err());
    }
}
