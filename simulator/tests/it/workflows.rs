//! Verify v1 rules: Workflow timings, PIN renewal and expiry, on the simulated clock.

use crate::common::start;
use serde_json::Value;

const NUM: &str = "447700900001";

// ---- workflows, PIN renewal and expiry -------------------------------------------------------

#[tokio::test]
async fn workflow_timings_and_expiry() {
    let s = start().await;
    let r = s
        .call(
            "/verify/json",
            &[("number", NUM), ("brand", "Acme"), ("workflow_id", "2")],
        )
        .await;
    let id = r["request_id"].as_str().unwrap().to_string();
    s.advance(124).await;
    assert_eq!(s.messages(&id).await.len(), 1);
    s.advance(1).await;
    assert_eq!(s.messages(&id).await.len(), 2, "second event at 125 s");
    s.advance(180).await;
    let msgs = s.messages(&id).await;
    let channels: Vec<&str> = msgs
        .iter()
        .map(|m| m["channel"].as_str().unwrap())
        .collect();
    assert_eq!(channels, ["sms", "sms", "tts"]);
    // pin_expiry 300 < 305: the third event carries a new PIN.
    assert_eq!(msgs[0]["code"], msgs[1]["code"]);
    assert_ne!(msgs[1]["code"], msgs[2]["code"]);
    assert_eq!(s.search_status(&id).await, "IN PROGRESS");
    s.advance(300).await;
    assert_eq!(s.search_status(&id).await, "EXPIRED");
    let check = s
        .call(
            "/verify/check/json",
            &[
                ("request_id", &id),
                ("code", msgs[2]["code"].as_str().unwrap()),
            ],
        )
        .await;
    assert_eq!(check["status"], "6");
}

#[tokio::test]
async fn pin_expiry_and_next_event_wait_rule() {
    let s = start().await;
    // The documented examples: (pin_expiry, next_event_wait) -> same code at events 1-2, 2-3.
    let cases = [
        ("360", "120", true, true),
        ("240", "120", true, false),
        ("200", "120", false, false),
    ];
    for (i, (pe, wait, same12, same23)) in cases.into_iter().enumerate() {
        let number = format!("44770090006{i}");
        let r = s
            .call(
                "/verify/json",
                &[
                    ("number", &number),
                    ("brand", "Acme"),
                    ("pin_expiry", pe),
                    ("next_event_wait", wait),
                ],
            )
            .await;
        let id = r["request_id"].as_str().unwrap().to_string();
        s.advance(120).await;
        s.advance(120).await;
        let m = s.messages(&id).await;
        assert_eq!(m.len(), 3, "{pe}/{wait}");
        assert_eq!(m[0]["code"] == m[1]["code"], same12, "{pe}/{wait}");
        assert_eq!(m[1]["code"] == m[2]["code"], same23, "{pe}/{wait}");
        let view: Value = s
            .http
            .get(format!("{}/_sim/requests/{id}", s.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let expected_expiry: i64 = if pe == "200" {
            120
        } else {
            pe.parse().unwrap()
        };
        assert_eq!(
            view["pin_expiry"], expected_expiry,
            "not a multiple: silently next_event_wait"
        );
    }
}

#[tokio::test]
async fn a_triggered_event_keeps_a_live_pin_and_a_new_pin_resets_attempts() {
    let s = start().await;
    // next_event_wait 600 keeps events from firing on their own; pin_expiry stays 300.
    let r = s
        .call(
            "/verify/json",
            &[
                ("number", NUM),
                ("brand", "Acme"),
                ("next_event_wait", "600"),
            ],
        )
        .await;
    let id = r["request_id"].as_str().unwrap().to_string();
    let first = s.last_code(&id).await;
    s.call(
        "/verify/control/json",
        &[("request_id", &id), ("cmd", "trigger_next_event")],
    )
    .await;
    assert_eq!(
        s.last_code(&id).await,
        first,
        "PIN still live at the triggered event"
    );
    let wrong = if first == "0000" { "1111" } else { "0000" };
    for _ in 0..2 {
        assert_eq!(
            s.call(
                "/verify/check/json",
                &[("request_id", &id), ("code", wrong)]
            )
            .await["status"],
            "16"
        );
    }
    // Past pin_expiry (300 s) the next event brings a new PIN and a fresh attempt count.
    s.advance(301).await;
    s.call(
        "/verify/control/json",
        &[("request_id", &id), ("cmd", "trigger_next_event")],
    )
    .await;
    let second = s.last_code(&id).await;
    let wrong2 = if second == "0000" { "1111" } else { "0000" };
    assert_eq!(
        s.call(
            "/verify/check/json",
            &[("request_id", &id), ("code", wrong2)]
        )
        .await["status"],
        "16"
    );
    assert_eq!(
        s.call(
            "/verify/check/json",
            &[("request_id", &id), ("code", &second)]
        )
        .await["status"],
        "0"
    );
}

#[tokio::test]
async fn single_event_workflows_expire_after_their_wait() {
    let s = start().await;
    let r = s
        .call(
            "/verify/json",
            &[("number", NUM), ("brand", "Acme"), ("workflow_id", "7")],
        )
        .await;
    let id = r["request_id"].as_str().unwrap().to_string();
    let trig = s
        .call(
            "/verify/control/json",
            &[("request_id", &id), ("cmd", "trigger_next_event")],
        )
        .await;
    assert_eq!(trig["status"], "19");
    assert_eq!(s.messages(&id).await[0]["channel"], "tts");
    s.advance(299).await;
    assert_eq!(s.search_status(&id).await, "IN PROGRESS");
    s.advance(1).await;
    assert_eq!(s.search_status(&id).await, "EXPIRED");
}
