//! The HTTP client every outbound call of ours uses (both Verify faces, the App Check keys).

use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;

/// A client whose whole call is bounded by `timeout`, connecting by at most 3 s of it, idle
/// connections kept 50 s (Lambda keeps the instance warm between calls). It trusts the root
/// certificates compiled in (webpki-roots), not the system's: building the system's store reads
/// and parses every file in /etc/ssl/certs at start-up, which at Lambda's CPU share is tens of
/// milliseconds of a cold start, for the same public roots Vonage's and Google's hosts chain to.
/// `extra_roots` are trusted too (`TLS_EXTRA_ROOTS_FILE`).
pub fn http_client(
    timeout: Duration,
    extra_roots: &[CertificateDer<'static>],
) -> Result<reqwest::Client, reqwest::Error> {
    let builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(3)))
        .pool_idle_timeout(Duration::from_secs(50))
        .user_agent(concat!("verify-proxy/", env!("CARGO_PKG_VERSION")));
    match bundled_roots(extra_roots) {
        Some(tls) => builder.tls_backend_preconfigured(tls),
        // Only if the TLS library refused its own safe defaults: its built-in behaviour.
        None => builder,
    }
    .build()
}

/// rustls over aws-lc-rs with Mozilla's roots, HTTP/1.1.
fn bundled_roots(extra: &[CertificateDer<'static>]) -> Option<rustls::ClientConfig> {
    let mut roots =
        rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let (_, unusable) = roots.add_parsable_certificates(extra.iter().cloned());
    if unusable > 0 {
        tracing::warn!(
            unusable,
            "TLS_EXTRA_ROOTS_FILE: certificates that are not usable roots"
        );
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Some(config)
}
