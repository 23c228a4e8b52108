//! The Network Unblock call and the `/_sim/network-blocks` hook over [`crate::network`]'s state.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::network::{DEFAULT_UNBLOCK_S, MAX_UNBLOCK_S, iso};
use crate::reply::sim_json;
use crate::state::Simulator;
use crate::v2::problem::{invalid_params, problem, unauthorized};

/// The Network Unblock call on either face. Credentials: Basic auth or an application's JWT,
/// as on v2, or `api_key` and `api_secret` in the query.
pub fn unblock(sim: &Simulator, headers: &HeaderMap, query: &str, body: &[u8]) -> Response {
    let accounts = sim.accounts();
    let q = crate::params::Params::parse_query(query);
    let by_query = || {
        let (key, secret) = (q.get("api_key")?, q.get("api_secret")?);
        accounts
            .iter()
            .find(|a| a.api_key == key && a.api_secret == secret)
            .cloned()
    };
    let known = crate::v2::auth::account(headers, &accounts, &sim.applications())
        .or_else(by_query)
        .is_some();
    if !known {
        return unauthorized();
    }
    if !sim.network_unblock_allowed() {
        return problem(
            StatusCode::FORBIDDEN,
            "#forbidden",
            "Forbidden",
            "Your account does not have permission to perform this action.",
        );
    }
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return invalid_params(&[("network", "Network is not in the request.".into())]);
    };
    let network = match v.get("network") {
        Some(Value::String(n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
            n.clone()
        }
        Some(Value::Number(n)) if n.is_u64() => n.to_string(),
        _ => return invalid_params(&[("network", "Network not found".into())]),
    };
    // The description types it integer; its own example sends "3600".
    let seconds = match v.get("unblock_duration") {
        None => Some(DEFAULT_UNBLOCK_S),
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.parse().ok(),
        Some(_) => None,
    };
    let Some(seconds) = seconds.filter(|s| (0..=MAX_UNBLOCK_S).contains(s)) else {
        return invalid_params(&[(
            "unblock_duration",
            "Invalid unblock_duration parameter: 0 to 86400 seconds".into(),
        )]);
    };
    let now = sim.clock().now_ms();
    match sim.networks().unblock(&network, seconds, now) {
        Some(until) => sim_json(
            StatusCode::ACCEPTED,
            json!({ "network": network, "unblocked_until": iso(until) }),
        ),
        None => problem(
            StatusCode::NOT_FOUND,
            "#bad-request",
            "Not Found",
            "The network you provided does not have an active block.",
        ),
    }
}

/// The `/_sim/network-blocks` hook: GET lists, POST `{"network","prefix"}` blocks, DELETE clears.
pub fn hook(sim: &Simulator, method: &axum::http::Method, body: &[u8]) -> Response {
    use axum::http::Method;
    let now = sim.clock().now_ms();
    match *method {
        Method::GET => sim_json(StatusCode::OK, sim.networks().list(now)),
        Method::DELETE => {
            sim.networks().clear();
            sim_json(StatusCode::OK, sim.networks().list(now))
        }
        Method::POST => {
            let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
            let digits = |k: &str| {
                v.get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            };
            match (digits("network"), digits("prefix")) {
                (Some(network), Some(prefix)) => {
                    sim.networks().block(network, prefix);
                    sim_json(StatusCode::OK, sim.networks().list(now))
                }
                _ => sim_json(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "send {\"network\": \"23410\", \"prefix\": \"44781\"} (digits)" }),
                ),
            }
        }
        _ => sim_json(
            StatusCode::METHOD_NOT_ALLOWED,
            json!({ "error": "GET, POST or DELETE" }),
        ),
    }
}
