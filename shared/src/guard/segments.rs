//! Limits on where never-verified starts go and come from, by what did not convert: the
//! number's range (12 h block), its network prefix and its calling code (auto-blocks by
//! conversion), the address and its IPv6 /48. Narrowest first: a start over its range's limit
//! blocks the range only; the prefix is blocked when its range does not explain it, the
//! calling code only when the prefix does not (the spread is country-wide). Numbers verified
//! before are not held back by any of them: a segment block is about pumping, and a returning
//! number has shown someone reads its messages.

use super::rules::{self, DAY, HOUR, Mode, Rule};
use super::store::key;
use super::verdict::Verdict;
use super::{Guard, Lock, Peeked, STRIKE_MEMORY, Store, StoreError, Subject};

const RANGE_BLOCK: i64 = 12 * HOUR;
/// An auto-block's first and longest length (strikes double it).
const SEGMENT_BLOCK: (i64, i64) = (12 * HOUR, 7 * DAY);

/// What the start's first read found about its segments and source (today's windows).
pub struct SegmentView {
    pub range_lock: Peeked,
    pub country_lock: Peeked,
    pub prefix_lock: Peeked,
    pub range_unverified: i64,
    pub range_verified: i64,
    pub country_unverified: i64,
    pub country_verified: i64,
    pub prefix_unverified: i64,
    pub prefix_verified: i64,
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
        key::prefix_lock(&s.prefix),
        key::windowed(&key::prefix_unverified(&s.prefix), day),
        key::windowed(&key::prefix_verified(&s.prefix), day),
        key::windowed(&key::range_verified(&s.range), day),
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
            prefix_lock: at(7),
            prefix_unverified: at(8).count,
            prefix_verified: at(9).count,
            range_verified: at(10).count,
            net_unverified: p.get(11).map(|x| x.count),
        }
    }
}

impl Guard {
    /// Notes every segment limit this never-verified start would pass; imposes the range's,
    /// the prefix's or the calling code's block when this start is the one over (rare
    /// writes), the narrowest that explains it.
    pub(super) async fn segments(
        &self,
        s: &Subject,
        view: &SegmentView,
        v: &mut Verdict<'_>,
    ) -> Result<(), StoreError> {
        let now = s.now;
        let (_, day_end) = rules::window(now, DAY);
        let p = &self.policy;
        // Like the auto-blocks, on a baseline: a range whose starts convert grows.
        let range_limit =
            rules::autoblock_threshold(p.limit(Rule::RangeUnverifiedPerDay), view.range_verified);
        let range_over = (view.range_unverified + 1) as f64 > range_limit;
        if let Some(l) = view.range_lock.lock.filter(|l| l.until > now) {
            v.over(Rule::RangeUnverifiedPerDay, l.until);
        } else if range_over {
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
        let segment = |rule, lock_key, lock: &Peeked, unverified, verified| Segment {
            rule,
            calling_code: s.calling_code.clone(),
            lock_key,
            lock: lock.lock,
            unverified,
            verified,
        };
        let prefix = segment(
            Rule::PrefixAutoBlock,
            key::prefix_lock(&s.prefix),
            &view.prefix_lock,
            view.prefix_unverified,
            view.prefix_verified,
        );
        // Only a block that holds explains: a monitored or disabled narrower rule does not.
        let mut explained = range_over && v.enforced(Rule::RangeUnverifiedPerDay);
        if !s.prefix.is_empty() {
            explained |= self.autoblock(&prefix, now, explained, v).await?;
        }
        let country = segment(
            Rule::CountryAutoBlock,
            key::country_lock(&s.calling_code),
            &view.country_lock,
            view.country_unverified,
            view.country_verified,
        );
        self.autoblock(&country, now, explained, v).await?;
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

    /// A segment's auto-block: unverified starts today against max(limit, 2 x verified today).
    /// A live block refuses; when this start is over, the segment is blocked (strikes double
    /// the length) unless a narrower one already `explained` it. Returns whether the segment
    /// is blocked now (enforced).
    async fn autoblock(
        &self,
        seg: &Segment,
        now: i64,
        explained: bool,
        v: &mut Verdict<'_>,
    ) -> Result<bool, StoreError> {
        if v.mode(seg.rule) == Mode::Off {
            return Ok(false);
        }
        if let Some(l) = seg.lock.filter(|l| l.until > now) {
            v.over(seg.rule, l.until);
            return Ok(v.enforced(seg.rule));
        }
        let limit = self.policy.limit(seg.rule);
        let unverified = seg.unverified + 1;
        if (unverified as f64) <= rules::autoblock_threshold(limit, seg.verified) || explained {
            return Ok(false);
        }
        if !v.enforced(seg.rule) {
            v.over(seg.rule, now + SEGMENT_BLOCK.0);
            return Ok(false);
        }
        let strikes = seg.lock.map_or(0, |l| l.strikes) + 1;
        let until = now + rules::lock_length(strikes, SEGMENT_BLOCK.0, SEGMENT_BLOCK.1);
        tracing::warn!(rule = seg.rule.name(), calling_code = %seg.calling_code, strikes, "guard: segment auto-block");
        self.store
            .set_lock(
                &seg.lock_key,
                Lock { until, strikes },
                until + STRIKE_MEMORY,
            )
            .await?;
        v.over(seg.rule, until);
        Ok(true)
    }
}

/// One segment's state for its auto-block.
struct Segment {
    rule: Rule,
    /// The segment's country, for the log line (the prefix itself is a digest).
    calling_code: String,
    lock_key: String,
    lock: Option<Lock>,
    unverified: i64,
    verified: i64,
}
