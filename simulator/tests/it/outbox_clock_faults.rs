//! The simulator's own controls: outbox, clock, fault injection and deterministic mode.

use std::time::{Duration, Instant};

use crate::common::start;
use serde_json::{Value, json};

#[tokio::test]
async fn outbox_records_sms_text_by_number() {
    let s = start().await;
    let id = s.start_verification("447700900300").await;
    let r: Value = s
        .http
        .get(format!(
            "{}/_sim/messages?number=%2B44%207700%20900300",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let m = &r["messages"][0];
    assert_eq!(m["to"], "447700900300");
    assert_eq!(m["channel"], "sms");
    assert_eq!(m["request_id"], id.as_str());
    let code = m["code"].as_str().unwrap();
    assert_eq!(
        m["text"],
        format!("AcmeApp code: {code}. Valid for 5 minutes.")
    );
}

#[tokio::test]
async fn clock_endpoint_reports_and_rejects_bad_input() {
    let s = start().await;
    let bad = s
        .http
        .post(format!("{}/_sim/clock/advance", s.base))
        .json(&json!({"seconds": "soon"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    s.advance(3600).await;
    assert!(clock_offset(&s).await >= 3_600_000);
}

#[tokio::test]
async fn the_hooks_refuse_what_a_foreign_page_can_send() {
    // Attack: a page the developer visits posts to the local server's hooks; moving the
    // clock resets every limit of the guard, a callback hook redirects v2's events.
    let s = start().await;
    let url = format!("{}/_sim/clock/advance", s.base);
    let host = s.base.trim_start_matches("http://").to_string();
    let cases = [
        (
            Some("https://evil.example"),
            "application/json",
            r#"{"seconds":86400}"#,
            403,
        ),
        (
            Some("null"),
            "application/json",
            r#"{"seconds":86400}"#,
            403,
        ),
        (
            None,
            "application/x-www-form-urlencoded",
            "seconds=86400",
            415,
        ),
        (None, "text/plain", r#"{"seconds":86400}"#, 415),
    ];
    for (origin, content_type, body, want) in cases {
        let mut req = s
            .http
            .post(&url)
            .header("content-type", content_type)
            .body(body);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), want, "{origin:?} {content_type}");
        let answer: Value = r.json().await.unwrap();
        assert!(answer["error"].as_str().is_some(), "a JSON reason");
    }
    let r = s
        .http
        .post(format!("{url}?seconds=86400"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        415,
        "an empty body with the query: a form's action URL"
    );
    assert_eq!(clock_offset(&s).await, 0, "the clock did not move");
    // The simulator's own pages (same origin) and tools (no Origin) still can.
    let own = s
        .http
        .post(&url)
        .header("origin", format!("http://{host}"))
        .json(&json!({"seconds": 60}))
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    s.advance(60).await;
    assert!(clock_offset(&s).await >= 120_000);
}

async fn clock_offset(s: &crate::common::Sim) -> i64 {
    let c: Value = s
        .http
        .get(format!("{}/_sim/clock", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    c["offset_ms"].as_i64().unwrap()
}

#[tokio::test]
async fn inspect_shows_the_pin() {
    let s = start().await;
    let id = s.start_verification("447700900301").await;
    let r: Value = s
        .http
        .get(format!("{}/_sim/requests/{id}", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["pin"].as_str().unwrap(), s.last_code(&id).await);
}

async fn add_fault(s: &crate::common::Sim, fault: Value) {
    let r = s
        .http
        .post(format!("{}/_sim/faults", s.base))
        .json(&fault)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
}

#[tokio::test]
async fn faults_latency_status_and_times() {
    let s = start().await;
    add_fault(
        &s,
        json!({"path": "/verify/json", "latency_ms": 300, "throttle": true, "times": 1}),
    )
    .await;
    let t = Instant::now();
    let r = s
        .call(
            "/verify/json",
            &[("number", "447700900310"), ("brand", "A")],
        )
        .await;
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(r, json!({"status": "1", "error_text": "Throttled"}));
    // Consumed: the next call is normal, and the throttled one sent nothing.
    let ok = s
        .call(
            "/verify/json",
            &[("number", "447700900310"), ("brand", "A")],
        )
        .await;
    assert_eq!(ok["status"], "0");
    assert_eq!(
        s.messages(ok["request_id"].as_str().unwrap()).await.len(),
        1
    );

    add_fault(
        &s,
        json!({"path": "/verify/json", "status": "7", "times": 1}),
    )
    .await;
    let blocked = s
        .call(
            "/verify/json",
            &[("number", "447700900311"), ("brand", "A")],
        )
        .await;
    assert_eq!(blocked["status"], "7");
    assert_eq!(blocked["network"], "310260");
    assert!(blocked.get("request_id").is_none());
}

#[tokio::test]
async fn faults_http_malformed_and_drop() {
    let s = start().await;
    let url = format!("{}/verify/check/json", s.base);
    add_fault(
        &s,
        json!({"path": "/verify/check/json", "http_status": 503, "times": 1}),
    )
    .await;
    let r = s.http.post(&url).form(&[("a", "b")]).send().await.unwrap();
    assert_eq!(r.status(), 503);

    add_fault(
        &s,
        json!({"path": "/verify/check/json", "malformed": true, "times": 1}),
    )
    .await;
    let r = s.http.post(&url).form(&[("a", "b")]).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(serde_json::from_str::<Value>(&r.text().await.unwrap()).is_err());

    add_fault(&s, json!({"path": "*", "drop": true, "times": 1})).await;
    let outcome = match s.http.post(&url).form(&[("a", "b")]).send().await {
        Err(_) => Err(()),
        Ok(r) => r.bytes().await.map(|_| ()).map_err(|_| ()),
    };
    assert!(outcome.is_err(), "the connection must break");

    let listed: Value = s
        .http
        .get(format!("{}/_sim/faults", s.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed["faults"], json!([]), "all faults consumed");
    let bad = s
        .http
        .post(format!("{}/_sim/faults", s.base))
        .json(&json!({"path": "*", "bogus": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}

#[tokio::test]
async fn faults_can_be_cleared() {
    let s = start().await;
    add_fault(&s, json!({"path": "*", "status": "5"})).await;
    assert_eq!(
        s.call("/verify/search/json", &[("request_id", "x")]).await["status"],
        "5"
    );
    s.http
        .delete(format!("{}/_sim/faults", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(
        s.call("/verify/search/json", &[("request_id", "x")]).await["status"],
        "101"
    );
}

#[tokio::test]
async fn seeded_simulators_are_deterministic() {
    let a = start().await;
    let b = start().await;
    let id_a = a.start_verification("447700900320").await;
    let id_b = b.start_verification("447700900320").await;
    assert_eq!(id_a, id_b);
    assert_eq!(a.last_code(&id_a).await, b.last_code(&id_b).await);
}

#[tokio::test]
async fn fixtures_create_known_requests() {
    let s = start().await;
    let id = "abcdef0123456789abcdef0123456789";
    let url = format!("{}/_sim/requests", s.base);
    let r = s
        .http
        .post(&url)
        .json(&json!({"request_id": id, "number": "+447700900000", "pin": "1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let again = s
        .http
        .post(&url)
        .json(&json!({"request_id": id, "number": "447700900009", "pin": "1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 409);
    let bad = s
        .http
        .post(&url)
        .json(&json!({"request_id": "XYZ", "number": "447700900008", "pin": "1234"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 409);
    assert_eq!(s.last_code(id).await, "1234");
    let wrong = s
        .call(
            "/verify/check/json",
            &[("request_id", id), ("code", "9999")],
        )
        .await;
    assert_eq!(wrong["status"], "16");
    let ok = s
        .call(
            "/verify/check/json",
            &[("request_id", id), ("code", "1234")],
        )
        .await;
    assert_eq!(ok["status"], "0");
}
