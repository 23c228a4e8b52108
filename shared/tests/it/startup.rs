//! A function's start-up against real SSM endpoints: every secret in one `GetParameters`
//! through the instance's one SDK configuration (moto), its timeouts against an endpoint that
//! never answers, and a missing parameter named.

use std::time::{Duration, Instant};

use aws_config::Region;
use aws_config::SdkConfig;
use aws_sdk_ssm::config::Credentials as AwsCredentials;
use aws_sdk_ssm::types::ParameterType;
use shared::caller::TokenSigner;
use shared::config::Env;
use shared::deps::aws::{OPERATION_TIMEOUT, loader};
use shared::deps::{Deps, InitError, Uses};
use shared::error::SecretsError;
use shared::{Config, Credentials, Secrets};

/// The functions' SDK configuration (same loader, same timeouts), pointed at `url`.
async fn sdk(url: &str) -> SdkConfig {
    loader(&[])
        .endpoint_url(url)
        .region(Region::new("eu-west-1"))
        .credentials_provider(AwsCredentials::new(
            "testing", "testing", None, None, "test",
        ))
        .load()
        .await
}

/// Accepts connections and never answers: a blackholed endpoint.
async fn silent_endpoint() -> String {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = listener.accept().await {
            held.push(conn);
        }
    });
    url
}

/// A call without a timeout of its own would hang here: fail instead of hanging the run.
async fn within_10s<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), f)
        .await
        .expect("no answer and no timeout of its own")
}

fn ssm_config() -> Config {
    Config::from_pairs(&[
        ("VERIFY_API_KEY_PARAM", "/vp/key"),
        ("VERIFY_API_SECRET_PARAM", "/vp/secret"),
        ("GUARD_STORE", "memory"),
        ("GUARD_HMAC_KEY_PARAM", "/vp/guard-key"),
        ("TOKEN_KEY_PARAM", "/vp/token-key"),
        ("SECRETS_TTL_SECONDS", "900"),
    ])
    .unwrap()
}

#[tokio::test]
async fn start_up_gives_up_on_a_silent_ssm_within_the_operation_timeout() {
    let url = silent_endpoint().await;
    let sdk = sdk(&url).await;
    let t = Instant::now();
    let err = Deps::from_config(ssm_config(), Some(&sdk))
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, InitError::Secrets(SecretsError::Ssm(_))),
        "{err}"
    );
    assert!(
        t.elapsed() < OPERATION_TIMEOUT + Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
}

#[tokio::test]
async fn the_request_paths_secret_fetch_has_the_same_timeout() {
    // The defect: the client that reloads Vonage's secret was built without any timeout.
    let url = silent_endpoint().await;
    let secrets = Secrets::ssm(
        aws_sdk_ssm::Client::new(&sdk(&url).await),
        "/vp/key".into(),
        "/vp/secret".into(),
        None,
    );
    let t = Instant::now();
    assert!(matches!(
        within_10s(secrets.get()).await,
        Err(SecretsError::Ssm(_))
    ));
    assert!(
        t.elapsed() < OPERATION_TIMEOUT + Duration::from_secs(2),
        "{:?}",
        t.elapsed()
    );
}

async fn put(c: &aws_sdk_ssm::Client, name: &str, value: &str) {
    c.put_parameter()
        .name(name)
        .value(value)
        .r#type(ParameterType::SecureString)
        .overwrite(true)
        .send()
        .await
        .expect("put_parameter");
}

#[tokio::test]
async fn every_secret_comes_in_one_fetch_and_the_first_request_needs_no_ssm() {
    let moto = crate::common::moto();
    let sdk = sdk(&moto.url).await;
    let c = aws_sdk_ssm::Client::new(&sdk);
    put(&c, "/vp/key", "abcd1234").await;
    put(&c, "/vp/secret", "s3cr3t").await;
    put(&c, "/vp/guard-key", "a shared guard key of some length").await;
    put(&c, "/vp/token-key", &TokenSigner::generate_pem().unwrap()).await;
    let deps = Deps::from_config(ssm_config(), Some(&sdk)).await.unwrap();
    assert!(deps.token.is_some(), "the token key came with the others");
    // SSM gone: the credentials were loaded at start-up, not on the first request.
    drop(moto);
    match deps.secrets.get().await.unwrap() {
        Credentials::Key {
            api_key,
            api_secret,
        } => assert_eq!(
            (api_key.as_str(), api_secret.as_str()),
            ("abcd1234", "s3cr3t")
        ),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_missing_parameter_stops_start_up_with_its_name() {
    let moto = crate::common::moto();
    let sdk = sdk(&moto.url).await;
    let c = aws_sdk_ssm::Client::new(&sdk);
    put(&c, "/vp/key", "abcd1234").await;
    put(&c, "/vp/secret", "s3cr3t").await;
    let err = Deps::from_config(ssm_config(), Some(&sdk))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("/vp/guard-key") && err.contains("/vp/token-key"),
        "{err}"
    );
}

#[tokio::test]
async fn warming_up_against_a_silent_verify_ends_within_its_bound() {
    // Lambda allows 10 s of init: the warm-up must not wait out Verify's own 20 s timeout.
    let url = silent_endpoint().await;
    let config =
        Config::from_pairs(&[("VERIFY_BASE_URL", &url), ("VERIFY_TIMEOUT_MS", "20000")]).unwrap();
    let deps = Deps::new(config, Secrets::fixed("k", "s")).unwrap();
    let t = Instant::now();
    within_10s(deps.warm_up()).await;
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

#[tokio::test]
async fn the_events_function_starts_whatever_the_verify_settings_say() {
    // A brand too long, a channel v2 lacks, options v1-only: the endpoints refuse to start,
    // the events function does not read them (callbacks keep being received).
    let env = Env::from_pairs(&[
        ("VERIFY_API", "v2"),
        ("VERIFY_BRAND", "a brand far longer than sixteen"),
        ("VERIFY_CHANNELS", "fax"),
        ("ALLOWED_OPTIONS", "pin_expiry"),
        ("GUARD_STORE", "memory"),
        ("VERIFY_SIGNATURE_SECRET", "the signature secret"),
    ]);
    assert!(
        Config::from_env(&env).is_err(),
        "the endpoints' settings are wrong"
    );
    let events = Deps::from_env_for(&env, Uses::Callbacks).await.unwrap();
    assert_eq!(
        events.signature_secret.as_deref(),
        Some("the signature secret")
    );
    // What it does read is still checked.
    let bad = Env::from_pairs(&[("GUARD_ON_STORE_ERROR", "maybe")]);
    assert!(Deps::from_env_for(&bad, Uses::Callbacks).await.is_err());
}

#[tokio::test]
async fn the_events_function_fetches_no_vonage_credential() {
    // Its role may read the signature secret and the guard key, not Vonage's credentials: the
    // one GetParameters at its start-up must not name them (here they do not even exist).
    let moto = crate::common::moto();
    let sdk = sdk(&moto.url).await;
    let c = aws_sdk_ssm::Client::new(&sdk);
    put(&c, "/vp/guard-key", "a shared guard key of some length").await;
    put(&c, "/vp/signature", "the signature secret").await;
    let config = Config::from_pairs(&[
        ("VERIFY_API", "v2"),
        ("VERIFY_API_KEY_PARAM", "/vp/key"),
        ("VERIFY_API_SECRET_PARAM", "/vp/secret"),
        ("GUARD_STORE", "memory"),
        ("GUARD_HMAC_KEY_PARAM", "/vp/guard-key"),
        ("VERIFY_SIGNATURE_SECRET_PARAM", "/vp/signature"),
    ])
    .unwrap();
    let events = Deps::from_config_for(config.clone(), Some(&sdk), Uses::Callbacks)
        .await
        .unwrap();
    assert_eq!(
        events.signature_secret.as_deref(),
        Some("the signature secret")
    );
    let err = Deps::from_config(config, Some(&sdk)).await.err().unwrap();
    assert!(
        err.to_string().contains("/vp/key"),
        "the endpoints do fetch them: {err}"
    );
}
