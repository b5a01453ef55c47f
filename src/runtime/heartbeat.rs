//! The connector heartbeat: `pingConnector` right after registration, then every period until
//! shutdown. OpenCTI shows a connector whose pings stop as disconnected; a failed ping is only
//! logged and counted, because the next one repairs the picture.
//!
//! The platform stores the state each ping carries (pycti's `connector_state`), so every ping
//! carries [`StateCell`]'s: the state read at registration, replaced by the hunter after each
//! cycle ([`crate::runtime::hunt`]), and by the platform's answer when that differs (a user reset
//! the state in the platform).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::opencti::{register, OpenCtiClient};
use crate::ops::Metrics;

/// Time between two heartbeats.
pub const PING_PERIOD: Duration = Duration::from_secs(40);

/// The connector state this process pings with.
#[derive(Clone, Default)]
pub struct StateCell(Arc<Mutex<Option<String>>>);

impl StateCell {
    pub fn new(initial: Option<String>) -> StateCell {
        StateCell(Arc::new(Mutex::new(initial)))
    }

    pub fn get(&self) -> Option<String> {
        self.0.lock().map(|g| g.clone()).unwrap_or(None)
    }

    pub fn set(&self, state: Option<String>) {
        if let Ok(mut g) = self.0.lock() {
            *g = state;
        }
    }
}

/// Pings once now, then spawns the loop that pings every [`PING_PERIOD`] until `cancel`.
pub async fn start(
    client: &OpenCtiClient,
    connector_id: &str,
    metrics: &Metrics,
    state: StateCell,
    cancel: CancellationToken,
) -> JoinHandle<()> {
    if let Err(e) = ping(client, connector_id, metrics, &state).await {
        tracing::warn!(error = %e, "first ping failed; will retry");
    }
    tokio::spawn(ping_loop(
        client.clone(),
        connector_id.to_string(),
        PING_PERIOD,
        cancel,
        metrics.clone(),
        state,
    ))
}

async fn ping(
    client: &OpenCtiClient,
    connector_id: &str,
    metrics: &Metrics,
    state: &StateCell,
) -> Result<(), crate::opencti::ApiError> {
    let sent = state.get();
    let r = register::ping(client, connector_id, 0, sent.as_deref()).await;
    metrics.ping(r.is_ok());
    let stored = r?;
    if stored != sent && state.get() == sent {
        tracing::info!("the platform answered the ping with another connector state (reset by a user?); using it");
        state.set(stored);
    }
    Ok(())
}

/// Ping every `period` until cancelled; failures are logged, never fatal.
async fn ping_loop(
    client: OpenCtiClient,
    connector_id: String,
    period: Duration,
    cancel: CancellationToken,
    metrics: Metrics,
    state: StateCell,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = cancel.cancelled() => return,
        }
        if let Err(e) = ping(&client, &connector_id, &metrics, &state).await {
            tracing::warn!(error = %e, "connector ping failed; will retry at the next period");
        }
    }
}
