//! A start after Verify's answer: the record and the live verification when it was sent, the
//! charges given back when it was not (or is concurrent), the `Idempotency-Key`'s answer; and
//! `trigger_next_event`, another delivery of a charged start.

use futures_util::future::{join_all, try_join_all};

use super::budgets::{self, Class};
use super::rules::{Mode, Rule};
use super::start::Admitted;
use super::store::key;
use super::verdict::Verdict;
use super::{Guard, Lock, RECORD_TTL, Record, Store, StoreError, Subject};
use crate::error::ProxyError;

impl Guard {
    /// The answer an `Idempotency-Key` replays: the body's digest and the request id, kept
    /// over its claim until the window ends.
    async fn note_answer(&self, a: &Admitted, request_id: &str) -> Result<(), StoreError> {
        let Some((k, until, fp)) = &a.idempotency else {
            return Ok(());
        };
        let lock = Lock {
            until: *until,
            strikes: 0,
        };
        self.store
            .set_note(k, lock, &format!("{fp}|{request_id}"), *until)
            .await
    }

    /// Takes back what an admitted start charged, and opens its gate unless `keep_gate`
    /// (and its idempotency key: nothing was sent, so a retry may run again).
    pub(super) async fn give_back(&self, a: &Admitted, keep_gate: bool) {
        self.outcome_unknown(a).await;
        let now = self.now();
        let undo = join_all(
            a.charged
                .iter()
                .map(|(k, delta, end)| self.store.add(k, -delta, now, *end)),
        );
        let reopen = async {
            match (&a.gate, keep_gate) {
                (Some((k, until)), false) => self.store.release(k, *until).await.map(|_| ()),
                _ => Ok(()),
            }
        };
        let (undone, reopened) = tokio::join!(undo, reopen);
        for e in undone.into_iter().filter_map(Result::err) {
            self.store_lost(e, "give back a start's charge");
        }
        if let Err(e) = reopened {
            self.store_lost(e, "reopen a cooldown");
        }
    }

    /// `trigger_next_event` is another delivery of a charged workflow: it counts on the
    /// number's hour like a start and needs `trigger_gap` seconds since the last one.
    pub async fn admit_trigger(
        &self,
        s: &Subject,
        record: &Record,
        request_id: &str,
    ) -> Result<(), ProxyError> {
        let class = Class::from_code(record.class);
        let checked = self.checked(async {
            let hour = budgets::number(&self.policy, class, s).remove(0);
            let mut v = Verdict::new(&self.policy, s.now, false);
            let enforced = v.enforced(Rule::NumberPerHour);
            let max = if enforced { hour.max } else { i64::MAX };
            let added = self
                .store
                .add_within(&hour.key, 1, max, s.now, hour.end)
                .await?;
            if added.is_none() {
                v.over(hour.rule.unwrap_or(Rule::NumberPerHour), hour.until);
            }
            if self.policy.mode(Rule::TriggerGap) != Mode::Off && !v.refused() {
                let gap = self.policy.trigger_gap_ms();
                let gate = key::trigger_gate(request_id);
                if let Err(open_at) = self.store.claim(&gate, s.now, s.now + gap).await? {
                    if added.is_some() {
                        self.store.add(&hour.key, -1, s.now, hour.end).await?;
                    }
                    v.over(Rule::TriggerGap, open_at);
                }
            }
            if !v.refused() {
                let charge = budgets::trigger_charge(record, s);
                try_join_all(
                    charge
                        .iter()
                        .map(|(k, d, end)| self.store.add(k, *d, s.now, *end)),
                )
                .await?;
            }
            Ok(v.result())
        });
        checked.await.map(|_| ())
    }

    /// After a start the proxy made: the record (so later calls on the id are ours), its
    /// trigger gap, and the number's live verification (who may wait for it).
    pub async fn started(&self, s: &Subject, a: &Admitted, request_id: &str) {
        let sealed = s
            .plain
            .as_ref()
            .and_then(|n| self.hasher.seal(n, request_id));
        let record = Record {
            number: s.number.clone(),
            sealed: sealed.unwrap_or_default(),
            range: s.range.clone(),
            prefix: s.prefix.clone(),
            calling_code: s.calling_code.clone(),
            ip: s.ip.clone(),
            net: s.net.clone().unwrap_or_default(),
            caller: s.caller.clone(),
            created_at: s.now,
            verified: false,
            outcome: None,
            class: a.class.code(),
            spend: s.cost(),
            deliveries: s.deliveries,
        };
        let gap = self.policy.trigger_gap_ms();
        let live = Lock {
            until: s.now + s.lifetime_ms,
            strikes: u32::from(a.class == Class::Owner),
        };
        let (gate, live_key) = (key::trigger_gate(request_id), key::live(&s.number));
        let mine = key::live_by(&s.number, &s.ip);
        let result = tokio::try_join!(
            self.store
                .put_record(request_id, &record, s.now + RECORD_TTL),
            self.store.claim(&gate, s.now, s.now + gap),
            self.store.set_lock(&live_key, live, live.until),
            self.store.set_note(&mine, live, request_id, live.until),
            self.note_answer(a, request_id),
        );
        if let Err(e) = result {
            self.store_lost(e, "record a started verification");
        }
    }

    /// After a start Verify refused (throttled, a blocked network, an outage: nothing was
    /// sent): everything it charged goes back and its cooldown opens again, so the retry the
    /// answer invites is not held back by a message that never left.
    pub async fn not_sent(&self, a: &Admitted) {
        self.give_back(a, false).await;
    }

    /// Verify says another verification to the number is live (status 10): nothing was sent,
    /// so the charges go back, but the gate stays (retrying at once cannot help).
    pub async fn concurrent(&self, a: &Admitted) {
        self.give_back(a, true).await;
    }
}
