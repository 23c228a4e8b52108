//! What a start is charged to. Three classes: a number never verified (the budget pumping
//! spends), a number verified before started by someone else, and by its owner. Each class
//! has its number counters and its budget; a start that goes ahead moves them together
//! (`start.rs`), one that converts gives back what it did not use (`check.rs`).

use super::rules::{self, DAY, HOUR, Policy, Rule};
use super::store::key;
use super::{Record, Subject};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// Never verified: the never-verified budget, the number's shared counters, and the
    /// segments' statistics.
    New,
    /// Verified before, started from another address: the returning budget (at most half of
    /// its daily spend) and the number's shared counters.
    Returning,
    /// Verified before from this very address: its own counters and gate, the returning budget.
    Owner,
}

impl Class {
    pub fn code(self) -> u8 {
        match self {
            Class::New => 0,
            Class::Returning => 1,
            Class::Owner => 2,
        }
    }

    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Class::Returning,
            2 => Class::Owner,
            _ => Class::New,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Class::New => "new",
            Class::Returning => "returning",
            Class::Owner => "owner",
        }
    }
}

/// One counter a start moves when it goes ahead: what it adds, when the item may go, the
/// rule it is limited by (none: a statistic) with its limit, and until when that refuses.
#[derive(Debug, Clone)]
pub struct Charge {
    pub rule: Option<Rule>,
    pub key: String,
    pub delta: i64,
    pub end: i64,
    pub max: i64,
    pub until: i64,
}

impl Charge {
    /// A count of one in the current `len` window of `base`, limited by `rule`.
    pub fn counted(rule: Rule, base: &str, len: i64, policy: &Policy, now: i64) -> Self {
        let (index, end) = rules::window(now, len);
        Self {
            rule: Some(rule),
            key: key::windowed(base, index),
            delta: 1,
            end,
            max: policy.count(rule),
            until: end,
        }
    }

    fn spend(rule: Rule, key: String, delta: i64, end: i64, until: i64, max: i64) -> Self {
        Self {
            rule: Some(rule),
            key,
            delta,
            end,
            max,
            until,
        }
    }

    fn statistic(base: &str, now: i64) -> Self {
        let (index, end) = rules::window(now, DAY);
        Self {
            rule: None,
            key: key::windowed(base, index),
            delta: 1,
            end,
            max: i64::MAX,
            until: end,
        }
    }
}

/// The number's counters for this class: the hour first (its total sets the cooldown).
pub fn number(policy: &Policy, class: Class, s: &Subject) -> Vec<Charge> {
    let (hour, day, h_rule, d_rule) = match class {
        Class::Owner => (
            key::owner_per_hour(&s.number),
            key::owner_per_day(&s.number),
            Rule::OwnerPerHour,
            Rule::OwnerPerDay,
        ),
        _ => (
            key::number_per_hour(&s.number),
            key::number_per_day(&s.number),
            Rule::NumberPerHour,
            Rule::NumberPerDay,
        ),
    };
    vec![
        Charge::counted(h_rule, &hour, HOUR, policy, s.now),
        Charge::counted(d_rule, &day, DAY, policy, s.now),
    ]
}

/// Where a class's spend is counted, per day and per month.
fn spend_keys(class: Class, day: i64, month: &str) -> (String, String) {
    match class {
        Class::New => (key::spend_day(day), key::spend_month(month)),
        Class::Owner => (
            key::returning_spend_day(day),
            key::returning_spend_month(month),
        ),
        Class::Returning => (
            key::stranger_spend_day(day),
            key::stranger_spend_month(month),
        ),
    }
}

/// The class's budget: starts per day (owners' and never-verified numbers'), spend per day
/// and month (the month last: the log line reports it). Others than a returning number's
/// owner have half the returning budget, counted apart, so they cannot spend the owners'.
pub fn budget(policy: &Policy, class: Class, s: &Subject) -> Vec<Charge> {
    let now = s.now;
    let eur = |rule| rules::eur_units(policy.limit(rule));
    let (day, day_end) = rules::window(now, DAY);
    // Until the next UTC month, at most 31 days: a day, and let the caller retry.
    let (month_end, month_until) = (now + 32 * DAY, now + DAY);
    let cost = s.cost();
    let (day_key, month_key) = spend_keys(class, day, &rules::month(now));
    let (starts, per_day, per_month, share) = match class {
        Class::New => (
            Some((Rule::GlobalStartsPerDay, key::GLOBAL_STARTS)),
            Rule::SpendPerDay,
            Rule::SpendPerMonth,
            1,
        ),
        Class::Owner => (
            Some((Rule::ReturningStartsPerDay, key::RETURNING_STARTS)),
            Rule::ReturningSpendPerDay,
            Rule::ReturningSpendPerMonth,
            1,
        ),
        Class::Returning => (
            None,
            Rule::ReturningSpendPerDay,
            Rule::ReturningSpendPerMonth,
            2,
        ),
    };
    let mut out: Vec<Charge> = starts
        .map(|(rule, base)| Charge::counted(rule, base, DAY, policy, now))
        .into_iter()
        .collect();
    out.push(Charge::spend(
        per_day,
        day_key,
        cost,
        day_end,
        day_end,
        eur(per_day) / share,
    ));
    if class == Class::New && !s.caller.is_empty() {
        let rule = Rule::CallerSpendPerDay;
        let caller_key = key::caller_spend_day(&s.caller, day);
        out.push(Charge::spend(
            rule,
            caller_key,
            cost,
            day_end,
            day_end,
            eur(rule),
        ));
    }
    out.push(Charge::spend(
        per_month,
        month_key,
        cost,
        month_end,
        month_until,
        eur(per_month) / share,
    ));
    out
}

/// What a never-verified start adds to its segments' and sources' statistics (given back
/// when it converts): the range, the network prefix, the calling code, the address and its
/// IPv6 /48.
pub fn statistics(s: &Subject) -> Vec<Charge> {
    let net = s.net.as_deref().unwrap_or_default();
    unverified_bases([&s.range, &s.prefix, &s.calling_code, &s.ip, net])
        .iter()
        .map(|base| Charge::statistic(base, s.now))
        .collect()
}

/// The daily counters a never-verified start adds one to, as bases: its range, its calling
/// code, and (when known) its network prefix, source and IPv6 /48. The start's charge and its
/// refund both read this list.
fn unverified_bases([range, prefix, calling_code, ip, net]: [&str; 5]) -> Vec<String> {
    let mut out = vec![
        key::range_unverified(range),
        key::country_unverified(calling_code),
    ];
    if !prefix.is_empty() {
        out.push(key::prefix_unverified(prefix));
    }
    if !ip.is_empty() {
        out.push(key::ip_unverified(ip));
    }
    if !net.is_empty() {
        out.push(key::net_unverified(net));
    }
    out
}

/// What an ended verification gives back, as (key, delta, item end). Converted: a
/// never-verified start its whole charge (the budget holds what did not convert) and its
/// statistics, and the conversion is credited to its calling code and address. Every other
/// end (a right code on a returning number, too many wrong codes, a cancel) gives back the
/// deliveries its workflow did not get to make; a right code whose price Verify gave
/// (`billed`) sets the charge to it instead. Credited to the start's own windows.
pub fn refunds(
    r: &Record,
    now: i64,
    converted: bool,
    billed: Option<i64>,
) -> Vec<(String, i64, i64)> {
    let (day, day_end) = rules::window(r.created_at, DAY);
    let class = Class::from_code(r.class);
    let spend = |delta: i64| {
        spend_counters(r)
            .into_iter()
            .map(move |(k, end)| (k, delta, end))
    };
    let mut out = Vec::new();
    if converted {
        out.push((
            key::windowed(&key::country_verified(&r.calling_code), day),
            1,
            day_end,
        ));
        out.push((
            key::windowed(&key::range_verified(&r.range), day),
            1,
            day_end,
        ));
        if !r.prefix.is_empty() {
            let verified = key::windowed(&key::prefix_verified(&r.prefix), day);
            out.push((verified, 1, day_end));
        }
        if !r.ip.is_empty() {
            out.push((key::windowed(&key::ip_verified(&r.ip), day), 1, day_end));
        }
    }
    if converted && class == Class::New {
        out.push((key::windowed(key::GLOBAL_STARTS, day), -1, day_end));
        out.extend(spend(-r.spend));
        if !r.caller.is_empty() {
            let converted = key::caller_converted_day(&r.caller, day);
            out.push((converted, r.spend, day_end));
        }
        let bases = unverified_bases([&r.range, &r.prefix, &r.calling_code, &r.ip, &r.net]);
        out.extend(
            bases
                .iter()
                .map(|base| (key::windowed(base, day), -1, day_end)),
        );
        return out;
    }
    let correction = match billed.filter(|_| converted) {
        Some(billed) => billed - r.spend,
        None => -unused_spend(r, now),
    };
    if correction != 0 {
        out.extend(spend(correction));
    }
    out
}

/// The counters a recorded start's spend is in, with when each item may go: its class's day
/// and month, and its caller's day for a never-verified start. Its charge, its refunds and a
/// trigger's delivery all move these together.
fn spend_counters(r: &Record) -> Vec<(String, i64)> {
    let (day, day_end) = rules::window(r.created_at, DAY);
    let class = Class::from_code(r.class);
    let (day_key, month_key) = spend_keys(class, day, &rules::month(r.created_at));
    let mut out = vec![(day_key, day_end), (month_key, r.created_at + 32 * DAY)];
    if class == Class::New && !r.caller.is_empty() {
        out.push((key::caller_spend_day(&r.caller, day), day_end));
    }
    out
}

/// What an admitted `trigger_next_event` adds to its start's budget: one delivery now, since
/// the refund when the verification ends reckons deliveries by time (two minutes apart) and an
/// early one would otherwise be given back. Errs towards counting too much, never too little:
/// the delivery is priced as the dearer of an SMS and a call (which comes next is the
/// workflow's).
pub fn trigger_charge(r: &Record, s: &Subject) -> Vec<(String, i64, i64)> {
    let delivery = s.price.max(s.call_price);
    spend_counters(r)
        .into_iter()
        .map(|(k, end)| (k, delivery, end))
        .collect()
}

/// Verify's `price` for a verification, in 1/10000 EUR: only an amount in EUR (the budgets'
/// currency) between 0 and 10 is believed.
pub fn billed(price: Option<&str>, currency: Option<&str>) -> Option<i64> {
    let eur: f64 = price?.trim().parse().ok()?;
    let believable = currency == Some("EUR") && eur.is_finite() && (0.0..=10.0).contains(&eur);
    believable.then(|| rules::eur_units(eur))
}

/// The part of a start's charge for deliveries its workflow had not made when it ended:
/// deliveries are taken as two minutes apart (v1's first wait in every multi-step workflow;
/// v2's default channel timeout is three).
fn unused_spend(r: &Record, now: i64) -> i64 {
    let deliveries = i64::from(r.deliveries.max(1));
    if deliveries == 1 || r.spend <= 0 {
        return 0;
    }
    let per = r.spend / deliveries;
    let step = 2 * rules::MINUTE;
    let made = (1 + (now - r.created_at).max(0) / step).min(deliveries);
    per * (deliveries - made)
}
