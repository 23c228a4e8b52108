//! The segment rules on a fake clock: the country auto-block's learning and doubling, and a
//! spray blocking the narrowest segment that explains it (range, prefix, country), never
//! honest traffic that converts.

use super::*;

#[tokio::test]
async fn country_auto_block_learns_for_14_days_then_blocks_and_doubles() {
    let (g, clock) =
        guard(only(&[Rule::CountryAutoBlock]).with_limit(Rule::CountryAutoBlock, 20.0));
    // Day 0: the deployment starts learning; 25 unverified starts to +882 are only logged.
    for i in 0..25 {
        assert!(start(&g, &format!("+8821612{i:04}"), None).await.is_ok());
    }
    clock.advance_ms(15 * DAY);
    for i in 0..20 {
        assert!(
            start(&g, &format!("+8821613{i:04}"), None).await.is_ok(),
            "{i}"
        );
    }
    assert_eq!(
        rule_of(start(&g, "+88216140000", None).await),
        "country_autoblock"
    );
    assert_eq!(
        rule_of(start(&g, "+88216140001", None).await),
        "country_autoblock"
    );
    assert!(
        start(&g, "+447700900801", None).await.is_ok(),
        "other countries pass"
    );
    clock.advance_ms(12 * HOUR);
    assert!(
        start(&g, "+88216140002", None).await.is_err(),
        "still over today: blocked again"
    );
    match start(&g, "+88216140003", None).await {
        Err(ProxyError::Limited { retry_after, .. }) => {
            assert!(retry_after > 23 * 3600, "doubled: {retry_after}")
        }
        other => panic!("{other:?}"),
    }
}

/// Past the country's 14 learning days, with the segment rules enforced.
async fn segments_guard() -> (Guard, FakeClock) {
    let rules = [
        Rule::RangeUnverifiedPerDay,
        Rule::PrefixAutoBlock,
        Rule::CountryAutoBlock,
    ];
    let (g, clock) = guard(only(&rules));
    assert!(
        start(&g, "+447700900001", None).await.is_ok(),
        "the deployment starts"
    );
    clock.advance_ms(15 * DAY);
    (g, clock)
}

#[tokio::test]
async fn a_spray_over_one_prefix_blocks_that_prefix_not_its_country() {
    let (g, clock) = segments_guard().await;
    // One operator block (+44 7819), a new range every start: no range explains it.
    for i in 0..30 {
        assert!(
            start(&g, &format!("+447819{i:02}0000"), None).await.is_ok(),
            "{i}"
        );
    }
    assert_eq!(
        rule_of(start(&g, "+447819300000", None).await),
        "prefix_autoblock"
    );
    assert_eq!(
        rule_of(start(&g, "+447819990001", None).await),
        "prefix_autoblock",
        "the whole prefix"
    );
    assert!(
        start(&g, "+447800000001", None).await.is_ok(),
        "the country's other prefixes pass"
    );
    clock.advance_ms(12 * HOUR + MINUTE);
    assert!(
        start(&g, "+447819400000", None).await.is_err(),
        "still over today: blocked again, for longer"
    );
}

#[tokio::test]
async fn a_range_explains_its_own_starts_so_its_prefix_stays_open() {
    let (g, _) = segments_guard().await;
    // Sequential numbers in one range (the pumper's pattern): the range blocks at 20, and the
    // refused starts count nowhere, so the prefix never gets near its 30.
    for i in 0..60 {
        let _ = start(&g, &format!("+44781991{i:04}"), None).await;
    }
    assert_eq!(
        rule_of(start(&g, "+447819910099", None).await),
        "range_unverified_per_day"
    );
    assert!(
        start(&g, "+447819920000", None).await.is_ok(),
        "the next range"
    );
}

#[tokio::test]
async fn a_spread_over_many_prefixes_blocks_the_country() {
    let (g, _) = segments_guard().await;
    // 100 unconverted starts across 100 prefixes: neither a range nor a prefix explains them.
    let mut admitted = 0;
    for i in 0..120 {
        let prefix = [7800, 7801, 7802, 7803, 7804, 7805, 7806, 7807, 7808, 7809][i % 10];
        let number = format!("+44{}{:06}", prefix + 10 * (i / 10) as u32, i);
        if start(&g, &number, None).await.is_ok() {
            admitted += 1;
        }
    }
    assert_eq!(admitted, 100, "country_autoblock at 100");
    assert_eq!(
        rule_of(start(&g, "+447700900123", None).await),
        "country_autoblock"
    );
}

#[tokio::test]
async fn honest_traffic_at_half_conversion_never_blocks_its_prefix() {
    let (g, clock) = segments_guard().await;
    // A day of 600 new users in one operator block, one every 2 minutes, every other one
    // entering its code a minute later: no segment is ever blocked.
    for i in 0..600 {
        let number = format!("+447819{:06}", i * 7 + 100_000);
        let id = begin(&g, &number, ip(&format!("10.9.{}.{}", i / 250, i % 250)))
            .await
            .unwrap_or_else(|e| panic!("user {i}: {e:?}"));
        clock.advance_ms(MINUTE);
        if i % 2 == 0 {
            check(&g, &id, None, "0").await.unwrap();
        }
        clock.advance_ms(MINUTE);
    }
}
