//! Logging: JSON lines, one per invocation (written by `endpoint::serve`), and masking so no
//! full phone number ever reaches a log line.
//!
//! The level comes from `AWS_LAMBDA_LOG_LEVEL` (Lambda's advanced logging controls) first, then
//! `RUST_LOG`, then `info`. Whatever the user asks for, a fixed safety filter is applied after
//! it (both must pass): at trace/debug the Lambda runtime logs raw events (numbers and codes) and
//! the AWS SDK logs response bodies (the decrypted secret), so those crates are capped. A more
//! specific user directive cannot lift the cap, because it is a second filter, not a directive.

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::{EnvFilter, FilterExt, Targets};
use tracing_subscriber::layer::{Filter, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{Layer, Registry};

/// Crates that log payloads at their verbose levels, and how far they may go.
const CAPS: &[(&str, LevelFilter)] = &[
    ("lambda_runtime", LevelFilter::INFO),
    ("lambda_runtime_api_client", LevelFilter::INFO),
    ("lambda_http", LevelFilter::INFO),
    ("aws_config", LevelFilter::WARN),
    ("aws_smithy", LevelFilter::WARN),
    ("aws_sdk", LevelFilter::WARN),
    ("aws_runtime", LevelFilter::WARN),
    ("hyper", LevelFilter::INFO),
    ("hyper_util", LevelFilter::INFO),
    ("reqwest", LevelFilter::INFO),
    ("h2", LevelFilter::INFO),
    ("rustls", LevelFilter::INFO),
];

/// The simulator's outbox lines carry PINs and numbers.
pub const SIM_OUTBOX_TARGET: &str = "verify_sim::outbox";

/// The levels asked for (`AWS_LAMBDA_LOG_LEVEL`, then `RUST_LOG`; read by `config::observe`).
#[derive(Debug, Clone, Default)]
pub struct LogLevels {
    pub lambda: Option<String>,
    pub rust_log: Option<String>,
}

/// Initialises JSON logging for a Lambda function. Safe to call twice.
pub fn init(levels: &LogLevels) {
    init_with(levels, false);
}

/// As [`init`]; `show_sim_outbox` lets the simulator's outbox lines through (local server with
/// `SIM_LOG_OUTBOX=1`).
pub fn init_with(levels: &LogLevels, show_sim_outbox: bool) {
    let filter = filter(
        levels.lambda.as_deref(),
        levels.rust_log.as_deref(),
        show_sim_outbox,
    );
    let layer = tracing_subscriber::fmt::layer()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_filter(filter);
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// The user's filter AND the safety caps.
pub fn filter(
    lambda_level: Option<&str>,
    rust_log: Option<&str>,
    show_sim_outbox: bool,
) -> impl Filter<Registry> + Send + Sync + 'static {
    let user = lambda_level
        .and_then(lambda_level_filter)
        .map(|level| EnvFilter::default().add_directive(level.into()))
        .or_else(|| rust_log.and_then(|v| EnvFilter::try_new(v).ok()))
        .unwrap_or_else(|| EnvFilter::new("info"));
    let mut safety = Targets::new().with_default(LevelFilter::TRACE);
    for (target, level) in CAPS {
        safety = safety.with_target(*target, *level);
    }
    if !show_sim_outbox {
        safety = safety.with_target(SIM_OUTBOX_TARGET, LevelFilter::OFF);
    }
    user.and(safety)
}

/// Lambda's level names (`TRACE` .. `FATAL`); anything else is ignored.
fn lambda_level_filter(v: &str) -> Option<LevelFilter> {
    Some(match v.trim().to_ascii_uppercase().as_str() {
        "TRACE" => LevelFilter::TRACE,
        "DEBUG" => LevelFilter::DEBUG,
        "INFO" => LevelFilter::INFO,
        "WARN" => LevelFilter::WARN,
        "ERROR" | "FATAL" => LevelFilter::ERROR,
        _ => return None,
    })
}

/// `447700900123` or `+447700900123` -> `+44*******123`.
pub fn mask_number(n: &str) -> String {
    let digits: Vec<char> = n.chars().filter(|c| c.is_ascii_digit()).collect();
    if digits.len() < 7 {
        return "+***".to_string();
    }
    let head: String = digits[..2].iter().collect();
    let tail: String = digits[digits.len() - 3..].iter().collect();
    format!("+{head}{}{tail}", "*".repeat(digits.len() - 5))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing::Subscriber;
    use tracing_subscriber::layer::Context;

    #[test]
    fn masks_all_but_edges() {
        assert_eq!(mask_number("447700900123"), "+44*******123");
        assert_eq!(mask_number("+1 555 010 9999"), "+15******999");
        assert_eq!(mask_number("123"), "+***");
    }

    /// Records the target of every event that passes the filter.
    #[derive(Clone, Default)]
    struct Seen(Arc<Mutex<Vec<String>>>);

    impl<S: Subscriber> Layer<S> for Seen {
        fn on_event(&self, e: &tracing::Event<'_>, _: Context<'_, S>) {
            if let Ok(mut v) = self.0.lock() {
                v.push(e.metadata().target().to_string());
            }
        }
    }

    fn passing(lambda: Option<&str>, rust_log: Option<&str>, outbox: bool) -> Vec<String> {
        let seen = Seen::default();
        let subscriber = tracing_subscriber::registry()
            .with(seen.clone().with_filter(filter(lambda, rust_log, outbox)));
        tracing::subscriber::with_default(subscriber, || {
            tracing::trace!(target: "lambda_runtime::runtime", "raw event");
            tracing::debug!(target: "aws_smithy_runtime::client::orchestrator", "response body");
            tracing::info!(target: "verify_sim::outbox", "outbox: code 1234");
            tracing::debug!(target: "shared::endpoint", "ours at debug");
            tracing::info!(target: "shared::endpoint", "invocation");
        });
        seen.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    #[test]
    fn safety_caps_hold_whatever_the_user_asks() {
        let seen = passing(None, Some("trace"), false);
        assert_eq!(seen, vec!["shared::endpoint", "shared::endpoint"]);
        // More specific directives than the caps do not lift them either.
        let rust_log =
            "info,lambda_runtime=trace,aws_smithy_runtime::client=trace,verify_sim=trace";
        assert_eq!(
            passing(None, Some(rust_log), false),
            vec!["shared::endpoint"]
        );
        let seen = passing(Some("TRACE"), None, false);
        assert_eq!(seen, vec!["shared::endpoint", "shared::endpoint"]);
    }

    #[test]
    fn lambda_level_wins_over_rust_log_and_outbox_is_opt_in() {
        assert_eq!(
            passing(Some("ERROR"), Some("trace"), false),
            Vec::<String>::new()
        );
        assert_eq!(passing(Some("bogus"), Some("warn"), false).len(), 0);
        assert_eq!(
            passing(None, None, true),
            vec!["verify_sim::outbox", "shared::endpoint"]
        );
    }
}
