//! The upstream this deployment talks to: Verify v1 or v2 (`VERIFY_API`). One instance per
//! Lambda instance: its connection pool survives between invocations (keep-alive).

use std::time::Duration;

use crate::error::UpstreamError;
use crate::verify::secrets::Credentials;
use crate::verify::types::{
    CheckRequest, CheckResponse, ControlRequest, ControlResponse, SearchRequest, SearchResponse,
    StartRequest, StartResponse,
};
use crate::verify::v1_client::V1Client;
use crate::verify::v2::{V2Client, Workflow};

pub enum VerifyClient {
    V1(V1Client),
    /// Boxed: it carries its workflow and JWT cache, built once per instance.
    V2(Box<V2Client>),
}

impl VerifyClient {
    /// `extra_roots`: trusted besides the compiled-in roots (`TLS_EXTRA_ROOTS_FILE`).
    pub fn v1(
        base_url: &str,
        timeout: Duration,
        extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Self, reqwest::Error> {
        Ok(Self::V1(V1Client::new(base_url, timeout, extra_roots)?))
    }

    pub fn v2(
        base_url: &str,
        timeout: Duration,
        workflow: Workflow,
        extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Self, reqwest::Error> {
        Ok(Self::V2(Box::new(V2Client::new(
            base_url,
            timeout,
            workflow,
            extra_roots,
        )?)))
    }

    /// Opens the pooled connection (TCP and TLS) to Verify with a `HEAD /`, which starts
    /// nothing and needs no credentials: the first request then finds it open. Any answer
    /// will do; a failure is only logged (the request will try again).
    pub async fn warm_up(&self) {
        let (http, base) = match self {
            Self::V1(c) => (c.http(), c.base()),
            Self::V2(c) => (c.http(), c.base()),
        };
        if let Err(e) = http.head(format!("{base}/")).send().await {
            tracing::warn!(error = %e, "warm-up: could not reach Verify");
        }
    }

    /// With v2: the configured workflow (search and the try-it page need it).
    pub fn v2_workflow(&self) -> Option<&Workflow> {
        match self {
            Self::V1(_) => None,
            Self::V2(c) => Some(c.workflow()),
        }
    }

    pub(crate) async fn start(
        &self,
        creds: &Credentials,
        req: &StartRequest,
    ) -> Result<StartResponse, UpstreamError> {
        match self {
            Self::V1(c) => c.start(creds, req).await,
            Self::V2(c) => c.start(creds, req).await,
        }
    }

    pub(crate) async fn check(
        &self,
        creds: &Credentials,
        req: &CheckRequest,
    ) -> Result<CheckResponse, UpstreamError> {
        match self {
            Self::V1(c) => c.check(creds, req).await,
            Self::V2(c) => c.check(creds, req).await,
        }
    }

    pub(crate) async fn control(
        &self,
        creds: &Credentials,
        req: &ControlRequest,
    ) -> Result<ControlResponse, UpstreamError> {
        match self {
            Self::V1(c) => c.control(creds, req).await,
            Self::V2(c) => c.control(creds, req).await,
        }
    }

    /// v2 has no search: its answers come from recorded outcomes (see `guard/`), never here.
    pub(crate) async fn search(
        &self,
        creds: &Credentials,
        req: &SearchRequest,
    ) -> Result<SearchResponse, UpstreamError> {
        match self {
            Self::V1(c) => c.search(creds, req).await,
            Self::V2(_) => Err(UpstreamError::NotOffered("search")),
        }
    }
}
