//! An offline simulator of Vonage's Verify API v1, faithful to its parameters, limits,
//! status codes and workflows, with an outbox, a controllable clock and fault injection.
//! See `../shared/reference/verify-v1.md` for the behaviour it reproduces.

pub mod clock;
pub mod engine;
pub mod faults;
pub mod numbers;
pub mod params;
pub mod server;

pub use engine::Account;
pub use faults::Fault;
pub use server::{SimConfig, Simulator};
