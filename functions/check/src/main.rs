//! Lambda entry point for `POST /check`.

use check::Check;
use lambda_http::{Error, run, service_fn};

// One thread: Lambda hands an instance one request at a time, and a multi-thread runtime's
// wake-ups were 40 ms of kernel time before the first answer (scripts/bench, section 6).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let env = shared::config::Env::process();
    shared::log::init(&shared::config::observe::log_levels(&env));
    // Built once per instance: warm invocations reuse the connection pool and cached secrets.
    let deps = shared::Deps::from_env(&env).await?;
    deps.warm_up().await;
    let deps = &deps;
    run(service_fn(move |req| shared::handle::<Check>(req, deps))).await
}
