//! Checks and outcomes. Wrong codes are capped per verification (as Verify caps them), so the
//! guesses a number can take are bounded by its deliveries; a verification that failed on
//! wrong codes makes the source that typed them wait before its next start or check on that
//! number (growing, reset by a right code). Nothing here locks a number for everyone: an
//! attacker's wrong codes cannot keep its owner out. A right code gives back what the start
//! did not use and marks the number returning, with the verifying address as its owner.

use futures_util::future::try_join_all;

use super::budgets::{self, Class};
use super::rules::{self, HOUR, MINUTE, Mode, Rule, retry_after_s};
use super::store::key;
use super::verdict::Verdict;
use super::{Guard, Lock, RETURNING_MEMORY, Record, STRIKE_MEMORY, Store, StoreError};
use crate::error::ProxyError;

impl Guard {
    /// Before a code is checked: the source's backoff on this number, the verification's
    /// wrong codes, and the source's wrong codes this hour (one batch read).
    pub async fn admit_check(
        &self,
        record: &Record,
        request_id: &str,
        ip: &str,
    ) -> Result<(), ProxyError> {
        let now = self.now();
        let p = &self.policy;
        let checked = self.checked(async {
            let (hour, hour_end) = rules::window(now, HOUR);
            let keys = [
                key::backoff(&record.number, ip),
                key::request_wrong_codes(request_id, record.created_at),
                key::windowed(&key::ip_wrong_codes(ip), hour),
            ];
            let seen = self.store.peek(&keys, now).await?;
            if p.mode(Rule::WrongCodesPerVerification) == Mode::Enforce
                && seen[1].count >= p.count(Rule::WrongCodesPerVerification)
            {
                // This verification is spent; a new start is the way on.
                return Ok(Err(ProxyError::CodeLocked {
                    retry_after: retry_after_s(now + rules::SECOND, now),
                }));
            }
            let mut v = Verdict::new(p, now, false);
            if let Some(l) = seen[0].lock.filter(|l| l.until > now) {
                v.over(Rule::WrongCodeBackoff, l.until);
            }
            // Over when the wrong codes already reached the limit (a backend that named no
            // end user has no address of its own to count).
            if !ip.is_empty() && seen[2].count >= p.count(Rule::IpWrongCodesPerHour) {
                v.over(Rule::IpWrongCodesPerHour, hour_end);
            }
            Ok(v.result())
        });
        checked.await.map(|_| ())
    }

    /// After a check: a wrong code counts for the verification and the source; the one that
    /// ends the verification (Verify's 17, or the proxy's cap) starts the source's backoff.
    /// `billed` is what Verify said a right code's verification cost (its `price`, in 1/10000
    /// EUR): the start's estimate is corrected to it.
    pub async fn checked_code(
        &self,
        request_id: &str,
        record: &Record,
        ip: &str,
        status: &str,
        billed: Option<i64>,
    ) {
        let now = self.now();
        let result = async {
            match status {
                "16" => {
                    let wrong = self.wrong_code(request_id, record, ip, now).await?;
                    if wrong >= self.policy.count(Rule::WrongCodesPerVerification) {
                        self.failed(request_id, record, ip, now).await?;
                    }
                    Ok(())
                }
                "17" => {
                    self.wrong_code(request_id, record, ip, now).await?;
                    self.failed(request_id, record, ip, now).await
                }
                "0" => {
                    self.verified(request_id, record, Some(ip), now, billed)
                        .await
                }
                _ => Ok(()),
            }
        }
        .await;
        if let Err(e) = result {
            self.store_lost(e, "count a check");
        }
    }

    /// Counts a wrong code; the verification's total so far.
    async fn wrong_code(
        &self,
        request_id: &str,
        record: &Record,
        ip: &str,
        now: i64,
    ) -> Result<i64, StoreError> {
        let (hour, hour_end) = rules::window(now, HOUR);
        let ip_key = key::windowed(&key::ip_wrong_codes(ip), hour);
        let request_key = key::request_wrong_codes(request_id, record.created_at);
        // A backend that named no end user has no address of its own to count.
        let per_source = async {
            match ip.is_empty() {
                true => Ok(0),
                false => self.store.add(&ip_key, 1, now, hour_end).await,
            }
        };
        let (_, total) = tokio::try_join!(
            per_source,
            self.store
                .add(&request_key, 1, now, now + super::RECORD_TTL),
        )?;
        Ok(total)
    }

    /// A verification that ended on wrong codes: its outcome, the number's live
    /// verification over, and the source's next wait on this number.
    async fn failed(
        &self,
        request_id: &str,
        record: &Record,
        ip: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let backoff_key = key::backoff(&record.number, ip);
        let (first, old) = tokio::try_join!(
            self.store.finish(request_id, "FAILED", now, now),
            self.store.get_lock(&backoff_key, now),
        )?;
        if first {
            self.end_live(record, now, false, None).await?;
            if Class::from_code(record.class) == Class::Returning {
                // Someone else than its owner failed on a returning number: others are done
                // with it for the day (its owner's allowance is apart), so a lockout attempt
                // costs one delivery per victim a day, not a budget.
                let (index, end) = rules::window(now, rules::DAY);
                let day = key::windowed(&key::number_per_day(&record.number), index);
                let all = self.policy.count(Rule::NumberPerDay);
                self.store.add(&day, all, now, end).await?;
            }
        }
        if self.policy.mode(Rule::WrongCodeBackoff) == Mode::Off {
            return Ok(());
        }
        let strikes = old.map_or(0, |l| l.strikes) + 1;
        let wait = rules::backoff(strikes, self.policy.limit(Rule::WrongCodeBackoff));
        let lock = Lock {
            until: now + wait,
            strikes,
        };
        self.store
            .set_lock(&backoff_key, lock, lock.until + STRIKE_MEMORY)
            .await
    }

    /// A verification is over (a right code, a failure, a cancel, an expiry): the number has
    /// no live verification, and what the start was charged for and did not use goes back
    /// (`budgets::refunds`). Called once per verification: by whoever recorded its end.
    async fn end_live(
        &self,
        r: &Record,
        now: i64,
        converted: bool,
        billed: Option<i64>,
    ) -> Result<(), StoreError> {
        let over = Lock {
            until: now,
            strikes: 0,
        };
        let live = key::live(&r.number);
        let refunds = budgets::refunds(r, now, converted, billed);
        let gives = try_join_all(
            refunds
                .iter()
                .map(|(k, delta, end)| self.store.add(k, *delta, now, *end)),
        );
        tokio::try_join!(self.store.set_lock(&live, over, now + rules::SECOND), gives)?;
        Ok(())
    }

    /// How a verification ended, reported by a v2 status event or our own cancel: recorded
    /// once (the first report wins), and a success credited as a right code is. False when
    /// the id is not ours or already had an outcome.
    pub async fn finished(&self, request_id: &str, outcome: &str, at: i64) -> bool {
        let now = self.now();
        let result = async {
            // `finish` is false for an id that is not ours, so most outcomes cost one write.
            let first = self.store.finish(request_id, outcome, at, now).await?;
            // Only the report that set the outcome may credit it (a late or replayed
            // "completed" after an expiry must not); crediting needs the record's digests.
            if first && let Some(record) = self.store.get_record(request_id, now).await? {
                match outcome {
                    // The event does not say from where the code came: no owner is marked.
                    "SUCCESS" => self.verified(request_id, &record, None, now, None).await?,
                    _ => self.end_live(&record, now, false, None).await?,
                }
            }
            Ok::<bool, StoreError>(first)
        }
        .await;
        result.unwrap_or_else(|e| {
            self.store_lost(e, "record an outcome");
            false
        })
    }

    /// Whether a signed callback (its JWT's `jti`) is seen for the first time: a replay inside
    /// its signature's freshness window is answered as a duplicate and changes nothing. A
    /// store failure counts as first (recording an outcome is idempotent anyway).
    pub async fn first_callback(&self, jti: &str, window_ms: i64) -> bool {
        let now = self.now();
        let key = key::callback(&self.hasher.digest("jti", jti));
        self.first_claim(&key, now + window_ms, "note a callback")
            .await
    }

    /// Whether a limited-use App Check token (by its digest, `Guard::token_digest`) is spent
    /// for the first time; it stays spent until it expires (at least a minute, for clock
    /// skew). A store failure counts as first: the start's own admission reads the same store
    /// next and refuses (503) unless `GUARD_ON_STORE_ERROR=open`.
    pub async fn first_token_use(&self, token_digest: &str, expires_ms: i64) -> bool {
        let key = key::app_token(token_digest);
        let until = expires_ms.max(self.now()) + MINUTE;
        self.first_claim(&key, until, "spend an App Check token")
            .await
    }

    /// Claims `key` until `until`: whether this is its first claim (a store failure counts
    /// as first, logged as `what`).
    async fn first_claim(&self, key: &str, until: i64, what: &str) -> bool {
        match self.store.claim(key, self.now(), until).await {
            Ok(claimed) => claimed.is_ok(),
            Err(e) => {
                self.store_lost(e, what);
                true
            }
        }
    }

    /// A right code, credited once: what the start did not use goes back, the number is
    /// returning from now on, the source that typed the code is its owner and its backoff
    /// ends.
    async fn verified(
        &self,
        request_id: &str,
        r: &Record,
        ip: Option<&str>,
        now: i64,
        billed: Option<i64>,
    ) -> Result<(), StoreError> {
        if !self.store.mark_verified(request_id, now).await? {
            return Ok(());
        }
        let returning = key::returning(&r.number);
        let marks = async {
            let mark = Lock {
                until: now,
                strikes: 1,
            };
            self.store
                .set_lock(&returning, mark, now + RETURNING_MEMORY)
                .await?;
            if let Some(ip) = ip.filter(|ip| !ip.is_empty()) {
                let owner = Lock {
                    until: now,
                    strikes: 1,
                };
                let cleared = Lock {
                    until: now,
                    strikes: 0,
                };
                let (owner_key, backoff_key) =
                    (key::owner(&r.number, ip), key::backoff(&r.number, ip));
                tokio::try_join!(
                    self.store
                        .set_lock(&owner_key, owner, now + RETURNING_MEMORY),
                    self.store
                        .set_lock(&backoff_key, cleared, now + rules::SECOND),
                )?;
            }
            Ok::<(), StoreError>(())
        };
        tokio::try_join!(marks, self.end_live(r, now, true, billed))?;
        Ok(())
    }
}
