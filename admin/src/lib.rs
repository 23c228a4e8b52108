//! `verify-proxy-admin`: the operator's side of the guard. `explain NUMBER` says what the
//! guard holds about a number and which of its rules refuse a start to it now, against a
//! deployment (its DynamoDB table and HMAC key, with the operator's AWS credentials: the same
//! store and key derivation as the functions) or the local server (its loopback admin route).
//! The full number is never printed; the log lines' `number_hmac` is.

pub mod backend;
pub mod words;

pub use backend::{AdminError, Backend};
