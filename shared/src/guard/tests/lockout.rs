//! The guard turned against honest users, attack by attack, with the victim's experience
//! beside each: refusals that spend shared allowances, a number's owner kept out, wrong codes
//! that lock a number, budgets one vandal can empty for everyone.

use super::*;

/// An owner: verifies `number` from `home`, then the clock moves past every gate.
async fn owned(g: &Guard, clock: &FakeClock, number: &str, home: Option<IpAddr>) {
    let id = begin(g, number, home).await.unwrap();
    check(g, &id, home, "0").await.unwrap();
    clock.advance_ms(HOUR);
}

#[tokio::test]
async fn refused_starts_spend_nothing_the_victim_needs() {
    // Attack: 50 starts for one number from 50 addresses within a minute. Before, each
    // refused attempt counted against the number's hour and day: 10 of them kept its owner
    // out until midnight. Now one goes ahead (an SMS to the victim) and the rest move nothing.
    let (g, clock) = guard(Policy::default());
    let victim = "+447700900111";
    let mut admitted = 0;
    for i in 0..50 {
        admitted += usize::from(
            start(&g, victim, ip(&format!("203.0.113.{i}")))
                .await
                .is_ok(),
        );
    }
    assert_eq!(admitted, 1);
    // The victim, a minute later, from its own address: the second start of the hour.
    clock.advance_ms(MINUTE);
    assert_eq!(start(&g, victim, ip("198.51.100.7")).await.unwrap(), 180);
}

#[tokio::test]
async fn one_address_cannot_empty_the_budgets() {
    // Attack: 500 starts to random numbers from one address. Its own counters refuse it
    // after 3 unconverted starts; the budget everyone shares holds 3 starts, not 500.
    let policy = Policy::default().with_limit(Rule::GlobalStartsPerDay, 50.0);
    let (g, _) = guard(policy);
    let vandal = ip("203.0.113.9");
    let mut admitted = 0;
    for i in 0..500 {
        admitted += usize::from(start(&g, &format!("+4477009{i:05}"), vandal).await.is_ok());
    }
    assert_eq!(admitted, 3, "ip_unverified_per_day");
    for i in 0..47 {
        let from = ip(&format!("198.51.100.{i}"));
        let other_range = format!("+44780{i:02}12345");
        assert!(start(&g, &other_range, from).await.is_ok(), "{i}");
    }
}

#[tokio::test]
async fn an_address_whose_starts_convert_gets_more() {
    // A carrier NAT: many honest users behind one address, most of whom enter their code.
    let (g, _) = guard(only(&[Rule::IpUnverifiedPerDay]));
    let nat = ip("100.64.0.1");
    for i in 0..40 {
        let id = begin(&g, &format!("+4477009{i:05}"), nat).await.unwrap();
        if i % 10 < 7 {
            check(&g, &id, nat, "0").await.unwrap();
        }
    }
    // 12 unverified against an allowance of 2 x 28 verified: still admitted.
    assert!(start(&g, "+447800999999", nat).await.is_ok());
}

#[tokio::test]
async fn one_ipv6_site_counts_once_across_its_64s() {
    let (g, _) = guard(only(&[Rule::NetUnverifiedPerDay]));
    for i in 0..20 {
        let from = ip(&format!("2001:db8:77:{i:x}::1"));
        assert!(start(&g, &format!("+4477009{i:05}"), from).await.is_ok());
    }
    assert_eq!(
        rule_of(start(&g, "+447800988888", ip("2001:db8:77:ff::1")).await),
        "net_unverified_per_day"
    );
    assert!(
        start(&g, "+447800988888", ip("2001:db8:78::1"))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn the_owner_has_an_allowance_nobody_else_can_spend() {
    let (g, clock) = guard(Policy::default());
    let (number, home) = ("+447700900222", ip("198.51.100.22"));
    owned(&g, &clock, number, home).await;
    // Attack: bombing the number from many addresses, paced to the cooldown: 5 in its
    // clock hour (the 20 minutes here stay inside one).
    let mut bombs = 0;
    for i in 0..20 {
        if let Ok(id) = begin(&g, number, ip(&format!("203.0.113.{i}"))).await {
            bombs += 1;
            // The attacker cancels, so the number's live verification ends at once.
            assert!(g.finished(&id, "CANCELLED", g.now()).await);
        }
        clock.advance_ms(MINUTE);
    }
    assert_eq!(bombs, 5, "at most 5 SMS an hour from others");
    assert_eq!(
        rule_of(start(&g, number, ip("203.0.113.200")).await),
        "number_per_hour"
    );
    // The owner, from its own address, is still admitted this hour.
    assert!(begin(&g, number, home).await.is_ok());
}

#[tokio::test]
async fn an_owner_waits_at_most_for_one_live_verification() {
    let (g, clock) = guard(Policy::default());
    let (number, home) = ("+447700900333", ip("198.51.100.33"));
    owned(&g, &clock, number, home).await;
    let s = g
        .subject(&num(number), ip("203.0.113.1"))
        .with_workflow(3, 605_000);
    let a = g.admit_start(&s).await.unwrap();
    g.started(&s, &a, "00000000000000000000000000000333").await;
    // Verify would refuse the owner while the attacker's verification lives (status 10).
    clock.advance_ms(MINUTE);
    match start(&g, number, home).await {
        Err(ProxyError::AlreadySent { retry_after }) => assert_eq!(retry_after, 545),
        other => panic!("{other:?}"),
    }
    // When it ends, the owner is served first: the attacker is held back.
    clock.advance_ms(545_000);
    assert_eq!(
        rule_of(start(&g, number, ip("203.0.113.2")).await),
        "number_cooldown"
    );
    assert!(start(&g, number, home).await.is_ok());
}

#[tokio::test]
async fn wrong_codes_hold_back_the_guesser_not_the_number() {
    let (g, clock) = guard(Policy::default());
    let (number, home, attacker) = ("+447700900444", ip("198.51.100.44"), ip("203.0.113.44"));
    owned(&g, &clock, number, home).await;
    // Attack: start and type wrong codes. Before, 11 of them locked the number for everyone
    // (1 h, doubling to 24 h), and the victim's SMS still went out.
    let id = begin(&g, number, attacker).await.unwrap();
    for _ in 0..3 {
        check(&g, &id, attacker, "16").await.unwrap();
    }
    // The verification is spent: no fourth guess on it.
    assert!(matches!(
        check(&g, &id, attacker, "16").await,
        Err(ProxyError::CodeLocked { .. })
    ));
    // The guesser waits before its next start on the number, 1 then 2 minutes...
    clock.advance_ms(30_000);
    assert_eq!(
        rule_of(start(&g, number, attacker).await),
        "wrong_code_backoff"
    );
    // ...while the owner gets its code at once and verifies.
    let mine = begin(&g, number, home).await.unwrap();
    check(&g, &mine, home, "0").await.unwrap();
}

#[tokio::test]
async fn a_right_code_resets_the_backoff() {
    let (g, clock) = guard(only(&[
        Rule::WrongCodeBackoff,
        Rule::WrongCodesPerVerification,
    ]));
    let (number, me) = ("+447700900555", ip("198.51.100.55"));
    let mut waits = Vec::new();
    for _ in 0..3 {
        let id = begin(&g, number, me).await.unwrap();
        for _ in 0..3 {
            check(&g, &id, me, "16").await.unwrap();
        }
        match start(&g, number, me).await {
            Err(ProxyError::Limited { retry_after, .. }) => waits.push(retry_after),
            other => panic!("{other:?}"),
        }
        clock.advance_ms(*waits.last().unwrap() as i64 * 1000);
    }
    assert_eq!(waits, vec![60, 120, 240]);
    let id = begin(&g, number, me).await.unwrap();
    check(&g, &id, me, "0").await.unwrap();
    let id = begin(&g, number, me).await.unwrap();
    for _ in 0..3 {
        check(&g, &id, me, "16").await.unwrap();
    }
    match start(&g, number, me).await {
        Err(ProxyError::Limited { retry_after, .. }) => assert_eq!(retry_after, 60, "reset"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn returning_numbers_get_in_when_the_new_budget_is_spent() {
    let policy = Policy::default().with_limit(Rule::GlobalStartsPerDay, 3.0);
    let (g, clock) = guard(policy);
    let (number, home) = ("+447700900666", ip("198.51.100.66"));
    owned(&g, &clock, number, home).await;
    for i in 0..3 {
        assert!(
            start(
                &g,
                &format!("+4477119{i:05}"),
                ip(&format!("203.0.113.{i}"))
            )
            .await
            .is_ok()
        );
    }
    assert_eq!(
        rule_of(start(&g, "+447711999999", ip("203.0.113.99")).await),
        "global_starts_per_day"
    );
    assert!(start(&g, number, home).await.is_ok(), "its owner");
    clock.advance_ms(10 * MINUTE);
    assert!(
        start(&g, number, ip("192.0.2.1")).await.is_ok(),
        "a returning number from a new address: the returning budget"
    );
}

#[tokio::test]
async fn a_start_that_converts_gives_its_budget_back() {
    let policy = Policy::default().with_limit(Rule::GlobalStartsPerDay, 2.0);
    let (g, _) = guard(policy);
    for i in 0..10 {
        let from = ip(&format!("198.51.100.{i}"));
        let id = begin(&g, &format!("+4477009{i:05}"), from).await.unwrap();
        check(&g, &id, from, "0").await.unwrap();
    }
    assert!(begin(&g, "+447800988881", None).await.is_ok());
    assert!(begin(&g, "+447800988882", None).await.is_ok());
    assert_eq!(
        rule_of(begin(&g, "+447800988883", None).await),
        "global_starts_per_day",
        "what did not convert fills it"
    );
}

#[tokio::test]
async fn spend_counts_every_delivery_and_nothing_unsent() {
    // Workflow 1 makes three deliveries (an SMS and two calls) if the code never comes.
    let policy = Policy::parse(
        "spend_per_day=1.00",
        "*=off,spend_per_day=enforce",
        "*:0.10",
    );
    let (g, _) = guard(policy.unwrap());
    for i in 0..3 {
        let s = g
            .subject(&num(&format!("+4477009{i:05}")), None)
            .with_workflow(3, 605_000);
        g.admit_start(&s).await.unwrap();
    }
    let s = g
        .subject(&num("+447700900099"), None)
        .with_workflow(3, 605_000);
    assert_eq!(
        rule_of(g.admit_start(&s).await),
        "spend_per_day",
        "EUR 0.90 + 0.30"
    );
    // A start Verify refused sent nothing: it costs nothing.
    let one = g.subject(&num("+447700900098"), None);
    let a = g.admit_start(&one).await.unwrap();
    g.not_sent(&a).await;
    let a = g.admit_start(&one).await.unwrap();
    g.not_sent(&a).await;
    assert!(g.admit_start(&one).await.is_ok(), "EUR 0.90 + 0.10");
}

#[tokio::test]
async fn a_repeated_start_gets_its_own_live_request_back_and_others_do_not() {
    // A lost answer: the app asks again. Before, the retry met the cooldown, then Verify's
    // status 10 until the first verification ended (10 minutes with workflow 1).
    let (g, clock) = guard(Policy::default());
    let (number, me) = ("+447700900777", ip("198.51.100.77"));
    let s = g.subject(&num(number), me).with_workflow(3, 605_000);
    let a = g.admit_start(&s).await.unwrap();
    g.started(&s, &a, "00000000000000000000000000000777").await;
    clock.advance_ms(10_000);
    let again = g.admit_start(&g.subject(&num(number), me)).await.unwrap();
    assert_eq!(
        again.replay.as_deref(),
        Some("00000000000000000000000000000777")
    );
    // Another address gets no id: the cooldown, then (from Verify) 409 without it.
    assert_eq!(
        rule_of(start(&g, number, ip("203.0.113.77")).await),
        "number_cooldown"
    );
    // Once it is over (a right code), a repeat is a new start.
    check(&g, "00000000000000000000000000000777", me, "0")
        .await
        .unwrap();
    clock.advance_ms(MINUTE);
    let fresh = g.admit_start(&g.subject(&num(number), me)).await.unwrap();
    assert_eq!(fresh.replay, None);
}

#[tokio::test]
async fn a_backend_is_limited_per_end_user_it_names_and_not_as_one_address() {
    // With api-key every call comes from the app's backend: per-address rules on its one
    // address were limits on the whole app (20 starts per 10 minutes for all users).
    let (g, _) = guard(Policy::default());
    let backend = Source::Backend;
    for i in 0..40 {
        let s = g.subject_from(&num(&format!("+44780{i:02}12345")), &backend);
        assert!(
            g.admit_start(&s).await.is_ok(),
            "{i}: no per-address rule for it"
        );
    }
    // Naming its end users, each is limited as an address would be, apart from the others.
    let user = |k: &str| Source::EndUser {
        ip: ip("198.51.100.1"),
        key: Some(k.to_string()),
    };
    for i in 0..3 {
        let s = g.subject_from(&num(&format!("+44781{i:02}12345")), &user("vandal"));
        assert!(g.admit_start(&s).await.is_ok());
    }
    let s = g.subject_from(&num("+447819912345"), &user("vandal"));
    assert_eq!(rule_of(g.admit_start(&s).await), "ip_unverified_per_day");
    let s = g.subject_from(&num("+447819912345"), &user("honest"));
    assert!(
        g.admit_start(&s).await.is_ok(),
        "the same address, another end user"
    );
}
