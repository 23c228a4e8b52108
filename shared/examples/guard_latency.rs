//! What the guard adds to a call, per store: `cargo run --release -p shared --example
//! guard_latency -- N` prints p50/p99 of the guard's work for a start (admit + record) and for
//! a check (lookup + admit + count) on the memory store, and on DynamoDB when
//! `GUARD_TABLE` and `AWS_ENDPOINT_URL_DYNAMODB` are set (scripts/bench points them at moto).
//! Limits are raised so every call does all its store operations and none is refused.

use std::sync::Arc;
use std::time::Instant;

use shared::guard::store::dynamo::DynamoStore;
use shared::guard::store::memory::MemoryStore;
use shared::guard::{AnyStore, Guard, Hasher, Policy, SystemClock};
use shared::verify::Number;

const BIG: &str = "number_per_hour=1e9,number_per_day=1e9,ip_per_10min=1e9,ip_per_day=1e9,\
    range_unverified_per_day=1e9,global_starts_per_day=1e9,spend_per_day=1e12,spend_per_month=1e12,\
    ip_wrong_codes_per_hour=1e9,ip_unverified_per_day=1e9,net_unverified_per_day=1e9,ip_calling_codes=1e9,\
    returning_starts_per_day=1e9,returning_spend_per_day=1e12,returning_spend_per_month=1e12";

fn percentiles(mut v: Vec<f64>) -> (f64, f64) {
    v.sort_by(f64::total_cmp);
    let at = |q: f64| v[((v.len() as f64 - 1.0) * q) as usize];
    (at(0.5), at(0.99))
}

async fn measure(name: &str, store: AnyStore, n: usize) {
    let policy =
        Policy::parse(BIG, "country_autoblock=off,prefix_autoblock=off", "").expect("policy");
    let guard = Guard::new(
        policy,
        store,
        Hasher::new(b"guard-latency-bench-key").expect("key"),
        Arc::new(SystemClock),
        false,
    );
    let (mut starts, mut checks) = (Vec::new(), Vec::new());
    let salt = std::process::id() % 1000;
    for i in 0..n {
        let number = Number::parse(&format!("+44781{salt:03}{i:04}")).expect("number");
        let id = format!("{salt:04x}{i:028x}");
        let t = Instant::now();
        let subject = guard.subject(&number, None);
        let admitted = guard.admit_start(&subject).await.expect("admitted");
        guard.started(&subject, &admitted, &id).await;
        starts.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let record = guard.known(&id).await.expect("known").expect("record");
        guard
            .admit_check(&record, &id, "ip")
            .await
            .expect("admitted");
        guard.checked_code(&id, &record, "ip", "16", None).await;
        checks.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (s50, s99) = percentiles(starts);
    let (c50, c99) = percentiles(checks);
    println!("   {name:28} start p50 {s50:8.3} p99 {s99:8.3}   check p50 {c50:8.3} p99 {c99:8.3}");
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    println!("   guard's added time per call (ms), {n} calls each");
    measure("memory store", AnyStore::Memory(MemoryStore::new()), n).await;
    if let (Ok(table), Ok(_)) = (
        std::env::var("GUARD_TABLE"),
        std::env::var("AWS_ENDPOINT_URL_DYNAMODB"),
    ) {
        let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .load()
            .await;
        let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), table);
        measure("DynamoDB store (moto)", AnyStore::Dynamo(store), n / 10).await;
    }
}
