//! `verify-sim`: run the Verify v1 and v2 simulator on loopback.
//!
//! verify-sim [--listen 127.0.0.1:8090] [--account KEY:SECRET[:pin_code]]... [--seed N]
//!            [--no-limits]

use std::net::SocketAddr;

use verify_sim::{Account, Limits, SimConfig, Simulator};

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let (addr, config) = match parse_args(std::env::args().skip(1)) {
        Ok(v) => v,
        Err(msg) => {
            eprintln!(
                "verify-sim: {msg}\nusage: verify-sim [--listen ADDR] [--account KEY:SECRET[:pin_code]]... [--seed N] [--no-limits]"
            );
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
    let mut args = args.peekable();
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--listen" => addr = value()?.parse().map_err(|e| format!("--listen: {e}"))?,
            "--no-ticker" => ticker = false,
            "--no-limits" => limits = Limits::OFF,
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
        ..SimConfig::default()
    };
    if !accounts.is_empty() {
        config.accounts = accounts;
    }
    Ok((addr, config))
}
