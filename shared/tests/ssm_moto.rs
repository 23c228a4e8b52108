//! Secrets from SSM Parameter Store, against a real moto server (`moto_server`, installed by
//! scripts/test): one GetParameters call with decryption, caching, TTL refresh, errors.

use std::net::TcpListener;
use std::time::Duration;

use aws_sdk_ssm::config::{BehaviorVersion, Credentials as AwsCredentials, Region};
use aws_sdk_ssm::types::ParameterType;
use shared::Secrets;
use shared::error::SecretsError;

mod common;

use common::moto;

fn client(url: &str) -> aws_sdk_ssm::Client {
    let conf = aws_sdk_ssm::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .endpoint_url(url)
        .credentials_provider(AwsCredentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    aws_sdk_ssm::Client::from_conf(conf)
}

async fn put(c: &aws_sdk_ssm::Client, name: &str, value: &str, kind: ParameterType) {
    c.put_parameter()
        .name(name)
        .value(value)
        .r#type(kind)
        .overwrite(true)
        .send()
        .await
        .expect("put_parameter");
}

#[tokio::test]
async fn loads_secure_string_and_caches_for_the_instance() {
    let m = moto();
    let c = client(&m.url);
    put(&c, "/vp/key", "abcd1234", ParameterType::String).await;
    put(&c, "/vp/secret", "s3cr3t-one", ParameterType::SecureString).await;
    let secrets = Secrets::ssm(c.clone(), "/vp/key".into(), "/vp/secret".into(), None);
    let creds = secrets.get().await.unwrap();
    assert_eq!(creds.api_key, "abcd1234");
    assert_eq!(creds.api_secret, "s3cr3t-one", "decrypted");
    // Rotated upstream: without a TTL the instance keeps what it loaded.
    put(&c, "/vp/secret", "s3cr3t-two", ParameterType::SecureString).await;
    assert_eq!(secrets.get().await.unwrap().api_secret, "s3cr3t-one");
}

#[tokio::test]
async fn ttl_picks_up_a_rotated_secret() {
    let m = moto();
    let c = client(&m.url);
    put(&c, "/vp/key", "abcd1234", ParameterType::String).await;
    put(&c, "/vp/secret", "old", ParameterType::SecureString).await;
    let secrets = Secrets::ssm(
        c.clone(),
        "/vp/key".into(),
        "/vp/secret".into(),
        Some(Duration::from_millis(200)),
    );
    assert_eq!(secrets.get().await.unwrap().api_secret, "old");
    put(&c, "/vp/secret", "new", ParameterType::SecureString).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(secrets.get().await.unwrap().api_secret, "new");
}

#[tokio::test]
async fn missing_parameters_are_a_clear_error() {
    let m = moto();
    let c = client(&m.url);
    put(&c, "/vp/key", "abcd1234", ParameterType::String).await;
    let secrets = Secrets::ssm(c, "/vp/key".into(), "/vp/absent".into(), None);
    match secrets.get().await {
        Err(SecretsError::Missing(names)) => assert!(names.contains("/vp/absent")),
        other => panic!("expected Missing, got {other:?}"),
    }
}

#[tokio::test]
async fn unreachable_ssm_is_an_error_not_a_panic() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let secrets = Secrets::ssm(
        client(&format!("http://127.0.0.1:{port}")),
        "/a".into(),
        "/b".into(),
        None,
    );
    assert!(matches!(secrets.get().await, Err(SecretsError::Ssm(_))));
}
