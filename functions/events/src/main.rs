//! Lambda entry point for `POST /events`: Verify v2's status callbacks, signed by Vonage
//! (the check and what is recorded are in `shared::events`).

use lambda_http::{Error, run, service_fn};

// One thread: Lambda hands an instance one request at a time, and a multi-thread runtime's
// wake-ups were 40 ms of kernel time before the first answer (scripts/bench, section 6).
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    let env = shared::config::Env::process();
    shared::log::init(&shared::config::observe::log_levels(&env));
    // Built once per instance: the guard's store client and the signature secret.
    let deps = shared::Deps::from_env_for(&env, shared::deps::Uses::Callbacks).await?;
    deps.warm_up().await;
    let deps = &deps;
    run(service_fn(move |req| async move {
        Ok::<_, std::convert::Infallible>(shared::events::serve(req, deps).await)
    }))
    .await
}
