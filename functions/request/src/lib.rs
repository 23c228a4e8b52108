//! `POST /request {"number"}`: starts a verification (SMS, then voice, per the workflow).

use shared::caller::policy;
use shared::verify::Number;
use shared::verify::types::StartRequest;
use shared::{Config, Endpoint, Fields, ProxyError};

pub struct Start;

impl Endpoint for Start {
    const NAME: &'static str = "request";
    type Input = StartRequest;

    fn parse(fields: &Fields, config: &Config) -> Result<StartRequest, ProxyError> {
        let number = Number::parse(fields.required("number")?)?;
        let options = policy::options(fields, config)?;
        let channel = policy::channel(fields, config)?;
        let first = policy::first_delivery(&options, channel, config);
        policy::destination(&number, first, config)?;
        Ok(StartRequest {
            number,
            brand: policy::brand(fields, config)?,
            sender_id: config.verify.sender_id.clone(),
            shape: policy::shape(&options, channel, config),
            idempotency_key: None,
            caller: None,
            app_token: None,
            options,
            channel,
        })
    }

    fn delivers(_input: &StartRequest) -> bool {
        true
    }
}

#[cfg(test)]
mod app_check_tests;
#[cfg(test)]
mod caller_tests;

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::{Body, Request, Response};
    use shared::Deps;

    async fn handle(req: Request, deps: &Deps) -> Result<Response<Body>, std::convert::Infallible> {
        shared::handle::<Start>(req, deps).await
    }
    use serde_json::json;
    use testkit::{env, env_with, json_of, post, post_form, post_json};

    #[tokio::test]
    async fn starts_a_verification_from_json_and_form() {
        let t = env().await;
        let r = handle(post_json(r#"{"number":"+44 7700 900001"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let body = json_of(&r);
        assert_eq!(body["status"], "0");
        let id = body["request_id"].as_str().unwrap();
        let msgs = t.messages(id).await;
        assert_eq!(msgs[0]["to"], "447700900001");
        assert!(
            msgs[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("verify-proxy code: ")
        );

        let r = handle(post_form("number=447700900002"), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(&r)["status"], "0");
    }

    #[tokio::test]
    async fn a_second_request_never_echoes_the_live_request_id() {
        // Attack: Verify's status 10 hands out the live request_id of whoever is verifying
        // that number; with it anyone could cancel or guess against their verification.
        let t = env().await;
        let first = json_of(
            &handle(post_json(r#"{"number":"447700900003"}"#), &t.deps)
                .await
                .unwrap(),
        );
        let victim_id = first["request_id"].as_str().unwrap().to_string();
        // Its own caller asking again (a lost answer) gets its own id back; nothing is sent.
        let r = handle(post_json(r#"{"number":"+44 7700 900003"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(&r)["request_id"], victim_id.as_str());
        assert_eq!(t.messages(&victim_id).await.len(), 1, "one SMS");
        // Anyone else, within the resend cooldown: the guard refuses before Verify is asked.
        let r = handle(
            testkit::from_ip(post_json(r#"{"number":"+44 7700 900003"}"#), "203.0.113.3"),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "60");
        // After it, Verify answers 10 (still live): a 409 without the id, for anyone but the
        // caller that started it (its own repeat gets its own id: a lost answer, retried).
        t.advance(61).await;
        let r = handle(
            testkit::from_ip(post_json(r#"{"number":"+447700900003"}"#), "203.0.113.3"),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 409);
        assert!(r.headers().contains_key("retry-after"));
        let body = json_of(&r);
        assert_eq!(body["status"], "10");
        assert!(body.get("request_id").is_none(), "{body}");
        assert!(!body.to_string().contains(&victim_id));
        assert!(
            body["error_text"]
                .as_str()
                .unwrap()
                .contains("already sent")
        );
    }

    fn keyed(body: &str, key: &str) -> Request {
        let mut r = post_json(body);
        r.headers_mut()
            .insert("idempotency-key", key.parse().unwrap());
        r
    }

    #[tokio::test]
    async fn an_idempotency_key_replays_the_first_answer_and_sends_nothing() {
        let t = env().await;
        let body = r#"{"number":"+447700900071"}"#;
        let first = handle(keyed(body, "8e03978e-40d5-43e8"), &t.deps)
            .await
            .unwrap();
        assert_eq!(first.status(), 200);
        let id = json_of(&first)["request_id"].as_str().unwrap().to_string();
        // The verification ends (a cancel); the app's retry of its first call (its answer
        // was lost) still replays that answer for 10 minutes, and nothing more is sent.
        assert!(
            t.deps
                .guard
                .finished(&id, "CANCELLED", t.deps.guard.now())
                .await
        );
        t.advance(120).await;
        let again = handle(keyed(body, "8e03978e-40d5-43e8"), &t.deps)
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(json_of(&again)["request_id"], id.as_str());
        assert_eq!(t.all_messages().await, 1);
        // The same key with another body is the client's bug: 422.
        let other = handle(
            keyed(r#"{"number":"+447700900072"}"#, "8e03978e-40d5-43e8"),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(other.status(), 422);
        assert_eq!(json_of(&other)["status"], "3");
        // After the window the key is a new request.
        t.advance(600).await;
        let late = handle(keyed(body, "8e03978e-40d5-43e8"), &t.deps)
            .await
            .unwrap();
        assert_eq!(late.status(), 200);
        assert_ne!(json_of(&late)["request_id"], id.as_str());
        for bad in ["", &"k".repeat(256), "a b"] {
            let mut r = post_json(body);
            r.headers_mut()
                .insert("idempotency-key", bad.parse().unwrap());
            assert_eq!(handle(r, &t.deps).await.unwrap().status(), 400, "{bad:?}");
        }
    }

    #[tokio::test]
    async fn an_idempotency_key_in_flight_is_409_and_a_failed_start_frees_it() {
        let t = env().await;
        let body = r#"{"number":"+447700900073"}"#;
        t.fault(json!({"path": "/verify/json", "latency_ms": 400, "times": 1}))
            .await;
        let (first, second) = tokio::join!(handle(keyed(body, "key-in-flight"), &t.deps), async {
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            handle(keyed(body, "key-in-flight"), &t.deps).await
        });
        assert_eq!(first.unwrap().status(), 200);
        let second = second.unwrap();
        assert_eq!(second.status(), 409);
        assert_eq!(second.headers()["retry-after"], "1");
        // A start Verify refused frees its key: the retry runs.
        t.fault(json!({"path": "/verify/json", "http_status": 503, "times": 1}))
            .await;
        let body = r#"{"number":"+447700900074"}"#;
        let refused = handle(keyed(body, "key-retry"), &t.deps).await.unwrap();
        assert_eq!(refused.status(), 502);
        let retry = handle(keyed(body, "key-retry"), &t.deps).await.unwrap();
        assert_eq!(retry.status(), 200, "{}", json_of(&retry));
    }

    #[tokio::test]
    async fn an_unreachable_guard_store_fails_closed_unless_configured_open() {
        let mut t = env().await;
        t.deps.guard = testkit::unreachable_guard(false);
        let r = handle(post_json(r#"{"number":"447700900061"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "5");
        assert_eq!(json_of(&r)["status"], "5");
        assert_eq!(t.all_messages().await, 0, "nothing sent unguarded");
        t.deps.guard = testkit::unreachable_guard(true);
        let r = handle(post_json(r#"{"number":"447700900061"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "GUARD_ON_STORE_ERROR=open");
        assert_eq!(t.all_messages().await, 1);
    }

    #[tokio::test]
    async fn bad_input_never_reaches_upstream() {
        let t = env().await;
        let cases = [
            (post_json(r#"{}"#), 400, "2"),
            (post_json(r#"{"number":"12"}"#), 400, "3"),
            (
                post_json(r#"{"number":"447700900004","brand":"Other"}"#),
                400,
                "3",
            ),
            (
                post_json(r#"{"number":"447700900004","code_length":6}"#),
                400,
                "3",
            ),
            (post_json(r#"{"number":"#), 400, "3"),
            (post_json(r#"["447700900004"]"#), 400, "3"),
            (post("text/plain", "447700900004"), 415, "3"),
            (
                post_json(&format!(
                    r#"{{"number":"447700900004","x":"{}"}}"#,
                    "a".repeat(9000)
                )),
                413,
                "3",
            ),
        ];
        for (req, http, status) in cases {
            let r = handle(req, &t.deps).await.unwrap();
            assert_eq!(r.status(), http);
            let body = json_of(&r);
            assert_eq!(body["status"], status, "{body}");
            assert!(!body["error_text"].as_str().unwrap().is_empty());
        }
        assert_eq!(t.all_messages().await, 0, "nothing was sent");
    }

    #[tokio::test]
    async fn refused_destinations_are_403_before_upstream() {
        let t = env_with(Config::from_pairs(&[("ALLOWED_CALLING_CODES", "44")]).unwrap()).await;
        let r = handle(post_json(r#"{"number":"+14155550100"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        assert_eq!(json_of(&r)["status"], "15");
        assert_eq!(t.all_messages().await, 0);
        let ok = handle(post_json(r#"{"number":"+447700900009"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
    }

    #[tokio::test]
    async fn test_numbers_never_reach_upstream() {
        let numbers = shared::verify::TestNumbers::parse("+447700900999:246810").unwrap();
        let mut config = Config::default();
        config.verify.test_numbers = numbers;
        let t = env_with(config).await;
        let r = handle(post_json(r#"{"number":"+447700900999"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let id = json_of(&r)["request_id"].as_str().unwrap().to_string();
        let id = shared::verify::RequestId::parse(&id).unwrap();
        assert!(
            t.deps.config.verify.test_numbers.issued(&id),
            "a test number's id"
        );
        assert_eq!(t.all_messages().await, 0, "no SMS for a test number");
        let real = handle(post_json(r#"{"number":"+447700900998"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(real.status(), 200);
        assert_eq!(t.all_messages().await, 1, "other numbers are real");
    }

    #[tokio::test]
    async fn cors_is_closed_unless_configured() {
        let options = || {
            lambda_http::http::Request::builder()
                .method("OPTIONS")
                .body(Body::Empty)
                .unwrap()
        };
        let closed = env().await;
        let r = handle(options(), &closed.deps).await.unwrap();
        assert_eq!(r.status(), 405);
        assert!(r.headers().get("access-control-allow-origin").is_none());
        let open =
            env_with(Config::from_pairs(&[("CORS_ALLOW_ORIGIN", "https://app.example")]).unwrap())
                .await;
        let r = handle(options(), &open.deps).await.unwrap();
        assert_eq!(r.status(), 204);
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://app.example"
        );
        assert_eq!(r.headers()["access-control-allow-methods"], "POST, OPTIONS");
        let r = handle(post_json(r#"{"number":"+447700900031"}"#), &open.deps)
            .await
            .unwrap();
        assert_eq!(
            r.headers()["access-control-allow-origin"],
            "https://app.example"
        );
    }

    #[tokio::test]
    async fn other_methods_are_405() {
        let t = env().await;
        let req = lambda_http::http::Request::builder()
            .method("GET")
            .body(Body::Empty)
            .unwrap();
        let r = handle(req, &t.deps).await.unwrap();
        assert_eq!(r.status(), 405);
        assert_eq!(r.headers()["allow"], "POST, OPTIONS");
    }

    #[tokio::test]
    async fn allowed_options_and_brand_pass_through() {
        let config = Config::from_pairs(&[
            ("ALLOWED_OPTIONS", "code_length,workflow_id"),
            ("ALLOW_BRAND_OVERRIDE", "true"),
        ])
        .unwrap();
        let t = env_with(config).await;
        let r = handle(
            post_json(
                r#"{"number":"447700900005","code_length":"6","workflow_id":6,"brand":"MyShop"}"#,
            ),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200, "{}", json_of(&r));
        let id = json_of(&r)["request_id"].as_str().unwrap().to_string();
        let code = t.last_code(&id).await;
        assert_eq!(code.len(), 6);
        assert!(
            t.messages(&id).await[0]["text"]
                .as_str()
                .unwrap()
                .starts_with("MyShop code")
        );
    }

    #[tokio::test]
    async fn upstream_statuses_map_to_http() {
        let t = env().await;
        let cases = [
            ("1", 429),
            ("2", 502),
            ("3", 502),
            ("5", 502),
            ("6", 404),
            ("7", 403),
            ("15", 422),
            ("20", 502),
            ("29", 403),
            ("4", 502),
            ("8", 502),
            ("9", 502),
            ("42", 502),
        ];
        for (i, (status, http)) in cases.into_iter().enumerate() {
            t.fault(json!({"path": "/verify/json", "status": status, "times": 1}))
                .await;
            let r = handle(
                post_json(&format!(r#"{{"number":"4477009001{i:02}"}}"#)),
                &t.deps,
            )
            .await
            .unwrap();
            assert_eq!(r.status(), http, "status {status}");
            let body = json_of(&r);
            // A status no Verify document has (42) reaches the caller as 5.
            let want = if status == "42" { "5" } else { status };
            assert_eq!(body["status"], want);
            if ["2", "3", "4", "5", "8", "9", "20"].contains(&status) {
                assert_eq!(
                    body["error_text"],
                    shared::caller::response::ACCOUNT_PROBLEM_TEXT,
                    "upstream text not echoed"
                );
            }
            if status == "1" {
                assert_eq!(r.headers()["retry-after"], "1");
            }
            if status == "7" {
                assert_eq!(body["network"], "310260");
            }
        }
    }

    /// Spec-valid but unusable or revealing upstream answers, forced through the simulator.
    #[tokio::test]
    async fn odd_start_answers_are_handled_on_purpose() {
        let t = env().await;
        let secretish = "Invalid value for param: api_key testkey1 (verify-internal-7.prod:8443)";
        let cases = [
            (json!({"status": "0"}), 502, "5"),
            (json!({"status": "0", "request_id": ""}), 502, "5"),
            (json!({}), 502, "5"),
            (json!({"status": "2", "error_text": secretish}), 502, "2"),
            (json!({"status": "3", "error_text": secretish}), 502, "3"),
            (json!({"status": "5", "error_text": secretish}), 502, "5"),
            (
                json!({"status": "29", "error_text": "Non White-listed Destination - rejected"}),
                403,
                "29",
            ),
            // An id /check would refuse, and a status no Verify document has.
            (json!({"status": "0", "request_id": "in"}), 502, "5"),
            (json!({"status": "803", "error_text": secretish}), 502, "5"),
            (json!({"status": "-1"}), 502, "5"),
        ];
        for (i, (body, http, status)) in cases.into_iter().enumerate() {
            t.fault(json!({"path": "/verify/json", "body": body, "times": 1}))
                .await;
            // A success without an id may have sent a code: it counts against its address.
            let req = post_json(&format!(r#"{{"number":"44770090030{i}"}}"#));
            let r = handle(testkit::from_ip(req, &format!("198.51.100.{i}")), &t.deps)
                .await
                .unwrap();
            assert_eq!(r.status(), http, "{body}");
            let answer = json_of(&r);
            assert_eq!(answer["status"], status, "{body}");
            let text = answer["error_text"].as_str().unwrap_or_default();
            assert!(!text.is_empty(), "{body}: {answer}");
            assert!(
                !text.contains("testkey1") && !text.contains("internal") && !text.contains("White"),
                "{body}: {answer}"
            );
            assert!(answer.get("request_id").is_none_or(|v| v != ""));
        }
    }

    #[tokio::test]
    async fn upstream_faults_are_502_or_504_and_never_retried() {
        let config = Config::from_pairs(&[("VERIFY_TIMEOUT_MS", "300")]).unwrap();
        let t = env_with(config).await;
        t.fault(json!({"path": "/verify/json", "latency_ms": 1000, "times": 1}))
            .await;
        let r = handle(post_json(r#"{"number":"447700900020"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 504);
        for (i, fault) in [
            json!({"http_status": 503}),
            json!({"malformed": true}),
            json!({"drop": true}),
        ]
        .into_iter()
        .enumerate()
        {
            let mut f = fault.clone();
            f["path"] = json!("/verify/json");
            f["times"] = json!(1);
            t.fault(f).await;
            let number = format!(r#"{{"number":"44770090003{i}"}}"#);
            let r = handle(post_json(&number), &t.deps).await.unwrap();
            assert_eq!(r.status(), 502, "{fault}");
            assert_eq!(json_of(&r)["status"], "5");
        }
        // The slow call did reach the simulator once: one SMS, no retry sent a second.
        tokio::time::sleep(std::time::Duration::from_millis(800)).await;
        let r = handle(post_json(r#"{"number":"447700900029"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the instance keeps serving");
        assert_eq!(
            t.all_messages().await,
            2,
            "one SMS for the slow request, one now"
        );
    }

    /// Verify's per-account rate (the simulator's real limit lowered to 1/s so two calls show
    /// it): the caller gets 429 with Retry-After, and nothing was sent.
    #[tokio::test]
    async fn verify_throttling_is_429_with_retry_after() {
        let t = env().await;
        t.sim.set_limits(testkit::Limits {
            requests_per_second: Some(1),
            ..testkit::Limits::REAL
        });
        let first = handle(post_json(r#"{"number":"447700900040"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(first.status(), 200);
        let second = handle(post_json(r#"{"number":"447700900041"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(second.status(), 429);
        assert_eq!(second.headers()["retry-after"], "1");
        let b = json_of(&second);
        assert_eq!(
            (b["status"].as_str(), b["error_text"].as_str()),
            (Some("1"), Some("Throttled"))
        );
        assert_eq!(
            t.all_messages().await,
            1,
            "the throttled start sent nothing"
        );
        // Nothing was sent, so the guard holds nothing against the number: the retry the
        // header asks for goes through.
        t.advance(1).await;
        let retry = handle(post_json(r#"{"number":"447700900041"}"#), &t.deps)
            .await
            .unwrap();
        assert_eq!(retry.status(), 200, "{}", json_of(&retry));
    }
}
