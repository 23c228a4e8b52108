//! Every proxy endpoint over Verify v2 (the simulator's v2 face): the flows that succeed, every
//! row of the v2 answer table forced through the simulator's fault knobs and checked at the
//! caller, application-JWT auth, search from recorded outcomes, and the status callbacks:
//! real signed ones from the simulator, and forged or altered ones refused.

use lambda_http::Body;
use serde_json::{Value, json};
use shared::caller::status;
use shared::config::VerifyApi;
use shared::verify::v2::{Channel, Op, V2_ANSWERS, Workflow};
use shared::{Config, Endpoint};
use testkit::{TestEnv, env_v2, env_v2_app, json_of, post_json};

async fn call<E: Endpoint>(t: &TestEnv, body: Value) -> (u16, Value, Option<String>) {
    let r = shared::serve::<E>(post_json(&body.to_string()), &t.deps).await;
    let retry = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    (r.status().as_u16(), json_of(&r), retry)
}

/// Starts through `/request`; (request_id, code from the outbox).
async fn start(t: &TestEnv, number: &str) -> (String, String) {
    let (s, b, _) = call::<request::Start>(t, json!({ "number": number })).await;
    assert_eq!(s, 200, "{b}");
    let id = b["request_id"].as_str().expect("request_id").to_string();
    (id.clone(), t.last_code(&id).await)
}

fn other(code: &str) -> String {
    if code.starts_with('0') {
        "1".repeat(code.len())
    } else {
        "0".repeat(code.len())
    }
}

#[tokio::test]
async fn start_check_search_over_v2() {
    let t = env_v2(Config::default()).await;
    let (id, code) = start(&t, "+44 7700 900701").await;
    assert_eq!(id.len(), 36, "a v2 UUID: {id}");
    let msgs = t.messages(&id).await;
    assert_eq!(msgs[0]["channel"], "sms");
    assert_eq!(msgs[0]["to"], "447700900701");

    let (s, b, _) = call::<search::Search>(&t, json!({ "request_id": id })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("IN PROGRESS")), "{b}");
    assert_eq!(b["number"], "+44*******701", "masked");

    let (s, b, _) =
        call::<check::Check>(&t, json!({ "request_id": id, "code": other(&code) })).await;
    assert_eq!((s, b["status"].as_str()), (400, Some("16")), "{b}");
    assert!(b["error_text"].as_str().unwrap().contains("does not match"));

    let (s, b, _) = call::<check::Check>(&t, json!({ "requestId": id, "code": code })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("0")), "{b}");
    assert_eq!(b["request_id"], id.as_str());
    assert!(
        b["verification_token"].is_string(),
        "a proof like v1's: {b}"
    );

    let (s, b, _) = call::<search::Search>(&t, json!({ "request_id": id })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("SUCCESS")), "{b}");
    assert!(b["date_submitted"].is_string());
    // Finished: v2 answers 404, which callers see as v1's 6.
    let (s, b, _) = call::<check::Check>(&t, json!({ "request_id": id, "code": code })).await;
    assert_eq!((s, b["status"].as_str()), (404, Some("6")), "{b}");
}

#[tokio::test]
async fn cancel_and_next_channel_over_v2() {
    let t = env_v2(Config::default()).await;
    let (id, _) = start(&t, "447700900702").await;
    // v2, like v1, refuses a cancel in the first 30 s.
    let (s, b, _) = call::<cancel::Cancel>(&t, json!({ "request_id": id })).await;
    assert_eq!((s, b["status"].as_str()), (409, Some("19")), "{b}");
    t.advance(31).await;
    let (s, b, _) = call::<cancel::Cancel>(&t, json!({ "request_id": id })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("0")), "{b}");
    assert_eq!(b["command"], "cancel");
    let (s, b, _) = call::<search::Search>(&t, json!({ "request_id": id })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("CANCELLED")), "{b}");

    let (id, _) = start(&t, "447700900703").await;
    t.advance(61).await;
    let body = json!({ "request_id": id, "cmd": "trigger_next_event" });
    let (s, b, _) = call::<control::Control>(&t, body.clone()).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("0")), "{b}");
    assert_eq!(b["command"], "trigger_next_event");
    let channels: Vec<Value> = t
        .messages(&id)
        .await
        .iter()
        .map(|m| m["channel"].clone())
        .collect();
    assert_eq!(
        channels,
        [json!("sms"), json!("tts")],
        "the workflow's second channel"
    );
    t.advance(61).await;
    let (s, b, _) = call::<control::Control>(&t, body).await;
    assert_eq!(
        (s, b["status"].as_str()),
        (409, Some("19")),
        "no channel left: {b}"
    );
}

#[tokio::test]
async fn callers_pick_only_allowed_channels() {
    let wf = Workflow {
        allowed: vec![Channel::Sms, Channel::Whatsapp],
        whatsapp_from: Some("447700900000".into()),
        ..Workflow::default()
    };
    let t = env_v2(Config {
        v2: wf,
        ..Config::default()
    })
    .await;
    let (s, b, _) = call::<request::Start>(
        &t,
        json!({ "number": "447700900704", "channel": "whatsapp" }),
    )
    .await;
    assert_eq!(s, 200, "{b}");
    let msgs = t.messages(b["request_id"].as_str().unwrap()).await;
    assert_eq!(msgs[0]["channel"], "whatsapp");
    let (s, b, _) =
        call::<request::Start>(&t, json!({ "number": "447700900705", "channel": "voice" })).await;
    assert_eq!(
        (s, b["status"].as_str()),
        (400, Some("3")),
        "voice is not allowed here: {b}"
    );
    assert_eq!(t.all_messages().await, 1, "nothing sent for a refused pick");

    // Without ALLOWED_CHANNELS a pick is refused, or ignored with UNEXPECTED_OPTIONS=ignore.
    let t = env_v2(Config::default()).await;
    let (s, _, _) =
        call::<request::Start>(&t, json!({ "number": "447700900706", "channel": "sms" })).await;
    assert_eq!(s, 400);
    let t = env_v2(Config::from_pairs(&[("UNEXPECTED_OPTIONS", "ignore")]).unwrap()).await;
    let (s, _, _) =
        call::<request::Start>(&t, json!({ "number": "447700900707", "channel": "sms" })).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn v2_codes_may_be_longer_and_ids_are_uuids() {
    let t = env_v2(Config {
        v2: Workflow {
            code_length: 8,
            ..Workflow::default()
        },
        ..Config::default()
    })
    .await;
    let (id, code) = start(&t, "447700900708").await;
    assert_eq!(code.len(), 8);
    let (s, b, _) = call::<check::Check>(&t, json!({ "request_id": id, "code": code })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("0")), "{b}");
    // A path in the id cannot reach another v2 route.
    let (s, b, _) = call::<check::Check>(
        &t,
        json!({ "request_id": format!("{id}/next_workflow"), "code": "1234" }),
    )
    .await;
    assert_eq!((s, b["status"].as_str()), (400, Some("3")), "{b}");
}

#[tokio::test]
async fn application_jwt_auth() {
    let t = env_v2_app(Config::default()).await;
    let (id, code) = start(&t, "447700900709").await;
    assert_eq!(code.len(), 6, "v2's default length here is 6 too");
    let (s, b, _) = call::<check::Check>(&t, json!({ "request_id": id, "code": code })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("0")), "{b}");

    // A key the application does not have: v2's 401 is our problem, told in generic words.
    let mut t = env_v2_app(Config::default()).await;
    t.deps.secrets = shared::Secrets::application("some-other-app", testkit::APP_PRIVATE_PEM);
    let (s, b, _) = call::<request::Start>(&t, json!({ "number": "447700900710" })).await;
    assert_eq!((s, b["status"].as_str()), (502, Some("4")), "{b}");
    assert_eq!(b["error_text"], status::ACCOUNT_PROBLEM_TEXT);
    // A key that is no key at all: misconfigured, never a panic.
    t.deps.secrets = shared::Secrets::application(testkit::APP_ID, "not a pem");
    let (s, b, _) = call::<request::Start>(&t, json!({ "number": "447700900711" })).await;
    assert_eq!((s, b["status"].as_str()), (502, Some("5")), "{b}");
    assert_eq!(t.all_messages().await, 0);
}

fn problem(http: u16, too_many: bool) -> Value {
    let detail = if too_many {
        "An incorrect code has been provided too many times. Workflow terminated."
    } else {
        "Something went wrong (contains internal-host.vonage.local and key abcd1234)."
    };
    json!({
        "type": "https://www.developer.vonage.com/api-errors#x",
        "title": format!("HTTP {http}"),
        "detail": detail,
        "instance": "bf0ca0bf927b3b52e3cb03217e1a1ddf",
        "request_id": "00000000-0000-4000-8000-000000000000",
    })
}

/// Each error row of the table, forced on the call it names (rows for any call: on each),
/// reaches the caller with the v1 status the row names and the HTTP status the one status
/// table gives it; texts that could carry internals never do.
#[tokio::test]
async fn every_v2_error_reaches_the_caller_as_the_table_says() {
    let t = env_v2(Config::from_pairs(&[("GUARD_MODES", "*=off")]).unwrap()).await;
    let mut n = 0u32;
    let mut checked = 0;
    for row in V2_ANSWERS.iter().filter(|r| r.http >= 400) {
        let ops = match row.op {
            Some(op) => vec![op],
            None => vec![Op::Start, Op::Check, Op::Cancel, Op::Next],
        };
        for op in ops {
            let body = problem(row.http, row.too_many);
            let parsed: shared::verify::v2::answers::Problem =
                serde_json::from_value(body.clone()).unwrap();
            // A generic row on a call with its own row for that status is that row's case.
            if shared::verify::v2::answers::verify_status(op, row.http, &parsed) != Some(row.verify)
            {
                continue;
            }
            n += 1;
            let number = format!("4478009{:05}", 10_000 + n);
            let (id, code) = if op == Op::Start {
                (String::new(), String::new())
            } else {
                start(&t, &number).await
            };
            let path = match op {
                Op::Start => "/v2/verify",
                Op::Check | Op::Cancel => "/v2/verify/{id}",
                Op::Next => "/v2/verify/{id}/next_workflow",
            };
            t.fault(json!({"path": path, "http_status": row.http, "body": body, "times": 1}))
                .await;
            let (s, b, retry) = match op {
                Op::Start => call::<request::Start>(&t, json!({ "number": number })).await,
                Op::Check => {
                    call::<check::Check>(&t, json!({ "request_id": id, "code": code })).await
                }
                Op::Cancel => call::<cancel::Cancel>(&t, json!({ "request_id": id })).await,
                Op::Next => {
                    call::<control::Control>(
                        &t,
                        json!({ "request_id": id, "cmd": "trigger_next_event" }),
                    )
                    .await
                }
            };
            let want = (status::http_for(row.verify), Some(row.verify));
            assert_eq!(
                (s, b["status"].as_str()),
                want,
                "{op:?} v2 {} -> {b}",
                row.http
            );
            let text = b["error_text"].as_str().unwrap_or_default();
            assert!(
                !text.is_empty(),
                "{op:?} {}: every error has a text",
                row.http
            );
            assert!(
                !text.contains("abcd1234") && !text.contains("internal-host"),
                "{b}"
            );
            assert!(
                !b.to_string().contains("00000000-0000-4000"),
                "a concurrent start's live id is never echoed: {b}"
            );
            if row.verify == "1" {
                assert!(retry.is_some(), "throttled answers say when to retry");
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} rows exercised");
}

#[tokio::test]
async fn v1_only_settings_are_refused_with_v2() {
    for bad in [
        &[("VERIFY_API", "v2"), ("VERIFY_WORKFLOW_ID", "6")][..],
        &[("VERIFY_API", "v2"), ("ALLOWED_OPTIONS", "pin_expiry")],
        &[("VERIFY_API", "v2"), ("VERIFY_CHANNELS", "email")],
        &[("VERIFY_API", "v2"), ("VERIFY_CHANNELS", "whatsapp")],
        &[
            ("VERIFY_API", "v2"),
            ("VERIFY_BRAND", "A brand of 17 chars"),
        ],
        &[("VERIFY_API", "v2"), ("VERIFY_CODE_LENGTH", "11")],
        &[("VERIFY_API", "v2"), ("VERIFY_CHANNEL_TIMEOUT", "10")],
        &[("VERIFY_CHANNELS", "sms")],
        &[("VERIFY_API", "v3")],
    ] {
        assert!(Config::from_pairs(bad).is_err(), "{bad:?}");
    }
    let ok = Config::from_pairs(&[
        ("VERIFY_API", "v2"),
        ("VERIFY_CHANNELS", "whatsapp,sms"),
        ("VERIFY_WHATSAPP_FROM", "447700900000"),
        ("VERIFY_CODE_LENGTH", "8"),
        ("ALLOWED_CHANNELS", "sms,whatsapp"),
        ("VERIFY_LOCALE", "en-gb"),
    ])
    .unwrap();
    assert_eq!(ok.verify.api, VerifyApi::V2);
    assert_eq!(ok.v2.channels, [Channel::Whatsapp, Channel::Sms]);
    assert_eq!(ok.v2.code_length, 8);
}

/// Signed exactly as the simulator (and Vonage) sign a callback.
fn signed(body: &str, secret: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // A fresh jti per signature, as Vonage gives each callback.
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let jti = format!("t-{}", N.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
    verify_sim::v2::callbacks::signature("testkey1", body, secret, now, &jti).expect("sign")
}

fn event_request(body: &str, authorization: Option<&str>) -> lambda_http::Request {
    let mut b = lambda_http::http::Request::builder()
        .method("POST")
        .header("content-type", "application/json");
    if let Some(a) = authorization {
        b = b.header("authorization", a);
    }
    b.body(Body::from(body.to_string())).unwrap()
}

/// Search from outcomes: in progress while the workflow can run, 501 once it cannot and no
/// event said how it ended, and the event's outcome once one did (first report wins).
#[tokio::test]
async fn search_reports_events_and_refuses_to_guess() {
    let mut t = env_v2(Config::default()).await;
    t.deps.signature_secret = Some("sig-secret".into());
    let (id, _) = start(&t, "447700900712").await;
    t.advance(2 * 180 + 1).await;
    let (s, b, _) = call::<search::Search>(&t, json!({ "request_id": id })).await;
    assert_eq!((s, b["status"].as_str()), (501, Some("5")), "{b}");
    assert!(
        b["error_text"]
            .as_str()
            .unwrap()
            .contains("no status event")
    );

    let summary = json!({"request_id": id, "type": "summary", "status": "expired"}).to_string();
    // Forged: unsigned, signed with another secret, or a signed body altered afterwards.
    let tampered = summary.replace("expired", "completed");
    for (body, auth) in [
        (summary.clone(), None),
        (summary.clone(), Some(signed(&summary, "not-the-secret"))),
        (tampered.clone(), Some(signed(&summary, "sig-secret"))),
    ] {
        let r = shared::events::serve(event_request(&body, auth.as_deref()), &t.deps).await;
        assert_eq!(r.status(), 401, "{body} {auth:?}");
    }
    let (s, _, _) = call::<search::Search>(&t, json!({ "request_id": id })).await;
    assert_eq!(s, 501, "nothing forged was recorded");
    let get = lambda_http::http::Request::builder()
        .method("GET")
        .body(Body::Empty)
        .unwrap();
    let r = shared::events::serve(get, &t.deps).await;
    assert_eq!(
        (r.status().as_u16(), &r.headers()["allow"]),
        (405, &"POST".parse().unwrap())
    );

    let genuine = signed(&summary, "sig-secret");
    let r = shared::events::serve(event_request(&summary, Some(&genuine)), &t.deps).await;
    assert_eq!(r.status(), 200);
    assert_eq!(json_of(&r), json!({"status": "0"}));
    // The same signed callback again (captured and replayed inside its 5 minutes).
    let r = shared::events::serve(event_request(&summary, Some(&genuine)), &t.deps).await;
    assert_eq!(r.status(), 200, "acknowledged, so a retrying sender stops");
    assert_eq!(json_of(&r), json!({"status": "0", "duplicate": true}));
    let (s, b, _) = call::<search::Search>(&t, json!({ "request_id": id })).await;
    assert_eq!((s, b["status"].as_str()), (200, Some("EXPIRED")), "{b}");
    assert!(b["date_finalized"].is_string());
    // A replayed, re-signed "completed" cannot rewrite it or credit a verification.
    let r = shared::events::serve(
        event_request(&tampered, Some(&signed(&tampered, "sig-secret"))),
        &t.deps,
    )
    .await;
    assert_eq!(r.status(), 200);
    let (_, b, _) = call::<search::Search>(&t, json!({ "request_id": id })).await;
    assert_eq!(b["status"], "EXPIRED");
}

/// The whole loop over HTTP, as `VERIFY_API=v2 cargo run -p local` runs it: the simulator's
/// own signed summary callback reaches `/events` and search reports it.
#[tokio::test]
async fn local_server_receives_the_simulators_signed_callbacks() {
    let running = local::start(
        ([127, 0, 0, 1], 0).into(),
        Config::from_pairs(&[("VERIFY_API", "v2")]).unwrap(),
        local::Upstream::Simulator {
            seed: Some(3),
            limits: local::Limits::OFF,
        },
        None,
    )
    .await
    .expect("start");
    let base = format!("http://{}", running.addr);
    let c = reqwest::Client::new();
    let post = |path: &str, body: Value| {
        let req = c.post(format!("{base}{path}")).json(&body);
        async move {
            let r = req.send().await.expect("send");
            let s = r.status().as_u16();
            (s, r.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let settings: Value = c
        .get(format!("{base}/settings.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(settings["verify_api"], "v2");
    let (s, b) = post("/request", json!({"number": "447700900720"})).await;
    assert_eq!(s, 200, "{b}");
    let id = b["request_id"].as_str().unwrap().to_string();
    // Both channels time out: the simulator posts a signed "expired" summary to /events.
    let (s, _) = post("/_sim/clock/advance", json!({"seconds": 361})).await;
    assert_eq!(s, 200);
    let mut last = Value::Null;
    for _ in 0..50 {
        let (_, b) = post("/search", json!({"request_id": id})).await;
        if b["status"] == "EXPIRED" {
            return;
        }
        last = b;
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the callback never recorded the expiry: {last}");
}
