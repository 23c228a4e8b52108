//! One behaviour suite for every `Store` adapter (memory in unit tests, DynamoDB served by moto
//! in `shared/tests/it/guard_dynamodb.rs`), including the concurrency that makes limits exact:
//! of N parallel starts to one number, exactly the limit pass. Panics on the first mismatch.

use std::sync::Arc;

use super::rules::{HOUR, Mode, Rule};
use super::{AnyStore, FakeClock, Guard, Hasher, Lock, Policy, Record, Store};
use crate::verify::Number;

/// Runs every check; `fresh` makes an empty store (or one whose keys do not collide).
pub async fn run(fresh: impl Fn() -> AnyStore) {
    counters(&fresh()).await;
    sets(&fresh()).await;
    gates(&fresh()).await;
    locks_and_records(&fresh()).await;
    parallel_starts_pass_exactly_the_limit(&fresh).await;
}

/// Unique keys per run, so a shared table needs no cleanup.
fn prefix() -> String {
    use rand::{Rng, SeedableRng};
    format!("t{:08x}", rand::rngs::StdRng::from_os_rng().random::<u32>())
}

async fn counters<S: Store + 'static>(s: &S) {
    let k = format!("{}:count", prefix());
    assert_eq!(s.add(&k, 1, 0, 10_000).await.unwrap(), 1);
    assert_eq!(s.add(&k, 2, 0, 10_000).await.unwrap(), 3);
    assert_eq!(s.add(&k, -1, 0, 10_000).await.unwrap(), 2, "decrements");
    assert_eq!(
        s.add(&k, 0, 0, 10_000).await.unwrap(),
        2,
        "a zero add reads"
    );
    let fresh = format!("{}:other", prefix());
    assert_eq!(s.add(&fresh, 0, 0, 10_000).await.unwrap(), 0);
}

async fn sets<S: Store>(s: &S) {
    let k = format!("{}:set", prefix());
    for code in ["44", "33", "49"] {
        assert!(
            s.add_member(&k, code, 3, 0, 10_000).await.unwrap(),
            "{code}"
        );
    }
    assert!(
        !s.add_member(&k, "1", 3, 0, 10_000).await.unwrap(),
        "a 4th member"
    );
    assert!(
        s.add_member(&k, "33", 3, 0, 10_000).await.unwrap(),
        "members stay in"
    );
    assert!(
        !s.add_member(&k, "1", 3, 0, 10_000).await.unwrap(),
        "and the 4th stays out"
    );
}

async fn gates<S: Store>(s: &S) {
    let k = format!("{}:gate", prefix());
    assert_eq!(s.claim(&k, 1_000, 61_000).await.unwrap(), Ok(()));
    assert_eq!(s.claim(&k, 30_000, 90_000).await.unwrap(), Err(61_000));
    assert_eq!(
        s.claim(&k, 61_000, 121_000).await.unwrap(),
        Ok(()),
        "open again"
    );
    assert!(
        !s.release(&k, 61_000).await.unwrap(),
        "an old claim cannot open a newer one"
    );
    assert!(s.release(&k, 121_000).await.unwrap(), "its own claim");
    assert_eq!(
        s.claim(&k, 62_000, 122_000).await.unwrap(),
        Ok(()),
        "released early"
    );
    let never = format!("{}:never", prefix());
    assert!(!s.release(&never, 1).await.unwrap(), "nothing to release");
}

async fn locks_and_records<S: Store>(s: &S) {
    let k = format!("{}:lock", prefix());
    assert_eq!(s.get_lock(&k, 0).await.unwrap(), None);
    let lock = Lock {
        until: 5_000,
        strikes: 2,
    };
    s.set_lock(&k, lock, 100_000).await.unwrap();
    assert_eq!(
        s.get_lock(&k, 6_000).await.unwrap(),
        Some(lock),
        "strikes outlive the lock"
    );
    assert_eq!(
        s.get_lock(&k, 200_000).await.unwrap(),
        None,
        "expired items are absent"
    );

    let id = format!("{}0123456789abcdef", prefix());
    let r = Record {
        number: "n".into(),
        sealed: "s".into(),
        range: "r".into(),
        calling_code: "44".into(),
        ip: "i".into(),
        created_at: 1_000,
        verified: false,
        outcome: None,
    };
    assert_eq!(s.get_record(&id, 0).await.unwrap(), None);
    s.put_record(&id, &r, 100_000).await.unwrap();
    assert_eq!(s.get_record(&id, 2_000).await.unwrap(), Some(r.clone()));
    assert!(s.mark_verified(&id, 2_000).await.unwrap());
    assert!(!s.mark_verified(&id, 2_000).await.unwrap(), "credited once");
    assert!(s.get_record(&id, 2_000).await.unwrap().unwrap().verified);
    assert_eq!(s.get_record(&id, 200_000).await.unwrap(), None, "expired");
    assert!(!s.mark_verified("never-put", 0).await.unwrap());
    assert!(!s.finish("never-put", "EXPIRED", 0, 0).await.unwrap());

    let id = format!("{}0123456789abcdee", prefix());
    s.put_record(&id, &r, 100_000).await.unwrap();
    assert!(s.finish(&id, "EXPIRED", 3_000, 3_000).await.unwrap());
    assert!(
        !s.finish(&id, "SUCCESS", 4_000, 4_000).await.unwrap(),
        "the first outcome stays"
    );
    let got = s.get_record(&id, 5_000).await.unwrap().unwrap();
    assert_eq!(got.outcome, Some(("EXPIRED".to_string(), 3_000)));
    assert!(
        !s.finish(&id, "FAILED", 0, 200_000).await.unwrap(),
        "expired"
    );

    let k = format!("{}:first", prefix());
    assert_eq!(s.first_value(&k, 7, 100_000).await.unwrap(), 7);
    assert_eq!(s.first_value(&k, 9, 100_000).await.unwrap(), 7);
}

/// N parallel starts to one number: with the cooldown on, exactly one passes; with it off,
/// exactly `number_per_hour` pass. The guard's counters and gates are atomic in the store.
async fn parallel_starts_pass_exactly_the_limit(fresh: &impl Fn() -> AnyStore) {
    for (cooldown, expected) in [(Mode::Enforce, 1), (Mode::Off, 5)] {
        let policy = Policy::default()
            .with_mode(Rule::NumberCooldown, cooldown)
            // Only the hourly limit decides here. With several limits binding at once, a race can
            // let fewer than one of them through (3rd on the hour counter, 12th on the day's),
            // never more.
            .with_limit(Rule::NumberPerDay, 1000.0)
            .with_limit(Rule::IpPer10Min, 1000.0)
            .with_limit(Rule::IpPerDay, 1000.0)
            .with_limit(Rule::RangeUnverifiedPerDay, 1000.0);
        let key = format!("{}-parallel-key", prefix());
        let clock = FakeClock::at(1_800_000_000_000 + HOUR / 2);
        let guard = Arc::new(Guard::new(
            policy,
            fresh(),
            Hasher::new(key.as_bytes()).unwrap(),
            Arc::new(clock),
            false,
        ));
        let number = Number::parse("+447700900555").unwrap();
        let tasks: Vec<_> = (0..24)
            .map(|_| {
                let guard = guard.clone();
                let number = number.clone();
                tokio::spawn(async move {
                    let s = guard.subject(&number, None);
                    guard.admit_start(&s).await.is_ok()
                })
            })
            .collect();
        let mut passed = 0;
        for t in tasks {
            passed += usize::from(t.await.unwrap());
        }
        assert_eq!(passed, expected, "cooldown {cooldown:?}");
    }
}
