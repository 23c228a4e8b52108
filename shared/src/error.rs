//! Every way a call can fail before or instead of a Verify answer. What each one means for the
//! caller (HTTP status, Verify-style `status`) is decided in one place: `caller/status.rs`.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum UpstreamError {
    #[error("Verify did not answer within the timeout")]
    Timeout,
    #[error("Verify could not be reached")]
    Unreachable,
    #[error("Verify answered HTTP {0}")]
    Http(u16),
    #[error("Verify sent a response that is not valid Verify JSON")]
    Malformed,
    /// A success without what the caller needs (e.g. a start with no `request_id`).
    #[error("Verify answered success without {0}")]
    Incomplete(&'static str),
    /// A search answer about a request the caller did not ask for: never passed on.
    #[error("Verify answered a search with a record for another request")]
    Foreign,
    /// A success about something else than what was asked (another request id, the other
    /// command) or with an id this proxy would refuse: never passed on as a success.
    #[error("Verify answered success about {0}")]
    Mismatch(&'static str),
    /// The configured credentials cannot be used for this call (an unusable private key, or
    /// application credentials for v1).
    /// The reason is logged where it happens; callers read only that we are misconfigured.
    #[error("The verification service is misconfigured.")]
    Credentials(String),
    /// What the configured upstream cannot answer (e.g. a v2 search with no outcome known);
    /// the text is the caller's.
    #[error("{0}")]
    NotOffered(&'static str),
}

/// Loading the Vonage credentials failed (the cause is for the log, never for the caller).
#[derive(Debug, Error)]
pub enum SecretsError {
    #[error(
        "no credentials configured: set VERIFY_API_KEY_PARAM/VERIFY_API_SECRET_PARAM (SSM) or VERIFY_API_KEY/VERIFY_API_SECRET, or for v2 VERIFY_APPLICATION_ID with VERIFY_PRIVATE_KEY_PARAM (SSM) or VERIFY_PRIVATE_KEY"
    )]
    NotConfigured,
    #[error("SSM parameters not found: {0}")]
    Missing(String),
    #[error("SSM request failed: {0}")]
    Ssm(String),
}

#[derive(Debug, Error)]
pub enum ProxyError {
    #[error("method {0} is not allowed: use POST")]
    MethodNotAllowed(String),
    #[error(
        "unsupported content type {0:?}: send application/json or application/x-www-form-urlencoded"
    )]
    UnsupportedMediaType(String),
    #[error("request body is larger than {0} bytes")]
    PayloadTooLarge(usize),
    #[error("request body is not valid {0}")]
    MalformedBody(&'static str),
    #[error("Your request is incomplete and missing the mandatory parameter: {0}")]
    Missing(&'static str),
    #[error("Invalid value for param: {param} ({reason})")]
    Invalid { param: &'static str, reason: String },
    #[error("Too many request_ids provided: at most 10")]
    TooManyIds,
    #[error("parameter {0} is not allowed by this deployment")]
    NotAllowed(String),
    #[error("This service does not send codes to that destination")]
    DestinationNotAllowed,
    /// A valid number of a line type the first delivery does not go to (SMS to a landline,
    /// anything to premium rate).
    #[error("This service does not send {channel} codes to {line} numbers")]
    LineTypeNotAllowed {
        line: &'static str,
        channel: &'static str,
    },
    /// A guard limit; the text never says which (the rule is for the log only).
    #[error("Too many attempts. Please try again later.")]
    Limited {
        rule: &'static str,
        retry_after: u64,
    },
    /// A start to a number with a live verification (Verify's 10), without its request_id.
    #[error("A code was already sent to this number. Please wait before asking for another.")]
    AlreadySent { retry_after: u64 },
    /// A request id this deployment never issued: refused without calling Vonage.
    #[error("The request was not found or is no longer active.")]
    UnknownRequest,
    /// The same for `/search` (Verify's 101).
    #[error("No response found")]
    NoSuchRequest,
    /// Too many wrong codes for this number across its requests (answered as Verify's 17).
    #[error("The wrong code was provided too many times. Please try again later.")]
    CodeLocked { retry_after: u64 },
    /// `Idempotency-Key` reused with another body (the IETF draft's 422).
    #[error("This Idempotency-Key was used with another request.")]
    IdempotencyMismatch,
    /// `Idempotency-Key` of a request still in progress (the draft's 409).
    #[error("A request with this Idempotency-Key is still in progress. Please retry shortly.")]
    IdempotencyInFlight,
    #[error("The verification service is temporarily unavailable. Please try again later.")]
    GuardUnavailable,
    /// The caller did not prove who it is; `reason` is for the log only (e.g. `token_expired`).
    #[error("Missing or invalid caller credentials")]
    Unauthorized { reason: &'static str },
    /// The caller's token could not be checked (its keys could not be fetched).
    #[error("The verification service is temporarily unavailable. Please try again later.")]
    AuthUnavailable,
    /// A browser request from a page this deployment does not serve.
    #[error("requests from this origin are not allowed")]
    OriginNotAllowed,
    #[error("this deployment accepts only application/json bodies")]
    JsonOnly,
    #[error("verification service unavailable: credentials could not be loaded")]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl ProxyError {
    /// Whether a start that ended in this error certainly sent nothing: Verify was not
    /// reached, refused it with an HTTP error, or was never called (credentials). A timeout or
    /// an unreadable answer may follow a sent message, so those keep what the start counted.
    pub fn certainly_unsent(&self) -> bool {
        match self {
            Self::Upstream(e) => matches!(
                e,
                UpstreamError::Unreachable
                    | UpstreamError::Http(_)
                    | UpstreamError::Credentials(_)
                    | UpstreamError::NotOffered(_)
            ),
            Self::Secrets(_) => true,
            _ => false,
        }
    }

    pub fn invalid(param: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            param,
            reason: reason.into(),
        }
    }

    /// Seconds for a `Retry-After` header, where waiting helps.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Limited { retry_after, .. }
            | Self::AlreadySent { retry_after }
            | Self::CodeLocked { retry_after } => Some(*retry_after),
            Self::IdempotencyInFlight => Some(1),
            Self::GuardUnavailable | Self::AuthUnavailable => Some(5),
            _ => None,
        }
    }

    /// Short machine-readable outcome for the log line.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Limited { rule, .. } => rule,
            Self::AlreadySent { .. } => "already_sent",
            Self::UnknownRequest | Self::NoSuchRequest => "unknown_request",
            Self::CodeLocked { .. } => "code_locked",
            Self::IdempotencyMismatch => "idempotency_mismatch",
            Self::IdempotencyInFlight => "idempotency_in_flight",
            Self::GuardUnavailable => "guard_unavailable",
            Self::Unauthorized { reason } => reason,
            Self::AuthUnavailable => "auth_unavailable",
            Self::OriginNotAllowed => "origin_not_allowed",
            Self::Secrets(_) => "secrets_error",
            Self::Upstream(UpstreamError::Timeout) => "upstream_timeout",
            Self::Upstream(_) => "upstream_error",
            _ => "rejected",
        }
    }
}
