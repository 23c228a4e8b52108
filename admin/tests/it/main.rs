//! `verify-proxy-admin` as an operator runs it, against the local server on port 0 with a
//! state made by real traffic; and the admin route's refusals over HTTP.

use std::process::Command;

use serde_json::{Value, json};
use shared::Config;

async fn server() -> local::Running {
    local::start(
        ([127, 0, 0, 1], 0).into(),
        Config::default(),
        local::Upstream::Simulator {
            seed: Some(9),
            limits: local::Limits::OFF,
        },
        None,
    )
    .await
    .expect("start")
}

/// Runs the binary (off the test's runtime, which serves the local server meanwhile):
/// whether it succeeded, its stdout and stderr.
async fn admin(args: &[&str]) -> (bool, String, String) {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = Command::new(env!("CARGO_BIN_EXE_verify-proxy-admin"))
            .args(&args)
            .output()
            .expect("run verify-proxy-admin");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    })
    .await
    .expect("join")
}

/// `explain NUMBER [extra]` against the local server `s`.
async fn explain(s: &local::Running, number: &str, extra: &[&str]) -> (bool, String, String) {
    let base = format!("http://{}", s.addr);
    let mut args = vec![
        "--local",
        &base,
        "--token",
        &s.admin_token,
        "explain",
        number,
    ];
    args.extend_from_slice(extra);
    admin(&args).await
}

#[tokio::test]
async fn explain_says_why_a_number_is_refused_without_printing_it() {
    let s = server().await;
    let base = format!("http://{}", s.addr);
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}/request"))
        .json(&json!({"number": "+447819912345"}))
        .send()
        .await
        .expect("start");
    assert_eq!(r.status(), 200);
    // Any notation of the number.
    let (ok, out, err) = explain(&s, "0044 7819 912345", &[]).await;
    assert!(ok, "{err}");
    assert!(out.contains("+44*******345"), "{out}");
    assert!(
        out.contains("number_cooldown [enforce]") && out.contains("refused now by"),
        "{out}"
    );
    assert!(out.contains("number_per_hour [enforce]: 1 of 5"), "{out}");
    assert!(
        out.contains("spend_per_day [enforce]: EUR 0.30 of EUR 100.00"),
        "{out}"
    );
    assert!(!out.contains("7819912345") && !err.contains("7819912345"));
    let (ok, out, _) = explain(&s, "+447819912346", &["--json"]).await;
    assert!(ok);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v["cooldown_until"],
        Value::Null,
        "a neighbour number is not held"
    );
    assert!(
        v["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["refuses"] == false)
    );
}

#[tokio::test]
async fn the_admin_route_wants_its_token_and_no_browser() {
    let s = server().await;
    let url = format!("http://{}/_admin/explain", s.addr);
    let http = reqwest::Client::new();
    let body = json!({"number": "+447819912345"});
    let status = |r: reqwest::Response| r.status().as_u16();
    let no_token = http.post(&url).json(&body).send().await.unwrap();
    assert_eq!(status(no_token), 401);
    let wrong = http
        .post(&url)
        .bearer_auth("0123")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(status(wrong), 401);
    let page = http
        .post(&url)
        .bearer_auth(&s.admin_token)
        .header("origin", "https://evil.example")
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(
        status(page),
        403,
        "a browser is refused even with the token"
    );
    let bad = http
        .post(&url)
        .bearer_auth(&s.admin_token)
        .json(&json!({"number": "+44 7819 (0)912345"}))
        .send()
        .await
        .unwrap();
    assert_eq!(status(bad), 400);
    let ok = http
        .post(&url)
        .bearer_auth(&s.admin_token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(status(ok), 200);
    // The CLI without a backend names what it needs.
    let (ok, _, err) = admin(&["explain", "+447819912345"]).await;
    assert!(!ok && err.contains("GUARD_TABLE"), "{err}");
}

#[tokio::test]
async fn unlock_lets_the_same_user_start_again_at_once() {
    let s = server().await;
    let base = format!("http://{}", s.addr);
    let http = reqwest::Client::new();
    let start = || async {
        http.post(format!("{base}/request"))
            .json(&json!({"number": "+447819912399"}))
            .header("content-type", "application/json")
            .send()
            .await
            .expect("start")
    };
    let first: Value = start().await.json().await.unwrap();
    let id = first["request_id"].as_str().unwrap().to_string();
    // The user gave up on that code: the app cancels it (after Verify's 30 s), and asks again.
    http.post(format!("{base}/_sim/clock/advance"))
        .json(&json!({"seconds": 31}))
        .send()
        .await
        .unwrap();
    let cancel = http
        .post(format!("{base}/cancel"))
        .json(&json!({"request_id": id}))
        .send()
        .await
        .unwrap();
    assert_eq!(cancel.status(), 200);
    assert_eq!(start().await.status(), 429, "the resend cooldown holds it");
    let (ok, out, err) = admin(&[
        "--local",
        &base,
        "--token",
        &s.admin_token,
        "unlock",
        "+44 7819 912399",
        "--reason",
        "support ticket 42",
        "--by",
        "ops@example",
    ])
    .await;
    assert!(ok, "{err}");
    let done: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        done["cooldowns"].as_array().map(Vec::len),
        Some(1),
        "{done}"
    );
    assert!(done["audit"].as_str().unwrap().starts_with("audit:"));
    assert_eq!(start().await.status(), 200, "in right after the unlock");
    let (ok, _, err) = admin(&[
        "--local",
        &base,
        "--token",
        &s.admin_token,
        "unlock",
        "+447819912399",
    ])
    .await;
    assert!(
        !ok && err.contains("--reason"),
        "a reason is required: {err}"
    );
}
