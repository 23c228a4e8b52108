//! `cargo run -p local`: the whole proxy on http://127.0.0.1:3000 with no AWS, Docker or
//! Vonage account (`VERIFY_API=v2` for Verify v2). Set VERIFY_API_KEY/VERIFY_API_SECRET (or,
//! for v2, VERIFY_APPLICATION_ID/VERIFY_PRIVATE_KEY) to use an external Verify API instead
//! (Vonage's unless VERIFY_BASE_URL names another).

use local::config::LocalConfig;
use local::{Limits, Upstream, start_with};
use shared::config::{Env, Secret, VerifyApi, observe};

#[tokio::main]
async fn main() {
    let env = Env::process();
    let local = match LocalConfig::from_env(&env) {
        Ok(l) => l,
        Err(e) => return fail(&e.to_string()),
    };
    // The simulator's outbox lines carry PINs and numbers: readable at /_sim/messages, and
    // logged only on request (SIM_LOG_OUTBOX=1), so the proxy's own logs stay clean.
    shared::log::init_with(&observe::log_levels(&env), local.show_outbox);
    let config = match shared::Config::from_env(&env) {
        Ok(c) => c,
        Err(e) => return fail(&e.to_string()),
    };
    let api = match config.verify.api {
        VerifyApi::V1 => "Verify v1".to_string(),
        VerifyApi::V2 => format!(
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
    let upstream = if config.secrets.vonage.is_some() {
        match shared::deps::vonage_secrets(&config).await {
            Ok(secrets) => Upstream::Real(secrets),
            Err(e) => return fail(&e.to_string()),
        }
    } else {
        Upstream::Simulator {
            seed: local.sim_seed,
            limits: local.sim_limits,
        }
    };
    // An SSM name means nothing on a developer's machine: a value, or the kept key.
    let configured = match &config.token.key {
        None => None,
        Some(Secret::Value(pem)) => Some(pem.clone()),
        Some(Secret::Param(_)) => {
            return fail("TOKEN_KEY_PARAM is for Lambda: set TOKEN_PRIVATE_KEY or nothing");
        }
    };
    let token_pem = match token_key(configured, &local.state_dir) {
        Ok(pem) => pem,
        Err(e) => return fail(&format!("token key: {e}")),
    };
    let addr = local.listen;
    let running = match start_with(addr, config, upstream, Some(&token_pem), local.serving).await {
        Ok(r) => r,
        Err(e) => return fail(&format!("cannot start on {addr}: {e}")),
    };
    let base = format!("http://{}", running.addr);
    println!("verify-proxy local server on {base}");
    println!("  try it:    open {base}/ in a browser");
    println!("  endpoints: POST {base}/request | /check | /cancel | /search | /control");
    println!("  api:       {api}");
    println!(
        "  admin:     verify-proxy-admin --local {base} --token {} explain NUMBER",
        running.admin_token
    );
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
fn token_key(from_env: Option<String>, dir: &std::path::Path) -> Result<String, String> {
    if let Some(pem) = from_env {
        return Ok(pem);
    }
    let path = dir.join("token-key.pem");
    if let Ok(pem) = std::fs::read_to_string(&path) {
        return Ok(pem);
    }
    let pem = shared::caller::TokenSigner::generate_pem()?;
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
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
