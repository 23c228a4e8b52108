//! Verify v1 rules: Transport (methods, formats, paths) and credentials, over real HTTP.

use crate::common::{KEY, SECRET, start};
use serde_json::{Value, json};

// ---- transport: methods, formats, paths ---------------------------------------------------

#[tokio::test]
async fn accepts_get_query_post_form_and_post_json() {
    let s = start().await;
    let get: Value = s
        .http
        .get(format!(
            "{}/verify/json?api_key={KEY}&api_secret={SECRET}&number=447700900010&brand=Acme",
            s.base
        ))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["status"], "0", "{get}");

    let form = s
        .call(
            "/verify/json",
            &[("number", "447700900011"), ("brand", "Acme")],
        )
        .await;
    assert_eq!(form["status"], "0", "{form}");

    let resp = s
        .http
        .post(format!("{}/verify/json", s.base))
        .json(&json!({"api_key": KEY, "api_secret": SECRET, "number": "447700900012", "brand": "Acme", "code_length": 6}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["content-type"], "application/json");
    assert_eq!(resp.headers()["x-content-type-options"], "nosniff");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "0", "{body}");
    let id = body["request_id"].as_str().unwrap();
    assert_eq!(id.len(), 32);
    assert!(
        id.chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(
        s.last_code(id).await.len(),
        6,
        "code_length 6 from a JSON number"
    );
}

#[tokio::test]
async fn other_methods_are_403_and_unknown_paths_404() {
    let s = start().await;
    for m in ["PUT", "DELETE", "PATCH"] {
        let r = s
            .http
            .request(m.parse().unwrap(), format!("{}/verify/check/json", s.base))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "{m}");
    }
    for p in ["/verify", "/verify/nope/json", "/"] {
        let r = s.http.get(format!("{}{p}", s.base)).send().await.unwrap();
        assert_eq!(r.status(), 404, "{p}");
    }
    let head = s
        .http
        .head(format!("{}/verify/json", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
}

#[tokio::test]
async fn post_with_parameters_only_in_query_is_400() {
    let s = start().await;
    let r = s
        .http
        .post(format!(
            "{}/verify/json?api_key={KEY}&api_secret={SECRET}",
            s.base
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

#[tokio::test]
async fn bare_post_is_missing_api_key() {
    let s = start().await;
    let r = s.raw_form("/verify/json", &[]).await;
    assert_eq!(r, json!({"status": "2", "error_text": "Missing api_key"}));
}

// ---- credentials ----------------------------------------------------------------------------

#[tokio::test]
async fn credentials_rules() {
    let s = start().await;
    let r = s.raw_form("/verify/check/json", &[("api_key", KEY)]).await;
    assert_eq!(r["status"], "2");
    assert_eq!(
        r["error_text"],
        "Your request is incomplete and missing some mandatory parameters"
    );
    let r = s
        .raw_form(
            "/verify/search/json",
            &[("api_key", KEY), ("api_secret", "wrong")],
        )
        .await;
    assert_eq!(r["status"], "4");
    let swapped = s
        .raw_form(
            "/verify/control/json",
            &[("api_key", SECRET), ("api_secret", KEY)],
        )
        .await;
    assert_eq!(swapped["status"], "4");
    // Basic auth and credentials in the query string with a form body.
    let basic: Value = s
        .http
        .post(format!("{}/verify/json", s.base))
        .basic_auth(KEY, Some(SECRET))
        .form(&[("number", "447700900020"), ("brand", "Acme")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(basic["status"], "0", "{basic}");
    let query: Value = s
        .http
        .post(format!(
            "{}/verify/json?api_key={KEY}&api_secret={SECRET}",
            s.base
        ))
        .form(&[("number", "447700900021"), ("brand", "Acme")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(query["status"], "0", "{query}");
}
