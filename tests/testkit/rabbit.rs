//! RabbitMQ helpers for integration tests (the broker on 127.0.0.1:5672, guest/guest).
//!
//! **Broker lock.** Some fault tests disturb the whole broker (`close_all_connections`,
//! `stop_app`). Every test process that uses the broker holds a *shared* `flock` on
//! [`LOCK_PATH`] (taken by [`connect`], kept for the life of the process); the disturbing tests
//! live in their own harness (`tests/broker`) and take it *exclusively* first
//! ([`exclusive_broker`]), so they never run while another test process (another harness, another
//! engineer's `cargo test`) talks to the broker; within that harness they run one at a time.

use lapin::options::{QueueDeclareOptions, QueueDeleteOptions, QueuePurgeOptions};
use lapin::types::FieldTable;
use lapin::{Connection, ConnectionProperties};

pub const URI: &str = "amqp://guest:guest@127.0.0.1:5672/%2f";

/// The lock file shared by every broker-using test process on this machine.
pub const LOCK_PATH: &str = "/tmp/connector-wazuh-broker.lock";

/// The lock this process holds (the file, and whether it is exclusive), kept until the process
/// exits.
static HELD: std::sync::OnceLock<(std::fs::File, bool)> = std::sync::OnceLock::new();

fn flock(mode: libc::c_int, wait: std::time::Duration) -> std::fs::File {
    use std::os::fd::AsRawFd;
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(LOCK_PATH)
        .expect("open the broker lock file");
    let deadline = std::time::Instant::now() + wait;
    loop {
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let r = unsafe { libc::flock(file.as_raw_fd(), mode | libc::LOCK_NB) };
        if r == 0 {
            return file;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "could not lock {LOCK_PATH} within {wait:?}: another test process holds the broker"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Take the shared broker lock for this process (no-op if it already holds a lock).
pub fn shared_broker() {
    HELD.get_or_init(|| {
        (
            flock(libc::LOCK_SH, std::time::Duration::from_secs(900)),
            false,
        )
    });
}

/// Take the broker exclusively: call first thing in a test that disturbs the broker for everyone
/// (`close_all_connections`, `stop_app`), and keep the guard for the whole test. The process takes
/// the exclusive lock once (before anything in it connects: such tests live in the `broker`
/// harness, where every test calls this first), and the guard runs this process's disturbing
/// tests one at a time.
pub async fn exclusive_broker() -> tokio::sync::MutexGuard<'static, ()> {
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let guard = ONE_AT_A_TIME.lock().await;
    let (_, exclusive) = HELD.get_or_init(|| {
        (
            flock(libc::LOCK_EX, std::time::Duration::from_secs(900)),
            true,
        )
    });
    assert!(
        *exclusive,
        "exclusive_broker() must be called before anything in this process connects to the broker"
    );
    guard
}

/// A connection that recovers by itself (so helpers survive `close_all_connections`).
pub async fn connect() -> Connection {
    shared_broker();
    let props = ConnectionProperties::default()
        .with_connection_name("connector-wazuh-tests".into())
        .enable_auto_recover();
    Connection::connect(URI, props)
        .await
        .expect("RabbitMQ on 127.0.0.1:5672 (start it with scripts/test)")
}

/// A connection without automatic recovery, retried until the broker accepts one (≤ 120 s): for
/// a consumer that must outlive a broker outage by reconnecting itself. (A recovered consumer
/// can stay silent after `stop_app`/`start_app` without ending or failing; a plain connection's
/// consumer ends when the connection goes.)
pub async fn connect_when_up() -> Connection {
    shared_broker();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let props =
            ConnectionProperties::default().with_connection_name("connector-wazuh-tests".into());
        match Connection::connect(URI, props).await {
            Ok(c) => return c,
            Err(e) if std::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            Err(e) => panic!("RabbitMQ did not come back within 120 s: {e}"),
        }
    }
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

/// Messages waiting in a queue. Fails the test if the queue does not exist (a deleted queue is
/// not an empty one).
pub async fn depth(conn: &Connection, queue: &str) -> u32 {
    let ch = channel(conn).await;
    let opts = QueueDeclareOptions {
        passive: true,
        ..Default::default()
    };
    ch.queue_declare(queue.into(), opts, FieldTable::default())
        .await
        .unwrap_or_else(|e| panic!("queue {queue} does not exist or cannot be read: {e}"))
        .message_count()
}

/// Waits (≤ `timeout`) until `queue` holds exactly `n` messages; returns the last depth read.
pub async fn wait_depth(
    conn: &Connection,
    queue: &str,
    n: u32,
    timeout: std::time::Duration,
) -> u32 {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let d = depth(conn, queue).await;
        if d == n || std::time::Instant::now() >= deadline {
            return d;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Empties a queue. Fails the test if the queue does not exist.
pub async fn purge(conn: &Connection, queue: &str) {
    let ch = channel(conn).await;
    ch.queue_purge(queue.into(), QueuePurgeOptions::default())
        .await
        .unwrap_or_else(|e| panic!("queue {queue} does not exist or cannot be purged: {e}"));
}

/// Deletes a queue (deleting a queue that is already gone is not an error for RabbitMQ).
pub async fn delete(conn: &Connection, queue: &str) {
    let ch = channel(conn).await;
    ch.queue_delete(queue.into(), QueueDeleteOptions::default())
        .await
        .unwrap_or_else(|e| panic!("queue {queue} could not be deleted: {e}"));
}

/// Close every client connection of the broker (simulates a broker restart / network cut).
/// Call [`exclusive_broker`] first.
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

fn rabbitmqctl(args: &[&str]) -> Result<(), String> {
    let out = std::process::Command::new("rabbitmqctl")
        .args(args)
        .output()
        .map_err(|e| format!("rabbitmqctl: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// The broker application stopped (`rabbitmqctl stop_app`); restarted when dropped, also when
/// the test panics, and by a detached watchdog if the test process dies first.
pub struct StoppedBroker {
    restarted: bool,
    watchdog: std::process::Child,
}

impl StoppedBroker {
    /// Stop the broker application. Call [`exclusive_broker`] first. A detached shell restarts
    /// it after `watchdog` whatever happens to this process (`start_app` on a running broker is a
    /// no-op).
    pub fn stop(watchdog: std::time::Duration) -> StoppedBroker {
        let watchdog_child = std::process::Command::new("setsid")
            .args([
                "sh",
                "-c",
                &format!(
                    "sleep {}; rabbitmqctl start_app >/dev/null 2>&1",
                    watchdog.as_secs().max(1)
                ),
            ])
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn the start_app watchdog");
        let guard = StoppedBroker {
            restarted: false,
            watchdog: watchdog_child,
        };
        rabbitmqctl(&["stop_app"]).expect("rabbitmqctl stop_app");
        guard
    }

    /// Start the broker application again and wait until it accepts connections.
    pub fn start(mut self) {
        self.restart();
    }

    fn restart(&mut self) {
        if self.restarted {
            return;
        }
        self.restarted = true;
        if let Err(e) = rabbitmqctl(&["start_app"]) {
            eprintln!("rabbitmqctl start_app failed: {e}");
        }
        let _ = rabbitmqctl(&["await_startup"]);
        // Restarted: the watchdog is no longer needed (it must not restart a broker another
        // test stopped later).
        let _ = self.watchdog.kill();
        let _ = self.watchdog.wait();
    }
}

impl Drop for StoppedBroker {
    fn drop(&mut self) {
        self.restart();
    }
}
