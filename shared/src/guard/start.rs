//! A start, in three round trips as before: (1) one batch read of everything the decision
//! needs (a refusal moves no counter: not the number's, the budgets', nor the address's, which
//! a carrier NAT's honest users share);
//! (2) for a start nothing refused, every shared counter moved at once, each within its limit,
//! with the resend gate claimed beside them (a race lost on any of them takes the rest back);
//! (3) after Verify's answer, the record (`started.rs`, with what a start Verify did not send
//! gives back).

use futures_util::future::join_all;

use super::budgets::{self, Charge, Class};
use super::rules::{self, DAY, HOUR, MINUTE, Mode, Rule, retry_after_s};
use super::segments::{self, SegmentView};
use super::store::key;
use super::verdict::Verdict;
use super::{Guard, Lock, Store, StoreError, Subject};
use crate::error::ProxyError;

/// A deployment's first days: the country auto-block only monitors (no baseline yet).
const AUTOBLOCK_LEARNING: i64 = 14 * DAY;
/// How long an owner kept waiting by someone else's live verification is served first.
const OWNER_HOLD: i64 = 2 * MINUTE;
/// How long an `Idempotency-Key`'s first answer is replayed.
const IDEMPOTENCY_WINDOW: i64 = 10 * MINUTE;

/// An admitted start: what it charged (given back if nothing is sent), the gate it claimed,
/// the `Retry-After` a concurrent start gets, and its budget's month spend with its cap
/// (1/10000 EUR).
#[derive(Debug, Clone)]
pub struct Admitted {
    pub class: Class,
    /// The caller's own live verification to this number: its id is answered again and
    /// nothing is sent (a lost answer, retried, costs nothing).
    pub replay: Option<String>,
    pub retry_after: u64,
    pub spend_month: Option<(i64, i64)>,
    pub(super) charged: Vec<(String, i64, i64)>,
    pub(super) gate: Option<(String, i64)>,
    /// The `Idempotency-Key` this start holds: its store key, until when, the body's digest.
    pub(super) idempotency: Option<(String, i64, String)>,
}

impl Admitted {
    /// Let through without counting (the store is down and configured to fail open).
    pub fn unguarded() -> Self {
        Self {
            class: Class::New,
            replay: None,
            retry_after: 60,
            spend_month: None,
            charged: Vec::new(),
            gate: None,
            idempotency: None,
        }
    }
}

/// The fixed reads before the segments' and the charges' keys.
const RETURNING: usize = 0;
const OWNER: usize = 1;
const BACKOFF: usize = 2;
const HOLD: usize = 3;
const LIVE: usize = 4;
const LIVE_BY: usize = 5;
const IDEMPOTENCY: usize = 6;
const CALLER_CONVERTED: usize = 7;
const FIXED: usize = 8;

impl Guard {
    /// A new verification to the subject's number: every start limit.
    pub async fn admit_start(&self, s: &Subject) -> Result<Admitted, ProxyError> {
        // Boxed: a start's future holds every read and write at once, too large for the
        // stacks of test threads.
        let result = self.checked(Box::pin(self.try_start(s))).await;
        if result.is_err()
            && let Some((k, _)) = &s.idempotency
        {
            // Refused: the key is free again (only this start's own claim is opened).
            self.release_key(k, s.now + IDEMPOTENCY_WINDOW).await;
        }
        Ok(result?.unwrap_or_else(Admitted::unguarded))
    }

    async fn release_key(&self, key: &str, until: i64) {
        if let Err(e) = self.store.release(key, until).await {
            self.store_lost(e, "free an idempotency key");
        }
    }

    /// After a start whose outcome is unknown (a timeout, an unreadable answer): its
    /// `Idempotency-Key` is free again, so the retry it invites is not held off for minutes.
    pub async fn outcome_unknown(&self, a: &Admitted) {
        if let Some((k, until, _)) = &a.idempotency {
            self.release_key(k, *until).await;
        }
    }

    async fn try_start(&self, s: &Subject) -> Result<Result<Admitted, ProxyError>, StoreError> {
        let now = s.now;
        let p = &self.policy;
        let (day, day_end) = rules::window(now, DAY);
        // Every class's charges are read, so the class needs no second round trip.
        let by_class = [Class::New, Class::Returning, Class::Owner].map(|class| {
            let mut c = budgets::number(p, class, s);
            c.extend(budgets::budget(p, class, s));
            c
        });
        let mut keys = vec![
            key::returning(&s.number),
            key::owner(&s.number, &s.ip),
            key::backoff(&s.number, &s.ip),
            key::hold(&s.number),
            key::live(&s.number),
            key::live_by(&s.number, &s.ip),
            s.idempotency
                .as_ref()
                .map_or_else(|| key::idempotency("-"), |(k, _)| k.clone()),
            key::caller_converted_day(&s.caller, day),
        ];
        keys.extend(segments::keys(s));
        // The address's own starts go ahead like the rest: a refused retry behind a carrier
        // NAT spends nothing of its neighbours' allowance either.
        let own = [
            Charge::counted(
                Rule::IpPer10Min,
                &key::ip_per_10min(&s.ip),
                10 * MINUTE,
                p,
                now,
            ),
            Charge::counted(Rule::IpPerDay, &key::ip_per_day(&s.ip), DAY, p, now),
        ];
        let own_at = keys.len();
        keys.extend(own.iter().map(|c| c.key.clone()));
        // One App Check token's starts, from whichever addresses it comes.
        let token = (!s.token.is_empty()).then(|| {
            let base = key::token_starts(&s.token);
            Charge::counted(Rule::TokenStartsPerHour, &base, HOUR, p, now)
        });
        let token_at = keys.len();
        keys.extend(token.iter().map(|c| c.key.clone()));
        let charge_at = keys.len();
        keys.extend(by_class.iter().flatten().map(|c| c.key.clone()));
        let codes = p.count(Rule::IpCallingCodes).max(0) as usize;
        let ip_codes_key = key::ip_calling_codes(&s.ip, day);
        let codes_seen = async {
            match s.ip.is_empty() {
                true => Ok(true),
                // A set only grows by a code it admits: a refused hop adds nothing.
                false => {
                    self.store
                        .add_member(&ip_codes_key, &s.calling_code, codes, now, day_end)
                        .await
                }
            }
        };
        let idempotency_until = now + IDEMPOTENCY_WINDOW;
        let claim = async {
            match &s.idempotency {
                Some((k, _)) => self.store.claim(k, now, idempotency_until).await.map(Some),
                None => Ok(None),
            }
        };
        let (seen, learning, code_ok, claimed) = tokio::try_join!(
            self.store.peek(&keys, now),
            self.learning(now),
            codes_seen,
            claim
        )?;
        let mut held_key = None;
        if let (Some((k, fp)), Some(claimed)) = (&s.idempotency, claimed) {
            match (claimed, &seen[IDEMPOTENCY].note) {
                (Ok(()), _) => held_key = Some((k.clone(), idempotency_until, fp.clone())),
                (Err(_), Some(note)) => {
                    let (first, id) = note.split_once('|').unwrap_or(("", ""));
                    if first != fp.as_str() {
                        return Ok(Err(ProxyError::IdempotencyMismatch));
                    }
                    return Ok(Ok(Admitted {
                        replay: Some(id.to_string()),
                        ..Admitted::unguarded()
                    }));
                }
                (Err(_), None) => return Ok(Err(ProxyError::IdempotencyInFlight)),
            }
        }
        let live = seen[LIVE].lock.filter(|l| l.until > now);
        if let (Some(_), Some(mine), Some(id)) = (live, seen[LIVE_BY].lock, &seen[LIVE_BY].note)
            && mine.until > now
            && p.mode(Rule::NumberCooldown) != Mode::Off
        {
            tracing::info!("guard: a repeated start gets its own live request back");
            return Ok(Ok(Admitted {
                replay: Some(id.clone()),
                ..Admitted::unguarded()
            }));
        }
        let mut v = Verdict::new(p, now, learning);
        // A backend that named no end user is one caller for all its users: no per-address
        // rule would be a limit on anything but the whole app.
        let per_address = !s.ip.is_empty();
        if per_address {
            for (i, c) in own.iter().enumerate() {
                let rule = c.rule.unwrap_or(Rule::IpPer10Min);
                v.count(rule, seen[own_at + i].count + 1, c.max, c.until);
            }
            if !code_ok {
                v.over(Rule::IpCallingCodes, day_end);
            }
        }
        if let Some(c) = &token {
            v.count(
                Rule::TokenStartsPerHour,
                seen[token_at].count + 1,
                c.max,
                c.until,
            );
        }
        if let Some(l) = seen[BACKOFF].lock.filter(|l| l.until > now) {
            v.over(Rule::WrongCodeBackoff, l.until);
        }
        let class = match (seen[RETURNING].lock, seen[OWNER].lock) {
            (None, _) => Class::New,
            (Some(_), Some(_)) if per_address => Class::Owner,
            (Some(_), _) => Class::Returning,
        };
        if class == Class::Owner {
            // Someone else's verification is live: Verify would refuse this one (status 10).
            // The owner waits for it to end, and is served first after it.
            if let Some(l) = live.filter(|l| l.strikes == 0)
                && p.mode(Rule::NumberCooldown) == Mode::Enforce
                && !v.refused()
            {
                let hold = Lock {
                    until: l.until + OWNER_HOLD,
                    strikes: 1,
                };
                let hold_key = key::hold(&s.number);
                self.store.set_lock(&hold_key, hold, hold.until).await?;
                tracing::warn!("guard: owner waits for another's live verification");
                return Ok(Err(ProxyError::AlreadySent {
                    retry_after: retry_after_s(l.until, now),
                }));
            }
        } else if let Some(h) = seen[HOLD].lock.filter(|h| h.until > now) {
            v.over(Rule::NumberCooldown, h.until);
        }
        // `by_class` is in the classes' code order.
        let index = usize::from(class.code());
        let offset = charge_at + by_class[..index].iter().map(Vec::len).sum::<usize>();
        let mut charges = by_class[index].clone();
        let mut spend_month = None;
        // A caller whose users convert gets more: twice what converted today, at least its limit.
        let converted = 2 * seen[CALLER_CONVERTED].count;
        for c in charges.iter_mut() {
            if c.rule == Some(Rule::CallerSpendPerDay) {
                c.max = c.max.max(converted);
            }
        }
        for (i, c) in charges.iter().enumerate() {
            let Some(rule) = c.rule else { continue };
            let total = seen[offset + i].count + c.delta;
            v.count(rule, total, c.max, c.until);
            if matches!(rule, Rule::SpendPerMonth | Rule::ReturningSpendPerMonth) {
                spend_month = Some((total, c.max));
            }
        }
        let hour_total = seen[offset].count + 1;
        if per_address {
            charges.extend(own);
        }
        charges.extend(token);
        if class == Class::New {
            let view = SegmentView::from(&seen[FIXED..own_at]);
            self.segments(s, &view, &mut v).await?;
            charges.extend(budgets::statistics(s));
        }
        if v.refused() {
            return Ok(v.result().map(|()| Admitted::unguarded()));
        }
        self.commit(s, class, &charges, hour_total, &v)
            .await
            .map(|r| {
                r.map(|mut a| {
                    a.spend_month = spend_month;
                    a.idempotency = held_key;
                    a
                })
            })
    }

    /// Moves every charge and claims the class's resend gate, all at once; any of them lost
    /// to a concurrent start takes the others back and refuses by its rule.
    async fn commit(
        &self,
        s: &Subject,
        class: Class,
        charges: &[Charge],
        hour_total: i64,
        v: &Verdict<'_>,
    ) -> Result<Result<Admitted, ProxyError>, StoreError> {
        let now = s.now;
        let cooldown = self.policy.mode(Rule::NumberCooldown) != Mode::Off;
        let wait = rules::cooldown(hour_total, self.policy.limit(Rule::NumberCooldown));
        let gate_key = match class {
            Class::Owner => key::owner_gate(&s.number),
            _ => key::cooldown_gate(&s.number),
        };
        let adds = join_all(charges.iter().map(|c| async move {
            match c.rule.filter(|r| v.enforced(*r)) {
                Some(_) => {
                    self.store
                        .add_within(&c.key, c.delta, c.max, now, c.end)
                        .await
                }
                None => self.store.add(&c.key, c.delta, now, c.end).await.map(Some),
            }
        }));
        let gate = async {
            match cooldown {
                true => self.store.claim(&gate_key, now, now + wait).await.map(Some),
                false => Ok(None),
            }
        };
        let (added, claimed) = tokio::join!(adds, gate);
        let claimed = claimed?;
        let mut charged = Vec::new();
        let mut lost = None;
        for (c, r) in charges.iter().zip(added) {
            match r? {
                Some(_) => charged.push((c.key.clone(), c.delta, c.end)),
                None => lost = lost.or(c.rule.map(|rule| (rule, c.until))),
            }
        }
        let gate = match claimed {
            Some(Ok(())) => Some((gate_key.clone(), now + wait)),
            Some(Err(open_at)) => {
                lost = lost.or(Some((Rule::NumberCooldown, open_at)));
                None
            }
            None => None,
        };
        let admitted = Admitted {
            idempotency: None,
            class,
            replay: None,
            retry_after: retry_after_s(now + wait, now),
            spend_month: None,
            charged,
            gate,
        };
        if let Some((rule, until)) = lost {
            self.give_back(&admitted, false).await;
            tracing::warn!(
                rule = rule.name(),
                "guard: refused (a concurrent start won)"
            );
            return Ok(Err(ProxyError::Limited {
                rule: rule.name(),
                retry_after: retry_after_s(until, now),
            }));
        }
        Ok(Ok(admitted))
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
}
