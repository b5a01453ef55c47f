//! Operations: Prometheus metrics ([`metrics`]), liveness/readiness flags ([`health`]) and the
//! HTTP server exposing both ([`server`]). The runtime owns when things happen; this module only
//! records and exposes them.

pub mod health;
pub mod hunt_metrics;
pub mod metrics;
pub mod server;

pub use health::{Health, Readiness, Snapshot};
pub use metrics::{Metrics, Outcome, State};
pub use server::{serve, serve_configured, RunningServer};
