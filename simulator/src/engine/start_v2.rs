//! Starting a verification through the v2 face: a workflow of channels, each with its own
//! destination, one code for the whole workflow, `channel_timeout` between channels.

use serde_json::{Value, json};

use super::Engine;
use super::verification::{Channel, Plan, Purpose, State, Verification};

/// One step of a v2 workflow.
#[derive(Debug, Clone)]
pub struct V2Step {
    pub channel: Channel,
    pub to: String,
}

/// A validated v2 start (the face checks the JSON; the engine keeps the rules of state).
#[derive(Debug, Clone)]
pub struct V2Start {
    pub brand: String,
    pub steps: Vec<V2Step>,
    pub code_length: usize,
    pub channel_timeout: i64,
    pub client_ref: Option<String>,
    pub code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum V2Started {
    Started(String),
    /// A verification to the same first destination is live: its id.
    Concurrent(String),
}

/// What v2 says about a request: its state, the channel now in use, and its callbacks.
#[derive(Debug, Clone)]
pub struct V2View {
    pub state: State,
    pub channel: Option<Channel>,
    pub steps_left: usize,
}

impl Engine {
    pub fn start_v2(&mut self, api_key: &str, req: V2Start, now: i64) -> V2Started {
        let first = req.steps.first().map(|s| s.to.clone()).unwrap_or_default();
        let key = (api_key.to_string(), first.clone());
        if let Some(existing) = self.active_by_number.get(&key).cloned() {
            self.catch_up_one(&existing, now);
            if self.active_by_number.contains_key(&key) {
                return V2Started::Concurrent(existing);
            }
        }
        let hex = self.random_hex(32);
        let id = format!(
            "{}-{}-4{}-a{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[13..16],
            &hex[17..20],
            &hex[20..32]
        );
        let pin = match &req.code {
            Some(c) => c.clone(),
            None => self.random_pin(req.code_length),
        };
        let n = req.steps.len().max(1) as i64;
        let plan = Plan {
            purpose: Purpose::Brand(req.brand),
            sender_id: "VERIFY".into(),
            code_length: req.code_length,
            sequence: req.steps.iter().map(|s| s.channel).collect(),
            to: req.steps.iter().map(|s| s.to.clone()).collect(),
            waits: vec![req.channel_timeout; req.steps.len()],
            // One code for the whole workflow: it lives as long as the workflow.
            pin_expiry: req.channel_timeout * n,
            custom_pin: req.code,
            client_ref: req.client_ref,
        };
        let v = Verification::new(id.clone(), api_key.to_string(), first, plan, pin, now);
        self.requests.insert(id.clone(), v);
        self.active_by_number.insert(key, id.clone());
        self.fire_next(&id, now);
        V2Started::Started(id)
    }

    /// The state of a request of `api_key`, brought up to `now`.
    pub fn view(&mut self, api_key: &str, id: &str, now: i64) -> Option<V2View> {
        self.catch_up_one(id, now);
        let v = self.requests.get(id).filter(|v| v.api_key == api_key)?;
        Some(V2View {
            state: v.state,
            channel: v.events.last().map(|e| e.channel),
            steps_left: v.sequence.len().saturating_sub(v.events.len()),
        })
    }

    /// Counts one v2 call against the account's rate limit.
    pub fn admit_call(&mut self, api_key: &str, now: i64) -> bool {
        self.meter.admit(&self.limits, api_key, false, now)
    }
}

/// The v2 `summary` callback of a finished verification.
pub(super) fn summary(v: &Verification) -> Value {
    let iso = |ms: i64| crate::clock::format_utc(ms).replace(' ', "T") + ".000Z";
    let status = match v.state {
        State::Success => "completed",
        State::Failed => "failed",
        State::Expired => "expired",
        State::Cancelled => "cancelled",
        State::InProgress => "in_progress",
    };
    let workflow: Vec<Value> = v
        .events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let last = i + 1 == v.events.len();
            let step = match (last, v.state) {
                (true, State::Success) => "completed",
                (true, State::Failed) => "failed",
                (true, State::Expired) => "expired",
                _ => "unused",
            };
            json!({
                "channel": e.channel.v2_name(),
                "initiated_at": iso(e.at),
                "status": step,
            })
        })
        .collect();
    let mut body = json!({
        "request_id": v.id,
        "submitted_at": iso(v.submitted),
        "status": status,
        "type": "summary",
        "channel_timeout": v.waits.first().copied().unwrap_or(0),
        "workflow": workflow,
        "finalized_at": v.finalized.map(iso),
    });
    if let Some(r) = &v.client_ref {
        body["client_ref"] = json!(r);
    }
    body
}
