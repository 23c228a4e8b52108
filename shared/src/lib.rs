//! Shared by the verify-proxy Lambda functions and the local server.
//!
//! Import rule (nothing imports upward; no loops between modules or folders):
//!
//! ```text
//! error, log  <-  verify/  <-  guard/  <-  config  <-  caller/  <-  deps, metrics  <-  endpoint, events, jwks
//! ```
//!
//! - `error`: every failure; `log`: JSON logging and masking.
//! - `verify/`: Vonage's side (values, typed calls, client, secrets, test numbers).
//! - `guard/`: stateful abuse limits (rules, decisions, a `Store` with memory and DynamoDB).
//! - `config`: this deployment's settings.
//! - `caller/`: our side of the wire (fields, policy, the one status table, responses).
//! - `deps`: what a function needs, built once; `metrics`: CloudWatch EMF lines.
//! - `endpoint`: the pipeline each function runs (`Endpoint` + `serve`); `events`: v2's signed
//!   status callbacks; `jwks`: the token keys' endpoint.

pub mod caller;
pub mod config;
pub mod deps;
pub mod endpoint;
pub mod error;
pub mod events;
pub mod guard;
pub mod jwks;
pub mod log;
pub mod metrics;
pub mod verify;

pub use caller::{Fields, Reply};
pub use config::Config;
pub use deps::Deps;
pub use endpoint::{Endpoint, handle, serve};
pub use error::{ProxyError, UpstreamError};
pub use verify::{Credentials, Secrets, VerifyClient};
