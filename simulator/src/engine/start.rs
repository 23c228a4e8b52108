//! Starting a verification: `/verify/json` and `/verify/psd2/json`.

use serde_json::json;

use super::rules::{
    LOCALES, PSD2_LOCALES, Reply, error, invalid, missing, parse_uint, required_text, too_long,
    workflow,
};
use super::verification::{Plan, Purpose, Verification};
use super::{Engine, StartKind};
use crate::numbers;
use crate::params::Params;

impl Engine {
    /// Start a verification (`/verify/json` or `/verify/psd2/json`).
    pub fn start(&mut self, p: &Params, kind: StartKind, now: i64) -> Reply {
        let account = match self.admit(p, false, now) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let Some(raw_number) = p.get("number") else {
            return missing("number");
        };
        let country = p.get("country");
        if let Some(c) = country
            && (c.len() != 2 || numbers::calling_code(c).is_none())
        {
            return invalid("country");
        }
        let Some(number) = numbers::normalise(raw_number, country) else {
            return invalid("number");
        };
        let purpose = match kind {
            StartKind::Standard => match required_text(p, "brand", 18) {
                Ok(brand) => Purpose::Brand(brand),
                Err(e) => return e,
            },
            StartKind::Psd2 => {
                let payee = match required_text(p, "payee", 18) {
                    Ok(payee) => payee,
                    Err(e) => return e,
                };
                let Some(amount) = p.get("amount") else {
                    return missing("amount");
                };
                match amount.parse::<f64>() {
                    Ok(a) if a.is_finite() && a >= 0.0 => Purpose::Payment {
                        payee,
                        amount: format!("{a:.2}"),
                    },
                    _ => return invalid("amount"),
                }
            }
        };
        let sender_id = match (kind, p.get("sender_id")) {
            (StartKind::Standard, Some(s)) if s.chars().count() > 11 => {
                return too_long("sender_id");
            }
            (StartKind::Standard, Some(s)) => s.to_string(),
            _ => "VERIFY".to_string(),
        };
        let code_length = match p.get("code_length") {
            None => 4,
            Some(v) => match parse_uint(v) {
                None => return invalid("code_length"),
                Some(4) => 4,
                Some(6) => 6,
                Some(_) => {
                    return error(
                        "3",
                        "Invalid value for param: code_length. The allowed values are 4 and 6.",
                    );
                }
            },
        };
        if let Some(lg) = p.get("lg") {
            let allowed = if kind == StartKind::Psd2 {
                PSD2_LOCALES
            } else {
                LOCALES
            };
            if !allowed.contains(&lg) {
                return invalid("lg");
            }
        }
        let pin_expiry = match p.get("pin_expiry").map(parse_uint) {
            None => None,
            Some(Some(v)) if (60..=3600).contains(&v) => Some(v as i64),
            Some(_) => return invalid("pin_expiry"),
        };
        let next_event_wait = match p.get("next_event_wait").map(parse_uint) {
            None => None,
            Some(Some(v)) if (60..=900).contains(&v) => Some(v as i64),
            Some(_) => return invalid("next_event_wait"),
        };
        let workflow_id = match p.get("workflow_id").map(parse_uint) {
            None => 1,
            Some(Some(v)) if (1..=7).contains(&v) => v as u8,
            Some(_) => return invalid("workflow_id"),
        };
        let custom_pin = match (kind, p.get("pin_code")) {
            (StartKind::Standard, Some(pin)) => {
                if !account.pin_code_enabled {
                    return error(
                        "20",
                        "This account does not support the parameter: pin_code.",
                    );
                }
                if !(4..=10).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
                    return invalid("pin_code");
                }
                Some(pin.to_string())
            }
            _ => None,
        };

        let key = (account.api_key.clone(), number.clone());
        if let Some(existing) = self.active_by_number.get(&key).cloned() {
            self.catch_up_one(&existing, now);
            if self.active_by_number.contains_key(&key) {
                return json!({
                    "request_id": existing,
                    "status": "10",
                    "error_text": "Concurrent verifications to the same number are not allowed",
                });
            }
        }

        let Some((sequence, default_waits)) = workflow(workflow_id) else {
            return invalid("workflow_id");
        };
        let waits: Vec<i64> = match next_event_wait {
            Some(w) => vec![w; sequence.len()],
            None => default_waits.to_vec(),
        };
        // Both given and not a multiple: pin_expiry silently becomes next_event_wait.
        let pin_expiry = match (pin_expiry, next_event_wait) {
            (Some(pe), Some(w)) if pe % w != 0 => w,
            (Some(pe), _) => pe,
            (None, _) => 300,
        };

        let mut id = self.random_hex(32);
        while self.requests.contains_key(&id) {
            id = self.random_hex(32);
        }
        let pin = match &custom_pin {
            Some(p) => p.clone(),
            None => self.random_pin(code_length),
        };
        let plan = Plan {
            purpose,
            sender_id,
            code_length,
            sequence: sequence.to_vec(),
            to: Vec::new(),
            waits,
            pin_expiry,
            custom_pin,
            client_ref: None,
        };
        let v = Verification::new(id.clone(), account.api_key.clone(), number, plan, pin, now);
        self.requests.insert(id.clone(), v);
        self.active_by_number.insert(key, id.clone());
        self.fire_next(&id, now);
        json!({ "request_id": id, "status": "0" })
    }
}
