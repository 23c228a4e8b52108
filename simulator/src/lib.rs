//! An offline simulator of Vonage's Verify APIs (v1 and v2), faithful to their parameters,
//! limits, status codes and workflows, with an outbox, a controllable clock and fault
//! injection. `docs/verify-v1.md` and `docs/verify-v2.md` (in the repository) describe the
//! behaviour it reproduces;
//! `simulator/spec/` holds the official OpenAPI descriptions its answers are checked against.

pub mod clock;
pub mod engine;
pub mod faults;
mod hooks;
pub mod limits;
pub mod network;
mod network_api;
pub mod numbers;
pub mod params;
mod reply;
pub mod server;
pub mod state;
pub mod v2;

pub use engine::Account;
pub use faults::Fault;
pub use limits::Limits;
pub use state::{SimConfig, Simulator};
pub use v2::auth::Application;
pub use v2::callbacks::CallbackTarget;
