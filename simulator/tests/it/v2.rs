//! The v2 face over HTTP: Basic and application-JWT auth, the workflow of channels with
//! fallback, the outbox for every channel, and each problem answer (docs/verify-v2.md).

use crate::common::{KEY, SECRET, Sim};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use verify_sim::{Account, Application, Limits, SimConfig};

const APP_ID: &str = "5b6b1c2e-0000-4000-a000-000000000001";
const PRIVATE_PEM: &str = include_str!("../fixtures/test-only-app-private.pem");
const PUBLIC_PEM: &str = include_str!("../fixtures/test-only-app-public.pem");

async fn sim() -> Sim {
    crate::common::start_with(SimConfig {
        accounts: vec![Account {
            api_key: KEY.into(),
            api_secret: SECRET.into(),
            pin_code_enabled: false,
        }],
        seed: Some(5),
        ticker: true,
        limits: Limits::OFF,
        applications: vec![Application {
            id: APP_ID.into(),
            api_key: KEY.into(),
            public_key_pem: PUBLIC_PEM.into(),
        }],
        callbacks: None,
        network_unblock: false,
    })
    .await
}

fn basic() -> String {
    let raw = format!("{KEY}:{SECRET}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn app_jwt(app_id: &str, pem: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({"application_id": app_id, "iat": now, "exp": now + 900, "jti": "t-1"});
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap();
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256),
        &claims,
        &key,
    )
    .unwrap();
    format!("Bearer {token}")
}

async fn call(
    s: &Sim,
    method: Method,
    path: &str,
    auth: &str,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut req = s
        .http
        .request(method, format!("{}{path}", s.base))
        .header("authorization", auth);
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.expect("send");
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn start(s: &Sim, body: Value) -> (StatusCode, Value) {
    call(s, Method::POST, "/v2/verify", &basic(), Some(body)).await
}

fn sms_to(n: &str) -> Value {
    json!({"brand": "Acme", "workflow": [{"channel": "sms", "to": n}]})
}

fn is_problem(b: &Value) {
    for k in ["type", "title", "detail", "instance"] {
        assert!(b[k].is_string(), "{k} in {b}");
    }
}

#[tokio::test]
async fn start_check_with_basic_and_with_an_application_jwt() {
    let s = sim().await;
    let (st, b) = start(&s, sms_to("447700900901")).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{b}");
    let id = b["request_id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let code = s.last_code(&id).await;
    let jwt = app_jwt(APP_ID, PRIVATE_PEM);
    let (st, b) = call(
        &s,
        Method::POST,
        &format!("/v2/verify/{id}"),
        &jwt,
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(
        (st, &b),
        (
            StatusCode::OK,
            &json!({"request_id": id, "status": "completed"})
        )
    );
    // Checked already: v2 says 404.
    let (st, b) = call(
        &s,
        Method::POST,
        &format!("/v2/verify/{id}"),
        &basic(),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    is_problem(&b);
}

#[tokio::test]
async fn bad_credentials_and_forged_jwts_are_401() {
    let s = sim().await;
    let bad_basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:wrong"))
    );
    let other_key = jsonwebtoken::EncodingKey::from_secret(b"not-rsa");
    let hs = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"application_id": APP_ID, "iat": 1, "exp": 9_999_999_999u64}),
        &other_key,
    )
    .unwrap();
    for auth in [
        bad_basic,
        format!("Bearer {hs}"),
        app_jwt("unknown-app", PRIVATE_PEM),
        String::new(),
    ] {
        let (st, b) = call(
            &s,
            Method::POST,
            "/v2/verify",
            &auth,
            Some(sms_to("447700900902")),
        )
        .await;
        assert_eq!(st, StatusCode::UNAUTHORIZED, "{auth}");
        is_problem(&b);
    }
    let outbox: Value = s
        .http
        .get(format!("{}/_sim/messages", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(outbox["messages"], json!([]), "nothing was sent");
}

#[tokio::test]
async fn channels_fall_back_after_channel_timeout_and_reach_every_outbox() {
    let s = sim().await;
    let body = json!({"brand": "Acme", "channel_timeout": 60, "code_length": 6, "workflow": [
        {"channel": "email", "to": "alice@example.com"},
        {"channel": "whatsapp", "to": "447700900903", "from": "447700400080"},
        {"channel": "voice", "to": "447700900903"}]});
    let (st, b) = start(&s, body).await;
    assert_eq!(st, StatusCode::ACCEPTED, "{b}");
    let id = b["request_id"].as_str().unwrap().to_string();
    let first = s.messages(&id).await;
    assert_eq!(
        (
            first.len(),
            first[0]["channel"].as_str(),
            first[0]["to"].as_str()
        ),
        (1, Some("email"), Some("alice@example.com"))
    );
    s.advance(60).await;
    let second = s.messages(&id).await;
    assert_eq!(second.len(), 2);
    assert_eq!(
        (second[1]["channel"].as_str(), second[1]["to"].as_str()),
        (Some("whatsapp"), Some("447700900903"))
    );
    assert_eq!(
        second[0]["code"], second[1]["code"],
        "one code for the whole workflow"
    );
    assert_eq!(second[1]["code"].as_str().unwrap().len(), 6);
    // next_workflow moves on at once; past the last channel there is nothing left.
    let (st, _) = call(
        &s,
        Method::POST,
        &format!("/v2/verify/{id}/next_workflow"),
        &basic(),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(s.messages(&id).await[2]["channel"], "tts");
    let (st, b) = call(
        &s,
        Method::POST,
        &format!("/v2/verify/{id}/next_workflow"),
        &basic(),
        None,
    )
    .await;
    assert_eq!(st, StatusCode::CONFLICT);
    assert_eq!(b["detail"], "There are no more events left to trigger.");
    // After the last channel's timeout the request has expired: 410.
    s.advance(61).await;
    let code = s.last_code(&id).await;
    let (st, b) = call(
        &s,
        Method::POST,
        &format!("/v2/verify/{id}"),
        &basic(),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(st, StatusCode::GONE, "{b}");
    is_problem(&b);
}

#[tokio::test]
async fn every_problem_answer() {
    let s = sim().await;
    // 422 with the parameters named.
    for (body, name) in [
        (
            json!({"workflow": [{"channel": "sms", "to": "447700900904"}]}),
            "brand",
        ),
        (json!({"brand": "Acme"}), "workflow"),
        (
            json!({"brand": "Acme", "workflow": [{"channel": "fax", "to": "447700900904"}]}),
            "workflow",
        ),
        (
            json!({"brand": "Acme", "workflow": [{"channel": "sms", "to": "+44 7700"}]}),
            "workflow",
        ),
        (
            json!({"brand": "Acme", "workflow": [{"channel": "whatsapp", "to": "447700900904"}]}),
            "workflow",
        ),
        (
            json!({"brand": "Acme", "workflow": [{"channel": "email", "to": "nobody"}]}),
            "workflow",
        ),
        (
            json!({"brand": "Acme", "code_length": 11, "workflow": [{"channel": "sms", "to": "447700900904"}]}),
            "code_length",
        ),
        (
            json!({"brand": "Acme", "channel_timeout": 5, "workflow": [{"channel": "sms", "to": "447700900904"}]}),
            "channel_timeout",
        ),
        // A v1 language v2's Language enum lacks.
        (
            json!({"brand": "Acme", "locale": "ja-jp", "workflow": [{"channel": "sms", "to": "447700900904"}]}),
            "locale",
        ),
    ] {
        let (st, b) = start(&s, body.clone()).await;
        assert_eq!(st, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
        is_problem(&b);
        assert_eq!(b["invalid_parameters"][0]["name"], name, "{b}");
    }
    // 409 with the live request's id.
    let (_, b) = start(&s, sms_to("447700900905")).await;
    let id = b["request_id"].as_str().unwrap().to_string();
    let (st, b) = start(&s, sms_to("447700900905")).await;
    assert_eq!(
        (st, b["request_id"].as_str()),
        (StatusCode::CONFLICT, Some(id.as_str()))
    );
    // Wrong codes: 400 twice, then 410 (workflow terminated).
    let path = format!("/v2/verify/{id}");
    for _ in 0..2 {
        let (st, b) = call(
            &s,
            Method::POST,
            &path,
            &basic(),
            Some(json!({"code": "0000000"})),
        )
        .await;
        assert_eq!(
            (st, b["title"].as_str()),
            (StatusCode::BAD_REQUEST, Some("Invalid Code"))
        );
    }
    let (st, b) = call(
        &s,
        Method::POST,
        &path,
        &basic(),
        Some(json!({"code": "0000000"})),
    )
    .await;
    assert_eq!(st, StatusCode::GONE);
    assert!(b["detail"].as_str().unwrap().contains("too many times"));
    // Unknown ids: 404 on every route.
    let unknown = "00000000-0000-4000-a000-000000000000";
    for (m, p) in [
        (Method::POST, format!("/v2/verify/{unknown}")),
        (Method::DELETE, format!("/v2/verify/{unknown}")),
        (Method::POST, format!("/v2/verify/{unknown}/next_workflow")),
    ] {
        let body =
            (m == Method::POST && !p.ends_with("next_workflow")).then(|| json!({"code": "1234"}));
        let (st, b) = call(&s, m, &p, &basic(), body).await;
        assert_eq!(st, StatusCode::NOT_FOUND, "{p}");
        is_problem(&b);
    }
}

#[tokio::test]
async fn cancel_is_204_after_30_seconds_and_409_before() {
    let s = sim().await;
    let (_, b) = start(&s, sms_to("447700900906")).await;
    let id = b["request_id"].as_str().unwrap().to_string();
    let path = format!("/v2/verify/{id}");
    let (st, b) = call(&s, Method::DELETE, &path, &basic(), None).await;
    assert_eq!(st, StatusCode::CONFLICT, "{b}");
    s.advance(31).await;
    let (st, _) = call(&s, Method::DELETE, &path, &basic(), None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (st, _) = call(&s, Method::DELETE, &path, &basic(), None).await;
    assert_eq!(st, StatusCode::NOT_FOUND, "cancelled already");
}

#[tokio::test]
async fn rate_limit_and_faults_on_v2_paths() {
    let s = sim().await;
    s.sim.set_limits(Limits {
        requests_per_second: Some(1),
        ..Limits::REAL
    });
    assert_eq!(
        start(&s, sms_to("447700900907")).await.0,
        StatusCode::ACCEPTED
    );
    let (st, b) = start(&s, sms_to("447700900908")).await;
    assert_eq!(
        (st, b["title"].as_str()),
        (StatusCode::TOO_MANY_REQUESTS, Some("Rate Limit Hit"))
    );
    s.sim.set_limits(Limits::OFF);
    let fault = json!({"path": "/v2/verify/{id}", "http_status": 402,
        "body": {"type": "https://www.developer.vonage.com/api-errors#low-balance", "title": "Low balance", "detail": "x", "instance": "i"}, "times": 1});
    let r = s
        .http
        .post(format!("{}/_sim/faults", s.base))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (st, b) = call(
        &s,
        Method::POST,
        "/v2/verify/abc",
        &basic(),
        Some(json!({"code": "1234"})),
    )
    .await;
    assert_eq!(
        (st, b["title"].as_str()),
        (StatusCode::PAYMENT_REQUIRED, Some("Low balance"))
    );
}

/// A finished verification's summary is posted to the configured URL, signed HS256 with the
/// signature secret over a hash of the exact body.
#[tokio::test]
async fn finished_verifications_post_a_signed_summary() {
    use sha2::Digest;
    let s = sim().await;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(String, String)>();
    let app = axum::Router::new().route(
        "/events",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let tx = tx.clone();
            async move {
                let auth = headers
                    .get("authorization")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                let _ = tx.send((auth, body));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/events", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let r = s
        .http
        .post(format!("{}/_sim/callbacks", s.base))
        .json(&json!({"url": url, "signature_secret": "sig-secret-0123456789"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = json!({"brand": "Acme", "client_ref": "order-7", "workflow": [{"channel": "sms", "to": "447700900910"}]});
    let (_, b) = start(&s, body).await;
    let id = b["request_id"].as_str().unwrap().to_string();
    let code = s.last_code(&id).await;
    let (st, _) = call(
        &s,
        Method::POST,
        &format!("/v2/verify/{id}"),
        &basic(),
        Some(json!({"code": code})),
    )
    .await;
    assert_eq!(st, StatusCode::OK);
    let (auth, raw) = tokio::time::timeout(std::time::Duration::from_secs(5), rx.recv())
        .await
        .expect("a callback within 5 s")
        .expect("a callback");
    let summary: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(
        (
            summary["request_id"].as_str(),
            summary["status"].as_str(),
            summary["type"].as_str(),
            summary["client_ref"].as_str()
        ),
        (
            Some(id.as_str()),
            Some("completed"),
            Some("summary"),
            Some("order-7")
        )
    );
    assert_eq!(summary["workflow"][0]["channel"], "sms");
    let token = auth.strip_prefix("Bearer ").expect("a bearer token");
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::HS256);
    validation.required_spec_claims = ["iat"].iter().map(|c| c.to_string()).collect();
    validation.validate_exp = false;
    let claims = jsonwebtoken::decode::<Value>(
        token,
        &jsonwebtoken::DecodingKey::from_secret(b"sig-secret-0123456789"),
        &validation,
    )
    .expect("signed with the signature secret")
    .claims;
    assert_eq!(claims["api_key"], KEY);
    let hash: String = sha2::Sha256::digest(raw.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(
        claims["payload_hash"], hash,
        "the hash covers the exact body"
    );
    assert!(
        jsonwebtoken::decode::<Value>(
            token,
            &jsonwebtoken::DecodingKey::from_secret(b"another"),
            &validation
        )
        .is_err(),
        "another secret does not verify it"
    );
}
