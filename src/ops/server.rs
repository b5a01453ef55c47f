//! The operations HTTP server: `/metrics` (OpenMetrics text), `/health` (liveness) and `/ready`
//! (readiness) on one port (`CONNECTOR_METRICS_HOST`:`CONNECTOR_METRICS_PORT`, default
//! `0.0.0.0:9095`, as pycti's metrics server), so one port serves Prometheus, the container
//! `HEALTHCHECK` and an orchestrator's probes.

use std::net::SocketAddr;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::health::Health;
use super::metrics::Metrics;

/// Content type of the OpenMetrics text format that prometheus-client writes.
pub const OPENMETRICS_CONTENT_TYPE: &str =
    "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A started server: where it listens, and its task (ends after `shutdown` is cancelled).
#[derive(Debug)]
pub struct RunningServer {
    pub local_addr: SocketAddr,
    pub handle: JoinHandle<std::io::Result<()>>,
}

#[derive(Clone)]
struct AppState {
    metrics: Metrics,
    health: Health,
}

/// The routes, without a listener (usable in tests with any server).
pub fn router(metrics: Metrics, health: Health) -> Router {
    Router::new()
        .route("/metrics", get(metrics_handler))
        .route("/health", get(health_handler))
        .route("/ready", get(ready_handler))
        .with_state(AppState { metrics, health })
}

/// Binds `addr` (port 0 picks a free port) and serves until `shutdown` is cancelled. Binding
/// errors (port in use, no permission) are returned here so the runtime can fail fast with a
/// clear message instead of running without its health endpoint.
pub async fn serve(
    addr: SocketAddr,
    metrics: Metrics,
    health: Health,
    shutdown: CancellationToken,
) -> std::io::Result<RunningServer> {
    let listener = TcpListener::bind(addr).await.map_err(|e| {
        std::io::Error::new(
            e.kind(),
            format!("cannot listen on {addr} for metrics/health (CONNECTOR_METRICS_HOST/CONNECTOR_METRICS_PORT): {e}"),
        )
    })?;
    let local_addr = listener.local_addr()?;
    let app = router(metrics, health);
    let handle = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await
    });
    Ok(RunningServer { local_addr, handle })
}

async fn metrics_handler(State(s): State<AppState>) -> Response {
    (
        [(header::CONTENT_TYPE, OPENMETRICS_CONTENT_TYPE)],
        s.metrics.encode(),
    )
        .into_response()
}

async fn health_handler(State(s): State<AppState>) -> Response {
    let state = s.metrics.state().as_str();
    Json(serde_json::json!({ "status": "alive", "state": state })).into_response()
}

async fn ready_handler(State(s): State<AppState>) -> Response {
    let r = s.health.readiness();
    let code = if r.ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, Json(r)).into_response()
}
