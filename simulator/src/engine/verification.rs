//! One verification and the values it is made of.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Sms,
    /// v1 calls a voice call "tts"; the v2 face says "voice".
    Tts,
    /// v2 only.
    Email,
    /// v2 only.
    Whatsapp,
}

impl Channel {
    /// The v2 wire name (the engine's own summaries and the v2 face both use it).
    pub fn v2_name(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Tts => "voice",
            Self::Email => "email",
            Self::Whatsapp => "whatsapp",
        }
    }
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
pub(super) struct Event {
    pub(super) id: String,
    pub(super) channel: Channel,
    pub(super) at: i64,
}

#[derive(Debug, Clone)]
pub(super) struct CheckRecord {
    pub(super) at: i64,
    pub(super) code: String,
    pub(super) valid: bool,
}

#[derive(Debug, Clone)]
pub(super) enum Purpose {
    Brand(String),
    Payment { payee: String, amount: String },
}

#[derive(Debug, Clone)]
pub(super) struct Verification {
    pub(super) id: String,
    pub(super) api_key: String,
    pub(super) number: String,
    pub(super) purpose: Purpose,
    pub(super) sender_id: String,
    pub(super) code_length: usize,
    pub(super) sequence: Vec<Channel>,
    /// Where each step goes (v2: a number or an e-mail address per channel); empty for v1,
    /// where every step goes to `number`.
    pub(super) to: Vec<String>,
    pub(super) waits: Vec<i64>,
    pub(super) pin_expiry: i64,
    pub(super) custom_pin: Option<String>,
    /// v2's `client_ref`, echoed in callbacks.
    pub(super) client_ref: Option<String>,
    pub(super) pin: String,
    pub(super) pin_at: i64,
    pub(super) wrong: u32,
    pub(super) events: Vec<Event>,
    pub(super) checks: Vec<CheckRecord>,
    pub(super) submitted: i64,
    pub(super) finalized: Option<i64>,
    pub(super) state: State,
    /// The key this verification has in the engine's due-time index.
    pub(super) due: Option<i64>,
}

/// What the start call asked for: everything about a verification that is not its state.
pub(super) struct Plan {
    pub(super) purpose: Purpose,
    pub(super) sender_id: String,
    pub(super) code_length: usize,
    pub(super) sequence: Vec<Channel>,
    pub(super) to: Vec<String>,
    pub(super) waits: Vec<i64>,
    pub(super) pin_expiry: i64,
    pub(super) custom_pin: Option<String>,
    pub(super) client_ref: Option<String>,
}

impl Verification {
    /// A new IN PROGRESS verification whose PIN is valid from `now`; no event has fired yet.
    pub(super) fn new(
        id: String,
        api_key: String,
        number: String,
        plan: Plan,
        pin: String,
        now: i64,
    ) -> Self {
        Self {
            id,
            api_key,
            number,
            purpose: plan.purpose,
            sender_id: plan.sender_id,
            code_length: plan.code_length,
            sequence: plan.sequence,
            to: plan.to,
            waits: plan.waits,
            pin_expiry: plan.pin_expiry,
            custom_pin: plan.custom_pin,
            client_ref: plan.client_ref,
            pin,
            pin_at: now,
            wrong: 0,
            events: Vec::new(),
            checks: Vec::new(),
            submitted: now,
            finalized: None,
            state: State::InProgress,
            due: None,
        }
    }

    pub(super) fn pin_expired(&self, at: i64) -> bool {
        at - self.pin_at >= self.pin_expiry * 1000
    }

    /// When this verification next changes by itself (its next event or its expiry).
    pub(super) fn next_due(&self) -> Option<i64> {
        if self.state != State::InProgress {
            return None;
        }
        let last = self.events.last()?;
        Some(last.at + self.waits[self.events.len() - 1] * 1000)
    }
}
