//! Vonage's own network blocks and the Network Unblock API, as `verify.yml` describes them: a
//! start to a blocked network answers status 7 with the network's code, and
//! `POST /verify/network-unblock` (or `/v2/verify/network-unblock`) `{"network",
//! "unblock_duration"}` lifts the block for 0 to 86,400 s (default 3,600): 202 with
//! `unblocked_until`, 404 for a network with no active block, 403 for an account without the
//! capability (off on real accounts; `--network-unblock` here), 422 for a bad body. Blocks are
//! set with the `/_sim/network-blocks` hook (a network code and the number prefix it covers).

use std::collections::HashMap;

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::clock::format_utc;
use crate::reply::sim_json;
use crate::state::Simulator;
use crate::v2::problem::{invalid_params, problem, unauthorized};

pub const BLOCKED_TEXT: &str =
    "The network you are trying to verify has been blocked due to possible fraudulent activity";
const MAX_UNBLOCK_S: i64 = 86_400;
const DEFAULT_UNBLOCK_S: i64 = 3_600;

#[derive(Debug, Default)]
pub struct Networks {
    /// (number prefix, network code), longest prefix first.
    blocks: Vec<(String, String)>,
    /// Network code -> unblocked until (epoch ms).
    unblocked: HashMap<String, i64>,
}

impl Networks {
    pub fn block(&mut self, network: &str, prefix: &str) {
        self.blocks.retain(|(p, _)| p != prefix);
        self.blocks.push((prefix.to_string(), network.to_string()));
        self.blocks.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
        self.unblocked.clear();
    }

    pub fn list(&self, now: i64) -> Value {
        let blocks: Vec<Value> = self
            .blocks
            .iter()
            .map(|(prefix, network)| {
                let until = self.unblocked.get(network).filter(|u| **u > now);
                json!({ "network": network, "prefix": prefix,
                        "unblocked_until": until.map(|u| iso(*u)) })
            })
            .collect();
        json!({ "blocks": blocks })
    }

    /// The network that blocks a start to `number` (digits) at `now`, if any.
    pub fn blocking(&self, number: &str, now: i64) -> Option<String> {
        let (_, network) = self.blocks.iter().find(|(p, _)| number.starts_with(p))?;
        let unblocked = self.unblocked.get(network).is_some_and(|u| *u > now);
        (!unblocked).then(|| network.clone())
    }

    fn unblock(&mut self, network: &str, seconds: i64, now: i64) -> Option<i64> {
        if !self.blocks.iter().any(|(_, n)| n == network) {
            return None;
        }
        let until = now + seconds * 1000;
        self.unblocked.insert(network.to_string(), until);
        Some(until)
    }
}

/// `2024-04-22T08:34:58Z`, as `unblocked_until` is written.
fn iso(ms: i64) -> String {
    format!("{}Z", format_utc(ms).replace(' ', "T"))
}

/// The Network Unblock call on either face. Credentials: Basic auth, or `api_key` and
/// `api_secret` in the query.
pub fn unblock(sim: &Simulator, headers: &HeaderMap, query: &str, body: &[u8]) -> Response {
    let from_query = crate::params::Params::parse_query(query);
    let creds = crate::server::basic_auth(headers).or_else(|| {
        Some((
            from_query.get("api_key")?.to_string(),
            from_query.get("api_secret")?.to_string(),
        ))
    });
    let known = creds.is_some_and(|(k, s)| {
        sim.accounts()
            .iter()
            .any(|a| a.api_key == k && a.api_secret == s)
    });
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
