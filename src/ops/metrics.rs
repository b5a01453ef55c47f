//! Prometheus metrics of the connector.
//!
//! The pycti metric names (`bundles_sent_total`, `records_sent_total`, `runs_total`,
//! `ping_api_total`, `ping_api_errors_total`, `errors_total`, `client_errors_total`, `state`) are
//! kept exactly, with the same optional `<namespace>_<subsystem>_` prefix
//! (`CONNECTOR_METRICS_NAMESPACE` / `CONNECTOR_METRICS_SUBSYSTEM`), so dashboards built for Python
//! connectors keep working. The connector's own metrics (per-outcome requests, latency
//! histograms, hits per search, AMQP reconnects, OpenCTI API errors by operation) are added next
//! to them. `docs/metrics.md` documents every series.
//!
//! [`Metrics`] is a cheap, cloneable handle (an `Arc`): the runtime calls its methods from any task;
//! every update is a few atomic operations, so metrics are recorded whether or not they are
//! exposed over HTTP.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use std::fmt::Write as _;

use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::{Metric, Registry};

/// Generates a label-value enum with `ALL`, `as_str` and its Prometheus label encoding.
macro_rules! label_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($(#[$vm])* $variant),+ }
        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The label value as exposed.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }
        impl EncodeLabelValue for $name {
            fn encode(&self, encoder: &mut LabelValueEncoder) -> Result<(), std::fmt::Error> {
                encoder.write_str(self.as_str())
            }
        }
    };
}

label_enum!(
    /// The connector's life-cycle state, exposed as pycti's `state{state="…"}` enum (exactly one
    /// of the three series is 1).
    State {
        /// Registered and waiting for requests.
        Idle = "idle",
        /// At least one request is being processed.
        Running = "running",
        /// Shutting down or stopped; requests are no longer taken.
        Stopped = "stopped",
    }
);

label_enum!(
    /// How one enrichment request ended (label `outcome` of `enrichment_requests_total`).
    Outcome {
        /// The indexer had matching alerts; a bundle with knowledge was sent.
        Enriched = "enriched",
        /// The search ran and found nothing.
        NoHits = "no_hits",
        /// Not searched on purpose (out of scope, ignore label, own object, playbook
        /// pass-through…).
        Skipped = "skipped",
        /// Refused by policy: the entity's TLP is above `WAZUH_MAX_TLP`, or an abort limit was hit.
        Refused = "refused",
        /// Failed with an error (indexer, OpenCTI, bad message); the work was marked in error.
        Failed = "failed",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct StateLabels {
    state: State,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: Outcome,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct DependencyLabels {
    dependency: &'static str,
}

/// How the HTTP callback server answered one call (API listen protocol).
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct AnswerLabels {
    answer: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OperationLabels {
    operation: &'static str,
}

/// A metric name prefix that is not a valid Prometheus name part.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid metrics {what} {value:?}: use letters, digits and '_' only, not starting with a digit (CONNECTOR_METRICS_{env})")]
pub struct PrefixError {
    what: &'static str,
    env: &'static str,
    value: String,
}

/// Bucket upper bounds (seconds) for a whole enrichment request: from a cache-fast 50 ms to a
/// two-minute worst case (indexer timeout × retries).
const REQUEST_BUCKETS: [f64; 12] = [
    0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0,
];
/// Bucket upper bounds (seconds) for one indexer search (default timeout 20 s).
const SEARCH_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
];
/// Bucket upper bounds for total hits of one search; 0 gets its own bucket because "nothing
/// found" is the common case worth seeing.
const HITS_BUCKETS: [f64; 11] = [
    0.0, 1.0, 5.0, 10.0, 50.0, 100.0, 500.0, 1000.0, 5000.0, 10000.0, 100000.0,
];
/// Bucket upper bounds for STIX objects in one sent bundle.
const OBJECTS_BUCKETS: [f64; 10] = [
    1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0, 5000.0,
];

/// The OpenCTI operations whose failures the runtime counts (label `operation`), listed in
/// docs/metrics.md. Their series exist from the start, so that a dashboard's error panel shows
/// zeros rather than no data, and `rate()` sees the first failure; a name not listed here still
/// gets its series on first use.
const OPENCTI_OPERATIONS: [&str; 11] = [
    "registerConnector",
    "pingConnector",
    "workToReceived",
    "workToProcessed",
    "addExpectations",
    "stixBundlePush",
    "playbookStepExecution",
    "stix",
    "stixCyberObservable",
    "indicator",
    "tools",
];

/// The dependencies with a circuit breaker (label `dependency`).
const DEPENDENCIES: [&str; 2] = ["indexer", "opencti"];

struct Inner {
    registry: Registry,
    // pycti-compatible
    bundles_sent: Counter,
    records_sent: Counter,
    runs: Counter,
    ping_api: Counter,
    ping_api_errors: Counter,
    errors: Counter,
    client_errors: Counter,
    state: Family<StateLabels, Gauge>,
    // connector-specific
    requests: Family<OutcomeLabels, Counter>,
    in_flight: Gauge,
    request_duration: Histogram,
    search_duration: Histogram,
    search_hits: Histogram,
    search_errors: Counter,
    search_limit: Gauge,
    bundle_objects: Histogram,
    amqp_reconnects: Counter,
    opencti_api_errors: Family<OperationLabels, Counter>,
    handler_panics: Counter,
    listen_callbacks: Family<AnswerLabels, Counter>,
    interrupted: Counter,
    dependency_up: Family<DependencyLabels, Gauge>,
    dependency_outages: Family<DependencyLabels, Counter>,
    ready: Gauge,
    hunt: super::hunt_metrics::HuntMetrics,
    /// Serialises state transitions so the three `state` series never show two 1s.
    current_state: Mutex<State>,
}

/// Cloneable handle on the connector's metrics; see the module documentation.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::build(None)
    }
}

/// pycti (Python `prometheus_client`) joins namespace, subsystem and name with `_`, skipping empty
/// parts; this returns the joined prefix, or `None` when both are empty.
pub fn metric_prefix(namespace: &str, subsystem: &str) -> Result<Option<String>, PrefixError> {
    fn check(value: &str, what: &'static str, env: &'static str) -> Result<(), PrefixError> {
        let ok = value.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !value.starts_with(|c: char| c.is_ascii_digit());
        if ok {
            Ok(())
        } else {
            Err(PrefixError {
                what,
                env,
                value: value.to_string(),
            })
        }
    }
    let namespace = namespace.trim();
    let subsystem = subsystem.trim();
    check(namespace, "namespace", "NAMESPACE")?;
    check(subsystem, "subsystem", "SUBSYSTEM")?;
    let parts: Vec<&str> = [namespace, subsystem]
        .into_iter()
        .filter(|p| !p.is_empty())
        .collect();
    Ok(if parts.is_empty() {
        None
    } else {
        Some(parts.join("_"))
    })
}

/// Registers a clone of `metric` and returns the metric (both share one value).
fn reg<M: Metric + Clone>(r: &mut Registry, name: &str, help: &str, metric: M) -> M {
    r.register(name, help, metric.clone());
    metric
}

impl Metrics {
    /// Metrics without a name prefix (pycti's default).
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// Metrics named `<namespace>_<subsystem>_<name>` (empty parts skipped), as pycti does with
    /// `CONNECTOR_METRICS_NAMESPACE` / `CONNECTOR_METRICS_SUBSYSTEM`.
    pub fn with_prefix(namespace: &str, subsystem: &str) -> Result<Metrics, PrefixError> {
        Ok(Metrics::build(metric_prefix(namespace, subsystem)?))
    }

    fn build(prefix: Option<String>) -> Metrics {
        let mut registry = match prefix {
            Some(p) => Registry::with_prefix(p),
            None => Registry::default(),
        };
        let r = &mut registry;

        let bundles_sent = reg(
            r,
            "bundles_sent",
            "Number of bundles sent",
            Counter::default(),
        );
        let records_sent = reg(
            r,
            "records_sent",
            "Number of records (STIX objects) sent",
            Counter::default(),
        );
        let runs = reg(
            r,
            "runs",
            "Number of enrichment runs (requests processed)",
            Counter::default(),
        );
        let ping_api = reg(
            r,
            "ping_api",
            "Number of pings to the API",
            Counter::default(),
        );
        let ping_api_errors = reg(
            r,
            "ping_api_errors",
            "Number of errors when pinging the API",
            Counter::default(),
        );
        let errors = reg(r, "errors", "Number of failed requests", Counter::default());
        let client_errors = reg(
            r,
            "client_errors",
            "Number of OpenCTI API client errors",
            Counter::default(),
        );
        let state = reg(
            r,
            "state",
            "State of the connector",
            Family::<StateLabels, Gauge>::default(),
        );

        let requests = reg(
            r,
            "enrichment_requests",
            "Enrichment requests finished, by outcome",
            Family::<OutcomeLabels, Counter>::default(),
        );
        let in_flight = reg(
            r,
            "enrichment_requests_in_flight",
            "Enrichment requests being processed now",
            Gauge::default(),
        );
        let request_duration = reg(
            r,
            "enrichment_request_duration_seconds",
            "Time from receiving a request to its end (all outcomes)",
            Histogram::new(REQUEST_BUCKETS),
        );
        let search_duration = reg(
            r,
            "indexer_search_duration_seconds",
            "Duration of one search on the Wazuh indexer, retries included",
            Histogram::new(SEARCH_BUCKETS),
        );
        let search_hits = reg(
            r,
            "indexer_search_hits",
            "Total matching alerts reported by one successful search",
            Histogram::new(HITS_BUCKETS),
        );
        let search_errors = reg(
            r,
            "indexer_search_errors",
            "Searches on the Wazuh indexer that failed after retries",
            Counter::default(),
        );
        let search_limit = reg(
            r,
            "indexer_search_limit",
            "Searches allowed in flight at the Wazuh indexer now (adapts to its latency)",
            Gauge::default(),
        );
        let bundle_objects = reg(
            r,
            "bundle_objects",
            "STIX objects in one sent bundle",
            Histogram::new(OBJECTS_BUCKETS),
        );
        let amqp_reconnects = reg(
            r,
            "amqp_reconnects",
            "Reconnections to RabbitMQ after a lost connection",
            Counter::default(),
        );
        let opencti_api_errors = reg(
            r,
            "opencti_api_errors",
            "Failed OpenCTI GraphQL calls, by operation",
            Family::<OperationLabels, Counter>::default(),
        );
        let handler_panics = reg(
            r,
            "request_handler_panics",
            "Requests whose handler panicked (a bug: the delivery is put back as a failed attempt)",
            Counter::default(),
        );
        let interrupted = reg(
            r,
            "requests_interrupted",
            "Deliveries that came back from a connector that stopped while holding them (killed, out of memory, crashed, or its broker connection cut)",
            Counter::default(),
        );
        let listen_callbacks = reg(
            r,
            "listen_callbacks",
            "Calls to the HTTP callback server (API listen protocol), by answer: accepted, unauthorized, too_large, busy, unreadable",
            Family::<AnswerLabels, Counter>::default(),
        );
        let dependency_up = reg(
            r,
            "dependency_up",
            "1 while the dependency's circuit breaker is closed (it answers), 0 while it is open",
            Family::<DependencyLabels, Gauge>::default(),
        );
        let dependency_outages = reg(
            r,
            "dependency_outages",
            "Times the dependency's circuit breaker opened",
            Family::<DependencyLabels, Counter>::default(),
        );
        let ready = reg(
            r,
            "ready",
            "1 while the connector is ready (registered, consuming, indexer and OpenCTI reachable: what /ready answers 200 for), else 0",
            Gauge::default(),
        );
        for dependency in DEPENDENCIES {
            let l = DependencyLabels { dependency };
            dependency_up.get_or_create(&l).set(1);
            dependency_outages.get_or_create(&l).inc_by(0);
        }
        r.register(
            "build",
            "Connector build information",
            Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]),
        );

        // Pre-create every labelled series so a scrape shows zeros instead of missing series
        // (rate() over a series that appears mid-way loses its first increment).
        for &s in State::ALL {
            state.get_or_create(&StateLabels { state: s }).set(0);
        }
        state
            .get_or_create(&StateLabels { state: State::Idle })
            .set(1);
        for operation in OPENCTI_OPERATIONS {
            opencti_api_errors
                .get_or_create(&OperationLabels { operation })
                .inc_by(0);
        }
        for &o in Outcome::ALL {
            requests
                .get_or_create(&OutcomeLabels { outcome: o })
                .inc_by(0);
        }

        let hunt = super::hunt_metrics::HuntMetrics::register(r);
        Metrics {
            inner: Arc::new(Inner {
                registry,
                bundles_sent,
                records_sent,
                runs,
                ping_api,
                ping_api_errors,
                errors,
                client_errors,
                state,
                requests,
                in_flight,
                request_duration,
                search_duration,
                search_hits,
                search_errors,
                search_limit,
                bundle_objects,
                amqp_reconnects,
                opencti_api_errors,
                handler_panics,
                listen_callbacks,
                interrupted,
                dependency_up,
                dependency_outages,
                ready,
                hunt,
                current_state: Mutex::new(State::Idle),
            }),
        }
    }

    /// A request was taken from the queue: counts it in flight and moves `state` to running.
    pub fn request_started(&self) {
        self.inner.in_flight.inc();
        self.transition(|s| match s {
            State::Stopped => State::Stopped,
            _ => State::Running,
        });
    }

    /// A request ended (call exactly once per [`Metrics::request_started`]). Counts it by
    /// outcome, in `runs_total`, in `errors_total` when it failed, observes its duration, and
    /// returns `state` to idle when nothing else is in flight.
    pub fn request_finished(&self, outcome: Outcome, duration: Duration) {
        let i = &self.inner;
        i.requests.get_or_create(&OutcomeLabels { outcome }).inc();
        i.runs.inc();
        if outcome == Outcome::Failed {
            i.errors.inc();
        }
        i.request_duration.observe(duration.as_secs_f64());
        // Never below zero even if a caller forgot a `request_started`.
        let before = i.in_flight.dec();
        if before <= 0 {
            i.in_flight.set(0);
        }
        if before <= 1 {
            self.transition(|s| match s {
                State::Running => State::Idle,
                other => other,
            });
        }
    }

    /// One indexer search succeeded after `duration` with `hits` matching alerts in total.
    pub fn search_finished(&self, duration: Duration, hits: u64) {
        self.inner.search_duration.observe(duration.as_secs_f64());
        // f64 represents every realistic hit count exactly (< 2^53).
        self.inner.search_hits.observe(hits as f64);
    }

    /// One indexer search failed for good (after retries) after `duration`.
    pub fn search_failed(&self, duration: Duration) {
        self.inner.search_duration.observe(duration.as_secs_f64());
        self.inner.search_errors.inc();
    }

    /// The continuous hunting series.
    pub fn hunt(&self) -> &super::hunt_metrics::HuntMetrics {
        &self.inner.hunt
    }

    /// The adaptive limit of searches in flight at the indexer changed to `limit`.
    pub fn set_search_limit(&self, limit: usize) {
        self.inner.search_limit.set(limit as i64);
    }

    /// One bundle (one AMQP message or one `stixBundlePush`) with `objects` STIX objects was sent.
    pub fn bundle_sent(&self, objects: usize) {
        let i = &self.inner;
        i.bundles_sent.inc();
        i.records_sent.inc_by(objects as u64);
        i.bundle_objects.observe(objects as f64);
    }

    /// A heartbeat (`pingConnector`) was sent; `ok` tells whether it succeeded.
    pub fn ping(&self, ok: bool) {
        self.inner.ping_api.inc();
        if !ok {
            self.inner.ping_api_errors.inc();
        }
    }

    /// The RabbitMQ connection was lost and re-established.
    pub fn amqp_reconnect(&self) {
        self.inner.amqp_reconnects.inc();
    }

    /// An OpenCTI GraphQL call failed. `operation` is the operation name (e.g.
    /// `"registerConnector"`, `"workToProcessed"`); a `&'static str` so label cardinality stays
    /// bounded by the code, never by data. Also counts in pycti's `client_errors_total`.
    pub fn opencti_api_error(&self, operation: &'static str) {
        self.inner
            .opencti_api_errors
            .get_or_create(&OperationLabels { operation })
            .inc();
        self.inner.client_errors.inc();
    }

    /// A request handler panicked; the request also counts as failed.
    pub fn handler_panicked(&self) {
        self.inner.handler_panics.inc();
        self.request_finished(Outcome::Failed, Duration::ZERO);
    }

    /// The HTTP callback server answered a call: `answer` is one of `accepted`, `unauthorized`,
    /// `too_large`, `busy`, `unreadable`.
    pub fn listen_callback(&self, answer: &'static str) {
        self.inner
            .listen_callbacks
            .get_or_create(&AnswerLabels { answer })
            .inc();
    }

    /// A delivery came back marked redelivered: put back as an interrupted copy.
    pub fn request_interrupted(&self) {
        self.inner.interrupted.inc();
    }

    /// A dependency's circuit breaker opened (`up` false) or closed (`up` true). `dependency` is
    /// one of `indexer`, `opencti`.
    pub fn dependency(&self, dependency: &'static str, up: bool) {
        let l = DependencyLabels { dependency };
        self.inner
            .dependency_up
            .get_or_create(&l)
            .set(i64::from(up));
        if !up {
            self.inner.dependency_outages.get_or_create(&l).inc();
        }
    }

    /// Readiness as `/ready` computes it; the operations server sets it before each scrape, so
    /// that a dashboard shows what an orchestrator sees.
    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.set(i64::from(ready));
    }

    /// Sets the life-cycle state explicitly (e.g. `Stopped` on shutdown). Once stopped, request
    /// activity no longer changes it.
    pub fn set_state(&self, state: State) {
        self.transition(|_| state);
    }

    /// The current life-cycle state.
    pub fn state(&self) -> State {
        match self.inner.current_state.lock() {
            Ok(g) => *g,
            Err(p) => *p.into_inner(),
        }
    }

    /// Requests currently in flight.
    pub fn in_flight(&self) -> i64 {
        self.inner.in_flight.get()
    }

    fn transition(&self, next: impl FnOnce(State) -> State) {
        // A poisoned lock only means another thread panicked mid-update of a plain enum; the
        // value is still valid, so keep going rather than lose metrics.
        let mut cur = match self.inner.current_state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        let new = next(*cur);
        if new != *cur {
            for &s in State::ALL {
                self.inner
                    .state
                    .get_or_create(&StateLabels { state: s })
                    .set(i64::from(s == new));
            }
            *cur = new;
        }
    }

    /// The OpenMetrics text exposition of every metric (ends with `# EOF`).
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(8 * 1024);
        // Writing into a String cannot fail; an error here would mean a bug in the encoder, in
        // which case the partial text is still the most useful thing to return.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.inner.registry);
        out
    }
}

#[cfg(test)]
mod tests;
