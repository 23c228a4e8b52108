//! The guard's storage port: a handful of atomic item operations that both adapters
//! (`memory.rs`, `dynamo.rs`, beside this file) implement with the same meaning, checked by one
//! shared test suite (`guard/conformance.rs`); `any.rs` picks one at start-up and `key.rs`
//! spells every key. Times are epoch
//! milliseconds; every item carries an expiry (a DynamoDB TTL), and since TTL deletion is lazy
//! (and moto never deletes), reads treat expired items as absent in code.

pub mod any;
pub mod dynamo;
pub mod key;
pub mod memory;
mod packed;

use std::future::Future;

use thiserror::Error;

#[derive(Debug, Error)]
#[error("guard store: {0}")]
pub struct StoreError(pub String);

/// A lock or block with the number of times it has been imposed (for doubling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lock {
    pub until: i64,
    pub strikes: u32,
}

/// What one key holds, read without changing it ([`Store::peek`]): a counter's value (0 when
/// absent or not a counter) and a lock's or gate's time with its strikes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Peeked {
    pub count: i64,
    pub lock: Option<Lock>,
    /// A note's text (`set_note`): a request id.
    pub note: Option<String>,
}

/// What the proxy keeps about a verification it started (no readable number, no IP: digests,
/// and the number sealed for the verification token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub number: String,
    /// The number, AES-GCM sealed under the guard key and bound to the request id.
    pub sealed: String,
    pub range: String,
    /// The network prefix's digest (empty for records written before it was kept).
    pub prefix: String,
    pub calling_code: String,
    pub ip: String,
    /// The IPv6 /48's digest (empty for IPv4).
    pub net: String,
    /// The authenticated caller's digest (empty: none), whose budget the start was charged to.
    pub caller: String,
    pub created_at: i64,
    pub verified: bool,
    /// How it ended, in Verify v1's search words (`SUCCESS`, `FAILED`, `EXPIRED`,
    /// `CANCELLED`), with when (epoch ms): from a v2 status event or our own call's answer.
    pub outcome: Option<(String, i64)>,
    /// What the start was charged to (see `guard::budgets::Class`), what it cost in 1/10000
    /// EUR (every delivery its workflow may make) and how many deliveries that is.
    pub class: u8,
    pub spend: i64,
    pub deliveries: u8,
}

pub trait Store: Send + Sync {
    /// Adds `delta` to a counter (created at 0) and returns the new value, atomically: of N
    /// concurrent calls, each sees a different total.
    fn add(
        &self,
        key: &str,
        delta: i64,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;

    /// Adds `delta` only if the total stays at or below `max`: `Some(new total)`, or `None`
    /// (nothing changed). Atomic like `add`: of N concurrent calls, no more pass than fit.
    fn add_within(
        &self,
        key: &str,
        delta: i64,
        max: i64,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<Option<i64>, StoreError>> + Send;

    /// Reads many keys at once (one round trip), in order; absent keys read as default.
    fn peek(
        &self,
        keys: &[String],
        now: i64,
    ) -> impl Future<Output = Result<Vec<Peeked>, StoreError>> + Send;

    /// Adds `member` to a set unless the set already has `max` other members; true when the
    /// member is (now) in the set.
    fn add_member(
        &self,
        key: &str,
        member: &str,
        max: usize,
        now: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes a gate until `until` if it is open at `now`; otherwise `Err(time it opens)`.
    fn claim(
        &self,
        key: &str,
        now: i64,
        until: i64,
    ) -> impl Future<Output = Result<Result<(), i64>, StoreError>> + Send;

    /// Opens a gate again if it is still the claim that set `until` (a later claim by
    /// someone else stays); true when it was opened.
    fn release(
        &self,
        key: &str,
        until: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    fn get_lock(
        &self,
        key: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<Lock>, StoreError>> + Send;

    /// Stores a lock; `expires_at` is when its strike count may be forgotten.
    fn set_lock(
        &self,
        key: &str,
        lock: Lock,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Stores a lock with a note (a request id), read back by `peek`.
    fn set_note(
        &self,
        key: &str,
        lock: Lock,
        note: &str,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn put_record(
        &self,
        id: &str,
        record: &Record,
        expires_at: i64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    fn get_record(
        &self,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<Option<Record>, StoreError>> + Send;

    /// Marks a record verified; true only for the call that changed it (so a success is
    /// credited once however often it is reported).
    fn mark_verified(
        &self,
        id: &str,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records how a verification ended, unless it already has an outcome (the first report
    /// wins: a replayed or late event cannot rewrite it); true when this call recorded it.
    fn finish(
        &self,
        id: &str,
        outcome: &str,
        at: i64,
        now: i64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The value stored under `key`, storing `value` first if there is none (e.g. when this
    /// deployment first ran).
    fn first_value(
        &self,
        key: &str,
        value: i64,
        expires_at: i64,
    ) -> impl Future<Output = Result<i64, StoreError>> + Send;
}
