//! The in-memory store: the default for the local server and tests (limits work with no
//! setup). One lock around a map; expired items are treated as absent and swept as it grows.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use super::key;
use super::{Lock, Peeked, Record, Store, StoreError};

/// Sweep expired items when the map grows past this many (bounds memory under a flood); the
/// next sweep waits until the map has doubled again, so a map of live items is not rescanned
/// on every call.
const SWEEP_AT: usize = 50_000;

#[derive(Debug, Clone)]
enum Value {
    Count(i64),
    Set(HashSet<String>),
    Until(i64),
    Lock(Lock),
    Note(Lock, String),
    Record(Record),
}

type Items = HashMap<String, (Value, i64)>;

#[derive(Default)]
pub struct MemoryStore {
    items: Mutex<Map>,
}

#[derive(Default)]
struct Map {
    items: Items,
    next_sweep: usize,
}

impl std::ops::Deref for Map {
    type Target = Items;
    fn deref(&self) -> &Items {
        &self.items
    }
}

impl std::ops::DerefMut for Map {
    fn deref_mut(&mut self) -> &mut Items {
        &mut self.items
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn items(&self) -> MutexGuard<'_, Map> {
        // Every operation completes its change before the guard drops: a poisoned lock still
        // holds consistent data.
        self.items.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The live value under `key` (expired items are absent), sweeping when large.
    fn live(map: &mut Map, key: &str, now: i64) -> Option<Value> {
        if map.items.len() > map.next_sweep.max(SWEEP_AT) {
            map.items.retain(|_, (_, exp)| *exp > now);
            map.next_sweep = map.items.len() * 2;
        }
        let items = &map.items;
        match items.get(key) {
            Some((v, exp)) if *exp > now => Some(v.clone()),
            _ => None,
        }
    }
}

impl Store for MemoryStore {
    async fn add(&self, key: &str, delta: i64, now: i64, exp: i64) -> Result<i64, StoreError> {
        let mut items = self.items();
        let total = match Self::live(&mut items, key, now) {
            Some(Value::Count(n)) => n + delta,
            _ => delta,
        };
        items.insert(key.to_string(), (Value::Count(total), exp));
        Ok(total)
    }

    async fn add_within(
        &self,
        key: &str,
        delta: i64,
        max: i64,
        now: i64,
        exp: i64,
    ) -> Result<Option<i64>, StoreError> {
        let mut items = self.items();
        let total = match Self::live(&mut items, key, now) {
            Some(Value::Count(n)) => n + delta,
            _ => delta,
        };
        if total > max {
            return Ok(None);
        }
        items.insert(key.to_string(), (Value::Count(total), exp));
        Ok(Some(total))
    }

    async fn peek(&self, keys: &[String], now: i64) -> Result<Vec<Peeked>, StoreError> {
        let mut items = self.items();
        Ok(keys
            .iter()
            .map(|k| match Self::live(&mut items, k, now) {
                Some(Value::Count(count)) => Peeked {
                    count,
                    ..Peeked::default()
                },
                Some(Value::Lock(l)) => Peeked {
                    lock: Some(l),
                    ..Peeked::default()
                },
                Some(Value::Note(l, note)) => Peeked {
                    lock: Some(l),
                    note: Some(note),
                    ..Peeked::default()
                },
                Some(Value::Until(until)) => Peeked {
                    lock: Some(Lock { until, strikes: 0 }),
                    ..Peeked::default()
                },
                _ => Peeked::default(),
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
        let mut items = self.items();
        let mut set = match Self::live(&mut items, key, now) {
            Some(Value::Set(s)) => s,
            _ => HashSet::new(),
        };
        if set.contains(member) {
            return Ok(true);
        }
        if set.len() >= max {
            return Ok(false);
        }
        set.insert(member.to_string());
        items.insert(key.to_string(), (Value::Set(set), exp));
        Ok(true)
    }

    async fn claim(&self, key: &str, now: i64, until: i64) -> Result<Result<(), i64>, StoreError> {
        let mut items = self.items();
        let held = match Self::live(&mut items, key, now) {
            Some(Value::Until(open_at)) => Some(open_at),
            // A note written over a claim keeps it (an idempotency key's answer).
            Some(Value::Note(l, _)) => Some(l.until),
            _ => None,
        };
        if let Some(open_at) = held.filter(|t| *t > now) {
            return Ok(Err(open_at));
        }
        items.insert(key.to_string(), (Value::Until(until), until));
        Ok(Ok(()))
    }

    async fn release(&self, key: &str, until: i64) -> Result<bool, StoreError> {
        let mut items = self.items();
        let ours = matches!(items.items.get(key), Some((Value::Until(u), _)) if *u == until);
        if ours {
            items.items.remove(key);
        }
        Ok(ours)
    }

    async fn get_lock(&self, key: &str, now: i64) -> Result<Option<Lock>, StoreError> {
        let mut items = self.items();
        Ok(match Self::live(&mut items, key, now) {
            Some(Value::Lock(l)) => Some(l),
            _ => None,
        })
    }

    async fn set_lock(&self, key: &str, lock: Lock, exp: i64) -> Result<(), StoreError> {
        self.items()
            .insert(key.to_string(), (Value::Lock(lock), exp.max(lock.until)));
        Ok(())
    }

    async fn set_note(
        &self,
        key: &str,
        lock: Lock,
        note: &str,
        exp: i64,
    ) -> Result<(), StoreError> {
        self.items().insert(
            key.to_string(),
            (Value::Note(lock, note.to_string()), exp.max(lock.until)),
        );
        Ok(())
    }

    async fn put_record(&self, id: &str, r: &Record, exp: i64) -> Result<(), StoreError> {
        self.items()
            .insert(key::record(id), (Value::Record(r.clone()), exp));
        Ok(())
    }

    async fn get_record(&self, id: &str, now: i64) -> Result<Option<Record>, StoreError> {
        let mut items = self.items();
        Ok(match Self::live(&mut items, &key::record(id), now) {
            Some(Value::Record(r)) => Some(r),
            _ => None,
        })
    }

    async fn mark_verified(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let mut items = self.items();
        let key = key::record(id);
        if Self::live(&mut items, &key, now).is_none() {
            return Ok(false);
        }
        match items.get_mut(&key) {
            Some((Value::Record(r), _)) if !r.verified => {
                r.verified = true;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn finish(&self, id: &str, outcome: &str, at: i64, now: i64) -> Result<bool, StoreError> {
        let mut items = self.items();
        let key = key::record(id);
        if Self::live(&mut items, &key, now).is_none() {
            return Ok(false);
        }
        match items.get_mut(&key) {
            Some((Value::Record(r), _)) if r.outcome.is_none() => {
                r.outcome = Some((outcome.to_string(), at));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn first_value(&self, key: &str, value: i64, exp: i64) -> Result<i64, StoreError> {
        let mut items = self.items();
        match items.get(key) {
            Some((Value::Count(v), _)) => Ok(*v),
            _ => {
                items.insert(key.to_string(), (Value::Count(value), exp));
                Ok(value)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn expired_items_are_swept_when_the_map_grows() {
        let s = MemoryStore::new();
        for i in 0..=SWEEP_AT {
            s.add(&format!("k{i}"), 1, 0, 10).await.unwrap();
        }
        s.add("live", 1, 20, 1_000).await.unwrap();
        assert_eq!(s.items().len(), 1, "the expired counters went");
        // Live items are not rescanned on every call: the next sweep waits for growth.
        for i in 0..100 {
            s.add(&format!("l{i}"), 1, 20, 1_000).await.unwrap();
        }
        assert_eq!(s.items().len(), 101);
    }
}
