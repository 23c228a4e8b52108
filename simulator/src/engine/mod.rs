//! The Verify v1 state machine: requests, workflows, PINs, checks, control and search.
//! Time is passed in (epoch ms) so the same code runs on real and simulated clocks; state
//! advances lazily ("catch up") whenever it is looked at, plus on a ticker that visits only
//! what is due (a due-time index).

mod check;
mod control;
mod retention;
pub use retention::RETENTION_MS;
pub mod rules;
mod search;
mod start;
mod start_v2;
pub mod verification;

use std::collections::{BTreeSet, HashMap};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use crate::clock::format_utc;
use crate::limits::{Limits, Meter};
use crate::numbers;
use crate::params::Params;

use rules::message_text;
pub use rules::{LOCALES, PRICE_SUCCESS, PSD2_LOCALES, Reply, error, standard_text, workflow};
use search::search_record;
pub use start_v2::{V2Start, V2Started, V2Step, V2View};
pub use verification::{Account, Channel, Message, State};
use verification::{Event, Plan, Purpose, Verification};

pub struct Engine {
    accounts: Vec<Account>,
    rng: StdRng,
    requests: HashMap<String, Verification>,
    /// (api_key, number) -> id of the IN PROGRESS request, for the status-10 rule.
    active_by_number: HashMap<(String, String), String>,
    /// (due time, id) of every IN PROGRESS verification with an event fired: advancing time
    /// visits only what is due instead of every live verification.
    due: BTreeSet<(i64, String)>,
    outbox: Vec<Message>,
    next_event_seq: u64,
    next_message_seq: u64,
    limits: Limits,
    meter: Meter,
    /// v2 summaries of finished verifications, waiting to be posted as callbacks.
    summaries: Vec<(String, Value)>,
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
            due: BTreeSet::new(),
            outbox: Vec::new(),
            next_event_seq: 0x0A00_0000_1234_5678,
            next_message_seq: 1,
            limits: Limits::default(),
            meter: Meter::default(),
            summaries: Vec::new(),
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

    /// The v2 summaries of verifications finished since the last call: (api_key, body).
    pub fn take_summaries(&mut self) -> Vec<(String, Value)> {
        std::mem::take(&mut self.summaries)
    }

    pub fn accounts(&self) -> &[Account] {
        &self.accounts
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub fn set_limits(&mut self, limits: Limits) {
        self.limits = limits;
    }

    /// Authenticates, then counts the call against the account's rate limits (status 1 when
    /// over; Verify checks the key before it can know whose limit applies).
    fn admit(&mut self, p: &Params, search: bool, now: i64) -> Result<Account, Reply> {
        let account = self.authenticate(p)?;
        if self
            .meter
            .admit(&self.limits, &account.api_key, search, now)
        {
            Ok(account)
        } else {
            Err(error("1", standard_text("1")))
        }
    }

    /// Whether search is still blind to a verification that finished recently.
    fn hidden_from_search(&self, v: &Verification, now: i64) -> bool {
        let gap = i64::from(self.limits.search_hidden_after_completion_s) * 1000;
        v.finalized.is_some_and(|at| now < at + gap)
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
        let to = v.to.get(v.events.len() - 1).unwrap_or(&v.number).clone();
        let msg = Message {
            seq,
            request_id: v.id.clone(),
            event_id,
            to,
            channel,
            sender_id: v.sender_id.clone(),
            text,
            code: v.pin.clone(),
            at: format_utc(at),
        };
        self.next_message_seq += 1;
        self.reschedule(id);
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
            if !v.to.is_empty() {
                let summary = start_v2::summary(v);
                self.summaries.push((v.api_key.clone(), summary));
            }
            let key = (v.api_key.clone(), v.number.clone());
            if self.active_by_number.get(&key).map(String::as_str) == Some(id) {
                self.active_by_number.remove(&key);
            }
        }
        self.reschedule(id);
    }

    /// Puts a verification at its current place in the due-time index (or takes it out).
    fn reschedule(&mut self, id: &str) {
        let Some(v) = self.requests.get_mut(id) else {
            return;
        };
        let next = v.next_due();
        if v.due == next {
            return;
        }
        if let Some(old) = v.due.take() {
            self.due.remove(&(old, id.to_string()));
        }
        if let Some(at) = next {
            v.due = Some(at);
            self.due.insert((at, id.to_string()));
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
            let Some(due) = v.next_due() else {
                return;
            };
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

    /// Brings every in-progress request up to `now`, visiting only those that are due.
    pub fn catch_up_all(&mut self, now: i64) {
        while let Some((at, id)) = self.due.first().cloned() {
            if at > now {
                return;
            }
            self.catch_up_one(&id, now);
            // catch_up_one moved it past `now` or out of the index; make sure of it, so a
            // verification that did not move cannot stall the loop.
            if self.due.first() == Some(&(at, id.clone())) {
                self.due.remove(&(at, id.clone()));
                if let Some(v) = self.requests.get_mut(&id) {
                    v.due = None;
                }
            }
        }
    }

    /// How many verifications are waiting in the due-time index (for tests).
    pub fn scheduled(&self) -> usize {
        self.due.len()
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
        let plan = Plan {
            purpose: Purpose::Brand("Fixture".into()),
            sender_id: "VERIFY".into(),
            code_length: pin.len(),
            sequence: sequence.to_vec(),
            to: Vec::new(),
            waits: waits.to_vec(),
            pin_expiry: 300,
            custom_pin: Some(pin.to_string()),
            client_ref: None,
        };
        self.requests.insert(
            id.to_string(),
            Verification::new(id.to_string(), account, number, plan, pin.to_string(), now),
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
        record["client_ref"] = json!(v.client_ref);
        Some(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn params(q: &str) -> Params {
        Params::parse_query(&format!("api_key=k&api_secret=s&{q}"))
    }

    pub(super) fn engine() -> Engine {
        let account = Account {
            api_key: "k".into(),
            api_secret: "s".into(),
            pin_code_enabled: false,
        };
        let mut e = Engine::new(vec![account], Some(1));
        // These tests make many calls at one instant; the limits have their own tests.
        e.set_limits(Limits::OFF);
        e
    }

    #[test]
    fn the_due_index_holds_exactly_the_live_verifications() {
        let mut e = engine();
        let t0 = 1_000_000;
        let mut ids = Vec::new();
        for i in 0..50 {
            let r = e.start(
                &params(&format!("number=4477009{i:05}&brand=B&workflow_id=6")),
                StartKind::Standard,
                t0,
            );
            ids.push(r["request_id"].as_str().unwrap_or_default().to_string());
        }
        assert_eq!(e.scheduled(), 50);
        // Nothing is due before the single event's 300 s wait: a tick changes nothing.
        e.catch_up_all(t0 + 299_000);
        assert_eq!(e.scheduled(), 50);
        // A check ends one; it leaves the index at once.
        let pin = e.inspect(&ids[0]).unwrap()["pin"]
            .as_str()
            .unwrap()
            .to_string();
        let ok = e.check(
            &params(&format!("request_id={}&code={pin}", ids[0])),
            t0 + 1,
        );
        assert_eq!(ok["status"], "0");
        assert_eq!(e.scheduled(), 49);
        e.catch_up_all(t0 + 300_000);
        assert_eq!(e.scheduled(), 0, "all expired");
        assert_eq!(e.inspect(&ids[1]).unwrap()["status"], "EXPIRED");
        assert_eq!(e.inspect(&ids[0]).unwrap()["status"], "SUCCESS");
    }

    #[test]
    fn a_triggered_event_moves_the_due_time() {
        let mut e = engine();
        let r = e.start(
            &params("number=447700900001&brand=B"),
            StartKind::Standard,
            0,
        );
        let id = r["request_id"].as_str().unwrap_or_default().to_string();
        let c = e.control(
            &params(&format!("request_id={id}&cmd=trigger_next_event")),
            10_000,
        );
        assert_eq!(c["status"], "0");
        // Workflow 1: the second event (at 10 s) waits 180 s; the old 125 s due time is gone.
        e.catch_up_all(130_000);
        assert_eq!(e.messages(None, Some(&id)).len(), 2);
        e.catch_up_all(190_000);
        assert_eq!(e.messages(None, Some(&id)).len(), 3);
        assert_eq!(e.scheduled(), 1);
        e.catch_up_all(490_000);
        assert_eq!(e.scheduled(), 0);
        assert_eq!(e.inspect(&id).unwrap()["status"], "EXPIRED");
    }
}
