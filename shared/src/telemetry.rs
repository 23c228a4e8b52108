//! Structured JSON logs (one line per invocation is written by the handler).

/// The default filter: our lines at info, the AWS SDK's chatter only when it matters.
pub const DEFAULT_FILTER: &str = "info,aws_config=warn,aws_smithy_runtime=warn";

/// Initialises JSON logging; `RUST_LOG` overrides the level. Safe to call twice.
pub fn init() {
    init_with(DEFAULT_FILTER);
}

/// As [`init`], with another default filter when `RUST_LOG` is unset.
pub fn init_with(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter));
    let _ = tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init();
}
