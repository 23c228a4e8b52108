//! Lambda entry point for `GET /.well-known/jwks.json`.

use lambda_http::{Error, run, service_fn};

// One thread: Lambda hands an instance one request at a time, and a multi-thread runtime's
// wake-ups were 40 ms of kernel time before the first answer (scripts/bench, section 6).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let env = shared::config::Env::process();
    shared::log::init(&shared::config::observe::log_levels(&env));
    // The public keys are derived once per instance from the same key /check signs with.
    let jwks = shared::jwks::Jwks::from_env(&env).await?;
    let jwks = &jwks;
    run(service_fn(move |req| async move {
        Ok::<_, std::convert::Infallible>(jwks.serve(&req))
    }))
    .await
}
