//! `verify-proxy-admin`: wiring only (`admin::backend` reads, `admin::words` prints).

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "verify-proxy-admin",
    version,
    about = "The operator's side of verify-proxy's guard"
)]
struct Cli {
    /// The local server's URL (its admin route), e.g. http://127.0.0.1:3000
    #[arg(long, requires = "token")]
    local: Option<String>,
    /// The local server's admin token (its banner prints it)
    #[arg(long)]
    token: Option<String>,
    /// The deployment's guard table (default: GUARD_TABLE)
    #[arg(long, conflicts_with = "local")]
    table: Option<String>,
    /// The SSM parameter holding the guard's HMAC key (default: GUARD_HMAC_KEY_PARAM)
    #[arg(long, conflicts_with = "local")]
    key_param: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// What the guard holds about NUMBER and which rules refuse a start to it now
    Explain {
        /// The number, in any international notation
        number: String,
        /// Print the JSON instead of plain words
        #[arg(long)]
        json: bool,
    },
    /// Lift NUMBER's own refusals (resend cooldowns, the owner's hold, its hourly and daily
    /// start counts; not a segment's block nor a budget), with an audit record
    Unlock {
        number: String,
        /// Why (kept in the audit record)
        #[arg(long)]
        reason: String,
        /// Who (default: $USER)
        #[arg(long)]
        by: Option<String>,
    },
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let cli = Cli::parse();
    let env = shared::config::Env::process();
    let backend = match (&cli.local, &cli.token) {
        (Some(url), Some(token)) => Ok(admin::Backend::local(url, token)),
        _ => admin::Backend::table(&env, cli.table.clone(), cli.key_param.clone()).await,
    };
    let result = match (backend, &cli.command) {
        (Ok(b), Command::Explain { number, json }) => b.explain(number).await.map(|v| match json {
            true => serde_json::to_string_pretty(&v).unwrap_or_default(),
            false => admin::words::explain(&v),
        }),
        (Ok(b), Command::Unlock { number, reason, by }) => {
            let by = by
                .clone()
                .or_else(|| env.plain("USER"))
                .unwrap_or_else(|| "operator".into());
            b.unlock(number, &by, reason)
                .await
                .map(|v| serde_json::to_string_pretty(&v).unwrap_or_default())
        }
        (Err(e), _) => Err(e),
    };
    match result {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("verify-proxy-admin: {e}");
            std::process::exit(1);
        }
    }
}
