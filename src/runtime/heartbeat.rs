//! The connector heartbeat: `pingConnector` right after registration, then every period until
//! shutdown. OpenCTI shows a connector whose pings stop as disconnected; a failed ping is only
//! logged and counted, because the next one repairs the picture.

use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::opencti::{register, OpenCtiClient};
use crate::ops::Metrics;

/// Time between two heartbeats.
pub const PING_PERIOD: Duration = Duration::from_secs(40);

/// Pings once now, then spawns the loop that pings every [`PING_PERIOD`] until `cancel`.
pub async fn start(
    client: &OpenCtiClient,
    connector_id: &str,
    metrics: &Metrics,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    if let Err(e) = ping(client, connector_id, metrics).await {
        tracing::warn!(error = %e, "first ping failed; will retry");
    }
    tokio::spawn(ping_loop(
        client.clone(),
        connector_id.to_string(),
        PING_PERIOD,
        cancel,
        metrics.clone(),
    ))
}

async fn ping(
    client: &OpenCtiClient,
    connector_id: &str,
    metrics: &Metrics,
) -> Result<(), crate::opencti::ApiError> {
    let r = register::ping(client, connector_id, 0).await;
    metrics.ping(r.is_ok());
    r
}

/// Ping every `period` until cancelled; failures are logged, never fatal.
async fn ping_loop(
    client: OpenCtiClient,
    connector_id: String,
    period: Duration,
    cancel: CancellationToken,
    metrics: Metrics,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = cancel.cancelled() => return,
        }
        if let Err(e) = ping(&client, &connector_id, &metrics).await {
            tracing::warn!(error = %e, "connector ping failed; will retry at the next period");
        }
    }
}
