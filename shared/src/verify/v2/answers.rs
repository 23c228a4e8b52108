//! Every v2 answer the proxy expects, as the Verify v1 `status` with the same meaning: the
//! rest of the proxy (the guard, `caller/status.rs`'s HTTP table, the texts) then treats a v2
//! answer exactly as the v1 answer it corresponds to, so callers see one API. The README's
//! "v2 answers" table is this table with the HTTP status `caller/status.rs` gives each row.

use serde::Deserialize;

use crate::error::UpstreamError;
use crate::verify::types::{CheckResponse, ControlResponse, StartResponse};

/// The v2 call an answer is to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `POST /v2/verify`
    Start,
    /// `POST /v2/verify/{id}`
    Check,
    /// `DELETE /v2/verify/{id}`
    Cancel,
    /// `POST /v2/verify/{id}/next_workflow`
    Next,
}

impl Op {
    pub fn name(self) -> &'static str {
        match self {
            Self::Start => "start",
            Self::Check => "check",
            Self::Cancel => "cancel",
            Self::Next => "next_workflow",
        }
    }
}

/// A row: the call (`None`: any), the v2 HTTP status (500 stands for every 5xx), whether the
/// problem must say "too many" (v2 tells a terminated workflow from an expired one only in
/// words), and the v1 status it becomes. The first matching row wins.
pub struct V2Answer {
    pub op: Option<Op>,
    pub http: u16,
    pub too_many: bool,
    pub verify: &'static str,
    pub v2_meaning: &'static str,
}

const fn row(
    op: Option<Op>,
    http: u16,
    too_many: bool,
    verify: &'static str,
    v2_meaning: &'static str,
) -> V2Answer {
    V2Answer {
        op,
        http,
        too_many,
        verify,
        v2_meaning,
    }
}

pub const V2_ANSWERS: &[V2Answer] = &[
    row(Some(Op::Start), 202, false, "0", "verification started"),
    row(Some(Op::Check), 200, false, "0", "right code"),
    row(Some(Op::Cancel), 204, false, "0", "cancelled"),
    row(Some(Op::Next), 200, false, "0", "next channel started"),
    row(
        Some(Op::Start),
        409,
        false,
        "10",
        "concurrent verification to this number",
    ),
    row(Some(Op::Check), 400, false, "16", "invalid code"),
    row(
        Some(Op::Check),
        410,
        true,
        "17",
        "too many wrong codes: workflow terminated",
    ),
    row(Some(Op::Check), 410, false, "6", "request expired"),
    row(Some(Op::Check), 422, true, "17", "too many attempts"),
    row(Some(Op::Check), 422, false, "16", "invalid code"),
    row(
        Some(Op::Check),
        409,
        false,
        "19",
        "the current channel takes no code (e.g. silent auth)",
    ),
    row(
        None,
        409,
        false,
        "19",
        "conflict: cannot cancel now, or no more channels",
    ),
    row(
        None,
        400,
        false,
        "3",
        "bad request (after our validation: our configuration)",
    ),
    row(None, 401, false, "4", "our credentials or JWT refused"),
    row(None, 402, false, "9", "our account is out of credit"),
    row(
        None,
        403,
        false,
        "8",
        "our account may not do this (e.g. a channel not enabled)",
    ),
    row(
        None,
        404,
        false,
        "6",
        "request not found, finished or verified already",
    ),
    row(
        None,
        422,
        false,
        "3",
        "invalid parameters (after our validation: our configuration)",
    ),
    row(None, 429, false, "1", "rate limit hit"),
    row(None, 500, false, "5", "Vonage internal error (any 5xx)"),
];

/// An RFC 7807 problem as v2 sends it (members it may leave out are optional).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct Problem {
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub detail: Option<String>,
    /// On a concurrent start: the live verification's id (never passed to callers).
    #[serde(default)]
    pub request_id: Option<String>,
    #[serde(default)]
    pub invalid_parameters: Option<serde_json::Value>,
}

impl Problem {
    fn says_too_many(&self) -> bool {
        [&self.title, &self.detail]
            .into_iter()
            .flatten()
            .any(|t| t.to_ascii_lowercase().contains("too many"))
    }
}

/// The v1 status for a v2 answer; `None` for an HTTP status v2 does not answer with.
pub fn verify_status(op: Op, http: u16, problem: &Problem) -> Option<&'static str> {
    let http = if (500..=599).contains(&http) {
        500
    } else {
        http
    };
    V2_ANSWERS
        .iter()
        .find(|r| {
            r.op.is_none_or(|o| o == op)
                && r.http == http
                && (!r.too_many || problem.says_too_many())
        })
        .map(|r| r.verify)
}

/// One v2 answer: its HTTP status and body (empty for 204).
pub struct Answer<'a> {
    pub op: Op,
    pub http: u16,
    pub body: &'a [u8],
}

impl Answer<'_> {
    /// The v1 status and, for errors, the problem; a success body is parsed by the caller.
    fn classify(&self) -> Result<(&'static str, Problem), UpstreamError> {
        let problem = if (200..300).contains(&self.http) {
            Problem::default()
        } else {
            // A proxy or load balancer may answer without a problem body: status alone counts.
            serde_json::from_slice(self.body).unwrap_or_default()
        };
        let status =
            verify_status(self.op, self.http, &problem).ok_or(UpstreamError::Http(self.http))?;
        if status != "0" {
            tracing::warn!(
                op = self.op.name(),
                v2_http = self.http,
                v2_type = problem.kind.as_deref(),
                v2_title = problem.title.as_deref(),
                v2_detail = problem.detail.as_deref(),
                invalid_parameters = problem.invalid_parameters.as_ref().map(|v| v.to_string()),
                verify_status = status,
                "verify v2 refused"
            );
        }
        Ok((status, problem))
    }

    pub fn start(&self) -> Result<StartResponse, UpstreamError> {
        let (status, problem) = self.classify()?;
        if status == "0" {
            #[derive(Deserialize)]
            struct Started {
                request_id: String,
            }
            let started: Started =
                serde_json::from_slice(self.body).map_err(|_| UpstreamError::Malformed)?;
            return Ok(StartResponse {
                request_id: Some(started.request_id),
                status: status.into(),
                ..StartResponse::default()
            });
        }
        Ok(StartResponse {
            // Only a concurrent start's id matters (the guard keeps it from callers).
            request_id: problem.request_id.filter(|_| status == "10"),
            status: status.into(),
            // v2's details are free text (logged above): callers read the proxy's
            // own words for the status, the same whichever upstream.
            error_text: None,
            network: None,
        })
    }

    pub fn check(&self, request_id: &str) -> Result<CheckResponse, UpstreamError> {
        let (status, _) = self.classify()?;
        if status == "0" {
            #[derive(Deserialize)]
            struct Checked {
                status: Option<String>,
            }
            let checked: Checked =
                serde_json::from_slice(self.body).map_err(|_| UpstreamError::Malformed)?;
            // v2 says `completed`; anything else is not a verified number.
            if checked.status.as_deref() != Some("completed") {
                return Err(UpstreamError::Incomplete("status completed"));
            }
        }
        Ok(CheckResponse {
            request_id: Some(request_id.to_string()),
            status: status.into(),
            // v2's details are free text (logged above): callers read the proxy's
            // own words for the status, the same whichever upstream.
            error_text: None,
            ..CheckResponse::default()
        })
    }

    pub fn control(&self, command: &str) -> Result<ControlResponse, UpstreamError> {
        let (status, _) = self.classify()?;
        Ok(ControlResponse {
            command: (status == "0").then(|| command.to_string()),
            status: status.into(),
            // v2's details are free text (logged above): callers read the proxy's
            // own words for the status, the same whichever upstream.
            error_text: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(title: &str, detail: &str) -> Problem {
        Problem {
            title: Some(title.into()),
            detail: Some(detail.into()),
            ..Problem::default()
        }
    }

    #[test]
    fn rows_as_documented() {
        let none = Problem::default();
        let too_many = p(
            "Invalid Code",
            "An incorrect code has been provided too many times. Workflow terminated.",
        );
        let cases = [
            (Op::Start, 202, &none, Some("0")),
            (Op::Start, 409, &none, Some("10")),
            (Op::Start, 422, &none, Some("3")),
            (Op::Start, 402, &none, Some("9")),
            (Op::Start, 503, &none, Some("5")),
            (Op::Check, 400, &none, Some("16")),
            (Op::Check, 410, &too_many, Some("17")),
            (Op::Check, 410, &none, Some("6")),
            (Op::Check, 422, &too_many, Some("17")),
            (Op::Check, 409, &none, Some("19")),
            (Op::Cancel, 204, &none, Some("0")),
            (Op::Cancel, 409, &none, Some("19")),
            (Op::Cancel, 404, &none, Some("6")),
            (Op::Next, 200, &none, Some("0")),
            (Op::Next, 429, &none, Some("1")),
            (Op::Next, 401, &none, Some("4")),
            (Op::Check, 403, &none, Some("8")),
            (Op::Check, 418, &none, None),
            (Op::Cancel, 200, &none, None),
        ];
        for (op, http, problem, want) in cases {
            assert_eq!(verify_status(op, http, problem), want, "{op:?} {http}");
        }
    }

    #[test]
    fn a_success_without_what_callers_need_is_no_success() {
        let a = Answer {
            op: Op::Start,
            http: 202,
            body: b"{}",
        };
        assert!(matches!(a.start(), Err(UpstreamError::Malformed)));
        let a = Answer {
            op: Op::Check,
            http: 200,
            body: br#"{"request_id":"x","status":"pending"}"#,
        };
        assert!(matches!(a.check("x"), Err(UpstreamError::Incomplete(_))));
        let a = Answer {
            op: Op::Check,
            http: 400,
            body: b"<html>bad gateway</html>",
        };
        assert_eq!(a.check("x").unwrap().status, "16", "status alone counts");
    }
}
