//! The guard's rules as data: each has a name, a default limit and a mode (`off`, `monitor`:
//! log what would have been refused, `enforce`), all configurable. Pure functions of the clock
//! for windows, cooldowns and lock lengths, so every decision is testable with a fake clock.

use std::collections::HashMap;

pub use super::prices::eur_units;
use super::prices::{Prices, pairs};

pub const SECOND: i64 = 1000;
pub const MINUTE: i64 = 60 * SECOND;
pub const HOUR: i64 = 60 * MINUTE;
pub const DAY: i64 = 24 * HOUR;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// Time between two starts to one number: 60, 180, 300, then 600 s (by starts this hour).
    /// The number's owner has a gate of its own.
    NumberCooldown,
    /// Deliveries to one number per hour and per day from anyone but its owner (the address or
    /// end-user key that verified it before): what bombing a number can reach.
    NumberPerHour,
    NumberPerDay,
    /// The owner's own allowance for its number, which nobody else can spend.
    OwnerPerHour,
    OwnerPerDay,
    IpPer10Min,
    IpPerDay,
    /// Starts per App Check token per hour: a token is one install's, so one token replayed
    /// from many addresses is one caller (counted only with `CALLER_AUTH=app-check`).
    TokenStartsPerHour,
    /// Distinct destination calling codes one IP may start to per UTC day.
    IpCallingCodes,
    /// Unverified starts to never-verified numbers from one address per day: at least this
    /// many, or twice the address's verified starts that day (a carrier NAT full of honest
    /// users converts and grows; a vandal's address does not).
    IpUnverifiedPerDay,
    /// The same for a whole IPv6 /48 (one site: its /64s are one vandal's, not many users).
    NetUnverifiedPerDay,
    IpWrongCodesPerHour,
    /// Wrong codes one verification takes before the proxy refuses further checks on it
    /// (Verify's own cap is 3 too), so guesses per number are bounded by its deliveries.
    WrongCodesPerVerification,
    /// After a verification failed on wrong codes, the same address waits before its next
    /// start or check on that number: this many seconds, doubling per failure up to an hour,
    /// reset by a right code. Other addresses, the owner's included, are not held back.
    WrongCodeBackoff,
    /// Unverified starts to one number range (the number without its last 4 digits) per day,
    /// or twice the range's verified starts that day; past it the range is blocked for 12 h
    /// for numbers never verified.
    RangeUnverifiedPerDay,
    /// The budget for never-verified numbers (what pumping spends): starts per day and
    /// estimated spend in EUR per day and month. A start that converts gives its share back.
    GlobalStartsPerDay,
    SpendPerDay,
    SpendPerMonth,
    /// The budget for numbers verified before; others than a number's owner may use at most
    /// half of its daily spend.
    ReturningStartsPerDay,
    ReturningSpendPerDay,
    ReturningSpendPerMonth,
    /// The never-verified spend one authenticated caller (an API key, an IAM principal) may
    /// make in a day: with a key per app or tenant, one of them cannot spend everyone's.
    CallerSpendPerDay,
    /// trigger_next_event: seconds since the last start or trigger.
    TriggerGap,
    /// Block a calling code for 12 h (doubling up to 7 days) when its unverified starts in a
    /// day exceed max(limit, 2 x its verified starts), i.e. under a third converts;
    /// monitor-only in a deployment's first 14 days, while there is no baseline. Only when
    /// the start's own network prefix is not over: the spread is country-wide.
    CountryAutoBlock,
    /// The same for a network prefix (the calling code and at least 3 national digits: the
    /// operator block, `44 7819`), when the start's range does not explain it: the segment
    /// between a range and a country, blocked first.
    PrefixAutoBlock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Off,
    Monitor,
    Enforce,
}

impl Rule {
    pub const ALL: [Rule; 25] = [
        Rule::NumberCooldown,
        Rule::NumberPerHour,
        Rule::NumberPerDay,
        Rule::OwnerPerHour,
        Rule::OwnerPerDay,
        Rule::IpPer10Min,
        Rule::IpPerDay,
        Rule::TokenStartsPerHour,
        Rule::IpCallingCodes,
        Rule::IpUnverifiedPerDay,
        Rule::NetUnverifiedPerDay,
        Rule::IpWrongCodesPerHour,
        Rule::WrongCodesPerVerification,
        Rule::WrongCodeBackoff,
        Rule::RangeUnverifiedPerDay,
        Rule::GlobalStartsPerDay,
        Rule::SpendPerDay,
        Rule::SpendPerMonth,
        Rule::ReturningStartsPerDay,
        Rule::ReturningSpendPerDay,
        Rule::ReturningSpendPerMonth,
        Rule::CallerSpendPerDay,
        Rule::TriggerGap,
        Rule::CountryAutoBlock,
        Rule::PrefixAutoBlock,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::NumberCooldown => "number_cooldown",
            Rule::NumberPerHour => "number_per_hour",
            Rule::NumberPerDay => "number_per_day",
            Rule::OwnerPerHour => "owner_per_hour",
            Rule::OwnerPerDay => "owner_per_day",
            Rule::IpPer10Min => "ip_per_10min",
            Rule::IpPerDay => "ip_per_day",
            Rule::TokenStartsPerHour => "token_starts_per_hour",
            Rule::IpCallingCodes => "ip_calling_codes",
            Rule::IpUnverifiedPerDay => "ip_unverified_per_day",
            Rule::NetUnverifiedPerDay => "net_unverified_per_day",
            Rule::IpWrongCodesPerHour => "ip_wrong_codes_per_hour",
            Rule::WrongCodesPerVerification => "wrong_codes_per_verification",
            Rule::WrongCodeBackoff => "wrong_code_backoff",
            Rule::RangeUnverifiedPerDay => "range_unverified_per_day",
            Rule::GlobalStartsPerDay => "global_starts_per_day",
            Rule::SpendPerDay => "spend_per_day",
            Rule::SpendPerMonth => "spend_per_month",
            Rule::ReturningStartsPerDay => "returning_starts_per_day",
            Rule::ReturningSpendPerDay => "returning_spend_per_day",
            Rule::ReturningSpendPerMonth => "returning_spend_per_month",
            Rule::CallerSpendPerDay => "caller_spend_per_day",
            Rule::TriggerGap => "trigger_gap",
            Rule::CountryAutoBlock => "country_autoblock",
            Rule::PrefixAutoBlock => "prefix_autoblock",
        }
    }

    /// Every rule enforces by default but the country auto-block, which only reports (its
    /// alarm): blocking a whole calling code refuses every new user there, so an attacker
    /// with 150 starts could buy that; ranges, budgets and per-address limits contain pumping.
    pub fn default_mode(self) -> Mode {
        match self {
            Rule::CountryAutoBlock => Mode::Monitor,
            _ => Mode::Enforce,
        }
    }

    /// The default limit (a count, EUR for spend, seconds for the trigger gap and the
    /// wrong-code backoff, the first cooldown step for the cooldown).
    pub fn default_limit(self) -> f64 {
        match self {
            Rule::NumberCooldown => 60.0,
            Rule::NumberPerHour => 5.0,
            Rule::NumberPerDay => 10.0,
            Rule::OwnerPerHour => 5.0,
            Rule::OwnerPerDay => 10.0,
            Rule::IpPer10Min => 20.0,
            Rule::IpPerDay => 100.0,
            Rule::TokenStartsPerHour => 10.0,
            Rule::IpCallingCodes => 3.0,
            Rule::IpUnverifiedPerDay => 3.0,
            Rule::NetUnverifiedPerDay => 20.0,
            Rule::IpWrongCodesPerHour => 30.0,
            Rule::WrongCodesPerVerification => 3.0,
            Rule::WrongCodeBackoff => 60.0,
            Rule::RangeUnverifiedPerDay => 20.0,
            Rule::GlobalStartsPerDay => 1000.0,
            Rule::SpendPerDay => 100.0,
            Rule::SpendPerMonth => 1000.0,
            Rule::ReturningStartsPerDay => 1000.0,
            Rule::ReturningSpendPerDay => 50.0,
            Rule::ReturningSpendPerMonth => 500.0,
            // The whole never-verified budget: one key is unlimited until set lower.
            Rule::CallerSpendPerDay => 100.0,
            Rule::TriggerGap => 60.0,
            Rule::CountryAutoBlock => 100.0,
            Rule::PrefixAutoBlock => 30.0,
        }
    }
}

/// Limits, modes and prices, from `GUARD_LIMITS`, `GUARD_MODES` and `GUARD_PRICES`.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    limits: HashMap<Rule, f64>,
    modes: HashMap<Rule, Mode>,
    prices: Prices,
}

impl Policy {
    /// `limits`: `name=value,...`; `modes`: `name=off|monitor|enforce,...` (`*` for every
    /// rule); `prices`: `calling_code:eur,...` (`*` for the rest; `voice.` before either for
    /// a call's price).
    pub fn parse(limits: &str, modes: &str, prices: &str) -> Result<Self, String> {
        let mut p = Self::default();
        for (name, value) in pairs(limits, '=')? {
            let rule = by_name(name)?;
            let v: f64 = value
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && *v >= 0.0)
                .ok_or_else(|| format!("GUARD_LIMITS: {name} needs a number >= 0"))?;
            p.limits.insert(rule, v);
        }
        for (name, value) in pairs(modes, '=')? {
            let mode = match value {
                "off" => Mode::Off,
                "monitor" => Mode::Monitor,
                "enforce" => Mode::Enforce,
                _ => return Err(format!("GUARD_MODES: {name}: use off, monitor or enforce")),
            };
            if name == "*" {
                for r in Rule::ALL {
                    p.modes.entry(r).or_insert(mode);
                }
            } else {
                p.modes.insert(by_name(name)?, mode);
            }
        }
        p.prices = Prices::parse(prices)?;
        Ok(p)
    }

    pub fn limit(&self, rule: Rule) -> f64 {
        self.limits
            .get(&rule)
            .copied()
            .unwrap_or(rule.default_limit())
    }

    /// Counting limits as whole numbers.
    pub fn count(&self, rule: Rule) -> i64 {
        self.limit(rule).floor() as i64
    }

    pub fn mode(&self, rule: Rule) -> Mode {
        self.modes
            .get(&rule)
            .copied()
            .unwrap_or(rule.default_mode())
    }

    pub fn with_mode(mut self, rule: Rule, mode: Mode) -> Self {
        self.modes.insert(rule, mode);
        self
    }

    pub fn with_limit(mut self, rule: Rule, limit: f64) -> Self {
        self.limits.insert(rule, limit);
        self
    }

    /// Estimated cost of one SMS (or WhatsApp) delivery to a number, in 1/10000 EUR.
    pub fn price_units(&self, digits: &str) -> i64 {
        self.prices.text(digits)
    }

    /// Estimated cost of one voice call to a number, in 1/10000 EUR.
    pub fn call_price_units(&self, digits: &str) -> i64 {
        self.prices.call(digits)
    }

    /// The trigger gap in milliseconds.
    pub fn trigger_gap_ms(&self) -> i64 {
        (self.limit(Rule::TriggerGap) * SECOND as f64) as i64
    }
}

fn by_name(name: &str) -> Result<Rule, String> {
    if name == "number_wrong_codes_per_day" {
        return Err(
            "number_wrong_codes_per_day is gone (an attacker could renew its lock): see \
             wrong_codes_per_verification and wrong_code_backoff"
                .into(),
        );
    }
    Rule::ALL
        .into_iter()
        .find(|r| r.name() == name)
        .ok_or_else(|| format!("unknown guard rule {name:?}"))
}

/// A fixed window: its index (part of the counter's key) and when it ends (the item's TTL).
pub fn window(now: i64, len: i64) -> (i64, i64) {
    let index = now.div_euclid(len);
    (index, (index + 1) * len)
}

/// The UTC month of a time, as `YYYY-MM` (for the monthly spend counter).
pub fn month(now: i64) -> String {
    let (y, m, _) = civil(now);
    format!("{y:04}-{m:02}")
}

/// A time as Verify v1's search writes dates: `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn datetime(ms: i64) -> String {
    let (y, m, d) = civil(ms);
    let s = ms.div_euclid(1000).rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// (year, month, day) of an epoch-ms time: Howard Hinnant's civil_from_days.
fn civil(ms: i64) -> (i64, i64, i64) {
    let z = ms.div_euclid(DAY) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Resend cooldown after the `nth` start to a number this hour (1-based): 60, 180, 300,
/// then 600 s, scaled by the configured first step.
pub fn cooldown(nth: i64, first_step_s: f64) -> i64 {
    let factor = match nth {
        ..=1 => 1.0,
        2 => 3.0,
        3 => 5.0,
        _ => 10.0,
    };
    (factor * first_step_s * SECOND as f64) as i64
}

/// How long a lock lasts on its `strike`-th time (1-based): `base` doubling up to `max`.
pub fn lock_length(strike: u32, base: i64, max: i64) -> i64 {
    let doublings = strike.saturating_sub(1).min(20);
    base.saturating_mul(1 << doublings).min(max)
}

/// The country auto-block threshold: max(limit, 2 x verified starts): honest traffic that
/// converts at a third or better never reaches it.
pub fn autoblock_threshold(limit: f64, verified: i64) -> f64 {
    limit.max(2.0 * verified as f64)
}

/// The wait after a source's `failures`-th failed verification on a number: `first_s`
/// doubling, at most an hour; none before the first failure.
pub fn backoff(failures: u32, first_s: f64) -> i64 {
    if failures == 0 {
        return 0;
    }
    let first = (first_s * SECOND as f64) as i64;
    lock_length(failures, first, HOUR.max(first))
}

/// Seconds for `Retry-After`, rounded up, at least 1.
pub fn retry_after_s(until: i64, now: i64) -> u64 {
    ((until - now + SECOND - 1) / SECOND).max(1) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_overrides() {
        let p = Policy::default();
        assert_eq!(p.count(Rule::NumberPerHour), 5);
        assert_eq!(p.mode(Rule::IpPerDay), Mode::Enforce);
        let p = Policy::parse(
            "number_per_hour=3, spend_per_day=12.5",
            "*=monitor, ip_per_day=off",
            "44:0.05, 4420:0.30, *:0.2",
        )
        .unwrap();
        assert_eq!(p.count(Rule::NumberPerHour), 3);
        assert_eq!(p.limit(Rule::SpendPerDay), 12.5);
        assert_eq!(p.mode(Rule::IpPerDay), Mode::Off);
        assert_eq!(p.mode(Rule::NumberPerDay), Mode::Monitor);
        assert_eq!(p.price_units("447700900123"), 500);
        assert_eq!(p.price_units("442012345678"), 3000, "longest prefix wins");
        assert_eq!(p.price_units("33612345678"), 2000);
        for bad in [("nope=1", "", ""), ("number_per_hour=-1", "", "")] {
            assert!(Policy::parse(bad.0, bad.1, bad.2).is_err(), "{bad:?}");
        }
        assert!(Policy::parse("", "ip_per_day=sometimes", "").is_err());
        assert!(Policy::parse("", "", "UK:0.1").is_err());
    }

    #[test]
    fn windows_months_and_lengths() {
        assert_eq!(window(DAY + 5, DAY), (1, 2 * DAY));
        assert_eq!(month(0), "1970-01");
        // 2026-11-24T12:00:00Z
        assert_eq!(month(1_795_521_600_000), "2026-11");
        assert_eq!(month(1_798_761_600_000 - 1), "2026-12");
        assert_eq!(month(1_798_761_600_000), "2027-01");
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(1_798_761_599_999), "2026-12-31 23:59:59");
        assert_eq!(datetime(951_782_400_000 + 3_723_000), "2000-02-29 01:02:03");
        assert_eq!(
            (1..=5)
                .map(|n| cooldown(n, 60.0) / SECOND)
                .collect::<Vec<_>>(),
            vec![60, 180, 300, 600, 600]
        );
        assert_eq!(
            (1..=7)
                .map(|s| lock_length(s, HOUR, DAY) / HOUR)
                .collect::<Vec<_>>(),
            vec![1, 2, 4, 8, 16, 24, 24]
        );
        assert_eq!(lock_length(40, 12 * HOUR, 7 * DAY), 7 * DAY);
        assert_eq!(autoblock_threshold(20.0, 10), 20.0);
        assert_eq!(autoblock_threshold(20.0, 1000), 2000.0);
        assert_eq!(
            (0..=8)
                .map(|f| backoff(f, 60.0) / MINUTE)
                .collect::<Vec<_>>(),
            vec![0, 1, 2, 4, 8, 16, 32, 60, 60]
        );
        assert_eq!(retry_after_s(5_001, 0), 6);
        assert_eq!(retry_after_s(0, 10), 1);
    }
}
