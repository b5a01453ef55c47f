//! RabbitMQ: connecting with the parameters registration returned, consuming the listen queue,
//! and publishing result bundles to the push exchange with publisher confirms.
//!
//! lapin 4 recovers connections by itself (`enable_auto_recover`); the first connect is bounded so
//! a wrong address or certificate fails start-up instead of retrying for minutes.

use std::time::Duration;

use base64::Engine;
use lapin::options::{
    BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, ConfirmSelectOptions,
    QueueDeclareOptions,
};
use lapin::types::FieldTable;
use lapin::uri::{AMQPAuthority, AMQPQueryString, AMQPScheme, AMQPUri, AMQPUserInfo};
use lapin::{BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Consumer};

use crate::config::Secret;

pub mod election;
mod requeue;
pub use requeue::Requeuer;

/// Broker connection returned by `registerConnector` (after the `MQ_*` overrides).
#[derive(Debug, Clone)]
pub struct MqConnection {
    pub host: String,
    pub port: u16,
    pub vhost: String,
    pub use_ssl: bool,
    pub user: String,
    pub pass: Secret,
    pub ssl_ca: Option<std::path::PathBuf>,
}

/// Broker failures.
#[derive(Debug, thiserror::Error)]
pub enum AmqpError {
    #[error("cannot connect to RabbitMQ at {host}:{port}: {reason}")]
    Connect {
        host: String,
        port: u16,
        reason: String,
    },
    #[error("RabbitMQ error: {0}")]
    Broker(String),
    #[error("RabbitMQ refused the message (publisher confirm: {0})")]
    Nacked(String),
    /// A broker under a memory or disk alarm blocks publishers without closing the connection.
    #[error("RabbitMQ did not confirm the message within {0} s (is a memory or disk alarm blocking publishers?)")]
    ConfirmTimeout(u64),
}

/// The largest AMQP frame the connector proposes (the broker may lower it). lapin keeps a send
/// and a receive ring of 32 frames each for the connection's lifetime: at RabbitMQ's default of
/// 128 KiB that is 8 MiB of resident memory, more than the rest of the idle daemon. A result
/// message (one object, a few KiB) fits in one 16 KiB frame; larger messages (a playbook's
/// bundle) simply travel in more frames.
pub const FRAME_MAX: u32 = 16 * 1024;

fn uri(c: &MqConnection) -> AMQPUri {
    AMQPUri {
        scheme: if c.use_ssl {
            AMQPScheme::AMQPS
        } else {
            AMQPScheme::AMQP
        },
        authority: AMQPAuthority {
            userinfo: AMQPUserInfo {
                username: c.user.clone(),
                password: c.pass.expose().to_string(),
            },
            host: c.host.clone(),
            port: c.port,
        },
        vhost: c.vhost.clone(),
        query: AMQPQueryString {
            heartbeat: Some(10),
            frame_max: Some(FRAME_MAX),
            ..Default::default()
        },
    }
}

/// Connect; the connection attempt is bounded by `first_connect`.
///
/// lapin's automatic recovery is deliberately off: after a broker restart under load it could
/// bring the connection back without the consumer, or bring back a consumer the daemon had
/// already replaced (its prefetched deliveries then sat unprocessed). The daemon owns recovery
/// instead: a failed consumer, or one its watchdog finds dead, is replaced by a new connection,
/// consumer and publisher (`runtime::reconnect`).
pub async fn connect(
    c: &MqConnection,
    name: &str,
    first_connect: Duration,
) -> Result<Connection, AmqpError> {
    let err = |reason: String| AmqpError::Connect {
        host: c.host.clone(),
        port: c.port,
        reason,
    };
    let props = ConnectionProperties::default().with_connection_name(name.into());
    let tls = lapin::tcp::OwnedTLSConfig {
        identity: None,
        cert_chain: match &c.ssl_ca {
            Some(p) => Some(
                std::fs::read_to_string(p)
                    .map_err(|e| err(format!("MQ_USE_SSL_CA {}: {e}", p.display())))?,
            ),
            None => None,
        },
    };
    let runtime = lapin::runtime::default_runtime().map_err(|e| err(e.to_string()))?;
    match tokio::time::timeout(
        first_connect,
        Connection::connect_uri_with_config(uri(c), props, tls, runtime),
    )
    .await
    {
        Ok(Ok(conn)) => Ok(conn),
        Ok(Err(e)) => Err(err(e.to_string())),
        Err(_) => Err(err(format!(
            "no connection within {}s",
            first_connect.as_secs()
        ))),
    }
}

/// Start consuming `queue` with manual acks and `prefetch` unacked deliveries at most.
pub async fn consume(
    conn: &Connection,
    queue: &str,
    prefetch: u16,
    tag: &str,
) -> Result<(Channel, Consumer), AmqpError> {
    let b = |e: lapin::Error| AmqpError::Broker(e.to_string());
    let ch = conn.create_channel().await.map_err(b)?;
    ch.basic_qos(prefetch, BasicQosOptions::default())
        .await
        .map_err(b)?;
    let consumer = consume_on(&ch, queue, tag).await?;
    Ok((ch, consumer))
}

/// A consumer of `queue` on a channel set up by [`consume`] (again, after its consumer was
/// cancelled to pause deliveries).
pub async fn consume_on(ch: &Channel, queue: &str, tag: &str) -> Result<Consumer, AmqpError> {
    ch.basic_consume(
        queue.into(),
        tag.into(),
        BasicConsumeOptions::default(),
        FieldTable::default(),
    )
    .await
    .map_err(|e| AmqpError::Broker(e.to_string()))
}

/// Whether a consumer set up by [`consume`] still receives deliveries. lapin's automatic
/// recovery can bring a connection back without the consumer (seen after a broker restart under
/// load: the connection was "running", the listen queue had messages and no consumer), so the
/// daemon checks this periodically and rebuilds the connection when it fails.
///
/// Dead: the connection or channel is not connected, the broker does not answer a passive
/// declaration of the queue within 5 s, or the queue has ready messages and no consumer at all
/// while this process has room for more (`can_take_more`). With several replicas a dead
/// consumer of ours may go unnoticed while another replica consumes; nothing waits then.
pub async fn consumer_alive(
    conn: &Connection,
    channel: &Channel,
    queue: &str,
    can_take_more: bool,
) -> bool {
    if !conn.status().connected() || !channel.status().connected() {
        return false;
    }
    let declare = channel.queue_declare(
        queue.into(),
        QueueDeclareOptions {
            passive: true,
            ..QueueDeclareOptions::default()
        },
        FieldTable::default(),
    );
    match tokio::time::timeout(Duration::from_secs(5), declare).await {
        Ok(Ok(q)) => !(can_take_more && q.message_count() > 0 && q.consumer_count() == 0),
        _ => false,
    }
}

/// The push-queue message for one serialised bundle, as OpenCTI's workers read it (the bundle
/// base64 in `content`, attributed to the applicant and the work), serialised.
pub fn push_message(
    bundle: &str,
    applicant_id: Option<&str>,
    work_id: Option<&str>,
    draft_id: Option<&str>,
    sequence: u64,
) -> String {
    #[derive(serde::Serialize)]
    struct Message<'a> {
        bundle_type: &'static str,
        applicant_id: Option<&'a str>,
        action_sequence: u64,
        entities_types: [&'a str; 0],
        content: String,
        update: bool,
        draft_id: &'a str,
        no_split: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        work_id: Option<&'a str>,
    }
    let m = Message {
        bundle_type: "QUEUE_BUNDLE",
        applicant_id,
        action_sequence: sequence,
        entities_types: [],
        content: base64::engine::general_purpose::STANDARD.encode(bundle.as_bytes()),
        update: false,
        draft_id: draft_id.unwrap_or(""),
        no_split: false,
        work_id,
    };
    // Plain strings and numbers: serialising cannot fail.
    serde_json::to_string(&m).unwrap_or_default()
}

/// Longest wait for the broker's confirm of one published message.
const CONFIRM_TIMEOUT: Duration = Duration::from_secs(30);

/// Publishes result bundles on a confirm channel.
/// A new channel in publisher-confirm mode: every publication on it is acknowledged by the
/// broker, so a result or a requeued request is known to be stored before anything is acked.
pub(crate) async fn confirm_channel(conn: &Connection) -> Result<Channel, AmqpError> {
    let b = |e: lapin::Error| AmqpError::Broker(e.to_string());
    let channel = conn.create_channel().await.map_err(b)?;
    channel
        .confirm_select(ConfirmSelectOptions::default())
        .await
        .map_err(b)?;
    Ok(channel)
}

#[derive(Clone)]
pub struct Publisher {
    channel: Channel,
    exchange: String,
    routing: String,
}

impl Publisher {
    pub async fn new(conn: &Connection, exchange: &str, routing: &str) -> Result<Self, AmqpError> {
        Ok(Publisher {
            channel: confirm_channel(conn).await?,
            exchange: exchange.into(),
            routing: routing.into(),
        })
    }

    /// Sends one persistent message; the returned future resolves with the broker's confirm.
    async fn send(&self, body: &str) -> lapin::Result<lapin::PublisherConfirm> {
        self.channel
            .basic_publish(
                self.exchange.as_str().into(),
                self.routing.as_str().into(),
                BasicPublishOptions::default(),
                body.as_bytes(),
                Self::properties(),
            )
            .await
    }

    fn properties() -> BasicProperties {
        BasicProperties::default()
            .with_delivery_mode(2)
            .with_content_encoding("utf-8".into())
    }

    /// Publishes `count` messages, then waits for all their confirms: the broker confirms
    /// persistent messages in batches (after its disk sync), so waiting for each confirm before
    /// sending the next one cost a round trip per object — 84 to 229 of them per request on the
    /// benchmark (see BENCHMARKS.md). Message `i` is made by `body(i)` when it is sent (and made
    /// again if it must be re-sent), so a large result is never held as messages all at once. A
    /// message whose publish or confirm fails because the connection dropped is sent once more on
    /// its own; a negative confirm, or a second failure, is an error (the caller retries on the
    /// connection the daemon rebuilds). Returns the number of messages sent.
    pub async fn publish_all(
        &self,
        count: usize,
        body: impl Fn(usize) -> String,
    ) -> Result<usize, AmqpError> {
        let mut pending = Vec::with_capacity(count);
        let mut retry: Vec<usize> = Vec::new();
        for i in 0..count {
            match self.send(&body(i)).await {
                Ok(confirm) => pending.push((i, confirm)),
                Err(e) => {
                    tracing::warn!(error = %e, "pipelined publish failed; sending the rest one by one");
                    retry.extend(i..count);
                    break;
                }
            }
        }
        for (i, confirm) in pending {
            let Ok(confirm) = tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await else {
                return Err(AmqpError::ConfirmTimeout(CONFIRM_TIMEOUT.as_secs()));
            };
            match confirm {
                Ok(Confirmation::Ack(_)) | Ok(Confirmation::NotRequested) => {}
                Ok(other) => return Err(AmqpError::Nacked(format!("{other:?}"))),
                Err(e) => {
                    tracing::warn!(error = %e, "confirm lost; sending the message again");
                    retry.push(i);
                }
            }
        }
        retry.sort_unstable();
        for i in retry {
            self.publish_body(&body(i)).await?;
        }
        Ok(count)
    }

    /// One message, one confirm. lapin's recovery is off (see [`connect`]), so there is nothing
    /// to wait for here: a failure goes back to the caller.
    async fn publish_body(&self, body: &str) -> Result<(), AmqpError> {
        let confirm = self
            .send(body)
            .await
            .map_err(|e| AmqpError::Broker(format!("publish failed: {e}")))?;
        confirmed(confirm).await
    }
}

/// Waits (at most [`CONFIRM_TIMEOUT`]) for the broker's confirm of one message. A message the
/// broker returned as unroutable (published `mandatory`) is an error too: it was not stored.
pub(crate) async fn confirmed(confirm: lapin::PublisherConfirm) -> Result<(), AmqpError> {
    let Ok(confirm) = tokio::time::timeout(CONFIRM_TIMEOUT, confirm).await else {
        return Err(AmqpError::ConfirmTimeout(CONFIRM_TIMEOUT.as_secs()));
    };
    match confirm {
        Ok(Confirmation::Ack(None)) | Ok(Confirmation::NotRequested) => Ok(()),
        Ok(other) => Err(AmqpError::Nacked(format!("{other:?}"))),
        Err(e) => Err(AmqpError::Broker(format!("publish failed: {e}"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    #[test]
    fn push_message_matches_the_protocol() {
        let bundle = json!({"type":"bundle","id":"bundle--1","objects":[{"id":"a"}]});
        let m: Value = serde_json::from_str(&push_message(
            &bundle.to_string(),
            Some("u"),
            Some("w"),
            None,
            1,
        ))
        .unwrap();
        assert_eq!(m["bundle_type"], "QUEUE_BUNDLE");
        assert_eq!(m["applicant_id"], "u");
        assert_eq!(m["action_sequence"], 1);
        assert_eq!(m["entities_types"], json!([]));
        assert_eq!(m["update"], false);
        assert_eq!(m["no_split"], false);
        assert_eq!(m["work_id"], "w");
        assert_eq!(m["draft_id"], "");
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(m["content"].as_str().unwrap())
            .unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&decoded).unwrap(), bundle);
        let anonymous: Value =
            serde_json::from_str(&push_message("{}", None, None, Some("d"), 2)).unwrap();
        assert!(anonymous.get("work_id").is_none());
        assert_eq!(anonymous["applicant_id"], Value::Null);
        assert_eq!(anonymous["draft_id"], "d");
    }
}
