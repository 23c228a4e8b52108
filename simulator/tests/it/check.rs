//! Verify v1 rules: Checking codes, over real HTTP.

use crate::common::start;

const NUM: &str = "447700900001";

// ---- check -----------------------------------------------------------------------------------

#[tokio::test]
async fn check_success_has_event_and_price() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    let code = s.last_code(&id).await;
    let r = s
        .call(
            "/verify/check/json",
            &[("request_id", &id), ("code", &code)],
        )
        .await;
    assert_eq!(r["status"], "0");
    assert_eq!(r["request_id"], id.as_str());
    assert_eq!(r["price"], "0.10000000");
    assert_eq!(r["currency"], "EUR");
    assert_eq!(r["event_id"].as_str().unwrap().len(), 16);
    let search = s.call("/verify/search/json", &[("request_id", &id)]).await;
    assert_eq!(search["status"], "SUCCESS");
    assert_eq!(search["checks"][0]["status"], "VALID");
    assert_ne!(search["date_finalized"], "");
    // Checking a finished request is 6.
    let again = s
        .call(
            "/verify/check/json",
            &[("request_id", &id), ("code", &code)],
        )
        .await;
    assert_eq!(again["status"], "6");
    assert!(
        again["error_text"]
            .as_str()
            .unwrap()
            .contains("was not found or it has been verified already")
    );
}

#[tokio::test]
async fn three_wrong_codes_fail_the_request() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    let code = s.last_code(&id).await;
    let wrong = if code == "0000" { "1111" } else { "0000" };
    let r1 = s
        .call(
            "/verify/check/json",
            &[("request_id", &id), ("code", wrong)],
        )
        .await;
    assert_eq!(r1["status"], "16");
    assert_eq!(r1["request_id"], id.as_str());
    assert_eq!(
        r1["error_text"],
        "The code inserted does not match the expected value"
    );
    // A wrong code of another length counts too.
    let r2 = s
        .call(
            "/verify/check/json",
            &[("request_id", &id), ("code", "00000")],
        )
        .await;
    assert_eq!(r2["status"], "16");
    let r3 = s
        .call(
            "/verify/check/json",
            &[("request_id", &id), ("code", wrong)],
        )
        .await;
    assert_eq!(r3["status"], "17");
    assert!(r3.get("request_id").is_none(), "17 has no request_id: {r3}");
    assert_eq!(s.search_status(&id).await, "FAILED");
    let r4 = s
        .call(
            "/verify/check/json",
            &[("request_id", &id), ("code", &code)],
        )
        .await;
    assert_eq!(r4["status"], "6", "the right code is too late");
}

#[tokio::test]
async fn check_input_errors() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    let bad = s
        .call(
            "/verify/check/json",
            &[("request_id", &id), ("code", "12a4")],
        )
        .await;
    assert_eq!(bad["status"], "3");
    assert_eq!(bad["error_text"], "The code contains invalid characters");
    let missing = s.call("/verify/check/json", &[("request_id", &id)]).await;
    assert_eq!(missing["status"], "2");
    let unknown = s
        .call(
            "/verify/check/json",
            &[
                ("request_id", "0123456789abcdef0123456789abcdef"),
                ("code", "1234"),
            ],
        )
        .await;
    assert_eq!(unknown["status"], "6");
    let long = s
        .call(
            "/verify/check/json",
            &[("request_id", &"a".repeat(33)), ("code", "1234")],
        )
        .await;
    assert_eq!(long["status"], "3");
    // None of these counted as attempts.
    assert_eq!(s.search_status(&id).await, "IN PROGRESS");
}
