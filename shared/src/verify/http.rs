//! The HTTP client both Verify faces use.

use std::time::Duration;

/// The HTTP client both faces use: the whole call bounded by `timeout`, connecting by at most
/// 3 s of it, idle connections kept 50 s (Lambda keeps the instance warm between calls).
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!("verify-proxy/", env!("CARGO_PKG_VERSION")))
        .build()
}
