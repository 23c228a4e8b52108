//! Secrets from SSM Parameter Store, against a real moto server (`moto_server`, installed by
//! scripts/test): one GetParameters call with decryption, caching, TTL refresh, errors.

use std::net::TcpListener;
use std::time::Duration;

use aws_sdk_ssm::config::{BehaviorVersion, Credentials as AwsCredentials, Region};
use aws_sdk_ssm::types::ParameterType;
use shared::error::SecretsError;
use shared::{Credentials, Secrets};

use crate::common::moto;

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

/// (api_key, api_secret) of key-and-secret credentials.
fn key_pair(c: Credentials) -> (String, String) {
    match c {
        Credentials::Key {
            api_key,
            api_secret,
        } => (api_key, api_secret),
        other => panic!("expected a key and secret, got {other:?}"),
    }
}

async fn secret_of(s: &Secrets) -> String {
    key_pair(s.get().await.unwrap()).1
}

#[tokio::test]
async fn loads_an_application_private_key_for_v2() {
    let m = moto();
    let c = client(&m.url);
    let pem = "-----BEGIN PRIVATE KEY-----\nMIIE...\n-----END PRIVATE KEY-----\n";
    put(&c, "/vp/app-key", pem, ParameterType::SecureString).await;
    let secrets = Secrets::ssm_application(c, "app-id-1".into(), "/vp/app-key".into(), None);
    assert!(secrets.is_application());
    match secrets.get().await.unwrap() {
        Credentials::App {
            application_id,
            private_key_pem,
        } => assert_eq!(
            (application_id.as_str(), private_key_pem.as_str()),
            ("app-id-1", pem)
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn loads_secure_string_and_caches_for_the_instance() {
    let m = moto();
    let c = client(&m.url);
    put(&c, "/vp/key", "abcd1234", ParameterType::String).await;
    put(&c, "/vp/secret", "s3cr3t-one", ParameterType::SecureString).await;
    let secrets = Secrets::ssm(c.clone(), "/vp/key".into(), "/vp/secret".into(), None);
    let (api_key, api_secret) = key_pair(secrets.get().await.unwrap());
    assert_eq!(api_key, "abcd1234");
    assert_eq!(api_secret, "s3cr3t-one", "decrypted");
    // Rotated upstream: without a TTL the instance keeps what it loaded.
    put(&c, "/vp/secret", "s3cr3t-two", ParameterType::SecureString).await;
    assert_eq!(secret_of(&secrets).await, "s3cr3t-one");
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
    assert_eq!(secret_of(&secrets).await, "old");
    put(&c, "/vp/secret", "new", ParameterType::SecureString).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(secret_of(&secrets).await, "new");
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
