//! The local dev server: the five Lambda handlers on one loopback port, with the same routes
//! as API Gateway, and the Verify simulator (or the real API) as upstream.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body as AxumBody;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{MethodRouter, any, get};
use shared::{Config, Deps, Secrets};
use verify_sim::{Account, SimConfig, Simulator};

/// The credentials the embedded simulator accepts (they never leave this machine).
pub const SIM_KEY: &str = "local-key";
pub const SIM_SECRET: &str = "local-secret";
const MAX_BODY: usize = 64 * 1024;
const PAGE: &str = include_str!("page.html");
const OPENAPI: &str = include_str!("../../openapi.yaml");

#[derive(Clone, Copy)]
enum Function {
    Request,
    Check,
    Cancel,
    Search,
    Control,
}

pub enum Upstream {
    /// The embedded simulator, served on the same port under `/verify/*` and `/_sim/*`.
    Simulator { seed: Option<u64> },
    /// A real Verify API with these credentials (base URL from the config).
    Real { api_key: String, api_secret: String },
}

pub struct Running {
    pub addr: SocketAddr,
    pub simulator: Option<Simulator>,
    pub base_url: String,
}

/// Binds `addr` and serves until the process ends.
pub async fn start(
    addr: SocketAddr,
    mut config: Config,
    upstream: Upstream,
) -> Result<Running, Box<dyn std::error::Error>> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let (secrets, simulator) = match upstream {
        Upstream::Simulator { seed } => {
            let sim = Simulator::new(SimConfig {
                accounts: vec![Account {
                    api_key: SIM_KEY.into(),
                    api_secret: SIM_SECRET.into(),
                    pin_code_enabled: false,
                }],
                seed,
                ticker: true,
            });
            config.base_url = format!("http://{local}");
            (Secrets::fixed(SIM_KEY, SIM_SECRET), Some(sim))
        }
        Upstream::Real {
            api_key,
            api_secret,
        } => (Secrets::fixed(api_key, api_secret), None),
    };
    let base_url = config.base_url.clone();
    let deps = std::sync::Arc::new(Deps::new(config, secrets)?);
    let mut app = Router::new()
        .route("/", get(|| async { Html(PAGE) }))
        .route(
            "/openapi.yaml",
            get(|| async { ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI) }),
        )
        .route("/request", handler(Function::Request))
        .route("/check", handler(Function::Check))
        .route("/cancel", handler(Function::Cancel))
        .route("/search", handler(Function::Search))
        .route("/control", handler(Function::Control))
        .with_state(deps);
    if let Some(sim) = &simulator {
        app = app.fallback_service(sim.router());
        sim.spawn_ticker();
    }
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!("local server stopped: {e}");
        }
    });
    Ok(Running {
        addr: local,
        simulator,
        base_url,
    })
}

type SharedDeps = std::sync::Arc<Deps>;

/// Every method goes to the handler, which answers 405 (or a CORS preflight) itself.
fn handler(f: Function) -> MethodRouter<SharedDeps> {
    any(
        move |State(deps): State<SharedDeps>, req: Request| async move { invoke(f, &deps, req).await },
    )
}

/// Runs a Lambda handler on an axum request, as API Gateway would hand it over.
async fn invoke(f: Function, deps: &Deps, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"status":"3","error_text":"request body too large"}"#,
        )
            .into_response();
    };
    let lambda_req =
        lambda_http::http::Request::from_parts(parts, lambda_http::Body::from(bytes.to_vec()));
    let result = match f {
        Function::Request => request::handle(lambda_req, deps).await,
        Function::Check => check::handle(lambda_req, deps).await,
        Function::Cancel => cancel::handle(lambda_req, deps).await,
        Function::Search => search::handle(lambda_req, deps).await,
        Function::Control => control::handle(lambda_req, deps).await,
    };
    match result {
        Ok(resp) => {
            let (parts, body) = resp.into_parts();
            Response::from_parts(parts, AxumBody::from(body.as_ref().to_vec()))
        }
        Err(e) => {
            tracing::error!("handler error: {e}");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(header::CONTENT_TYPE, "application/json")],
                r#"{"status":"5","error_text":"internal error"}"#,
            )
                .into_response()
        }
    }
}
