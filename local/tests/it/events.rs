//! Replays every sample event in `events/` through the real handlers (as API Gateway would
//! deliver it) against a fresh simulator, so the examples cannot rot.

use std::path::PathBuf;

use serde_json::{Value, json};
use shared::Config;
use shared::config::AuthMode;
use shared::jwks::Jwks;
use testkit::{TestEnv, env_with, json_of};

fn events_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../events")
}

async fn with_fixture(fixture: &Value, auth: AuthMode) -> TestEnv {
    let mut config = Config::default();
    config.auth.mode = auth;
    let t = env_with(config).await;
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/requests", t.base))
        .json(&json!({"request_id": fixture["request_id"], "number": fixture["number"], "pin": fixture["pin"]}))
        .send()
        .await
        .expect("fixture");
    assert_eq!(r.status(), 201);
    // A request this deployment started: the guard knows its id.
    let (id, number) = (&fixture["request_id"], &fixture["number"]);
    t.record(number.as_str().unwrap(), id.as_str().unwrap())
        .await;
    t.advance(fixture["age_seconds"].as_u64().unwrap_or(0))
        .await;
    t
}

#[tokio::test]
async fn every_event_file_gives_its_expected_status() {
    let dir = events_dir();
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let expected = manifest["events"].as_object().unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json") && n != "expected.json")
        .collect();
    files.sort();
    assert!(files.len() >= 10);
    for name in &files {
        let spec = expected
            .get(name)
            .unwrap_or_else(|| panic!("{name} is not listed in events/expected.json"));
        let raw = std::fs::read_to_string(dir.join(name)).unwrap();
        let req = lambda_http::request::from_str(&raw)
            .unwrap_or_else(|e| panic!("{name}: not an API Gateway event: {e}"));
        let auth = spec["caller_auth"].as_str().map_or(AuthMode::None, |m| {
            AuthMode::parse(m).expect("a CALLER_AUTH mode")
        });
        let mut t = with_fixture(&manifest["fixture"], auth).await;
        t.deps.signature_secret = Some("sample-signature-secret".into());
        let resp = match spec["function"].as_str().unwrap() {
            "request" => shared::serve::<request::Start>(req, &t.deps).await,
            "check" => shared::serve::<check::Check>(req, &t.deps).await,
            "cancel" => shared::serve::<cancel::Cancel>(req, &t.deps).await,
            "search" => shared::serve::<search::Search>(req, &t.deps).await,
            "control" => shared::serve::<control::Control>(req, &t.deps).await,
            "events" => shared::events::serve(req, &t.deps).await,
            "jwks" => Jwks::new(t.deps.token.as_ref().expect("a token key")).serve(&req),
            other => panic!("{name}: unknown function {other}"),
        };
        assert_eq!(
            resp.status().as_u16() as u64,
            spec["status"].as_u64().unwrap(),
            "{name}: {}",
            json_of(&resp)
        );
        assert_eq!(resp.headers()["content-type"], "application/json", "{name}");
    }
    assert_eq!(
        files.len(),
        expected.len(),
        "every manifest entry has a file"
    );
}
