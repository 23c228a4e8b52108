//! The guard: stateful abuse limits, checked before any upstream call (so a refused attempt
//! costs no SMS), with refused attempts still counted. Decisions are functions of an injected
//! clock and a `Store` (memory or DynamoDB); rules and modes are in `rules.rs`.
//! Imports `verify/` (numbers, ids), `error` and `log`; `config` and everything above use it.

pub mod clock;
pub mod conformance;
pub mod guarded;
pub mod keys;
pub mod rules;
pub mod store;

use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::future::try_join_all;

use crate::error::ProxyError;
use crate::verify::Number;
pub use clock::{Clock, FakeClock, SystemClock};
pub use guarded::Guarded;
pub use keys::Hasher;
use rules::{DAY, HOUR, MINUTE, Mode, Rule};
pub use rules::{Policy, retry_after_s};
pub use store::any::AnyStore;
use store::key;
pub use store::{Lock, Record, Store, StoreError};

/// Records of started verifications are kept this long (search works on them this long).
const RECORD_TTL: i64 = 7 * DAY;
/// Lock strike counts are remembered this long after the lock ends (for doubling).
const STRIKE_MEMORY: i64 = 30 * DAY;
const RANGE_BLOCK: i64 = 12 * HOUR;
const COUNTRY_BLOCK: (i64, i64) = (12 * HOUR, 7 * DAY);
const WRONG_CODE_LOCK: (i64, i64) = (HOUR, DAY);
const AUTOBLOCK_LEARNING: i64 = 14 * DAY;

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
    /// After an admitted start: the month's estimated spend and its cap, in 1/10000 EUR.
    pub spend_month: Option<(i64, i64)>,
}

/// Who and what a start or trigger is about, as digests.
#[derive(Debug, Clone)]
pub struct Subject {
    pub number: String,
    pub range: String,
    pub calling_code: String,
    pub ip: String,
    /// Estimated cost of one delivery, in 1/10000 EUR.
    pub price: i64,
    pub now: i64,
    /// The number itself, sealed into the record (none for a trigger: already recorded).
    pub plain: Option<Number>,
}

/// The refusal being built up: the first enforced rule names it, the latest `until` decides
/// `Retry-After`; monitored rules are only logged.
struct Verdict<'a> {
    policy: &'a Policy,
    now: i64,
    refused: Option<(Rule, i64)>,
    learning: bool,
}

/// One counter of a call: its key (window included), what it adds, when the item may go, what
/// it may reach, and until when a refusal by it lasts.
struct Step {
    rule: Rule,
    key: String,
    delta: i64,
    end: i64,
    max: i64,
    until: i64,
}

/// Where [`Guard::delivery_steps`] puts the month's spend.
const SPEND_MONTH: usize = 6;

/// An admitted start: the `Retry-After` a concurrent start gets, and the month's estimated
/// spend with its cap (1/10000 EUR; none when the store could not be read).
#[derive(Debug, Clone, Copy)]
pub struct Admitted {
    pub retry_after: u64,
    pub spend_month: Option<(i64, i64)>,
    /// The end of the resend cooldown this start claimed, to open it again if nothing was sent.
    pub cooldown_until: Option<i64>,
}

/// Notes every step whose total went over its limit.
fn apply(v: &mut Verdict<'_>, steps: &[Step], totals: &[i64]) {
    for (step, total) in steps.iter().zip(totals) {
        if *total > step.max {
            v.over(step.rule, step.until);
        }
    }
}

impl<'a> Verdict<'a> {
    fn new(policy: &'a Policy, now: i64, learning: bool) -> Self {
        Self {
            policy,
            now,
            refused: None,
            learning,
        }
    }

    fn mode(&self, rule: Rule) -> Mode {
        match self.policy.mode(rule) {
            Mode::Enforce if rule == Rule::CountryAutoBlock && self.learning => Mode::Monitor,
            m => m,
        }
    }

    fn over(&mut self, rule: Rule, until: i64) {
        match self.mode(rule) {
            Mode::Off => {}
            Mode::Monitor => tracing::warn!(rule = rule.name(), "guard: would refuse (monitor)"),
            Mode::Enforce => {
                let until = self.refused.map_or(until, |(_, u)| u.max(until));
                let first = self.refused.map_or(rule, |(r, _)| r);
                self.refused = Some((first, until));
            }
        }
    }

    fn result(self) -> Result<(), ProxyError> {
        match self.refused {
            None => Ok(()),
            Some((rule, until)) => {
                tracing::warn!(rule = rule.name(), "guard: refused");
                Err(ProxyError::Limited {
                    rule: rule.name(),
                    retry_after: retry_after_s(until, self.now),
                })
            }
        }
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

    /// The subject of a later delivery on a recorded request (`trigger_next_event`).
    pub fn subject_of(&self, record: &Record, ip: Option<IpAddr>) -> Subject {
        Subject {
            number: record.number.clone(),
            range: record.range.clone(),
            calling_code: record.calling_code.clone(),
            ip: self.hasher.ip(ip),
            price: self.policy.price_units(&record.calling_code),
            now: self.now(),
            plain: None,
        }
    }

    pub fn subject(&self, number: &Number, ip: Option<IpAddr>) -> Subject {
        Subject {
            number: self.hasher.number(number),
            range: self.hasher.range(number),
            calling_code: keys::calling_code(number).to_string(),
            ip: self.hasher.ip(ip),
            price: self.policy.price_units(number.digits()),
            now: self.now(),
            plain: Some(number.clone()),
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

    /// Runs a check that reads or writes the store, mapping store trouble by policy.
    async fn checked(
        &self,
        f: impl Future<Output = Result<Result<(), ProxyError>, StoreError>>,
    ) -> Result<(), ProxyError> {
        match f.await {
            Ok(verdict) => verdict,
            Err(e) => self.store_failed(e),
        }
    }

    /// A new verification to `number` from `ip`: every start limit. All counters and reads go
    /// to the store at once (one round trip); then the rare lock writes, then the number's
    /// resend cooldown, claimed last, so of many parallel starts to one number only one passes.
    pub async fn admit_start(&self, s: &Subject) -> Result<Admitted, ProxyError> {
        let mut retry = 60;
        let mut spend_month = None;
        let mut cooldown_until = None;
        self.checked(async {
            let now = s.now;
            let (day, day_end) = rules::window(now, DAY);
            let mut steps = self.delivery_steps(s);
            let range_step = steps.len();
            let range_key = key::range_unverified(&s.range);
            steps.push(self.step(Rule::RangeUnverifiedPerDay, &range_key, DAY, 1, now));
            let (c, range_lock_key) = (&s.calling_code, key::range_lock(&s.range));
            let codes = self.policy.count(Rule::IpCallingCodes).max(0) as usize;
            let country_lock_key = key::country_lock(c);
            let ip_codes_key = key::ip_calling_codes(&s.ip, day);
            let c_unverified_key = key::country_unverified(c, day);
            let c_verified_key = key::country_verified(c, day);
            let (learning, totals, r_lock, c_lock, code_ok, c_unv, c_ver) = tokio::try_join!(
                self.learning(now),
                self.add_all(&steps, now),
                self.store.get_lock(&range_lock_key, now),
                self.store.get_lock(&country_lock_key, now),
                self.store.add_member(&ip_codes_key, c, codes, now, day_end),
                self.store.add(&c_unverified_key, 1, now, day_end),
                self.store.add(&c_verified_key, 0, now, day_end),
            )?;
            let mut v = Verdict::new(&self.policy, now, learning);
            apply(&mut v, &steps, &totals);
            spend_month = Some((totals[SPEND_MONTH], steps[SPEND_MONTH].max));
            if let Some(l) = r_lock.filter(|l| l.until > now) {
                v.over(Rule::RangeUnverifiedPerDay, l.until);
            }
            if let Some(l) = c_lock.filter(|l| l.until > now) {
                v.over(Rule::CountryAutoBlock, l.until);
            }
            if !code_ok {
                v.over(Rule::IpCallingCodes, day_end);
            }
            // Unverified starts per range: a verified check takes one back (see `verified`).
            let range_over = totals[range_step] > steps[range_step].max;
            if range_over && v.mode(Rule::RangeUnverifiedPerDay) == Mode::Enforce {
                let lock = Lock {
                    until: now + RANGE_BLOCK,
                    strikes: 1,
                };
                self.store
                    .set_lock(&range_lock_key, lock, lock.until)
                    .await?;
                v.over(Rule::RangeUnverifiedPerDay, lock.until);
            }
            self.country(s, c_lock, c_unv, c_ver, &mut v).await?;
            // The gate last, and only for a start nothing else refused: of parallel starts, the
            // one that takes it is one that may go ahead (else none might).
            if self.policy.mode(Rule::NumberCooldown) != Mode::Off && v.refused.is_none() {
                let wait = rules::cooldown(totals[0], self.policy.limit(Rule::NumberCooldown));
                retry = retry_after_s(now + wait, now);
                let gate = key::cooldown_gate(&s.number);
                match self.store.claim(&gate, now, now + wait).await? {
                    Ok(()) => cooldown_until = Some(now + wait),
                    Err(open_at) => {
                        retry = retry_after_s(open_at, now);
                        v.over(Rule::NumberCooldown, open_at);
                    }
                }
            }
            Ok(v.result())
        })
        .await?;
        Ok(Admitted {
            retry_after: retry,
            spend_month,
            cooldown_until,
        })
    }

    /// `trigger_next_event` is another delivery: it counts as a start, and needs
    /// `trigger_gap` seconds since the start or the last trigger of that request.
    pub async fn admit_trigger(&self, s: &Subject, request_id: &str) -> Result<(), ProxyError> {
        self.checked(async {
            let steps = self.delivery_steps(s);
            let totals = self.add_all(&steps, s.now).await?;
            let mut v = Verdict::new(&self.policy, s.now, false);
            apply(&mut v, &steps, &totals);
            if self.policy.mode(Rule::TriggerGap) != Mode::Off && v.refused.is_none() {
                let gap = self.policy.trigger_gap_ms();
                if let Err(open_at) = self
                    .store
                    .claim(&key::trigger_gate(request_id), s.now, s.now + gap)
                    .await?
                {
                    v.over(Rule::TriggerGap, open_at);
                }
            }
            Ok(v.result())
        })
        .await
    }

    /// Whether the country auto-block is still learning (a deployment's first 14 days).
    async fn learning(&self, now: i64) -> Result<bool, StoreError> {
        if self.policy.mode(Rule::CountryAutoBlock) != Mode::Enforce {
            return Ok(false);
        }
        let since = self
            .store
            .first_value(key::DEPLOYED, now, now + 10 * 365 * DAY)
            .await?;
        Ok(now - since < AUTOBLOCK_LEARNING)
    }

    /// A counter in the current `len` window: over its rule's limit until the window ends.
    fn step(&self, rule: Rule, base: &str, len: i64, delta: i64, now: i64) -> Step {
        let (index, end) = rules::window(now, len);
        Step {
            rule,
            key: key::windowed(base, index),
            delta,
            end,
            max: self.policy.count(rule),
            until: end,
        }
    }

    /// The counters every delivery moves: number (first: its hour total sets the cooldown
    /// step), IP, global, and the estimated spend.
    fn delivery_steps(&self, s: &Subject) -> Vec<Step> {
        let (n, i, now) = (&s.number, &s.ip, s.now);
        let eur = |rule| rules::eur_units(self.policy.limit(rule));
        let (day, day_end) = rules::window(now, DAY);
        vec![
            self.step(Rule::NumberPerHour, &key::number_per_hour(n), HOUR, 1, now),
            self.step(Rule::NumberPerDay, &key::number_per_day(n), DAY, 1, now),
            self.step(Rule::IpPer10Min, &key::ip_per_10min(i), 10 * MINUTE, 1, now),
            self.step(Rule::IpPerDay, &key::ip_per_day(i), DAY, 1, now),
            self.step(Rule::GlobalStartsPerDay, key::GLOBAL_STARTS, DAY, 1, now),
            Step {
                rule: Rule::SpendPerDay,
                key: key::spend_day(day),
                delta: s.price,
                end: day_end,
                max: eur(Rule::SpendPerDay),
                until: day_end,
            },
            Step {
                rule: Rule::SpendPerMonth,
                key: key::spend_month(&rules::month(now)),
                delta: s.price,
                end: now + 32 * DAY,
                max: eur(Rule::SpendPerMonth),
                // Until the next UTC month, at most 31 days: a day, and let the caller retry.
                until: now + DAY,
            },
        ]
    }

    /// Adds every step's delta at once; the totals in the same order.
    async fn add_all(&self, steps: &[Step], now: i64) -> Result<Vec<i64>, StoreError> {
        try_join_all(
            steps
                .iter()
                .map(|st| self.store.add(&st.key, st.delta, now, st.end)),
        )
        .await
    }

    /// Per calling code: unverified starts today against max(limit, 0.3 x verified today).
    async fn country(
        &self,
        s: &Subject,
        lock: Option<Lock>,
        unverified: i64,
        verified: i64,
        v: &mut Verdict<'_>,
    ) -> Result<(), StoreError> {
        let (now, c) = (s.now, &s.calling_code);
        let limit = self.policy.limit(Rule::CountryAutoBlock);
        if (unverified as f64) <= rules::autoblock_threshold(limit, verified) {
            return Ok(());
        }
        if v.mode(Rule::CountryAutoBlock) != Mode::Enforce {
            v.over(Rule::CountryAutoBlock, now + COUNTRY_BLOCK.0);
            return Ok(());
        }
        if lock.is_some_and(|l| l.until > now) {
            return Ok(()); // already blocked, and already counted above
        }
        let strikes = lock.map_or(0, |l| l.strikes) + 1;
        let until = now + rules::lock_length(strikes, COUNTRY_BLOCK.0, COUNTRY_BLOCK.1);
        tracing::warn!(calling_code = %c, strikes, "guard: country auto-block");
        self.store
            .set_lock(
                &key::country_lock(c),
                Lock { until, strikes },
                until + STRIKE_MEMORY,
            )
            .await?;
        v.over(Rule::CountryAutoBlock, until);
        Ok(())
    }

    /// After a start the proxy made: remember the id (so later calls on it are ours) and
    /// start its trigger gap.
    pub async fn started(&self, s: &Subject, request_id: &str) {
        let sealed = s
            .plain
            .as_ref()
            .and_then(|n| self.hasher.seal(n, request_id));
        let record = Record {
            number: s.number.clone(),
            sealed: sealed.unwrap_or_default(),
            range: s.range.clone(),
            calling_code: s.calling_code.clone(),
            ip: s.ip.clone(),
            created_at: s.now,
            verified: false,
            outcome: None,
        };
        let gap = self.policy.trigger_gap_ms();
        let gate = key::trigger_gate(request_id);
        let result = tokio::try_join!(
            self.store
                .put_record(request_id, &record, s.now + RECORD_TTL),
            self.store.claim(&gate, s.now, s.now + gap),
        );
        if let Err(e) = result {
            tracing::error!(error = %e, "guard: could not record a started verification");
        }
    }

    /// After a start Verify refused (throttled, a blocked network, an outage: nothing was
    /// sent): the number's resend cooldown opens again, so the retry the answer invites is
    /// not held back by a message that never left. The counters keep the attempt.
    pub async fn not_sent(&self, s: &Subject, cooldown_until: Option<i64>) {
        let Some(until) = cooldown_until else {
            return;
        };
        let gate = key::cooldown_gate(&s.number);
        if let Err(e) = self.store.release(&gate, until).await {
            tracing::warn!(error = %e, "guard: could not reopen a cooldown after an unsent start");
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

    /// Before a code is checked: the number's wrong-code lock and the IP's wrong codes.
    pub async fn admit_check(&self, record: &Record, ip: &str) -> Result<(), ProxyError> {
        let now = self.now();
        self.checked(async {
            let lock_key = key::wrong_code_lock(&record.number);
            // A zero add reads the hour's wrong codes from this address.
            let wrong = self.step(
                Rule::IpWrongCodesPerHour,
                &key::ip_wrong_codes(ip),
                HOUR,
                0,
                now,
            );
            let (lock, total) = tokio::try_join!(
                self.store.get_lock(&lock_key, now),
                self.store.add(&wrong.key, 0, now, wrong.end),
            )?;
            if self.policy.mode(Rule::NumberWrongCodesPerDay) == Mode::Enforce
                && let Some(l) = lock.filter(|l| l.until > now)
            {
                return Ok(Err(ProxyError::CodeLocked {
                    retry_after: retry_after_s(l.until, now),
                }));
            }
            let mut v = Verdict::new(&self.policy, now, false);
            // Over when the hour's wrong codes already reached the limit.
            if total >= wrong.max {
                v.over(Rule::IpWrongCodesPerHour, wrong.until);
            }
            Ok(v.result())
        })
        .await
    }

    /// After a check: wrong codes count per IP and per number (locking the number past the
    /// day's limit); a verified one takes back its range's and country's unverified start.
    pub async fn checked_code(&self, request_id: &str, record: &Record, ip: &str, status: &str) {
        let now = self.now();
        let result = async {
            match status {
                "16" => self.wrong_code(record, ip, now).await,
                "17" => {
                    self.store.finish(request_id, "FAILED", now, now).await?;
                    self.wrong_code(record, ip, now).await
                }
                "0" => self.verified(request_id, record, now).await,
                _ => Ok(()),
            }
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "guard: could not count a check");
        }
    }

    /// How a verification ended, reported by a v2 status event or our own cancel: recorded
    /// once (the first report wins), and a success credited to the conversion figures as a
    /// right code is. False when the id is not ours or already had an outcome.
    pub async fn finished(&self, request_id: &str, outcome: &str, at: i64) -> bool {
        let now = self.now();
        let result = async {
            // `finish` is false for an id that is not ours, so most outcomes cost one write.
            let first = self.store.finish(request_id, outcome, at, now).await?;
            // Only the report that set the outcome may credit it (a late or replayed
            // "completed" after an expiry must not); crediting needs the record's digests.
            if first
                && outcome == "SUCCESS"
                && let Some(record) = self.store.get_record(request_id, now).await?
            {
                self.verified(request_id, &record, now).await?;
            }
            Ok::<bool, StoreError>(first)
        }
        .await;
        result.unwrap_or_else(|e| {
            self.store_errors.fetch_add(1, Ordering::Relaxed);
            tracing::error!(error = %e, "guard: could not record an outcome");
            false
        })
    }

    async fn wrong_code(&self, record: &Record, ip: &str, now: i64) -> Result<(), StoreError> {
        let steps = [
            self.step(
                Rule::IpWrongCodesPerHour,
                &key::ip_wrong_codes(ip),
                HOUR,
                1,
                now,
            ),
            self.step(
                Rule::NumberWrongCodesPerDay,
                &key::number_wrong_codes(&record.number),
                DAY,
                1,
                now,
            ),
        ];
        let totals = self.add_all(&steps, now).await?;
        if totals[1] > steps[1].max
            && self.policy.mode(Rule::NumberWrongCodesPerDay) == Mode::Enforce
        {
            let lock_key = key::wrong_code_lock(&record.number);
            let old = self.store.get_lock(&lock_key, now).await?;
            if old.is_none_or(|l| l.until <= now) {
                let strikes = old.map_or(0, |l| l.strikes) + 1;
                let len = rules::lock_length(strikes, WRONG_CODE_LOCK.0, WRONG_CODE_LOCK.1);
                let lock = Lock {
                    until: now + len,
                    strikes,
                };
                self.store
                    .set_lock(&lock_key, lock, lock.until + STRIKE_MEMORY)
                    .await?;
            }
        }
        Ok(())
    }

    async fn verified(&self, request_id: &str, r: &Record, now: i64) -> Result<(), StoreError> {
        if !self.store.mark_verified(request_id, now).await? {
            return Ok(());
        }
        // Credited to the day of the start (the window its count went into).
        let (day, end) = rules::window(r.created_at, DAY);
        let c = &r.calling_code;
        let keys = [
            key::windowed(&key::range_unverified(&r.range), day),
            key::country_unverified(c, day),
            key::country_verified(c, day),
        ];
        tokio::try_join!(
            self.store.add(&keys[0], -1, now, end),
            self.store.add(&keys[1], -1, now, end),
            self.store.add(&keys[2], 1, now, end),
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
