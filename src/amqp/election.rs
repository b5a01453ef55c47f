//! One hunter among the replicas: a durable queue with RabbitMQ's single-active-consumer flag,
//! holding one small "token" message. Every replica consumes the queue; the broker delivers only
//! to its active consumer, so the replica holding the token is the hunter. When that replica
//! dies its connection closes, the broker requeues the unacked token and makes the next consumer
//! active, which receives it at once — a handover within seconds, with no lock of our own.
//!
//! The token carries the hunt's checkpoint. The hunter passes it on to itself after every cycle
//! (publishes the next token, then acks the one it held), which also keeps every delivery
//! shorter than RabbitMQ's consumer timeout (30 min by default). Two replicas starting together
//! may both publish a first token; the hunter drops any token but its own once it has published.

use futures_lite::StreamExt;
use lapin::message::Delivery;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions, QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Channel, Connection, Consumer};
use serde_json::{json, Value};

use super::{confirm_channel, confirmed, AmqpError};

/// A replica's place in the election, on a connection of its own.
pub struct Election {
    conn: Connection,
    channel: Channel,
    consumer: Consumer,
    queue: String,
    held: Option<Delivery>,
    /// The id of the last token this replica published (while it is the hunter).
    mine: Option<String>,
}

/// What a token says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Token {
    pub id: String,
    /// The hunt's checkpoint (RFC 3339), if a cycle ever completed.
    pub checkpoint: Option<String>,
}

fn b(e: lapin::Error) -> AmqpError {
    AmqpError::Broker(e.to_string())
}

impl Election {
    /// Declares the election queue (durable, single active consumer), puts a first token in it
    /// when it is empty, and starts consuming it.
    pub async fn join(conn: Connection, queue: &str) -> Result<Election, AmqpError> {
        let channel = confirm_channel(&conn).await?;
        let mut args = FieldTable::default();
        args.insert("x-single-active-consumer".into(), AMQPValue::Boolean(true));
        let declared = channel
            .queue_declare(
                queue.into(),
                QueueDeclareOptions {
                    durable: true,
                    ..QueueDeclareOptions::default()
                },
                args,
            )
            .await
            .map_err(b)?;
        channel
            .basic_qos(1, BasicQosOptions::default())
            .await
            .map_err(b)?;
        let mut e = Election {
            consumer: channel
                .basic_consume(
                    queue.into(),
                    format!("connector-wazuh-hunt-{}", uuid::Uuid::new_v4())
                        .as_str()
                        .into(),
                    BasicConsumeOptions::default(),
                    FieldTable::default(),
                )
                .await
                .map_err(b)?,
            conn,
            channel,
            queue: queue.into(),
            held: None,
            mine: None,
        };
        if declared.message_count() == 0 && declared.consumer_count() == 0 {
            e.publish(&Token::default()).await?;
            e.mine = None;
        }
        Ok(e)
    }

    /// Waits until this replica holds the token (at once when it already does).
    pub async fn hold(&mut self) -> Result<Token, AmqpError> {
        loop {
            if let Some(d) = &self.held {
                return Ok(parse(&d.data));
            }
            let d = match self.consumer.next().await {
                Some(Ok(d)) => d,
                Some(Err(e)) => return Err(b(e)),
                None => {
                    return Err(AmqpError::Broker(
                        "the election queue's consumer ended".into(),
                    ))
                }
            };
            let token = parse(&d.data);
            if self.mine.as_ref().is_some_and(|m| *m != token.id) {
                // A duplicate from a concurrent start: this replica's own token is on its way.
                d.acker.ack(BasicAckOptions::default()).await.map_err(b)?;
                continue;
            }
            self.held = Some(d);
        }
    }

    /// Passes the token on with `checkpoint`: the next token is published (and confirmed) before
    /// the held one is acked, so that a crash in between leaves a token, never none.
    pub async fn pass(&mut self, checkpoint: Option<String>) -> Result<(), AmqpError> {
        let token = Token {
            id: uuid::Uuid::new_v4().to_string(),
            checkpoint,
        };
        self.publish(&token).await?;
        self.mine = Some(token.id);
        if let Some(d) = self.held.take() {
            d.acker.ack(BasicAckOptions::default()).await.map_err(b)?;
        }
        Ok(())
    }

    async fn publish(&mut self, token: &Token) -> Result<(), AmqpError> {
        let body = json!({"id": token.id, "checkpoint": token.checkpoint}).to_string();
        self.publish_to(&self.queue.clone(), body.as_bytes()).await
    }

    /// Publishes `body` to `queue` (through the default exchange, persistent, mandatory) and
    /// waits for the broker's confirm.
    pub async fn publish_to(&self, queue: &str, body: &[u8]) -> Result<(), AmqpError> {
        let confirm = self
            .channel
            .basic_publish(
                "".into(),
                queue.into(),
                BasicPublishOptions {
                    mandatory: true,
                    ..BasicPublishOptions::default()
                },
                body,
                BasicProperties::default()
                    .with_delivery_mode(2)
                    .with_content_type("application/json".into()),
            )
            .await
            .map_err(b)?;
        confirmed(confirm).await
    }

    /// Leaves the election (the token, if held, goes back to the queue for the next replica).
    pub async fn leave(self) {
        let _ = self.conn.close(200, "hunter stopping".into()).await;
    }

    pub fn connected(&self) -> bool {
        self.conn.status().connected()
    }
}

fn parse(data: &[u8]) -> Token {
    let v: Value = serde_json::from_slice(data).unwrap_or(Value::Null);
    Token {
        id: v
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        checkpoint: v
            .get("checkpoint")
            .and_then(Value::as_str)
            .map(String::from),
    }
}
