//! Verify v1 rules: Cancel and trigger_next_event, over real HTTP.

use crate::common::start;
use serde_json::json;

const NUM: &str = "447700900001";

// ---- control ---------------------------------------------------------------------------------

#[tokio::test]
async fn cancel_only_between_30_seconds_and_the_second_event() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    let early = s
        .call(
            "/verify/control/json",
            &[("request_id", &id), ("cmd", "cancel")],
        )
        .await;
    assert_eq!(early["status"], "19");
    assert_eq!(
        early["error_text"],
        format!("Verification request ['{id}'] can't be cancelled within the first 30 seconds.")
    );
    s.advance(31).await;
    let ok = s
        .call(
            "/verify/control/json",
            &[("request_id", &id), ("cmd", "cancel")],
        )
        .await;
    assert_eq!(ok, json!({"status": "0", "command": "cancel"}));
    assert_eq!(s.search_status(&id).await, "CANCELLED");
    let again = s
        .call(
            "/verify/control/json",
            &[("request_id", &id), ("cmd", "cancel")],
        )
        .await;
    assert_eq!(again["status"], "6");
    assert_eq!(
        again["error_text"],
        format!("The requestId '{id}' does not exist or its no longer active.")
    );

    let id2 = s.start_verification("447700900050").await;
    s.advance(130).await; // the second event (TTS at 125 s) has fired
    let late = s
        .call(
            "/verify/control/json",
            &[("request_id", &id2), ("cmd", "cancel")],
        )
        .await;
    assert_eq!(late["status"], "19");
    assert!(
        late["error_text"].as_str().unwrap().contains("request  ['"),
        "double space kept"
    );
    assert!(
        late["error_text"]
            .as_str()
            .unwrap()
            .contains("Too many attempts to re-deliver")
    );
}

#[tokio::test]
async fn control_input_errors() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    let bad = s
        .call(
            "/verify/control/json",
            &[("request_id", &id), ("cmd", "resend")],
        )
        .await;
    assert_eq!(
        bad,
        json!({"status": "3", "error_text": "Invalid parameter found: cmd"})
    );
    let missing = s.call("/verify/control/json", &[("request_id", &id)]).await;
    assert_eq!(missing["status"], "2");
    assert!(
        missing["error_text"]
            .as_str()
            .unwrap()
            .contains("Missing mandatory parameter")
    );
}

#[tokio::test]
async fn trigger_next_event_advances_until_events_run_out() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    for _ in 0..2 {
        let r = s
            .call(
                "/verify/control/json",
                &[("request_id", &id), ("cmd", "trigger_next_event")],
            )
            .await;
        assert_eq!(r, json!({"status": "0", "command": "trigger_next_event"}));
    }
    let r = s
        .call(
            "/verify/control/json",
            &[("request_id", &id), ("cmd", "trigger_next_event")],
        )
        .await;
    assert_eq!(r["status"], "19");
    assert_eq!(
        r["error_text"],
        format!("No more events are left to execute for the request ['{id}']")
    );
    let channels: Vec<String> = s
        .messages(&id)
        .await
        .iter()
        .map(|m| m["channel"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(channels, ["sms", "tts", "tts"], "workflow 1");
    // A triggered event counts for the cancel rule.
    s.advance(31).await;
    let cancel = s
        .call(
            "/verify/control/json",
            &[("request_id", &id), ("cmd", "cancel")],
        )
        .await;
    assert_eq!(cancel["status"], "19");
}
