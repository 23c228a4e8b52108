//! `Guard::explain` on states made by real traffic through the guard: what an operator reads
//! when a user says "I get no code".

use super::*;
use crate::guard::explain::{Explanation, RuleState};

async fn explain(g: &Guard, number: &str) -> Explanation {
    g.explain(&g.subject(&num(number), None)).await.unwrap()
}

fn state<'a>(e: &'a Explanation, rule: &str) -> &'a RuleState {
    e.rules
        .iter()
        .find(|r| r.rule == rule)
        .unwrap_or_else(|| panic!("{rule}: {e:?}"))
}

#[tokio::test]
async fn a_fresh_number_is_refused_by_nothing() {
    let (g, _) = guard(Policy::default());
    let e = explain(&g, "+447819912345").await;
    assert_eq!(e.refusing().count(), 0, "{e:?}");
    assert_eq!(
        (e.last_verified, e.live_until, e.cooldown_until),
        (None, None, None)
    );
    assert_eq!(e.calling_code, "44");
    assert_eq!(state(&e, "number_per_hour").count, Some(0));
    assert!(!e.number_hmac.is_empty() && !format!("{e:?}").contains("7819912345"));
}

#[tokio::test]
async fn a_start_shows_its_cooldown_and_counts_and_a_right_code_its_time() {
    let (g, clock) = guard(Policy::default());
    let id = begin(&g, "+447819912345", ip("198.51.100.1"))
        .await
        .unwrap();
    let e = explain(&g, "+447819912345").await;
    let cooldown = state(&e, "number_cooldown");
    assert!(
        cooldown.refuses && cooldown.until == T0 + 60 * 1000,
        "{cooldown:?}"
    );
    assert_eq!(e.cooldown_until, Some(T0 + 60 * 1000));
    assert!(e.live_until.is_some_and(|u| u > T0));
    let hour = state(&e, "number_per_hour");
    assert_eq!(
        (hour.count, hour.limit, hour.refuses),
        (Some(1), Some(5), false)
    );
    clock.advance_ms(10 * rules::SECOND);
    check(&g, &id, ip("198.51.100.1"), "0").await.unwrap();
    let e = explain(&g, "+447819912345").await;
    assert_eq!(e.last_verified, Some(T0 + 10 * rules::SECOND));
}

#[tokio::test]
async fn a_number_at_its_hourly_limit_says_until_when() {
    let (g, clock) = guard(only(&[Rule::NumberPerHour]));
    for i in 0..5 {
        start(&g, "+447819912345", ip(&format!("10.0.0.{i}")))
            .await
            .unwrap();
        clock.advance_ms(MINUTE);
    }
    let e = explain(&g, "+447819912345").await;
    let hour = state(&e, "number_per_hour");
    assert!(hour.refuses && hour.count == Some(5), "{hour:?}");
    assert!(
        hour.until > clock.now_ms() && hour.until <= T0 + HOUR,
        "{hour:?}"
    );
    assert_eq!(
        e.refusing().map(|r| r.rule).collect::<Vec<_>>(),
        ["number_per_hour"]
    );
}

#[tokio::test]
async fn a_blocked_range_says_so_with_its_strikes_and_end() {
    let (g, _) = guard(only(&[Rule::RangeUnverifiedPerDay]));
    for i in 0..21 {
        let _ = start(&g, &format!("+44781991{i:04}"), ip(&format!("10.0.0.{i}"))).await;
    }
    let e = explain(&g, "+447819919999").await;
    let range = state(&e, "range_unverified_per_day");
    assert!(
        range.refuses && range.blocked && range.strikes == 1,
        "{range:?}"
    );
    assert_eq!(range.until, T0 + 12 * HOUR);
    let other = explain(&g, "+447819929999").await;
    assert!(
        !state(&other, "range_unverified_per_day").refuses,
        "the next range is open"
    );
}

#[tokio::test]
async fn unlock_lifts_the_numbers_own_refusals_and_audits_it() {
    // Five starts this hour (the cooldown off here, so they fit): the sixth is refused.
    let (g, clock) = guard(Policy::default().with_mode(Rule::NumberCooldown, Mode::Off));
    for i in 0..5 {
        start(&g, "+447819912345", ip(&format!("10.0.0.{i}")))
            .await
            .unwrap();
        clock.advance_ms(MINUTE);
    }
    assert_eq!(
        rule_of(start(&g, "+447819912345", ip("10.0.1.1")).await),
        "number_per_hour"
    );
    let s = g.subject(&num("+447819912345"), None);
    let done = g
        .unlock(&s, "ops@example", "user called support")
        .await
        .unwrap();
    assert_eq!(done.counters, 10, "the hour's 5 and the day's 5: {done:?}");
    assert_eq!(explain(&g, "+447819912345").await.refusing().count(), 0);
    assert!(
        start(&g, "+447819912345", ip("10.0.1.1")).await.is_ok(),
        "in at once"
    );
    let record = g.audit_record(&done.audit).await.unwrap().expect("kept");
    let v: serde_json::Value = serde_json::from_str(&record).unwrap();
    assert_eq!(
        (v["by"].as_str(), v["action"].as_str()),
        (Some("ops@example"), Some("unlock"))
    );
    assert_eq!(v["reason"], "user called support");
    assert!(!record.contains("7819912345"), "{record}");
}

#[tokio::test]
async fn unlock_opens_the_resend_cooldown() {
    let (g, _) = guard(Policy::default());
    start(&g, "+447819912345", ip("10.0.0.1")).await.unwrap();
    assert_eq!(
        rule_of(start(&g, "+447819912345", ip("10.0.0.2")).await),
        "number_cooldown"
    );
    let s = g.subject(&num("+447819912345"), None);
    let done = g.unlock(&s, "ops@example", "resend").await.unwrap();
    assert_eq!(done.cooldowns, vec![T0 + MINUTE]);
    assert!(start(&g, "+447819912345", ip("10.0.0.2")).await.is_ok());
}
