//! Shared by the verify-proxy Lambda functions and the local server: the Verify v1 client,
//! the Verify-status -> HTTP mapping, request parsing and validation, secrets, logging and
//! the one handler skeleton every endpoint runs through.

pub mod client;
pub mod config;
pub mod deps;
pub mod error;
pub mod fields;
pub mod handler;
pub mod mask;
pub mod response;
pub mod secrets;
pub mod status;
pub mod telemetry;
pub mod test_numbers;
pub mod types;
pub mod validate;

pub use client::VerifyClient;
pub use config::Config;
pub use deps::Deps;
pub use error::{ProxyError, UpstreamError};
pub use fields::Fields;
pub use handler::{Endpoint, Reply, serve};
pub use secrets::{Credentials, Secrets};

#[cfg(feature = "testing")]
pub mod testing;
