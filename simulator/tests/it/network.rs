//! Vonage's network blocks (status 7) and the Network Unblock API, against `verify.yml`'s
//! description: 202 with `unblocked_until`, 404 without an active block, 403 without the
//! account capability, 422 for a bad body, 401 for bad credentials.

use serde_json::{Value, json};
use verify_sim::{Account, Limits, SimConfig};

use crate::common::{KEY, SECRET, Sim, start_with};

async fn sim(network_unblock: bool) -> Sim {
    start_with(SimConfig {
        accounts: vec![Account {
            api_key: KEY.into(),
            api_secret: SECRET.into(),
            pin_code_enabled: false,
        }],
        limits: Limits::OFF,
        network_unblock,
        ..SimConfig::default()
    })
    .await
}

async fn unblock(s: &Sim, path: &str, body: Value, secret: &str) -> (u16, Value) {
    let r = s
        .http
        .post(format!("{}{path}", s.base))
        .basic_auth(KEY, Some(secret))
        .json(&body)
        .send()
        .await
        .expect("send");
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

async fn start(s: &Sim, number: &str) -> Value {
    s.call("/verify/json", &[("number", number), ("brand", "Acme")])
        .await
}

async fn block(s: &Sim, network: &str, prefix: &str) {
    let r = s
        .http
        .post(format!("{}/_sim/network-blocks", s.base))
        .json(&json!({ "network": network, "prefix": prefix }))
        .send()
        .await
        .expect("send");
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn a_blocked_network_answers_7_until_unblocked_for_its_duration() {
    let s = sim(true).await;
    block(&s, "23410", "44781").await;
    let r = start(&s, "447810912345").await;
    assert_eq!(
        (r["status"].as_str(), r["network"].as_str()),
        (Some("7"), Some("23410"))
    );
    assert!(r.get("request_id").is_none());
    assert_eq!(
        start(&s, "447710912345").await["status"],
        "0",
        "another network"
    );
    let (status, body) = unblock(
        &s,
        "/verify/network-unblock",
        json!({"network": "23410", "unblock_duration": 600}),
        SECRET,
    )
    .await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["network"], "23410");
    let until = body["unblocked_until"].as_str().unwrap();
    assert!(until.ends_with('Z') && until.contains('T'), "{until}");
    assert_eq!(start(&s, "447811912345").await["status"], "0", "unblocked");
    s.sim.clock().advance_secs(601);
    assert_eq!(
        start(&s, "447812912345").await["status"],
        "7",
        "the block is back"
    );
    // The v2 path is the same call.
    let (status, _) = unblock(
        &s,
        "/v2/verify/network-unblock",
        json!({"network": "23410", "unblock_duration": "3600"}),
        SECRET,
    )
    .await;
    assert_eq!(status, 202);
}

#[tokio::test]
async fn every_documented_refusal() {
    let s = sim(true).await;
    block(&s, "23410", "44781").await;
    let path = "/verify/network-unblock";
    let problem = |b: &Value| {
        assert!(
            b["type"].is_string() && b["title"].is_string() && b["detail"].is_string(),
            "{b}"
        )
    };
    let (st, b) = unblock(&s, path, json!({"network": "99999"}), SECRET).await;
    assert_eq!(st, 404);
    problem(&b);
    for bad in [
        json!({}),
        json!({"network": "abc"}),
        json!({"network": "23410", "unblock_duration": 86_401}),
        json!({"network": "23410", "unblock_duration": -1}),
    ] {
        let (st, b) = unblock(&s, path, bad.clone(), SECRET).await;
        assert_eq!(st, 422, "{bad}");
        assert!(b["invalid_parameters"].is_array());
    }
    let (st, _) = unblock(&s, path, json!({"network": "23410"}), "wrong").await;
    assert_eq!(st, 401);
    let closed = sim(false).await;
    block(&closed, "23410", "44781").await;
    let (st, b) = unblock(&closed, path, json!({"network": "23410"}), SECRET).await;
    assert_eq!(st, 403, "the capability is off by default");
    problem(&b);
}
