//! Verify v2 (`/v2/verify`): JSON bodies, HTTP statuses with RFC 7807 problems, Basic or
//! application-JWT auth, workflows of channels. Answers are translated into the v1 shapes the
//! rest of the proxy speaks (`answers.rs`), so callers see the same API whichever upstream.

pub mod answers;
pub mod app_jwt;
pub mod client;
pub mod workflow;

pub use answers::{Op, V2_ANSWERS, V2Answer};
pub use app_jwt::AppJwt;
pub use client::V2Client;
pub use workflow::{Channel, Workflow};
