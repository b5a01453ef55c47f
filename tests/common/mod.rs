//! Shared test infrastructure: real RabbitMQ, a real OpenSearch-compatible server (osmem-server),
//! a TLS/basic-auth front for it, and a fake OpenCTI that validates every GraphQL operation
//! against OpenCTI's real schema.
#![allow(dead_code)]

pub mod connector;
pub mod fake_opencti;
pub mod osmem;
pub mod rabbit;
pub mod tls_front;
