//! The guard: stateful abuse limits, checked before any upstream call (so a refused attempt
//! costs no SMS), with refused attempts still counted. Decisions are functions of an injected
//! clock and a `Store` (memory or DynamoDB); rules and modes are in `rules.rs`.
//! Imports `verify/` (numbers, ids), `error` and `log`; `config` and everything above use it.

pub mod clock;
pub mod conformance;
pub mod dynamo;
pub mod guarded;
pub mod keys;
pub mod memory;
pub mod rules;
pub mod store;

use std::net::IpAddr;
use std::sync::Arc;

use crate::error::ProxyError;
use crate::verify::Number;
pub use clock::{Clock, FakeClock, SystemClock};
pub use guarded::Guarded;
pub use keys::Hasher;
use rules::{DAY, HOUR, MINUTE, Mode, Rule, SECOND};
pub use rules::{Policy, retry_after_s};
pub use store::{AnyStore, Lock, Record, Store, StoreError};

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
}

/// The refusal being built up: the first enforced rule names it, the latest `until` decides
/// `Retry-After`; monitored rules are only logged.
struct Verdict<'a> {
    policy: &'a Policy,
    now: i64,
    refused: Option<(Rule, i64)>,
    learning: bool,
}

impl Verdict<'_> {
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
        }
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_hasher(mut self, hasher: Hasher) -> Self {
        self.hasher = hasher;
        self
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    pub fn subject(&self, number: &Number, ip: Option<IpAddr>) -> Subject {
        Subject {
            number: self.hasher.number(number),
            range: self.hasher.range(number),
            calling_code: keys::calling_code(number).to_string(),
            ip: self.hasher.ip(ip),
            price: self.policy.price_units(number.digits()),
            now: self.now(),
        }
    }

    /// Store trouble: refuse (fail closed) or, when configured, let the call through.
    fn store_failed(&self, e: StoreError) -> Result<(), ProxyError> {
        tracing::error!(error = %e, fail_open = self.fail_open, "guard: store unavailable");
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

    /// A new verification to `number` from `ip`: every start limit. The number's resend
    /// cooldown is claimed here, so of many parallel starts to one number only one passes.
    pub async fn admit_start(&self, s: &Subject) -> Result<u64, ProxyError> {
        let mut retry = 60;
        self.checked(async {
            let mut v = self.verdict(s.now).await?;
            let (in_hour, _) = self.count_start(s, &mut v).await?;
            self.start_only(s, in_hour, &mut v, &mut retry).await?;
            Ok(v.result())
        })
        .await?;
        Ok(retry)
    }

    /// `trigger_next_event` is another delivery: it counts as a start, and needs
    /// `trigger_gap` seconds since the start or the last trigger of that request.
    pub async fn admit_trigger(&self, s: &Subject, request_id: &str) -> Result<(), ProxyError> {
        self.checked(async {
            let mut v = self.verdict(s.now).await?;
            self.count_start(s, &mut v).await?;
            if self.policy.mode(Rule::TriggerGap) != Mode::Off {
                let gap = (self.policy.limit(Rule::TriggerGap) * SECOND as f64) as i64;
                if let Err(open_at) = self
                    .store
                    .claim(&format!("gate:t:{request_id}"), s.now, s.now + gap)
                    .await?
                {
                    v.over(Rule::TriggerGap, open_at);
                }
            }
            Ok(v.result())
        })
        .await
    }

    async fn verdict(&self, now: i64) -> Result<Verdict<'_>, StoreError> {
        let mut learning = false;
        if self.policy.mode(Rule::CountryAutoBlock) == Mode::Enforce {
            let since = self
                .store
                .first_value("g:deployed", now, now + 10 * 365 * DAY)
                .await?;
            learning = now - since < AUTOBLOCK_LEARNING;
        }
        Ok(Verdict {
            policy: &self.policy,
            now,
            refused: None,
            learning,
        })
    }

    /// One counter step: adds 1 in the current window and notes the rule if over its limit.
    async fn count(
        &self,
        v: &mut Verdict<'_>,
        rule: Rule,
        key: &str,
        len: i64,
        delta: i64,
    ) -> Result<i64, StoreError> {
        let (index, end) = rules::window(v.now, len);
        let total = self
            .store
            .add(&format!("{key}:{index}"), delta, v.now, end)
            .await?;
        if total > self.policy.count(rule) {
            v.over(rule, end);
        }
        Ok(total)
    }

    /// The counters every delivery moves: number, IP, global, spend. Returns the starts to
    /// this number in this hour (for the cooldown step) and the day's spend.
    async fn count_start(
        &self,
        s: &Subject,
        v: &mut Verdict<'_>,
    ) -> Result<(i64, i64), StoreError> {
        let n = &s.number;
        let i = &s.ip;
        let in_hour = self
            .count(v, Rule::NumberPerHour, &format!("n:{n}:h"), HOUR, 1)
            .await?;
        self.count(v, Rule::NumberPerDay, &format!("n:{n}:d"), DAY, 1)
            .await?;
        self.count(v, Rule::IpPer10Min, &format!("i:{i}:10m"), 10 * MINUTE, 1)
            .await?;
        self.count(v, Rule::IpPerDay, &format!("i:{i}:d"), DAY, 1)
            .await?;
        self.count(v, Rule::GlobalStartsPerDay, "g:starts:d", DAY, 1)
            .await?;
        let price = s.price;
        let (day, day_end) = rules::window(v.now, DAY);
        let spent = self
            .store
            .add(&format!("g:spend:d:{day}"), price, v.now, day_end)
            .await?;
        if spent > (self.policy.limit(Rule::SpendPerDay) * 10_000.0) as i64 {
            v.over(Rule::SpendPerDay, day_end);
        }
        let month_key = format!("g:spend:m:{}", rules::month(v.now));
        let spent_month = self
            .store
            .add(&month_key, price, v.now, v.now + 32 * DAY)
            .await?;
        if spent_month > (self.policy.limit(Rule::SpendPerMonth) * 10_000.0) as i64 {
            // Until the next UTC month: at most 31 days; say a day and let the caller retry.
            v.over(Rule::SpendPerMonth, v.now + DAY);
        }
        Ok((in_hour, spent))
    }

    /// Rules only a new verification meets: blocks, calling codes per IP, ranges, countries,
    /// and the resend cooldown.
    async fn start_only(
        &self,
        s: &Subject,
        in_hour: i64,
        v: &mut Verdict<'_>,
        retry: &mut u64,
    ) -> Result<(), StoreError> {
        let now = s.now;
        let (day, day_end) = rules::window(now, DAY);
        if let Some(l) = self
            .store
            .get_lock(&format!("lock:r:{}", s.range), now)
            .await?
            && l.until > now
        {
            v.over(Rule::RangeUnverifiedPerDay, l.until);
        }
        let country_lock = format!("lock:c:{}", s.calling_code);
        let blocked = self.store.get_lock(&country_lock, now).await?;
        if let Some(l) = blocked.filter(|l| l.until > now) {
            v.over(Rule::CountryAutoBlock, l.until);
        }
        let codes = self.policy.count(Rule::IpCallingCodes).max(0) as usize;
        if !self
            .store
            .add_member(
                &format!("i:{}:cc:{day}", s.ip),
                &s.calling_code,
                codes,
                now,
                day_end,
            )
            .await?
        {
            v.over(Rule::IpCallingCodes, day_end);
        }
        // Unverified starts per range: a verified check takes one back (see `verified`).
        let range_key = format!("r:{}:unv", s.range);
        let unverified = self
            .count(v, Rule::RangeUnverifiedPerDay, &range_key, DAY, 1)
            .await?;
        if unverified > self.policy.count(Rule::RangeUnverifiedPerDay)
            && v.mode(Rule::RangeUnverifiedPerDay) == Mode::Enforce
        {
            let lock = Lock {
                until: now + RANGE_BLOCK,
                strikes: 1,
            };
            self.store
                .set_lock(&format!("lock:r:{}", s.range), lock, lock.until)
                .await?;
            v.over(Rule::RangeUnverifiedPerDay, lock.until);
        }
        self.country(s, blocked, v).await?;
        // The gate last, and only for a start nothing else refused: of parallel starts, the
        // one that takes it is one that may go ahead (else none might).
        if self.policy.mode(Rule::NumberCooldown) != Mode::Off && v.refused.is_none() {
            let wait = rules::cooldown(in_hour, self.policy.limit(Rule::NumberCooldown));
            *retry = retry_after_s(now + wait, now);
            let gate = format!("gate:n:{}", s.number);
            if let Err(open_at) = self.store.claim(&gate, now, now + wait).await? {
                *retry = retry_after_s(open_at, now);
                v.over(Rule::NumberCooldown, open_at);
            }
        }
        Ok(())
    }

    /// Per calling code: unverified starts today against max(limit, 0.3 x verified today).
    async fn country(
        &self,
        s: &Subject,
        lock: Option<Lock>,
        v: &mut Verdict<'_>,
    ) -> Result<(), StoreError> {
        let now = s.now;
        let (day, day_end) = rules::window(now, DAY);
        let c = &s.calling_code;
        let unverified = self
            .store
            .add(&format!("c:{c}:unv:{day}"), 1, now, day_end)
            .await?;
        let verified = self
            .store
            .add(&format!("c:{c}:ver:{day}"), 0, now, day_end)
            .await?;
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
                &format!("lock:c:{c}"),
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
        let record = Record {
            number: s.number.clone(),
            range: s.range.clone(),
            calling_code: s.calling_code.clone(),
            ip: s.ip.clone(),
            created_at: s.now,
            verified: false,
        };
        let gap = (self.policy.limit(Rule::TriggerGap) * SECOND as f64) as i64;
        let result = async {
            self.store
                .put_record(request_id, &record, s.now + RECORD_TTL)
                .await?;
            self.store
                .claim(&format!("gate:t:{request_id}"), s.now, s.now + gap)
                .await
                .map(|_| ())
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "guard: could not record a started verification");
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
            let mut v = self.verdict_plain(now);
            if self.policy.mode(Rule::NumberWrongCodesPerDay) == Mode::Enforce
                && let Some(l) = self
                    .store
                    .get_lock(&format!("lock:nw:{}", record.number), now)
                    .await?
                && l.until > now
            {
                return Ok(Err(ProxyError::CodeLocked {
                    retry_after: retry_after_s(l.until, now),
                }));
            }
            self.count(
                &mut v,
                Rule::IpWrongCodesPerHour,
                &format!("i:{ip}:wrong"),
                HOUR,
                0,
            )
            .await
            .map(|total| {
                // Over when the hour's wrong codes already reached the limit.
                if total >= self.policy.count(Rule::IpWrongCodesPerHour) {
                    let (_, end) = rules::window(now, HOUR);
                    v.over(Rule::IpWrongCodesPerHour, end);
                }
            })?;
            Ok(v.result())
        })
        .await
    }

    fn verdict_plain(&self, now: i64) -> Verdict<'_> {
        Verdict {
            policy: &self.policy,
            now,
            refused: None,
            learning: false,
        }
    }

    /// After a check: wrong codes count per IP and per number (locking the number past the
    /// day's limit); a verified one takes back its range's and country's unverified start.
    pub async fn checked_code(&self, request_id: &str, record: &Record, ip: &str, status: &str) {
        let now = self.now();
        let result = async {
            match status {
                "16" | "17" => self.wrong_code(record, ip, now).await,
                "0" => self.verified(request_id, record, now).await,
                _ => Ok(()),
            }
        }
        .await;
        if let Err(e) = result {
            tracing::error!(error = %e, "guard: could not count a check");
        }
    }

    async fn wrong_code(&self, record: &Record, ip: &str, now: i64) -> Result<(), StoreError> {
        let mut v = self.verdict_plain(now);
        self.count(
            &mut v,
            Rule::IpWrongCodesPerHour,
            &format!("i:{ip}:wrong"),
            HOUR,
            1,
        )
        .await?;
        let key = format!("n:{}:wrong", record.number);
        let wrong = self
            .count(&mut v, Rule::NumberWrongCodesPerDay, &key, DAY, 1)
            .await?;
        if wrong > self.policy.count(Rule::NumberWrongCodesPerDay)
            && self.policy.mode(Rule::NumberWrongCodesPerDay) == Mode::Enforce
        {
            let lock_key = format!("lock:nw:{}", record.number);
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
        self.store
            .add(&format!("r:{}:unv:{day}", r.range), -1, now, end)
            .await?;
        self.store
            .add(&format!("c:{c}:unv:{day}"), -1, now, end)
            .await?;
        self.store
            .add(&format!("c:{c}:ver:{day}"), 1, now, end)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
