//! Operations: Prometheus metrics ([`metrics`]), liveness/readiness flags ([`health`]), the
//! HTTP server exposing both ([`server`]) and how the process asks its allocator to hold
//! memory ([`allocator`]). The runtime owns when things happen; this module only
//! records and exposes them.

pub mod allocator;
pub mod health;
pub mod hunt_metrics;
pub mod metrics;
pub mod server;

pub use health::{Health, Readiness, Snapshot};
pub use metrics::{Metrics, Outcome, State};
pub use server::{serve, serve_configured, RunningServer};
