//! The local server over real HTTP: routes, the embedded simulator, and the curl flow.

use serde_json::{Value, json};
use shared::Config;

async fn server() -> (String, reqwest::Client) {
    let running = local::start(
        ([127, 0, 0, 1], 0).into(),
        Config::default(),
        local::Upstream::Simulator {
            seed: Some(1),
            limits: local::Limits::OFF,
        },
        None,
    )
    .await
    .expect("start");
    (format!("http://{}", running.addr), reqwest::Client::new())
}

async fn post(c: &reqwest::Client, url: String, body: Value) -> (u16, Value) {
    let r = c.post(url).json(&body).send().await.expect("send");
    let status = r.status().as_u16();
    (status, r.json().await.expect("json"))
}

#[tokio::test]
async fn request_outbox_check_search_flow() {
    let (base, c) = server().await;
    let (s, b) = post(
        &c,
        format!("{base}/request"),
        json!({"number": "+447700900900"}),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let id = b["request_id"].as_str().unwrap().to_string();
    let outbox: Value = c
        .get(format!("{base}/_sim/messages?number=447700900900"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = outbox["messages"][0]["code"].as_str().unwrap().to_string();
    assert_eq!(
        code.len(),
        6,
        "6 digits unless a deployment sets 4 (Verify's own default)"
    );
    let (s, b) = post(
        &c,
        format!("{base}/check"),
        json!({"requestId": id, "code": code}),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (200, Some("0")));
    let (s, b) = post(&c, format!("{base}/search"), json!({"request_id": id})).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("SUCCESS")));
}

#[tokio::test]
async fn form_bodies_and_methods() {
    let (base, c) = server().await;
    let r = c
        .post(format!("{base}/request"))
        .form(&[("number", "447700900901")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = c.get(format!("{base}/request")).send().await.unwrap();
    assert_eq!(r.status(), 405);
    let b: Value = r.json().await.unwrap();
    assert!(
        b["error_text"].as_str().unwrap().contains("POST"),
        "the handler's own JSON 405"
    );
    let page = c
        .get(format!("{base}/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("verify-proxy") && page.contains("/request"));
    let spec = c
        .get(format!("{base}/openapi.yaml"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(spec.starts_with("openapi: 3"));
    let r = c.post(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn unknown_paths_are_json_404s() {
    let (base, c) = server().await;
    for path in ["/nope", "/request/extra", "/verify", "/.env"] {
        let r = c.get(format!("{base}{path}")).send().await.expect("send");
        assert_eq!(r.status().as_u16(), 404, "{path}");
        assert_eq!(r.headers()["content-type"], "application/json", "{path}");
        let b: Value = r.json().await.expect("json");
        assert_eq!(b["status"], "3", "{path}");
    }
    // The simulator's own paths still reach it.
    let r = c
        .get(format!("{base}/_sim/messages"))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status().as_u16(), 200);
}

/// `/events`, `/.well-known/jwks.json` and the local server's own answers (413, 404) come from
/// the endpoints' one response builder: JSON, `no-store` (the keys excepted: cacheable),
/// `nosniff`.
#[tokio::test]
async fn every_route_answers_with_the_same_headers_and_json_errors() {
    let (base, c) = server().await;
    let big = "x".repeat(70 * 1024);
    for (method, path, body, want) in [
        ("POST", "/events", big.clone(), 413),
        ("POST", "/request", big, 413),
        ("POST", "/events", "{}".to_string(), 401),
        ("GET", "/events", String::new(), 405),
        ("POST", "/.well-known/jwks.json", String::new(), 405),
        ("GET", "/.well-known/jwks.json", String::new(), 200),
        ("GET", "/no-such-route", String::new(), 404),
    ] {
        let r = c
            .request(method.parse().unwrap(), format!("{base}{path}"))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let h = r.headers().clone();
        assert_eq!(r.status().as_u16(), want, "{method} {path}");
        assert_eq!(h["content-type"], "application/json", "{method} {path}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{method} {path}");
        let cache = if want == 200 {
            "public, max-age=300"
        } else {
            "no-store"
        };
        assert_eq!(h["cache-control"], cache, "{method} {path}");
        let json: Value = r.json().await.expect("a JSON body");
        if want >= 400 {
            assert!(
                json["status"].is_string() && json["error_text"].is_string(),
                "{json}"
            );
        }
    }
}
