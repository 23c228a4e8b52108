//! What the budgets count: every delivery a start's workflow may make, calls at their own
//! price, corrected to what Verify billed when a right code's answer says.

use super::*;
use crate::guard::budgets;
use crate::guard::rules::window;
use crate::guard::store::key;

/// The owners' budget spent today, in 1/10000 EUR.
async fn owner_spend_today(g: &Guard, clock: &FakeClock) -> i64 {
    let (day, _) = window(clock.now_ms(), DAY);
    let keys = [key::returning_spend_day(day)];
    g.store.peek(&keys, clock.now_ms()).await.unwrap()[0].count
}

/// A number verified once from `owner` (so its starts from there are its owner's), an hour
/// later started again with workflow 1; the new start's id.
async fn owner_starts_workflow_1(
    g: &Guard,
    clock: &FakeClock,
    number: &str,
    owner: Option<std::net::IpAddr>,
) -> String {
    let id = begin(g, number, owner).await.unwrap();
    check(g, &id, owner, "0").await.unwrap();
    clock.advance_ms(HOUR);
    let s = g
        .subject(&num(number), owner)
        .with_workflow(3, 605_000)
        .with_calls(2);
    let a = g.admit_start(&s).await.unwrap();
    let id = format!("{:032x}", rand_id() + 0xb000);
    g.started(&s, &a, &id).await;
    id
}

#[tokio::test]
async fn calls_are_priced_apart_from_texts() {
    let policy = Policy::parse(
        "spend_per_day=1.00",
        "*=off,spend_per_day=enforce",
        "*:0.10,voice.*:0.30",
    );
    let (g, _) = guard(policy.unwrap());
    // Workflow 1: an SMS and two calls, EUR 0.10 + 2 x 0.30 if the code never comes.
    let workflow_1 = |n: &str| {
        g.subject(&num(n), None)
            .with_workflow(3, 605_000)
            .with_calls(2)
    };
    g.admit_start(&workflow_1("+447819912301")).await.unwrap();
    assert_eq!(
        rule_of(g.admit_start(&workflow_1("+447819912302")).await),
        "spend_per_day",
        "EUR 0.70 + 0.70"
    );
    // SMS only (workflow 6): three more fit in the EUR 0.30 left.
    for i in 3..6 {
        let s = g.subject(&num(&format!("+4478199123{i:02}")), None);
        assert!(g.admit_start(&s).await.is_ok(), "{i}");
    }
    let s = g.subject(&num("+447819912399"), None);
    assert_eq!(rule_of(g.admit_start(&s).await), "spend_per_day");
}

#[tokio::test]
async fn a_right_codes_billed_price_replaces_the_estimate() {
    let (g, clock) = guard(only(&[]));
    let owner = ip("198.51.100.40");
    let id = owner_starts_workflow_1(&g, &clock, "+447819912345", owner).await;
    assert_eq!(
        owner_spend_today(&g, &clock).await,
        3000,
        "3 x EUR 0.10 estimated"
    );
    let record = g.known(&id).await.unwrap().unwrap();
    let source = g.source_of(&Source::Peer(owner));
    g.admit_check(&record, &id, &source).await.unwrap();
    let billed = budgets::billed(Some("0.04620000"), Some("EUR"));
    g.checked_code(&id, &record, &source, "0", billed).await;
    assert_eq!(
        owner_spend_today(&g, &clock).await,
        462,
        "what Verify billed"
    );
}

#[test]
fn only_a_believable_price_in_eur_is_taken() {
    assert_eq!(budgets::billed(Some("0.10000000"), Some("EUR")), Some(1000));
    assert_eq!(budgets::billed(Some("0"), Some("EUR")), Some(0));
    for (price, currency) in [
        (Some("0.10"), Some("USD")),
        (Some("0.10"), None),
        (Some("-0.10"), Some("EUR")),
        (Some("1e9"), Some("EUR")),
        (Some("NaN"), Some("EUR")),
        (Some("ten"), Some("EUR")),
        (None, Some("EUR")),
    ] {
        assert_eq!(
            budgets::billed(price, currency),
            None,
            "{price:?} {currency:?}"
        );
    }
}

#[tokio::test]
async fn a_callers_converted_starts_give_its_budget_back_and_grow_it() {
    let policy = Policy::parse(
        "caller_spend_per_day=0.20",
        "*=off,caller_spend_per_day=enforce",
        "*:0.10",
    );
    let (g, _) = guard(policy.unwrap());
    let app = |n: &str, caller: &str| {
        let mut s = g.subject(&num(n), None);
        if !caller.is_empty() {
            s.caller = g.caller_digest(caller);
        }
        s
    };
    for i in 0..10 {
        // Each verified: the key's EUR 0.20 a day is never used up by users who get in.
        let s = app(&format!("+4478199123{i:02}"), "api-key:k1");
        let a = g
            .admit_start(&s)
            .await
            .unwrap_or_else(|e| panic!("{i}: {e:?}"));
        let id = format!("{:032x}", 0xca11_0000u32 + i);
        g.started(&s, &a, &id).await;
        check(&g, &id, None, "0").await.unwrap();
    }
    // And its users converted EUR 1.00 today: it may leave twice that unconverted.
    for i in 0..20 {
        let s = app(&format!("+4478009123{i:02}"), "api-key:k1");
        g.admit_start(&s)
            .await
            .unwrap_or_else(|e| panic!("{i}: {e:?}"));
    }
    let over = g.admit_start(&app("+447800912399", "api-key:k1")).await;
    assert_eq!(
        rule_of(over),
        "caller_spend_per_day",
        "what did not convert fills it"
    );
    // A key whose users never converted has its EUR 0.20: two starts.
    for i in 0..2 {
        g.admit_start(&app(&format!("+4478019123{i:02}"), "api-key:k2"))
            .await
            .unwrap();
    }
    let over = g.admit_start(&app("+447801912399", "api-key:k2")).await;
    assert_eq!(rule_of(over), "caller_spend_per_day");
    assert!(
        g.admit_start(&app("+447800912397", "")).await.is_ok(),
        "no caller, no such budget"
    );
}

#[tokio::test]
async fn a_triggered_delivery_is_counted_when_it_is_made() {
    let (g, clock) = guard(only(&[]));
    let owner = ip("198.51.100.41");
    // Workflow 1, EUR 0.10 a delivery: 0.30 estimated at the start.
    let id = owner_starts_workflow_1(&g, &clock, "+447819912346", owner).await;
    clock.advance_ms(61_000);
    let record = g.known(&id).await.unwrap().unwrap();
    let source = Source::Peer(owner);
    g.admit_trigger(&g.subject_of(&record, &source), &record, &id)
        .await
        .unwrap();
    assert_eq!(
        owner_spend_today(&g, &clock).await,
        4000,
        "one delivery more, now"
    );
    // A right code 30 s later: two deliveries were made (the SMS and the triggered call);
    // the refund by time gives back two of the three, leaving what was made.
    clock.advance_ms(30_000);
    let src = g.source_of(&source);
    g.admit_check(&record, &id, &src).await.unwrap();
    g.checked_code(&id, &record, &src, "0", None).await;
    assert_eq!(
        owner_spend_today(&g, &clock).await,
        2000,
        "the SMS and the call"
    );
}
