//! `verify-sim`: run the Verify v1 and v2 simulator on loopback.
//!
//! verify-sim [--listen 127.0.0.1:8090] [--account KEY:SECRET[:pin_code]]... [--seed N]
//!            [--no-limits] [--no-ticker] [--network-unblock]
//!            [--application ID:PUBLIC_KEY_PEM_FILE[:API_KEY]]...

use std::net::SocketAddr;

use verify_sim::v2::auth::Application;
use verify_sim::{Account, Limits, SimConfig, Simulator};

const USAGE: &str = "usage: verify-sim [options]
  --listen ADDR           where to listen (default 127.0.0.1:8090; port 0 for any)
  --account KEY:SECRET[:pin_code]
                          an account (repeatable; default test-key:test-secret); pin_code lets it
                          send its own codes
  --application ID:PEM_FILE[:API_KEY]
                          a v2 application whose RS256 JWTs are accepted, with its public key in
                          PEM_FILE, owned by API_KEY (default: the first account)
  --seed N                PINs and request ids repeat run to run
  --no-limits             without Verify's 30 calls/s, 1 search/s and search's blind minute
  --no-ticker             events fire only when a call or the outbox asks (for load tests)
  --network-unblock       the accounts may call the Network Unblock API (off on real accounts)
  --help                  this text";

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let (addr, config) = match parse_args(std::env::args().skip(1)) {
        Ok(v) => v,
        Err(msg) if msg == "help" => {
            println!("{USAGE}");
            return;
        }
        Err(msg) => {
            eprintln!("verify-sim: {msg}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let keys: Vec<String> = config.accounts.iter().map(|a| a.api_key.clone()).collect();
    let sim = Simulator::new(config);
    let bound = match sim.spawn(addr).await {
        Ok(a) => a,
        Err(e) => {
            eprintln!("verify-sim: cannot listen on {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!(
        "verify-sim listening on http://{bound}/verify/json (accounts: {})",
        keys.join(", ")
    );
    println!(
        "outbox: http://{bound}/_sim/messages   clock: POST http://{bound}/_sim/clock/advance"
    );
    let _ = tokio::signal::ctrl_c().await;
}

fn parse_args(args: impl Iterator<Item = String>) -> Result<(SocketAddr, SimConfig), String> {
    let mut addr: SocketAddr = ([127, 0, 0, 1], 8090).into();
    let mut accounts = Vec::new();
    let mut seed = None;
    let mut ticker = true;
    let mut limits = Limits::REAL;
    let mut network_unblock = false;
    let mut applications = Vec::new();
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--listen" => addr = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--no-ticker" => ticker = false,
            "--no-limits" => limits = Limits::OFF,
            "--network-unblock" => network_unblock = true,
            "--help" | "-h" => return Err("help".into()),
            "--application" => {
                let v = value()?;
                let mut parts = v.splitn(3, ':');
                let (Some(id), Some(file)) = (parts.next(), parts.next()) else {
                    return Err("--application takes ID:PUBLIC_KEY_PEM_FILE[:API_KEY]".into());
                };
                let pem = std::fs::read_to_string(file)
                    .map_err(|e| format!("--application: cannot read {file}: {e}"))?;
                if !pem.contains("BEGIN PUBLIC KEY") {
                    return Err(format!("--application: {file} holds no PEM public key"));
                }
                applications.push((id.to_string(), pem, parts.next().map(String::from)));
            }
            "--seed" => seed = Some(value()?.parse().map_err(|e| format!("--seed: {e}"))?),
            "--account" => {
                let v = value()?;
                let mut parts = v.splitn(3, ':');
                let (Some(k), Some(s)) = (parts.next(), parts.next()) else {
                    return Err("--account takes KEY:SECRET".into());
                };
                accounts.push(Account {
                    api_key: k.into(),
                    api_secret: s.into(),
                    pin_code_enabled: parts.next() == Some("pin_code"),
                });
            }
            other => return Err(format!("unknown argument {other}")),
        }
    }
    let mut config = SimConfig {
        seed,
        ticker,
        limits,
        network_unblock,
        ..SimConfig::default()
    };
    if !accounts.is_empty() {
        config.accounts = accounts;
    }
    let owner = config.accounts[0].api_key.clone();
    config.applications = applications
        .into_iter()
        .map(|(id, public_key_pem, key)| Application {
            id,
            api_key: key.unwrap_or_else(|| owner.clone()),
            public_key_pem,
        })
        .collect();
    Ok((addr, config))
}
