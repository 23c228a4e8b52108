//! The Verify v1 state machine: requests, workflows, PINs, checks, control and search.
//! Time is passed in (epoch ms) so the same code runs on real and simulated clocks; state
//! advances lazily ("catch up") whenever it is looked at, plus on a ticker in the binary.

use std::collections::HashMap;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use serde_json::{Value, json};

use crate::clock::format_utc;
use crate::numbers;
use crate::params::Params;

/// Locales accepted by `lg` on a standard request.
pub const LOCALES: &[&str] = &[
    "ar-xa", "cs-cz", "cy-cy", "cy-gb", "da-dk", "de-de", "el-gr", "en-au", "en-gb", "en-in",
    "en-us", "es-es", "es-mx", "es-us", "fi-fi", "fil-ph", "fr-ca", "fr-fr", "hi-in", "hu-hu",
    "id-id", "is-is", "it-it", "ja-jp", "ko-kr", "nb-no", "nl-nl", "pl-pl", "pt-br", "pt-pt",
    "ro-ro", "ru-ru", "sv-se", "th-th", "tr-tr", "vi-vn", "yue-cn", "zh-cn", "zh-tw",
];

/// Locales accepted by `lg` on a PSD2 request.
pub const PSD2_LOCALES: &[&str] = &[
    "en-gb", "bg-bg", "cs-cz", "da-dk", "de-de", "ee-et", "el-gr", "es-es", "fi-fi", "fr-fr",
    "ga-ie", "hu-hu", "it-it", "lv-lv", "lt-lt", "mt-mt", "nl-nl", "pl-pl", "sk-sk", "sl-si",
    "sv-se",
];

pub const PRICE_SUCCESS: &str = "0.10000000";
/// What one delivered message costs on the per-message pricing model, in EUR.
const PRICE_PER_MESSAGE: f64 = 0.0333;
const MAX_WRONG_CODES: u32 = 3;
const CANCEL_AFTER_MS: i64 = 30_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    Tts,
}

/// The event sequence and default waits (seconds after each event) of a workflow.
pub fn workflow(id: u8) -> Option<(&'static [Channel], &'static [i64])> {
    use Channel::{Sms, Tts};
    Some(match id {
        1 => (&[Sms, Tts, Tts], &[125, 180, 300]),
        2 => (&[Sms, Sms, Tts], &[125, 180, 300]),
        3 => (&[Tts, Tts], &[150, 150]),
        4 => (&[Sms, Sms], &[120, 180]),
        5 => (&[Sms, Tts], &[125, 300]),
        6 => (&[Sms], &[300]),
        7 => (&[Tts], &[300]),
        _ => return None,
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum State {
    #[serde(rename = "IN PROGRESS")]
    InProgress,
    #[serde(rename = "SUCCESS")]
    Success,
    #[serde(rename = "FAILED")]
    Failed,
    #[serde(rename = "EXPIRED")]
    Expired,
    #[serde(rename = "CANCELLED")]
    Cancelled,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub api_key: String,
    pub api_secret: String,
    /// Whether this account may send its own `pin_code` (off on real accounts by default).
    pub pin_code_enabled: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub seq: u64,
    pub request_id: String,
    pub event_id: String,
    pub to: String,
    pub channel: Channel,
    pub sender_id: String,
    pub text: String,
    pub code: String,
    pub at: String,
}

#[derive(Debug, Clone)]
struct Event {
    id: String,
    channel: Channel,
    at: i64,
}

#[derive(Debug, Clone)]
struct CheckRecord {
    at: i64,
    code: String,
    valid: bool,
}

#[derive(Debug, Clone)]
enum Purpose {
    Brand(String),
    Payment { payee: String, amount: String },
}

#[derive(Debug, Clone)]
struct Verification {
    id: String,
    api_key: String,
    number: String,
    purpose: Purpose,
    sender_id: String,
    code_length: usize,
    sequence: &'static [Channel],
    waits: Vec<i64>,
    pin_expiry: i64,
    custom_pin: Option<String>,
    pin: String,
    pin_at: i64,
    wrong: u32,
    events: Vec<Event>,
    checks: Vec<CheckRecord>,
    submitted: i64,
    finalized: Option<i64>,
    state: State,
}

impl Verification {
    fn pin_expired(&self, at: i64) -> bool {
        at - self.pin_at >= self.pin_expiry * 1000
    }
}

/// A Verify JSON response: always HTTP 200 with a string `status`.
pub type Reply = Value;

pub fn error(status: &str, text: impl Into<String>) -> Reply {
    json!({ "status": status, "error_text": text.into() })
}

/// The standard `error_text` of a status, for fault injection and generic errors.
pub fn standard_text(status: &str) -> &'static str {
    match status {
        "1" => "Throttled",
        "2" => "Your request is incomplete and missing some mandatory parameters",
        "3" => "Invalid value for param",
        "4" => "Invalid credentials were provided",
        "5" => "Internal Error",
        "6" => {
            "The Vonage platform was unable to process this message for the following reason: Unroutable"
        }
        "7" => "The number you are trying to verify is blacklisted for verification.",
        "8" => {
            "The api_key you supplied is for an account that has been barred from submitting messages."
        }
        "9" => "Partner quota exceeded",
        "10" => "Concurrent verifications to the same number are not allowed",
        "15" => "The destination number is not in a supported network",
        "16" => "The code inserted does not match the expected value",
        "17" => "The wrong code was provided too many times. Request terminated",
        "18" => "Too many request_ids provided",
        "19" => "No more events are left to execute for the request",
        "20" => "This account does not support the parameter: pin_code.",
        "29" => "Non-Permitted Destination",
        "101" => "No response found",
        _ => "Internal Error",
    }
}

fn missing(param: &str) -> Reply {
    error(
        "2",
        format!("Your request is incomplete and missing the mandatory parameter: {param}"),
    )
}

fn too_long(param: &str) -> Reply {
    error(
        "3",
        format!("Invalid value for param: {param}. Parameter is too long."),
    )
}

/// A mandatory text parameter of at most `max` characters (counted as characters, not bytes).
fn required_text(p: &Params, name: &str, max: usize) -> Result<String, Reply> {
    match p.get(name) {
        None => Err(missing(name)),
        Some(v) if v.chars().count() > max => Err(too_long(name)),
        Some(v) => Ok(v.to_string()),
    }
}

fn invalid(param: &str) -> Reply {
    error("3", format!("Invalid value for param: {param}"))
}

pub struct Engine {
    accounts: Vec<Account>,
    rng: StdRng,
    requests: HashMap<String, Verification>,
    /// (api_key, number) -> id of the IN PROGRESS request, for the status-10 rule.
    active_by_number: HashMap<(String, String), String>,
    outbox: Vec<Message>,
    next_event_seq: u64,
    next_message_seq: u64,
}

/// Which flavour of start request: a normal one or PSD2 (payee + amount).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartKind {
    Standard,
    Psd2,
}

impl Engine {
    pub fn new(accounts: Vec<Account>, seed: Option<u64>) -> Self {
        let rng = match seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_os_rng(),
        };
        Self {
            accounts,
            rng,
            requests: HashMap::new(),
            active_by_number: HashMap::new(),
            outbox: Vec::new(),
            next_event_seq: 0x0A00_0000_1234_5678,
            next_message_seq: 1,
        }
    }

    /// Authenticates in the documented order: key present, secret present, pair valid.
    /// Returns the account's api_key.
    pub fn authenticate(&self, p: &Params) -> Result<Account, Reply> {
        let Some(key) = p.get("api_key") else {
            return Err(error("2", "Missing api_key"));
        };
        let Some(secret) = p.get("api_secret") else {
            return Err(error(
                "2",
                "Your request is incomplete and missing some mandatory parameters",
            ));
        };
        self.accounts
            .iter()
            .find(|a| a.api_key == key && a.api_secret == secret)
            .cloned()
            .ok_or_else(|| error("4", "Invalid credentials were provided"))
    }

    fn random_hex(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap_or('0'))
            .collect()
    }

    fn random_pin(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| char::from_digit(self.rng.random_range(0..10), 10).unwrap_or('0'))
            .collect()
    }

    /// Start a verification (`/verify/json` or `/verify/psd2/json`).
    pub fn start(&mut self, p: &Params, kind: StartKind, now: i64) -> Reply {
        let account = match self.authenticate(p) {
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
        let v = Verification {
            id: id.clone(),
            api_key: account.api_key.clone(),
            number,
            purpose,
            sender_id,
            code_length,
            sequence,
            waits,
            pin_expiry,
            custom_pin,
            pin,
            pin_at: now,
            wrong: 0,
            events: Vec::new(),
            checks: Vec::new(),
            submitted: now,
            finalized: None,
            state: State::InProgress,
        };
        self.requests.insert(id.clone(), v);
        self.active_by_number.insert(key, id.clone());
        self.fire_next(&id, now);
        json!({ "request_id": id, "status": "0" })
    }

    /// Fires the next event of a request at `at`, renewing the PIN if it has expired.
    fn fire_next(&mut self, id: &str, at: i64) {
        let event_id = format!("{:016X}", self.next_event_seq);
        self.next_event_seq += 1;
        // Past pin_expiry the next event renews the PIN (a custom PIN keeps its value but
        // gets a new validity window), and the wrong-attempt count starts again.
        let renew = match self.requests.get(id) {
            Some(v) if v.pin_expired(at) => Some(v.custom_pin.is_none().then_some(v.code_length)),
            Some(_) => None,
            None => return,
        };
        let new_pin = renew.flatten().map(|len| self.random_pin(len));
        let seq = self.next_message_seq;
        let Some(v) = self.requests.get_mut(id) else {
            return;
        };
        if renew.is_some() {
            if let Some(pin) = new_pin {
                v.pin = pin;
            }
            v.pin_at = at;
            v.wrong = 0;
        }
        let channel = v.sequence[v.events.len()];
        v.events.push(Event {
            id: event_id.clone(),
            channel,
            at,
        });
        let text = message_text(v, channel);
        let msg = Message {
            seq,
            request_id: v.id.clone(),
            event_id,
            to: v.number.clone(),
            channel,
            sender_id: v.sender_id.clone(),
            text,
            code: v.pin.clone(),
            at: format_utc(at),
        };
        self.next_message_seq += 1;
        tracing::info!(
            target: "verify_sim::outbox",
            "outbox: {:?} to +{} (request {}): {}",
            msg.channel,
            msg.to,
            msg.request_id,
            msg.text
        );
        self.outbox.push(msg);
    }

    fn finish(&mut self, id: &str, state: State, at: i64) {
        if let Some(v) = self.requests.get_mut(id) {
            v.state = state;
            v.finalized = Some(at);
            let key = (v.api_key.clone(), v.number.clone());
            if self.active_by_number.get(&key).map(String::as_str) == Some(id) {
                self.active_by_number.remove(&key);
            }
        }
    }

    /// Brings one request up to `now`: fires due events and expires it after the last wait.
    fn catch_up_one(&mut self, id: &str, now: i64) {
        loop {
            let Some(v) = self.requests.get(id) else {
                return;
            };
            if v.state != State::InProgress {
                return;
            }
            let Some(last) = v.events.last() else {
                return;
            };
            let due = last.at + v.waits[v.events.len() - 1] * 1000;
            if now < due {
                return;
            }
            if v.events.len() < v.sequence.len() {
                self.fire_next(id, due);
            } else {
                self.finish(id, State::Expired, due);
                return;
            }
        }
    }

    /// Brings every in-progress request up to `now`.
    pub fn catch_up_all(&mut self, now: i64) {
        let ids: Vec<String> = self.active_by_number.values().cloned().collect();
        for id in ids {
            self.catch_up_one(&id, now);
        }
    }

    /// `/verify/check/json`.
    pub fn check(&mut self, p: &Params, now: i64) -> Reply {
        let account = match self.authenticate(p) {
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
        if v.api_key != account.api_key || v.state != State::InProgress {
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

    /// `/verify/control/json`.
    pub fn control(&mut self, p: &Params, now: i64) -> Reply {
        let account = match self.authenticate(p) {
            Ok(a) => a,
            Err(e) => return e,
        };
        let Some(id) = p.get("request_id") else {
            return error("2", "Missing mandatory parameter: request_id");
        };
        let Some(cmd) = p.get("cmd") else {
            return error("2", "Missing mandatory parameter: cmd");
        };
        if cmd != "cancel" && cmd != "trigger_next_event" {
            return error("3", "Invalid parameter found: cmd");
        }
        let id = id.to_string();
        self.catch_up_one(&id, now);
        let Some(v) = self
            .requests
            .get(&id)
            .filter(|v| v.api_key == account.api_key && v.state == State::InProgress)
        else {
            return error(
                "6",
                format!("The requestId '{id}' does not exist or its no longer active."),
            );
        };
        if cmd == "cancel" {
            if now - v.submitted < CANCEL_AFTER_MS {
                return error(
                    "19",
                    format!(
                        "Verification request ['{id}'] can't be cancelled within the first 30 seconds."
                    ),
                );
            }
            if v.events.len() >= 2 {
                // The double space is the real API's.
                return error(
                    "19",
                    format!(
                        "Verification request  ['{id}'] can't be cancelled now. Too many attempts to re-deliver have already been made."
                    ),
                );
            }
            self.finish(&id, State::Cancelled, now);
            return json!({ "status": "0", "command": "cancel" });
        }
        if v.events.len() >= v.sequence.len() {
            return error(
                "19",
                format!("No more events are left to execute for the request ['{id}']"),
            );
        }
        self.fire_next(&id, now);
        json!({ "status": "0", "command": "trigger_next_event" })
    }

    /// `/verify/search/json`.
    pub fn search(&mut self, p: &Params, now: i64) -> Reply {
        let account = match self.authenticate(p) {
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
                .filter(|v| v.api_key == account.api_key)
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
                .filter(|v| v.api_key == account.api_key)
            {
                found.push(search_record(v));
            }
        }
        if found.is_empty() {
            return json!({ "request_id": "", "status": "101", "error_text": "No response found" });
        }
        json!({ "verification_requests": found })
    }

    /// Outbox messages, optionally only those to one number (any notation) or request.
    pub fn messages(&self, number: Option<&str>, request_id: Option<&str>) -> Vec<Message> {
        let number = number.map(|n| numbers::normalise(n, None).unwrap_or_else(|| n.to_string()));
        self.outbox
            .iter()
            .filter(|m| number.as_deref().is_none_or(|n| m.to == n))
            .filter(|m| request_id.is_none_or(|r| m.request_id == r))
            .cloned()
            .collect()
    }

    /// Test hook: creates an IN PROGRESS workflow-1 request with a known id and PIN, so sample
    /// events (e.g. `events/check.json`) can name a request that exists.
    pub fn insert_fixture(
        &mut self,
        id: &str,
        number: &str,
        pin: &str,
        api_key: Option<&str>,
        now: i64,
    ) -> Result<(), String> {
        if id.len() != 32
            || !id
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err("request_id must be 32 lowercase hex characters".into());
        }
        if self.requests.contains_key(id) {
            return Err("request_id already exists".into());
        }
        let number = numbers::normalise(number, None).ok_or("invalid number")?;
        if !(4..=10).contains(&pin.len()) || !pin.bytes().all(|b| b.is_ascii_digit()) {
            return Err("pin must be 4 to 10 digits".into());
        }
        let account = match api_key {
            Some(k) => self.accounts.iter().find(|a| a.api_key == k),
            None => self.accounts.first(),
        }
        .ok_or("no such account")?
        .api_key
        .clone();
        let key = (account.clone(), number.clone());
        if self.active_by_number.contains_key(&key) {
            return Err("a verification to this number is already in progress".into());
        }
        let Some((sequence, waits)) = workflow(1) else {
            return Err("workflow 1 missing".into());
        };
        self.requests.insert(
            id.to_string(),
            Verification {
                id: id.to_string(),
                api_key: account,
                number,
                purpose: Purpose::Brand("Fixture".into()),
                sender_id: "VERIFY".into(),
                code_length: pin.len(),
                sequence,
                waits: waits.to_vec(),
                pin_expiry: 300,
                custom_pin: Some(pin.to_string()),
                pin: pin.to_string(),
                pin_at: now,
                wrong: 0,
                events: Vec::new(),
                checks: Vec::new(),
                submitted: now,
                finalized: None,
                state: State::InProgress,
            },
        );
        self.active_by_number.insert(key, id.to_string());
        self.fire_next(id, now);
        Ok(())
    }

    /// A test-only view of one request, PIN included.
    pub fn inspect(&self, id: &str) -> Option<Value> {
        let v = self.requests.get(id)?;
        let mut record = search_record(v);
        record["pin"] = json!(v.pin);
        record["wrong_attempts"] = json!(v.wrong);
        record["pin_expiry"] = json!(v.pin_expiry);
        record["waits"] = json!(v.waits);
        Some(record)
    }
}

/// Parses an unsigned integer the way Verify does: digits only, leading zeros allowed.
fn parse_uint(v: &str) -> Option<u64> {
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    v.parse().ok().or(Some(u64::MAX))
}

fn price(eur: f64) -> String {
    format!("{eur:.8}")
}

fn message_text(v: &Verification, channel: Channel) -> String {
    let minutes = v.pin_expiry / 60;
    let validity = if v.pin_expiry % 60 == 0 {
        format!("{minutes} minute{}", if minutes == 1 { "" } else { "s" })
    } else {
        format!("{} seconds", v.pin_expiry)
    };
    match (&v.purpose, channel) {
        (Purpose::Brand(brand), Channel::Sms) => {
            format!("{brand} code: {}. Valid for {validity}.", v.pin)
        }
        (Purpose::Brand(brand), Channel::Tts) => {
            let spoken: Vec<String> = v.pin.chars().map(String::from).collect();
            format!(
                "Your {brand} code is {}. Valid for {validity}.",
                spoken.join(" ")
            )
        }
        (Purpose::Payment { payee, amount }, _) => format!(
            "Your code to pay EUR {amount} to {payee}: {}. Valid for {validity}.",
            v.pin
        ),
    }
}

fn search_record(v: &Verification) -> Value {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_uint_follows_verify() {
        assert_eq!(parse_uint("0004"), Some(4));
        assert_eq!(parse_uint("+4"), None);
        assert_eq!(parse_uint("4.0"), None);
        assert_eq!(parse_uint("-1"), None);
        assert_eq!(parse_uint("99999999999999999999999"), Some(u64::MAX));
    }

    #[test]
    fn workflows_match_the_guide() {
        assert_eq!(workflow(1).map(|w| w.1.iter().sum::<i64>()), Some(605));
        assert_eq!(workflow(3).map(|w| w.1.iter().sum::<i64>()), Some(300));
        assert_eq!(workflow(5).map(|w| w.1.iter().sum::<i64>()), Some(425));
        assert!(workflow(0).is_none() && workflow(8).is_none());
    }
}
