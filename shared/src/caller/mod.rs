//! Our side of the wire: reading what the caller sent, this deployment's policy on it, and
//! what the caller gets back (the one status table, the response), and who the guard counts
//! a call as (`end_user.rs`). Imports `config`, `guard/`, `verify/`, `error` and `log`;
//! nothing above it.

pub mod auth;
pub mod end_user;
pub mod fields;
pub mod policy;
pub mod response;
pub mod status;
pub mod token;

pub use auth::{Caller, CallerAuth};
pub use fields::Fields;
pub use response::Reply;
pub use token::TokenSigner;
