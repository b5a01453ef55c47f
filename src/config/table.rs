//! The option table: every configurable option once, with its environment variable, its
//! `config.yml` key, its default and a one-line description. The loader, `connector-wazuh config`,
//! the documentation test and the sample configuration all read this one list.

use super::listen::EnrichmentResolution;
use super::options::{
    DirSearchOption, EnrichType, FileSearchOption, FilenameBehaviour, IncidentMode,
    IndicatorSearch, ProcSearchOption, RegKeySearchOption, TLP_NAMES,
};

/// One configurable option.
#[derive(Debug, Clone, Copy)]
pub struct OptionSpec {
    /// Environment variable name (the reference connector's name where it has one).
    pub env: &'static str,
    /// Dotted key in `config.yml`.
    pub key: &'static str,
    /// Default as text (parsed by the same parser as user values); `None` = unset/required.
    pub default: Option<&'static str>,
    /// Whether the option is required (no default and needed to run).
    pub required: bool,
    /// Secret values are never printed.
    pub secret: bool,
    /// One-line description.
    pub doc: &'static str,
    /// What values it takes, for the schema OpenCTI's connector manager reads.
    pub kind: Kind,
}

/// What values an option takes. Every option is read from text; this says which texts mean
/// something, so that `connector-wazuh config --schema` can describe each variable with a type
/// (and a range or a list of words) the way OpenCTI's catalogue describes its connectors'.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    /// Free text (names, paths, index patterns, the richer syntaxes described in the doc line).
    Text,
    /// An http(s) URL.
    Url,
    /// A UUID.
    Uuid,
    /// true/false (also yes/no, 1/0, on/off).
    Bool,
    /// A whole number from `min` to `max` (`i64::MAX`: no upper bound worth stating).
    Int { min: i64, max: i64 },
    /// A number from `min` to `max`.
    Number { min: f64, max: f64 },
    /// A duration such as `30s`, `5m`, `1h 30m` (a bare number means seconds).
    Duration,
    /// One of these words.
    Choice(&'static [&'static str]),
    /// A list (comma-separated or a JSON array); `Some` = only these words, or `all`.
    List(Option<&'static [&'static str]>),
}

impl OptionSpec {
    /// The same option with a value kind other than free text.
    const fn kind(self, kind: Kind) -> OptionSpec {
        OptionSpec { kind, ..self }
    }
}

/// The log levels `CONNECTOR_LOG_LEVEL` takes (`warning` as pycti spells it).
const LOG_LEVELS: &[&str] = &["error", "warn", "warning", "info", "debug", "trace"];

const fn int(min: i64, max: i64) -> Kind {
    Kind::Int { min, max }
}

const fn opt(
    env: &'static str,
    key: &'static str,
    default: Option<&'static str>,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec {
        env,
        key,
        default,
        required: false,
        secret: false,
        doc,
        kind: Kind::Text,
    }
}
const fn req(env: &'static str, key: &'static str, doc: &'static str) -> OptionSpec {
    OptionSpec {
        env,
        key,
        default: None,
        required: true,
        secret: false,
        doc,
        kind: Kind::Text,
    }
}
const fn secret(
    env: &'static str,
    key: &'static str,
    required: bool,
    doc: &'static str,
) -> OptionSpec {
    OptionSpec {
        env,
        key,
        default: None,
        required,
        secret: true,
        doc,
        kind: Kind::Text,
    }
}

/// Other environment names accepted for an option (alias → canonical). `connector-wazuh config`
/// marks a value read through one of them.
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("QUEUE_PROTOCOL", "CONNECTOR_QUEUE_PROTOCOL"),
    ("OPENCTI_JSON_LOGGING", "CONNECTOR_JSON_LOGGING"),
    // Spellings used by the reference connector's own compose example, so that a migrating
    // user's file keeps meaning what its author intended.
    ("AGENTS_AS_SYSTEMS", "WAZUH_AGENTS_AS_SYSTEMS"),
    (
        "WAZUH_ENRICH_URLS_WITHOUT_HOST",
        "WAZUH_ENRICH_ENRICH_URLS_WITHOUT_HOST",
    ),
    (
        "WAZUH_SEARCH_LOOKUP_URL_INGORE_TRAILING_SLASH",
        "WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH",
    ),
];

/// Which aliases are spellings of the reference connector's documentation (the others are older
/// names of this connector or pycti's).
pub const REFERENCE_ALIASES: &[&str] = &[
    "AGENTS_AS_SYSTEMS",
    "WAZUH_ENRICH_URLS_WITHOUT_HOST",
    "WAZUH_SEARCH_LOOKUP_URL_INGORE_TRAILING_SLASH",
];

/// How a value read through `alias` is marked.
pub fn alias_note(alias: &str) -> &'static str {
    if REFERENCE_ALIASES.contains(&alias) {
        "reference-only spelling"
    } else {
        "deprecated spelling"
    }
}

/// Whole sections given as one JSON object (`WAZUH_SEARCH='{"lookup_agent_ip":true}'`), as the
/// reference connector accepts: variable → the `config.yml` section its keys belong to.
pub const SECTION_VARS: &[(&str, &str)] = &[
    ("WAZUH_OPENSEARCH", "wazuh.opensearch"),
    ("WAZUH_SEARCH", "wazuh.search"),
    ("WAZUH_ENRICH", "wazuh.enrich"),
];

/// The prefix of this connector's own keys that the reference's `config.yml` layout leaves out
/// (`max_tlp:` and `opensearch:` at the top level instead of under `wazuh:`).
pub const WAZUH_SECTION: &str = "wazuh.";

/// Names that are known but have no effect here: (variable, `config.yml` key, why). They are
/// warned about, never errors, so that files written for the reference connector or for pycti
/// still start the connector.
pub const IGNORED: &[(&str, &str, &str)] = &[
    ("WAZUH_ENRICH_AGENT", "enrich_agent", "the reference connector's documentation lists it, but neither connector has such a setting"),
    ("CONNECTOR_CONFIDENCE_LEVEL", "connector.confidence_level", "a pycti option; enrichment results carry no confidence here"),
    ("CONNECTOR_UPDATE_EXISTING_DATA", "connector.update_existing_data", "a pycti option that OpenCTI no longer reads"),
    ("CONNECTOR_RUN_AND_TERMINATE", "connector.run_and_terminate", "a pycti option for external-import connectors"),
    ("CONNECTOR_VALIDATE_BEFORE_IMPORT", "connector.validate_before_import", "a pycti option for import connectors"),
    ("CONNECTOR_LISTEN_PROTOCOL_API_SSL_PASSPHRASE", "connector.listen_protocol_api_ssl_passphrase", "encrypted callback-server keys are not supported; give CONNECTOR_LISTEN_PROTOCOL_API_SSL_KEY an unencrypted key"),
];

/// Variables read outside the option table.
pub const OTHER_VARS: &[&str] = &["CONNECTOR_CONFIG_FILE"];

/// Default entity types offered for enrichment (the reference's scope).
pub const DEFAULT_SCOPE: &str = "Artifact,Directory,Domain-Name,Email-Addr,Hostname,IPv4-Addr,IPv6-Addr,Mac-Addr,Network-Traffic,Process,StixFile,Url,User-Account,User-Agent,WindowsRegistryKey,WindowsRegistryValueType,Vulnerability,Indicator";

/// Every option, in documentation order.
pub const OPTIONS: &[OptionSpec] = &[
    // --- OpenCTI
    req("OPENCTI_URL", "opencti.url", "OpenCTI base URL (http/https).").kind(Kind::Url),
    secret("OPENCTI_TOKEN", "opencti.token", true, "API token of the connector's OpenCTI user."),
    opt("OPENCTI_SSL_VERIFY", "opencti.ssl_verify", Some("true"), "Verify OpenCTI's TLS certificate (the reference defaults to false).").kind(Kind::Bool),
    opt("OPENCTI_CA_BUNDLE", "opencti.ca_bundle", None, "PEM file with extra CA certificates trusted for OpenCTI."),
    opt("OPENCTI_TIMEOUT", "opencti.timeout", Some("60s"), "Timeout of one OpenCTI API request.").kind(Kind::Duration),
    secret("OPENCTI_CUSTOM_HEADERS", "opencti.custom_headers", false, "Extra HTTP headers sent with every OpenCTI request (reverse proxy, access gateway), as pycti: name:value;name:value."),
    // --- connector
    req("CONNECTOR_ID", "connector.id", "Connector id (UUID, stable across restarts: it names the queues).").kind(Kind::Uuid),
    opt("CONNECTOR_TYPE", "connector.type", Some("INTERNAL_ENRICHMENT"), "Connector type; only INTERNAL_ENRICHMENT is supported.").kind(Kind::Choice(&["INTERNAL_ENRICHMENT"])),
    opt("CONNECTOR_NAME", "connector.name", Some("Wazuh"), "Display name in OpenCTI."),
    opt("CONNECTOR_SCOPE", "connector.scope", Some(DEFAULT_SCOPE), "Entity types offered for enrichment (comma list or JSON array; `all` = the default list).").kind(Kind::List(None)),
    opt("CONNECTOR_AUTO", "connector.auto", Some("true"), "Enrich entities automatically when they are created.").kind(Kind::Bool),
    opt("CONNECTOR_AUTO_UPDATE", "connector.auto_update", Some("false"), "Enrich entities automatically when they are updated.").kind(Kind::Bool),
    opt("CONNECTOR_AUTO_ENRICHMENT_COOLDOWN", "connector.auto_enrichment_cooldown", Some("0s"), "Answer an automatic request without a search when the entity was enriched less than this long ago (manual requests and playbooks always run); 0 = off.").kind(Kind::Duration),
    opt("CONNECTOR_LOG_LEVEL", "connector.log_level", Some("info"), "Log level: error, warn(ing), info, debug, trace.").kind(Kind::Choice(LOG_LEVELS)),
    opt("CONNECTOR_JSON_LOGGING", "connector.json_logging", Some("true"), "Log JSON lines (false: human-readable lines). Alias OPENCTI_JSON_LOGGING.").kind(Kind::Bool),
    opt("CONNECTOR_CONCURRENCY", "connector.concurrency", Some("4"), "Requests processed at once (also the AMQP prefetch), 1-256.").kind(int(1, 256)),
    opt("CONNECTOR_QUEUE_PROTOCOL", "connector.queue_protocol", Some("amqp"), "How results are delivered: amqp (push queue) or api (stixBundlePush). Alias QUEUE_PROTOCOL.").kind(Kind::Choice(&["amqp", "api"])),
    opt("CONNECTOR_SHUTDOWN_GRACE_PERIOD", "connector.shutdown_grace_period", Some("30s"), "On SIGTERM/SIGINT, time given to in-flight requests to finish.").kind(Kind::Duration),
    opt("CONNECTOR_OUTAGE_WINDOW", "connector.outage_window", Some("15m"), "How long a request is held while the indexer or OpenCTI does not answer before its work is ended in error.").kind(Kind::Duration),
    opt("CONNECTOR_MAX_ATTEMPTS", "connector.max_attempts", Some("3"), "Deliveries of one request before its work is ended in error, 1-100.").kind(int(1, 100)),
    opt("CONNECTOR_MAX_MESSAGE_BYTES", "connector.max_message_bytes", Some("16777216"), "Largest accepted request body in bytes (larger ones are refused).").kind(int(1024, 512 * 1024 * 1024)),
    opt("CONNECTOR_ENRICHMENT_RESOLUTION", "connector.enrichment_resolution", Some("none"), "What OpenCTI 6.8+ sends with each request: none (the entity), stix_bundle (the entity and its bundle), deferred (nothing: the entity is read over GraphQL).").kind(Kind::Choice(EnrichmentResolution::NAMES)),
    opt("CONNECTOR_LISTEN_PROTOCOL", "connector.listen_protocol", Some("AMQP"), "How requests arrive: AMQP (the listen queue) or API (OpenCTI 6.6+ POSTs them to the connector's HTTP server; see docs/listen.md).").kind(Kind::Choice(&["AMQP", "API"])),
    opt("CONNECTOR_LISTEN_PROTOCOL_API_HOST", "connector.listen_protocol_api_host", Some("0.0.0.0"), "Address the HTTP callback server listens on (API listen protocol)."),
    opt("CONNECTOR_LISTEN_PROTOCOL_API_PORT", "connector.listen_protocol_api_port", Some("7070"), "Port of the HTTP callback server (API listen protocol).").kind(int(1, 65535)),
    opt("CONNECTOR_LISTEN_PROTOCOL_API_PATH", "connector.listen_protocol_api_path", Some("/api/callback"), "Path OpenCTI POSTs requests to (API listen protocol)."),
    opt("CONNECTOR_LISTEN_PROTOCOL_API_URI", "connector.listen_protocol_api_uri", None, "Base URL OpenCTI reaches the callback server at, registered with the path as listen_callback_uri (unset: http(s)://127.0.0.1:<port>).").kind(Kind::Url),
    opt("CONNECTOR_LISTEN_PROTOCOL_API_SSL", "connector.listen_protocol_api_ssl", Some("false"), "Serve the callback server over HTTPS (needs the certificate and key below).").kind(Kind::Bool),
    opt("CONNECTOR_LISTEN_PROTOCOL_API_SSL_CERT", "connector.listen_protocol_api_ssl_cert", None, "PEM certificate chain of the HTTPS callback server."),
    opt("CONNECTOR_LISTEN_PROTOCOL_API_SSL_KEY", "connector.listen_protocol_api_ssl_key", None, "PEM private key of the HTTPS callback server."),
    opt("CONNECTOR_SEND_TO_QUEUE", "connector.send_to_queue", Some("true"), "Send results to OpenCTI; false: only write them to the bundle directory (needs CONNECTOR_SEND_TO_DIRECTORY).").kind(Kind::Bool),
    opt("CONNECTOR_SEND_TO_DIRECTORY", "connector.send_to_directory", Some("false"), "Also write every bundle sent as a JSON file in CONNECTOR_SEND_TO_DIRECTORY_PATH (audit), as pycti.").kind(Kind::Bool),
    opt("CONNECTOR_SEND_TO_DIRECTORY_PATH", "connector.send_to_directory_path", None, "Existing, writable directory the bundle files go to (checked at start-up)."),
    opt("CONNECTOR_SEND_TO_DIRECTORY_RETENTION", "connector.send_to_directory_retention", Some("7"), "Days a bundle file is kept: older JSON files in the directory are deleted when one is written (0: never).").kind(int(0, 36_500)),
    opt("CONNECTOR_EXPOSE_METRICS", "connector.expose_metrics", Some("false"), "Serve Prometheus metrics.").kind(Kind::Bool),
    opt("CONNECTOR_METRICS_PORT", "connector.metrics_port", Some("9095"), "Metrics port.").kind(int(1, 65535)),
    opt("CONNECTOR_METRICS_HOST", "connector.metrics_host", Some("0.0.0.0"), "Metrics listen address."),
    opt("CONNECTOR_METRICS_NAMESPACE", "connector.metrics_namespace", None, "Prefix of every metric name (as pycti; letters, digits, _)."),
    opt("CONNECTOR_METRICS_SUBSYSTEM", "connector.metrics_subsystem", None, "Second prefix of every metric name (as pycti)."),
    // --- broker overrides
    opt("MQ_HOST", "mq.host", None, "Override the RabbitMQ host returned by OpenCTI."),
    opt("MQ_PORT", "mq.port", None, "Override the RabbitMQ port.").kind(int(1, 65535)),
    opt("MQ_VHOST", "mq.vhost", None, "Override the RabbitMQ virtual host."),
    opt("MQ_USE_SSL", "mq.use_ssl", None, "Override whether AMQP uses TLS.").kind(Kind::Bool),
    opt("MQ_USER", "mq.user", None, "Override the RabbitMQ user."),
    secret("MQ_PASS", "mq.pass", false, "Override the RabbitMQ password."),
    opt("MQ_USE_SSL_CA", "mq.use_ssl_ca", None, "PEM CA bundle trusted for amqps."),
    // --- Wazuh root
    opt("WAZUH_MAX_TLP", "wazuh.max_tlp", Some("TLP:AMBER+STRICT"), "Highest TLP of entities that may be looked up.").kind(Kind::Choice(&TLP_NAMES)),
    opt("WAZUH_ALLOWED_MARKINGS", "wazuh.allowed_markings", Some(""), "Markings other than the five TLPs (marking-definition ids) that entities may carry and still be looked up; any other is refused.").kind(Kind::List(None)),
    opt("WAZUH_TLPS", "wazuh.tlps", Some("TLP:AMBER+STRICT"), "Markings (TLP names or marking-definition ids) put on every created object.").kind(Kind::List(None)),
    opt("WAZUH_HITS_ABORT_LIMIT", "wazuh.hits_abort_limit", None, "Fail the request when more alerts match (unset: never).").kind(int(1, i64::MAX)),
    opt("WAZUH_BUNDLE_ABORT_LIMIT", "wazuh.bundle_abort_limit", None, "Fail the request when the bundle has more objects (unset: never).").kind(int(1, i64::MAX)),
    opt("WAZUH_SYSTEM_NAME", "wazuh.system_name", Some("Wazuh SIEM"), "Name of the SIEM system identity."),
    opt("WAZUH_AGENTS_AS_SYSTEMS", "wazuh.agents_as_systems", Some("true"), "One system identity per Wazuh agent.").kind(Kind::Bool),
    opt("WAZUH_CREATE_OBS_SIGHTINGS", "wazuh.create_obs_sightings", Some("true"), "Process observables that have no indicators.").kind(Kind::Bool),
    opt("WAZUH_MAX_EXTREFS", "wazuh.max_extrefs", Some("10"), "Max external references per sighting.").kind(int(0, 10_000)),
    opt("WAZUH_MAX_EXTREFS_PER_ALERT_RULE", "wazuh.max_extrefs_per_alert_rule", Some("2"), "Max external references per rule per sighting.").kind(int(0, 10_000)),
    opt("WAZUH_MAX_NOTES", "wazuh.max_notes", Some("10"), "Max alert notes per sighting.").kind(int(0, 10_000)),
    opt("WAZUH_MAX_NOTES_PER_ALERT_RULE", "wazuh.max_notes_per_alert_rule", Some("2"), "Max alert notes per rule per sighting.").kind(int(0, 10_000)),
    opt("WAZUH_CREATE_SIGHTING_SUMMARY", "wazuh.create_sighting_summary", Some("true"), "Reference the summary note from sightings.").kind(Kind::Bool),
    opt("WAZUH_CREATE_INCIDENT_SUMMARY", "wazuh.create_incident_summary", Some("true"), "Reference the summary note from incidents.").kind(Kind::Bool),
    opt("WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS", "wazuh.require_indicator_for_incidents", Some("true"), "Observables need a valid indicator to get incidents.").kind(Kind::Bool),
    opt("WAZUH_CREATE_INCIDENT", "wazuh.create_incident", Some("per-sighting"), "Incident mode: per-query, per-sighting, per-alert-rule, per-alert, never.").kind(Kind::Choice(IncidentMode::NAMES)),
    opt("WAZUH_VULNERABILITY_INCIDENT_CVSS3_SCORE_THRESHOLD", "wazuh.vulnerability_incident_cvss3_score_threshold", None, "Vulnerabilities get incidents only at or above this CVSS3 score (unset: never).").kind(Kind::Number { min: 0.0, max: 10.0 }),
    opt("WAZUH_VULNERABILITY_INCIDENT_ACTIVE_ONLY", "wazuh.vulnerability_incident_active_only", Some("true"), "No incident for vulnerabilities already resolved everywhere.").kind(Kind::Bool),
    opt("WAZUH_CREATE_INCIDENT_THRESHOLD", "wazuh.create_incident_threshold", Some("1"), "Minimum Wazuh rule level (1-15) for incidents.").kind(int(1, 15)),
    opt("WAZUH_RULE_EXCLUDE_LIST", "wazuh.rule_exclude_list", Some(""), "Rule ids whose alerts are ignored.").kind(Kind::List(None)),
    opt("WAZUH_INCIDENT_RULE_EXCLUDE_LIST", "wazuh.incident_rule_exclude_list", Some(""), "Rule ids that never cause incidents.").kind(Kind::List(None)),
    opt("WAZUH_CREATE_AGENT_IP_OBSERVABLE", "wazuh.create_agent_ip_observable", Some("true"), "Create IP observables for agents.").kind(Kind::Bool),
    opt("WAZUH_CREATE_AGENT_HOSTNAME_OBSERVABLE", "wazuh.create_agent_hostname_observable", Some("true"), "Create hostname observables for agents.").kind(Kind::Bool),
    opt("WAZUH_IGNORE_OWN_ENTITIES", "wazuh.ignore_own_entities", Some("false"), "Skip entities created by this connector's author.").kind(Kind::Bool),
    opt("WAZUH_LABEL_IGNORE_LIST", "wazuh.label_ignore_list", Some("hygiene,wazuh_ignore"), "Skip entities carrying any of these labels.").kind(Kind::List(None)),
    opt("WAZUH_ENRICH_LABELS", "wazuh.enrich_labels", Some("wazuh_ignore"), "Labels put on enriched observables.").kind(Kind::List(None)),
    opt("WAZUH_CREATE_INCIDENT_RESPONSE", "wazuh.create_incident_response", Some("true"), "Create a case when incidents were created.").kind(Kind::Bool),
    opt("WAZUH_AUTHOR_NAME", "wazuh.author_name", Some("Wazuh"), "Name of the author identity."),
    opt("WAZUH_APP_URL", "wazuh.app_url", Some("https://wazuh-dashboard/"), "Wazuh dashboard base URL used in links.").kind(Kind::Url),
    opt("WAZUH_REQUIRE_INDICATOR_DETECTION", "wazuh.require_indicator_detection", Some("false"), "Ignore indicators whose detection flag is not set.").kind(Kind::Bool),
    opt("WAZUH_IGNORE_REVOKED_INDICATORS", "wazuh.ignore_revoked_indicators", Some("true"), "Ignore revoked indicators.").kind(Kind::Bool),
    opt("WAZUH_INDICATOR_SCORE_THRESHOLD", "wazuh.indicator_score_threshold", None, "Ignore indicators scored below this (0-100; unset: none).").kind(int(0, 100)),
    opt("WAZUH_INDICATOR_SEARCH", "wazuh.indicator_search", Some("both"), "How indicators are searched: pattern, based-on, both.").kind(Kind::Choice(IndicatorSearch::NAMES)),
    opt("WAZUH_SKIP_AUTO_ENRICHMENT_OF_OWN_OBJECTS", "wazuh.skip_auto_enrichment_of_own_objects", Some("true"), "Automatic requests for objects this connector created are answered without a search.").kind(Kind::Bool),
    opt("WAZUH_MAX_NOTE_CHARS", "wazuh.max_note_chars", Some("60000"), "Maximum characters of one note.").kind(int(100, 10_000_000)),
    opt("WAZUH_MAX_CONTEXT_ALERTS", "wazuh.max_context_alerts", Some("50"), "Alerts used to build context objects.").kind(int(0, 10_000)),
    opt("WAZUH_SCHEMA", "wazuh.schema", Some("auto"), "Wazuh schema of the indexer: auto (detected at start-up), 4.x (wazuh-alerts-*), 5.x (wazuh-findings-v5*), 4.x+5.x (both, one answer); see docs/wazuh5.md.").kind(Kind::Choice(&["auto", "4.x", "5.x", "4.x+5.x"])),
    // --- hunt
    opt("WAZUH_HUNT_ENABLED", "wazuh.hunt.enabled", Some("false"), "Continuous hunting: every interval, look for new alerts matching the platform's indicators and enrich those that match (see docs/hunt.md).").kind(Kind::Bool),
    opt("WAZUH_HUNT_INTERVAL", "wazuh.hunt.interval", Some("5m"), "Time between two hunting cycles (at least 1s).").kind(Kind::Duration),
    opt("WAZUH_HUNT_OVERLAP", "wazuh.hunt.overlap", Some("1m"), "Each hunting window starts this much before the previous one ended (alerts indexed late); shorter than the interval.").kind(Kind::Duration),
    opt("WAZUH_HUNT_MAX_WINDOW", "wazuh.hunt.max_window", Some("1h"), "Longest time one hunting search covers; missed time is caught up in windows of at most this length.").kind(Kind::Duration),
    opt("WAZUH_HUNT_CATCH_UP", "wazuh.hunt.catch_up", Some("24h"), "How far back hunting resumes after downtime; older missed time is skipped with a warning.").kind(Kind::Duration),
    opt("WAZUH_HUNT_MAX_INDICATORS", "wazuh.hunt.max_indicators", Some("200000"), "Most indicators hunted; beyond it hunting stops with an error in the log and /ready.").kind(int(1, 10_000_000)),
    // --- indexer
    req("WAZUH_OPENSEARCH_URL", "wazuh.opensearch.url", "Wazuh indexer URL (http/https, with port).").kind(Kind::Url),
    opt("WAZUH_OPENSEARCH_USERNAME", "wazuh.opensearch.username", Some(""), "Indexer user (basic auth)."),
    secret("WAZUH_OPENSEARCH_PASSWORD", "wazuh.opensearch.password", false, "Indexer password."),
    opt("WAZUH_OPENSEARCH_VERIFY_TLS", "wazuh.opensearch.verify_tls", Some("true"), "Verify the indexer's TLS certificate.").kind(Kind::Bool),
    opt("WAZUH_OPENSEARCH_CA_BUNDLE", "wazuh.opensearch.ca_bundle", None, "PEM file with the indexer's root CA."),
    opt("WAZUH_OPENSEARCH_INDEX", "wazuh.opensearch.index", Some("wazuh-alerts-*"), "Index pattern searched."),
    opt("WAZUH_OPENSEARCH_TIMEOUT", "wazuh.opensearch.timeout", Some("20s"), "Timeout of one indexer request.").kind(Kind::Duration),
    opt("WAZUH_OPENSEARCH_RETRIES", "wazuh.opensearch.retries", Some("3"), "Retries on 429/5xx/connection errors.").kind(int(0, 20)),
    opt("WAZUH_OPENSEARCH_SEARCH_AFTER", "wazuh.opensearch.search_after", None, "Only alerts at or after this time: RFC 3339 date (UTC) or age like 30d / 7 days."),
    opt("WAZUH_OPENSEARCH_INCLUDE_MATCH", "wazuh.opensearch.include_match", Some(""), "Required matches: field=value list or JSON [{field,query}]."),
    opt("WAZUH_OPENSEARCH_EXCLUDE_MATCH", "wazuh.opensearch.exclude_match", Some("data.integration=opencti"), "Excluded matches: field=value list or JSON [{field,query}]."),
    opt("WAZUH_OPENSEARCH_FILTER", "wazuh.opensearch.filter", Some("[]"), "Extra query-DSL filter clauses (JSON array), always ANDed."),
    opt("WAZUH_OPENSEARCH_LIMIT", "wazuh.opensearch.limit", Some("50"), "Newest alerts fetched per search.").kind(int(1, 10_000)),
    opt("WAZUH_OPENSEARCH_ORDER_BY", "wazuh.opensearch.order_by", Some("@timestamp:desc"), "Sort: field:asc|desc list."),
    opt("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "wazuh.opensearch.exclude_sample_data", Some("true"), "Ignore dashboard sample alerts.").kind(Kind::Bool),
    opt("WAZUH_OPENSEARCH_VULNERABILITY_STATE_INDEX", "wazuh.opensearch.vulnerability_state_index", None, "Vulnerability state index pattern (Wazuh 4.8+); unset: off."),
    // --- search
    opt("WAZUH_SEARCH_FILESEARCH_OPTIONS", "wazuh.search.filesearch_options", Some("search-size,search-additional-filenames,include-parent-dir-ref,include-reg-values,search-filename-only,allow-regexp,case-insensitive"), "File search options (list, or all).").kind(Kind::List(Some(FileSearchOption::NAMES))),
    opt("WAZUH_SEARCH_DIRSEARCH_OPTIONS", "wazuh.search.dirsearch_options", Some("match-subdirs,search-filenames,allow-regexp,ignore-trailing-slash,case-insensitive"), "Directory search options (list, or all).").kind(Kind::List(Some(DirSearchOption::NAMES))),
    opt("WAZUH_SEARCH_PROCSEARCH_OPTIONS", "wazuh.search.procsearch_options", Some("case-insensitive"), "Process search options (list, or all).").kind(Kind::List(Some(ProcSearchOption::NAMES))),
    opt("WAZUH_SEARCH_REGKEYSEARCH_OPTIONS", "wazuh.search.regkeysearch_options", Some("match-subdirs,ignore-trailing-slash,ignore-sid,case-insensitive,search-hive-aliases,allow-regexp"), "Registry key search options (list, or all).").kind(Kind::List(Some(RegKeySearchOption::NAMES))),
    opt("WAZUH_SEARCH_LOOKUP_AGENT_IP", "wazuh.search.lookup_agent_ip", Some("false"), "Also match agent IP addresses.").kind(Kind::Bool),
    opt("WAZUH_SEARCH_FIELDS_ADD", "wazuh.search.fields_add", Some(""), "Alert fields searched in addition, per value kind: KIND:FIELD[:MATCH],… (e.g. ip:data.remip; see docs/search.md)."),
    opt("WAZUH_SEARCH_FIELDS_REMOVE", "wazuh.search.fields_remove", Some(""), "Fields of the built-in vocabulary no longer searched: KIND:FIELD,… (see docs/search.md)."),
    opt("WAZUH_SEARCH_LOOKUP_AGENT_NAME", "wazuh.search.lookup_agent_name", Some("false"), "Also match agent names for domains/hostnames.").kind(Kind::Bool),
    opt("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS", "wazuh.search.ignore_private_addrs", Some("true"), "Do not search private IP addresses.").kind(Kind::Bool),
    opt("WAZUH_SEARCH_LOOKUP_MAC_VARIANTS", "wazuh.search.lookup_mac_variants", Some("true"), "Search common MAC address spellings.").kind(Kind::Bool),
    opt("WAZUH_SEARCH_LOOKUP_HOSTNAMES_IN_CMD_LINE", "wazuh.search.lookup_hostnames_in_cmd_line", Some("false"), "Also search domains in command lines.").kind(Kind::Bool),
    opt("WAZUH_SEARCH_LOOKUP_URL_WITHOUT_HOST", "wazuh.search.lookup_url_without_host", Some("false"), "Also match URL paths without host.").kind(Kind::Bool),
    opt("WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH", "wazuh.search.lookup_url_ignore_trailing_slash", Some("false"), "Ignore a trailing slash when matching URLs.").kind(Kind::Bool),
    // --- enrich
    opt("WAZUH_ENRICH_TYPES", "wazuh.enrich.types", Some("all"), "Objects extracted from alerts (list, or all).").kind(Kind::List(Some(EnrichType::NAMES))),
    opt("WAZUH_ENRICH_FILENAME_BEHAVIOUR", "wazuh.enrich.filename_behaviour", Some("all"), "create-dir, remove-path (list, or all).").kind(Kind::List(Some(FilenameBehaviour::NAMES))),
    opt("WAZUH_ENRICH_ENRICH_URLS_WITHOUT_HOST", "wazuh.enrich.enrich_urls_without_host", Some("false"), "Allow URL observables without host.").kind(Kind::Bool),
];

/// The table entry of an option; the names passed in come from the code, never from input.
pub(crate) fn spec(env: &str) -> &'static OptionSpec {
    OPTIONS
        .iter()
        .find(|o| o.env == env)
        .unwrap_or_else(|| panic!("option {env} missing from OPTIONS (programming error)"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn option_table_is_consistent() {
        let mut names = BTreeSet::new();
        for o in OPTIONS {
            assert!(names.insert(o.env), "duplicate {}", o.env);
            assert_eq!(o.key.to_ascii_lowercase(), o.key);
        }
    }
}
