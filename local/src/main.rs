//! `cargo run -p local`: the whole proxy on http://127.0.0.1:3000 with no AWS, Docker or
//! Vonage account (`VERIFY_API=v2` for Verify v2). Set VERIFY_API_KEY/VERIFY_API_SECRET (or,
//! for v2, VERIFY_APPLICATION_ID/VERIFY_PRIVATE_KEY) to use an external Verify API instead
//! (Vonage's unless VERIFY_BASE_URL names another).

use std::net::SocketAddr;

use local::{Limits, Upstream, start};

#[tokio::main]
async fn main() {
    let env = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    // The simulator's outbox lines carry PINs and numbers: readable at /_sim/messages, and
    // logged only on request (SIM_LOG_OUTBOX=1), so the proxy's own logs stay clean.
    shared::log::init_with(env("SIM_LOG_OUTBOX").is_some_and(|v| v == "1"));
    let addr: SocketAddr = match env("LISTEN")
        .unwrap_or_else(|| "127.0.0.1:3000".into())
        .parse()
    {
        Ok(a) => a,
        Err(e) => return fail(&format!("LISTEN: {e}")),
    };
    let config = match shared::Config::from_env() {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let api = match config.verify_api {
        shared::config::VerifyApi::V1 => "Verify v1".to_string(),
        shared::config::VerifyApi::V2 => format!(
            "Verify v2, channels {}",
            config
                .v2
                .channels
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>()
                .join(" > ")
        ),
    };
    // Any Vonage credentials in the environment mean an external Verify API.
    let external = [
        "VERIFY_API_KEY",
        "VERIFY_APPLICATION_ID",
        "VERIFY_API_KEY_PARAM",
    ]
    .iter()
    .any(|n| env(n).is_some());
    let upstream = if external {
        match shared::Secrets::from_env().await {
            Ok(secrets) => Upstream::Real(secrets),
            Err(e) => return fail(&e.to_string()),
        }
    } else {
        Upstream::Simulator {
            seed: env("SIM_SEED").and_then(|s| s.parse().ok()),
            limits: match env("SIM_LIMITS").as_deref() {
                None | Some("real") => Limits::REAL,
                Some("off") => Limits::OFF,
                Some(other) => return fail(&format!("SIM_LIMITS: {other:?} is not real or off")),
            },
        }
    };
    let token_pem = match token_key(env("TOKEN_PRIVATE_KEY"), env("LOCAL_STATE_DIR")) {
        Ok(pem) => pem,
        Err(e) => return fail(&format!("token key: {e}")),
    };
    let running = match start(addr, config, upstream, Some(&token_pem)).await {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start on {addr}: {e}")),
    };
    let base = format!("http://{}", running.addr);
    println!("verify-proxy local server on {base}");
    println!("  try it:    open {base}/ in a browser");
    println!("  endpoints: POST {base}/request | /check | /cancel | /search | /control");
    println!("  api:       {api}");
    println!(
        "  tokens:    GET  {base}/.well-known/jwks.json   (verifies /check's verification_token)"
    );
    match running.simulator {
        Some(sim) => {
            println!("  upstream:  embedded Verify simulator (no SMS leaves this machine)");
            if api.starts_with("Verify v2") {
                println!(
                    "  events:    the simulator's signed status callbacks go to {base}/events"
                );
            }
            println!("  outbox:    {base}/_sim/messages   (PINs \"sent\" by the simulator)");
            let l = sim.limits();
            if l == Limits::OFF {
                println!("  limits:    Verify's own rate limits off (SIM_LIMITS=off)");
            } else {
                println!(
                    "  limits:    Verify's own: {} calls/s, {} search/s, search blind {} s after completion",
                    l.requests_per_second.unwrap_or(0),
                    l.searches_per_second.unwrap_or(0),
                    l.search_hidden_after_completion_s
                );
            }
        }
        None => println!("  upstream:  external Verify API at {}", running.base_url),
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// `TOKEN_PRIVATE_KEY`, else the key in `LOCAL_STATE_DIR` (default `.verify-proxy/`),
/// generated on the first start and kept, so tokens stay verifiable across restarts.
fn token_key(from_env: Option<String>, dir: Option<String>) -> Result<String, String> {
    if let Some(pem) = from_env {
        return Ok(pem);
    }
    let dir = std::path::PathBuf::from(dir.unwrap_or_else(|| ".verify-proxy".into()));
    let path = dir.join("token-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(pem);
    }
    let pem = shared::caller::TokenSigner::generate_pem()?;
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    write_private(&path, &pem).map_err(|e| format!("{}: {e}", path.display()))?;
    println!(
        "verify-proxy local: generated a token signing key in {}",
        path.display()
    );
    Ok(pem)
}

/// Owner-only (0600) where the platform has permissions.
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path)?.write_all(text.as_bytes())
}

fn fail(msg: &str) {
    eprintln!("verify-proxy local: {msg}");
    std::process::exit(1);
}
