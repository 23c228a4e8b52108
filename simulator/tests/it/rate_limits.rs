//! Verify's own limits over HTTP: 30 calls/s and 1 search/s per account (status 1,
//! "Throttled", HTTP 200), and search answering 101 for a minute after completion.

use std::time::Instant;

use crate::common::{Sim, start};
use serde_json::{Value, json};

async fn set_limits(s: &Sim, limits: Value) -> reqwest::Response {
    s.http
        .post(format!("{}/_sim/limits", s.base))
        .json(&limits)
        .send()
        .await
        .expect("send")
}

async fn real(s: &Sim) {
    let r = set_limits(s, json!({"requests_per_second": 30, "searches_per_second": 1, "search_hidden_after_completion_s": 60})).await;
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn the_default_is_what_verify_documents_and_bad_limits_are_refused() {
    let s = crate::common::start_with(verify_sim::SimConfig::default()).await;
    let got: Value = s
        .http
        .get(format!("{}/_sim/limits", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        got,
        json!({"requests_per_second": 30, "searches_per_second": 1, "search_hidden_after_completion_s": 60})
    );
    let r = set_limits(&s, json!({"requests_per_second": "many"})).await;
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn the_31st_call_within_a_second_is_throttled() {
    let s = start().await;
    real(&s).await;
    let began = Instant::now();
    let calls = (0..40).map(|i| {
        let number = format!("4477009002{i:02}");
        let s = &s;
        async move {
            s.call("/verify/json", &[("number", &number), ("brand", "Acme")])
                .await
        }
    });
    let answers = futures_util::future::join_all(calls).await;
    // The window is one second of real time: the burst must fit in it to say "exactly 30".
    assert!(
        began.elapsed().as_millis() < 900,
        "40 loopback calls took {:?}: too slow to test a 1 s window",
        began.elapsed()
    );
    let ok = answers.iter().filter(|a| a["status"] == "0").count();
    let throttled: Vec<&Value> = answers.iter().filter(|a| a["status"] == "1").collect();
    assert_eq!((ok, throttled.len()), (30, 10), "{answers:?}");
    assert_eq!(throttled[0]["error_text"], "Throttled");
    assert!(throttled[0].get("request_id").is_none());
    // Checks and controls count too; after the window, calls pass again.
    let check = s
        .call(
            "/verify/check/json",
            &[("request_id", "0"), ("code", "1234")],
        )
        .await;
    assert_eq!(check["status"], "1", "{check}");
    s.advance(1).await;
    let again = s
        .call(
            "/verify/json",
            &[("number", "447700900299"), ("brand", "Acme")],
        )
        .await;
    assert_eq!(again["status"], "0", "{again}");
}

#[tokio::test]
async fn one_search_a_second() {
    let s = start().await;
    real(&s).await;
    let id = s.start_verification("447700900300").await;
    assert_eq!(s.search_status(&id).await, "IN PROGRESS");
    let second = s.call("/verify/search/json", &[("request_id", &id)]).await;
    assert_eq!(
        (second["status"].as_str(), second["error_text"].as_str()),
        (Some("1"), Some("Throttled"))
    );
    let other = s
        .call(
            "/verify/json",
            &[("number", "447700900301"), ("brand", "Acme")],
        )
        .await;
    assert_eq!(other["status"], "0", "other calls are not held back");
    s.advance(1).await;
    assert_eq!(s.search_status(&id).await, "IN PROGRESS");
}

#[tokio::test]
async fn search_is_blind_for_a_minute_after_completion() {
    let s = start().await;
    real(&s).await;
    let done = s.start_verification("447700900310").await;
    let running = s.start_verification("447700900311").await;
    let code = s.last_code(&done).await;
    let checked = s
        .call(
            "/verify/check/json",
            &[("request_id", &done), ("code", &code)],
        )
        .await;
    assert_eq!(checked["status"], "0");
    let r = s
        .call("/verify/search/json", &[("request_id", &done)])
        .await;
    assert_eq!(
        (r["status"].as_str(), r["request_id"].as_str()),
        (Some("101"), Some(done.as_str())),
        "{r}"
    );
    s.advance(1).await;
    let many = s
        .call(
            "/verify/search/json",
            &[("request_ids", &done), ("request_ids", &running)],
        )
        .await;
    let listed: Vec<&str> = many["verification_requests"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|r| r["request_id"].as_str())
        .collect();
    assert_eq!(listed, [running.as_str()], "the finished one is left out");
    s.advance(59).await;
    assert_eq!(s.search_status(&done).await, "SUCCESS", "a minute later");
    // A cancelled request is finished too.
    let cancelled = s.start_verification("447700900312").await;
    s.advance(31).await;
    let c = s
        .call(
            "/verify/control/json",
            &[("request_id", &cancelled), ("cmd", "cancel")],
        )
        .await;
    assert_eq!(c["status"], "0", "{c}");
    assert_eq!(s.search_status(&cancelled).await, "101");
    s.advance(60).await;
    assert_eq!(s.search_status(&cancelled).await, "CANCELLED");
}
