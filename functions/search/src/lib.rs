//! `POST /search {"request_id"} | {"request_ids": [..up to 10]}`: status and history of
//! verifications. The number is masked and typed codes removed (by `Call for SearchRequest`).

use shared::verify::types::SearchRequest;
use shared::{Config, Endpoint, Fields, ProxyError};

pub struct Search;

impl Endpoint for Search {
    const NAME: &'static str = "search";
    type Input = SearchRequest;

    fn parse(fields: &Fields, _config: &Config) -> Result<SearchRequest, ProxyError> {
        Ok(SearchRequest {
            request_ids: fields.search_ids()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::{Body, Request, Response};
    use shared::Deps;

    async fn handle(req: Request, deps: &Deps) -> Result<Response<Body>, std::convert::Infallible> {
        shared::handle::<Search>(req, deps).await
    }
    use serde_json::json;
    use testkit::{env, json_of, post_form, post_json};

    #[tokio::test]
    async fn single_search_masks_number_and_codes() {
        let t = env().await;
        let (id, _) = t.start("447700900501").await;
        let r = handle(post_json(&json!({"request_id": id}).to_string()), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let b = json_of(&r);
        assert_eq!(b["status"], "IN PROGRESS");
        assert_eq!(b["request_id"], id.as_str());
        assert_eq!(b["number"], "+44*******501");
        assert_eq!(b["events"][0]["type"], "sms");
        assert!(!b.to_string().contains("447700900501"));
    }

    #[tokio::test]
    async fn multi_search_and_limits() {
        let t = env().await;
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(t.start(&format!("44770090051{i}")).await.0);
        }
        let r = handle(post_json(&json!({"request_ids": ids}).to_string()), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(
            json_of(&r)["verification_requests"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let form: String = ids.iter().map(|id| format!("request_ids={id}&")).collect();
        let r = handle(post_form(&form), &t.deps).await.unwrap();
        assert_eq!(
            json_of(&r)["verification_requests"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        let eleven: Vec<&String> = std::iter::repeat_n(&ids[0], 11).collect();
        let r = handle(
            post_json(&json!({"requestIds": eleven}).to_string()),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 400);
        assert_eq!(json_of(&r)["status"], "18");
    }

    #[tokio::test]
    async fn unknown_id_is_404() {
        let t = env().await;
        let r = handle(
            post_json(r#"{"request_id":"0123456789abcdef0123456789abcdef"}"#),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 404);
        assert_eq!(json_of(&r)["status"], "101");
    }

    #[tokio::test]
    async fn search_is_retried_once_on_a_5xx() {
        let t = env().await;
        let (id, _) = t.start("447700900520").await;
        t.fault(json!({"path": "/verify/search/json", "http_status": 503, "times": 1}))
            .await;
        let r = handle(post_json(&json!({"request_id": id}).to_string()), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "the retry succeeded");
        t.fault(json!({"path": "/verify/search/json", "http_status": 503, "times": 2}))
            .await;
        let r = handle(post_json(&json!({"request_id": id}).to_string()), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 502, "only one retry");
    }

    /// Callers see only records of the ids they asked for, redacted, whatever Verify sends.
    #[tokio::test]
    async fn odd_search_answers_are_handled_on_purpose() {
        let t = env().await;
        let (id, _) = t.start("447700900530").await;
        let (id2, _) = t.start("447700900531").await;
        let foreign = "f".repeat(32);
        let record = |rid: Option<&str>| {
            let mut r = json!({"status": "SUCCESS", "number": "447700900530",
                "account_id": "testkey1", "checks": [{"code": "1234", "ip_address": "198.51.100.7", "status": "VALID"}]});
            if let Some(rid) = rid {
                r["request_id"] = json!(rid);
            }
            r
        };
        let single = json!({"request_id": id}).to_string();
        let both = json!({"request_ids": [id, id2]}).to_string();
        let cases = [
            (&single, json!({}), 502, "5"),
            (&single, record(None), 200, "SUCCESS"),
            (&single, record(Some(&id)), 200, "SUCCESS"),
            (&single, record(Some(&foreign)), 502, "5"),
            (&both, record(None), 502, "5"),
            (&single, json!({"verification_requests": []}), 404, "101"),
            (
                &both,
                json!({"verification_requests": [record(Some(&foreign))]}),
                404,
                "101",
            ),
            (
                &both,
                json!({"verification_requests": [record(Some(&foreign)), record(Some(&id2)), record(None)]}),
                200,
                "many",
            ),
            (&single, json!({"status": "101"}), 404, "101"),
        ];
        for (req, body, http, status) in cases {
            t.fault(json!({"path": "/verify/search/json", "body": body, "times": 1}))
                .await;
            let r = handle(post_json(req), &t.deps).await.unwrap();
            assert_eq!(r.status(), http, "{req} <- {body}");
            let answer = json_of(&r);
            let text = answer.to_string();
            assert!(
                !text.contains(&foreign)
                    && !text.contains("447700900530")
                    && !text.contains("198.51.100.7")
                    && !text.contains("testkey1")
                    && !text.contains("1234"),
                "{body}: {answer}"
            );
            match status {
                "many" => {
                    let ids: Vec<&str> = answer["verification_requests"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r["request_id"].as_str().unwrap())
                        .collect();
                    assert_eq!(ids, [id2.as_str()], "only what was asked for");
                }
                s => {
                    assert_eq!(answer["status"], s, "{body}: {answer}");
                    if http == 200 {
                        assert_eq!(answer["request_id"], id.as_str(), "the id asked for");
                        assert_eq!(answer["number"], "+44*******530");
                    } else {
                        assert!(answer["error_text"].as_str().is_some_and(|t| !t.is_empty()));
                    }
                }
            }
        }
    }

    /// Verify's own limits, on: 1 search a second (429 + Retry-After) and no record for a
    /// minute after completion (404, Verify's 101).
    #[tokio::test]
    async fn verify_search_limits_reach_the_caller_as_429_and_404() {
        let t = env().await;
        t.sim.set_limits(testkit::Limits::REAL);
        let (id, code) = t.start("447700900540").await;
        let req = || post_json(&json!({"request_id": id}).to_string());
        let r = handle(req(), &t.deps).await.unwrap();
        assert_eq!(r.status(), 200);
        let r = handle(req(), &t.deps).await.unwrap();
        assert_eq!(r.status(), 429);
        assert_eq!(r.headers()["retry-after"], "1");
        assert_eq!(json_of(&r)["status"], "1");
        t.advance(1).await;
        assert_eq!(t.check_upstream(&id, &code).await["status"], "0");
        let r = handle(req(), &t.deps).await.unwrap();
        assert_eq!(r.status(), 404, "Verify's 101 right after completion");
        assert_eq!(json_of(&r)["status"], "101");
        t.advance(60).await;
        let r = handle(req(), &t.deps).await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(json_of(&r)["status"], "SUCCESS");
    }
}
