//! Putting a request back on the listen queue as a new message, so that what the connector knows
//! about it (its attempt number, whether a process died holding it) is stored with it by the
//! broker instead of in a process that may not live to the next delivery.

use lapin::options::BasicPublishOptions;
use lapin::types::FieldTable;
use lapin::{BasicProperties, Channel, Connection};

use super::{confirmed, AmqpError};

/// Republishes deliveries to the listen queue on a confirm channel of its own.
#[derive(Clone)]
pub struct Requeuer {
    channel: Channel,
    queue: String,
}

impl Requeuer {
    pub async fn new(conn: &Connection, queue: &str) -> Result<Self, AmqpError> {
        Ok(Requeuer {
            channel: super::confirm_channel(conn).await?,
            queue: queue.into(),
        })
    }

    /// Publishes `body` to the listen queue with `properties` (persistent) and `headers`, and
    /// waits for the broker's confirm. Sent through the default exchange, whose routing key is
    /// the queue's name: the copy reaches this queue only, whatever the listen exchange binds,
    /// and `mandatory` makes a missing queue an error instead of a silent drop. Only once this
    /// returns `Ok` may the original delivery be acked.
    pub async fn republish(
        &self,
        body: &[u8],
        properties: &BasicProperties,
        headers: FieldTable,
    ) -> Result<(), AmqpError> {
        let props = properties
            .clone()
            .with_headers(headers)
            .with_delivery_mode(2);
        let confirm = self
            .channel
            .basic_publish(
                "".into(),
                self.queue.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                body,
                props,
            )
            .await
            .map_err(|e| AmqpError::Broker(format!("republishing the request failed: {e}")))?;
        confirmed(confirm).await
    }
}
