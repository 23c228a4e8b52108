//! The guard's decisions on a fake clock and the memory store (the same suite runs against
//! DynamoDB in `shared/tests/it/guard_dynamodb.rs`); the attacks on honest users, and what
//! those users see, in `lockout.rs`.

mod explain;
mod lockout;
mod segments;
mod spend;

use std::net::IpAddr;
use std::sync::Arc;

use super::rules::{DAY, HOUR, MINUTE, Mode, Rule};
use super::store::memory::MemoryStore;
use super::*;
use crate::error::ProxyError;

/// 2027-01-01T00:30:00Z: far from a day boundary for the day windows used here.
const T0: i64 = 1_798_763_400_000;

fn guard(policy: Policy) -> (Guard, FakeClock) {
    let clock = FakeClock::at(T0);
    let g = Guard::new(
        policy,
        AnyStore::Memory(MemoryStore::new()),
        Hasher::new(b"unit-test-key-0123").unwrap(),
        Arc::new(clock.clone()),
        false,
    );
    (g, clock)
}

fn num(s: &str) -> Number {
    Number::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn ip(s: &str) -> Option<IpAddr> {
    Some(s.parse().unwrap())
}

async fn start(g: &Guard, number: &str, from: Option<IpAddr>) -> Result<u64, ProxyError> {
    g.admit_start(&g.subject(&num(number), from))
        .await
        .map(|a| a.retry_after)
}

/// Admits and records a start; its request id.
async fn begin(g: &Guard, number: &str, from: Option<IpAddr>) -> Result<String, ProxyError> {
    let s = g.subject(&num(number), from);
    let a = g.admit_start(&s).await?;
    let id = format!("{:032x}", rand_id());
    g.started(&s, &a, &id).await;
    Ok(id)
}

fn rand_id() -> u128 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(1);
    u128::from(NEXT.fetch_add(1, Ordering::Relaxed))
}

/// A check with Verify's answer `status`, from `from`.
async fn check(g: &Guard, id: &str, from: Option<IpAddr>, status: &str) -> Result<(), ProxyError> {
    let record = g.known(id).await?.expect("a record");
    let source = g.source_of(&Source::Peer(from));
    g.admit_check(&record, id, &source).await?;
    g.checked_code(id, &record, &source, status, None).await;
    Ok(())
}

fn rule_of<T: std::fmt::Debug>(r: Result<T, ProxyError>) -> &'static str {
    match r {
        Err(ProxyError::Limited { rule, .. }) => rule,
        Err(other) => panic!("not a limit: {other:?}"),
        Ok(_) => "passed",
    }
}

/// Only the rules under test: everything else off.
fn only(rules: &[Rule]) -> Policy {
    let mut p = Policy::default();
    for r in Rule::ALL {
        let mode = if rules.contains(&r) {
            Mode::Enforce
        } else {
            Mode::Off
        };
        p = p.with_mode(r, mode);
    }
    p
}

#[tokio::test]
async fn the_store_suite_passes_on_memory() {
    conformance::run(|| AnyStore::Memory(MemoryStore::new())).await;
}

#[tokio::test]
async fn resend_cooldown_escalates_60_180_300_600() {
    let (g, clock) = guard(only(&[Rule::NumberCooldown]));
    let n = "+447700900001";
    let mut waits = Vec::new();
    for _ in 0..5 {
        let retry = start(&g, n, None).await.unwrap();
        waits.push(retry);
        let refused = start(&g, n, None).await;
        assert_eq!(rule_of(refused), "number_cooldown");
        clock.advance_ms(retry as i64 * 1000);
    }
    // A refused attempt moves nothing: the steps climb by starts that went ahead.
    assert_eq!(waits, vec![60, 180, 300, 600, 600]);
    let (g, clock) = guard(only(&[Rule::NumberCooldown]));
    let mut waits = Vec::new();
    for _ in 0..4 {
        waits.push(start(&g, n, None).await.unwrap());
        clock.advance_ms(*waits.last().unwrap() as i64 * 1000);
    }
    assert_eq!(
        waits,
        vec![60, 180, 300, 600],
        "without refusals in between"
    );
}

#[tokio::test]
async fn per_number_hour_and_day_in_any_notation() {
    let (g, clock) = guard(only(&[Rule::NumberPerHour, Rule::NumberPerDay]));
    for (i, notation) in [
        "+447700900002",
        "0044 7700 900002",
        "44-7700-900002",
        "447700900002",
        "(44) 7700900002",
    ]
    .into_iter()
    .enumerate()
    {
        assert!(
            start(&g, notation, ip(&format!("198.51.100.{i}")))
                .await
                .is_ok(),
            "{notation}"
        );
    }
    assert_eq!(
        rule_of(start(&g, "+44 7700 900002", ip("203.0.113.9")).await),
        "number_per_hour"
    );
    clock.advance_ms(HOUR);
    for _ in 0..5 {
        assert!(start(&g, "447700900002", None).await.is_ok());
    }
    // 5 + 5 = 10 today (the refusal counted nothing): the 11th is over the day's limit.
    clock.advance_ms(HOUR);
    assert_eq!(
        rule_of(start(&g, "447700900002", None).await),
        "number_per_day"
    );
}

#[tokio::test]
async fn per_ip_limits_hold_across_numbers_and_ipv6_64s() {
    let (g, _) = guard(only(&[Rule::IpPer10Min]));
    for i in 0..20 {
        assert!(
            start(&g, &format!("+4477009001{i:02}"), ip("2001:db8:7:7::1"))
                .await
                .is_ok()
        );
    }
    let other_host_same_64 = ip("2001:db8:7:7:ffff::9");
    assert_eq!(
        rule_of(start(&g, "+447700900199", other_host_same_64).await),
        "ip_per_10min"
    );
    assert!(
        start(&g, "+447700900199", ip("2001:db8:7:8::1"))
            .await
            .is_ok(),
        "another /64"
    );
}

#[tokio::test]
async fn an_ip_reaches_at_most_three_calling_codes_a_day() {
    let (g, clock) = guard(only(&[Rule::IpCallingCodes]));
    let me = ip("198.51.100.20");
    for n in ["+447700900301", "+33612345678", "+4915112345678"] {
        assert!(start(&g, n, me).await.is_ok(), "{n}");
    }
    assert_eq!(
        rule_of(start(&g, "+14155550100", me).await),
        "ip_calling_codes"
    );
    assert!(
        start(&g, "+447700900302", me).await.is_ok(),
        "known codes still pass"
    );
    clock.advance_ms(DAY);
    assert!(start(&g, "+14155550100", me).await.is_ok(), "a new day");
}

#[tokio::test]
async fn sequential_numbers_in_one_range_are_blocked_for_12_hours() {
    let (g, clock) = guard(only(&[Rule::RangeUnverifiedPerDay]));
    for i in 0..20 {
        assert!(
            start(&g, &format!("+44781991{i:04}"), ip(&format!("10.0.0.{i}")))
                .await
                .is_ok()
        );
    }
    assert_eq!(
        rule_of(start(&g, "+447819910020", ip("10.1.0.1")).await),
        "range_unverified_per_day"
    );
    assert_eq!(
        rule_of(start(&g, "+447819919999", ip("10.1.0.2")).await),
        "range_unverified_per_day"
    );
    assert!(
        start(&g, "+447819920000", None).await.is_ok(),
        "the next range is not blocked"
    );
    clock.advance_ms(12 * HOUR);
    let again = start(&g, "+447819910021", None).await;
    assert_eq!(
        rule_of(again),
        "range_unverified_per_day",
        "still over today: blocked again"
    );
    clock.advance_ms(12 * HOUR);
    assert!(
        start(&g, "+447819910022", None).await.is_ok(),
        "a new day, the block over"
    );
}

#[tokio::test]
async fn verified_starts_do_not_count_against_their_range() {
    let (g, _) = guard(only(&[Rule::RangeUnverifiedPerDay]));
    for i in 0..30 {
        let id = begin(&g, &format!("+44770090{i:04}"), None).await.unwrap();
        check(&g, &id, None, "0").await.unwrap();
    }
}

/// The same credit from a v2 "completed" event instead of a right code, given once; an
/// outcome that came first (an expiry) keeps a late "completed" from crediting.
#[tokio::test]
async fn a_success_event_credits_like_a_right_code_once() {
    let (g, _) = guard(only(&[Rule::RangeUnverifiedPerDay]));
    for i in 0..30 {
        let id = begin(&g, &format!("+44770090{i:04}"), None).await.unwrap();
        assert!(g.finished(&id, "SUCCESS", T0).await);
        assert!(!g.finished(&id, "SUCCESS", T0).await, "recorded once");
        assert!(g.known(&id).await.unwrap().unwrap().verified);
    }
    let late = begin(&g, "+447700800000", None).await.unwrap();
    assert!(g.finished(&late, "EXPIRED", T0).await);
    assert!(!g.finished(&late, "SUCCESS", T0).await);
    let r = g.known(&late).await.unwrap().unwrap();
    assert!(
        !r.verified,
        "a late success after an expiry is no verification"
    );
    assert!(
        !g.finished("0123456789abcdef0123456789abcdef", "SUCCESS", T0)
            .await,
        "not ours"
    );
}

#[tokio::test]
async fn an_ip_gets_30_wrong_codes_an_hour_across_requests() {
    let (g, clock) = guard(only(&[Rule::IpWrongCodesPerHour]));
    let attacker = ip("203.0.113.66");
    let mut ids = Vec::new();
    for i in 0..30 {
        let id = begin(&g, &format!("+4477009005{i:02}"), None)
            .await
            .unwrap();
        check(&g, &id, attacker, "16").await.unwrap();
        ids.push(id);
    }
    assert_eq!(
        rule_of(check(&g, &ids[0], attacker, "16").await),
        "ip_wrong_codes_per_hour"
    );
    assert!(check(&g, &ids[1], ip("198.51.100.1"), "0").await.is_ok());
    clock.advance_ms(HOUR);
    assert!(check(&g, &ids[2], attacker, "16").await.is_ok());
}

#[tokio::test]
async fn global_starts_and_spend_caps() {
    let policy = only(&[Rule::GlobalStartsPerDay]).with_limit(Rule::GlobalStartsPerDay, 3.0);
    let (g, _) = guard(policy);
    for i in 0..3 {
        assert!(start(&g, &format!("+33612345{i:03}"), None).await.is_ok());
    }
    assert_eq!(
        rule_of(start(&g, "+33612345999", None).await),
        "global_starts_per_day"
    );

    let policy = Policy::parse(
        "spend_per_day=0.25",
        &modes_only("spend_per_day"),
        "44:0.10,*:1.00",
    );
    let (g, clock) = guard(policy.unwrap());
    assert!(start(&g, "+447700900601", None).await.is_ok());
    assert!(start(&g, "+447700900602", None).await.is_ok());
    assert_eq!(
        rule_of(start(&g, "+447700900603", None).await),
        "spend_per_day"
    );
    clock.advance_ms(DAY);
    assert_eq!(
        rule_of(start(&g, "+33612345678", None).await),
        "spend_per_day",
        "EUR 1.00 > 0.25"
    );
}

fn modes_only(rule: &str) -> String {
    format!("*=off,{rule}=enforce")
}

#[tokio::test]
async fn triggers_count_as_starts_and_need_60_seconds() {
    let (g, clock) = guard(only(&[Rule::TriggerGap, Rule::NumberPerHour]));
    let s = g.subject(&num("+447700900701"), None);
    let id = begin(&g, "+447700900701", None).await.unwrap();
    let id = id.as_str();
    let r = g.known(id).await.unwrap().unwrap();
    let mut t = s.clone();
    t.now = g.now();
    assert!(matches!(
        g.admit_trigger(&t, &r, id).await,
        Err(ProxyError::Limited {
            rule: "trigger_gap",
            ..
        })
    ));
    clock.advance_ms(MINUTE);
    t.now = g.now();
    g.admit_trigger(&t, &r, id).await.unwrap();
    for _ in 0..3 {
        clock.advance_ms(MINUTE);
        t.now = g.now();
        let _ = g.admit_trigger(&t, &r, id).await;
    }
    // 1 start + 1 trigger + 3 triggers (the refused one counted nothing): past 5 an hour.
    clock.advance_ms(MINUTE);
    t.now = g.now();
    assert!(matches!(
        g.admit_trigger(&t, &r, id).await,
        Err(ProxyError::Limited {
            rule: "number_per_hour",
            ..
        })
    ));
}

#[tokio::test]
async fn monitor_mode_only_logs_and_off_ignores() {
    let p = Policy::parse("", "*=off,number_per_hour=monitor", "").unwrap();
    let (g, _) = guard(p);
    for _ in 0..20 {
        assert!(start(&g, "+447700900901", None).await.is_ok());
    }
}

#[tokio::test]
async fn unknown_ids_are_refused() {
    let (g, _) = guard(Policy::default());
    assert!(matches!(
        g.known("ffffffffffffffffffffffffffffffff").await,
        Err(ProxyError::UnknownRequest)
    ));
}
