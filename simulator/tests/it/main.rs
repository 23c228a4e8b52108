//! The simulator over HTTP on port 0, as the proxy and the contract tests see it.
//! One test binary for the crate: each file below is a module.

mod check;
mod common;
mod control;
mod http_surface;
mod network;
mod outbox_clock_faults;
mod rate_limits;
mod search;
mod start;
mod v2;
mod workflows;
