//! Test helpers for the endpoint crates: a seeded simulator on loopback, `Deps` pointing at
//! it, and builders for the `http::Request`s API Gateway would hand a function.

use std::sync::Arc;

use lambda_http::{Body, Request, Response};
use serde_json::Value;
pub use verify_sim::Limits;
use verify_sim::{Account, Application, SimConfig, Simulator};

use shared::config::VerifyApi;
use shared::guard::store::memory::MemoryStore;
use shared::guard::{AnyStore, FakeClock, Guard, Hasher};
use shared::verify::Number;
use shared::{Config, Deps, Secrets};

pub const KEY: &str = "testkey1";
pub const SECRET: &str = "test-secret-value";
/// A Vonage application the simulator knows, with a throwaway key pair made for tests.
pub const APP_ID: &str = "0f4f3b6a-1d2c-4e5f-8a9b-0c1d2e3f4a5b";
pub const APP_PRIVATE_PEM: &str =
    include_str!("../../simulator/tests/fixtures/test-only-app-private.pem");
const APP_PUBLIC_PEM: &str =
    include_str!("../../simulator/tests/fixtures/test-only-app-public.pem");

pub struct TestEnv {
    pub sim: Simulator,
    pub base: String,
    pub deps: Deps,
    /// The guard's clock; `advance` moves it with the simulator's.
    pub clock: FakeClock,
    http: reqwest::Client,
}

pub async fn env() -> TestEnv {
    env_with(Config::default()).await
}

/// A simulator plus `Deps` using `config` (its base URL is replaced by the simulator's).
pub async fn env_with(config: Config) -> TestEnv {
    env_with_secrets(config, Secrets::fixed(KEY, SECRET)).await
}

/// The same over Verify v2 (Basic auth with the key and secret).
pub async fn env_v2(mut config: Config) -> TestEnv {
    config.verify.api = VerifyApi::V2;
    env_with(config).await
}

/// Over Verify v2 with application JWTs (the simulator knows [`APP_ID`]'s public key).
pub async fn env_v2_app(mut config: Config) -> TestEnv {
    config.verify.api = VerifyApi::V2;
    env_with_secrets(config, Secrets::application(APP_ID, APP_PRIVATE_PEM)).await
}

pub async fn env_with_secrets(mut config: Config, secrets: Secrets) -> TestEnv {
    let sim = Simulator::new(SimConfig {
        accounts: vec![Account {
            api_key: KEY.into(),
            api_secret: SECRET.into(),
            pin_code_enabled: false,
        }],
        seed: Some(7),
        ticker: true,
        // Off unless a test turns them on (`sim.set_limits`): most tests search right after
        // a check, which Verify itself answers with 101 for a minute.
        limits: Limits::OFF,
        applications: vec![Application {
            id: APP_ID.into(),
            api_key: KEY.into(),
            public_key_pem: APP_PUBLIC_PEM.into(),
        }],
        callbacks: None,
        network_unblock: false,
    });
    let addr = sim
        .spawn(([127, 0, 0, 1], 0).into())
        .await
        .expect("bind loopback");
    let base = format!("http://{addr}");
    let clock = FakeClock::at(sim.clock().now_ms());
    let guard = Guard::new(
        config.guard.policy.clone(),
        AnyStore::Memory(MemoryStore::new()),
        Hasher::new(b"test-key-0123456789").expect("key"),
        Arc::new(clock.clone()),
        config.guard.fail_open,
    );
    config.verify.base_url = base.clone();
    let deps = Deps::with_guard(config, secrets, guard)
        .and_then(Deps::with_generated_token)
        .expect("deps");
    TestEnv {
        sim,
        base,
        deps,
        clock,
        http: reqwest::Client::new(),
    }
}

/// The request as API Gateway hands it over from the caller at `ip`.
pub fn from_ip(mut req: Request, ip: &str) -> Request {
    use lambda_http::aws_lambda_events::apigw::ApiGatewayProxyRequestContext;
    let mut context = ApiGatewayProxyRequestContext::default();
    context.identity.source_ip = Some(ip.to_string());
    req.extensions_mut()
        .insert(lambda_http::request::RequestContext::ApiGatewayV1(context));
    req
}

pub fn post_json(body: &str) -> Request {
    post("application/json", body)
}

pub fn post_form(body: &str) -> Request {
    post("application/x-www-form-urlencoded", body)
}

pub fn post(content_type: &str, body: &str) -> Request {
    lambda_http::http::Request::builder()
        .method("POST")
        .header("content-type", content_type)
        .body(Body::from(body.to_string()))
        .expect("request")
}

pub fn json_of(resp: &Response<Body>) -> Value {
    serde_json::from_slice(resp.body().as_ref()).expect("JSON body")
}

impl TestEnv {
    /// The last PIN the simulator "sent" for a request.
    pub async fn last_code(&self, request_id: &str) -> String {
        let msgs = self.messages(request_id).await;
        msgs.last()
            .and_then(|m| m["code"].as_str())
            .expect("a message with a code")
            .to_string()
    }

    pub async fn messages(&self, request_id: &str) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!(
                "{}/_sim/messages?request_id={request_id}",
                self.base
            ))
            .send()
            .await
            .expect("outbox")
            .json()
            .await
            .expect("outbox JSON");
        v["messages"].as_array().cloned().unwrap_or_default()
    }

    pub async fn all_messages(&self) -> usize {
        let v: Value = self
            .http
            .get(format!("{}/_sim/messages", self.base))
            .send()
            .await
            .expect("outbox")
            .json()
            .await
            .expect("json");
        v["messages"].as_array().map_or(0, Vec::len)
    }

    /// Starts a verification directly on the simulator, recorded by the guard as one this
    /// deployment started (as `/request` would); returns (request_id, code).
    pub async fn start(&self, number: &str) -> (String, String) {
        let v: Value = self
            .http
            .post(format!("{}/verify/json", self.base))
            .form(&[
                ("api_key", KEY),
                ("api_secret", SECRET),
                ("number", number),
                ("brand", "Test"),
            ])
            .send()
            .await
            .expect("start")
            .json()
            .await
            .expect("start JSON");
        let id = v["request_id"].as_str().expect("request_id").to_string();
        self.record(number, &id).await;
        let code = self.last_code(&id).await;
        (id, code)
    }

    /// Checks a code directly on the simulator (not through the proxy).
    pub async fn check_upstream(&self, id: &str, code: &str) -> Value {
        self.http
            .post(format!("{}/verify/check/json", self.base))
            .form(&[
                ("api_key", KEY),
                ("api_secret", SECRET),
                ("request_id", id),
                ("code", code),
            ])
            .send()
            .await
            .expect("check")
            .json()
            .await
            .expect("check JSON")
    }

    /// Tells the guard this deployment started `id` for `number` (as `/request` does).
    pub async fn record(&self, number: &str, id: &str) {
        let number = Number::parse(number).expect("number");
        let subject = self.deps.guard.subject(&number, None);
        let admitted = shared::guard::Admitted::unguarded();
        self.deps.guard.started(&subject, &admitted, id).await;
    }

    /// The simulator's view of a request (PIN, wrong attempts, status).
    pub async fn inspect(&self, request_id: &str) -> Value {
        self.http
            .get(format!("{}/_sim/requests/{request_id}", self.base))
            .send()
            .await
            .expect("inspect")
            .json()
            .await
            .expect("inspect JSON")
    }

    pub async fn advance(&self, seconds: u64) {
        self.sim.clock().advance_secs(seconds);
        self.clock.advance_ms(seconds as i64 * 1000);
        self.sim.tick();
    }

    /// Adds a simulator fault, e.g. `{"path":"/verify/json","status":"15"}`.
    pub async fn fault(&self, fault: Value) {
        let r = self
            .http
            .post(format!("{}/_sim/faults", self.base))
            .json(&fault)
            .send()
            .await
            .expect("fault");
        assert_eq!(r.status(), 200);
    }
}

/// A guard whose DynamoDB store cannot be reached (nothing listens on port 1).
pub fn unreachable_guard(fail_open: bool) -> Guard {
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(aws_sdk_dynamodb::config::Region::new("eu-west-1"))
        .endpoint_url("http://127.0.0.1:1")
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "test",
        ))
        .build();
    let store = shared::guard::store::dynamo::DynamoStore::new(
        aws_sdk_dynamodb::Client::from_conf(conf),
        "verify-proxy-guard",
    );
    Guard::new(
        shared::guard::Policy::default(),
        AnyStore::Dynamo(store),
        Hasher::new(b"unreachable-store-key").expect("key"),
        Arc::new(FakeClock::at(0)),
        fail_open,
    )
}

/// Serves `body` as JSON to every GET on a loopback port (a JWKS endpoint in tests); the body
/// can be changed and the hits counted. Returns the URL.
pub struct JsonServer {
    pub url: String,
    pub body: Arc<std::sync::Mutex<String>>,
    pub hits: Arc<std::sync::atomic::AtomicUsize>,
}

pub async fn serve_json(body: String) -> JsonServer {
    use std::sync::atomic::Ordering;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .expect("bind loopback");
    let url = format!("http://{}/jwks", listener.local_addr().expect("addr"));
    let body = Arc::new(std::sync::Mutex::new(body));
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (b, h) = (body.clone(), hits.clone());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            let text = b.lock().map(|s| s.clone()).unwrap_or_default();
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
                    text.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
            });
        }
    });
    JsonServer { url, body, hits }
}

/// An App Check-like signer: an ES256 key made for the test, its JWK (with `kid`), and tokens
/// with whatever claims a test wants.
pub struct AppKeys {
    pub kid: String,
    key: jsonwebtoken::EncodingKey,
    pub jwk: jsonwebtoken::jwk::Jwk,
}

impl AppKeys {
    pub fn new(kid: &str) -> Self {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let der =
            EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                .expect("generate");
        let key = jsonwebtoken::EncodingKey::from_ec_der(der.as_ref());
        let mut jwk =
            jsonwebtoken::jwk::Jwk::from_encoding_key(&key, jsonwebtoken::Algorithm::ES256)
                .expect("jwk");
        jwk.common.key_id = Some(kid.into());
        Self {
            kid: kid.into(),
            key,
            jwk,
        }
    }

    pub fn jwks(keys: &[&AppKeys]) -> String {
        serde_json::json!({ "keys": keys.iter().map(|k| &k.jwk).collect::<Vec<_>>() }).to_string()
    }

    /// A token with these claims, `kid` as given (a test may lie about it).
    pub fn token(&self, kid: &str, claims: &Value) -> String {
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(kid.into());
        jsonwebtoken::encode(&header, claims, &self.key).expect("sign")
    }
}

/// Seconds since the epoch.
pub fn now_s() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}
