//! `/_sim/*`: the test hooks (outbox, clock, faults, fixtures, inspection). Not part of Verify.

use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use crate::clock::format_utc;
use crate::faults::Fault;
use crate::limits::Limits;
use crate::params::Params;
use crate::reply::sim_json;
use crate::state::Simulator;
use crate::v2::callbacks::CallbackTarget;

/// What a hook refuses before it runs: a browser page of another origin (any page a developer
/// visits could otherwise move the guard's clock, which resets every limit, or redirect
/// callbacks), and a POST without a JSON body (what a cross-site form or a simple `fetch` can
/// send without a CORS preflight, which the hooks never grant).
pub(crate) fn refused(method: &Method, headers: &HeaderMap) -> Option<Response> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(origin) = text(header::ORIGIN) {
        let own = text(header::HOST).is_some_and(|host| {
            let bare = origin.split_once("://").map_or(origin, |(_, rest)| rest);
            bare.eq_ignore_ascii_case(host)
        });
        if !own {
            let why = "the simulator's hooks refuse requests from other origins";
            return Some(sim_json(StatusCode::FORBIDDEN, json!({ "error": why })));
        }
    }
    let json = text(header::CONTENT_TYPE).is_some_and(|c| {
        let media = c.split(';').next().unwrap_or("").trim();
        media.eq_ignore_ascii_case("application/json")
    });
    // Only POST is a "simple" cross-site method; DELETE and PUT need the preflight.
    if *method == Method::POST && !json {
        let why = "the simulator's hooks take JSON bodies (content-type: application/json)";
        return Some(sim_json(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            json!({ "error": why }),
        ));
    }
    None
}

pub(crate) fn handle(
    sim: &Simulator,
    method: &Method,
    path: &str,
    query: &str,
    body: &[u8],
) -> Response {
    let q = Params::parse_query(query);
    match (method.clone(), path) {
        (Method::GET, "/_sim/health") => sim_json(StatusCode::OK, json!({ "ok": true })),
        (Method::GET, "/_sim/messages") => {
            sim.tick();
            let messages = sim.engine().messages(q.get("number"), q.get("request_id"));
            sim_json(StatusCode::OK, json!({ "messages": messages }))
        }
        (Method::GET, "/_sim/clock") => clock_body(sim),
        (Method::POST, "/_sim/clock/advance") => {
            let from_body = Params::parse_body("application/json", body)
                .ok()
                .and_then(|p| p.get("seconds").map(String::from));
            let seconds = from_body
                .or_else(|| q.get("seconds").map(String::from))
                .and_then(|s| s.parse::<u64>().ok());
            let Some(seconds) = seconds else {
                return sim_json(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "give seconds as a whole number, e.g. {\"seconds\": 31}" }),
                );
            };
            sim.clock().advance_secs(seconds);
            sim.tick();
            clock_body(sim)
        }
        (Method::GET, "/_sim/faults") => {
            sim_json(StatusCode::OK, json!({ "faults": sim.faults().list() }))
        }
        (Method::POST, "/_sim/faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(f) => {
                sim.faults().add(f);
                sim_json(StatusCode::OK, json!({ "faults": sim.faults().list() }))
            }
            Err(e) => sim_json(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("bad fault: {e}") }),
            ),
        },
        (Method::DELETE, "/_sim/faults") => {
            sim.faults().clear();
            sim_json(StatusCode::OK, json!({ "faults": [] }))
        }
        (_, "/_sim/network-blocks") => crate::network_api::hook(sim, method, body),
        (Method::GET, "/_sim/limits") => sim_json(StatusCode::OK, json!(sim.engine().limits())),
        (Method::POST, "/_sim/limits") => match serde_json::from_slice::<Limits>(body) {
            Ok(l) => {
                sim.engine().set_limits(l);
                sim_json(StatusCode::OK, json!(l))
            }
            Err(e) => sim_json(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("bad limits: {e}; e.g. {}", json!(Limits::OFF)) }),
            ),
        },
        (Method::POST, "/_sim/callbacks") => match serde_json::from_slice::<CallbackTarget>(body) {
            Ok(t) => {
                sim.set_callbacks(Some(t.clone()));
                sim_json(StatusCode::OK, json!({ "url": t.url }))
            }
            Err(e) => sim_json(
                StatusCode::BAD_REQUEST,
                json!({ "error": format!("send {{\"url\", \"signature_secret\"}}: {e}") }),
            ),
        },
        (Method::POST, "/_sim/requests") => {
            let Ok(v) = serde_json::from_slice::<Value>(body) else {
                return sim_json(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "send a JSON object" }),
                );
            };
            let field = |k: &str| v.get(k).and_then(Value::as_str);
            let (Some(id), Some(number), Some(pin)) =
                (field("request_id"), field("number"), field("pin"))
            else {
                return sim_json(
                    StatusCode::BAD_REQUEST,
                    json!({ "error": "request_id, number and pin are required" }),
                );
            };
            let now = sim.clock().now_ms();
            match sim
                .engine()
                .insert_fixture(id, number, pin, field("api_key"), now)
            {
                Ok(()) => sim_json(StatusCode::CREATED, json!({ "request_id": id })),
                Err(e) => sim_json(StatusCode::CONFLICT, json!({ "error": e })),
            }
        }
        (Method::GET, p) if p.starts_with("/_sim/requests/") => {
            let id = &p["/_sim/requests/".len()..];
            let now = sim.clock().now_ms();
            let mut engine = sim.engine();
            engine.catch_up_all(now);
            match engine.inspect(id) {
                Some(v) => sim_json(StatusCode::OK, v),
                None => sim_json(StatusCode::NOT_FOUND, json!({ "error": "no such request" })),
            }
        }
        _ => sim_json(
            StatusCode::NOT_FOUND,
            json!({ "error": "unknown simulator endpoint" }),
        ),
    }
}

fn clock_body(sim: &Simulator) -> Response {
    let now = sim.clock().now_ms();
    sim_json(
        StatusCode::OK,
        json!({ "now": format_utc(now), "now_ms": now, "offset_ms": sim.clock().offset_ms() }),
    )
}
