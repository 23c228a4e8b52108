//! Lambda entry point for `POST /cancel`.

use cancel::Cancel;
use lambda_http::{Error, run, service_fn};

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::log::init();
    // Built once per instance: warm invocations reuse the connection pool and cached secrets.
    let deps = shared::Deps::from_env().await?;
    let deps = &deps;
    run(service_fn(move |req| shared::handle::<Cancel>(req, deps))).await
}
