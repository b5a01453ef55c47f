//! The operations HTTP server: `/metrics` (OpenMetrics text), `/health` (liveness) and `/ready`
//! (readiness) on one port (`CONNECTOR_METRICS_HOST`:`CONNECTOR_METRICS_PORT`, default
//! `0.0.0.0:9095`, as pycti's metrics server), so one port serves Prometheus, the container
//! `HEALTHCHECK` and an orchestrator's probes.

use std::net::{IpAddr, SocketAddr};

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
use crate::config::ConnectorSettings;

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

/// Starts the server as configured: `None` when `CONNECTOR_EXPOSE_METRICS` is false, otherwise
/// listening on `CONNECTOR_METRICS_HOST:CONNECTOR_METRICS_PORT`. The host must be an IP address
/// (`0.0.0.0`, `::`, `127.0.0.1`…): binding to a name would depend on resolver order.
pub async fn serve_configured(
    settings: &ConnectorSettings,
    metrics: Metrics,
    health: Health,
    shutdown: CancellationToken,
) -> std::io::Result<Option<RunningServer>> {
    if !settings.expose_metrics {
        return Ok(None);
    }
    let addr = listen_addr(&settings.metrics_host, settings.metrics_port)?;
    serve(addr, metrics, health, shutdown).await.map(Some)
}

/// `host:port` as a socket address; IPv6 hosts may be given with or without brackets.
pub fn listen_addr(host: &str, port: u16) -> std::io::Result<SocketAddr> {
    let h = host.trim().trim_start_matches('[').trim_end_matches(']');
    let ip: IpAddr = h.parse().map_err(|_| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("CONNECTOR_METRICS_HOST {host:?} is not an IP address; accepted: e.g. 0.0.0.0, 127.0.0.1, ::"),
        )
    })?;
    Ok(SocketAddr::new(ip, port))
}

async fn metrics_handler(State(s): State<AppState>) -> Response {
    // Readiness is derived from flags the runtime sets; it is sampled here, at scrape time, so the
    // `ready` series never lags behind what `/ready` answers.
    s.metrics.set_ready(s.health.readiness().ready);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_addr_accepts_ip_literals_only() {
        assert_eq!(
            listen_addr("0.0.0.0", 9095).unwrap().to_string(),
            "0.0.0.0:9095"
        );
        assert_eq!(listen_addr("::", 9095).unwrap().to_string(), "[::]:9095");
        assert_eq!(listen_addr("[::1]", 1).unwrap().to_string(), "[::1]:1");
        let e = listen_addr("localhost", 9095).unwrap_err().to_string();
        assert!(e.contains("CONNECTOR_METRICS_HOST"), "{e}");
    }
}
