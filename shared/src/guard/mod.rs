//! The guard: stateful abuse limits, checked before any upstream call (so a refused attempt
//! costs no SMS). A refusal spends nothing honest users share: only the refused caller's own
//! counters (its address) count it; the number's, the segments' and the budgets' counters move
//! only for a start that goes ahead (`start.rs`). A number's owner (the address that verified
//! it before) has an allowance nobody else can spend, and wrong codes hold back only the
//! source that typed them (`check.rs`). Decisions are functions of an injected clock and a
//! `Store` (memory or DynamoDB); rules and modes are in `rules.rs`, budgets in `budgets.rs`.
//! Imports `verify/` (numbers, ids), `error` and `log`; `config` and everything above use it.

pub mod admin;
pub mod budgets;
pub mod check;
pub mod clock;
pub mod conformance;
pub mod explain;
pub mod guarded;
pub mod keys;
pub mod prices;
pub mod rules;
pub mod segments;
pub mod source;
pub mod start;
pub mod started;
pub mod store;
pub mod verdict;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ProxyError;
use crate::verify::Number;
pub use budgets::Class;
pub use clock::{Clock, FakeClock, SystemClock};
pub use guarded::Guarded;
pub use keys::Hasher;
use rules::{DAY, MINUTE};
pub use rules::{Policy, retry_after_s};
pub use source::Source;
pub use start::Admitted;
pub use store::any::AnyStore;
pub use store::{Lock, Peeked, Record, Store, StoreError};

/// Records of started verifications are kept this long (search works on them this long).
const RECORD_TTL: i64 = 7 * DAY;
/// A verified number is "returning", and its verifying address its owner, this long.
const RETURNING_MEMORY: i64 = 400 * DAY;
/// Lock strike counts are remembered this long after the lock ends (for doubling).
const STRIKE_MEMORY: i64 = 30 * DAY;
/// How long a verification lives when its workflow is not known (Verify v1's default PIN).
const DEFAULT_LIFETIME: i64 = 5 * MINUTE;

pub struct Guard {
    policy: Policy,
    store: AnyStore,
    hasher: Hasher,
    clock: Arc<dyn Clock>,
    /// What to do when the store cannot be reached: refuse (503) unless configured open.
    fail_open: bool,
    /// Store failures not yet reported in a metric (taken by the invocation that ends next).
    store_errors: AtomicU64,
}

/// What the guard learned about one call, for the log line, the metrics and the verification
/// token. `Number`'s `Debug` is masked.
#[derive(Debug, Default, Clone)]
pub struct Seen {
    /// The number: a start's own, or a check's opened from its record.
    pub number: Option<Number>,
    /// A short keyed digest of the number: log lines about one number can be matched.
    pub number_digest: Option<String>,
    pub calling_code: Option<String>,
    /// After an admitted start: its budget's month spend and cap, in 1/10000 EUR.
    pub spend_month: Option<(i64, i64)>,
    /// A start answered with the caller's own live request again: no new verification.
    pub replayed: bool,
}

/// Who and what a start or trigger is about, as digests.
#[derive(Debug, Clone)]
pub struct Subject {
    pub number: String,
    pub range: String,
    /// The network prefix's digest (empty: none known, and no prefix rule).
    pub prefix: String,
    pub calling_code: String,
    /// The source's digest (`Guard::source_of`): empty for a backend that named no end user,
    /// and then the per-address rules are off.
    pub ip: String,
    /// The IPv6 /48's digest; none for IPv4.
    pub net: Option<String>,
    /// Estimated cost of one SMS (or WhatsApp) delivery and of one call, in 1/10000 EUR.
    pub price: i64,
    pub call_price: i64,
    /// Deliveries the workflow makes if the code is never entered (v1 workflow 1: 3), and
    /// how many of them are calls (workflow 1: 2).
    pub deliveries: u8,
    pub calls: u8,
    /// How long the verification can live (Verify refuses another start to the number
    /// meanwhile).
    pub lifetime_ms: i64,
    pub now: i64,
    /// The number itself, sealed into the record (none for a trigger: already recorded).
    pub plain: Option<Number>,
    /// The authenticated caller's digest (empty: none), for its own budget.
    pub caller: String,
    /// The App Check token's digest (empty: none), for its starts per hour.
    pub token: String,
    /// The caller's `Idempotency-Key` (as its store key) and the body's digest.
    pub idempotency: Option<(String, String)>,
}

impl Subject {
    /// With the workflow's deliveries and lifetime (the default is one delivery, 5 minutes).
    pub fn with_workflow(mut self, deliveries: u8, lifetime_ms: i64) -> Self {
        self.deliveries = deliveries.max(1);
        self.calls = self.calls.min(self.deliveries);
        self.lifetime_ms = lifetime_ms.max(MINUTE);
        self
    }

    /// How many of the workflow's deliveries are calls.
    pub fn with_calls(mut self, calls: u8) -> Self {
        self.calls = calls.min(self.deliveries);
        self
    }

    /// What the workflow may cost: every delivery it makes, calls at their price.
    pub fn cost(&self) -> i64 {
        let texts = i64::from(self.deliveries - self.calls.min(self.deliveries));
        self.price * texts + self.call_price * i64::from(self.calls)
    }
}

impl Guard {
    pub fn new(
        policy: Policy,
        store: AnyStore,
        hasher: Hasher,
        clock: Arc<dyn Clock>,
        fail_open: bool,
    ) -> Self {
        Self {
            policy,
            store,
            hasher,
            clock,
            fail_open,
            store_errors: AtomicU64::new(0),
        }
    }

    /// Store failures since the last call (each is reported once).
    pub fn take_store_errors(&self) -> u64 {
        self.store_errors.swap(0, Ordering::Relaxed)
    }

    /// The log line's digest of a number: the first 16 hex digits of its keyed digest.
    pub fn log_digest(number_digest: &str) -> String {
        number_digest.chars().take(16).collect()
    }

    /// The number a record was started for.
    pub fn open(&self, record: &Record, request_id: &str) -> Option<Number> {
        self.hasher.open(&record.sealed, request_id)
    }

    /// Fills in what a record says about its number.
    pub fn see_record(&self, seen: &mut Seen, record: &Record, request_id: &str) {
        seen.number = self.open(record, request_id);
        seen.number_digest = Some(Self::log_digest(&record.number));
        seen.calling_code = Some(record.calling_code.clone());
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The digest a source is counted by: its end-user key, else its address; empty for a
    /// backend that named no end user (no per-address rule applies to it).
    pub fn source_of(&self, from: &Source) -> String {
        match from {
            Source::EndUser { key: Some(k), .. } => self.hasher.digest("user", k),
            Source::Peer(ip) | Source::EndUser { ip, .. } => self.hasher.ip(*ip),
            Source::Backend => String::new(),
        }
    }

    /// The subject with the caller's `Idempotency-Key`, scoped to its source, and a digest of
    /// what it asked (`body`).
    pub fn with_idempotency(&self, mut s: Subject, key: &str, body: &str) -> Subject {
        let scoped = self.hasher.digest("idem", &format!("{}|{key}", s.ip));
        s.idempotency = Some((
            store::key::idempotency(&scoped),
            self.hasher.digest("idem-body", body),
        ));
        s
    }

    /// An authenticated caller as its budget's key.
    pub fn caller_digest(&self, caller: &str) -> String {
        self.hasher.digest("caller", caller)
    }

    /// An App Check token as its counters' key (and, cut short, its log field).
    pub fn token_digest(&self, token_id: &str) -> String {
        self.hasher.digest("app-token", token_id)
    }

    /// [`Guard::subject`] for any source.
    pub fn subject_from(&self, number: &Number, from: &Source) -> Subject {
        let mut s = self.subject(number, from.ip());
        s.ip = self.source_of(from);
        s.net = match from {
            Source::Backend => None,
            _ => s.net,
        };
        s
    }

    /// The subject of a later delivery on a recorded request (`trigger_next_event`).
    pub fn subject_of(&self, record: &Record, from: &Source) -> Subject {
        Subject {
            number: record.number.clone(),
            range: record.range.clone(),
            prefix: record.prefix.clone(),
            calling_code: record.calling_code.clone(),
            ip: self.source_of(from),
            caller: record.caller.clone(),
            token: String::new(),
            net: self.hasher.net(from.ip()),
            price: self.policy.price_units(&record.calling_code),
            call_price: self.policy.call_price_units(&record.calling_code),
            deliveries: 1,
            calls: 0,
            lifetime_ms: DEFAULT_LIFETIME,
            now: self.now(),
            plain: None,
            idempotency: None,
        }
    }

    pub fn subject(&self, number: &Number, ip: Option<IpAddr>) -> Subject {
        Subject {
            number: self.hasher.number(number),
            range: self.hasher.range(number),
            prefix: self.hasher.prefix(number),
            calling_code: keys::calling_code(number).to_string(),
            ip: self.hasher.ip(ip),
            net: self.hasher.net(ip),
            price: self.policy.price_units(number.digits()),
            call_price: self.policy.call_price_units(number.digits()),
            deliveries: 1,
            calls: 0,
            lifetime_ms: DEFAULT_LIFETIME,
            now: self.now(),
            plain: Some(number.clone()),
            idempotency: None,
            caller: String::new(),
            token: String::new(),
        }
    }

    /// Store trouble: refuse (fail closed) or, when configured, let the call through.
    fn store_failed(&self, e: StoreError) -> Result<(), ProxyError> {
        tracing::error!(error = %e, fail_open = self.fail_open, "guard: store unavailable");
        self.store_errors.fetch_add(1, Ordering::Relaxed);
        if self.fail_open {
            Ok(())
        } else {
            Err(ProxyError::GuardUnavailable)
        }
    }

    /// A store failure after the decision (a count or a mark that could not be written):
    /// logged and reported, never the caller's error.
    fn store_lost(&self, e: StoreError, what: &str) {
        self.store_errors.fetch_add(1, Ordering::Relaxed);
        tracing::error!(error = %e, "guard: could not {what}");
    }

    /// Runs a check that reads or writes the store, mapping store trouble by policy.
    async fn checked<T>(
        &self,
        f: impl Future<Output = Result<Result<T, ProxyError>, StoreError>>,
    ) -> Result<Option<T>, ProxyError> {
        match f.await {
            Ok(verdict) => verdict.map(Some),
            Err(e) => self.store_failed(e).map(|()| None),
        }
    }

    /// Removes the memory store's expired items now, giving their memory back; how many went
    /// (DynamoDB expires items itself: none here).
    pub fn sweep_expired(&self) -> usize {
        match &self.store {
            AnyStore::Memory(m) => m.sweep(self.now()),
            AnyStore::Dynamo(_) => 0,
        }
    }

    /// Opens the store's connection with one read of a key nothing writes (`deps::warm_up`).
    pub async fn warm_up(&self) {
        if let Err(e) = self.store.get_record("warm-up", self.now()).await {
            tracing::warn!(error = %e, "warm-up: could not reach the guard's store");
        }
    }

    /// The record of a request id this deployment issued; anything else is refused without
    /// calling Vonage.
    pub async fn known(&self, request_id: &str) -> Result<Option<Record>, ProxyError> {
        match self.store.get_record(request_id, self.now()).await {
            Ok(Some(r)) => Ok(Some(r)),
            Ok(None) => Err(ProxyError::UnknownRequest),
            Err(e) => self.store_failed(e).map(|()| None),
        }
    }
}

#[cfg(test)]
mod tests;
