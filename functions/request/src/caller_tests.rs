//! Who may call: each `CALLER_AUTH` mode, the origin check and JSON-only mode, through the
//! whole pipeline (a refusal is a 401/403/415 before the guard and before Verify).

use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};
use shared::config::{AppCheckConfig, AuthConfig, AuthMode};
use shared::{Config, Deps};
use std::sync::atomic::Ordering;
use std::time::Duration;
use testkit::{AppKeys, TestEnv, env_with, json_of, now_s, post, post_form, serve_json};

use crate::Start;

async fn handle(req: Request, deps: &Deps) -> Response<Body> {
    shared::serve::<Start>(req, deps).await
}

fn start(number: &str) -> Request {
    post("application/json", &format!(r#"{{"number":"{number}"}}"#))
}

fn with_identity(mut req: Request, f: impl FnOnce(&mut ApiGatewayProxyRequestContext)) -> Request {
    let mut ctx = ApiGatewayProxyRequestContext::default();
    f(&mut ctx);
    req.extensions_mut()
        .insert(RequestContext::ApiGatewayV1(ctx));
    req
}

fn with_header(mut req: Request, name: &'static str, value: &str) -> Request {
    req.headers_mut()
        .insert(name, value.parse().expect("header value"));
    req
}

async fn mode(auth: AuthMode) -> TestEnv {
    let mut config = Config::default();
    config.auth.mode = auth;
    env_with(config).await
}

#[tokio::test]
async fn api_key_mode_needs_the_key_api_gateway_checked() {
    let t = mode(AuthMode::ApiKey).await;
    let r = handle(start("447700900701"), &t.deps).await;
    assert_eq!(r.status(), 401);
    assert_eq!(json_of(&r)["status"], "4");
    assert_eq!(t.all_messages().await, 0);
    let req = with_identity(start("447700900701"), |c| {
        c.identity.api_key_id = Some("k1".into())
    });
    assert_eq!(handle(req, &t.deps).await.status(), 200);
}

#[tokio::test]
async fn iam_mode_needs_a_signed_caller() {
    let t = mode(AuthMode::Iam).await;
    let req = with_identity(start("447700900702"), |c| {
        c.identity.api_key_id = Some("k1".into())
    });
    assert_eq!(
        handle(req, &t.deps).await.status(),
        401,
        "an API key is not IAM"
    );
    let req = with_identity(start("447700900702"), |c| {
        c.identity.user_arn = Some("arn:aws:iam::123456789012:role/backend".into())
    });
    assert_eq!(handle(req, &t.deps).await.status(), 200);
}

struct AppCheckEnv {
    t: TestEnv,
    keys: AppKeys,
    jwks: testkit::JsonServer,
}

const ISSUER: &str = "https://firebaseappcheck.googleapis.com/123456";
const AUDIENCE: &str = "projects/123456";

async fn app_check() -> AppCheckEnv {
    app_check_relayed(false).await
}

/// `relayed`: the deployment's backend relays App Check tokens and names its end users.
async fn app_check_relayed(relayed: bool) -> AppCheckEnv {
    let keys = AppKeys::new("k1");
    let jwks = serve_json(AppKeys::jwks(&[&keys])).await;
    let config = Config {
        auth: AuthConfig {
            mode: AuthMode::AppCheck,
            app_check: Some(AppCheckConfig {
                jwks_url: jwks.url.clone(),
                issuer: ISSUER.into(),
                audiences: vec![AUDIENCE.into()],
                header: "x-firebase-appcheck".into(),
                jwks_ttl: Duration::from_secs(3600),
                trust_end_user_headers: relayed,
            }),
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
async fn a_foreign_origin_is_refused_when_cors_is_set() {
    let t = env_with(Config::from_pairs(&[("CORS_ALLOW_ORIGIN", "https://app.example")]).unwrap())
        .await;
    let r = handle(
        with_header(start("447700900751"), "origin", "https://evil.example"),
        &t.deps,
    )
    .await;
    assert_eq!(r.status(), 403);
    assert_eq!(json_of(&r)["status"], "3");
    assert_eq!(t.all_messages().await, 0);
    let own = with_header(start("447700900751"), "origin", "https://app.example");
    assert_eq!(handle(own, &t.deps).await.status(), 200);
    // Backends and apps send no Origin.
    assert_eq!(handle(start("447700900752"), &t.deps).await.status(), 200);
}

#[tokio::test]
async fn json_only_refuses_what_a_page_can_post_without_preflight() {
    let t = env_with(Config::from_pairs(&[("JSON_ONLY", "true")]).unwrap()).await;
    for req in [
        post_form("number=447700900761"),
        post("text/plain", r#"{"number":"447700900761"}"#),
        lambda_http::http::Request::builder()
            .method("POST")
            .body(Body::from(r#"{"number":"447700900761"}"#))
            .unwrap(),
    ] {
        let r = handle(req, &t.deps).await;
        assert_eq!(r.status(), 415);
        assert_eq!(json_of(&r)["status"], "3");
    }
    assert_eq!(t.all_messages().await, 0);
    assert_eq!(handle(start("447700900761"), &t.deps).await.status(), 200);
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
async fn a_backend_names_its_end_users_and_is_not_one_address() {
    // With api-key every start comes from the app's backend. Before, the per-address rules
    // made that one address's 20 starts per 10 minutes the whole app's.
    let t = mode(AuthMode::ApiKey).await;
    let backend = |number: &str| {
        with_identity(start(number), |c| {
            c.identity.api_key_id = Some("k1".into());
            c.identity.source_ip = Some("10.0.0.5".into());
        })
    };
    for i in 0..25 {
        let r = handle(backend(&format!("+44780{i:02}12345")), &t.deps).await;
        assert_eq!(r.status(), 200, "{i}: {}", json_of(&r));
    }
    // Naming the end user: the per-address rules key on it.
    let as_user = |number: &str, key: &str| with_header(backend(number), "x-end-user-key", key);
    for i in 0..3 {
        let r = handle(as_user(&format!("+44781{i:02}12345"), "session-1"), &t.deps).await;
        assert_eq!(r.status(), 200);
    }
    let r = handle(as_user("+447819912345", "session-1"), &t.deps).await;
    assert_eq!(r.status(), 429, "3 unconverted starts for this end user");
    let r = handle(as_user("+447819912345", "session-2"), &t.deps).await;
    assert_eq!(r.status(), 200, "another end user of the same backend");
    let bad = with_header(backend("+447800912345"), "x-end-user-ip", "not-an-address");
    let r = handle(bad, &t.deps).await;
    assert_eq!(r.status(), 400);
    assert_eq!(json_of(&r)["status"], "3");
}

#[tokio::test]
async fn each_api_key_has_its_own_never_verified_budget() {
    // Two apps (or tenants) behind one deployment, a key each: one key's pumping spends its
    // own EUR 0.60 a day here, and the other's users still get in.
    let mut config = Config::default();
    config.auth.mode = AuthMode::ApiKey;
    config.guard.policy =
        shared::guard::Policy::parse("caller_spend_per_day=0.60", "", "*:0.10").unwrap();
    let t = env_with(config).await;
    let by_key = |number: &str, key: &str| {
        let key = key.to_string();
        with_identity(start(number), move |c| c.identity.api_key_id = Some(key))
    };
    // Workflow 1: an SMS and two calls, EUR 0.30 estimated per start.
    for i in 0..2 {
        let r = handle(by_key(&format!("+44781{i}912345"), "k1"), &t.deps).await;
        assert_eq!(r.status(), 200, "{i}: {}", json_of(&r));
    }
    let r = handle(by_key("+447813912345", "k1"), &t.deps).await;
    assert_eq!(r.status(), 429, "k1's day is spent: {}", json_of(&r));
    let r = handle(by_key("+447814912345", "k2"), &t.deps).await;
    assert_eq!(r.status(), 200, "k2 has its own: {}", json_of(&r));
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
