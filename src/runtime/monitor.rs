//! Background duties that feed the operations endpoints: the indexer reachability check behind
//! `/ready`, the heartbeat with its metrics, and the metrics listen address.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::config::ConnectorSettings;
use crate::indexer::IndexerClient;
use crate::opencti::{register, OpenCtiClient};
use crate::ops::{Health, Metrics};
use crate::pipeline::search::reachable_after;

/// How often the indexer is checked for `/ready` (searches update the flag in between).
pub const INDEXER_CHECK_PERIOD: Duration = Duration::from_secs(30);

/// `CONNECTOR_METRICS_HOST:CONNECTOR_METRICS_PORT` as a socket address (an IP literal or a name
/// resolved once at start-up).
pub async fn metrics_addr(c: &ConnectorSettings) -> Result<SocketAddr, String> {
    let host = c.metrics_host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(SocketAddr::new(ip, c.metrics_port));
    }
    tokio::net::lookup_host((host, c.metrics_port))
        .await
        .map_err(|e| format!("CONNECTOR_METRICS_HOST {host:?} cannot be resolved: {e}"))?
        .next()
        .ok_or_else(|| format!("CONNECTOR_METRICS_HOST {host:?} resolves to no address"))
}

/// Checks the indexer now and every `period` until `cancel`, setting the readiness flag.
pub async fn indexer_checks(
    indexer: Arc<IndexerClient>,
    index: String,
    health: Health,
    period: Duration,
    cancel: CancellationToken,
) {
    loop {
        let ok = tokio::select! {
            r = indexer.check(&index) => match r {
                Ok(_) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "Wazuh indexer check failed");
                    reachable_after(&e)
                }
            },
            _ = cancel.cancelled() => return,
        };
        health.set_indexer_reachable(ok);
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// `pingConnector` every `period` until `cancel`, counted in the ping metrics; a failed ping is
/// logged and retried at the next period, never fatal.
pub async fn ping_loop(
    client: OpenCtiClient,
    connector_id: String,
    period: Duration,
    metrics: Metrics,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = cancel.cancelled() => return,
        }
        let r = register::ping(&client, &connector_id, 0).await;
        metrics.ping(r.is_ok());
        if let Err(e) = r {
            metrics.opencti_api_error("pingConnector");
            tracing::warn!(error = %e, "connector ping failed; will retry at the next period");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn metrics_address_from_ip_or_name() {
        let mut c = crate::pipeline::inspect::tests::settings().connector;
        c.metrics_host = "0.0.0.0".into();
        c.metrics_port = 9095;
        assert_eq!(metrics_addr(&c).await.unwrap().to_string(), "0.0.0.0:9095");
        c.metrics_host = "[::1]".into();
        assert_eq!(metrics_addr(&c).await.unwrap().to_string(), "[::1]:9095");
        c.metrics_host = "localhost".into();
        assert!(metrics_addr(&c).await.unwrap().ip().is_loopback());
    }
}
