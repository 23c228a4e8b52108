//! The one place that decides what HTTP status (and Verify-style `status`) a caller gets:
//! for every Verify status (v1 answers every business outcome with HTTP 200 and a string
//! `status`; our API answers with a meaningful HTTP status instead), with the reason for each
//! row (the README reproduces it), and for every `ProxyError`.

use crate::error::{ProxyError, UpstreamError};

pub struct Mapping {
    pub verify: &'static str,
    pub http: u16,
    pub reason: &'static str,
}

pub const TABLE: &[Mapping] = &[
    Mapping {
        verify: "0",
        http: 200,
        reason: "success",
    },
    Mapping {
        verify: "IN PROGRESS",
        http: 200,
        reason: "search: verification still running",
    },
    Mapping {
        verify: "SUCCESS",
        http: 200,
        reason: "search: verified",
    },
    Mapping {
        verify: "FAILED",
        http: 200,
        reason: "search: too many wrong codes (a valid answer about the request)",
    },
    Mapping {
        verify: "EXPIRED",
        http: 200,
        reason: "search: no correct code in time (a valid answer)",
    },
    Mapping {
        verify: "CANCELLED",
        http: 200,
        reason: "search: cancelled (a valid answer)",
    },
    Mapping {
        verify: "1",
        http: 429,
        reason: "throttled by Vonage: retry later (Retry-After sent)",
    },
    Mapping {
        verify: "2",
        http: 502,
        reason: "a parameter missing upstream after we validated the input: our configuration",
    },
    Mapping {
        verify: "3",
        http: 502,
        reason: "a parameter invalid upstream after we validated the input: our configuration",
    },
    Mapping {
        verify: "4",
        http: 502,
        reason: "our Vonage credentials were refused: our problem, not the caller's",
    },
    Mapping {
        verify: "5",
        http: 502,
        reason: "Vonage internal error: retry later",
    },
    Mapping {
        verify: "6",
        http: 404,
        reason: "request not found, no longer active, or number unroutable",
    },
    Mapping {
        verify: "7",
        http: 403,
        reason: "number or network blocked by Vonage anti-fraud",
    },
    Mapping {
        verify: "8",
        http: 502,
        reason: "our Vonage account is barred: our problem",
    },
    Mapping {
        verify: "9",
        http: 502,
        reason: "our Vonage account is out of credit: our problem",
    },
    Mapping {
        verify: "10",
        http: 409,
        reason: "a verification to this number is already in progress (its request_id is not returned: it would let anyone check or cancel it)",
    },
    Mapping {
        verify: "15",
        http: 422,
        reason: "destination network not supported",
    },
    Mapping {
        verify: "16",
        http: 400,
        reason: "wrong code: the caller may try again",
    },
    Mapping {
        verify: "17",
        http: 410,
        reason: "too many wrong codes: the request is terminated",
    },
    Mapping {
        verify: "18",
        http: 400,
        reason: "too many request_ids in one search (max 10)",
    },
    Mapping {
        verify: "19",
        http: 409,
        reason: "control not possible now (cancel too early/late, or no events left)",
    },
    Mapping {
        verify: "20",
        http: 502,
        reason: "our account does not support pin_code: our configuration",
    },
    Mapping {
        verify: "29",
        http: 403,
        reason: "our account is in demo mode and this number is not whitelisted",
    },
    Mapping {
        verify: "101",
        http: 404,
        reason: "search: no such request",
    },
];

/// Upstream statuses that describe our account or configuration: their text (which can name
/// the account key or internal hosts) never reaches callers.
pub const ACCOUNT_PROBLEMS: &[&str] = &["2", "3", "4", "5", "8", "9", "20"];

/// What callers see instead of Verify's text when our own account or configuration is the
/// problem.
pub const ACCOUNT_PROBLEM_TEXT: &str =
    "The verification service is temporarily unavailable. Please try again later.";

/// What callers read instead of Verify's `error_text` for statuses whose text is not theirs to
/// see (the original is logged).
pub fn generic_text(verify_status: &str) -> Option<&'static str> {
    if is_account_problem(verify_status) {
        return Some(ACCOUNT_PROBLEM_TEXT);
    }
    match verify_status {
        "29" => Some("This service cannot send codes to this number yet."),
        // A status we do not know can carry anything: it is ours to look into.
        s if !TABLE.iter().any(|m| m.verify == s) => Some(ACCOUNT_PROBLEM_TEXT),
        _ => None,
    }
}

/// The text for an error answer that came without `error_text` (the spec does not promise
/// one), so every error a caller sees can be shown to a person.
pub fn fallback_text(verify_status: &str) -> &'static str {
    match verify_status {
        "1" => "Too many requests. Please try again later.",
        "6" => "The verification request was not found or is no longer active.",
        "7" => "This number cannot be verified.",
        "10" => "A verification to this number is already in progress.",
        "15" => "This service does not send codes to that destination.",
        "16" => "The code provided does not match the expected value.",
        "17" => "The wrong code was provided too many times.",
        "18" => "Too many request_ids provided: at most 10.",
        "19" => "This verification cannot be changed now.",
        "101" => "No response found.",
        _ => generic_text(verify_status).unwrap_or(ACCOUNT_PROBLEM_TEXT),
    }
}

/// The HTTP status for a Verify status; unknown statuses are an upstream problem (502).
pub fn http_for(verify_status: &str) -> u16 {
    TABLE
        .iter()
        .find(|m| m.verify == verify_status)
        .map_or(502, |m| m.http)
}

/// Whether the status is one of Verify's documented ones (the table above).
pub fn is_known(verify_status: &str) -> bool {
    TABLE.iter().any(|m| m.verify == verify_status)
}

pub fn is_account_problem(verify_status: &str) -> bool {
    ACCOUNT_PROBLEMS.contains(&verify_status)
}

/// The v2 answer table as the README shows it: each v2 answer (`verify::v2::V2_ANSWERS`),
/// the v1 status it is treated as, and so the HTTP status this table gives callers. One table:
/// a v2 answer cannot get an HTTP status of its own, only a v1 meaning.
pub fn v2_rows() -> Vec<String> {
    crate::verify::v2::V2_ANSWERS
        .iter()
        .map(|r| {
            let call = r.op.map_or("any", |o| o.name());
            let http = if r.http == 500 {
                "5xx".to_string()
            } else {
                r.http.to_string()
            };
            let words = if r.too_many {
                " saying \"too many\""
            } else {
                ""
            };
            format!(
                "| {call} | {http}{words} | {} | `{}` | {} |",
                r.v2_meaning,
                r.verify,
                http_for(r.verify)
            )
        })
        .collect()
}

/// (HTTP status, Verify-style `status` for clients that only read that field) of an error
/// raised before or instead of a Verify answer.
pub fn for_error(e: &ProxyError) -> (u16, &'static str) {
    match e {
        ProxyError::MethodNotAllowed(_) => (405, "3"),
        ProxyError::UnsupportedMediaType(_) => (415, "3"),
        ProxyError::PayloadTooLarge(_) => (413, "3"),
        ProxyError::MalformedBody(_) => (400, "3"),
        ProxyError::Missing(_) => (400, "2"),
        ProxyError::Invalid { .. } | ProxyError::NotAllowed(_) => (400, "3"),
        ProxyError::TooManyIds => (400, "18"),
        ProxyError::DestinationNotAllowed | ProxyError::LineTypeNotAllowed { .. } => (403, "15"),
        ProxyError::Limited { .. } => (429, "1"),
        ProxyError::AlreadySent { .. } => (409, "10"),
        ProxyError::UnknownRequest => (404, "6"),
        ProxyError::NoSuchRequest => (404, "101"),
        ProxyError::CodeLocked { .. } => (410, "17"),
        ProxyError::IdempotencyMismatch => (422, "3"),
        ProxyError::IdempotencyInFlight => (409, "10"),
        ProxyError::GuardUnavailable | ProxyError::AuthUnavailable => (503, "5"),
        ProxyError::Unauthorized { .. } => (401, "4"),
        ProxyError::OriginNotAllowed => (403, "3"),
        ProxyError::JsonOnly => (415, "3"),
        ProxyError::Secrets(_) => (500, "5"),
        ProxyError::Upstream(UpstreamError::Timeout) => (504, "5"),
        ProxyError::Upstream(UpstreamError::NotOffered(_)) => (501, "5"),
        ProxyError::Upstream(_) => (502, "5"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_map_to_http() {
        assert_eq!(for_error(&ProxyError::Missing("number")), (400, "2"));
        assert_eq!(for_error(&ProxyError::TooManyIds), (400, "18"));
        assert_eq!(for_error(&ProxyError::DestinationNotAllowed), (403, "15"));
        assert_eq!(
            for_error(&ProxyError::Upstream(UpstreamError::Timeout)),
            (504, "5")
        );
        assert_eq!(
            for_error(&ProxyError::Upstream(UpstreamError::Malformed)),
            (502, "5")
        );
    }

    #[test]
    fn table_rows_as_specified() {
        let expect = [
            ("0", 200),
            ("1", 429),
            ("2", 502),
            ("3", 502),
            ("4", 502),
            ("5", 502),
            ("6", 404),
            ("7", 403),
            ("8", 502),
            ("9", 502),
            ("10", 409),
            ("15", 422),
            ("16", 400),
            ("17", 410),
            ("18", 400),
            ("19", 409),
            ("101", 404),
            ("SUCCESS", 200),
            ("nonsense", 502),
        ];
        for (s, h) in expect {
            assert_eq!(http_for(s), h, "status {s}");
        }
    }

    #[test]
    fn the_readme_shows_the_v2_table_as_the_code_has_it() {
        let readme = include_str!("../../../README.md");
        let missing: Vec<String> = v2_rows()
            .into_iter()
            .filter(|row| !readme.contains(row.as_str()))
            .collect();
        assert!(missing.is_empty(), "README lacks:\n{}", missing.join("\n"));
    }

    #[test]
    fn no_duplicate_rows() {
        for (i, a) in TABLE.iter().enumerate() {
            assert!(
                TABLE[i + 1..].iter().all(|b| b.verify != a.verify),
                "{} twice",
                a.verify
            );
        }
    }

    #[test]
    fn every_error_has_a_text_and_unknown_statuses_are_not_echoed() {
        for m in TABLE.iter().filter(|m| m.http >= 400) {
            assert!(!fallback_text(m.verify).is_empty(), "{}", m.verify);
        }
        assert_eq!(generic_text("nonsense"), Some(ACCOUNT_PROBLEM_TEXT));
        assert_eq!(generic_text("99"), Some(ACCOUNT_PROBLEM_TEXT));
        assert_eq!(
            generic_text("16"),
            None,
            "Verify's own words for known statuses"
        );
        assert_eq!(fallback_text("99"), ACCOUNT_PROBLEM_TEXT);
    }
}
