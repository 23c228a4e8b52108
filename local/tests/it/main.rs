//! The local server and the handlers over the embedded simulator, black-box on port 0.
//! One test binary for the crate: each file below is a module.

mod connections;
mod events;
mod server;
mod v2;
