//! The operations server as Prometheus sees it: started on a free local port, scraped over HTTP.

use std::net::SocketAddr;

use connector_wazuh::ops::{self, Health, Metrics};
use tokio_util::sync::CancellationToken;

/// Serves `/metrics`, `/health` and `/ready` for `metrics` and `health` on 127.0.0.1 (free port).
pub async fn start(
    metrics: Metrics,
    health: Health,
) -> (SocketAddr, CancellationToken, ops::RunningServer) {
    let token = CancellationToken::new();
    let srv = ops::serve(
        "127.0.0.1:0".parse().unwrap(),
        metrics,
        health,
        token.clone(),
    )
    .await
    .expect("bind");
    (srv.local_addr, token, srv)
}

/// One `/metrics` scrape (checks the OpenMetrics content type).
pub async fn scrape(addr: SocketAddr) -> String {
    let r = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    r.text().await.unwrap()
}
