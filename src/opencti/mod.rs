//! Everything spoken to the OpenCTI platform over GraphQL, and the request messages it sends.

pub mod client;
pub mod entities;
pub mod jwt;
pub mod message;
pub mod operations;
pub mod register;
pub mod version;

pub use client::{ApiError, OpenCtiClient, RequestContext, SetupError};
