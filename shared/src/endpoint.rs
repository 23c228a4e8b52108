//! The pipeline every endpoint runs through: method and body checks, the endpoint's `parse`,
//! a test-number answer or secrets + the upstream call, the response, and exactly one log
//! line per invocation. An endpoint only says how to parse its input.

use std::convert::Infallible;
use std::net::IpAddr;
use std::time::Instant;

use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::caller::response::{self, Reply};
use crate::caller::{Fields, status};
use crate::config::Config;
use crate::deps::Deps;
use crate::error::ProxyError;
use crate::guard::Guarded;
use crate::verify::Call;

/// One endpoint: its name (route and log field) and how to read its input.
pub trait Endpoint {
    const NAME: &'static str;
    type Input: Guarded;

    fn parse(fields: &Fields, config: &Config) -> Result<Self::Input, ProxyError>;
}

/// What the log line records about one invocation; never a code, a secret or a full number.
#[derive(Default)]
struct Trace {
    number: Option<String>,
    upstream_ms: Option<u128>,
}

/// Runs one request through endpoint `E`; every failure is a JSON answer, never a panic.
pub async fn serve<E: Endpoint>(req: Request, deps: &Deps) -> Response<Body> {
    let started = Instant::now();
    let mut trace = Trace::default();
    let (resp, outcome, verify_status, error) = match run::<E>(&req, deps, &mut trace).await {
        Ok(Some(reply)) => {
            let verify_status = reply.verify_status.clone();
            let resp = response::from_reply(reply, &deps.config);
            (resp, "answered", verify_status, None)
        }
        Ok(None) => (
            response::preflight(&deps.config),
            "preflight",
            String::new(),
            None,
        ),
        Err(e) => {
            let resp = response::from_error(&e, &deps.config);
            let verify_status = status::for_error(&e).1.to_string();
            (resp, e.outcome(), verify_status, Some(e.to_string()))
        }
    };
    tracing::info!(
        endpoint = E::NAME,
        outcome,
        http_status = resp.status().as_u16(),
        verify_status,
        upstream_ms = trace.upstream_ms.map(|v| v as u64),
        duration_ms = started.elapsed().as_millis() as u64,
        number = trace.number.as_deref(),
        error = error.as_deref(),
        "invocation"
    );
    resp
}

/// [`serve`] in the shape `lambda_http::service_fn` wants.
pub async fn handle<E: Endpoint>(req: Request, deps: &Deps) -> Result<Response<Body>, Infallible> {
    Ok(serve::<E>(req, deps).await)
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
    trace.number = input.number().map(|n| n.masked());
    // The guard before anything that costs: a refusal sends nothing and loads no secret.
    let ticket = input.admit(&deps.guard, caller_ip(req)).await?;
    let answer = match input.test_answer(&config.test_numbers) {
        Some(answer) => answer,
        None => {
            let creds = deps.secrets.get().await?;
            let t = Instant::now();
            let result = input.send(&deps.client, &creds).await;
            trace.upstream_ms = Some(t.elapsed().as_millis());
            result?
        }
    };
    input.settle(&deps.guard, ticket, &answer).await?;
    Ok(Some(Reply::from_typed(&answer)))
}

/// The caller's address as API Gateway saw it (the TCP peer, never a header a client can
/// set); the local server fills the same field. `None` shares one bucket: never a free pass.
pub fn caller_ip(req: &Request) -> Option<IpAddr> {
    let ip = match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.identity.source_ip.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.http.source_ip.clone(),
        _ => None,
    }?;
    ip.parse().ok()
}
