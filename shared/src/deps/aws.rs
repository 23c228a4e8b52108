//! The AWS side of start-up: one SDK configuration per instance (SSM and DynamoDB share it,
//! and its timeouts), and one `GetParameters` for every secret named by an SSM parameter.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};

use super::InitError;

/// A connection (TCP and TLS) that is not up by then will not be: try again elsewhere.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// A slow SSM or DynamoDB fails the call long before API Gateway's 29 s.
pub const OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
/// `GetParameters` takes at most ten names.
const MAX_NAMES: usize = 10;

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

/// The values of these parameters, decrypted, by name; all of them or an error naming the
/// missing ones. No call when there are none.
pub async fn parameters(
    ssm: Option<&aws_sdk_ssm::Client>,
    names: &[&str],
) -> Result<BTreeMap<String, String>, InitError> {
    let mut values = BTreeMap::new();
    if names.is_empty() {
        return Ok(values);
    }
    let ssm = ssm.ok_or_else(|| InitError::Ssm("no AWS configuration".into()))?;
    for chunk in names.chunks(MAX_NAMES) {
        let out = ssm
            .get_parameters()
            .set_names(Some(chunk.iter().map(|n| n.to_string()).collect()))
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                InitError::Ssm(format!(
                    "{}: {}",
                    chunk.join(", "),
                    aws_sdk_ssm::error::DisplayErrorContext(e)
                ))
            })?;
        if !out.invalid_parameters().is_empty() {
            return Err(InitError::Ssm(format!(
                "no such parameter: {}",
                out.invalid_parameters().join(", ")
            )));
        }
        for p in out.parameters() {
            if let (Some(name), Some(value)) = (p.name(), p.value()) {
                values.insert(name.to_string(), value.to_string());
            }
        }
    }
    match names.iter().find(|n| !values.contains_key(**n)) {
        Some(missing) => Err(InitError::Ssm(format!("{missing} has no value"))),
        None => Ok(values),
    }
}
