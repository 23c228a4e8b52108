//! The operator's changes to what the guard holds about a number (`verify-proxy-admin
//! unlock`, #23): each lifts what refuses the number itself, never a segment's block or a
//! budget, and each writes an audit record (who, what, why, when; the number's digest only)
//! and one log line.

use serde::Serialize;
use serde_json::json;

use super::budgets::{self, Class};
use super::rules::DAY;
use super::store::key;
use super::{Guard, Lock, Store, StoreError, Subject};

/// How long an audit record is kept.
const AUDIT_MEMORY: i64 = 400 * DAY;

/// What an unlock lifted.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Unlocked {
    /// The resend cooldown (strangers' and the owner's gates) was open until then.
    pub cooldowns: Vec<i64>,
    /// The owner's wait for someone else's verification.
    pub hold: bool,
    /// The number's starts this hour and today, set back to 0 (strangers' and the owner's).
    pub counters: i64,
    /// The audit record's key.
    pub audit: String,
}

impl Guard {
    /// Lifts `s`'s number's own refusals: its cooldown gates, the owner's hold, its hourly and
    /// daily start counters. Audited as `by` for `reason`.
    pub async fn unlock(
        &self,
        s: &Subject,
        by: &str,
        reason: &str,
    ) -> Result<Unlocked, StoreError> {
        let now = s.now;
        let gates = [key::cooldown_gate(&s.number), key::owner_gate(&s.number)];
        let hold = key::hold(&s.number);
        let counters: Vec<_> = [Class::New, Class::Owner]
            .into_iter()
            .flat_map(|c| budgets::number(&self.policy, c, s))
            .collect();
        let mut keys: Vec<String> = gates.to_vec();
        keys.push(hold.clone());
        keys.extend(counters.iter().map(|c| c.key.clone()));
        let seen = self.store.peek(&keys, now).await?;
        let mut out = Unlocked::default();
        for (i, gate) in gates.iter().enumerate() {
            if let Some(l) = seen[i].lock.filter(|l| l.until > now)
                && self.store.release(gate, l.until).await?
            {
                out.cooldowns.push(l.until);
            }
        }
        if seen[2].lock.is_some_and(|l| l.until > now) {
            let open = Lock {
                until: now,
                strikes: 0,
            };
            self.store.set_lock(&hold, open, now + 1000).await?;
            out.hold = true;
        }
        for (i, c) in counters.iter().enumerate() {
            let count = seen[3 + i].count;
            if count > 0 {
                self.store.add(&c.key, -count, now, c.end).await?;
                out.counters += count;
            }
        }
        out.audit = self.audit(s, by, "unlock", reason, &json!(out)).await?;
        Ok(out)
    }

    /// Writes one audit record and its log line; the record's key.
    async fn audit(
        &self,
        s: &Subject,
        by: &str,
        action: &str,
        reason: &str,
        detail: &serde_json::Value,
    ) -> Result<String, StoreError> {
        let number_hmac = Guard::log_digest(&s.number);
        let at = s.now;
        let id = key::audit(
            at,
            &self
                .hasher
                .digest("audit", &format!("{at}|{by}|{number_hmac}")),
        );
        let record = json!({
            "at": at, "by": by, "action": action, "reason": reason,
            "number_hmac": number_hmac, "detail": detail,
        });
        let lock = Lock {
            until: at,
            strikes: 0,
        };
        self.store
            .set_note(&id, lock, &record.to_string(), at + AUDIT_MEMORY)
            .await?;
        tracing::warn!(by, action, reason, number_hmac, audit = %id, "admin: changed the guard");
        Ok(id)
    }

    /// An audit record by its key (JSON), if it is still kept.
    pub async fn audit_record(&self, id: &str) -> Result<Option<String>, StoreError> {
        let seen = self.store.peek(&[id.to_string()], self.now()).await?;
        Ok(seen.into_iter().next().and_then(|p| p.note))
    }
}
