//! Firebase App Check (`CALLER_AUTH=app-check`) through the whole pipeline: genuine tokens
//! only, counted per token (one install's), and limited-use tokens spent once on a start.

use lambda_http::{Body, Request};
use serde_json::{Value, json};
use shared::Config;
use shared::config::{AppCheckConfig, AuthConfig, AuthMode};
use std::sync::atomic::Ordering;
use std::time::Duration;
use testkit::{AppKeys, TestEnv, env_with, from_ip, json_of, now_s, serve_json};

use crate::caller_tests::{handle, start, with_header};

struct AppCheckEnv {
    t: TestEnv,
    keys: AppKeys,
    jwks: testkit::JsonServer,
}

const ISSUER: &str = "https://firebaseappcheck.googleapis.com/123456";
const AUDIENCE: &str = "projects/123456";

async fn app_check() -> AppCheckEnv {
    app_check_with(|_| {}).await
}

/// `relayed`: the deployment's backend relays App Check tokens and names its end users.
async fn app_check_relayed(relayed: bool) -> AppCheckEnv {
    app_check_with(|c| c.trust_end_user_headers = relayed).await
}

async fn app_check_with(set: impl FnOnce(&mut AppCheckConfig)) -> AppCheckEnv {
    let keys = AppKeys::new("k1");
    let jwks = serve_json(AppKeys::jwks(&[&keys])).await;
    let mut app_check = AppCheckConfig {
        jwks_url: jwks.url.clone(),
        issuer: ISSUER.into(),
        audiences: vec![AUDIENCE.into()],
        header: "x-firebase-appcheck".into(),
        jwks_ttl: Duration::from_secs(3600),
        trust_end_user_headers: false,
        limited_use_on_request: false,
    };
    set(&mut app_check);
    let config = Config {
        auth: AuthConfig {
            mode: AuthMode::AppCheck,
            app_check: Some(app_check),
        },
        ..Config::default()
    };
    let t = env_with(config).await;
    AppCheckEnv { t, keys, jwks }
}

fn claims(exp_in: i64, aud: &str, iss: &str) -> Value {
    json!({"sub": "1:123456:android:abc", "aud": [aud], "iss": iss,
           "iat": now_s(), "exp": now_s() + exp_in})
}

/// Valid claims with `claim` set `ahead` seconds in the future.
fn shifted(claim: &str, ahead: i64) -> Value {
    let mut c = claims(3600, AUDIENCE, ISSUER);
    c[claim] = json!(now_s() + ahead);
    c
}

fn without_iat(exp_in: i64) -> Value {
    let mut c = claims(exp_in, AUDIENCE, ISSUER);
    c.as_object_mut().unwrap().remove("iat");
    c
}

fn with_token(number: &str, token: &str) -> Request {
    with_header(start(number), "x-firebase-appcheck", token)
}

#[tokio::test]
async fn app_check_accepts_a_valid_token_and_caches_the_keys() {
    let a = app_check().await;
    let good = a.keys.token("k1", &claims(3600, AUDIENCE, ISSUER));
    for n in ["447700900711", "447700900712", "447700900713"] {
        let r = handle(with_token(n, &good), &a.t.deps).await;
        assert_eq!(r.status(), 200, "{}", json_of(&r));
    }
    assert_eq!(a.jwks.hits.load(Ordering::SeqCst), 1, "keys fetched once");
}

#[tokio::test]
async fn app_check_refuses_bad_tokens_with_401_and_sends_nothing() {
    let a = app_check().await;
    let stranger = AppKeys::new("k1"); // same kid, other key
    let cases = [
        ("missing", None),
        ("garbage", Some("not.a.jwt".to_string())),
        (
            "expired",
            Some(a.keys.token("k1", &claims(-3600, AUDIENCE, ISSUER))),
        ),
        (
            "wrong audience",
            Some(a.keys.token("k1", &claims(3600, "projects/999", ISSUER))),
        ),
        (
            "wrong issuer",
            Some(
                a.keys
                    .token("k1", &claims(3600, AUDIENCE, "https://evil.example")),
            ),
        ),
        (
            "forged signature",
            Some(stranger.token("k1", &claims(3600, AUDIENCE, ISSUER))),
        ),
        (
            "unknown kid",
            Some(a.keys.token("k9", &claims(3600, AUDIENCE, ISSUER))),
        ),
        ("alg none", Some(unsigned(&claims(3600, AUDIENCE, ISSUER)))),
        // Genuinely signed, but not as App Check issues tokens (seen accepted before).
        (
            "exp 10 years ahead",
            Some(
                a.keys
                    .token("k1", &claims(10 * 365 * 86_400, AUDIENCE, ISSUER)),
            ),
        ),
        (
            "iat a day ahead",
            Some(a.keys.token("k1", &shifted("iat", 86_400))),
        ),
        (
            "nbf an hour ahead",
            Some(a.keys.token("k1", &shifted("nbf", 3_600))),
        ),
        (
            "no iat, 8 days to live",
            Some(a.keys.token("k1", &without_iat(8 * 86_400))),
        ),
        // Firebase's jti is 16 to 500 bytes.
        ("a 3-byte jti", Some(a.keys.token("k1", &limited("abc")))),
    ];
    for (what, token) in cases {
        let req = match &token {
            Some(t) => with_token("447700900721", t),
            None => start("447700900721"),
        };
        let r = handle(req, &a.t.deps).await;
        assert_eq!(r.status(), 401, "{what}: {}", json_of(&r));
        assert_eq!(
            json_of(&r)["error_text"],
            "Missing or invalid caller credentials"
        );
    }
    assert_eq!(a.t.all_messages().await, 0);
    // Unknown kids make the instance look again at most once a minute.
    let hits = a.jwks.hits.load(Ordering::SeqCst);
    assert!(hits <= 2, "{hits} fetches");
    for i in 0..20 {
        let t = a
            .keys
            .token(&format!("random{i}"), &claims(3600, AUDIENCE, ISSUER));
        assert_eq!(
            handle(with_token("447700900722", &t), &a.t.deps)
                .await
                .status(),
            401
        );
    }
    assert_eq!(a.jwks.hits.load(Ordering::SeqCst), hits);
}

#[tokio::test]
async fn app_check_picks_up_a_rotated_key() {
    let a = app_check().await;
    let first = a.keys.token("k1", &claims(3600, AUDIENCE, ISSUER));
    assert_eq!(
        handle(with_token("447700900731", &first), &a.t.deps)
            .await
            .status(),
        200
    );
    let next = AppKeys::new("k2");
    *a.jwks.body.lock().unwrap() = AppKeys::jwks(&[&a.keys, &next]);
    let t = next.token("k2", &claims(3600, AUDIENCE, ISSUER));
    // A kid the cached set lacks makes one fetch (a later one within a minute would not).
    let r = handle(with_token("447700900732", &t), &a.t.deps).await;
    assert_eq!(r.status(), 200, "{}", json_of(&r));
}

#[tokio::test]
async fn app_check_without_reachable_keys_is_503() {
    let a = app_check().await;
    let mut config = a.t.deps.config.clone();
    if let Some(ac) = config.auth.app_check.as_mut() {
        ac.jwks_url = "http://127.0.0.1:1/jwks".into();
    }
    let t = env_with(config).await;
    let good = a.keys.token("k1", &claims(3600, AUDIENCE, ISSUER));
    let r = handle(with_token("447700900741", &good), &t.deps).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    assert_eq!(t.all_messages().await, 0);
}

/// `{"alg":"none"}` with no signature: must never pass.
fn unsigned(claims: &Value) -> String {
    use base64::Engine;
    let b = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
    format!(
        "{}.{}.",
        b(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
        b(claims.to_string().as_bytes())
    )
}

#[tokio::test]
async fn the_preflight_allows_the_app_check_header() {
    let a = app_check().await;
    let mut config = a.t.deps.config.clone();
    config.caller.cors_origin = Some("https://app.example".into());
    let t = env_with(config).await;
    let req = lambda_http::http::Request::builder()
        .method("OPTIONS")
        .header("origin", "https://app.example")
        .body(Body::Empty)
        .unwrap();
    let r = handle(req, &t.deps).await;
    assert_eq!(r.status(), 204);
    assert_eq!(
        r.headers()["access-control-allow-headers"],
        "content-type, x-firebase-appcheck"
    );
}

#[tokio::test]
async fn app_check_believes_end_user_headers_only_when_told_a_backend_relays() {
    for relayed in [false, true] {
        let a = app_check_relayed(relayed).await;
        let good = a.keys.token("k1", &claims(3600, AUDIENCE, ISSUER));
        let as_user = |number: &str, user: &str| {
            let req = with_token(number, &good);
            with_header(req, "x-end-user-key", user)
        };
        // One peer (the relaying backend, or one device claiming to be many users): three
        // unconverted starts per address a day, unless the named users are believed.
        let mut statuses = Vec::new();
        for i in 0..6 {
            let user = format!("user-{}", i % 2);
            let r = handle(as_user(&format!("+44781{i}912345"), &user), &a.t.deps).await;
            statuses.push(r.status().as_u16());
        }
        let want = match relayed {
            true => vec![200; 6],
            false => vec![200, 200, 200, 429, 429, 429],
        };
        assert_eq!(statuses, want, "relayed: {relayed}");
    }
}

/// A limited-use token, as `getLimitedUseToken()` gives one: a `jti`, a short life.
fn limited(jti: &str) -> Value {
    let mut c = claims(300, AUDIENCE, ISSUER);
    c["jti"] = json!(jti);
    c
}

#[tokio::test]
async fn a_limited_use_token_starts_one_verification_and_its_replay_none() {
    let a = app_check_with(|c| c.limited_use_on_request = true).await;
    let token = a.keys.token("k1", &limited("jti-one-0123456789"));
    let first = from_ip(with_token("+447810912345", &token), "198.51.100.1");
    let r = handle(first, &a.t.deps).await;
    assert_eq!(r.status(), 200, "{}", json_of(&r));
    // The same token replayed from elsewhere, for another number: nothing is started.
    let replay = from_ip(with_token("+447811912345", &token), "203.0.113.9");
    let r = handle(replay, &a.t.deps).await;
    assert_eq!(r.status(), 401, "{}", json_of(&r));
    assert_eq!(json_of(&r)["status"], "4");
    // Ten copies of a fresh token at once: one start.
    let fresh = a.keys.token("k1", &limited("jti-two-0123456789"));
    let copies = (0..10).map(|i| {
        let req = from_ip(
            with_token(&format!("+44782{i}912345"), &fresh),
            &format!("198.51.100.{}", 10 + i),
        );
        handle(req, &a.t.deps)
    });
    let statuses: Vec<u16> = futures_util::future::join_all(copies)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    assert_eq!(
        statuses.iter().filter(|s| **s == 200).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(a.t.all_messages().await, 2);
    // A regular token (no jti) cannot start here: the app must ask for a limited-use one.
    let regular = a.keys.token("k1", &claims(3600, AUDIENCE, ISSUER));
    let r = handle(with_token("+447812912345", &regular), &a.t.deps).await;
    assert_eq!(r.status(), 401);
    assert_eq!(a.t.all_messages().await, 2);
}

#[tokio::test]
async fn without_the_setting_a_limited_use_token_is_an_ordinary_one() {
    let a = app_check().await;
    let token = a.keys.token("k1", &limited("jti-three-0123456789"));
    for (i, ip) in ["198.51.100.1", "198.51.100.2"].iter().enumerate() {
        let req = from_ip(with_token(&format!("+44781{i}912345"), &token), ip);
        assert_eq!(handle(req, &a.t.deps).await.status(), 200);
    }
}

#[tokio::test]
async fn one_token_from_many_addresses_is_one_caller() {
    // One genuine token lifted from a device and replayed from 50 addresses: each address is
    // new to the per-address rules, but the token is one install's, 10 starts an hour.
    let a = app_check().await;
    let token = a.keys.token("k1", &claims(3600, AUDIENCE, ISSUER));
    let mut statuses = Vec::new();
    for i in 0..50 {
        let req = from_ip(
            with_token(&format!("+4478{i:02}912345"), &token),
            &format!("198.51.{i}.7"),
        );
        statuses.push(handle(req, &a.t.deps).await.status().as_u16());
    }
    assert_eq!(&statuses[..10], &[200; 10]);
    assert!(statuses[10..].iter().all(|s| *s == 429), "{statuses:?}");
    assert_eq!(a.t.all_messages().await, 10);
    // Another install of the same app (its own token) is not held back.
    let other = a.keys.token("k1", &{
        let mut c = claims(3600, AUDIENCE, ISSUER);
        c["iat"] = json!(now_s() - 1);
        c
    });
    let r = handle(
        from_ip(with_token("+447899912345", &other), "192.0.2.1"),
        &a.t.deps,
    )
    .await;
    assert_eq!(r.status(), 200, "{}", json_of(&r));
}
