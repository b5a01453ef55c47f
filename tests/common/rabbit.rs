//! RabbitMQ helpers for integration tests (the broker on 127.0.0.1:5672, guest/guest).

use lapin::options::{QueueDeclareOptions, QueueDeleteOptions, QueuePurgeOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

pub const URI: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// A connection that recovers by itself (so helpers survive `close_all_connections`).
pub async fn connect() -> Connection {
    let props = ConnectionProperties::default()
        .with_connection_name("connector-wazuh-tests".into())
        .enable_auto_recover();
    Connection::connect(URI, props)
        .await
        .expect("RabbitMQ on 127.0.0.1:5672 (start it with scripts/test)")
}

/// A channel, waiting (≤ 15 s) for the connection to recover if it is reconnecting.
pub async fn channel(conn: &Connection) -> lapin::Channel {
    for _ in 0..150 {
        if let Ok(ch) = conn.create_channel().await {
            return ch;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no RabbitMQ channel within 15 s");
}

/// Messages waiting in a queue (0 if it does not exist).
pub async fn depth(conn: &Connection, queue: &str) -> u32 {
    let ch = channel(conn).await;
    let opts = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    match ch
        .queue_declare(queue.into(), opts, FieldTable::default())
        .await
    {
        Ok(q) => q.message_count(),
        Err(_) => 0,
    }
}

pub async fn purge(conn: &Connection, queue: &str) {
    let ch = channel(conn).await;
    let _ = ch
        .queue_purge(queue.into(), QueuePurgeOptions::default())
        .await;
}

pub async fn delete(conn: &Connection, queue: &str) {
    let ch = channel(conn).await;
    let _ = ch
        .queue_delete(queue.into(), QueueDeleteOptions::default())
        .await;
}

/// Close every client connection of the broker (simulates a broker restart / network cut).
pub fn close_all_connections() {
    let out = std::process::Command::new("rabbitmqctl")
        .args(["close_all_connections", "connector-wazuh test"])
        .output()
        .expect("rabbitmqctl");
    assert!(
        out.status.success(),
        "rabbitmqctl failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
