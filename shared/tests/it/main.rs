//! `shared`'s integration tests: the layer rule over the source, and the AWS adapters against moto.
//! One test binary for the crate: each file below is a module.

mod common;
mod guard_dynamodb;
mod layers;
mod settings_doc;
mod ssm_moto;
mod startup;
