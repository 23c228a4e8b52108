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
    use shared::testing::{env, json_of, post_form, post_json};

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
}
