//! The adaptive bound on searches in flight at the indexer, separate from
//! `CONNECTOR_CONCURRENCY`.
//!
//! The Wazuh indexer is shared production infrastructure. When it slows down, sending it more
//! searches only lengthens its queue, makes the client time out, and makes it compute answers
//! nobody reads. So every HTTP attempt (first tries and retries alike) takes a permit, and the
//! number of permits follows the indexer's health, additive increase / multiplicative decrease:
//! halve on an overload signal (a timeout, HTTP 429 or 5xx, a connection error, a search the
//! indexer itself timed out) or on a slow answer (more than a quarter of the client timeout:
//! the indexer is queueing); grow by one after as many fast answers in a row as the current
//! limit (one "round" of fast answers). Requests waiting for a permit hold their message
//! unacknowledged, and the broker keeps the rest of a burst: a queue in RabbitMQ is safe, a
//! queue inside the indexer is not.
//!
//! The decision is the pure [`next`]; [`Limiter`] is the shell around it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::sync::Notify;

/// Upper bound of the adaptive limit: searches in flight from one connector process.
pub const MAX_IN_FLIGHT: usize = 4;

/// How one attempt went, as far as the indexer's load is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Answered (successfully or with a permanent refusal) faster than the slow threshold.
    Fast,
    /// Answered, but slowly: the indexer is queueing.
    Slow,
    /// Timed out, refused for load (429, 5xx) or unreachable.
    Overloaded,
}

/// The adaptive state: the limit and the fast answers since it last changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    pub limit: usize,
    pub fast_streak: usize,
}

/// The next state after `signal`, the limit staying within `1..=max`.
pub fn next(s: State, signal: Signal, max: usize) -> State {
    match signal {
        Signal::Fast if s.fast_streak + 1 >= s.limit => State {
            limit: (s.limit + 1).min(max.max(1)),
            fast_streak: 0,
        },
        Signal::Fast => State {
            fast_streak: s.fast_streak + 1,
            ..s
        },
        Signal::Slow | Signal::Overloaded => State {
            limit: (s.limit / 2).max(1),
            fast_streak: 0,
        },
    }
}

/// Classifies an answer time against the slow threshold.
pub fn latency_signal(took: Duration, slow: Duration) -> Signal {
    if took > slow {
        Signal::Slow
    } else {
        Signal::Fast
    }
}

struct Inner {
    state: State,
    in_flight: usize,
}

/// The shared limiter of one indexer client.
pub struct Limiter {
    inner: Mutex<Inner>,
    freed: Notify,
    max: usize,
    /// Highest number of permits held at once since start (for benchmarks and tests).
    peak: AtomicUsize,
    /// The current limit, readable without the lock (exported as a metric).
    current: AtomicUsize,
}

impl std::fmt::Debug for Limiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Limiter")
            .field("limit", &self.limit())
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Limiter {
    /// A limiter starting at `max` permits.
    pub fn new(max: usize) -> Limiter {
        let max = max.max(1);
        Limiter {
            inner: Mutex::new(Inner {
                state: State {
                    limit: max,
                    fast_streak: 0,
                },
                in_flight: 0,
            }),
            freed: Notify::new(),
            max,
            peak: AtomicUsize::new(0),
            current: AtomicUsize::new(max),
        }
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.current.load(Ordering::Relaxed)
    }

    /// The most permits ever held at once.
    pub fn peak_in_flight(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits for a permit (first come, first served as far as `Notify` wakes waiters).
    pub async fn acquire(&self) -> Permit<'_> {
        loop {
            let notified = self.freed.notified();
            {
                let mut g = self.lock();
                if g.in_flight < g.state.limit {
                    g.in_flight += 1;
                    self.peak.fetch_max(g.in_flight, Ordering::Relaxed);
                    return Permit {
                        limiter: self,
                        signal: None,
                    };
                }
            }
            notified.await;
        }
    }

    fn release(&self, signal: Option<Signal>) {
        let mut g = self.lock();
        g.in_flight = g.in_flight.saturating_sub(1);
        if let Some(s) = signal {
            g.state = next(g.state, s, self.max);
            self.current.store(g.state.limit, Ordering::Relaxed);
        }
        let free = g.state.limit.saturating_sub(g.in_flight);
        drop(g);
        for _ in 0..free {
            self.freed.notify_one();
        }
    }
}

/// One search attempt's right to be in flight; released on drop. An attempt abandoned without
/// a verdict (its future dropped) changes nothing but the count.
pub struct Permit<'a> {
    limiter: &'a Limiter,
    signal: Option<Signal>,
}

impl Permit<'_> {
    /// Records how the attempt went (the limit adapts when the permit is released).
    pub fn report(&mut self, signal: Signal) {
        self.signal = Some(signal);
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.limiter.release(self.signal);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn st(limit: usize, fast_streak: usize) -> State {
        State { limit, fast_streak }
    }

    #[test]
    fn halves_on_overload_or_slowness_and_never_below_one() {
        assert_eq!(next(st(4, 2), Signal::Overloaded, 4), st(2, 0));
        assert_eq!(next(st(4, 0), Signal::Slow, 4), st(2, 0));
        assert_eq!(next(st(1, 0), Signal::Overloaded, 4), st(1, 0));
        assert_eq!(next(st(3, 0), Signal::Slow, 4), st(1, 0));
    }

    #[test]
    fn grows_by_one_after_a_round_of_fast_answers_up_to_the_max() {
        let mut s = st(1, 0);
        s = next(s, Signal::Fast, 4);
        assert_eq!(s, st(2, 0), "at limit 1, one fast answer is a round");
        s = next(s, Signal::Fast, 4);
        assert_eq!(s, st(2, 1));
        s = next(s, Signal::Fast, 4);
        assert_eq!(s, st(3, 0));
        for _ in 0..20 {
            s = next(s, Signal::Fast, 4);
        }
        assert_eq!(s.limit, 4, "never above the max");
    }

    #[test]
    fn slow_is_relative_to_the_threshold() {
        let slow = Duration::from_secs(5);
        assert_eq!(
            latency_signal(Duration::from_millis(30), slow),
            Signal::Fast
        );
        assert_eq!(latency_signal(Duration::from_secs(6), slow), Signal::Slow);
    }

    #[tokio::test]
    async fn permits_are_bounded_by_the_adapted_limit() {
        let l = std::sync::Arc::new(Limiter::new(4));
        {
            let mut p = l.acquire().await;
            p.report(Signal::Overloaded);
        }
        assert_eq!(l.limit(), 2);
        let a = l.acquire().await;
        let b = l.acquire().await;
        // A third waits until one is released.
        let l2 = l.clone();
        let third = tokio::spawn(async move {
            let _p = l2.acquire().await;
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!third.is_finished(), "a third search waits for a permit");
        drop(a);
        third.await.unwrap();
        drop(b);
        assert_eq!(l.peak_in_flight(), 2);
        assert_eq!(l.limit(), 2, "released without a verdict: unchanged");
    }
}
