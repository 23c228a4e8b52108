//! `POST /check {"request_id" | "requestId", "code"}`: checks the code the user typed.

use shared::verify::Pin;
use shared::verify::types::CheckRequest;
use shared::{Config, Endpoint, Fields, ProxyError};

pub struct Check;

impl Endpoint for Check {
    const NAME: &'static str = "check";
    type Input = CheckRequest;

    fn parse(fields: &Fields, config: &Config) -> Result<CheckRequest, ProxyError> {
        Ok(CheckRequest {
            request_id: fields.request_id()?,
            code: Pin::parse_up_to(fields.required("code")?, config.verify.max_code_length())?,
        })
    }

    /// A right code proves the number: the answer carries a `verification_token`.
    fn proves(input: &CheckRequest) -> Option<&str> {
        Some(input.request_id.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::{Body, Request, Response};
    use shared::Deps;

    async fn handle(req: Request, deps: &Deps) -> Result<Response<Body>, std::convert::Infallible> {
        shared::handle::<Check>(req, deps).await
    }
    use serde_json::json;
    use testkit::{env, json_of, post_form, post_json};

    fn other(code: &str) -> &'static str {
        if code == "0000" { "1111" } else { "0000" }
    }

    #[tokio::test]
    async fn right_code_is_200_with_verify_fields() {
        let t = env().await;
        let (id, code) = t.start("447700900201").await;
        let r = handle(
            post_json(&format!(r#"{{"request_id":"{id}","code":"{code}"}}"#)),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        let b = json_of(&r);
        assert_eq!(b["status"], "0");
        assert_eq!(b["request_id"], id.as_str());
        assert_eq!(b["price"], "0.10000000");
        assert_eq!(b["currency"], "EUR");
        assert!(b["event_id"].is_string());
        // Finished: a second check is 404 (status 6).
        let again = handle(
            post_json(&format!(r#"{{"request_id":"{id}","code":"{code}"}}"#)),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(again.status(), 404);
        assert_eq!(json_of(&again)["status"], "6");
    }

    /// What a backend does with the token: verify it with the published keys and an ordinary
    /// JWT library, then trust `sub`.
    #[tokio::test]
    async fn a_right_code_answers_a_token_the_published_keys_verify() {
        use jsonwebtoken::{DecodingKey, Validation, decode, decode_header};
        let t = env().await;
        let (id, code) = t.start("447700900211").await;
        let body = format!(r#"{{"request_id":"{id}","code":"{code}"}}"#);
        let r = handle(post_json(&body), &t.deps).await.unwrap();
        assert_eq!(r.status(), 200);
        let token = json_of(&r)["verification_token"]
            .as_str()
            .expect("a token")
            .to_string();
        let jwks = t.deps.token.as_ref().unwrap().jwks();
        let header = decode_header(&token).unwrap();
        assert_eq!(header.alg, jsonwebtoken::Algorithm::EdDSA);
        let jwk = jwks.find(header.kid.as_deref().unwrap()).unwrap();
        let mut v = Validation::new(header.alg);
        v.set_issuer(&["verify-proxy"]);
        v.set_audience(&["verify-proxy-backend"]);
        let claims = decode::<serde_json::Value>(&token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
            .unwrap()
            .claims;
        assert_eq!(claims["sub"], "+447700900211");
        assert_eq!(claims["request_id"], id.as_str());
        assert_eq!(
            claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
            300
        );
    }

    #[tokio::test]
    async fn wrong_codes_get_no_token() {
        let t = env().await;
        let (id, code) = t.start("447700900212").await;
        let body = format!(r#"{{"request_id":"{id}","code":"{}"}}"#, other(&code));
        let r = handle(post_json(&body), &t.deps).await.unwrap();
        assert_eq!(r.status(), 400);
        assert!(json_of(&r).get("verification_token").is_none());
    }

    #[tokio::test]
    async fn accepts_request_id_alias_and_forms() {
        let t = env().await;
        let (id, code) = t.start("447700900202").await;
        let r = handle(post_form(&format!("requestId={id}&code={code}")), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{}", json_of(&r));
    }

    #[tokio::test]
    async fn wrong_codes_are_400_then_410() {
        let t = env().await;
        let (id, code) = t.start("447700900203").await;
        let body = format!(r#"{{"requestId":"{id}","code":"{}"}}"#, other(&code));
        for _ in 0..2 {
            let r = handle(post_json(&body), &t.deps).await.unwrap();
            assert_eq!(r.status(), 400);
            assert_eq!(json_of(&r)["status"], "16");
        }
        let r = handle(post_json(&body), &t.deps).await.unwrap();
        assert_eq!(r.status(), 410);
        assert_eq!(json_of(&r)["status"], "17");
    }

    #[tokio::test]
    async fn invalid_input_is_rejected_before_upstream() {
        let t = env().await;
        let (id, _) = t.start("447700900204").await;
        for (body, status) in [
            (json!({"code": "1234"}), "2"),
            (json!({"request_id": id}), "2"),
            (json!({"request_id": "nothex", "code": "1234"}), "3"),
            (json!({"request_id": id, "code": "12a4"}), "3"),
            (json!({"request_id": id, "code": "123"}), "3"),
        ] {
            let r = handle(post_json(&body.to_string()), &t.deps).await.unwrap();
            assert_eq!(r.status(), 400, "{body}");
            assert_eq!(json_of(&r)["status"], status, "{body}");
        }
        // None of them counted as a wrong attempt upstream.
        let view = t.inspect(&id).await;
        assert_eq!(view["wrong_attempts"], 0);
    }

    #[tokio::test]
    async fn test_number_codes_are_checked_locally() {
        let numbers = shared::verify::TestNumbers::parse("+447700900999:246810").unwrap();
        let mut config = Config::default();
        config.verify.test_numbers = numbers;
        let t = testkit::env_with(config).await;
        let id = t
            .deps
            .config
            .verify
            .test_numbers
            .request_id(&shared::verify::Number::parse("447700900999").unwrap())
            .unwrap()
            .to_string();
        t.record("447700900999", &id).await;
        let wrong = handle(
            post_json(&json!({"request_id": id, "code": "246811"}).to_string()),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(wrong.status(), 400);
        let right = handle(
            post_json(&json!({"request_id": id, "code": "246810"}).to_string()),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(right.status(), 200);
        // Shaped like any success: a price and an event id of its own.
        assert_eq!(json_of(&right)["price"], "0.10000000");
        assert_ne!(json_of(&right)["event_id"], "7E57000000000000");
    }

    #[tokio::test]
    async fn test_number_codes_cannot_be_guessed_without_limit() {
        // Attack: a test number's fixed code never expires upstream, so guessing it is only
        // stopped by the guard: 3 wrong codes per start, then the guesser waits.
        let numbers = shared::verify::TestNumbers::parse("+447700900999:246810").unwrap();
        let mut config = Config::default();
        config.verify.test_numbers = numbers;
        let t = testkit::env_with(config).await;
        let number = shared::verify::Number::parse("447700900999").unwrap();
        let id = t
            .deps
            .config
            .verify
            .test_numbers
            .request_id(&number)
            .unwrap()
            .to_string();
        t.record("447700900999", &id).await;
        let mut wrong_answered = 0;
        for guess in 100_000..100_020 {
            let body = json!({"request_id": id, "code": guess.to_string()}).to_string();
            let r = handle(post_json(&body), &t.deps).await.unwrap();
            match r.status().as_u16() {
                400 => wrong_answered += 1,
                410 => {
                    assert_eq!(json_of(&r)["status"], "17");
                    assert!(r.headers().contains_key("retry-after"));
                    break;
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(wrong_answered, 3, "3 per start, as Verify allows");
        let right = json!({"request_id": id, "code": "246810"}).to_string();
        let r = handle(post_json(&right), &t.deps).await.unwrap();
        assert_eq!(
            r.status(),
            410,
            "this start is spent, even for the right code"
        );
        // A new start: the guesser waits a minute first; then the right code works.
        t.advance(1).await;
        t.record("447700900999", &id).await;
        let r = handle(post_json(&right), &t.deps).await.unwrap();
        assert_eq!(r.status(), 429, "wrong_code_backoff");
        t.advance(61).await;
        let r = handle(post_json(&right), &t.deps).await.unwrap();
        assert_eq!(r.status(), 200);
    }

    #[tokio::test]
    async fn unknown_request_is_404() {
        let t = env().await;
        let r = handle(
            post_json(r#"{"request_id":"0123456789abcdef0123456789abcdef","code":"1234"}"#),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 404);
    }

    /// What a caller of /check needs from Verify is the status: a bare success still proves
    /// the number (the token comes from our own record), anything less is 502.
    #[tokio::test]
    async fn odd_check_answers_are_handled_on_purpose() {
        let t = env().await;
        let secretish = "Invalid value for param: api_key testkey1 (verify-internal-7.prod:8443)";
        let cases = [
            (json!({"status": "0"}), 200, "0"),
            (json!({}), 502, "5"),
            (json!({"request_id": "x"}), 502, "5"),
            (json!({"status": "16"}), 400, "16"),
            (json!({"status": "17"}), 410, "17"),
            (json!({"status": "2", "error_text": secretish}), 502, "2"),
            (json!({"status": "3", "error_text": secretish}), 502, "3"),
            (json!({"status": "nonsense"}), 502, "5"),
            // A success about another verification: no token for this one.
            (
                json!({"status": "0", "request_id": "abcdef0123456789abcdef0123456789"}),
                502,
                "5",
            ),
        ];
        for (i, (body, http, status)) in cases.into_iter().enumerate() {
            let (id, code) = t.start(&format!("4477009002{i:02}")).await;
            t.fault(json!({"path": "/verify/check/json", "body": body, "times": 1}))
                .await;
            let req = post_json(&json!({"request_id": id, "code": code}).to_string());
            let r = handle(req, &t.deps).await.unwrap();
            assert_eq!(r.status(), http, "{body}");
            let answer = json_of(&r);
            assert_eq!(answer["status"], status, "{body}");
            assert_eq!(
                answer.get("verification_token").is_some(),
                http == 200,
                "{body}: a token only for a success"
            );
            if http != 200 {
                let text = answer["error_text"].as_str().unwrap_or_default();
                assert!(!text.is_empty(), "{body}: every error has a text: {answer}");
                assert!(!text.contains("testkey1") && !text.contains("internal"));
            }
        }
    }
}
