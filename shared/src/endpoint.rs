//! The pipeline every endpoint runs through: method, origin and caller checks, the body, the
//! endpoint's `parse`, the guard, a test-number answer or secrets + the upstream call, the
//! response (with a verification token after a successful check), and exactly one log line
//! (and one metrics line) per invocation. An endpoint only says how to parse its input.

use std::convert::Infallible;
use std::time::Instant;

use lambda_http::http::Method;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, RequestExt, Response};

use crate::caller::end_user::{self, caller_ip};
use crate::caller::fields::{is_json_media, media};
use crate::caller::response::{self, Reply};
use crate::caller::{Fields, status};
use crate::config::{AuthMode, Config};
use crate::deps::Deps;
use crate::error::ProxyError;
use crate::guard::{Guard, Guarded, Seen};
use crate::metrics::{self, Facts};
use crate::verify::Call;
use crate::verify::types::HasStatus;

/// One endpoint: its name (route and log field) and how to read its input.
pub trait Endpoint {
    const NAME: &'static str;
    type Input: Guarded;

    fn parse(fields: &Fields, config: &Config) -> Result<Self::Input, ProxyError>;

    /// Whether a successful answer sent a message (for the `Delivered` metric).
    fn delivers(_input: &Self::Input) -> bool {
        false
    }

    /// The request id a successful answer proves a number for (then a `verification_token`
    /// is added to it); `None` for endpoints that prove nothing.
    fn proves(_input: &Self::Input) -> Option<&str> {
        None
    }
}

/// What the log line and the metrics record about one invocation; never a code, a secret or
/// a full number.
#[derive(Default)]
struct Trace {
    seen: Seen,
    caller: Option<String>,
    /// The App Check token's keyed digest, cut short: one install's lines link up.
    app_token: Option<String>,
    /// The Verify request id the call is about (asked for, or started): one verification's
    /// lines link up.
    request_id: Option<String>,
    /// Verify's status and the call's time, when Verify was called.
    upstream: Option<(String, u64)>,
    delivered: bool,
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
            response::preflight(&deps.config, deps.auth.header()),
            "preflight",
            String::new(),
            None,
        ),
        Err(e) => {
            let resp = response::from_error(&e, &deps.config);
            let verify_status = status::for_error(&e).1.to_string();
            (resp, e.outcome(), verify_status, Some(e))
        }
    };
    let seen = &trace.seen;
    tracing::info!(
        endpoint = E::NAME,
        outcome,
        http_status = resp.status().as_u16(),
        verify_status,
        upstream_ms = trace.upstream.as_ref().map(|u| u.1),
        duration_ms = started.elapsed().as_millis() as u64,
        source_ip = caller_ip(&req).map(|ip| ip.to_string()),
        apigw_request_id = gateway_request_id(&req),
        caller = trace.caller.as_deref(),
        app_token = trace.app_token.as_deref(),
        verify_request_id = trace.request_id.as_deref(),
        number = seen.number.as_ref().map(|n| n.masked()),
        number_hmac = seen.number_digest.as_deref(),
        calling_code = seen.calling_code.as_deref(),
        error = error.as_ref().map(|e| e.to_string()),
        "invocation"
    );
    let store_errors = deps.guard.take_store_errors();
    if deps.config.observe.metrics {
        let facts = Facts {
            endpoint: E::NAME,
            verify_status: &verify_status,
            error: error.as_ref(),
            seen: Some(seen),
            upstream: trace.upstream.as_ref().map(|(s, ms)| (s.as_str(), *ms)),
            delivered: trace.delivered,
            store_errors,
            outcome: None,
        };
        metrics::emit(&deps.config.observe.namespace, &facts);
    }
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
        Method::OPTIONS if config.caller.cors_origin.is_some() => return Ok(None),
        ref other => return Err(ProxyError::MethodNotAllowed(other.to_string())),
    }
    // A browser names the page's origin; a foreign page is refused before anything else.
    if let (Some(allowed), Some(origin)) = (&config.caller.cors_origin, req.headers().get("origin"))
        && origin.as_bytes() != allowed.as_bytes()
    {
        return Err(ProxyError::OriginNotAllowed);
    }
    let caller = deps.auth.check(req).await?;
    trace.caller = caller.name.clone();
    trace.app_token = caller
        .token
        .as_ref()
        .map(|t| Guard::log_digest(&deps.guard.token_digest(&t.id)));
    let content_type = req
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok());
    if config.caller.json_only && !media(content_type).is_some_and(|m| is_json_media(&m)) {
        return Err(ProxyError::JsonOnly);
    }
    let fields = Fields::parse(
        content_type,
        req.body().as_ref(),
        config.caller.max_body_bytes,
    )?;
    trace.request_id = fields.request_id().ok().map(|id| id.to_string());
    let mut input = E::parse(&fields, config)?;
    if let Some(key) = idempotency_key(req)? {
        input.set_idempotency_key(key);
    }
    // Budgets per API key or IAM principal; an App Check app id is every install's, so not.
    if let (AuthMode::ApiKey | AuthMode::Iam, Some(caller)) = (deps.auth.mode(), &trace.caller) {
        input.set_caller(caller);
    }
    // ... but each install's token is its own: counted per token, spent once if limited-use.
    if let Some(token) = &caller.token {
        input.set_app_token(token);
    }
    // The guard before anything that costs: a refusal sends nothing and loads no secret.
    // Boxed: the DynamoDB client's futures are large, and stacks of test threads are not.
    let from = end_user::source(req, deps.auth.trusts_end_user_headers())?;
    let ticket = Box::pin(input.admit(&deps.guard, &from, &mut trace.seen)).await?;
    let v2_lifetime = deps.client.v2_workflow().map(|w| w.lifetime_ms());
    let recorded = input.recorded(&deps.guard, &ticket, v2_lifetime);
    let answer = match (input.test_answer(&config.verify.test_numbers), recorded) {
        (Some(answer), _) => answer,
        (None, Some(recorded)) => recorded?,
        (None, None) => {
            let t = Instant::now();
            let result = match deps.secrets.get().await.map_err(ProxyError::from) {
                Ok(creds) => input
                    .send(&deps.client, &creds)
                    .await
                    .map_err(ProxyError::from),
                Err(e) => Err(e),
            };
            let ms = t.elapsed().as_millis() as u64;
            let answer = match result {
                Ok(answer) => answer,
                Err(e) => {
                    Box::pin(input.unsent(&deps.guard, ticket, &e)).await;
                    return Err(e);
                }
            };
            trace.upstream = Some((answer.status().to_string(), ms));
            trace.delivered = E::delivers(&input) && answer.status() == "0";
            answer
        }
    };
    Box::pin(input.settle(&deps.guard, ticket, &answer)).await?;
    let mut reply = Reply::from_typed(&answer);
    if let Some(id) = reply.body.get("request_id").and_then(|v| v.as_str()) {
        trace.request_id.get_or_insert_with(|| id.to_string());
    }
    if reply.verify_status == "0"
        && let Some(request_id) = E::proves(&input)
    {
        add_token(&mut reply, deps, &trace.seen, request_id);
    }
    Ok(Some(reply))
}

/// Adds `verification_token` to a successful check's answer: the number comes from the
/// guard's record, so without one (store down and failing open) there is no token.
fn add_token(reply: &mut Reply, deps: &Deps, seen: &Seen, request_id: &str) {
    let (Some(signer), Some(number)) = (&deps.token, &seen.number) else {
        tracing::warn!("check: verified without a verification_token (no key or no record)");
        return;
    };
    // Wall time, not the guard's clock (which the local simulator can move): backends check it.
    let now_s = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    match signer.sign(number, request_id, now_s) {
        Ok(token) => {
            if let Some(body) = reply.body.as_object_mut() {
                body.insert("verification_token".into(), token.into());
            }
        }
        Err(e) => tracing::error!(error = %e, "check: could not sign a verification_token"),
    }
}

/// The `Idempotency-Key` header (IETF draft): 1 to 255 visible ASCII characters, usually a
/// UUID the client made for this operation; a quoted structured-field string is unquoted.
fn idempotency_key(req: &Request) -> Result<Option<String>, ProxyError> {
    let Some(raw) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let value = raw.to_str().map(str::trim).unwrap_or_default();
    let value = value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value);
    let ok = (1..=255).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_graphic());
    match ok {
        true => Ok(Some(value.to_string())),
        false => Err(ProxyError::invalid(
            "Idempotency-Key",
            "1 to 255 visible ASCII characters",
        )),
    }
}

/// API Gateway's id of the request (the access log's `requestId`), to match log lines.
fn gateway_request_id(req: &Request) -> Option<String> {
    match req.request_context_ref()? {
        RequestContext::ApiGatewayV1(ctx) => ctx.request_id.clone(),
        RequestContext::ApiGatewayV2(ctx) => ctx.request_id.clone(),
        _ => None,
    }
}
