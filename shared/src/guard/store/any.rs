//! The configured store: enum dispatch over the adapters (the port's futures are not
//! object-safe). The port (`mod.rs`) knows neither adapter; this file knows both.

use super::dynamo::DynamoStore;
use super::memory::MemoryStore;
use super::{Lock, Peeked, Record, Store, StoreError};

pub enum AnyStore {
    Memory(MemoryStore),
    Dynamo(DynamoStore),
}

macro_rules! delegate {
    ($self:ident, $s:ident => $call:expr) => {
        match $self {
            AnyStore::Memory($s) => $call.await,
            AnyStore::Dynamo($s) => $call.await,
        }
    };
}

impl Store for AnyStore {
    async fn add(&self, key: &str, delta: i64, now: i64, exp: i64) -> Result<i64, StoreError> {
        delegate!(self, s => s.add(key, delta, now, exp))
    }
    async fn add_within(
        &self,
        key: &str,
        delta: i64,
        max: i64,
        now: i64,
        exp: i64,
    ) -> Result<Option<i64>, StoreError> {
        delegate!(self, s => s.add_within(key, delta, max, now, exp))
    }
    async fn peek(&self, keys: &[String], now: i64) -> Result<Vec<Peeked>, StoreError> {
        delegate!(self, s => s.peek(keys, now))
    }
    async fn add_member(
        &self,
        key: &str,
        member: &str,
        max: usize,
        now: i64,
        exp: i64,
    ) -> Result<bool, StoreError> {
        delegate!(self, s => s.add_member(key, member, max, now, exp))
    }
    async fn claim(&self, key: &str, now: i64, until: i64) -> Result<Result<(), i64>, StoreError> {
        delegate!(self, s => s.claim(key, now, until))
    }
    async fn release(&self, key: &str, until: i64) -> Result<bool, StoreError> {
        delegate!(self, s => s.release(key, until))
    }
    async fn get_lock(&self, key: &str, now: i64) -> Result<Option<Lock>, StoreError> {
        delegate!(self, s => s.get_lock(key, now))
    }
    async fn set_lock(&self, key: &str, lock: Lock, exp: i64) -> Result<(), StoreError> {
        delegate!(self, s => s.set_lock(key, lock, exp))
    }
    async fn set_note(
        &self,
        key: &str,
        lock: Lock,
        note: &str,
        exp: i64,
    ) -> Result<(), StoreError> {
        delegate!(self, s => s.set_note(key, lock, note, exp))
    }
    async fn put_record(&self, id: &str, r: &Record, exp: i64) -> Result<(), StoreError> {
        delegate!(self, s => s.put_record(id, r, exp))
    }
    async fn get_record(&self, id: &str, now: i64) -> Result<Option<Record>, StoreError> {
        delegate!(self, s => s.get_record(id, now))
    }
    async fn mark_verified(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        delegate!(self, s => s.mark_verified(id, now))
    }
    async fn finish(&self, id: &str, outcome: &str, at: i64, now: i64) -> Result<bool, StoreError> {
        delegate!(self, s => s.finish(id, outcome, at, now))
    }
    async fn first_value(&self, key: &str, value: i64, exp: i64) -> Result<i64, StoreError> {
        delegate!(self, s => s.first_value(key, value, exp))
    }
}
