//! Verify v1 rules: Search shapes, limits, records and account isolation.

use crate::common::{KEY, SECRET, start};
use serde_json::{Value, json};

const NUM: &str = "447700900001";

// ---- search ----------------------------------------------------------------------------------

#[tokio::test]
async fn search_shapes_and_limits() {
    let s = start().await;
    let mut ids = Vec::new();
    for i in 0..10 {
        ids.push(s.start_verification(&format!("44770090010{i}")).await);
    }
    let single = s
        .call("/verify/search/json", &[("request_id", &ids[0])])
        .await;
    for field in [
        "request_id",
        "account_id",
        "number",
        "sender_id",
        "date_submitted",
        "date_finalized",
        "checks",
        "first_event_date",
        "last_event_date",
        "price",
        "currency",
        "status",
        "estimated_price_messages_sent",
        "events",
    ] {
        assert!(single.get(field).is_some(), "missing {field}: {single}");
    }
    assert_eq!(single["status"], "IN PROGRESS");
    assert_eq!(single["date_finalized"], "");
    assert_eq!(single["events"][0]["type"], "sms");
    assert_eq!(single["number"], "447700900100");
    assert!(single["date_submitted"].as_str().unwrap().len() == 19);

    let mut form: Vec<(&str, &str)> = ids.iter().map(|id| ("request_ids", id.as_str())).collect();
    let many = s.call("/verify/search/json", &form).await;
    assert_eq!(many["verification_requests"].as_array().unwrap().len(), 10);
    form.push(("request_ids", "0123456789abcdef0123456789abcdef"));
    let too_many = s.call("/verify/search/json", &form).await;
    assert_eq!(
        too_many,
        json!({"status": "18", "error_text": "Too many request_ids provided"})
    );

    // request_id wins over request_ids.
    let both = s
        .call(
            "/verify/search/json",
            &[
                ("request_id", &ids[1]),
                ("request_ids", &ids[2]),
                ("request_ids", &ids[3]),
            ],
        )
        .await;
    assert_eq!(both["request_id"], ids[1].as_str());

    let unknown = s
        .call(
            "/verify/search/json",
            &[("request_id", "ffffffffffffffffffffffffffffffff")],
        )
        .await;
    assert_eq!(unknown["status"], "101");
    assert_eq!(unknown["error_text"], "No response found");

    // GET with repeated request_ids works too.
    let q: String = ids[..3]
        .iter()
        .map(|id| format!("&request_ids={id}"))
        .collect();
    let get: Value = s
        .http
        .get(format!(
            "{}/verify/search/json?api_key={KEY}&api_secret={SECRET}{q}",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["verification_requests"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn search_records_checks_and_prices() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    let code = s.last_code(&id).await;
    let wrong = if code == "9999" { "1111" } else { "9999" };
    s.call(
        "/verify/check/json",
        &[("request_id", &id), ("code", wrong)],
    )
    .await;
    s.call(
        "/verify/check/json",
        &[("request_id", &id), ("code", &code)],
    )
    .await;
    let r = s.call("/verify/search/json", &[("request_id", &id)]).await;
    let checks = r["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["status"], "INVALID");
    assert_eq!(checks[0]["code"], wrong);
    assert_eq!(checks[1]["status"], "VALID");
    assert_eq!(r["price"], "0.10000000");
    let price = r["estimated_price_messages_sent"].as_str().unwrap();
    assert_eq!(
        price.split('.').nth(1).unwrap().len(),
        8,
        "8-decimal price {price}"
    );
}

#[tokio::test]
async fn accounts_are_isolated() {
    let s = start().await;
    let id = s.start_verification(NUM).await;
    let other = s
        .raw_form(
            "/verify/search/json",
            &[
                ("api_key", "pinacct"),
                ("api_secret", "pinsecret"),
                ("request_id", &id),
            ],
        )
        .await;
    assert_eq!(other["status"], "101");
}
