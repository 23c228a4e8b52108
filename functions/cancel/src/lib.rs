//! `POST /cancel {"request_id" | "requestId"}`: cancels a verification (Verify allows it only
//! between 30 s after the start and the second delivery attempt).

use shared::verify::Command;
use shared::verify::types::ControlRequest;
use shared::{Config, Endpoint, Fields, ProxyError};

pub struct Cancel;

impl Endpoint for Cancel {
    const NAME: &'static str = "cancel";
    type Input = ControlRequest;

    fn parse(fields: &Fields, _config: &Config) -> Result<ControlRequest, ProxyError> {
        Ok(ControlRequest {
            request_id: fields.request_id()?,
            cmd: Command::Cancel,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::{Body, Request, Response};
    use shared::Deps;

    async fn handle(req: Request, deps: &Deps) -> Result<Response<Body>, std::convert::Infallible> {
        shared::handle::<Cancel>(req, deps).await
    }
    use testkit::{env, json_of, post_form, post_json};

    #[tokio::test]
    async fn cancel_follows_the_30_second_rule() {
        let t = env().await;
        let (id, _) = t.start("447700900301").await;
        let body = format!(r#"{{"request_id":"{id}"}}"#);
        let early = handle(post_json(&body), &t.deps).await.unwrap();
        assert_eq!(early.status(), 409);
        assert_eq!(json_of(&early)["status"], "19");
        t.advance(31).await;
        let ok = handle(post_form(&format!("requestId={id}")), &t.deps)
            .await
            .unwrap();
        assert_eq!(ok.status(), 200);
        assert_eq!(
            json_of(&ok),
            serde_json::json!({"status": "0", "command": "cancel"})
        );
        let again = handle(post_json(&body), &t.deps).await.unwrap();
        assert_eq!(again.status(), 404);
        assert_eq!(json_of(&again)["status"], "6");
    }

    #[tokio::test]
    async fn cancel_after_the_second_event_is_409() {
        let t = env().await;
        let (id, _) = t.start("447700900302").await;
        t.advance(126).await;
        let r = handle(post_json(&format!(r#"{{"request_id":"{id}"}}"#)), &t.deps)
            .await
            .unwrap();
        assert_eq!(r.status(), 409);
        assert!(
            json_of(&r)["error_text"]
                .as_str()
                .unwrap()
                .contains("Too many attempts")
        );
    }

    #[tokio::test]
    async fn missing_or_bad_id_is_400() {
        let t = env().await;
        for body in [r#"{}"#, r#"{"request_id":"xyz"}"#, r#"{"request_id":42}"#] {
            let r = handle(post_json(body), &t.deps).await.unwrap();
            assert_eq!(r.status(), 400, "{body}");
        }
    }
}
