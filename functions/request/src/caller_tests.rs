//! Who may call: the API key and IAM modes, the origin check and JSON-only mode, through the
//! whole pipeline (a refusal is a 401/403/415 before the guard and before Verify); App Check
//! has its own file.

use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
use lambda_http::request::RequestContext;
use lambda_http::{Body, Request, Response};
use shared::config::AuthMode;
use shared::{Config, Deps};
use testkit::{TestEnv, env_with, json_of, post, post_form};

use crate::Start;

pub(crate) async fn handle(req: Request, deps: &Deps) -> Response<Body> {
    shared::serve::<Start>(req, deps).await
}

pub(crate) fn start(number: &str) -> Request {
    post("application/json", &format!(r#"{{"number":"{number}"}}"#))
}

fn with_identity(mut req: Request, f: impl FnOnce(&mut ApiGatewayProxyRequestContext)) -> Request {
    let mut ctx = ApiGatewayProxyRequestContext::default();
    f(&mut ctx);
    req.extensions_mut()
        .insert(RequestContext::ApiGatewayV1(ctx));
    req
}

pub(crate) fn with_header(mut req: Request, name: &'static str, value: &str) -> Request {
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
