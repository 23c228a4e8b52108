//! Typed Verify v1 requests and responses. Every documented field is here; unknown fields
//! are ignored on input, and absent ones are left out on output so callers see Verify's shape.

use serde::{Deserialize, Serialize};

use crate::error::UpstreamError;
use crate::log::mask_number;
use crate::verify::v2::Channel;
use crate::verify::values::{Command, Number, Pin, RequestId};

/// A verification to start (`/verify/json`).
#[derive(Debug, Clone, PartialEq)]
pub struct StartRequest {
    pub number: Number,
    pub brand: String,
    pub sender_id: Option<crate::verify::values::SenderId>,
    /// Validated pass-through options (code_length, pin_expiry, next_event_wait, workflow_id, lg).
    pub options: Vec<(&'static str, String)>,
    /// v2: the channel the caller asked to come first (only from the allowed ones).
    pub channel: Option<Channel>,
    /// What the workflow does when the code is never entered: how many deliveries, and how
    /// long the verification lives (the guard charges and waits by them).
    pub shape: Shape,
    /// The caller's `Idempotency-Key` (the guard keeps its first answer).
    pub idempotency_key: Option<String>,
    /// The authenticated caller (an API key's id, an IAM principal): its own budget.
    pub caller: Option<String>,
    /// The App Check token the start came with: starts are counted per token.
    pub app_token: Option<TokenUse>,
}

/// An App Check token as a start uses it (the caller layer reads it; the guard counts it).
#[derive(Clone, PartialEq, Eq)]
pub struct TokenUse {
    /// A limited-use token's `jti`, or the token's signature.
    pub id: String,
    pub limited_use: bool,
    /// `APP_CHECK_LIMITED_USE=request`: the start must spend a limited-use token.
    pub spend: bool,
    pub expires_ms: i64,
}

/// Never the id: with a token's signature it is half a bearer token.
impl std::fmt::Debug for TokenUse {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenUse")
            .field("limited_use", &self.limited_use)
            .field("spend", &self.spend)
            .finish_non_exhaustive()
    }
}

/// A start's deliveries and lifetime (`caller::policy::shape`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub deliveries: u8,
    /// How many of them are voice calls (priced apart, `GUARD_PRICES`' `voice.` entries).
    pub calls: u8,
    pub lifetime_ms: i64,
}

impl Default for Shape {
    /// Verify v1's workflow 1 with its default timings.
    fn default() -> Self {
        Self {
            deliveries: 3,
            calls: 2,
            lifetime_ms: 605_000,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct CheckRequest {
    pub request_id: RequestId,
    pub code: Pin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ControlRequest {
    pub request_id: RequestId,
    pub cmd: Command,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    pub request_ids: Vec<RequestId>,
}

pub trait HasStatus {
    fn status(&self) -> &str;
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct StartResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
    /// Present with status 7 (blocked network).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct CheckResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_price_messages_sent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ControlResponse {
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SearchCheck {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_received: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ip_address: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SearchEvent {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

/// One verification as search reports it (also the shape of a search error).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct SearchRecord {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_submitted: Option<String>,
    /// Empty while in progress on the simulator; undocumented on the real API.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_finalized: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checks: Option<Vec<SearchCheck>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_event_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_price_messages_sent: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<SearchEvent>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_text: Option<String>,
}

/// Search answers one object for `request_id` and a list for `request_ids`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(untagged)]
pub enum SearchResponse {
    Many {
        verification_requests: Vec<SearchRecord>,
    },
    One(Box<SearchRecord>),
}

impl HasStatus for StartResponse {
    fn status(&self) -> &str {
        &self.status
    }
}
impl HasStatus for CheckResponse {
    fn status(&self) -> &str {
        &self.status
    }
}
impl HasStatus for ControlResponse {
    fn status(&self) -> &str {
        &self.status
    }
}
impl HasStatus for SearchResponse {
    fn status(&self) -> &str {
        match self {
            // A list is a successful search whatever each entry's state.
            Self::Many { .. } => "0",
            Self::One(r) => &r.status,
        }
    }
}

impl SearchRecord {
    /// What callers get: the number masked, the codes users typed and the addresses they
    /// typed them from removed, and no `account_id` (it is our Vonage API key), so a leaked
    /// request_id is no phone-number, PIN or account oracle.
    pub fn redacted(mut self) -> Self {
        self.number = self.number.map(|n| mask_number(&n));
        self.account_id = None;
        if let Some(checks) = self.checks.as_mut() {
            for c in checks {
                c.code = None;
                c.ip_address = None;
            }
        }
        self
    }
}

impl SearchRecord {
    /// A record about a verification (its state), as opposed to an error (a number status).
    fn is_record(&self) -> bool {
        !self.status.is_empty() && !self.status.bytes().all(|b| b.is_ascii_digit())
    }
}

impl SearchResponse {
    /// Keeps only what the caller asked about: a lone record without `request_id` is given the
    /// one id asked for, one about another id is refused, and list entries for other ids are
    /// dropped (none left reads as Verify's 101).
    pub fn about(self, asked: &[RequestId]) -> Result<Self, UpstreamError> {
        let asked_for = |id: &str| asked.iter().any(|a| a.as_str() == id);
        match self {
            Self::One(mut r) if r.is_record() => match (r.request_id.as_deref(), asked) {
                (None | Some(""), [only]) => {
                    r.request_id = Some(only.as_str().to_string());
                    Ok(Self::One(r))
                }
                (Some(id), _) if asked_for(id) => Ok(Self::One(r)),
                (None | Some(""), _) => Err(UpstreamError::Incomplete("request_id")),
                _ => Err(UpstreamError::Foreign),
            },
            Self::One(r) => Ok(Self::One(r)),
            Self::Many {
                verification_requests,
            } => {
                let kept: Vec<SearchRecord> = verification_requests
                    .into_iter()
                    .filter(|r| r.is_record() && r.request_id.as_deref().is_some_and(asked_for))
                    .collect();
                if kept.is_empty() {
                    return Ok(Self::One(Box::new(SearchRecord {
                        request_id: Some(String::new()),
                        status: "101".into(),
                        error_text: Some("No response found".into()),
                        ..SearchRecord::default()
                    })));
                }
                Ok(Self::Many {
                    verification_requests: kept,
                })
            }
        }
    }

    pub fn redacted(self) -> Self {
        match self {
            Self::Many {
                verification_requests,
            } => Self::Many {
                verification_requests: verification_requests
                    .into_iter()
                    .map(SearchRecord::redacted)
                    .collect(),
            },
            Self::One(r) => Self::One(Box::new(r.redacted())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tolerates_unknown_fields_and_keeps_shape() {
        let r: CheckResponse = serde_json::from_str(
            r#"{"status":"16","request_id":"x","error_text":"t","new_field":1}"#,
        )
        .unwrap();
        assert_eq!(r.status, "16");
        let back = serde_json::to_value(&r).unwrap();
        assert_eq!(
            back,
            serde_json::json!({"status":"16","request_id":"x","error_text":"t"})
        );
    }

    #[test]
    fn search_shapes() {
        let many: SearchResponse =
            serde_json::from_str(r#"{"verification_requests":[{"status":"SUCCESS"}]}"#).unwrap();
        assert!(matches!(many, SearchResponse::Many { .. }));
        assert_eq!(many.status(), "0");
        let one: SearchResponse =
            serde_json::from_str(r#"{"status":"101","error_text":"No response found"}"#).unwrap();
        assert_eq!(one.status(), "101");
    }

    #[test]
    fn redaction_masks_number_and_codes() {
        let r = SearchRecord {
            number: Some("447700900123".into()),
            account_id: Some("abcd1234".into()),
            checks: Some(vec![SearchCheck {
                code: Some("1234".into()),
                ip_address: Some("198.51.100.7".into()),
                ..SearchCheck::default()
            }]),
            status: "SUCCESS".into(),
            ..SearchRecord::default()
        }
        .redacted();
        assert_eq!(r.number.as_deref(), Some("+44*******123"));
        assert_eq!(r.account_id, None, "our API key");
        let check = &r.checks.unwrap()[0];
        assert_eq!((&check.code, &check.ip_address), (&None, &None));
    }
}
