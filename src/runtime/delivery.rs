//! Settling one delivery: run the handler (a panic caught and counted), then ack, or put the
//! request back on the listen queue as its next attempt and ack the original.
//!
//! Nothing is ever rejected back to the queue as the normal way to try again: the broker would
//! only mark it `redelivered`, which cannot tell a failed attempt from a process that died holding
//! the request, and cannot count. A copy carries its count (see [`super::attempts`]). Reject with
//! requeue remains only as the fallback when the broker will not take the copy — better to count
//! one interruption too many than to lose the request.

use std::sync::Arc;
use std::time::Duration;

use futures_lite::FutureExt;
use lapin::message::Delivery;
use lapin::options::{BasicAckOptions, BasicRejectOptions};

use super::attempts::{Arrival, Attempt};
use super::handler::{self, Disposition};
use super::Shared;
use crate::amqp::Requeuer;

/// Pause before a failed request is put back, so that one failing at once is not retried in a
/// tight loop.
const RETRY_PAUSE: Duration = Duration::from_millis(500);

/// Handles one delivery as its [`Arrival`] says and settles it.
pub(super) async fn settle(
    shared: &Arc<Shared>,
    requeuer: &Requeuer,
    delivery: Delivery,
    arrival: Arrival,
) {
    if delivery.redelivered {
        shared.metrics.request_interrupted();
    }
    let attempt = match arrival {
        Arrival::Interrupted(next) => {
            tracing::warn!(
                attempt = next.number,
                interrupted = next.interrupted,
                "a request came back from a connector that stopped while handling it (killed, out of memory, crashed, or its broker connection cut); it is put back as its next attempt and will run alone"
            );
            requeue(requeuer, delivery, next).await;
            return;
        }
        Arrival::Run(a) | Arrival::RunAlone(a) => a,
    };
    let handled = std::panic::AssertUnwindSafe(handler::handle(shared, &delivery.data, attempt))
        .catch_unwind()
        .await;
    // The request's memory is freed: give its free pages back (see the allocator module).
    crate::ops::allocator::release_free();
    let disposition = match handled {
        Ok(d) => d,
        Err(panic) => {
            // A bug, not an outage: counted and logged, and the delivery settled like any failed
            // attempt so that it does not hold a prefetch slot; the attempt limit ends it.
            shared.metrics.handler_panicked();
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, attempt = attempt.number, "the request handler panicked; the request is put back as a failed attempt");
            Disposition::Requeue
        }
    };
    match disposition {
        Disposition::Ack => ack(delivery).await,
        Disposition::Requeue => {
            tokio::time::sleep(RETRY_PAUSE).await;
            requeue(requeuer, delivery, attempt.after_failure()).await;
        }
        // Held for an outage when shutdown came: no attempt spent.
        Disposition::Release => requeue(requeuer, delivery, attempt).await,
    }
}

/// Gives back a delivery that was received but will not be handled by this process (the
/// consumer was paused or stopped): put back as the same attempt, so that the broker does not
/// mark it redelivered and it is not counted as interrupted. One that already is a redelivery
/// is rejected back as it is; its next arrival counts that interruption once.
pub(super) async fn give_back(requeuer: &Requeuer, delivery: Delivery) {
    if delivery.redelivered {
        reject(delivery).await;
        return;
    }
    let attempt = Attempt::from_headers(delivery.properties.headers().as_ref());
    requeue(requeuer, delivery, attempt).await;
}

/// Publishes a copy of `delivery` as `attempt`, then acks the original; the ack comes only once
/// the broker confirmed the copy, so a failure in between leaves two deliveries of the request
/// (processed idempotently), never none.
async fn requeue(requeuer: &Requeuer, delivery: Delivery, attempt: Attempt) {
    let headers = attempt.headers(delivery.properties.headers().as_ref());
    match requeuer
        .republish(&delivery.data, &delivery.properties, headers)
        .await
    {
        Ok(()) => ack(delivery).await,
        Err(e) => {
            tracing::warn!(error = %e, attempt = attempt.number, "could not put the request back on the listen queue; rejecting it to the broker instead (it comes back marked redelivered)");
            reject(delivery).await;
        }
    }
}

async fn ack(delivery: Delivery) {
    if let Err(e) = delivery.ack(BasicAckOptions::default()).await {
        tracing::info!(error = %e, "acknowledgement failed (the broker connection was lost); the broker redelivers the request and it is processed again idempotently");
    }
}

async fn reject(delivery: Delivery) {
    if let Err(e) = delivery.reject(BasicRejectOptions { requeue: true }).await {
        tracing::info!(error = %e, "giving the request back failed (the broker connection was lost); the broker redelivers it");
    }
}
