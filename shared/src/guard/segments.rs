//! Limits on where never-verified starts go and come from, by what did not convert: the
//! number's range (12 h block), its calling code (auto-block by conversion), the address and
//! its IPv6 /48. Numbers verified before are not held back by any of them: a segment block is
//! about pumping, and a returning number has shown someone reads its messages.

use super::rules::{self, DAY, HOUR, Rule};
use super::store::key;
use super::verdict::Verdict;
use super::{Guard, Lock, Peeked, STRIKE_MEMORY, Store, StoreError, Subject};

const RANGE_BLOCK: i64 = 12 * HOUR;
const COUNTRY_BLOCK: (i64, i64) = (12 * HOUR, 7 * DAY);

/// What the start's first read found about its segments and source (today's windows).
pub struct SegmentView {
    pub range_lock: Peeked,
    pub country_lock: Peeked,
    pub range_unverified: i64,
    pub country_unverified: i64,
    pub country_verified: i64,
    pub ip_unverified: i64,
    pub ip_verified: i64,
    pub net_unverified: Option<i64>,
}

/// The keys a start reads for its segments, in [`SegmentView::from`]'s order.
pub fn keys(s: &Subject) -> Vec<String> {
    let (day, _) = rules::window(s.now, DAY);
    let mut out = vec![
        key::range_lock(&s.range),
        key::country_lock(&s.calling_code),
        key::windowed(&key::range_unverified(&s.range), day),
        key::windowed(&key::country_unverified(&s.calling_code), day),
        key::windowed(&key::country_verified(&s.calling_code), day),
        key::windowed(&key::ip_unverified(&s.ip), day),
        key::windowed(&key::ip_verified(&s.ip), day),
    ];
    if let Some(net) = &s.net {
        out.push(key::windowed(&key::net_unverified(net), day));
    }
    out
}

impl SegmentView {
    pub fn from(p: &[Peeked]) -> Self {
        let at = |i: usize| p.get(i).cloned().unwrap_or_default();
        Self {
            range_lock: at(0),
            country_lock: at(1),
            range_unverified: at(2).count,
            country_unverified: at(3).count,
            country_verified: at(4).count,
            ip_unverified: at(5).count,
            ip_verified: at(6).count,
            net_unverified: p.get(7).map(|x| x.count),
        }
    }
}

impl Guard {
    /// Notes every segment limit this never-verified start would pass; imposes the range's
    /// and the calling code's blocks when this start is the one over (rare writes).
    pub(super) async fn segments(
        &self,
        s: &Subject,
        view: &SegmentView,
        v: &mut Verdict<'_>,
    ) -> Result<(), StoreError> {
        let now = s.now;
        let (_, day_end) = rules::window(now, DAY);
        let p = &self.policy;
        if let Some(l) = view.range_lock.lock.filter(|l| l.until > now) {
            v.over(Rule::RangeUnverifiedPerDay, l.until);
        } else if view.range_unverified + 1 > p.count(Rule::RangeUnverifiedPerDay) {
            let lock = Lock {
                until: now + RANGE_BLOCK,
                strikes: 1,
            };
            if v.enforced(Rule::RangeUnverifiedPerDay) {
                tracing::warn!("guard: range block");
                self.store
                    .set_lock(&key::range_lock(&s.range), lock, lock.until)
                    .await?;
            }
            v.over(Rule::RangeUnverifiedPerDay, lock.until);
        }
        self.country(s, view, v).await?;
        let own = p
            .limit(Rule::IpUnverifiedPerDay)
            .max(2.0 * view.ip_verified as f64);
        if !s.ip.is_empty() && (view.ip_unverified + 1) as f64 > own {
            v.over(Rule::IpUnverifiedPerDay, day_end);
        }
        if let Some(net) = view.net_unverified {
            v.count(
                Rule::NetUnverifiedPerDay,
                net + 1,
                p.count(Rule::NetUnverifiedPerDay),
                day_end,
            );
        }
        Ok(())
    }

    /// Per calling code: unverified starts today against max(limit, 2 x verified today).
    async fn country(
        &self,
        s: &Subject,
        view: &SegmentView,
        v: &mut Verdict<'_>,
    ) -> Result<(), StoreError> {
        let (now, c) = (s.now, &s.calling_code);
        let lock = view.country_lock.lock;
        if let Some(l) = lock.filter(|l| l.until > now) {
            v.over(Rule::CountryAutoBlock, l.until);
            return Ok(());
        }
        let limit = self.policy.limit(Rule::CountryAutoBlock);
        let unverified = view.country_unverified + 1;
        if (unverified as f64) <= rules::autoblock_threshold(limit, view.country_verified) {
            return Ok(());
        }
        if !v.enforced(Rule::CountryAutoBlock) {
            v.over(Rule::CountryAutoBlock, now + COUNTRY_BLOCK.0);
            return Ok(());
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
}
