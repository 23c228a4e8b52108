//! Verify v1 rules: Starting a verification: parameters, limits, concurrency, normalisation, PSD2.

use crate::common::start;
use serde_json::Value;

const NUM: &str = "447700900001";

// ---- request parameters --------------------------------------------------------------------

/// Parameters added to (or replacing) a base request.
type Extra = &'static [(&'static str, &'static str)];

async fn request_with(s: &crate::common::Sim, extra: &[(&str, &str)]) -> Value {
    let mut p = vec![("number", NUM), ("brand", "Acme")];
    for (k, v) in extra {
        p.retain(|(pk, _)| pk != k);
        p.push((k, v));
    }
    s.call("/verify/json", &p).await
}

#[tokio::test]
async fn request_parameter_validation() {
    let s = start().await;
    let cases: &[(Extra, &str, &str)] = &[
        (
            &[("number", "")],
            "2",
            "Your request is incomplete and missing the mandatory parameter: number",
        ),
        (
            &[("brand", "")],
            "2",
            "Your request is incomplete and missing the mandatory parameter: brand",
        ),
        (
            &[("number", "not-a-number")],
            "3",
            "Invalid value for param: number",
        ),
        (&[("number", "123")], "3", "Invalid value for param: number"),
        (
            &[("country", "RUS")],
            "3",
            "Invalid value for param: country",
        ),
        (
            &[("brand", "ABCDEFGHIJKLMNOPQRS")],
            "3",
            "Invalid value for param: brand. Parameter is too long.",
        ),
        (
            &[("sender_id", "ABCDEFGHIJKL")],
            "3",
            "Invalid value for param: sender_id. Parameter is too long.",
        ),
        (
            &[("code_length", "5")],
            "3",
            "Invalid value for param: code_length. The allowed values are 4 and 6.",
        ),
        (
            &[("code_length", "4.0")],
            "3",
            "Invalid value for param: code_length",
        ),
        (
            &[("code_length", "+4")],
            "3",
            "Invalid value for param: code_length",
        ),
        (&[("lg", "en_us")], "3", "Invalid value for param: lg"),
        (
            &[("pin_expiry", "59")],
            "3",
            "Invalid value for param: pin_expiry",
        ),
        (
            &[("pin_expiry", "3601")],
            "3",
            "Invalid value for param: pin_expiry",
        ),
        (
            &[("next_event_wait", "59")],
            "3",
            "Invalid value for param: next_event_wait",
        ),
        (
            &[("next_event_wait", "901")],
            "3",
            "Invalid value for param: next_event_wait",
        ),
        (
            &[("workflow_id", "0")],
            "3",
            "Invalid value for param: workflow_id",
        ),
        (
            &[("workflow_id", "8")],
            "3",
            "Invalid value for param: workflow_id",
        ),
        (
            &[("pin_code", "1234")],
            "20",
            "This account does not support the parameter: pin_code.",
        ),
    ];
    for (extra, status, text) in cases {
        let r = request_with(&s, extra).await;
        assert_eq!(r["status"], *status, "{extra:?}: {r}");
        assert_eq!(r["error_text"], *text, "{extra:?}");
    }
}

#[tokio::test]
async fn request_parameter_limits_accept_edges() {
    let s = start().await;
    let ok: &[&[(&str, &str)]] = &[
        &[("number", "447700900031"), ("brand", "ABCDEFGHIJKLMNOPQR")],
        &[("number", "447700900032"), ("sender_id", "Проверка")],
        &[("number", "447700900033"), ("code_length", "06")],
        &[
            ("number", "447700900034"),
            ("lg", "fil-ph"),
            ("workflow_id", "7"),
        ],
        &[
            ("number", "447700900035"),
            ("pin_expiry", "3600"),
            ("next_event_wait", "900"),
        ],
        &[
            ("number", "447700900036"),
            ("pin_expiry", "60"),
            ("next_event_wait", "60"),
        ],
        &[("number", "07700 900037"), ("country", "GB")],
    ];
    for extra in ok {
        let r = request_with(&s, extra).await;
        assert_eq!(r["status"], "0", "{extra:?}: {r}");
    }
}

#[tokio::test]
async fn custom_pin_on_an_enabled_account() {
    let s = start().await;
    let r = s
        .raw_form(
            "/verify/json",
            &[
                ("api_key", "pinacct"),
                ("api_secret", "pinsecret"),
                ("number", NUM),
                ("brand", "B"),
                ("pin_code", "987654"),
            ],
        )
        .await;
    assert_eq!(r["status"], "0", "{r}");
    let id = r["request_id"].as_str().unwrap();
    assert_eq!(s.last_code(id).await, "987654");
}

// ---- concurrency and normalisation ------------------------------------------------------------

#[tokio::test]
async fn concurrent_request_to_same_number_any_notation_is_10_with_existing_id() {
    let s = start().await;
    let id = s.start_verification("447700900040").await;
    for notation in ["+44 7700 900040", "0044-7700-900040", "447700900040"] {
        let r = s
            .call("/verify/json", &[("number", notation), ("brand", "Acme")])
            .await;
        assert_eq!(r["status"], "10", "{notation}: {r}");
        assert_eq!(r["request_id"], id.as_str());
    }
    let national = s
        .call(
            "/verify/json",
            &[
                ("number", "07700900040"),
                ("country", "GB"),
                ("brand", "Acme"),
            ],
        )
        .await;
    assert_eq!(national["status"], "10");
    // Finishing the first frees the number.
    let code = s.last_code(&id).await;
    assert_eq!(
        s.call(
            "/verify/check/json",
            &[("request_id", &id), ("code", &code)]
        )
        .await["status"],
        "0"
    );
    assert_eq!(
        s.call(
            "/verify/json",
            &[("number", "447700900040"), ("brand", "Acme")]
        )
        .await["status"],
        "0"
    );
}

#[tokio::test]
async fn parallel_requests_are_safe() {
    let s = std::sync::Arc::new(start().await);
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            // 20 distinct numbers, each asked for twice at once.
            let n = format!("4477009002{:02}", i % 20);
            s.call("/verify/json", &[("number", &n), ("brand", "Acme")])
                .await
        }));
    }
    let mut ok = std::collections::HashMap::new();
    let mut concurrent = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r["status"].as_str().unwrap() {
            "0" => {
                ok.insert(r["request_id"].as_str().unwrap().to_string(), ());
            }
            "10" => concurrent.push(r["request_id"].as_str().unwrap().to_string()),
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!(ok.len(), 20, "exactly one verification per number");
    assert_eq!(concurrent.len(), 20);
    assert!(concurrent.iter().all(|id| ok.contains_key(id)));
}

// ---- PSD2 --------------------------------------------------------------------------------

#[tokio::test]
async fn psd2_request_states_payee_and_amount() {
    let s = start().await;
    let missing = s
        .call("/verify/psd2/json", &[("number", NUM), ("payee", "Shop")])
        .await;
    assert_eq!(missing["status"], "2");
    let bad_lg = s
        .call(
            "/verify/psd2/json",
            &[
                ("number", NUM),
                ("payee", "Shop"),
                ("amount", "48"),
                ("lg", "en-us"),
            ],
        )
        .await;
    assert_eq!(bad_lg["status"], "3");
    let r = s
        .call(
            "/verify/psd2/json",
            &[("number", NUM), ("payee", "Shop"), ("amount", "48.00")],
        )
        .await;
    assert_eq!(r["status"], "0", "{r}");
    let id = r["request_id"].as_str().unwrap();
    let msgs = s.messages(id).await;
    assert!(
        msgs[0]["text"]
            .as_str()
            .unwrap()
            .contains("EUR 48.00 to Shop")
    );
}
