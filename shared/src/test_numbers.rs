//! Test numbers: configured numbers with fixed codes that never reach Vonage (app-store review,
//! CI smoke tests). Off unless `TEST_NUMBERS` is set; codes are compared in constant time.

use serde_json::json;
use subtle::ConstantTimeEq;

use crate::handler::Reply;

/// Request ids of test verifications: `7e57` + the number, zero-padded to 32 hex characters.
const ID_PREFIX: &str = "7e57";

#[derive(Clone, Default, PartialEq, Eq)]
pub struct TestNumbers {
    entries: Vec<(String, String)>,
}

// The codes are secrets of a sort: keep them out of debug output.
impl std::fmt::Debug for TestNumbers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TestNumbers({} configured)", self.entries.len())
    }
}

impl TestNumbers {
    /// Parses `number:code,number:code`; numbers in E.164 (`+` optional), codes 4-10 digits.
    pub fn parse(spec: &str) -> Result<Self, String> {
        let mut entries = Vec::new();
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (number, code) = item.split_once(':').ok_or("expected number:code")?;
            let number = crate::validate::number(number)
                .map_err(|_| "a test number is not E.164".to_string())?;
            crate::validate::code(code.trim())
                .map_err(|_| "a test code must be 4 to 10 digits".to_string())?;
            entries.push((number, code.trim().to_string()));
        }
        Ok(Self { entries })
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn code_for(&self, number: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(n, _)| n == number)
            .map(|(_, c)| c.as_str())
    }

    /// The request id a test number's verification gets.
    pub fn request_id(number: &str) -> String {
        format!("{ID_PREFIX}{number:0>28}")
    }

    fn number_of(&self, request_id: &str) -> Option<&str> {
        let digits = request_id.strip_prefix(ID_PREFIX)?.trim_start_matches('0');
        self.entries
            .iter()
            .find(|(n, _)| n == digits)
            .map(|(n, _)| n.as_str())
    }

    /// `/request` for a test number: answered here, nothing is sent.
    pub fn start(&self, number: &str) -> Option<Reply> {
        self.code_for(number)?;
        Some(Reply {
            verify_status: "0".into(),
            body: json!({ "request_id": Self::request_id(number), "status": "0" }),
        })
    }

    /// `/check` of a test verification: the fixed code, compared in constant time.
    pub fn check(&self, request_id: &str, code: &str) -> Option<Reply> {
        let expected = self.code_for(self.number_of(request_id)?)?;
        let ok: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        Some(if ok {
            Reply {
                verify_status: "0".into(),
                body: json!({ "request_id": request_id, "event_id": "7E57000000000000", "status": "0", "price": "0.00000000", "currency": "EUR" }),
            }
        } else {
            Reply {
                verify_status: "16".into(),
                body: json!({ "request_id": request_id, "status": "16", "error_text": "The code inserted does not match the expected value" }),
            }
        })
    }

    /// `/cancel` and `/control` of a test verification: accepted, nothing is sent.
    pub fn control(&self, request_id: &str, cmd: &str) -> Option<Reply> {
        self.number_of(request_id)?;
        Some(Reply {
            verify_status: "0".into(),
            body: json!({ "status": "0", "command": cmd }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_unless_configured() {
        let none = TestNumbers::parse("").unwrap();
        assert!(none.is_empty());
        assert!(none.start("447700900999").is_none());
        assert!(
            none.check(&TestNumbers::request_id("447700900999"), "123456")
                .is_none()
        );
    }

    #[test]
    fn fixed_codes() {
        let t = TestNumbers::parse("+447700900999:123456, 14155550100:0042").unwrap();
        let start = t.start("447700900999").unwrap();
        let id = start.body["request_id"].as_str().unwrap().to_string();
        assert_eq!(id.len(), 32);
        assert!(crate::validate::request_id(&id).is_ok());
        assert_eq!(t.check(&id, "123456").unwrap().verify_status, "0");
        assert_eq!(t.check(&id, "123457").unwrap().verify_status, "16");
        assert_eq!(t.check(&id, "12345").unwrap().verify_status, "16");
        assert!(
            t.check("abcdef0123456789abcdef0123456789", "123456")
                .is_none(),
            "real ids go upstream"
        );
        assert!(
            t.start("447700900998").is_none(),
            "other numbers go upstream"
        );
        let us = TestNumbers::request_id("14155550100");
        assert_eq!(t.check(&us, "0042").unwrap().verify_status, "0");
        assert_eq!(t.control(&us, "cancel").unwrap().body["command"], "cancel");
        assert!(!format!("{t:?}").contains("123456"));
    }

    #[test]
    fn bad_specs_are_rejected() {
        assert!(TestNumbers::parse("447700900999").is_err());
        assert!(TestNumbers::parse("447700900999:12").is_err());
        assert!(TestNumbers::parse("12:123456").is_err());
    }
}
