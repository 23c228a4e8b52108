//! The Verify v2 client: JSON to `/v2/verify`, authenticated with Basic (key:secret) or an
//! application JWT, answers translated into v1 shapes by `answers.rs`. Like v1, nothing that
//! can send a message or count an attempt is retried.

use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::error::UpstreamError;
use crate::verify::secrets::Credentials;
use crate::verify::types::{
    CheckRequest, CheckResponse, ControlRequest, ControlResponse, StartRequest, StartResponse,
};
use crate::verify::v2::answers::{Answer, Op};
use crate::verify::v2::app_jwt::AppJwt;
use crate::verify::v2::workflow::{Channel, Workflow};
use crate::verify::values::Command;

pub struct V2Client {
    http: reqwest::Client,
    base: String,
    workflow: Workflow,
    jwt: AppJwt,
}

impl V2Client {
    /// `base_url` without `/v2/verify`, e.g. `https://api.nexmo.com` or the simulator's address.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        workflow: Workflow,
        extra_roots: &[rustls::pki_types::CertificateDer<'static>],
    ) -> Result<Self, reqwest::Error> {
        let http = crate::verify::http::http_client(timeout, extra_roots)?;
        Ok(Self {
            http,
            base: base_url.trim_end_matches('/').to_string(),
            workflow,
            jwt: AppJwt::default(),
        })
    }

    pub fn workflow(&self) -> &Workflow {
        &self.workflow
    }

    pub(crate) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    /// The start body: the configured workflow (the caller's channel first when allowed), the
    /// code length and language from the request's options or the configuration.
    pub fn start_body(&self, req: &StartRequest) -> Value {
        let w = &self.workflow;
        let to = req.number.digits();
        let steps: Vec<Value> = w
            .steps(req.channel)
            .into_iter()
            .map(|c| {
                let mut step = json!({ "channel": c.as_str(), "to": to });
                let from = match c {
                    Channel::Sms => req.sender_id.as_ref().map(|s| s.as_str()),
                    Channel::Whatsapp => w.whatsapp_from.as_deref(),
                    Channel::Voice => None,
                };
                if let Some(f) = from {
                    step["from"] = json!(f);
                }
                step
            })
            .collect();
        let option = |name: &str| {
            req.options
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.as_str())
        };
        let code_length = option("code_length")
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(w.code_length);
        let mut body = json!({
            "brand": req.brand,
            "workflow": steps,
            "channel_timeout": w.channel_timeout,
            "code_length": code_length,
        });
        if let Some(locale) = option("lg").or(w.locale.as_deref()) {
            body["locale"] = json!(locale);
        }
        body
    }

    /// Never retried: a retry after a lost answer could send a second message.
    pub(crate) async fn start(
        &self,
        creds: &Credentials,
        req: &StartRequest,
    ) -> Result<StartResponse, UpstreamError> {
        let body = self.start_body(req);
        let (http, bytes) = self
            .send(creds, reqwest::Method::POST, "/v2/verify", Some(&body))
            .await?;
        Answer {
            op: Op::Start,
            http,
            body: &bytes,
        }
        .start()
    }

    /// Not retried: a repeated wrong code would count twice.
    pub(crate) async fn check(
        &self,
        creds: &Credentials,
        req: &CheckRequest,
    ) -> Result<CheckResponse, UpstreamError> {
        let id = req.request_id.as_str();
        let body = json!({ "code": req.code.expose() });
        let (http, bytes) = self
            .send(
                creds,
                reqwest::Method::POST,
                &format!("/v2/verify/{id}"),
                Some(&body),
            )
            .await?;
        Answer {
            op: Op::Check,
            http,
            body: &bytes,
        }
        .check(id)
    }

    /// Cancel (`DELETE`) or the next channel (`next_workflow`). Not retried.
    pub(crate) async fn control(
        &self,
        creds: &Credentials,
        req: &ControlRequest,
    ) -> Result<ControlResponse, UpstreamError> {
        let id = req.request_id.as_str();
        let (op, method, path) = match req.cmd {
            Command::Cancel => (
                Op::Cancel,
                reqwest::Method::DELETE,
                format!("/v2/verify/{id}"),
            ),
            Command::TriggerNextEvent => (
                Op::Next,
                reqwest::Method::POST,
                format!("/v2/verify/{id}/next_workflow"),
            ),
        };
        let (http, bytes) = self.send(creds, method, &path, None).await?;
        Answer {
            op,
            http,
            body: &bytes,
        }
        .control(req.cmd.as_str())
    }

    /// One call: its HTTP status and body (every status is an answer to classify).
    async fn send(
        &self,
        creds: &Credentials,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Vec<u8>), UpstreamError> {
        let auth = match creds {
            Credentials::Key {
                api_key,
                api_secret,
            } => {
                let pair = format!("{api_key}:{api_secret}");
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(pair)
                )
            }
            Credentials::App {
                application_id,
                private_key_pem,
            } => {
                let token = self
                    .jwt
                    .token(application_id, private_key_pem)
                    .await
                    .map_err(|e| {
                        tracing::error!(error = %e, "verify v2: no application JWT");
                        UpstreamError::Credentials(e)
                    })?;
                format!("Bearer {token}")
            }
        };
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(reqwest::header::AUTHORIZATION, auth)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(b) = body {
            request = request.json(b);
        }
        let resp = request.send().await.map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout
            } else {
                UpstreamError::Unreachable
            }
        })?;
        let http = resp.status().as_u16();
        let bytes = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                UpstreamError::Timeout
            } else {
                UpstreamError::Malformed
            }
        })?;
        Ok((http, bytes.to_vec()))
    }
}
