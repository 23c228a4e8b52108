//! The v2 face of the simulator (`/v2/verify`): JSON in, HTTP status codes and problem
//! details out, over the same engine (one verification model) as the v1 face. The rules and
//! their sources are in `docs/verify-v2.md`.

pub mod auth;
pub mod callbacks;
pub(crate) mod problem;

use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::engine::{Account, Channel, State, V2Start, V2Started, V2Step};
use crate::reply::{secure, sim_json};
use crate::state::Simulator;
use problem::{invalid_params, not_found, problem, problem_with, throttled, unauthorized};

/// The current (GA) limits: channel_timeout 15..900 s (default 180), code 4..10 characters.
const TIMEOUT_RANGE: std::ops::RangeInclusive<i64> = 15..=900;
const DEFAULT_TIMEOUT: i64 = 180;
const MAX_STEPS: usize = 3;
/// `verify.v2.yml`'s `Language` enum: v2 refuses a v1 language it lacks (422).
const LOCALES: &[&str] = &[
    "en-us", "en-gb", "es-es", "es-mx", "es-us", "it-it", "fr-fr", "de-de", "ru-ru", "hi-in",
    "pt-br", "pt-pt", "id-id",
];

enum Route<'a> {
    Start,
    Check(&'a str),
    Cancel(&'a str),
    Next(&'a str),
}

fn route<'a>(method: &Method, path: &'a str) -> Option<Route<'a>> {
    let rest = path.strip_prefix("/v2/verify")?;
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return (method == Method::POST).then_some(Route::Start);
    }
    let rest = rest.strip_prefix('/')?;
    match (method, rest.split_once('/')) {
        (&Method::POST, None) => Some(Route::Check(rest)),
        (&Method::DELETE, None) => Some(Route::Cancel(rest)),
        (&Method::POST, Some((id, "next_workflow"))) => Some(Route::Next(id)),
        _ => None,
    }
}

pub(crate) fn handle(
    sim: &Simulator,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(route) = route(method, path) else {
        return problem(
            StatusCode::NOT_FOUND,
            "#not-found",
            "Not Found",
            "No such route.",
        );
    };
    let now = sim.clock().now_ms();
    let Some(account) = auth::account(headers, &sim.accounts(), &sim.applications()) else {
        return unauthorized();
    };
    if !sim.engine().admit_call(&account.api_key, now) {
        return throttled();
    }
    match route {
        Route::Start => start(sim, &account, body, now),
        Route::Check(id) => check(sim, &account, id, body, now),
        Route::Cancel(id) => cancel(sim, &account, id, now),
        Route::Next(id) => next(sim, &account, id, now),
    }
}

/// What a `throttle` fault answers on a v2 path.
pub(crate) fn throttled_response() -> Response {
    throttled()
}

fn start(sim: &Simulator, account: &Account, body: &[u8], now: i64) -> Response {
    let Ok(v) = serde_json::from_slice::<Value>(body) else {
        return invalid_params(&[("body", "a JSON object is required".into())]);
    };
    let req = match parse_start(&v) {
        Ok(r) => r,
        Err(list) => return invalid_params(&list),
    };
    match sim.engine().start_v2(&account.api_key, req, now) {
        V2Started::Started(id) => {
            secure(sim_json(StatusCode::ACCEPTED, json!({ "request_id": id })))
        }
        V2Started::Concurrent(id) => problem_with(
            StatusCode::CONFLICT,
            "/verify#conflict",
            "Conflict",
            "Concurrent verifications to the same number are not allowed.",
            json!({ "request_id": id }),
        ),
    }
}

fn parse_start(v: &Value) -> Result<V2Start, Vec<(&'static str, String)>> {
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let brand = match v.get("brand").and_then(Value::as_str) {
        Some(b) if !b.is_empty() && b.chars().count() <= 16 => b.to_string(),
        Some(_) => {
            errors.push(("brand", "Brand must be 1 to 16 characters".into()));
            String::new()
        }
        None => {
            errors.push(("brand", "Brand is required".into()));
            String::new()
        }
    };
    let mut steps = Vec::new();
    match v.get("workflow").and_then(Value::as_array) {
        Some(list) if !list.is_empty() && list.len() <= MAX_STEPS => {
            for (i, step) in list.iter().enumerate() {
                match parse_step(step) {
                    Ok(s) => steps.push(s),
                    Err(reason) => errors.push(("workflow", format!("step {i}: {reason}"))),
                }
            }
        }
        Some(_) => errors.push(("workflow", format!("1 to {MAX_STEPS} steps are allowed"))),
        None => errors.push((
            "workflow",
            "The workflow parameter is required and must be an array".into(),
        )),
    }
    let int = |k: &str| v.get(k).map(|x| x.as_i64().ok_or(()));
    let channel_timeout = match int("channel_timeout") {
        None => DEFAULT_TIMEOUT,
        Some(Ok(t)) if TIMEOUT_RANGE.contains(&t) => t,
        Some(_) => {
            errors.push((
                "channel_timeout",
                "must be an integer from 15 to 900".into(),
            ));
            DEFAULT_TIMEOUT
        }
    };
    let code_length = match int("code_length") {
        None => 4,
        Some(Ok(n)) if (4..=10).contains(&n) => n as usize,
        Some(_) => {
            errors.push(("code_length", "must be an integer from 4 to 10".into()));
            4
        }
    };
    if let Some(l) = v.get("locale")
        && !l.as_str().is_some_and(|s| LOCALES.contains(&s))
    {
        errors.push(("locale", "not a supported locale".into()));
    }
    let client_ref = match v.get("client_ref") {
        None => None,
        Some(Value::String(s)) if !s.is_empty() && s.chars().count() <= 16 => Some(s.clone()),
        Some(_) => {
            errors.push(("client_ref", "must be 1 to 16 characters".into()));
            None
        }
    };
    let code = match v.get("code") {
        None => None,
        Some(Value::String(s))
            if (4..=10).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Some(s.clone())
        }
        Some(_) => {
            errors.push(("code", "must be 4 to 10 letters or digits".into()));
            None
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(V2Start {
        brand,
        steps,
        code_length: code.as_ref().map_or(code_length, String::len),
        channel_timeout,
        client_ref,
        code,
    })
}

fn parse_step(step: &Value) -> Result<V2Step, String> {
    let channel = match step.get("channel").and_then(Value::as_str) {
        Some("sms") => Channel::Sms,
        Some("voice") => Channel::Tts,
        Some("email") => Channel::Email,
        Some("whatsapp") => Channel::Whatsapp,
        Some(c @ ("silent_auth" | "whatsapp_interactive" | "rcs")) => {
            return Err(format!("channel {c} is not simulated"));
        }
        _ => return Err("channel must be sms, voice, email or whatsapp".into()),
    };
    let to = step.get("to").and_then(Value::as_str).unwrap_or_default();
    let valid_to = match channel {
        Channel::Email => {
            to.len() <= 254
                && to
                    .split_once('@')
                    .is_some_and(|(a, d)| !a.is_empty() && d.contains('.'))
        }
        _ => {
            (7..=15).contains(&to.len())
                && to.bytes().all(|b| b.is_ascii_digit())
                && !to.starts_with('0')
        }
    };
    if !valid_to {
        return Err(format!("invalid to for {}", channel.v2_name()));
    }
    if channel == Channel::Whatsapp && step.get("from").and_then(Value::as_str).is_none() {
        return Err("whatsapp needs from (a WhatsApp Business number)".into());
    }
    Ok(V2Step {
        channel,
        to: to.to_string(),
    })
}

fn check(sim: &Simulator, account: &Account, id: &str, body: &[u8], now: i64) -> Response {
    let code = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("code").and_then(Value::as_str).map(String::from));
    let Some(code) = code.filter(|c| (4..=10).contains(&c.len())) else {
        return invalid_params(&[("code", "code must be 4 to 10 characters".into())]);
    };
    let mut engine = sim.engine();
    let Some(view) = engine.view(&account.api_key, id, now) else {
        return not_found(id);
    };
    match view.state {
        State::InProgress => {}
        State::Expired => return expired(),
        _ => return not_found(id),
    }
    let reply = engine.check_code(&account.api_key, id, &code, now);
    match reply["status"].as_str() {
        Some("0") => secure(sim_json(
            StatusCode::OK,
            json!({ "request_id": id, "status": "completed" }),
        )),
        Some("16") => problem(
            StatusCode::BAD_REQUEST,
            "/verify#invalid-code",
            "Invalid Code",
            "The code you provided does not match the expected value.",
        ),
        Some("17") => problem(
            StatusCode::GONE,
            "/verify#expired",
            "Invalid Code",
            "An incorrect code has been provided too many times. Workflow terminated.",
        ),
        _ => not_found(id),
    }
}

fn expired() -> Response {
    problem(
        StatusCode::GONE,
        "/verify#expired",
        "Gone",
        "Verification request expired.",
    )
}

fn cancel(sim: &Simulator, account: &Account, id: &str, now: i64) -> Response {
    let reply = sim.engine().command(&account.api_key, id, "cancel", now);
    match reply["status"].as_str() {
        Some("0") => secure(StatusCode::NO_CONTENT.into_response()),
        Some("19") => problem(
            StatusCode::CONFLICT,
            "/verify#conflict",
            "Conflict",
            reply["error_text"]
                .as_str()
                .unwrap_or("The request cannot be cancelled now."),
        ),
        _ => not_found(id),
    }
}

fn next(sim: &Simulator, account: &Account, id: &str, now: i64) -> Response {
    let reply = sim
        .engine()
        .command(&account.api_key, id, "trigger_next_event", now);
    match reply["status"].as_str() {
        Some("0") => secure(sim_json(StatusCode::OK, json!({}))),
        Some("19") => problem(
            StatusCode::CONFLICT,
            "/verify#conflict",
            "Conflict",
            "There are no more events left to trigger.",
        ),
        _ => not_found(id),
    }
}
