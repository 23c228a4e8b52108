//! The HTTP face of the simulator: Verify's paths with the real API's method, status-code
//! and content-type behaviour, v2's under `v2/`. `/_sim/*` (for people and tests) is in
//! `hooks.rs`; the state they share is `state.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::engine::{StartKind, standard_text};
use crate::faults::Fault;
use crate::hooks;
use crate::params::Params;
use crate::reply::{plain, secure, verify_json};
use crate::state::Simulator;
use crate::v2;

/// Largest request body accepted; the real gateway refused request lines over ~8 KB.
const MAX_BODY: usize = 16 * 1024;

#[derive(Clone, Copy)]
enum Op {
    Start(StartKind),
    Check,
    Search,
    Control,
}

impl Simulator {
    pub fn router(&self) -> Router {
        Router::new().fallback(dispatch).with_state(self.clone())
    }

    /// Serves on `addr` (use port 0 for any free port) in a background task, with a one-second
    /// ticker so messages arrive on time even when nobody polls. Returns the bound address.
    pub async fn spawn(&self, addr: SocketAddr) -> std::io::Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        let app = self.router();
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!("simulator server stopped: {e}");
            }
        });
        if self.ticks() {
            self.spawn_ticker();
        }
        Ok(local)
    }
}

/// Faults name v2 paths with `{id}` for the request id: `/v2/verify`, `/v2/verify/{id}`,
/// `/v2/verify/{id}/next_workflow`.
fn v2_fault_key(path: &str) -> String {
    let rest = path.trim_end_matches('/').trim_start_matches("/v2/verify");
    let mut parts = rest.trim_start_matches('/').splitn(2, '/');
    match (parts.next(), parts.next()) {
        (Some(""), _) | (None, _) => "/v2/verify".into(),
        (Some(_), None) => "/v2/verify/{id}".into(),
        (Some(_), Some(tail)) => format!("/v2/verify/{{id}}/{tail}"),
    }
}

fn verify_op(path: &str) -> Option<Op> {
    Some(match path {
        "/verify/json" => Op::Start(StartKind::Standard),
        "/verify/psd2/json" => Op::Start(StartKind::Psd2),
        "/verify/check/json" => Op::Check,
        "/verify/search/json" => Op::Search,
        "/verify/control/json" => Op::Control,
        _ => return None,
    })
}

async fn dispatch(State(sim): State<Simulator>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let path = parts.uri.path().to_string();
    let query = parts.uri.query().unwrap_or("").to_string();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return plain(StatusCode::PAYLOAD_TOO_LARGE, "Request Entity Too Large");
    };
    if path.starts_with("/_sim/") {
        if let Some(refused) = hooks::refused(&parts.method, &parts.headers) {
            return refused;
        }
        return hooks::handle(&sim, &parts.method, &path, &query, &body);
    }
    if matches!(
        path.as_str(),
        "/verify/network-unblock" | "/v2/verify/network-unblock"
    ) {
        return match parts.method {
            Method::POST => crate::network_api::unblock(&sim, &parts.headers, &query, &body),
            _ => plain(StatusCode::FORBIDDEN, "Forbidden"),
        };
    }
    if path.starts_with("/v2/verify") {
        let fault = sim.faults().take(&v2_fault_key(&path));
        let response = match fault.as_ref() {
            Some(f) if f.throttle => Some(crate::v2::throttled_response()),
            Some(f) => fault_response(f),
            None => None,
        };
        let response = response
            .unwrap_or_else(|| v2::handle(&sim, &parts.method, &path, &parts.headers, &body));
        sim.deliver();
        if let Some(f) = &fault
            && f.latency_ms > 0
        {
            tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
        }
        return response;
    }
    let Some(op) = verify_op(&path) else {
        return plain(StatusCode::NOT_FOUND, "Not Found");
    };
    match parts.method {
        Method::GET | Method::POST => {}
        Method::HEAD => return secure(StatusCode::OK.into_response()),
        // The real gateway (Envoy) answers 403 to other methods on Verify paths.
        _ => return plain(StatusCode::FORBIDDEN, "Forbidden"),
    }
    let fault = sim.faults().take(&path);
    let response = match fault.as_ref().and_then(fault_response) {
        Some(r) => r,
        None => answer(&sim, op, &parts, &query, &body),
    };
    // Latency comes after the work, like a slow network on the way back: a caller that
    // times out has still started the verification (the case that tempts a double SMS).
    if let Some(f) = &fault
        && f.latency_ms > 0
    {
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    response
}

fn answer(
    sim: &Simulator,
    op: Op,
    parts: &axum::http::request::Parts,
    query: &str,
    body: &[u8],
) -> Response {
    // A POST whose parameters are only in the query string was refused with 400 (2018).
    if parts.method == Method::POST && body.is_empty() && !query.is_empty() {
        return plain(StatusCode::BAD_REQUEST, "Bad Request");
    }
    let params = match collect_params(&parts.headers, query, body) {
        Ok(p) => p,
        Err(()) => return plain(StatusCode::BAD_REQUEST, "Bad Request"),
    };
    let now = sim.clock().now_ms();
    if let (Op::Start(_), Some(number)) = (op, params.get("number"))
        && let Some(network) =
            crate::numbers::normalise(number, None).and_then(|n| sim.networks().blocking(&n, now))
    {
        return verify_json(json!({
            "status": "7",
            "error_text": crate::network::BLOCKED_TEXT,
            "network": network,
        }));
    }
    let reply = {
        let mut engine = sim.engine();
        match op {
            Op::Start(kind) => engine.start(&params, kind, now),
            Op::Check => engine.check(&params, now),
            Op::Search => engine.search(&params, now),
            Op::Control => engine.control(&params, now),
        }
    };
    verify_json(reply)
}

fn collect_params(headers: &HeaderMap, query: &str, body: &[u8]) -> Result<Params, ()> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut params = Params::parse_body(content_type, body).map_err(|_| ())?;
    params.extend(Params::parse_query(query));
    if let Some((key, secret)) = basic_auth(headers) {
        params.push("api_key", key);
        params.push("api_secret", secret);
    }
    Ok(params)
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64_decode(encoded.trim())?;
    let text = String::from_utf8(decoded).ok()?;
    let (k, s) = text.split_once(':')?;
    Some((k.to_string(), s.to_string()))
}

fn base64_decode(input: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let mut buf = 0u32;
    let mut bits = 0;
    for c in input.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        buf = (buf << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
            buf &= (1 << bits) - 1;
        }
    }
    Some(out)
}

fn fault_response(f: &Fault) -> Option<Response> {
    if f.drop {
        // Headers go out, then the body stream fails: hyper aborts the connection.
        let stream = futures_util::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated connection drop",
            ))
        });
        let mut r = Response::new(Body::from_stream(stream));
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Some(r);
    }
    if let Some(code) = f.http_status {
        let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        // With a body: that JSON at that status (a v2 problem, say); without: a gateway page.
        return Some(match &f.body {
            Some(body) => secure(crate::reply::sim_json(status, body.clone())),
            None => plain(status, "<html><body>upstream error</body></html>"),
        });
    }
    if f.malformed {
        let mut r = (StatusCode::OK, "{\"status\":\"0\",\"request_id\":\"ab").into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        return Some(secure(r));
    }
    if let Some(body) = &f.body {
        return Some(verify_json(body.clone()));
    }
    let status = if f.throttle {
        Some("1".to_string())
    } else {
        f.status.clone()
    };
    status.map(|s| {
        let mut body = json!({ "status": s, "error_text": standard_text(&s) });
        if s == "7" {
            body["network"] = json!("310260");
        }
        verify_json(body)
    })
}
