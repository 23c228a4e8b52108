//! One behaviour suite for every `Store` adapter (memory in unit tests, DynamoDB served by moto
//! in `shared/tests/it/guard_dynamodb.rs`), including the concurrency that makes limits exact:
//! of N parallel starts to one number, exactly the limit pass. Panics on the first mismatch.

use std::sync::Arc;

use super::rules::{HOUR, Mode, Rule};
use super::{AnyStore, Class, FakeClock, Guard, Hasher, Lock, Peeked, Policy, Record, Store};
use crate::verify::Number;

/// Runs every check; `fresh` makes an empty store (or one whose keys do not collide).
pub async fn run(fresh: impl Fn() -> AnyStore) {
    counters(&fresh()).await;
    bounded_counters_and_batch_reads(&fresh()).await;
    parallel_bounded_adds_pass_exactly_the_room(&fresh()).await;
    sets(&fresh()).await;
    gates(&fresh()).await;
    locks_and_records(&fresh()).await;
    parallel_starts_pass_exactly_the_limit(&fresh).await;
    the_guard_keeps_its_promises_on_this_store(&fresh).await;
}

/// The guard's own promises through this adapter: a repeat gets its own request back,
/// refusals move nothing, a right code makes the verifying address the number's owner.
async fn the_guard_keeps_its_promises_on_this_store(fresh: &impl Fn() -> AnyStore) {
    let key = format!("{}-promises-key", prefix());
    let clock = FakeClock::at(1_800_000_000_000 + HOUR / 2);
    let g = Guard::new(
        Policy::default(),
        fresh(),
        Hasher::new(key.as_bytes()).unwrap(),
        Arc::new(clock.clone()),
        false,
    );
    let number = Number::parse("+447700900556").unwrap();
    let home: Option<std::net::IpAddr> = "198.51.100.56".parse().ok();
    let other: Option<std::net::IpAddr> = "203.0.113.56".parse().ok();
    let s = g.subject(&number, home);
    let a = g.admit_start(&s).await.unwrap();
    let id = format!("{}-0123456789abcdef0123", prefix());
    g.started(&s, &a, &id).await;
    let again = g.admit_start(&g.subject(&number, home)).await.unwrap();
    assert_eq!(again.replay.as_deref(), Some(id.as_str()));
    for _ in 0..10 {
        assert!(g.admit_start(&g.subject(&number, other)).await.is_err());
    }
    let record = g.known(&id).await.unwrap().unwrap();
    let source = g.source_of(&super::Source::Peer(home));
    g.admit_check(&record, &id, &source).await.unwrap();
    g.checked_code(&id, &record, &source, "0", None).await;
    clock.advance_ms(61_000);
    let owner = g.admit_start(&g.subject(&number, home)).await.unwrap();
    assert_eq!(owner.class, Class::Owner);
    let stranger = g.admit_start(&g.subject(&number, other)).await.unwrap();
    assert_eq!(
        stranger.class,
        Class::Returning,
        "its 10 refusals counted nothing"
    );
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

async fn bounded_counters_and_batch_reads<S: Store>(s: &S) {
    let k = format!("{}:within", prefix());
    assert_eq!(s.add_within(&k, 2, 3, 0, 10_000).await.unwrap(), Some(2));
    assert_eq!(
        s.add_within(&k, 2, 3, 0, 10_000).await.unwrap(),
        None,
        "over the limit: nothing added"
    );
    assert_eq!(s.add_within(&k, 1, 3, 0, 10_000).await.unwrap(), Some(3));
    assert_eq!(s.add(&k, 0, 0, 10_000).await.unwrap(), 3);
    assert_eq!(s.add_within(&k, -3, 3, 0, 10_000).await.unwrap(), Some(0));

    let lock_key = format!("{}:plock", prefix());
    let lock = Lock {
        until: 5_000,
        strikes: 2,
    };
    s.set_lock(&lock_key, lock, 100_000).await.unwrap();
    let gate_key = format!("{}:pgate", prefix());
    s.claim(&gate_key, 0, 7_000).await.unwrap().unwrap();
    s.add(&k, 4, 0, 10_000).await.unwrap();
    let missing = format!("{}:pmissing", prefix());
    let keys = [k.clone(), lock_key.clone(), missing, gate_key, k.clone()];
    let got = s.peek(&keys, 1_000).await.unwrap();
    assert_eq!(got.len(), 5, "one answer per key, duplicates included");
    assert_eq!((got[0].count, got[0].lock), (4, None));
    assert_eq!(got[1].lock, Some(lock));
    assert_eq!(got[2], Peeked::default(), "absent");
    assert_eq!(
        got[3].lock.map(|l| l.until),
        Some(7_000),
        "a gate reads as a lock"
    );
    assert_eq!(got[4], got[0]);
    let later = s.peek(&keys, 200_000).await.unwrap();
    assert!(
        later.iter().all(|p| *p == Peeked::default()),
        "expired: absent"
    );
    let note_key = format!("{}:pnote", prefix());
    let id = "0123456789abcdef0123456789abcdef".to_string();
    s.set_note(&note_key, lock, &id, 100_000).await.unwrap();
    let got = s
        .peek(std::slice::from_ref(&note_key), 1_000)
        .await
        .unwrap();
    assert_eq!((got[0].lock, got[0].note.clone()), (Some(lock), Some(id)));
    // A note written over a claim keeps the claim (an idempotency key's stored answer).
    let held = format!("{}:pheld", prefix());
    s.claim(&held, 0, 50_000).await.unwrap().unwrap();
    let until = Lock {
        until: 50_000,
        strikes: 0,
    };
    s.set_note(&held, until, "fp|id", 50_000).await.unwrap();
    assert_eq!(s.claim(&held, 1_000, 60_000).await.unwrap(), Err(50_000));
    let got = s.peek(std::slice::from_ref(&held), 1_000).await.unwrap();
    assert_eq!(got[0].note.as_deref(), Some("fp|id"));
    assert_eq!(got[0].count, 0);
    let many: Vec<String> = (0..130).map(|i| format!("{}:many{i}", prefix())).collect();
    s.add(&many[129], 7, 0, 10_000).await.unwrap();
    let got = s.peek(&many, 0).await.unwrap();
    assert_eq!(got[129].count, 7, "more keys than one batch holds");
}

/// Of N concurrent bounded adds, exactly as many pass as fit.
async fn parallel_bounded_adds_pass_exactly_the_room(s: &AnyStore) {
    let k = format!("{}:room", prefix());
    let adds = (0..24).map(|_| s.add_within(&k, 1, 5, 0, 10_000));
    let passed = futures_util::future::join_all(adds)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(Some(_))))
        .count();
    assert_eq!(passed, 5);
    assert_eq!(s.add(&k, 0, 0, 10_000).await.unwrap(), 5);
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
        prefix: "q".into(),
        calling_code: "44".into(),
        ip: "i".into(),
        net: "x".into(),
        caller: "u".into(),
        created_at: 1_000,
        verified: false,
        outcome: None,
        class: 2,
        spend: 3000,
        deliveries: 3,
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
            .with_limit(Rule::RangeUnverifiedPerDay, 1000.0)
            .with_limit(Rule::IpUnverifiedPerDay, 1000.0);
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
