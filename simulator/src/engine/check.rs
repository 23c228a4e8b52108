//! `/verify/check/json`: a code against a live verification; three wrong codes end it.

use serde_json::json;

use super::Engine;
use super::rules::{
    MAX_WRONG_CODES, PRICE_PER_MESSAGE, PRICE_SUCCESS, Reply, error, invalid, missing, price,
};
use super::verification::{CheckRecord, State};
use crate::params::Params;

impl Engine {
    /// `/verify/check/json`.
    pub fn check(&mut self, p: &Params, now: i64) -> Reply {
        let account = match self.admit(p, false, now) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let Some(id) = p.get("request_id") else {
            return missing("request_id");
        };
        if id.len() > 32 {
            return invalid("request_id");
        }
        let Some(code) = p.get("code") else {
            return missing("code");
        };
        if !code.bytes().all(|b| b.is_ascii_digit()) {
            return error("3", "The code contains invalid characters");
        }
        self.check_code(&account.api_key, id, code, now)
    }

    /// A code against a live verification of `api_key` (both faces).
    pub(crate) fn check_code(&mut self, api_key: &str, id: &str, code: &str, now: i64) -> Reply {
        let id = id.to_string();
        self.catch_up_one(&id, now);
        let not_found = || {
            error(
                "6",
                format!(
                    "The Vonage platform was unable to process this message for the following reason: Request '{id}' was not found or it has been verified already."
                ),
            )
        };
        let Some(v) = self.requests.get_mut(&id) else {
            return not_found();
        };
        if v.api_key != api_key || v.state != State::InProgress {
            return not_found();
        }
        let valid = !v.pin_expired(now) && v.pin == code;
        v.checks.push(CheckRecord {
            at: now,
            code: code.to_string(),
            valid,
        });
        if valid {
            let event_id = v.events.last().map(|e| e.id.clone()).unwrap_or_default();
            let sent = v.events.len();
            self.finish(&id, State::Success, now);
            return json!({
                "request_id": id,
                "event_id": event_id,
                "status": "0",
                "price": PRICE_SUCCESS,
                "currency": "EUR",
                "estimated_price_messages_sent": price(sent as f64 * PRICE_PER_MESSAGE),
            });
        }
        v.wrong += 1;
        if v.wrong >= MAX_WRONG_CODES {
            self.finish(&id, State::Failed, now);
            return json!({
                "status": "17",
                "error_text": "The wrong code was provided too many times. Request terminated",
            });
        }
        json!({
            "request_id": id,
            "status": "16",
            "error_text": "The code inserted does not match the expected value",
        })
    }
}
