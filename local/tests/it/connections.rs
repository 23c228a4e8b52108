//! The local server under connection floods, as found: 20,000 idle connections made it stop
//! answering until they closed, and nothing bounded how slowly a request head may arrive. A
//! client that sends its request is served through both.

use std::time::Duration;

use serde_json::json;
use shared::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: usize = 64;

async fn server() -> String {
    let running = local::start_with(
        ([127, 0, 0, 1], 0).into(),
        Config::default(),
        local::Upstream::Simulator {
            seed: Some(5),
            limits: local::Limits::OFF,
        },
        None,
        local::Serving {
            max_connections: LIMIT,
            header_timeout: Duration::from_secs(1),
        },
    )
    .await
    .expect("start");
    running.addr.to_string()
}

/// An honest client: a fresh connection, its request sent at once.
async fn honest_start(addr: &str, number: &str) -> u16 {
    let c = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let r = c
        .post(format!("http://{addr}/request"))
        .json(&json!({ "number": number }))
        .send()
        .await
        .expect("the honest request is answered");
    r.status().as_u16()
}

#[tokio::test]
async fn an_idle_connection_flood_does_not_keep_a_request_out() {
    let addr = server().await;
    // Eight times the limit, held open and silent for the whole test.
    let mut idle = Vec::new();
    for _ in 0..8 * LIMIT {
        idle.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    assert_eq!(honest_start(&addr, "+447700900811").await, 200);
    assert_eq!(honest_start(&addr, "+447700900812").await, 200);
    drop(idle);
}

#[tokio::test]
async fn a_slowloris_does_not_keep_a_request_out_and_is_cut_off() {
    let addr = server().await;
    // Twice the limit, each trickling its head a byte at a time, never finishing it.
    let mut slow = Vec::new();
    for _ in 0..2 * LIMIT {
        let mut s = TcpStream::connect(&addr).await.expect("connect");
        s.write_all(b"POST /request HTTP/1.1\r\nHost: x\r\n")
            .await
            .expect("write");
        slow.push(s);
    }
    let trickle = tokio::spawn(async move {
        for _ in 0..15 {
            for s in slow.iter_mut() {
                let _ = s.write_all(b"X").await;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        slow
    });
    assert_eq!(honest_start(&addr, "+447700900813").await, 200);
    // Past the 1 s head timeout every trickler is closed by the server (evicted or timed out).
    let mut slow = trickle.await.expect("trickle");
    for s in slow.iter_mut() {
        let mut buf = [0u8; 512];
        let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
        match read {
            Ok(Ok(n)) => assert!(n == 0 || buf.starts_with(b"HTTP/1.1 408"), "{n} bytes"),
            Ok(Err(_)) => {} // reset
            Err(_) => panic!("a slow head was still open after 4 s"),
        }
    }
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_the_head_timeout() {
    let addr = server().await;
    let mut s = TcpStream::connect(&addr).await.expect("connect");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await;
    assert!(
        matches!(read, Ok(Ok(0)) | Ok(Err(_))),
        "closed, not left open"
    );
}
