//! The local dev server: the Lambda handlers on one loopback port, with the same routes as
//! API Gateway, and the Verify simulator (or the real API) as upstream. With `VERIFY_API=v2`
//! the simulator's v2 face is the upstream and its signed status callbacks come back to
//! `/events`, as Vonage's would.

mod admin;
pub mod config;
pub mod listener;
mod sweeper;

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::header;
use axum::response::{Html, Response};
use axum::routing::{MethodRouter, any, get};
use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use shared::config::VerifyApi;
use shared::jwks::Jwks;
use shared::{Config, Deps, Endpoint, Secrets};
pub use verify_sim::Limits;
use verify_sim::{Account, CallbackTarget, SimConfig, Simulator};

/// The credentials the embedded simulator accepts (they never leave this machine).
pub const SIM_KEY: &str = "local-key";
pub const SIM_SECRET: &str = "local-secret";
const MAX_BODY: usize = 64 * 1024;
const PAGE: &str = include_str!("page.html");
const OPENAPI: &str = include_str!("../../openapi.yaml");

pub enum Upstream {
    /// The embedded simulator, served on the same port under `/verify/*` and `/_sim/*`.
    Simulator { seed: Option<u64>, limits: Limits },
    /// A real Verify API with these credentials (base URL from the config).
    Real(Secrets),
}

pub struct Running {
    pub addr: SocketAddr,
    /// The bearer token of `/_admin/*` (random per run; the banner prints it).
    pub admin_token: String,
    pub simulator: Option<Simulator>,
    pub base_url: String,
}

pub use listener::Serving;

/// Binds `addr` and serves until the process ends, with the default connection bounds.
/// `token_pem` signs verification tokens (a fresh key when `None`).
pub async fn start(
    addr: SocketAddr,
    config: Config,
    upstream: Upstream,
    token_pem: Option<&str>,
) -> Result<Running, Box<dyn std::error::Error>> {
    start_with(addr, config, upstream, token_pem, Serving::default()).await
}

/// [`start`] with these connection bounds.
pub async fn start_with(
    addr: SocketAddr,
    mut config: Config,
    upstream: Upstream,
    token_pem: Option<&str>,
    serving: Serving,
) -> Result<Running, Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let v2 = config.verify.api == VerifyApi::V2;
    // The simulator signs its callbacks with this; /events checks them with it.
    let callback_secret = random_secret();
    let (secrets, simulator) = match upstream {
        Upstream::Simulator { seed, limits } => {
            let sim = Simulator::new(SimConfig {
                accounts: vec![Account {
                    api_key: SIM_KEY.into(),
                    api_secret: SIM_SECRET.into(),
                    pin_code_enabled: false,
                }],
                seed,
                ticker: true,
                limits,
                applications: Vec::new(),
                callbacks: v2.then(|| CallbackTarget {
                    url: format!("http://{local}/events"),
                    signature_secret: callback_secret.clone(),
                }),
                // Vonage enables it per account; the local one has it, to try the runbook.
                network_unblock: true,
            });
            config.verify.base_url = format!("http://{local}");
            (Secrets::fixed(SIM_KEY, SIM_SECRET), Some(sim))
        }
        Upstream::Real(secrets) => (secrets, None),
    };
    let base_url = config.verify.base_url.clone();
    let settings = settings(&config);
    let mut deps = Deps::new(config, secrets)?;
    if let Some(pem) = token_pem {
        deps = deps.with_token_pem(pem)?;
    }
    // Against the simulator its own secret; against a real Verify the configured value (an
    // SSM name has no meaning on a developer's machine).
    deps.signature_secret = match (&simulator, &deps.config.secrets.signature) {
        (Some(_), _) => Some(callback_secret),
        (None, Some(shared::config::Secret::Value(secret))) => Some(secret.clone()),
        _ => None,
    };
    let jwks = std::sync::Arc::new(deps.token.as_ref().map(Jwks::new));
    if let Some(sim) = &simulator {
        // One clock for the upstream and the limits: /_sim/clock/advance moves both.
        let guard = deps
            .guard
            .with_clock(std::sync::Arc::new(SimClock(sim.clone())));
        deps.guard = guard;
    }
    let deps = std::sync::Arc::new(deps);
    sweeper::spawn(deps.clone());
    let admin_token = random_secret();
    let token = admin_token.clone();
    let mut app =
        Router::new()
            .route("/", get(|| async { Html(PAGE) }))
            .route(
                "/openapi.yaml",
                get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI) }),
            )
            .route("/request", route::<request::Start>())
            .route("/check", route::<check::Check>())
            .route("/cancel", route::<cancel::Cancel>())
            .route("/search", route::<search::Search>())
            .route("/control", route::<control::Control>())
            .route(
                "/events",
                any(|State(deps): State<SharedDeps>, req: Request| async move {
                    events(&deps, req).await
                }),
            )
            .route(
                "/_admin/explain",
                admin_route(admin::Action::Explain, &token),
            )
            .route("/_admin/unlock", admin_route(admin::Action::Unlock, &token))
            .route(
                "/settings.json",
                get(
                    move || async move { ([(header::CONTENT_TYPE, "application/json")], settings) },
                ),
            )
            .route(
                "/.well-known/jwks.json",
                any(move |req: Request| async move { keys(&jwks, req).await }),
            )
            .with_state(deps);
    if let Some(sim) = &simulator {
        // Only the simulator's own paths go to it (Verify's `/verify/*`, the `/_sim/*` hooks);
        // anything else is our JSON 404 like every other answer of ours.
        app = app
            .route_service("/verify/{*rest}", sim.router().into_service::<AxumBody>())
            .route_service("/_sim/{*rest}", sim.router().into_service::<AxumBody>());
        if v2 {
            app = app.route_service("/v2/{*rest}", sim.router().into_service::<AxumBody>());
        }
        sim.spawn_ticker();
    }
    let app = app.fallback(|| async {
        answer(shared::caller::response::error_text(
            404,
            "3",
            "no such endpoint: use POST /request, /check, /cancel, /search or /control",
            None,
        ))
    });
    tokio::spawn(listener::serve(listener, app, serving));
    Ok(Running {
        addr: local,
        admin_token,
        simulator,
        base_url,
    })
}

type SharedDeps = std::sync::Arc<Deps>;

/// A request id like API Gateway's, for the log line (`local-<n>`).
fn request_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("local-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

/// The embedded simulator's clock, as the guard's.
struct SimClock(Simulator);

impl shared::guard::Clock for SimClock {
    fn now_ms(&self) -> i64 {
        self.0.clock().now_ms()
    }
}

/// The token keys, as the jwks function serves them.
async fn keys(jwks: &Option<Jwks>, req: Request) -> Response {
    let Some(jwks) = jwks else {
        return answer(shared::caller::response::error_text(
            404,
            "3",
            "no token key: this server signs no verification tokens",
            None,
        ));
    };
    let (parts, _) = req.into_parts();
    let req = lambda_http::http::Request::from_parts(parts, lambda_http::Body::Empty);
    answer(jwks.serve(&req))
}

/// A handler's `lambda_http` response as axum's.
fn answer(resp: lambda_http::Response<lambda_http::Body>) -> Response {
    let (parts, body) = resp.into_parts();
    Response::from_parts(parts, AxumBody::from(body.as_ref().to_vec()))
}

/// A body over [`MAX_BODY`]: the same JSON 413 on every route.
fn too_large() -> Response {
    answer(shared::caller::response::error_text(
        413,
        "3",
        "request body too large",
        None,
    ))
}

/// What the try-it page needs to know: the upstream API and the channels a caller may pick.
fn settings(config: &Config) -> String {
    let names = |cs: &[shared::verify::v2::Channel]| -> Vec<&'static str> {
        cs.iter().map(|c| c.as_str()).collect()
    };
    let v2 = config.verify.api == VerifyApi::V2;
    serde_json::json!({
        "verify_api": if v2 { "v2" } else { "v1" },
        "channels": if v2 { names(&config.v2.channels) } else { vec!["sms", "voice"] },
        "allowed_channels": if v2 { names(&config.v2.allowed) } else { Vec::new() },
    })
    .to_string()
}

/// 32 random bytes as hex: the callbacks' signature secret for this run.
fn random_secret() -> String {
    shared::guard::keys::hex(&shared::deps::random_key())
}

/// v2 status callbacks, as the events function receives them.
async fn events(deps: &Deps, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return too_large();
    };
    let req =
        lambda_http::http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
    answer(shared::events::serve(req, deps).await)
}

/// One admin call, behind its checks (`admin.rs`).
fn admin_route(action: admin::Action, token: &str) -> MethodRouter<SharedDeps> {
    let token = token.to_string();
    axum::routing::post(
        move |State(deps): State<SharedDeps>,
              ConnectInfo(peer): ConnectInfo<SocketAddr>,
              headers: axum::http::HeaderMap,
              body: axum::body::Bytes| async move {
            admin::handle(action, &deps, &token, peer, &headers, &body).await
        },
    )
}

/// Every method goes to the endpoint, which answers 405 (or a CORS preflight) itself.
fn route<E: Endpoint + 'static>() -> MethodRouter<SharedDeps> {
    any(
        |State(deps): State<SharedDeps>,
         ConnectInfo(peer): ConnectInfo<SocketAddr>,
         req: Request| async move { invoke::<E>(&deps, peer, req).await },
    )
}

/// Runs an endpoint on an axum request as API Gateway would hand it over: the TCP peer's
/// address goes where API Gateway puts the caller's (`requestContext.identity.sourceIp`);
/// forwarding headers are not trusted, as API Gateway's own field is not a header.
async fn invoke<E: Endpoint>(deps: &Deps, peer: SocketAddr, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return too_large();
    };
    let mut lambda_req =
        lambda_http::http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
    let mut context = ApiGatewayProxyRequestContext::default();
    context.identity.source_ip = Some(peer.ip().to_string());
    context.request_id = Some(request_id());
    lambda_req
        .extensions_mut()
        .insert(RequestContext::ApiGatewayV1(context));
    answer(shared::serve::<E>(lambda_req, deps).await)
}
