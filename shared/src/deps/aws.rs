//! The AWS side of start-up: one SDK configuration per instance (SSM and DynamoDB share it,
//! and its timeouts), and one `GetParameters` for every secret named by an SSM parameter.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_ssm::config::SharedHttpClient;
use aws_smithy_http_client::Builder;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use rustls::pki_types::CertificateDer;

use super::InitError;
use crate::verify::secrets;

/// A connection (TCP and TLS) that is not up by then will not be: try again elsewhere.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A slow SSM or DynamoDB fails the call long before API Gateway's 29 s.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// The SDK's loader with our timeouts and our HTTPS client; the rest (region, credentials,
/// `AWS_ENDPOINT_URL_*`) comes from where the SDK always looks. Tests add an endpoint to it.
pub fn loader(extra_roots: &[CertificateDer<'static>]) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .operation_timeout(OPERATION_TIMEOUT)
                .build(),
        )
        .http_client(https_client(extra_roots))
}

pub async fn sdk_config(extra_roots: &[CertificateDer<'static>]) -> SdkConfig {
    loader(extra_roots).load().await
}

/// rustls over aws-lc-rs trusting the compiled-in roots (and `extra_roots`), as our own
/// clients do: the SDK's default reads and parses the system's store at the first connection.
fn https_client(extra_roots: &[CertificateDer<'static>]) -> SharedHttpClient {
    use base64::Engine;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut pem = String::new();
    for cert in webpki_root_certs::TLS_SERVER_ROOT_CERTS
        .iter()
        .chain(extra_roots)
    {
        pem.push_str("-----BEGIN CERTIFICATE-----\n");
        pem.push_str(&b64.encode(cert.as_ref()));
        pem.push_str("\n-----END CERTIFICATE-----\n");
    }
    let store = tls::TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(pem.into_bytes());
    let builder = Builder::new().tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc));
    match tls::TlsContext::builder().with_trust_store(store).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        // Cannot happen with these inputs; the SDK's own trust store then.
        Err(_) => builder.build_https(),
    }
}

/// The values of these parameters, decrypted, by name (see [`parameters`](crate::verify::secrets::parameters));
/// no call when there are none.
pub async fn parameters(
    ssm: Option<&aws_sdk_ssm::Client>,
    names: &[&str],
) -> Result<BTreeMap<String, String>, InitError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
    }
    let ssm = ssm.ok_or_else(|| InitError::Ssm("no AWS configuration".into()))?;
    Ok(secrets::parameters(ssm, names).await?)
}
