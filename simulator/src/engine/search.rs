//! `/verify/search/json`: one record or up to ten, and the record's shape.

use serde_json::{Value, json};

use super::Engine;
use super::rules::{PRICE_PER_MESSAGE, PRICE_SUCCESS, Reply, error, price};
use super::verification::{State, Verification};
use crate::clock::format_utc;
use crate::params::Params;

impl Engine {
    /// `/verify/search/json`.
    pub fn search(&mut self, p: &Params, now: i64) -> Reply {
        let account = match self.admit(p, true, now) {
            Ok(a) => a,
            Err(e) => return e,
        };
        // request_id wins over request_ids, and only its first copy counts.
        if let Some(id) = p.get("request_id") {
            let id = id.to_string();
            self.catch_up_one(&id, now);
            return match self
                .requests
                .get(&id)
                .filter(|v| v.api_key == account.api_key && !self.hidden_from_search(v, now))
            {
                Some(v) => search_record(v),
                None => {
                    json!({ "request_id": id, "status": "101", "error_text": "No response found" })
                }
            };
        }
        let ids: Vec<String> = p.all("request_ids").into_iter().map(String::from).collect();
        if ids.is_empty() {
            return error(
                "6",
                "The Vonage platform was unable to process this message for the following reason: No request_id provided",
            );
        }
        if ids.len() > 10 {
            return error("18", "Too many request_ids provided");
        }
        let mut found = Vec::new();
        for id in &ids {
            self.catch_up_one(id, now);
            if let Some(v) = self
                .requests
                .get(id)
                .filter(|v| v.api_key == account.api_key && !self.hidden_from_search(v, now))
            {
                found.push(search_record(v));
            }
        }
        if found.is_empty() {
            return json!({ "request_id": "", "status": "101", "error_text": "No response found" });
        }
        json!({ "verification_requests": found })
    }
}

pub(super) fn search_record(v: &Verification) -> Value {
    let checks: Vec<Value> = v
        .checks
        .iter()
        .map(|c| {
            json!({
                "date_received": format_utc(c.at),
                "code": c.code,
                "status": if c.valid { "VALID" } else { "INVALID" },
                "ip_address": "",
            })
        })
        .collect();
    let events: Vec<Value> = v
        .events
        .iter()
        .map(|e| json!({ "id": e.id, "type": e.channel }))
        .collect();
    let price_now = if v.state == State::Success {
        PRICE_SUCCESS.to_string()
    } else {
        price(0.0)
    };
    json!({
        "request_id": v.id,
        "account_id": account_id(&v.api_key),
        "number": v.number,
        "sender_id": v.sender_id,
        "date_submitted": format_utc(v.submitted),
        "date_finalized": v.finalized.map(format_utc).unwrap_or_default(),
        "checks": checks,
        "first_event_date": v.events.first().map(|e| format_utc(e.at)).unwrap_or_default(),
        "last_event_date": v.events.last().map(|e| format_utc(e.at)).unwrap_or_default(),
        "price": price_now,
        "currency": "EUR",
        "status": v.state,
        "estimated_price_messages_sent": price(v.events.len() as f64 * PRICE_PER_MESSAGE),
        "events": events,
    })
}

/// Account ids look like the first 8 hex characters of the key on real accounts.
fn account_id(api_key: &str) -> String {
    let id: String = api_key.chars().take(8).collect();
    if id.is_empty() { "00000000".into() } else { id }
}
