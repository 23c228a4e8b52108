//! Vonage's side of the wire: the values Verify takes, its typed requests and answers, the
//! clients (v1 and v2), the credentials, and test numbers. Knows nothing of Lambda or HTTP callers.
//! Imports only `error` and `log`.

pub mod call;
pub mod client;
pub mod http;
pub mod number;
pub mod secrets;
pub mod test_numbers;
pub mod types;
pub mod v1_client;
pub mod v2;
pub mod values;

pub use call::Call;
pub use client::VerifyClient;
pub use number::{LineType, Number};
pub use secrets::{Credentials, Secrets};
pub use test_numbers::TestNumbers;
pub use values::{Command, Pin, RequestId};
