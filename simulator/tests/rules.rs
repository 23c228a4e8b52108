//! Verify v1 rules, each tested over real HTTP against the simulator.

mod common;

use common::{KEY, SECRET, start};
use serde_json::{Value, json};

const NUM: &str = "447700900001";

// ---- transport: methods, formats, paths ---------------------------------------------------

#[tokio::test]
async fn accepts_get_query_post_form_and_post_json() {
    let s = start().await;
    let get: Value = s
        .http
        .get(format!(
            "{}/verify/json?api_key={KEY}&api_secret={SECRET}&number=447700900010&brand=Acme",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["status"], "0", "{get}");

    let form = s
        .call(
            "/verify/json",
            &[("number", "447700900011"), ("brand", "Acme")],
        )
        .await;
    assert_eq!(form["status"], "0", "{form}");

    let resp = s
        .http
        .post(format!("{}/verify/json", s.base))
        .json(&json!({"api_key": KEY, "api_secret": SECRET, "number": "447700900012", "brand": "Acme", "code_length": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "0", "{body}");
    let id = body["request_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(
        s.last_code(id).await.len(),
        6,
        "code_length 6 from a JSON number"
    );
}

#[tokio::test]
async fn other_methods_are_403_and_unknown_paths_404() {
    let s = start().await;
    for m in ["PUT", "DELETE", "PATCH"] {
        let r = s
            .http
            .request(m.parse().unwrap(), format!("{}/verify/check/json", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{m}");
    }
    for p in ["/verify", "/verify/nope/json", "/"] {
        let r = s.http.get(format!("{}{p}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{p}");
    }
    let head = s
        .http
        .head(format!("{}/verify/json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
}

#[tokio::test]
async fn post_with_parameters_only_in_query_is_400() {
    let s = start().await;
    let r = s
        .http
        .post(format!(
            "{}/verify/json?api_key={KEY}&api_secret={SECRET}",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn bare_post_is_missing_api_key() {
    let s = start().await;
    let r = s.raw_form("/verify/json", &[]).await;
    assert_eq!(r, json!({"status": "2", "error_text": "Missing api_key"}));
}

// ---- credentials ----------------------------------------------------------------------------

#[tokio::test]
async fn credentials_rules() {
    let s = start().await;
    let r = s.raw_form("/verify/check/json", &[("api_key", KEY)]).await;
    assert_eq!(r["status"], "2");
    assert_eq!(
        r["error_text"],
        "Your request is incomplete and missing some mandatory parameters"
    );
    let r = s
        .raw_form(
            "/verify/search/json",
            &[("api_key", KEY), ("api_secret", "wrong")],
        )
        .await;
    assert_eq!(r["status"], "4");
    let swapped = s
        .raw_form(
            "/verify/control/json",
            &[("api_key", SECRET), ("api_secret", KEY)],
        )
        .await;
    assert_eq!(swapped["status"], "4");
    // Basic auth and credentials in the query string with a form body.
    let basic: Value = s
        .http
        .post(format!("{}/verify/json", s.base))
        .basic_auth(KEY, Some(SECRET))
        .form(&[("number", "447700900020"), ("brand", "Acme")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(basic["status"], "0", "{basic}");
    let query: Value = s
        .http
        .post(format!(
            "{}/verify/json?api_key={KEY}&api_secret={SECRET}",
            s.base
        ))
        .form(&[("number", "447700900021"), ("brand", "Acme")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(query["status"], "0", "{query}");
}

// ---- request parameters --------------------------------------------------------------------

/// Parameters added to (or replacing) a base request.
type Extra = &'static [(&'static str, &'static str)];

async fn request_with(s: &common::Sim, extra: &[(&str, &str)]) -> Value {
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
