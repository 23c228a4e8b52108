//! The AWS side of start-up: one SDK configuration per instance (SSM and DynamoDB share it,
//! and its timeouts), and one `GetParameters` for every secret named by an SSM parameter.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

use super::InitError;
use crate::verify::secrets;

/// A connection (TCP and TLS) that is not up by then will not be: try again elsewhere.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A slow SSM or DynamoDB fails the call long before API Gateway's 29 s.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);

/// The SDK's loader with our timeouts; the rest (region, credentials, `AWS_ENDPOINT_URL_*`)
/// comes from where the SDK always looks. Tests add an endpoint to it.
pub fn loader() -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest()).timeout_config(
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build(),
    )
}

pub async fn sdk_config() -> SdkConfig {
    loader().load().await
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
