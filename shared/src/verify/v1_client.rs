//! The Verify v1 client. One instance per Lambda instance: its connection pool survives
//! between invocations (keep-alive). Credentials travel in the POST body, never in a URL.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::error::UpstreamError;
use crate::verify::secrets::Credentials;
use crate::verify::types::{
    CheckRequest, CheckResponse, ControlRequest, ControlResponse, SearchRequest, SearchResponse,
    StartRequest, StartResponse,
};

#[derive(Clone)]
pub struct V1Client {
    http: reqwest::Client,
    base: String,
}

impl V1Client {
    /// `base_url` without `/verify`, e.g. `https://api.nexmo.com` or the simulator's address.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Self, reqwest::Error> {
        let http = crate::verify::http::http_client(timeout, extra_roots)?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
        })
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// Starts a verification. Never retried: a retry after a lost answer could send a
    /// second SMS (and the first may already be in flight).
    pub(crate) async fn start(
        &self,
        creds: &Credentials,
        req: &StartRequest,
    ) -> Result<StartResponse, UpstreamError> {
        let mut form = vec![
            ("number", req.number.digits()),
            ("brand", req.brand.as_str()),
        ];
        if let Some(s) = &req.sender_id {
            form.push(("sender_id", s.as_str()));
        }
        form.extend(req.options.iter().map(|(k, v)| (*k, v.as_str())));
        self.post("/verify/json", creds, &form).await
    }

    /// Checks a code. Not retried: a repeated wrong code would count twice.
    pub(crate) async fn check(
        &self,
        creds: &Credentials,
        req: &CheckRequest,
    ) -> Result<CheckResponse, UpstreamError> {
        self.post(
            "/verify/check/json",
            creds,
            &[
                ("request_id", req.request_id.as_str()),
                ("code", req.code.expose()),
            ],
        )
        .await
    }

    /// Cancel or trigger the next event. Not retried: a repeated trigger sends another message.
    pub(crate) async fn control(
        &self,
        creds: &Credentials,
        req: &ControlRequest,
    ) -> Result<ControlResponse, UpstreamError> {
        self.post(
            "/verify/control/json",
            creds,
            &[
                ("request_id", req.request_id.as_str()),
                ("cmd", req.cmd.as_str()),
            ],
        )
        .await
    }

    /// Searches 1 to 10 requests. Read-only, so retried once on a transport error or 5xx.
    pub(crate) async fn search(
        &self,
        creds: &Credentials,
        req: &SearchRequest,
    ) -> Result<SearchResponse, UpstreamError> {
        // Search is read-only; `Call` for `SearchRequest` redacts what it returns.
        let form: Vec<(&str, &str)> = match req.request_ids.as_slice() {
            [one] => vec![("request_id", one.as_str())],
            many => many.iter().map(|id| ("request_ids", id.as_str())).collect(),
        };
        match self.post("/verify/search/json", creds, &form).await {
            Err(UpstreamError::Unreachable | UpstreamError::Http(500..=599)) => {
                tokio::time::sleep(Duration::from_millis(100)).await;
                self.post("/verify/search/json", creds, &form).await
            }
            other => other,
        }
    }

    async fn post<T: DeserializeOwned>(
        &self,
        path: &str,
        creds: &Credentials,
        params: &[(&str, &str)],
    ) -> Result<T, UpstreamError> {
        let Credentials::Key {
            api_key,
            api_secret,
        } = creds
        else {
            tracing::error!(
                "verify v1: application credentials configured; v1 needs a key and secret"
            );
            return Err(UpstreamError::Credentials(
                "Verify v1 needs an API key and secret".into(),
            ));
        };
        let mut form: Vec<(&str, &str)> = vec![("api_key", api_key), ("api_secret", api_secret)];
        form.extend_from_slice(params);
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .form(&form)
            .send()
            .await
            .map_err(transport_error)?;
        let status = resp.status();
        if !status.is_success() {
            return Err(UpstreamError::Http(status.as_u16()));
        }
        let body = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout
            } else {
                UpstreamError::Malformed
            }
        })?;
        serde_json::from_slice(&body).map_err(|_| UpstreamError::Malformed)
    }
}

fn transport_error(e: reqwest::Error) -> UpstreamError {
    if e.is_timeout() {
        UpstreamError::Timeout
    } else {
        UpstreamError::Unreachable
    }
}
