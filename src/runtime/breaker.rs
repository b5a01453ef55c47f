//! Circuit breakers for the two dependencies a request needs, the Wazuh indexer and OpenCTI.
//!
//! A breaker opens on the first failure that says the dependency is down (no connection, a
//! timeout, 5xx, 429) and closes on the first answer (a search, a read, a work report or the
//! dependency's probe). A request that failed because a dependency did not answer is held in the
//! process until that breaker closes, then tried again: an outage delays results instead of
//! failing them, and costs no attempt. While OpenCTI's breaker is open no delivery is taken at
//! all. A request held longer than the outage window is ended in error, with a message naming the
//! dependency and since when.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

pub use crate::pipeline::Dependency;

/// When an open breaker opened: monotonic for the window, wall clock for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownSince {
    pub at: Instant,
    pub wall: DateTime<Utc>,
}

/// One dependency's breaker; `None` = closed (the dependency answers).
pub struct Breaker {
    dependency: Dependency,
    state: Mutex<Option<DownSince>>,
    changed: watch::Sender<bool>,
    on_change: Hook,
}

/// Called with `true` when a breaker closes and `false` when it opens (readiness, metrics).
pub type Hook = Box<dyn Fn(Dependency, bool) + Send + Sync>;

impl Breaker {
    fn new(dependency: Dependency, on_change: Hook) -> Breaker {
        Breaker {
            dependency,
            state: Mutex::new(None),
            changed: watch::Sender::new(true),
            on_change,
        }
    }

    /// A failure that says the dependency is down. Returns true when this opened the breaker.
    pub fn failed(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if s.is_some() {
            return false;
        }
        *s = Some(DownSince {
            at: Instant::now(),
            wall: Utc::now(),
        });
        self.changed.send_replace(false);
        (self.on_change)(self.dependency, false);
        tracing::warn!(
            dependency = self.dependency.display_name(),
            "dependency down: holding requests until it answers again"
        );
        true
    }

    /// An answer from the dependency. Returns true when this closed the breaker.
    pub fn succeeded(&self) -> bool {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let Some(since) = s.take() else {
            return false;
        };
        self.changed.send_replace(true);
        (self.on_change)(self.dependency, true);
        tracing::info!(
            dependency = self.dependency.display_name(),
            down_s = since.at.elapsed().as_secs(),
            "dependency answers again: resuming"
        );
        true
    }

    /// `Some(since)` while open.
    pub fn down_since(&self) -> Option<DownSince> {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until the breaker is closed, or `cancel`; true when closed.
    pub async fn wait_closed(&self, cancel: &CancellationToken) -> bool {
        let mut rx = self.changed.subscribe();
        tokio::select! {
            r = rx.wait_for(|up| *up) => r.is_ok(),
            _ = cancel.cancelled() => false,
        }
    }
}

/// The breakers of both dependencies, shared by the consumer, the request tasks and the probes.
pub struct Breakers {
    pub indexer: Breaker,
    pub opencti: Breaker,
}

impl Default for Breakers {
    fn default() -> Self {
        Breakers::with_hook(|_, _| {})
    }
}

impl Breakers {
    /// Breakers that call `hook` on every change (both start closed).
    pub fn with_hook(hook: impl Fn(Dependency, bool) + Send + Sync + Clone + 'static) -> Self {
        Breakers {
            indexer: Breaker::new(Dependency::Indexer, Box::new(hook.clone())),
            opencti: Breaker::new(Dependency::OpenCti, Box::new(hook)),
        }
    }

    pub fn get(&self, d: Dependency) -> &Breaker {
        match d {
            Dependency::Indexer => &self.indexer,
            Dependency::OpenCti => &self.opencti,
        }
    }
}

/// How long an outage has lasted, and whether it is past `window`.
pub fn past_window(since: &DownSince, window: Duration) -> bool {
    since.at.elapsed() >= window
}

/// The work message of a request given up because `dependency` did not answer it for the whole
/// window.
pub fn outage_message(dependency: Dependency, since: &DownSince, window: Duration) -> String {
    format!(
        "{} has been unreachable since {} ({} min, longer than CONNECTOR_OUTAGE_WINDOW={} min); ask for the enrichment again once it is back",
        capitalise(dependency.display_name()),
        since.wall.format("%Y-%m-%d %H:%M:%S UTC"),
        since.at.elapsed().as_secs() / 60,
        window.as_secs() / 60,
    )
}

impl DownSince {
    pub fn now() -> DownSince {
        DownSince {
            at: Instant::now(),
            wall: Utc::now(),
        }
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn opens_on_failure_and_keeps_the_first_since() {
        let b = Breakers::default();
        assert!(b.indexer.failed());
        let since = b.indexer.down_since().unwrap();
        assert!(!b.indexer.failed(), "already open");
        assert_eq!(b.indexer.down_since(), Some(since));
        assert!(
            b.opencti.down_since().is_none(),
            "one breaker per dependency"
        );
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert!(
            !b.indexer.wait_closed(&cancel).await,
            "cancelled while open"
        );
        assert!(
            b.opencti.wait_closed(&CancellationToken::new()).await,
            "closed: at once"
        );
    }

    #[tokio::test]
    async fn waiter_resumes_when_the_dependency_answers() {
        let b = std::sync::Arc::new(Breakers::default());
        b.opencti.failed();
        let w = {
            let b = b.clone();
            tokio::spawn(async move { b.opencti.wait_closed(&CancellationToken::new()).await })
        };
        tokio::task::yield_now().await;
        assert!(b.opencti.succeeded());
        assert!(w.await.unwrap());
        assert!(!b.opencti.succeeded(), "already closed");
    }

    #[test]
    fn outage_message_names_the_dependency_and_since_when() {
        let since = DownSince {
            at: Instant::now(),
            wall: DateTime::parse_from_rfc3339("2026-01-02T03:04:05Z")
                .unwrap()
                .with_timezone(&Utc),
        };
        let m = outage_message(Dependency::Indexer, &since, Duration::from_secs(600));
        assert!(
            m.starts_with("The Wazuh indexer has been unreachable since 2026-01-02 03:04:05 UTC"),
            "{m}"
        );
        assert!(m.contains("CONNECTOR_OUTAGE_WINDOW=10 min"), "{m}");
        assert!(!past_window(&since, Duration::from_secs(600)));
        assert!(past_window(&since, Duration::ZERO));
    }
}
