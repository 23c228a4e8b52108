//! The guard's DynamoDB store against a real moto server: the table as the template creates it
//! (partition key `pk`, on-demand, TTL on `exp`), the same conformance suite the memory store
//! passes (parallel starts included), and failing closed or open when DynamoDB is unreachable.

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};
use shared::ProxyError;
use shared::guard::store::dynamo::DynamoStore;
use shared::guard::{AnyStore, FakeClock, Guard, Hasher, Policy, conformance};
use shared::verify::Number;

fn client(url: &str) -> aws_sdk_dynamodb::Client {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(url)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
        .timeout_config(
            aws_sdk_dynamodb::config::timeout::TimeoutConfig::builder()
                .operation_timeout(Duration::from_secs(3))
                .build(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

async fn table(c: &aws_sdk_dynamodb::Client, name: &str) {
    c.create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
    c.update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .attribute_name("exp")
                .enabled(true)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("ttl");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_suite_passes_on_dynamodb() {
    let moto = crate::common::moto();
    let c = client(&moto.url);
    table(&c, "verify-proxy-guard").await;
    conformance::run(|| AnyStore::Dynamo(DynamoStore::new(c.clone(), "verify-proxy-guard"))).await;
}

fn unreachable_guard(fail_open: bool) -> Guard {
    // Nothing listens on port 1: every call fails fast with a connection error.
    let store = DynamoStore::new(client("http://127.0.0.1:1"), "verify-proxy-guard");
    Guard::new(
        Policy::default(),
        AnyStore::Dynamo(store),
        Hasher::new(b"unreachable-test-key").unwrap(),
        Arc::new(FakeClock::at(1_800_000_000_000)),
        fail_open,
    )
}

#[tokio::test]
async fn an_unreachable_store_fails_closed_by_default_and_open_when_configured() {
    let number = Number::parse("+447700900123").unwrap();
    let closed = unreachable_guard(false);
    let s = closed.subject(&number, None);
    assert!(matches!(
        closed.admit_start(&s).await,
        Err(ProxyError::GuardUnavailable)
    ));
    assert!(matches!(
        closed.known("0123456789abcdef0123456789abcdef").await,
        Err(ProxyError::GuardUnavailable)
    ));
    let open = unreachable_guard(true);
    let s = open.subject(&number, None);
    assert!(open.admit_start(&s).await.is_ok());
    assert!(matches!(
        open.known("0123456789abcdef0123456789abcdef").await,
        Ok(None)
    ));
}
