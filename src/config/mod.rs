//! Connector configuration: typed settings, their defaults, and how they are read from
//! `config/config.yml` and the environment.
//!
//! The types here are shared by every part of the connector. The rest is split by concern:
//! - [`table`]: the option table (environment name, YAML key, default, description), the one list
//!   that the loader, `connector-wazuh config`, the docs test and the sample configuration read;
//! - [`parse`]: pure value parsers (text → typed value or a "what is accepted" problem);
//! - [`load`]: where each value comes from (environment, file, default) and the errors;
//! - `build`: the assembly of [`Settings`] from the table through the parsers;
//! - [`schema`]: the JSON Schema of the variables that OpenCTI's connector manager reads,
//!   generated from the table.
//!
//! Variable names map onto fields through the explicit table rather than by splitting names on
//! `_`, because several options contain `_` inside one word (`VERIFY_TLS`).

mod build;
pub mod hunt;
pub mod listen;
pub mod load;
pub mod names;
pub mod options;
pub mod parse;
mod resolve;
pub mod schema;
pub mod table;

pub use hunt::HuntSettings;
pub use listen::{EnrichmentResolution, ListenApi, ListenProtocol, ListenSettings, ListenTls};
pub use options::*;

use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// A secret string (token, password). Never printed: `Debug` and `Display` show `***`.
#[derive(Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret value; call only where it is sent to its peer.
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"***\"")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Everything the connector needs, after defaults, file and environment were applied and
/// validated.
#[derive(Debug, Clone)]
pub struct Settings {
    pub opencti: OpenCtiSettings,
    pub connector: ConnectorSettings,
    pub indexer: IndexerSettings,
    pub search: SearchOptions,
    pub knowledge: KnowledgeOptions,
    /// `WAZUH_HUNT_*`: continuous hunting.
    pub hunt: HuntSettings,
}

/// `opencti.*`
#[derive(Debug, Clone)]
pub struct OpenCtiSettings {
    /// `OPENCTI_URL`
    pub url: String,
    /// `OPENCTI_TOKEN`
    pub token: Secret,
    /// `OPENCTI_SSL_VERIFY` (default **true** here; the reference/pycti default false).
    pub ssl_verify: bool,
    /// `OPENCTI_CA_BUNDLE`: PEM file with extra trusted CAs.
    pub ca_bundle: Option<PathBuf>,
    /// `OPENCTI_TIMEOUT`: per-request timeout.
    pub timeout: Duration,
    /// `OPENCTI_CUSTOM_HEADERS`: (name, value) sent with every request; values may be gateway
    /// credentials, hence secret.
    pub custom_headers: Vec<(String, Secret)>,
}

/// Push protocol for results (`CONNECTOR_QUEUE_PROTOCOL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueProtocol {
    Amqp,
    Api,
}

/// `connector.*`
#[derive(Debug, Clone)]
pub struct ConnectorSettings {
    /// `CONNECTOR_ID` (UUID).
    pub id: String,
    /// `CONNECTOR_NAME`
    pub name: String,
    /// `CONNECTOR_SCOPE`, as sent to OpenCTI.
    pub scope: Vec<String>,
    /// `CONNECTOR_AUTO`
    pub auto: bool,
    /// `CONNECTOR_AUTO_UPDATE`
    pub auto_update: bool,
    /// `CONNECTOR_AUTO_ENRICHMENT_COOLDOWN`: automatic requests for an entity enriched more
    /// recently than this are answered without a search (zero: off).
    pub auto_enrichment_cooldown: Duration,
    /// `CONNECTOR_LOG_LEVEL` (error, warn, info, debug, trace).
    pub log_level: String,
    /// `CONNECTOR_JSON_LOGGING` / `OPENCTI_JSON_LOGGING` (default true).
    pub json_logging: bool,
    /// `CONNECTOR_CONCURRENCY`: requests processed at once (= AMQP prefetch).
    pub concurrency: usize,
    /// `CONNECTOR_QUEUE_PROTOCOL` (`amqp` | `api`).
    pub queue_protocol: QueueProtocol,
    /// `CONNECTOR_SHUTDOWN_GRACE_PERIOD`
    pub shutdown_grace_period: Duration,
    /// `CONNECTOR_OUTAGE_WINDOW`: how long a request is held for a dependency outage.
    pub outage_window: Duration,
    /// `CONNECTOR_MAX_ATTEMPTS`: deliveries of one request before it is failed for good.
    pub max_attempts: u32,
    /// `CONNECTOR_EXPOSE_METRICS`
    pub expose_metrics: bool,
    /// `CONNECTOR_METRICS_PORT`
    pub metrics_port: u16,
    /// `CONNECTOR_METRICS_HOST` (default 0.0.0.0 so a container health check can reach it).
    pub metrics_host: String,
    /// `CONNECTOR_METRICS_NAMESPACE` / `CONNECTOR_METRICS_SUBSYSTEM`: pycti's metric-name prefix
    /// (`<namespace>_<subsystem>_`), empty = none.
    pub metrics_namespace: String,
    pub metrics_subsystem: String,
    /// `MQ_*` overrides of the broker connection returned by registration.
    pub mq: MqOverrides,
    /// `CONNECTOR_MAX_MESSAGE_BYTES`: larger listen-queue bodies are refused.
    pub max_message_bytes: usize,
    /// `CONNECTOR_ENRICHMENT_RESOLUTION` and `CONNECTOR_LISTEN_PROTOCOL*`.
    pub listen: ListenSettings,
    /// `CONNECTOR_SEND_TO_QUEUE`: results go to OpenCTI (push queue or API). When false they are
    /// only written to the bundle directory (an audit or air-gapped hand-over).
    pub send_to_queue: bool,
    /// `CONNECTOR_SEND_TO_DIRECTORY(_PATH, _RETENTION)`: where every sent bundle is also written.
    pub send_to_directory: Option<BundleDirectorySettings>,
}

/// The bundle directory: every bundle the connector sends is also written there as a JSON file,
/// the way pycti's connectors do, so that what reached OpenCTI can be audited afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct BundleDirectorySettings {
    /// `CONNECTOR_SEND_TO_DIRECTORY_PATH`: an existing, writable directory.
    pub path: PathBuf,
    /// `CONNECTOR_SEND_TO_DIRECTORY_RETENTION`: JSON files older than this many days are deleted
    /// when a bundle is written (0: never).
    pub retention_days: u32,
}

/// Local overrides for the RabbitMQ connection that `registerConnector` returns (pycti `MQ_*`).
#[derive(Debug, Clone, Default)]
pub struct MqOverrides {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub vhost: Option<String>,
    pub use_ssl: Option<bool>,
    pub user: Option<String>,
    pub pass: Option<Secret>,
    /// `MQ_USE_SSL_CA`: PEM CA bundle for amqps.
    pub ssl_ca: Option<PathBuf>,
}

/// `WAZUH_OPENSEARCH_*`: how to reach and query the Wazuh indexer.
#[derive(Debug, Clone)]
pub struct IndexerSettings {
    /// `WAZUH_OPENSEARCH_URL`
    pub url: String,
    /// `WAZUH_OPENSEARCH_USERNAME`
    pub username: String,
    /// `WAZUH_OPENSEARCH_PASSWORD`
    pub password: Secret,
    /// `WAZUH_OPENSEARCH_VERIFY_TLS` (default true)
    pub verify_tls: bool,
    /// `WAZUH_OPENSEARCH_CA_BUNDLE`: PEM file with the indexer's root CA.
    pub ca_bundle: Option<PathBuf>,
    /// `WAZUH_OPENSEARCH_INDEX` (default `wazuh-alerts-*`)
    pub index: String,
    /// `WAZUH_OPENSEARCH_TIMEOUT` (default 20 s)
    pub timeout: Duration,
    /// `WAZUH_OPENSEARCH_RETRIES`: retries on 429/5xx/connection errors (default 3).
    pub retries: u32,
    /// `WAZUH_OPENSEARCH_SEARCH_AFTER`: only alerts at or after this time.
    pub search_after: Option<TimeBound>,
    /// `WAZUH_OPENSEARCH_INCLUDE_MATCH`
    pub include_match: Vec<FieldMatch>,
    /// `WAZUH_OPENSEARCH_EXCLUDE_MATCH` (default `data.integration=opencti`)
    pub exclude_match: Vec<FieldMatch>,
    /// `WAZUH_OPENSEARCH_FILTER`: extra raw query-DSL filter clauses (JSON list), always ANDed.
    pub filter: Vec<serde_json::Value>,
    /// `WAZUH_OPENSEARCH_LIMIT`: number of newest alerts fetched for notes and context (default 50).
    pub limit: usize,
    /// `WAZUH_OPENSEARCH_ORDER_BY` (default `@timestamp:desc`)
    pub order_by: Vec<OrderBy>,
    /// `WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA`: drop dashboard sample alerts (`@sampledata`), default true.
    pub exclude_sample_data: bool,
    /// `WAZUH_OPENSEARCH_VULNERABILITY_STATE_INDEX`: 4.8+ vulnerability state index pattern, empty = off.
    pub vulnerability_state_index: Option<String>,
}

/// A point in time for the search window: absolute, or relative to the request time.
#[derive(Debug, Clone, PartialEq)]
pub enum TimeBound {
    Absolute(chrono::DateTime<chrono::Utc>),
    Relative(Duration),
}

/// `field=value`: a `match` clause for include/exclude filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldMatch {
    pub field: String,
    pub query: String,
}

/// `field:asc|desc`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderBy {
    pub field: String,
    pub descending: bool,
}
