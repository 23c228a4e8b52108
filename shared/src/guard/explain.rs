//! What the guard holds about one number now, and which of its rules would refuse a start to
//! it from a new source: the answer to "I get no code" (`verify-proxy-admin explain`, #23).
//! It only reads, through the same keys the decisions use. A source's own limits (its
//! counters, its wrong-code backoff) are the source's, not the number's, and are not here.

use serde::Serialize;

use super::budgets::{self, Class};
use super::rules::{self, Mode, Rule};
use super::segments::{self, SegmentView};
use super::store::key;
use super::{Guard, Store, StoreError, Subject};

/// One rule's state for the number: its count against its limit in the current window, or
/// the block it imposed; `refuses` when the next start would be refused by it (enforced) or
/// reported (monitored).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RuleState {
    pub rule: &'static str,
    pub mode: &'static str,
    pub count: Option<i64>,
    pub limit: Option<i64>,
    /// Until when it refuses (epoch ms), or when its window ends.
    pub until: i64,
    pub refuses: bool,
    /// A block imposed on the whole segment, with how many times it was.
    pub blocked: bool,
    pub strikes: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Explanation {
    /// The number masked (`+44*******345`), as the log lines have it.
    pub number: String,
    /// The number's keyed digest as the log lines have it (`number_hmac`).
    pub number_hmac: String,
    pub calling_code: String,
    pub now: i64,
    /// When a verification to it last succeeded (it is "returning" for 400 days after).
    pub last_verified: Option<i64>,
    /// A verification to it is live until then (Verify refuses another meanwhile).
    pub live_until: Option<i64>,
    /// Its resend cooldown holds strangers' starts until then.
    pub cooldown_until: Option<i64>,
    pub rules: Vec<RuleState>,
}

impl Explanation {
    /// The rules that refuse a start now.
    pub fn refusing(&self) -> impl Iterator<Item = &RuleState> {
        self.rules.iter().filter(|r| r.refuses)
    }
}

fn mode_name(mode: Mode) -> &'static str {
    match mode {
        Mode::Off => "off",
        Mode::Monitor => "monitor",
        Mode::Enforce => "enforce",
    }
}

impl Guard {
    /// Reads what the guard holds about `s`'s number (a subject from no source).
    pub async fn explain(&self, s: &Subject) -> Result<Explanation, StoreError> {
        let p = &self.policy;
        let now = s.now;
        let mut keys = vec![
            key::returning(&s.number),
            key::live(&s.number),
            key::cooldown_gate(&s.number),
        ];
        let charges: Vec<_> = budgets::number(p, Class::New, s)
            .into_iter()
            .chain(budgets::budget(p, Class::New, s))
            .filter(|c| c.rule.is_some())
            .collect();
        let charge_at = keys.len();
        keys.extend(charges.iter().map(|c| c.key.clone()));
        let segment_at = keys.len();
        keys.extend(segments::keys(s));
        let seen = self.store.peek(&keys, now).await?;
        let lock_until = |i: usize| seen[i].lock.map(|l| l.until).filter(|u| *u > now);
        let mut rules = Vec::new();
        let state = |rule: Rule, count, limit, until, over: bool| RuleState {
            rule: rule.name(),
            mode: mode_name(p.mode(rule)),
            count,
            limit,
            until,
            refuses: over && p.mode(rule) != Mode::Off,
            blocked: false,
            strikes: 0,
        };
        let cooldown_until = lock_until(2);
        if let Some(until) = cooldown_until {
            rules.push(state(Rule::NumberCooldown, None, None, until, true));
        }
        for (i, c) in charges.iter().enumerate() {
            let Some(rule) = c.rule else { continue };
            let count = seen[charge_at + i].count;
            let over = count + c.delta > c.max;
            rules.push(state(rule, Some(count), Some(c.max), c.until, over));
        }
        let view = SegmentView::from(&seen[segment_at..]);
        let (_, day_end) = rules::window(now, rules::DAY);
        let segment = |rule: Rule, lock: &super::Peeked, unverified: i64, verified: i64| {
            let limit = p.count(rule).max(2 * verified);
            let block = lock.lock.filter(|l| l.until > now);
            let mut r = state(
                rule,
                Some(unverified),
                Some(limit),
                block.map_or(day_end, |l| l.until),
                block.is_some() || unverified + 1 > limit,
            );
            r.blocked = block.is_some();
            r.strikes = lock.lock.map_or(0, |l| l.strikes);
            r
        };
        rules.push(segment(
            Rule::RangeUnverifiedPerDay,
            &view.range_lock,
            view.range_unverified,
            view.range_verified,
        ));
        if !s.prefix.is_empty() {
            rules.push(segment(
                Rule::PrefixAutoBlock,
                &view.prefix_lock,
                view.prefix_unverified,
                view.prefix_verified,
            ));
        }
        rules.push(segment(
            Rule::CountryAutoBlock,
            &view.country_lock,
            view.country_unverified,
            view.country_verified,
        ));
        Ok(Explanation {
            number: s.plain.as_ref().map(|n| n.masked()).unwrap_or_default(),
            number_hmac: Guard::log_digest(&s.number),
            calling_code: s.calling_code.clone(),
            now,
            // The mark's time is when it verified; the item lives 400 days.
            last_verified: seen[0].lock.map(|l| l.until),
            live_until: lock_until(1),
            cooldown_until,
            rules,
        })
    }
}
