//! The smallest useful Lambda bootstrap on the same runtime crates as the functions: it
//! answers 200 "hello". scripts/bench reports the functions' cold start as a ratio to it.

use lambda_http::{Body, Error, Request, Response, run, service_fn};

async fn hello(_: Request) -> Result<Response<Body>, Error> {
    Ok(Response::new(Body::from("hello")))
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    run(service_fn(hello)).await
}
