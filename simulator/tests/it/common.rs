//! Helpers shared by the simulator's HTTP tests: a simulator on a free loopback port.

#![allow(dead_code)]

use serde_json::Value;
use verify_sim::{Account, Limits, SimConfig, Simulator};

pub const KEY: &str = "abcd1234";
pub const SECRET: &str = "s3cret-value";

pub struct Sim {
    pub sim: Simulator,
    pub base: String,
    pub http: reqwest::Client,
}

pub async fn start() -> Sim {
    start_with(SimConfig {
        accounts: vec![
            Account {
                api_key: KEY.into(),
                api_secret: SECRET.into(),
                pin_code_enabled: false,
            },
            Account {
                api_key: "pinacct".into(),
                api_secret: "pinsecret".into(),
                pin_code_enabled: true,
            },
        ],
        seed: Some(42),
        ticker: true,
        // Verify's rate limits and search gap have their own tests (limits.rs).
        limits: Limits::OFF,
        applications: Vec::new(),
        callbacks: None,
        network_unblock: false,
    })
    .await
}

pub async fn start_with(config: SimConfig) -> Sim {
    let sim = Simulator::new(config);
    let addr = sim
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("bind loopback");
    Sim {
        sim,
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
    }
}

impl Sim {
    /// POSTs a form with the test account's credentials added.
    pub async fn call(&self, path: &str, params: &[(&str, &str)]) -> Value {
        let mut form: Vec<(&str, &str)> = vec![("api_key", KEY), ("api_secret", SECRET)];
        form.extend_from_slice(params);
        self.raw_form(path, &form).await
    }

    pub async fn raw_form(&self, path: &str, form: &[(&str, &str)]) -> Value {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .form(form)
            .send()
            .await
            .expect("send");
        assert_eq!(
            resp.status(),
            200,
            "Verify answers business errors with 200"
        );
        assert_eq!(
            resp.headers()["content-type"],
            "application/json",
            "content type as on the real API"
        );
        resp.json().await.expect("json body")
    }

    pub async fn start_verification(&self, number: &str) -> String {
        let r = self
            .call("/verify/json", &[("number", number), ("brand", "AcmeApp")])
            .await;
        assert_eq!(r["status"], "0", "{r}");
        r["request_id"].as_str().expect("request_id").to_string()
    }

    pub async fn messages(&self, request_id: &str) -> Vec<Value> {
        let r: Value = self
            .http
            .get(format!(
                "{}/_sim/messages?request_id={request_id}",
                self.base
            ))
            .send()
            .await
            .expect("send")
            .json()
            .await
            .expect("json");
        r["messages"].as_array().cloned().unwrap_or_default()
    }

    pub async fn last_code(&self, request_id: &str) -> String {
        let msgs = self.messages(request_id).await;
        msgs.last().expect("a message")["code"]
            .as_str()
            .expect("code")
            .to_string()
    }

    pub async fn advance(&self, seconds: u64) {
        let r = self
            .http
            .post(format!("{}/_sim/clock/advance", self.base))
            .json(&serde_json::json!({ "seconds": seconds }))
            .send()
            .await
            .expect("send");
        assert_eq!(r.status(), 200);
    }

    pub async fn search_status(&self, request_id: &str) -> String {
        let r = self
            .call("/verify/search/json", &[("request_id", request_id)])
            .await;
        r["status"].as_str().unwrap_or_default().to_string()
    }
}
