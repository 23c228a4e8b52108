//! The skeleton every endpoint runs through: method and body checks, parsing, validation,
//! secrets, the upstream call, the response, and exactly one log line per invocation.

use std::future::Future;
use std::time::Instant;

use lambda_http::http::Method;
use lambda_http::{Body, Request, Response};
use serde::Serialize;
use serde_json::Value;

use crate::client::VerifyClient;
use crate::config::Config;
use crate::deps::Deps;
use crate::error::{ProxyError, UpstreamError};
use crate::fields::Fields;
use crate::mask;
use crate::response;
use crate::secrets::Credentials;
use crate::types::HasStatus;

/// An upstream answer, typed by the endpoint and kept as JSON for the caller.
#[derive(Debug, Clone)]
pub struct Reply {
    pub verify_status: String,
    pub body: Value,
}

impl Reply {
    pub fn from_typed<T: Serialize + HasStatus>(typed: &T) -> Self {
        Self {
            verify_status: typed.status().to_string(),
            body: serde_json::to_value(typed).unwrap_or(Value::Null),
        }
    }
}

/// One endpoint: how to read its input, and which Verify call it makes.
pub trait Endpoint {
    const NAME: &'static str;
    type Input: Send + Sync;

    fn parse(fields: &Fields, config: &Config) -> Result<Self::Input, ProxyError>;

    /// The phone number involved, if any, for the (masked) log line.
    fn number(_input: &Self::Input) -> Option<&str> {
        None
    }

    /// An answer given without calling Verify (configured test numbers); `None` normally.
    fn local_answer(_input: &Self::Input, _config: &Config) -> Option<Reply> {
        None
    }

    fn call(
        input: &Self::Input,
        creds: &Credentials,
        client: &VerifyClient,
    ) -> impl Future<Output = Result<Reply, UpstreamError>> + Send;
}

/// What the log line records about one invocation; never a code, a secret or a full number.
#[derive(Default)]
struct Trace {
    number: Option<String>,
    upstream_ms: Option<u128>,
    verify_status: Option<String>,
}

pub async fn serve<E: Endpoint>(req: Request, deps: &Deps) -> Response<Body> {
    let started = Instant::now();
    let mut trace = Trace::default();
    let (resp, outcome, error) = match run::<E>(&req, deps, &mut trace).await {
        Ok(Some(reply)) => {
            trace.verify_status = Some(reply.verify_status.clone());
            (response::from_reply(reply, &deps.config), "answered", None)
        }
        Ok(None) => (response::preflight(&deps.config), "preflight", None),
        Err(e) => {
            let outcome = e.outcome();
            let resp = response::from_error(&e, &deps.config);
            trace.verify_status = Some(e.statuses().1.to_string());
            (resp, outcome, Some(e.to_string()))
        }
    };
    tracing::info!(
        endpoint = E::NAME,
        outcome,
        http_status = resp.status().as_u16(),
        verify_status = trace.verify_status.as_deref().unwrap_or(""),
        upstream_ms = trace.upstream_ms.map(|v| v as u64),
        duration_ms = started.elapsed().as_millis() as u64,
        number = trace.number.as_deref(),
        error = error.as_deref(),
        "invocation"
    );
    resp
}

async fn run<E: Endpoint>(
    req: &Request,
    deps: &Deps,
    trace: &mut Trace,
) -> Result<Option<Reply>, ProxyError> {
    let config = &deps.config;
    match *req.method() {
        Method::POST => {}
        Method::OPTIONS if config.cors_origin.is_some() => return Ok(None),
        ref other => return Err(ProxyError::MethodNotAllowed(other.to_string())),
    }
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    let fields = Fields::parse(content_type, req.body().as_ref(), config.max_body_bytes)?;
    let input = E::parse(&fields, config)?;
    trace.number = E::number(&input).map(mask::number);
    if let Some(reply) = E::local_answer(&input, config) {
        return Ok(Some(reply));
    }
    // Secrets only after validation: bad input costs no SSM call.
    let creds = deps.secrets.get().await?;
    let t = Instant::now();
    let result = E::call(&input, &creds, &deps.client).await;
    trace.upstream_ms = Some(t.elapsed().as_millis());
    Ok(Some(result?))
}
