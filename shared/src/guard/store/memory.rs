//! The in-memory store: the default for the local server and tests (limits work with no
//! setup). Sixteen shards, each a lock around a map, so concurrent starts rarely wait on one
//! another. An item is its key's 128-bit hash, a 24-byte value (big ones boxed, a record
//! packed: `packed.rs`) and its expiry: ~60 bytes where a key string and an inline record took
//! ~420, and a record ~250 bytes where it took ~900. Expired items are absent to
//! reads, swept as a shard grows and by [`MemoryStore::sweep`] on a timer, and the maps shrink
//! after a sweep; past `max_items` new keys are refused (a store error, with one log line a
//! minute) instead of growing without bound.

use std::collections::{HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, MutexGuard};

use super::key;
use super::packed::{Packed, Text};
use super::{Lock, Peeked, Record, Store, StoreError};

const SHARDS: usize = 16;
/// A shard sweeps its expired items when it grows past this many (and then past twice what
/// stayed), so a map of live items is not rescanned on every call.
const SWEEP_AT: usize = 50_000 / SHARDS;
/// The default bound on items: ~100 MB at most (about 100,000 starts to new numbers).
pub const DEFAULT_MAX_ITEMS: usize = 1_000_000;
const FULL_LOG_GAP_MS: i64 = 60_000;

#[derive(Debug, Clone)]
enum Value {
    Count(i64),
    // Boxed on purpose: inline, a set (48 bytes) would make every counter that size.
    #[allow(clippy::box_collection)]
    Set(Box<HashSet<String>>),
    Until(i64),
    Lock(Lock),
    // Boxed, so a counter's item is not the size of a note's.
    Note(Box<(Lock, Text)>),
    Record(Box<Packed>),
}

#[derive(Default)]
struct Shard {
    items: HashMap<u128, (Value, i64)>,
    next_sweep: usize,
    /// The latest time a caller passed in: what a write without one sweeps by.
    now: i64,
}

impl Shard {
    fn sweep(&mut self, now: i64) -> usize {
        let before = self.items.len();
        self.items.retain(|_, (_, exp)| *exp > now);
        // Give the memory back: a flood's map keeps its capacity otherwise.
        if self.items.capacity() > 4 * self.items.len() + 1024 {
            self.items.shrink_to_fit();
        }
        self.next_sweep = self.items.len() * 2;
        before - self.items.len()
    }

    /// The live value under `slot` (expired items are absent), sweeping when large.
    fn live(&mut self, slot: u128, now: i64) -> Option<&mut Value> {
        self.now = self.now.max(now);
        if self.items.len() > self.next_sweep.max(SWEEP_AT) {
            self.sweep(now);
        }
        match self.items.get_mut(&slot) {
            Some((v, exp)) if *exp > now => Some(v),
            _ => None,
        }
    }
}

pub struct MemoryStore {
    shards: Vec<Mutex<Shard>>,
    max_per_shard: usize,
    last_full_log: AtomicI64,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::with_max_items(DEFAULT_MAX_ITEMS)
    }
}

/// A key as its map slot: two SipHash-1-3 halves. The keys are HMAC digests an outsider
/// cannot choose, so collisions (2^-128 a pair) need no defence.
fn slot(key: &str) -> u128 {
    let half = |salt: u8| {
        let mut h = DefaultHasher::new();
        salt.hash(&mut h);
        key.hash(&mut h);
        h.finish()
    };
    (u128::from(half(1)) << 64) | u128::from(half(2))
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// At most `max_items` items (`GUARD_MEMORY_MAX_ITEMS`).
    pub fn with_max_items(max_items: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            max_per_shard: max_items.div_ceil(SHARDS).max(1),
            last_full_log: AtomicI64::new(i64::MIN),
        }
    }

    fn shard(&self, slot: u128) -> MutexGuard<'_, Shard> {
        // Every operation completes its change before the guard drops: a poisoned lock still
        // holds consistent data.
        self.shards[(slot as usize) % SHARDS]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Removes every expired item and returns how many went (the local server's timer).
    pub fn sweep(&self, now: i64) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).sweep(now))
            .sum()
    }

    /// How many items are held, expired ones not yet swept included.
    pub fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).items.len())
            .sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Writes `value` under `slot`; a new key in a full shard is refused once its expired
    /// items are swept and there is still no room.
    fn put(&self, s: &mut Shard, slot: u128, value: Value, exp: i64) -> Result<(), StoreError> {
        if !s.items.contains_key(&slot) && s.items.len() >= self.max_per_shard {
            let now = s.now;
            s.sweep(now);
            if s.items.len() >= self.max_per_shard {
                let last = self.last_full_log.load(Ordering::Relaxed);
                if now.saturating_sub(last) >= FULL_LOG_GAP_MS {
                    self.last_full_log.store(now, Ordering::Relaxed);
                    tracing::error!(
                        max_items = self.max_per_shard * SHARDS,
                        "guard: the memory store is full, new items are refused until some \
                         expire (GUARD_MEMORY_MAX_ITEMS; use DynamoDB for more)"
                    );
                }
                return Err(StoreError("the memory store is full".into()));
            }
        }
        s.items.insert(slot, (value, exp));
        Ok(())
    }

    fn counter(
        &self,
        key: &str,
        delta: i64,
        max: Option<i64>,
        now: i64,
        exp: i64,
    ) -> Result<Option<i64>, StoreError> {
        let k = slot(key);
        let mut s = self.shard(k);
        let total = match s.live(k, now) {
            Some(Value::Count(n)) => *n + delta,
            _ => delta,
        };
        if max.is_some_and(|max| total > max) {
            return Ok(None);
        }
        self.put(&mut s, k, Value::Count(total), exp)?;
        Ok(Some(total))
    }

    /// The record under `id`, changed by `f` when live; whether `f` changed it.
    fn update_record(&self, id: &str, now: i64, f: impl FnOnce(&mut Packed) -> bool) -> bool {
        let k = slot(&key::record(id));
        let mut s = self.shard(k);
        match s.live(k, now) {
            Some(Value::Record(r)) => f(r),
            _ => false,
        }
    }
}

impl Store for MemoryStore {
    async fn add(&self, key: &str, delta: i64, now: i64, exp: i64) -> Result<i64, StoreError> {
        Ok(self.counter(key, delta, None, now, exp)?.unwrap_or(delta))
    }

    async fn add_within(
        &self,
        key: &str,
        delta: i64,
        max: i64,
        now: i64,
        exp: i64,
    ) -> Result<Option<i64>, StoreError> {
        self.counter(key, delta, Some(max), now, exp)
    }

    async fn peek(&self, keys: &[String], now: i64) -> Result<Vec<Peeked>, StoreError> {
        Ok(keys
            .iter()
            .map(|key| {
                let k = slot(key);
                let mut s = self.shard(k);
                match s.live(k, now) {
                    Some(Value::Count(count)) => Peeked {
                        count: *count,
                        ..Peeked::default()
                    },
                    Some(Value::Lock(l)) => Peeked {
                        lock: Some(*l),
                        ..Peeked::default()
                    },
                    Some(Value::Note(n)) => Peeked {
                        lock: Some(n.0),
                        note: Some(n.1.unpack()),
                        ..Peeked::default()
                    },
                    Some(Value::Until(until)) => Peeked {
                        lock: Some(Lock {
                            until: *until,
                            strikes: 0,
                        }),
                        ..Peeked::default()
                    },
                    _ => Peeked::default(),
                }
            })
            .collect())
    }

    async fn add_member(
        &self,
        key: &str,
        member: &str,
        max: usize,
        now: i64,
        exp: i64,
    ) -> Result<bool, StoreError> {
        let k = slot(key);
        let mut s = self.shard(k);
        if let Some(Value::Set(set)) = s.live(k, now) {
            if set.contains(member) {
                return Ok(true);
            }
            if set.len() >= max {
                return Ok(false);
            }
            set.insert(member.to_string());
            return Ok(true);
        }
        if max == 0 {
            return Ok(false);
        }
        let set = HashSet::from([member.to_string()]);
        self.put(&mut s, k, Value::Set(Box::new(set)), exp)?;
        Ok(true)
    }

    async fn claim(&self, key: &str, now: i64, until: i64) -> Result<Result<(), i64>, StoreError> {
        let k = slot(key);
        let mut s = self.shard(k);
        let held = match s.live(k, now) {
            Some(Value::Until(open_at)) => Some(*open_at),
            // A note written over a claim keeps it (an idempotency key's answer).
            Some(Value::Note(n)) => Some(n.0.until),
            _ => None,
        };
        if let Some(open_at) = held.filter(|t| *t > now) {
            return Ok(Err(open_at));
        }
        self.put(&mut s, k, Value::Until(until), until)?;
        Ok(Ok(()))
    }

    async fn release(&self, key: &str, until: i64) -> Result<bool, StoreError> {
        let k = slot(key);
        let mut s = self.shard(k);
        let ours = matches!(s.items.get(&k), Some((Value::Until(u), _)) if *u == until);
        if ours {
            s.items.remove(&k);
        }
        Ok(ours)
    }

    async fn get_lock(&self, key: &str, now: i64) -> Result<Option<Lock>, StoreError> {
        let k = slot(key);
        Ok(match self.shard(k).live(k, now) {
            Some(Value::Lock(l)) => Some(*l),
            _ => None,
        })
    }

    async fn set_lock(&self, key: &str, lock: Lock, exp: i64) -> Result<(), StoreError> {
        let k = slot(key);
        let mut s = self.shard(k);
        self.put(&mut s, k, Value::Lock(lock), exp.max(lock.until))
    }

    async fn set_note(
        &self,
        key: &str,
        lock: Lock,
        note: &str,
        exp: i64,
    ) -> Result<(), StoreError> {
        let k = slot(key);
        let mut s = self.shard(k);
        let value = Value::Note(Box::new((lock, Text::pack(note))));
        self.put(&mut s, k, value, exp.max(lock.until))
    }

    async fn put_record(&self, id: &str, r: &Record, exp: i64) -> Result<(), StoreError> {
        let k = slot(&key::record(id));
        let mut s = self.shard(k);
        self.put(&mut s, k, Value::Record(Box::new(Packed::pack(r))), exp)
    }

    async fn get_record(&self, id: &str, now: i64) -> Result<Option<Record>, StoreError> {
        let k = slot(&key::record(id));
        Ok(match self.shard(k).live(k, now) {
            Some(Value::Record(r)) => Some(r.unpack()),
            _ => None,
        })
    }

    async fn mark_verified(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        Ok(self.update_record(id, now, |r| {
            let first = !r.verified();
            r.set_verified();
            first
        }))
    }

    async fn finish(&self, id: &str, outcome: &str, at: i64, now: i64) -> Result<bool, StoreError> {
        Ok(self.update_record(id, now, |r| {
            let first = !r.has_outcome();
            if first {
                r.set_outcome(outcome, at);
            }
            first
        }))
    }

    async fn first_value(&self, key: &str, value: i64, exp: i64) -> Result<i64, StoreError> {
        let k = slot(key);
        let mut s = self.shard(k);
        if let Some((Value::Count(v), _)) = s.items.get(&k) {
            return Ok(*v);
        }
        self.put(&mut s, k, Value::Count(value), exp)?;
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expired_items_are_swept_as_shards_grow_and_on_the_timer() {
        let s = MemoryStore::new();
        let n = 3 * SWEEP_AT * SHARDS;
        for i in 0..n {
            s.add(&format!("old{i}"), 1, 0, 10).await.unwrap();
        }
        for i in 0..n {
            s.add(&format!("new{i}"), 1, 20, 1_000).await.unwrap();
        }
        assert!(
            s.len() < 2 * n,
            "growth swept the expired: {} of {}",
            s.len(),
            2 * n
        );
        s.sweep(20);
        assert_eq!(s.len(), n, "the timer took the rest");
        assert_eq!(s.sweep(2_000), n);
        assert!(s.is_empty());
    }

    #[tokio::test]
    async fn a_full_store_refuses_new_keys_until_items_expire() {
        let s = MemoryStore::with_max_items(SHARDS * 4);
        let mut refused = 0;
        for i in 0..SHARDS * 8 {
            refused += usize::from(s.add(&format!("k{i}"), 1, 0, 100).await.is_err());
        }
        assert!(refused >= SHARDS * 4, "{refused} refused");
        assert!(s.len() <= SHARDS * 4);
        // Items already held still count up; after their expiry new keys fit again.
        assert_eq!(s.add("k0", 1, 1, 100).await.unwrap(), 2);
        assert!(
            s.add("fresh", 1, 200, 300).await.is_ok(),
            "room after expiry"
        );
    }

    #[test]
    fn values_stay_small() {
        assert!(
            std::mem::size_of::<Value>() <= 24,
            "{}",
            std::mem::size_of::<Value>()
        );
    }
}
