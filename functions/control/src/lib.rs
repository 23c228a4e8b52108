//! `POST /control {"request_id", "cmd": "cancel" | "trigger_next_event"}`: Verify's control
//! call, e.g. "resend now" (trigger_next_event skips the wait before the next attempt).

use shared::verify::Command;
use shared::verify::types::ControlRequest;
use shared::{Config, Endpoint, Fields, ProxyError};

pub struct Control;

impl Endpoint for Control {
    const NAME: &'static str = "control";
    type Input = ControlRequest;

    fn parse(fields: &Fields, _config: &Config) -> Result<ControlRequest, ProxyError> {
        Ok(ControlRequest {
            request_id: fields.request_id()?,
            cmd: Command::parse(fields.get(&["cmd"]))?,
        })
    }

    /// `trigger_next_event` sends the next message.
    fn delivers(input: &ControlRequest) -> bool {
        input.cmd == shared::verify::Command::TriggerNextEvent
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::{Body, Request, Response};
    use shared::Deps;

    async fn handle(req: Request, deps: &Deps) -> Result<Response<Body>, std::convert::Infallible> {
        shared::handle::<Control>(req, deps).await
    }
    use serde_json::json;
    use testkit::{env, json_of, post_json};

    #[tokio::test]
    async fn trigger_next_event_until_none_left() {
        let t = env().await;
        let (id, _) = t.start("447700900401").await;
        let body = json!({"request_id": id, "cmd": "trigger_next_event"}).to_string();
        // A trigger is another delivery: not within 60 s of the start or the last trigger.
        let r = handle(post_json(&body), &t.deps).await.unwrap();
        assert_eq!(r.status(), 429, "{}", json_of(&r));
        assert_eq!(json_of(&r)["status"], "1");
        for _ in 0..2 {
            t.advance(61).await;
            let r = handle(post_json(&body), &t.deps).await.unwrap();
            assert_eq!(r.status(), 200, "{}", json_of(&r));
            assert_eq!(
                json_of(&r),
                json!({"status": "0", "command": "trigger_next_event"})
            );
        }
        assert_eq!(
            t.messages(&id).await.len(),
            3,
            "each trigger delivered once"
        );
        t.advance(61).await;
        let r = handle(post_json(&body), &t.deps).await.unwrap();
        assert_eq!(r.status(), 409);
        assert_eq!(json_of(&r)["status"], "19");
    }

    #[tokio::test]
    async fn cancel_through_control() {
        let t = env().await;
        let (id, _) = t.start("447700900402").await;
        t.advance(40).await;
        let r = handle(
            post_json(&json!({"requestId": id, "cmd": "cancel"}).to_string()),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(t.inspect(&id).await["status"], "CANCELLED");
    }

    #[tokio::test]
    async fn bad_commands_are_400_before_upstream() {
        let t = env().await;
        let (id, _) = t.start("447700900403").await;
        for (body, status) in [
            (json!({"request_id": id, "cmd": "resend"}), "3"),
            (json!({"request_id": id}), "2"),
            (json!({"cmd": "cancel"}), "2"),
        ] {
            let r = handle(post_json(&body.to_string()), &t.deps).await.unwrap();
            assert_eq!(r.status(), 400, "{body}");
            assert_eq!(json_of(&r)["status"], status);
        }
        assert_eq!(t.messages(&id).await.len(), 1);
    }

    #[tokio::test]
    async fn control_of_unknown_request_is_404() {
        let t = env().await;
        let r = handle(
            post_json(
                r#"{"request_id":"0123456789abcdef0123456789abcdef","cmd":"trigger_next_event"}"#,
            ),
            &t.deps,
        )
        .await
        .unwrap();
        assert_eq!(r.status(), 404);
    }

    /// A success without `command` still names it (Node-proxy clients read it); `{}` or an
    /// upstream 2/3 is ours to fix (502), never the caller's.
    #[tokio::test]
    async fn odd_control_answers_are_handled_on_purpose() {
        let t = env().await;
        let cases = [
            (json!({"status": "0"}), "cancel", 200, "0"),
            (json!({"status": "0"}), "trigger_next_event", 200, "0"),
            (json!({}), "cancel", 502, "5"),
            (json!({"status": "19"}), "cancel", 409, "19"),
            // A success naming the other command did not do what was asked.
            (
                json!({"status": "0", "command": "trigger_next_event"}),
                "cancel",
                502,
                "5",
            ),
            (json!({"status": "42"}), "cancel", 502, "5"),
            (
                json!({"status": "3", "error_text": "Invalid value for param: cmd"}),
                "cancel",
                502,
                "3",
            ),
        ];
        for (i, (body, cmd, http, status)) in cases.into_iter().enumerate() {
            let (id, _) = t.start(&format!("4477009004{i:02}")).await;
            t.advance(61).await; // past the guard's resend gap
            t.fault(json!({"path": "/verify/control/json", "body": body, "times": 1}))
                .await;
            let req = post_json(&json!({"request_id": id, "cmd": cmd}).to_string());
            let r = handle(req, &t.deps).await.unwrap();
            assert_eq!(r.status(), http, "{body}");
            let answer = json_of(&r);
            assert_eq!(answer["status"], status, "{body}");
            if http == 200 {
                assert_eq!(answer["command"], cmd, "{answer}");
            } else {
                assert!(answer["error_text"].as_str().is_some_and(|t| !t.is_empty()));
            }
        }
    }
}
