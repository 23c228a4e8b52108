//! Every way a call can fail before or instead of a Verify answer. `response.rs` maps these
//! to HTTP in one place.

use thiserror::Error;

use crate::secrets::SecretsError;

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
    #[error("verification service unavailable: credentials could not be loaded")]
    Secrets(#[from] SecretsError),
    #[error(transparent)]
    Upstream(#[from] UpstreamError),
}

impl ProxyError {
    pub fn invalid(param: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            param,
            reason: reason.into(),
        }
    }

    /// (HTTP status, Verify-style `status` for clients that only read that field).
    pub fn statuses(&self) -> (u16, &'static str) {
        match self {
            Self::MethodNotAllowed(_) => (405, "3"),
            Self::UnsupportedMediaType(_) => (415, "3"),
            Self::PayloadTooLarge(_) => (413, "3"),
            Self::MalformedBody(_) => (400, "3"),
            Self::Missing(_) => (400, "2"),
            Self::Invalid { .. } | Self::NotAllowed(_) => (400, "3"),
            Self::TooManyIds => (400, "18"),
            Self::DestinationNotAllowed => (403, "15"),
            Self::Secrets(_) => (500, "5"),
            Self::Upstream(UpstreamError::Timeout) => (504, "5"),
            Self::Upstream(_) => (502, "5"),
        }
    }

    /// Short machine-readable outcome for the log line.
    pub fn outcome(&self) -> &'static str {
        match self {
            Self::Secrets(_) => "secrets_error",
            Self::Upstream(UpstreamError::Timeout) => "upstream_timeout",
            Self::Upstream(_) => "upstream_error",
            _ => "rejected",
        }
    }
}
