//! The daemon: health check, registration, heartbeat, consuming the listen queue with bounded
//! concurrency, and graceful shutdown.
//!
//! Deliveries are acked only after their result was handed off and their work reported
//! ([`handler`]), or once a copy carrying their next attempt was published ([`delivery`],
//! [`attempts`]); after a broker recovery the acks of old deliveries fail and the broker
//! redelivers them, which is harmless because every id the connector produces is deterministic.

pub mod attempts;
pub mod breaker;
pub mod cooldown;
mod delivery;
pub mod directory;
pub mod handler;
pub mod heartbeat;
pub mod hunt;
pub mod listen;
mod listen_tls;
pub mod observer;
pub mod result;
#[cfg(debug_assertions)]
pub mod test_hook;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_lite::StreamExt;
use lapin::options::BasicCancelOptions;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::amqp::{self, Publisher, Requeuer};
use crate::config::{ListenProtocol, QueueProtocol, Settings};
use crate::indexer::{IndexerClient, IndexerError};
use crate::opencti::{register, ApiError, OpenCtiClient, SetupError};
use crate::ops::{self, Health, Metrics};
use crate::pipeline;

/// State shared by all request tasks.
pub struct Shared {
    pub settings: Arc<Settings>,
    pub client: OpenCtiClient,
    pub ctx: pipeline::Context,
    pub enricher: Arc<dyn pipeline::Enricher>,
    /// Prometheus metrics (served when `CONNECTOR_EXPOSE_METRICS=true`).
    pub metrics: Metrics,

    /// The push-queue publisher (AMQP protocol); replaced when the connection is rebuilt.
    pub publisher: std::sync::RwLock<Option<Publisher>>,
    pub connector_user_id: Option<String>,
    /// Set once the platform turned out to lack `stixBundlePush(work_id:)`.
    pub legacy_bundle_push: AtomicBool,
    /// The indexer's and OpenCTI's circuit breakers.
    pub breakers: Arc<breaker::Breakers>,
    /// How long requests are held for an indexer outage before they are ended in error.
    pub outage_window: Duration,
    /// Cancelled on shutdown: held requests stop waiting and are given back to the broker.
    pub shutdown: CancellationToken,
    /// The re-enrichment cool-down of automatic requests.
    pub cooldown: cooldown::Cooldown,
    /// Where every sent bundle is also written (`CONNECTOR_SEND_TO_DIRECTORY`).
    pub bundle_dir: Option<directory::BundleDirectory>,
}

/// Start-up or fatal run-time failure.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error(transparent)]
    OpenCtiSetup(#[from] SetupError),
    #[error(transparent)]
    Indexer(#[from] IndexerError),
    #[error(transparent)]
    MetricsPrefix(#[from] ops::metrics::PrefixError),
    #[error(transparent)]
    OpsServer(std::io::Error),
    #[error("OpenCTI: {0}")]
    OpenCti(#[from] ApiError),
    #[error("{0}")]
    Amqp(#[from] amqp::AmqpError),
    #[error("bundle directory: {0}")]
    BundleDirectory(#[from] directory::DirectoryError),
    /// The broker cancelled the listen queue's consumer for good (e.g. the queue was deleted):
    /// the daemon exits non-zero so that it is restarted and registers again, which re-declares
    /// the queues.
    #[error("the broker ended the consumer of the listen queue; exiting so that the connector is restarted and registers again")]
    ConsumerLost,
    /// The HTTP callback server of the API listen protocol could not start.
    #[error(transparent)]
    ListenServer(std::io::Error),
}

/// Run until `shutdown` is cancelled (SIGTERM/SIGINT) and in-flight requests are done or the grace
/// period is over.
pub async fn run(settings: Settings, shutdown: CancellationToken) -> Result<(), RunError> {
    run_with(settings, shutdown, Arc::new(pipeline::Pipeline)).await
}

/// [`run`] with another enrichment step (tests of the runtime's delivery paths).
pub async fn run_with(
    settings: Settings,
    shutdown: CancellationToken,
    enricher: Arc<dyn pipeline::Enricher>,
) -> Result<(), RunError> {
    let started = Instant::now();
    let settings = Arc::new(settings);
    let bundle_dir = settings
        .connector
        .send_to_directory
        .as_ref()
        .map(|d| directory::BundleDirectory::open(d, &settings.connector))
        .transpose()?;
    let client = OpenCtiClient::new(&settings.opencti)?;
    let metrics = Metrics::with_prefix(
        &settings.connector.metrics_namespace,
        &settings.connector.metrics_subsystem,
    )?;
    let health = Health::new();
    let breakers = Arc::new(breaker::Breakers::with_hook({
        let metrics = metrics.clone();
        let health = health.clone();
        move |d, up| {
            metrics.dependency(d.label(), up);
            match d {
                breaker::Dependency::Indexer => health.set_indexer_reachable(up),
                breaker::Dependency::OpenCti => health.set_opencti_reachable(up),
            }
        }
    }));
    let ops_server = ops::serve_configured(
        &settings.connector,
        metrics.clone(),
        health.clone(),
        shutdown.child_token(),
    )
    .await
    .map_err(RunError::OpsServer)?;
    if let Some(s) = &ops_server {
        tracing::info!(addr = %s.local_addr, "serving /metrics, /health and /ready");
    }

    let version =
        register::wait_until_reachable(&client, Duration::from_secs(30), &shutdown).await?;
    tracing::info!(platform_version = %version, url = %settings.opencti.url, "OpenCTI reachable");
    if let Some((problem, hint)) = crate::opencti::version::concern(&version) {
        tracing::warn!(platform_version = %version, hint, "{problem}");
    }
    let reg = register::register(&client, &settings).await?;
    tracing::info!(connector_id = %reg.connector_id, listen = %reg.listen, "connector registered");
    health.set_registered(true);
    let ping_cancel = shutdown.child_token();
    let state = heartbeat::StateCell::new(reg.state.clone());
    let pinger = heartbeat::start(
        &client,
        &reg.connector_id,
        &metrics,
        state.clone(),
        ping_cancel.clone(),
    )
    .await;

    // API listening: OpenCTI's worker consumes the listen queue and calls the connector over
    // HTTP, so the broker is used (if at all) only to push results.
    let api_listen = settings.connector.listen.protocol == ListenProtocol::Api;
    let (link, push) = if api_listen {
        (None, listen::open_push(&reg, &settings).await?)
    } else {
        (Some(Link::open(&reg, &settings).await?), None)
    };
    let indexer = Arc::new(IndexerClient::new(&settings.indexer)?);
    metrics.set_search_limit(indexer.limiter().limit());
    let indexer_watch = tokio::spawn(watch_indexer(
        indexer.clone(),
        crate::schema::watched_pattern(&settings),
        health.clone(),
        breakers.clone(),
        shutdown.child_token(),
    ));
    let opencti_watch = tokio::spawn(watch_opencti(
        client.clone(),
        breakers.clone(),
        shutdown.child_token(),
    ));
    let observer = Arc::new(observer::DaemonObserver {
        metrics: metrics.clone(),
        health: health.clone(),
        breakers: breakers.clone(),
    });
    let ctx = pipeline_context(&settings, &client, indexer, observer).await;
    // The Wazuh schema is known (or detected) before the first request needs it, and logged at
    // start-up; if the indexer does not answer yet, the first search asks again.
    tokio::spawn({
        let ctx = ctx.clone();
        async move {
            if let Err(e) = ctx.schema_view().await {
                tracing::warn!(error = %e.message, "Wazuh schema not known yet");
            }
        }
    });
    let hunter = hunt::spawn(
        hunt::HuntDeps {
            settings: settings.clone(),
            client: client.clone(),
            ctx: ctx.clone(),
            metrics: metrics.clone(),
            health: health.clone(),
            state,
            reg: reg.clone(),
        },
        shutdown.child_token(),
    );
    let shared = Arc::new(Shared {
        settings: settings.clone(),
        client,
        ctx,
        enricher,
        metrics: metrics.clone(),
        publisher: std::sync::RwLock::new(match (&link, &push) {
            (Some(l), _) => l.publisher.clone(),
            (None, Some((_, p))) => Some(p.clone()),
            (None, None) => None,
        }),
        connector_user_id: reg.connector_user_id.clone(),
        legacy_bundle_push: AtomicBool::new(false),
        breakers,
        outage_window: settings.connector.outage_window,
        shutdown: shutdown.clone(),
        cooldown: cooldown::Cooldown::new(settings.connector.auto_enrichment_cooldown),
        bundle_dir,
    });
    let ended = match link {
        Some(link) => {
            health.set_consuming(true);
            tracing::info!(queue = %reg.listen, concurrency = settings.connector.concurrency, startup_ms = started.elapsed().as_millis() as u64, "consuming enrichment requests");
            let mut tasks: JoinSet<()> = JoinSet::new();
            let (mut link, ended) = consume(link, &shared, &health, &shutdown, &mut tasks).await;
            drain(&settings, &metrics, &health, &mut link, tasks).await;
            let _ = link.conn.close(200, "shutdown".into()).await;
            ended
        }
        None => {
            let served = listen::serve(
                &shared,
                &health,
                push.map(|(c, _)| c),
                reg.jwks.as_deref(),
                &shutdown,
            )
            .await;
            metrics.set_state(ops::State::Stopped);
            served.map_err(RunError::ListenServer)?;
            LoopEnd::Shutdown
        }
    };
    ping_cancel.cancel();
    let _ = pinger.await;
    if let Some(h) = hunter {
        h.abort();
    }
    indexer_watch.abort();
    opencti_watch.abort();
    if let Some(s) = ops_server {
        let _ = s.handle.await;
    }
    if ended == LoopEnd::ConsumerLost {
        return Err(RunError::ConsumerLost);
    }
    tracing::info!("stopped");
    Ok(())
}

/// The pipeline's shared context: its OpenCTI reads and searches reported to `observer`; the
/// tool list fetched once now when tool context is wanted.
async fn pipeline_context(
    settings: &Arc<Settings>,
    client: &OpenCtiClient,
    indexer: Arc<IndexerClient>,
    observer: Arc<observer::DaemonObserver>,
) -> pipeline::Context {
    let ctx = pipeline::Context::observed(
        settings.clone(),
        Arc::new(client.clone()),
        Some(indexer),
        observer,
    );
    if settings
        .knowledge
        .enrich_types
        .contains(&crate::config::options::EnrichType::Tool)
    {
        // Fetched once now; the cache refreshes the list hourly.
        ctx.tools.names(ctx.source.as_ref()).await;
    }
    ctx
}

/// Everything the daemon holds on the broker: one connection, the listen queue's consumer and
/// the push publisher (AMQP protocol). Rebuilt as a whole when the consumer dies.
struct Link {
    conn: lapin::Connection,
    channel: lapin::Channel,
    consumer: lapin::Consumer,
    publisher: Option<Publisher>,
    /// Puts requests back on the listen queue with their next attempt.
    requeuer: Requeuer,
    /// The consumer is cancelled ([`Link::pause`]) until [`Link::resume`].
    paused: bool,
    listen: String,
    tag: String,
    prefetch: u16,
    conn_name: String,
    reg: register::Registration,
}

impl Link {
    /// The first connection: bounded by a minute, so that a wrong address fails start-up.
    async fn open(
        reg: &register::Registration,
        settings: &Settings,
    ) -> Result<Link, amqp::AmqpError> {
        let conn_name = format!("connector-wazuh {}", settings.connector.id);
        let prefetch = u16::try_from(settings.connector.concurrency).unwrap_or(u16::MAX);
        let tag = format!("connector-wazuh-{}", uuid::Uuid::new_v4());
        Link::connect(
            reg,
            settings.connector.queue_protocol,
            conn_name,
            prefetch,
            tag,
            Duration::from_secs(60),
        )
        .await
    }

    async fn connect(
        reg: &register::Registration,
        protocol: QueueProtocol,
        conn_name: String,
        prefetch: u16,
        tag: String,
        first_connect: Duration,
    ) -> Result<Link, amqp::AmqpError> {
        let conn = amqp::connect(&reg.connection, &conn_name, first_connect).await?;
        let publisher = match protocol {
            QueueProtocol::Amqp => {
                Some(Publisher::new(&conn, &reg.push_exchange, &reg.push_routing).await?)
            }
            QueueProtocol::Api => None,
        };
        let requeuer = Requeuer::new(&conn, &reg.listen).await?;
        let (channel, consumer) = amqp::consume(&conn, &reg.listen, prefetch, &tag).await?;
        Ok(Link {
            conn,
            channel,
            consumer,
            publisher,
            requeuer,
            paused: false,
            listen: reg.listen.clone(),
            tag,
            prefetch,
            conn_name,
            reg: reg.clone(),
        })
    }

    /// A new link like this one, retried every 5 s until the broker accepts it or shutdown is
    /// requested (`None`).
    async fn reconnect(
        &self,
        protocol: QueueProtocol,
        shutdown: &CancellationToken,
    ) -> Option<Link> {
        loop {
            match Link::connect(
                &self.reg,
                protocol,
                self.conn_name.clone(),
                self.prefetch,
                self.tag.clone(),
                Duration::from_secs(30),
            )
            .await
            {
                Ok(l) => return Some(l),
                Err(e) => {
                    tracing::warn!(error = %e, "reconnecting to the broker failed; retrying in 5 s");
                    tokio::select! {
                        _ = shutdown.cancelled() => return None,
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                    }
                }
            }
        }
    }
}

impl Link {
    /// Stops deliveries: cancels the consumer, then gives back, unprocessed and as the same
    /// attempt, what the broker had already sent (prefetched deliveries this process holds but
    /// has not started). Afterwards this process holds only the deliveries it is handling.
    async fn pause(&mut self) {
        if std::mem::replace(&mut self.paused, true) {
            return;
        }
        if let Err(e) = self
            .channel
            .basic_cancel(self.tag.as_str().into(), BasicCancelOptions::default())
            .await
        {
            // The channel is likely gone; the watchdog replaces the link.
            tracing::warn!(error = %e, "cancelling the consumer failed");
            self.paused = false;
            return;
        }
        // The stream ends once the broker confirmed the cancel; bounded in case it never does.
        while let Ok(Some(Ok(d))) =
            tokio::time::timeout(Duration::from_secs(5), self.consumer.next()).await
        {
            delivery::give_back(&self.requeuer, d).await;
        }
    }

    /// Takes deliveries again after [`Link::pause`].
    async fn resume(&mut self) -> Result<(), amqp::AmqpError> {
        if !self.paused {
            return Ok(());
        }
        self.consumer = amqp::consume_on(&self.channel, &self.listen, &self.tag).await?;
        self.paused = false;
        Ok(())
    }
}

/// Why the consume loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LoopEnd {
    Shutdown,
    ConsumerLost,
}

/// Takes deliveries while a slot is free and hands each to a task; replaces the broker link when
/// its consumer dies. Returns the link in use at the end and why it ended.
///
/// A request whose earlier delivery was interrupted (see [`attempts`]) runs alone: the consumer
/// is paused (prefetched deliveries given back), the request waits for every slot, and
/// deliveries resume when it is settled. If it is what kills the process, the next restart
/// finds only it in flight — the innocent requests are not interrupted with it again and again.
async fn consume(
    mut link: Link,
    shared: &Arc<Shared>,
    health: &Health,
    shutdown: &CancellationToken,
    tasks: &mut JoinSet<()>,
) -> (Link, LoopEnd) {
    let protocol = shared.settings.connector.queue_protocol;
    let concurrency = shared.settings.connector.concurrency;
    let max_attempts = shared.settings.connector.max_attempts;
    let sem = Arc::new(tokio::sync::Semaphore::new(concurrency));
    // Consumer watchdog (see `amqp::consumer_alive`): a dead consumer is replaced by a new
    // connection, channel, consumer and publisher, in place, without exiting.
    let mut probe = tokio::time::interval(CONSUMER_PROBE_PERIOD);
    probe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut rebuild = false;
    // The task running an interrupted request alone, while the consumer is paused.
    let mut alone: Option<tokio::task::Id> = None;
    loop {
        if rebuild {
            rebuild = false;
            health.set_consuming(false);
            tracing::warn!("the listen queue's consumer is gone; reconnecting to the broker");
            let Some(new) = link.reconnect(protocol, shutdown).await else {
                return (link, LoopEnd::Shutdown);
            };
            // In-flight requests keep their old channel: their acks fail and the broker
            // redelivers them, which the idempotent pipeline absorbs. A request running alone
            // holds (or is first in line for) every slot until it ends, so the new consumer
            // starts nothing beside it.
            let old = std::mem::replace(&mut link, new);
            alone = None;
            if let Ok(mut slot) = shared.publisher.write() {
                *slot = link.publisher.clone();
            }
            let _ = old.conn.close(200, "replaced".into()).await;
            shared.metrics.amqp_reconnect();
            health.set_consuming(true);
            tracing::info!(queue = %link.listen, "consuming enrichment requests again");
        }
        // Without OpenCTI nothing can be reported: take nothing while it is down. (An indexer
        // outage holds the requests that need it in their slots; the others go on.)
        let paused = shared.breakers.opencti.down_since().is_some();
        let taking = sem.available_permits() > 0 && alone.is_none();
        tokio::select! {
            _ = shutdown.cancelled() => return (link, LoopEnd::Shutdown),
            _ = probe.tick() => {
                if !amqp::consumer_alive(&link.conn, &link.channel, &link.listen, taking).await {
                    rebuild = true;
                }
            }
            Some(joined) = tasks.join_next_with_id(), if !tasks.is_empty() => {
                let id = match &joined {
                    Ok((id, ())) => *id,
                    Err(e) => e.id(),
                };
                if alone == Some(id) {
                    alone = None;
                    if let Err(e) = link.resume().await {
                        tracing::warn!(error = %e, "cannot take requests again after the one that ran alone; reconnecting to the broker");
                        rebuild = true;
                    } else {
                        tracing::info!("the interrupted request is settled: taking requests again");
                    }
                }
            }
            // While OpenCTI is down no delivery is taken (they wait in the queue, costing
            // nothing); this wakes the loop when it answers again.
            _ = shared.breakers.opencti.wait_closed(shutdown), if paused => {
                tracing::info!("OpenCTI answers again: taking requests");
            }
            // Only take a delivery when a slot is free, so the loop itself never blocks: the
            // watchdog and a rebuild must run even while every slot waits on the broker.
            next = link.consumer.next(), if taking && !paused => match next {
                Some(Ok(d)) => {
                    let arrival = attempts::arrival(d.redelivered, d.properties.headers().as_ref(), max_attempts);
                    let Ok(slot) = sem.clone().acquire_owned().await else {
                        return (link, LoopEnd::Shutdown);
                    };
                    // Alone: every other slot too, waited for in the task so that the loop goes
                    // on meanwhile (the semaphore is fair: no request gets a slot before it).
                    let runs_alone = matches!(arrival, attempts::Arrival::RunAlone(_));
                    let others = if runs_alone {
                        tracing::warn!("a request whose earlier delivery was interrupted runs alone: no other request is taken until it is settled");
                        link.pause().await;
                        u32::try_from(concurrency.saturating_sub(1)).unwrap_or(u32::MAX)
                    } else {
                        0
                    };
                    let (shared, sem, requeuer) = (shared.clone(), sem.clone(), link.requeuer.clone());
                    let task = tasks.spawn(async move {
                        let _slot = slot;
                        let Ok(_others) = sem.acquire_many_owned(others).await else {
                            return;
                        };
                        delivery::settle(&shared, &requeuer, d, arrival).await;
                    });
                    if runs_alone {
                        alone = Some(task.id());
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "consumer error; reconnecting to the broker");
                    rebuild = true;
                }
                None => {
                    tracing::error!("the broker ended the consumer (was the listen queue deleted?); restarting is needed to register again");
                    return (link, LoopEnd::ConsumerLost);
                }
            }
        }
    }
}

/// Graceful shutdown: stop taking requests, let in-flight ones finish within the grace period;
/// unfinished ones stay unacked and are redelivered.
async fn drain(
    settings: &Settings,
    metrics: &Metrics,
    health: &Health,
    link: &mut Link,
    mut tasks: JoinSet<()>,
) {
    let grace = settings.connector.shutdown_grace_period;
    metrics.set_state(ops::State::Stopped);
    health.set_consuming(false);
    tracing::info!(
        in_flight = tasks.len(),
        grace_s = grace.as_secs(),
        "shutting down: no new requests"
    );
    // Prefetched deliveries are given back as they are, so that the next process does not
    // count them as interrupted.
    link.pause().await;
    let drained =
        tokio::time::timeout(grace, async { while tasks.join_next().await.is_some() {} }).await;
    if drained.is_err() {
        tracing::warn!(
            left = tasks.len(),
            "grace period over; unfinished requests will be redelivered"
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
}

/// How often the consumer watchdog checks the listen queue's consumer.
const CONSUMER_PROBE_PERIOD: Duration = Duration::from_secs(10);

/// How often a dependency whose breaker is open is probed.
const PROBE_WHILE_DOWN: Duration = Duration::from_secs(2);

/// Keep the readiness flag `indexer_reachable` and the indexer's breaker current (one probe every
/// 30 s whatever the concurrency, every 2 s while the breaker is open; logged on change). The
/// probe is a search on the alert index pattern that scans nothing (`IndexerClient::probe`), so
/// credentials, permissions and TLS are verified too; searches update both in between.
async fn watch_indexer(
    indexer: Arc<IndexerClient>,
    index: String,
    health: Health,
    breakers: Arc<breaker::Breakers>,
    cancel: CancellationToken,
) {
    let mut last: Option<bool> = None;
    loop {
        let ok = match indexer.probe(&index).await {
            Ok(_) => {
                breakers.indexer.succeeded();
                true
            }
            Err(e) => {
                if e.is_transient() {
                    breakers.indexer.failed();
                } else {
                    breakers.indexer.succeeded();
                }
                let usable = pipeline::search::reachable_after(&e);
                if last != Some(usable) {
                    tracing::warn!(error = %e, "Wazuh indexer check failed");
                }
                usable
            }
        };
        if ok && last != Some(true) {
            tracing::info!("the Wazuh indexer is reachable");
        }
        health.set_indexer_reachable(ok);
        last = Some(ok);
        let period = if breakers.indexer.down_since().is_some() {
            PROBE_WHILE_DOWN
        } else {
            Duration::from_secs(30)
        };
        tokio::select! {
            _ = tokio::time::sleep(period) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// While OpenCTI's breaker is open, ask the platform for its version every 2 s and close the
/// breaker on the first answer (requests close it too as soon as one of their calls passes).
async fn watch_opencti(
    client: OpenCtiClient,
    breakers: Arc<breaker::Breakers>,
    cancel: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PROBE_WHILE_DOWN) => {}
            _ = cancel.cancelled() => return,
        }
        if breakers.opencti.down_since().is_none() {
            continue;
        }
        match client.version().await {
            Err(e) if e.is_transient() => {}
            _ => {
                breakers.opencti.succeeded();
            }
        }
    }
}
