//! Reading `config/config.yml` and the environment into [`super::Settings`].
//!
//! Every option is listed once in [`OPTIONS`]: environment name, YAML key, default, description.
//! Values are looked up by that explicit table (environment first, then the file, then the
//! default) — never by splitting variable names on `_` (which silently loses keys such as
//! `WAZUH_OPENSEARCH_VERIFY_TLS`) and never with type guessing (which eats leading zeros of
//! tokens). Each value is then parsed strictly; a bad value yields one [`ConfigError`] line naming
//! the variable, what is wrong and what is accepted.
//!
//! The loader also records where every effective value came from ([`ConfigEntry`]), so that
//! `connector-wazuh config` can print the effective configuration with its sources.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;

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
    }
}

/// Legacy / alternative environment names accepted for an option (alias → canonical).
pub const ENV_ALIASES: &[(&str, &str)] = &[
    ("QUEUE_PROTOCOL", "CONNECTOR_QUEUE_PROTOCOL"),
    ("OPENCTI_JSON_LOGGING", "CONNECTOR_JSON_LOGGING"),
];

/// Default entity types offered for enrichment (the reference's scope).
pub const DEFAULT_SCOPE: &str = "Artifact,Directory,Domain-Name,Email-Addr,Hostname,IPv4-Addr,IPv6-Addr,Mac-Addr,Network-Traffic,Process,StixFile,Url,User-Account,User-Agent,WindowsRegistryKey,WindowsRegistryValueType,Vulnerability,Indicator";

/// Every option, in documentation order.
pub const OPTIONS: &[OptionSpec] = &[
    // --- OpenCTI
    req("OPENCTI_URL", "opencti.url", "OpenCTI base URL (http/https)."),
    secret("OPENCTI_TOKEN", "opencti.token", true, "API token of the connector's OpenCTI user."),
    opt("OPENCTI_SSL_VERIFY", "opencti.ssl_verify", Some("true"), "Verify OpenCTI's TLS certificate (the reference defaults to false)."),
    opt("OPENCTI_CA_BUNDLE", "opencti.ca_bundle", None, "PEM file with extra CA certificates trusted for OpenCTI."),
    opt("OPENCTI_TIMEOUT", "opencti.timeout", Some("60s"), "Timeout of one OpenCTI API request."),
    // --- connector
    req("CONNECTOR_ID", "connector.id", "Connector id (UUID, stable across restarts: it names the queues)."),
    opt("CONNECTOR_TYPE", "connector.type", Some("INTERNAL_ENRICHMENT"), "Connector type; only INTERNAL_ENRICHMENT is supported."),
    opt("CONNECTOR_NAME", "connector.name", Some("Wazuh"), "Display name in OpenCTI."),
    opt("CONNECTOR_SCOPE", "connector.scope", Some(DEFAULT_SCOPE), "Entity types offered for enrichment (comma list or JSON array; `all` = the default list)."),
    opt("CONNECTOR_AUTO", "connector.auto", Some("true"), "Enrich entities automatically when they are created."),
    opt("CONNECTOR_AUTO_UPDATE", "connector.auto_update", Some("false"), "Enrich entities automatically when they are updated."),
    opt("CONNECTOR_LOG_LEVEL", "connector.log_level", Some("info"), "Log level: error, warn(ing), info, debug, trace."),
    opt("CONNECTOR_JSON_LOGGING", "connector.json_logging", Some("true"), "Log JSON lines (false: human-readable lines). Alias OPENCTI_JSON_LOGGING."),
    opt("CONNECTOR_CONCURRENCY", "connector.concurrency", Some("4"), "Requests processed at once (also the AMQP prefetch), 1-256."),
    opt("CONNECTOR_QUEUE_PROTOCOL", "connector.queue_protocol", Some("amqp"), "How results are delivered: amqp (push queue) or api (stixBundlePush). Alias QUEUE_PROTOCOL."),
    opt("CONNECTOR_SHUTDOWN_GRACE_PERIOD", "connector.shutdown_grace_period", Some("30s"), "On SIGTERM/SIGINT, time given to in-flight requests to finish."),
    opt("CONNECTOR_MAX_ATTEMPTS", "connector.max_attempts", Some("3"), "Deliveries of one request before its work is ended in error, 1-100."),
    opt("CONNECTOR_MAX_MESSAGE_BYTES", "connector.max_message_bytes", Some("16777216"), "Largest accepted request body in bytes (larger ones are refused)."),
    opt("CONNECTOR_EXPOSE_METRICS", "connector.expose_metrics", Some("false"), "Serve Prometheus metrics."),
    opt("CONNECTOR_METRICS_PORT", "connector.metrics_port", Some("9095"), "Metrics port."),
    opt("CONNECTOR_METRICS_HOST", "connector.metrics_host", Some("0.0.0.0"), "Metrics listen address."),
    opt("CONNECTOR_METRICS_NAMESPACE", "connector.metrics_namespace", None, "Prefix of every metric name (as pycti; letters, digits, _)."),
    opt("CONNECTOR_METRICS_SUBSYSTEM", "connector.metrics_subsystem", None, "Second prefix of every metric name (as pycti)."),
    // --- broker overrides
    opt("MQ_HOST", "mq.host", None, "Override the RabbitMQ host returned by OpenCTI."),
    opt("MQ_PORT", "mq.port", None, "Override the RabbitMQ port."),
    opt("MQ_VHOST", "mq.vhost", None, "Override the RabbitMQ virtual host."),
    opt("MQ_USE_SSL", "mq.use_ssl", None, "Override whether AMQP uses TLS."),
    opt("MQ_USER", "mq.user", None, "Override the RabbitMQ user."),
    secret("MQ_PASS", "mq.pass", false, "Override the RabbitMQ password."),
    opt("MQ_USE_SSL_CA", "mq.use_ssl_ca", None, "PEM CA bundle trusted for amqps."),
    // --- Wazuh root
    opt("WAZUH_MAX_TLP", "wazuh.max_tlp", Some("TLP:AMBER+STRICT"), "Highest TLP of entities that may be looked up."),
    opt("WAZUH_TLPS", "wazuh.tlps", Some("TLP:AMBER+STRICT"), "Markings (TLP names or marking-definition ids) put on every created object."),
    opt("WAZUH_HITS_ABORT_LIMIT", "wazuh.hits_abort_limit", None, "Fail the request when more alerts match (unset: never)."),
    opt("WAZUH_BUNDLE_ABORT_LIMIT", "wazuh.bundle_abort_limit", None, "Fail the request when the bundle has more objects (unset: never)."),
    opt("WAZUH_SYSTEM_NAME", "wazuh.system_name", Some("Wazuh SIEM"), "Name of the SIEM system identity."),
    opt("WAZUH_AGENTS_AS_SYSTEMS", "wazuh.agents_as_systems", Some("true"), "One system identity per Wazuh agent."),
    opt("WAZUH_CREATE_OBS_SIGHTINGS", "wazuh.create_obs_sightings", Some("true"), "Process observables that have no indicators."),
    opt("WAZUH_MAX_EXTREFS", "wazuh.max_extrefs", Some("10"), "Max external references per sighting."),
    opt("WAZUH_MAX_EXTREFS_PER_ALERT_RULE", "wazuh.max_extrefs_per_alert_rule", Some("2"), "Max external references per rule per sighting."),
    opt("WAZUH_MAX_NOTES", "wazuh.max_notes", Some("10"), "Max alert notes per sighting."),
    opt("WAZUH_MAX_NOTES_PER_ALERT_RULE", "wazuh.max_notes_per_alert_rule", Some("2"), "Max alert notes per rule per sighting."),
    opt("WAZUH_CREATE_SIGHTING_SUMMARY", "wazuh.create_sighting_summary", Some("true"), "Reference the summary note from sightings."),
    opt("WAZUH_CREATE_INCIDENT_SUMMARY", "wazuh.create_incident_summary", Some("true"), "Reference the summary note from incidents."),
    opt("WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS", "wazuh.require_indicator_for_incidents", Some("true"), "Observables need a valid indicator to get incidents."),
    opt("WAZUH_CREATE_INCIDENT", "wazuh.create_incident", Some("per-sighting"), "Incident mode: per-query, per-sighting, per-alert-rule, per-alert, never."),
    opt("WAZUH_VULNERABILITY_INCIDENT_CVSS3_SCORE_THRESHOLD", "wazuh.vulnerability_incident_cvss3_score_threshold", None, "Vulnerabilities get incidents only at or above this CVSS3 score (unset: never)."),
    opt("WAZUH_VULNERABILITY_INCIDENT_ACTIVE_ONLY", "wazuh.vulnerability_incident_active_only", Some("true"), "No incident for vulnerabilities already resolved everywhere."),
    opt("WAZUH_CREATE_INCIDENT_THRESHOLD", "wazuh.create_incident_threshold", Some("1"), "Minimum Wazuh rule level (1-15) for incidents."),
    opt("WAZUH_RULE_EXCLUDE_LIST", "wazuh.rule_exclude_list", Some(""), "Rule ids whose alerts are ignored."),
    opt("WAZUH_INCIDENT_RULE_EXCLUDE_LIST", "wazuh.incident_rule_exclude_list", Some(""), "Rule ids that never cause incidents."),
    opt("WAZUH_CREATE_AGENT_IP_OBSERVABLE", "wazuh.create_agent_ip_observable", Some("true"), "Create IP observables for agents."),
    opt("WAZUH_CREATE_AGENT_HOSTNAME_OBSERVABLE", "wazuh.create_agent_hostname_observable", Some("true"), "Create hostname observables for agents."),
    opt("WAZUH_IGNORE_OWN_ENTITIES", "wazuh.ignore_own_entities", Some("false"), "Skip entities created by this connector's author."),
    opt("WAZUH_LABEL_IGNORE_LIST", "wazuh.label_ignore_list", Some("hygiene,wazuh_ignore"), "Skip entities carrying any of these labels."),
    opt("WAZUH_ENRICH_LABELS", "wazuh.enrich_labels", Some("wazuh_ignore"), "Labels put on enriched observables."),
    opt("WAZUH_CREATE_INCIDENT_RESPONSE", "wazuh.create_incident_response", Some("true"), "Create a case when incidents were created."),
    opt("WAZUH_AUTHOR_NAME", "wazuh.author_name", Some("Wazuh"), "Name of the author identity."),
    opt("WAZUH_APP_URL", "wazuh.app_url", Some("https://wazuh-dashboard/"), "Wazuh dashboard base URL used in links."),
    opt("WAZUH_REQUIRE_INDICATOR_DETECTION", "wazuh.require_indicator_detection", Some("false"), "Ignore indicators whose detection flag is not set."),
    opt("WAZUH_IGNORE_REVOKED_INDICATORS", "wazuh.ignore_revoked_indicators", Some("true"), "Ignore revoked indicators."),
    opt("WAZUH_INDICATOR_SCORE_THRESHOLD", "wazuh.indicator_score_threshold", None, "Ignore indicators scored below this (0-100; unset: none)."),
    opt("WAZUH_INDICATOR_SEARCH", "wazuh.indicator_search", Some("both"), "How indicators are searched: pattern, based-on, both."),
    opt("WAZUH_SKIP_AUTO_ENRICHMENT_OF_OWN_OBJECTS", "wazuh.skip_auto_enrichment_of_own_objects", Some("true"), "Automatic requests for objects this connector created are answered without a search."),
    opt("WAZUH_MAX_NOTE_CHARS", "wazuh.max_note_chars", Some("60000"), "Maximum characters of one note."),
    opt("WAZUH_MAX_CONTEXT_ALERTS", "wazuh.max_context_alerts", Some("50"), "Alerts used to build context objects."),
    // --- indexer
    req("WAZUH_OPENSEARCH_URL", "wazuh.opensearch.url", "Wazuh indexer URL (http/https, with port)."),
    opt("WAZUH_OPENSEARCH_USERNAME", "wazuh.opensearch.username", Some(""), "Indexer user (basic auth)."),
    secret("WAZUH_OPENSEARCH_PASSWORD", "wazuh.opensearch.password", false, "Indexer password."),
    opt("WAZUH_OPENSEARCH_VERIFY_TLS", "wazuh.opensearch.verify_tls", Some("true"), "Verify the indexer's TLS certificate."),
    opt("WAZUH_OPENSEARCH_CA_BUNDLE", "wazuh.opensearch.ca_bundle", None, "PEM file with the indexer's root CA."),
    opt("WAZUH_OPENSEARCH_INDEX", "wazuh.opensearch.index", Some("wazuh-alerts-*"), "Index pattern searched."),
    opt("WAZUH_OPENSEARCH_TIMEOUT", "wazuh.opensearch.timeout", Some("20s"), "Timeout of one indexer request."),
    opt("WAZUH_OPENSEARCH_RETRIES", "wazuh.opensearch.retries", Some("3"), "Retries on 429/5xx/connection errors."),
    opt("WAZUH_OPENSEARCH_SEARCH_AFTER", "wazuh.opensearch.search_after", None, "Only alerts at or after this time: RFC 3339 date (UTC) or age like 30d / 7 days."),
    opt("WAZUH_OPENSEARCH_INCLUDE_MATCH", "wazuh.opensearch.include_match", Some(""), "Required matches: field=value list or JSON [{field,query}]."),
    opt("WAZUH_OPENSEARCH_EXCLUDE_MATCH", "wazuh.opensearch.exclude_match", Some("data.integration=opencti"), "Excluded matches: field=value list or JSON [{field,query}]."),
    opt("WAZUH_OPENSEARCH_FILTER", "wazuh.opensearch.filter", Some("[]"), "Extra query-DSL filter clauses (JSON array), always ANDed."),
    opt("WAZUH_OPENSEARCH_LIMIT", "wazuh.opensearch.limit", Some("50"), "Newest alerts fetched per search."),
    opt("WAZUH_OPENSEARCH_ORDER_BY", "wazuh.opensearch.order_by", Some("@timestamp:desc"), "Sort: field:asc|desc list."),
    opt("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "wazuh.opensearch.exclude_sample_data", Some("true"), "Ignore dashboard sample alerts."),
    opt("WAZUH_OPENSEARCH_VULNERABILITY_STATE_INDEX", "wazuh.opensearch.vulnerability_state_index", None, "Vulnerability state index pattern (Wazuh 4.8+); unset: off."),
    // --- search
    opt("WAZUH_SEARCH_FILESEARCH_OPTIONS", "wazuh.search.filesearch_options", Some("search-size,search-additional-filenames,include-parent-dir-ref,include-reg-values,search-filename-only,allow-regexp,case-insensitive"), "File search options (list, or all)."),
    opt("WAZUH_SEARCH_DIRSEARCH_OPTIONS", "wazuh.search.dirsearch_options", Some("match-subdirs,search-filenames,allow-regexp,ignore-trailing-slash,case-insensitive"), "Directory search options (list, or all)."),
    opt("WAZUH_SEARCH_PROCSEARCH_OPTIONS", "wazuh.search.procsearch_options", Some("case-insensitive"), "Process search options (list, or all)."),
    opt("WAZUH_SEARCH_REGKEYSEARCH_OPTIONS", "wazuh.search.regkeysearch_options", Some("match-subdirs,ignore-trailing-slash,ignore-sid,case-insensitive,search-hive-aliases,allow-regexp"), "Registry key search options (list, or all)."),
    opt("WAZUH_SEARCH_LOOKUP_AGENT_IP", "wazuh.search.lookup_agent_ip", Some("false"), "Also match agent IP addresses."),
    opt("WAZUH_SEARCH_FIELDS_ADD", "wazuh.search.fields_add", Some(""), "Alert fields searched in addition, per value kind: KIND:FIELD[:MATCH],… (e.g. ip:data.remip; see docs/search.md)."),
    opt("WAZUH_SEARCH_FIELDS_REMOVE", "wazuh.search.fields_remove", Some(""), "Fields of the built-in vocabulary no longer searched: KIND:FIELD,… (see docs/search.md)."),
    opt("WAZUH_SEARCH_LOOKUP_AGENT_NAME", "wazuh.search.lookup_agent_name", Some("false"), "Also match agent names for domains/hostnames."),
    opt("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS", "wazuh.search.ignore_private_addrs", Some("true"), "Do not search private IP addresses."),
    opt("WAZUH_SEARCH_LOOKUP_MAC_VARIANTS", "wazuh.search.lookup_mac_variants", Some("true"), "Search common MAC address spellings."),
    opt("WAZUH_SEARCH_LOOKUP_HOSTNAMES_IN_CMD_LINE", "wazuh.search.lookup_hostnames_in_cmd_line", Some("false"), "Also search domains in command lines."),
    opt("WAZUH_SEARCH_LOOKUP_URL_WITHOUT_HOST", "wazuh.search.lookup_url_without_host", Some("false"), "Also match URL paths without host."),
    opt("WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH", "wazuh.search.lookup_url_ignore_trailing_slash", Some("false"), "Ignore a trailing slash when matching URLs."),
    // --- enrich
    opt("WAZUH_ENRICH_TYPES", "wazuh.enrich.types", Some("all"), "Objects extracted from alerts (list, or all)."),
    opt("WAZUH_ENRICH_FILENAME_BEHAVIOUR", "wazuh.enrich.filename_behaviour", Some("all"), "create-dir, remove-path (list, or all)."),
    opt("WAZUH_ENRICH_ENRICH_URLS_WITHOUT_HOST", "wazuh.enrich.enrich_urls_without_host", Some("false"), "Allow URL observables without host."),
];

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Unset,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::File(p) => write!(f, "file {}", p.display()),
            Source::Env(n) => write!(f, "env {n}"),
            Source::Unset => f.write_str("unset"),
        }
    }
}

/// One line of the effective configuration.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    pub key: &'static str,
    pub env: &'static str,
    /// The value as text; `***` for non-empty secrets.
    pub value_masked: String,
    pub source: Source,
}

/// A configuration problem, displayed as one actionable line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigError {
    #[error("{name}: {problem}; accepted: {accepted}")]
    Invalid {
        name: String,
        problem: String,
        accepted: String,
    },
    #[error("{name} is required ({doc})")]
    Missing {
        name: &'static str,
        doc: &'static str,
    },
    #[error("configuration file {path}: {problem}")]
    File { path: String, problem: String },
}

/// Where to read input from. Tests pass an explicit environment instead of the process one.
#[derive(Debug, Clone, Default)]
pub struct LoadInput {
    /// Explicit config file (must exist); `None` → `CONNECTOR_CONFIG_FILE` or `config/config.yml` if present.
    pub file: Option<PathBuf>,
    /// Environment variables.
    pub env: HashMap<String, String>,
}

impl LoadInput {
    /// The process environment and an optional `--config` path.
    pub fn from_process(file: Option<PathBuf>) -> Self {
        LoadInput {
            file,
            env: std::env::vars().collect(),
        }
    }
}

/// Load and validate the settings.
pub fn load(input: &LoadInput) -> Result<Settings, ConfigError> {
    load_with_sources(input).map(|(s, _)| s)
}

/// Load and validate the settings, also returning every option's effective value and source.
pub fn load_with_sources(input: &LoadInput) -> Result<(Settings, Vec<ConfigEntry>), ConfigError> {
    let file = read_file(input)?;
    let mut r = Resolver {
        env: &input.env,
        file,
        entries: Vec::new(),
    };
    let settings = build(&mut r)?;
    Ok((settings, r.entries))
}

fn read_file(input: &LoadInput) -> Result<Option<(PathBuf, serde_json::Value)>, ConfigError> {
    let (path, required) = match (&input.file, input.env.get("CONNECTOR_CONFIG_FILE")) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from("config/config.yml"), false),
    };
    if !path.exists() {
        if required {
            return Err(ConfigError::File {
                path: path.display().to_string(),
                problem: "not found".into(),
            });
        }
        return Ok(None);
    }
    let file_err = |problem: String| ConfigError::File {
        path: path.display().to_string(),
        problem,
    };
    let cfg = config::Config::builder()
        .add_source(
            config::File::from(path.as_path())
                .format(config::FileFormat::Yaml)
                .required(true),
        )
        .build()
        .map_err(|e| file_err(e.to_string()))?;
    let value: serde_json::Value = cfg.try_deserialize().map_err(|e| file_err(e.to_string()))?;
    Ok(Some((path, value)))
}

struct Resolver<'a> {
    env: &'a HashMap<String, String>,
    file: Option<(PathBuf, serde_json::Value)>,
    entries: Vec<ConfigEntry>,
}

fn spec(env: &str) -> &'static OptionSpec {
    OPTIONS
        .iter()
        .find(|o| o.env == env)
        .unwrap_or_else(|| panic!("option {env} missing from OPTIONS (programming error)"))
}

fn file_lookup<'v>(root: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    key.split('.').try_fold(root, |v, k| v.get(k))
}

fn json_to_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        other => Some(other.to_string()),
    }
}

impl Resolver<'_> {
    /// The raw text of an option: environment (canonical name or alias), file, default.
    fn raw(&mut self, env: &'static str) -> Result<Option<String>, ConfigError> {
        let s = spec(env);
        let mut found: Option<(String, Source)> = None;
        if let Some(v) = self.env.get(env) {
            found = Some((v.clone(), Source::Env(env.to_string())));
        } else if let Some((alias, _)) = ENV_ALIASES
            .iter()
            .find(|(a, c)| *c == env && self.env.contains_key(*a))
        {
            found = self
                .env
                .get(*alias)
                .map(|v| (v.clone(), Source::Env(alias.to_string())));
        }
        if found.is_none() {
            if let Some((path, root)) = &self.file {
                if let Some(text) = file_lookup(root, s.key).and_then(json_to_text) {
                    found = Some((text, Source::File(path.clone())));
                }
            }
        }
        if found.is_none() {
            if let Some(d) = s.default {
                found = Some((d.to_string(), Source::Default));
            }
        }
        let (value, source) = match found {
            Some((v, src)) => (Some(v), src),
            None => (None, Source::Unset),
        };
        let shown = match &value {
            Some(v) if s.secret && !v.is_empty() => "***".to_string(),
            Some(v) => v.clone(),
            None => String::new(),
        };
        self.entries.retain(|e| e.env != env);
        self.entries.push(ConfigEntry {
            key: s.key,
            env: s.env,
            value_masked: shown,
            source,
        });
        if value.as_deref().is_none_or(|v| v.trim().is_empty()) && s.required {
            return Err(ConfigError::Missing {
                name: s.env,
                doc: s.doc,
            });
        }
        Ok(value)
    }

    fn text(&mut self, env: &'static str) -> Result<String, ConfigError> {
        Ok(self.raw(env)?.unwrap_or_default().trim().to_string())
    }
    fn opt_text(&mut self, env: &'static str) -> Result<Option<String>, ConfigError> {
        Ok(self
            .raw(env)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()))
    }
    fn with<T>(
        &mut self,
        env: &'static str,
        f: impl FnOnce(&str) -> Result<T, Bad>,
    ) -> Result<T, ConfigError> {
        let v = self.text(env)?;
        f(&v).map_err(|b| b.named(env, &v))
    }
    fn with_opt<T>(
        &mut self,
        env: &'static str,
        f: impl FnOnce(&str) -> Result<T, Bad>,
    ) -> Result<Option<T>, ConfigError> {
        match self.opt_text(env)? {
            None => Ok(None),
            Some(v) => f(&v).map(Some).map_err(|b| b.named(env, &v)),
        }
    }
    fn bool(&mut self, env: &'static str) -> Result<bool, ConfigError> {
        self.with(env, parse_bool)
    }
}

/// A Prometheus name part: letters, digits and `_`, not starting with a digit (empty = none).
fn parse_metric_prefix(s: &str) -> Result<String, Bad> {
    let ok = s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit());
    if ok {
        Ok(s.to_string())
    } else {
        Err(Bad::new(
            "is not a valid metric name part",
            "letters, digits and _, not starting with a digit (or empty)",
        ))
    }
}

/// A parse failure before it is attached to a variable name.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    pub problem: String,
    pub accepted: String,
}

impl Bad {
    fn new(problem: impl Into<String>, accepted: impl Into<String>) -> Self {
        Bad {
            problem: problem.into(),
            accepted: accepted.into(),
        }
    }
    fn named(self, env: &str, value: &str) -> ConfigError {
        let shown = if spec(env).secret {
            "***".to_string()
        } else {
            format!("`{value}`")
        };
        ConfigError::Invalid {
            name: env.to_string(),
            problem: format!("{shown} {}", self.problem),
            accepted: self.accepted,
        }
    }
}

// ---------------------------------------------------------------- parsers (pure)

pub fn parse_bool(s: &str) -> Result<bool, Bad> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "1" | "on" => Ok(true),
        "false" | "no" | "0" | "off" => Ok(false),
        _ => Err(Bad::new(
            "is not a boolean",
            "true/false, yes/no, 1/0, on/off",
        )),
    }
}

pub fn parse_int<T>(s: &str, min: T, max: T) -> Result<T, Bad>
where
    T: std::str::FromStr + PartialOrd + fmt::Display + Copy,
{
    let accepted = format!("a whole number from {min} to {max}");
    let n: T = s
        .trim()
        .parse()
        .map_err(|_| Bad::new("is not a whole number", accepted.clone()))?;
    if n < min || n > max {
        return Err(Bad::new("is out of range", accepted));
    }
    Ok(n)
}

pub fn parse_float(s: &str, min: f64, max: f64) -> Result<f64, Bad> {
    let accepted = format!("a number from {min} to {max}");
    let n: f64 = s
        .trim()
        .parse()
        .map_err(|_| Bad::new("is not a number", accepted.clone()))?;
    if !(min..=max).contains(&n) {
        return Err(Bad::new("is out of range", accepted));
    }
    Ok(n)
}

const DURATION_ACCEPTED: &str =
    "a duration such as 30s, 5m, 1h 30m, 7 days (a bare number means seconds)";

/// `20` (seconds), `20s`, `1h 30m`, `7 days`.
pub fn parse_duration(s: &str) -> Result<Duration, Bad> {
    let t = s.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(Duration::from_secs(n));
    }
    humantime::parse_duration(t).map_err(|_| Bad::new("is not a duration", DURATION_ACCEPTED))
}

/// RFC 3339 date-time, a plain `YYYY-MM-DD` (midnight UTC), or an age (`30d`, `7 days`, `7 days ago`).
pub fn parse_time_bound(s: &str) -> Result<TimeBound, Bad> {
    let t = s.trim();
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(t) {
        return Ok(TimeBound::Absolute(dt.with_timezone(&chrono::Utc)));
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if let Some(dt) = d.and_hms_opt(0, 0, 0) {
            return Ok(TimeBound::Absolute(dt.and_utc()));
        }
    }
    let age = t.strip_suffix("ago").map(str::trim_end).unwrap_or(t);
    match humantime::parse_duration(age) {
        Ok(d) if !d.is_zero() => Ok(TimeBound::Relative(d)),
        _ => Err(Bad::new(
            "is neither a date nor an age",
            "an RFC 3339 date-time (2024-05-01T00:00:00Z), a date (2024-05-01, UTC) or an age such as 30d, 12h, 7 days",
        )),
    }
}

/// A list: JSON array of strings, or a comma-separated list (items trimmed, empty items dropped).
pub fn parse_list(s: &str) -> Result<Vec<String>, Bad> {
    let t = s.trim();
    if t.starts_with('[') {
        let v: Vec<serde_json::Value> = serde_json::from_str(t).map_err(|e| {
            Bad::new(
                format!("is not a valid JSON array ({e})"),
                "a JSON array of strings or a comma-separated list",
            )
        })?;
        return v
            .into_iter()
            .map(|x| match x {
                serde_json::Value::String(s) => Ok(s.trim().to_string()),
                serde_json::Value::Number(n) => Ok(n.to_string()),
                _ => Err(Bad::new(
                    "contains a non-string item",
                    "a JSON array of strings or a comma-separated list",
                )),
            })
            .filter(|r| r.as_ref().map(|s| !s.is_empty()).unwrap_or(true))
            .collect();
    }
    Ok(t.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(String::from)
        .collect())
}

/// A set of enum values; `all` selects every value.
pub fn parse_enum_set<T: Ord + Copy + fmt::Display>(
    s: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
) -> Result<BTreeSet<T>, Bad> {
    let accepted = || {
        let names: Vec<String> = all.iter().map(|v| v.to_string()).collect();
        format!("all, or a list of: {}", names.join(", "))
    };
    let items = parse_list(s).map_err(|b| Bad::new(b.problem, accepted()))?;
    if items.len() == 1 && items[0].eq_ignore_ascii_case("all") {
        return Ok(all.iter().copied().collect());
    }
    items
        .iter()
        .map(|i| {
            parse(i).ok_or_else(|| Bad::new(format!("contains unknown value `{i}`"), accepted()))
        })
        .collect()
}

fn parse_enum<T: Copy + fmt::Display>(
    s: &str,
    all: &[T],
    parse: fn(&str) -> Option<T>,
) -> Result<T, Bad> {
    parse(s).ok_or_else(|| {
        let names: Vec<String> = all.iter().map(|v| v.to_string()).collect();
        Bad::new(
            "is not a known value",
            format!("one of: {}", names.join(", ")),
        )
    })
}

const MATCH_ACCEPTED: &str =
    "a comma list of field=value (or field:value), or a JSON array of {\"field\":…,\"query\":…}";

/// `field=value,field2:value2` or JSON `[{"field":..,"query":..}]`.
pub fn parse_matches(s: &str) -> Result<Vec<FieldMatch>, Bad> {
    let t = s.trim();
    if t.starts_with('[') {
        #[derive(serde::Deserialize)]
        struct M {
            field: String,
            query: serde_json::Value,
        }
        let v: Vec<M> = serde_json::from_str(t).map_err(|e| {
            Bad::new(
                format!("is not a valid JSON match list ({e})"),
                MATCH_ACCEPTED,
            )
        })?;
        return Ok(v
            .into_iter()
            .map(|m| FieldMatch {
                field: m.field,
                query: json_to_text(&m.query).unwrap_or_default(),
            })
            .collect());
    }
    t.split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|item| {
            let pos = item.find('=').or_else(|| item.find(':'));
            match pos {
                Some(p) if p > 0 && p + 1 < item.len() => Ok(FieldMatch {
                    field: item[..p].trim().to_string(),
                    query: item[p + 1..].trim().to_string(),
                }),
                _ => Err(Bad::new(
                    format!("has an item `{item}` without field and value"),
                    MATCH_ACCEPTED,
                )),
            }
        })
        .collect()
}

/// `field:asc|desc` list (JSON array of such strings also accepted).
pub fn parse_order_by(s: &str) -> Result<Vec<OrderBy>, Bad> {
    const ACC: &str = "a comma list of field:asc or field:desc";
    parse_list(s)
        .map_err(|b| Bad::new(b.problem, ACC))?
        .iter()
        .map(|item| {
            let (field, dir) = item
                .rsplit_once(':')
                .ok_or_else(|| Bad::new(format!("has an item `{item}` without direction"), ACC))?;
            let descending = match dir.trim().to_ascii_lowercase().as_str() {
                "asc" => false,
                "desc" => true,
                _ => {
                    return Err(Bad::new(
                        format!("has an unknown direction in `{item}`"),
                        ACC,
                    ))
                }
            };
            Ok(OrderBy {
                field: field.trim().to_string(),
                descending,
            })
        })
        .collect()
}

/// TLP names or marking-definition ids → marking ids.
pub fn parse_tlps(s: &str) -> Result<Vec<String>, Bad> {
    const ACC: &str = "TLP:CLEAR, TLP:WHITE, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED or marking-definition--<uuid>, as a list";
    let mut out: Vec<String> = Vec::new();
    for item in parse_list(s).map_err(|b| Bad::new(b.problem, ACC))? {
        let id = if let Some(t) = Tlp::parse(&item) {
            t.marking_id().to_string()
        } else if item
            .strip_prefix("marking-definition--")
            .is_some_and(|u| uuid::Uuid::parse_str(u).is_ok())
        {
            item.clone()
        } else {
            return Err(Bad::new(format!("contains unknown marking `{item}`"), ACC));
        };
        if !out.contains(&id) {
            out.push(id);
        }
    }
    Ok(out)
}

pub fn parse_tlp(s: &str) -> Result<Tlp, Bad> {
    Tlp::parse(s).ok_or_else(|| Bad::new("is not a TLP", "TLP:CLEAR, TLP:WHITE, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT, TLP:RED (prefix optional)"))
}

/// An http(s) URL without credentials, query or fragment.
pub fn parse_http_url(s: &str) -> Result<String, Bad> {
    const ACC: &str =
        "an http:// or https:// URL with a host and no credentials, query or fragment";
    let u = url::Url::parse(s.trim()).map_err(|e| Bad::new(format!("is not a URL ({e})"), ACC))?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(Bad::new("is not an http(s) URL with a host", ACC));
    }
    if !u.username().is_empty()
        || u.password().is_some()
        || u.query().is_some()
        || u.fragment().is_some()
    {
        return Err(Bad::new("contains credentials, a query or a fragment", ACC));
    }
    Ok(s.trim().to_string())
}

fn parse_file_path(s: &str) -> Result<PathBuf, Bad> {
    let p = Path::new(s);
    if !p.is_file() {
        return Err(Bad::new(
            "is not a readable file",
            "the path of an existing PEM file",
        ));
    }
    Ok(p.to_path_buf())
}

fn parse_log_level(s: &str) -> Result<String, Bad> {
    let l = s.trim().to_ascii_lowercase();
    match l.as_str() {
        "error" | "warn" | "info" | "debug" | "trace" => Ok(l),
        "warning" => Ok("warn".into()),
        _ => Err(Bad::new(
            "is not a log level",
            "error, warn, warning, info, debug, trace",
        )),
    }
}

fn parse_queue_protocol(s: &str) -> Result<QueueProtocol, Bad> {
    match s.trim().to_ascii_lowercase().as_str() {
        "amqp" => Ok(QueueProtocol::Amqp),
        "api" => Ok(QueueProtocol::Api),
        _ => Err(Bad::new("is not a queue protocol", "amqp or api")),
    }
}

fn parse_filter(s: &str) -> Result<Vec<serde_json::Value>, Bad> {
    const ACC: &str = "a JSON array of query-DSL objects, e.g. [{\"term\":{\"agent.id\":\"001\"}}]";
    let v: serde_json::Value =
        serde_json::from_str(s.trim()).map_err(|e| Bad::new(format!("is not JSON ({e})"), ACC))?;
    match v {
        serde_json::Value::Array(items) if items.iter().all(|i| i.is_object()) => Ok(items),
        serde_json::Value::Object(_) => Ok(vec![v]),
        _ => Err(Bad::new("is not an array of objects", ACC)),
    }
}

// ---------------------------------------------------------------- assembly

fn build(r: &mut Resolver<'_>) -> Result<Settings, ConfigError> {
    let opencti = OpenCtiSettings {
        url: r
            .with("OPENCTI_URL", parse_http_url)?
            .trim_end_matches('/')
            .to_string(),
        token: Secret::new(r.text("OPENCTI_TOKEN")?),
        ssl_verify: r.bool("OPENCTI_SSL_VERIFY")?,
        ca_bundle: r.with_opt("OPENCTI_CA_BUNDLE", parse_file_path)?,
        timeout: r.with("OPENCTI_TIMEOUT", parse_duration)?,
    };
    r.with("CONNECTOR_TYPE", |s| {
        if s.eq_ignore_ascii_case("INTERNAL_ENRICHMENT") {
            Ok(())
        } else {
            Err(Bad::new("is not supported", "INTERNAL_ENRICHMENT"))
        }
    })?;
    let connector = ConnectorSettings {
        id: r.with("CONNECTOR_ID", |s| {
            uuid::Uuid::parse_str(s)
                .map(|u| u.to_string())
                .map_err(|_| {
                    Bad::new(
                        "is not a UUID",
                        "a UUID such as 0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11",
                    )
                })
        })?,
        name: r.with("CONNECTOR_NAME", |s| {
            if s.chars().count() >= 2 {
                Ok(s.to_string())
            } else {
                Err(Bad::new("is too short", "at least 2 characters"))
            }
        })?,
        scope: r.with("CONNECTOR_SCOPE", |s| {
            let list = parse_list(s)?;
            // `all` would reach OpenCTI verbatim (a reference bug): expand it.
            if list.len() == 1 && list[0].eq_ignore_ascii_case("all") {
                return parse_list(DEFAULT_SCOPE);
            }
            Ok(list)
        })?,
        auto: r.bool("CONNECTOR_AUTO")?,
        auto_update: r.bool("CONNECTOR_AUTO_UPDATE")?,
        log_level: r.with("CONNECTOR_LOG_LEVEL", parse_log_level)?,
        json_logging: r.bool("CONNECTOR_JSON_LOGGING")?,
        concurrency: r.with("CONNECTOR_CONCURRENCY", |s| parse_int(s, 1usize, 256))?,
        queue_protocol: r.with("CONNECTOR_QUEUE_PROTOCOL", parse_queue_protocol)?,
        shutdown_grace_period: r.with("CONNECTOR_SHUTDOWN_GRACE_PERIOD", parse_duration)?,
        max_attempts: r.with("CONNECTOR_MAX_ATTEMPTS", |s| parse_int(s, 1u32, 100))?,
        expose_metrics: r.bool("CONNECTOR_EXPOSE_METRICS")?,
        metrics_port: r.with("CONNECTOR_METRICS_PORT", |s| parse_int(s, 1u16, u16::MAX))?,
        metrics_host: r.with("CONNECTOR_METRICS_HOST", |s| {
            s.parse::<std::net::IpAddr>()
                .map(|_| s.to_string())
                .map_err(|_| {
                    Bad::new(
                        "is not an IP address",
                        "an IPv4 or IPv6 address such as 0.0.0.0",
                    )
                })
        })?,
        metrics_namespace: r.with("CONNECTOR_METRICS_NAMESPACE", parse_metric_prefix)?,
        metrics_subsystem: r.with("CONNECTOR_METRICS_SUBSYSTEM", parse_metric_prefix)?,
        mq: MqOverrides {
            host: r.opt_text("MQ_HOST")?,
            port: r.with_opt("MQ_PORT", |s| parse_int(s, 1u16, u16::MAX))?,
            vhost: r.opt_text("MQ_VHOST")?,
            use_ssl: r.with_opt("MQ_USE_SSL", parse_bool)?,
            user: r.opt_text("MQ_USER")?,
            pass: r.raw("MQ_PASS")?.filter(|s| !s.is_empty()).map(Secret::new),
            ssl_ca: r.with_opt("MQ_USE_SSL_CA", parse_file_path)?,
        },
        max_message_bytes: r.with("CONNECTOR_MAX_MESSAGE_BYTES", |s| {
            parse_int(s, 1024usize, 512 * 1024 * 1024)
        })?,
    };
    let indexer = IndexerSettings {
        url: r.with("WAZUH_OPENSEARCH_URL", parse_http_url)?,
        username: r.text("WAZUH_OPENSEARCH_USERNAME")?,
        password: Secret::new(r.raw("WAZUH_OPENSEARCH_PASSWORD")?.unwrap_or_default()),
        verify_tls: r.bool("WAZUH_OPENSEARCH_VERIFY_TLS")?,
        ca_bundle: r.with_opt("WAZUH_OPENSEARCH_CA_BUNDLE", parse_file_path)?,
        index: r.with("WAZUH_OPENSEARCH_INDEX", |s| {
            if s.is_empty() {
                Err(Bad::new(
                    "is empty",
                    "an index pattern such as wazuh-alerts-*",
                ))
            } else {
                Ok(s.to_string())
            }
        })?,
        timeout: r.with("WAZUH_OPENSEARCH_TIMEOUT", parse_duration)?,
        retries: r.with("WAZUH_OPENSEARCH_RETRIES", |s| parse_int(s, 0u32, 20))?,
        search_after: r.with_opt("WAZUH_OPENSEARCH_SEARCH_AFTER", parse_time_bound)?,
        include_match: r.with("WAZUH_OPENSEARCH_INCLUDE_MATCH", parse_matches)?,
        exclude_match: r.with("WAZUH_OPENSEARCH_EXCLUDE_MATCH", parse_matches)?,
        filter: r.with("WAZUH_OPENSEARCH_FILTER", parse_filter)?,
        limit: r.with("WAZUH_OPENSEARCH_LIMIT", |s| parse_int(s, 1usize, 10_000))?,
        order_by: r.with("WAZUH_OPENSEARCH_ORDER_BY", parse_order_by)?,
        exclude_sample_data: r.bool("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA")?,
        vulnerability_state_index: r.opt_text("WAZUH_OPENSEARCH_VULNERABILITY_STATE_INDEX")?,
    };
    let search = SearchOptions {
        filesearch_options: r.with("WAZUH_SEARCH_FILESEARCH_OPTIONS", |s| {
            parse_enum_set(s, FileSearchOption::ALL, FileSearchOption::parse)
        })?,
        dirsearch_options: r.with("WAZUH_SEARCH_DIRSEARCH_OPTIONS", |s| {
            parse_enum_set(s, DirSearchOption::ALL, DirSearchOption::parse)
        })?,
        procsearch_options: r.with("WAZUH_SEARCH_PROCSEARCH_OPTIONS", |s| {
            parse_enum_set(s, ProcSearchOption::ALL, ProcSearchOption::parse)
        })?,
        regkeysearch_options: r.with("WAZUH_SEARCH_REGKEYSEARCH_OPTIONS", |s| {
            parse_enum_set(s, RegKeySearchOption::ALL, RegKeySearchOption::parse)
        })?,
        lookup_agent_ip: r.bool("WAZUH_SEARCH_LOOKUP_AGENT_IP")?,
        lookup_agent_name: r.bool("WAZUH_SEARCH_LOOKUP_AGENT_NAME")?,
        ignore_private_addrs: r.bool("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS")?,
        lookup_mac_variants: r.bool("WAZUH_SEARCH_LOOKUP_MAC_VARIANTS")?,
        lookup_hostnames_in_cmd_line: r.bool("WAZUH_SEARCH_LOOKUP_HOSTNAMES_IN_CMD_LINE")?,
        lookup_url_without_host: r.bool("WAZUH_SEARCH_LOOKUP_URL_WITHOUT_HOST")?,
        lookup_url_ignore_trailing_slash: r
            .bool("WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH")?,
        indicator_search: r.with("WAZUH_INDICATOR_SEARCH", |s| {
            parse_enum(s, IndicatorSearch::ALL, IndicatorSearch::parse)
        })?,
        vocabulary: {
            use crate::search::vocabulary::{FieldChanges, Vocabulary, WAZUH_4X};
            let bad = |e: crate::search::vocabulary::FieldChangeError| {
                Bad::new(e.to_string(), "KIND:FIELD[:MATCH],…")
            };
            let add = r.with("WAZUH_SEARCH_FIELDS_ADD", |add| {
                FieldChanges::parse(add, "", &WAZUH_4X).map_err(bad)?;
                Ok(add.to_string())
            })?;
            let changes = r.with("WAZUH_SEARCH_FIELDS_REMOVE", |rm| {
                FieldChanges::parse(&add, rm, &WAZUH_4X).map_err(bad)
            })?;
            std::sync::Arc::new(Vocabulary::new(&WAZUH_4X, &changes))
        },
    };
    let set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<String>>();
    let knowledge = KnowledgeOptions {
        max_tlp: r.with("WAZUH_MAX_TLP", parse_tlp)?,
        tlps: r.with("WAZUH_TLPS", parse_tlps)?,
        hits_abort_limit: r.with_opt("WAZUH_HITS_ABORT_LIMIT", |s| parse_int(s, 1u64, u64::MAX))?,
        bundle_abort_limit: r.with_opt("WAZUH_BUNDLE_ABORT_LIMIT", |s| {
            parse_int(s, 1usize, usize::MAX)
        })?,
        system_name: r.with("WAZUH_SYSTEM_NAME", |s| {
            if s.is_empty() {
                Err(Bad::new("is empty", "a non-empty name"))
            } else {
                Ok(s.to_string())
            }
        })?,
        agents_as_systems: r.bool("WAZUH_AGENTS_AS_SYSTEMS")?,
        create_obs_sightings: r.bool("WAZUH_CREATE_OBS_SIGHTINGS")?,
        max_extrefs: r.with("WAZUH_MAX_EXTREFS", |s| parse_int(s, 0usize, 10_000))?,
        max_extrefs_per_alert_rule: r.with("WAZUH_MAX_EXTREFS_PER_ALERT_RULE", |s| {
            parse_int(s, 0usize, 10_000)
        })?,
        max_notes: r.with("WAZUH_MAX_NOTES", |s| parse_int(s, 0usize, 10_000))?,
        max_notes_per_alert_rule: r.with("WAZUH_MAX_NOTES_PER_ALERT_RULE", |s| {
            parse_int(s, 0usize, 10_000)
        })?,
        create_sighting_summary: r.bool("WAZUH_CREATE_SIGHTING_SUMMARY")?,
        create_incident_summary: r.bool("WAZUH_CREATE_INCIDENT_SUMMARY")?,
        require_indicator_for_incidents: r.bool("WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS")?,
        create_incident: r.with("WAZUH_CREATE_INCIDENT", |s| {
            parse_enum(s, IncidentMode::ALL, IncidentMode::parse)
        })?,
        vulnerability_incident_cvss3_score_threshold: r
            .with_opt("WAZUH_VULNERABILITY_INCIDENT_CVSS3_SCORE_THRESHOLD", |s| {
                parse_float(s, 0.0, 10.0)
            })?,
        vulnerability_incident_active_only: r.bool("WAZUH_VULNERABILITY_INCIDENT_ACTIVE_ONLY")?,
        create_incident_threshold: r
            .with("WAZUH_CREATE_INCIDENT_THRESHOLD", |s| parse_int(s, 1u8, 15))?,
        rule_exclude_list: set(r.with("WAZUH_RULE_EXCLUDE_LIST", parse_list)?),
        incident_rule_exclude_list: set(r.with("WAZUH_INCIDENT_RULE_EXCLUDE_LIST", parse_list)?),
        create_agent_ip_observable: r.bool("WAZUH_CREATE_AGENT_IP_OBSERVABLE")?,
        create_agent_hostname_observable: r.bool("WAZUH_CREATE_AGENT_HOSTNAME_OBSERVABLE")?,
        ignore_own_entities: r.bool("WAZUH_IGNORE_OWN_ENTITIES")?,
        label_ignore_list: set(r.with("WAZUH_LABEL_IGNORE_LIST", parse_list)?),
        enrich_labels: set(r.with("WAZUH_ENRICH_LABELS", parse_list)?),
        create_incident_response: r.bool("WAZUH_CREATE_INCIDENT_RESPONSE")?,
        author_name: r.with("WAZUH_AUTHOR_NAME", |s| {
            if s.is_empty() {
                Err(Bad::new("is empty", "a non-empty name"))
            } else {
                Ok(s.to_string())
            }
        })?,
        app_url: {
            let u = r.with("WAZUH_APP_URL", parse_http_url)?;
            if u.ends_with('/') {
                u
            } else {
                format!("{u}/")
            }
        },
        require_indicator_detection: r.bool("WAZUH_REQUIRE_INDICATOR_DETECTION")?,
        ignore_revoked_indicators: r.bool("WAZUH_IGNORE_REVOKED_INDICATORS")?,
        indicator_score_threshold: r.with_opt("WAZUH_INDICATOR_SCORE_THRESHOLD", |s| {
            parse_int(s, 0u8, 100)
        })?,
        enrich_types: r.with("WAZUH_ENRICH_TYPES", |s| {
            parse_enum_set(s, EnrichType::ALL, EnrichType::parse)
        })?,
        filename_behaviour: r.with("WAZUH_ENRICH_FILENAME_BEHAVIOUR", |s| {
            parse_enum_set(s, FilenameBehaviour::ALL, FilenameBehaviour::parse)
        })?,
        enrich_urls_without_host: r.bool("WAZUH_ENRICH_ENRICH_URLS_WITHOUT_HOST")?,
        skip_auto_own_objects: r.bool("WAZUH_SKIP_AUTO_ENRICHMENT_OF_OWN_OBJECTS")?,
        max_note_chars: r.with("WAZUH_MAX_NOTE_CHARS", |s| {
            parse_int(s, 100usize, 10_000_000)
        })?,
        max_context_alerts: r.with("WAZUH_MAX_CONTEXT_ALERTS", |s| parse_int(s, 0usize, 10_000))?,
    };
    cross_check(&knowledge)?;
    // Record options that the build did not read (none expected) so the listing is complete.
    for o in OPTIONS {
        if !r.entries.iter().any(|e| e.env == o.env) {
            r.raw(o.env)?;
        }
    }
    r.entries
        .sort_by_key(|e| OPTIONS.iter().position(|o| o.env == e.env));
    Ok(Settings {
        opencti,
        connector,
        indexer,
        search,
        knowledge,
    })
}

fn cross_check(k: &KnowledgeOptions) -> Result<(), ConfigError> {
    if k.max_extrefs_per_alert_rule > k.max_extrefs {
        return Err(ConfigError::Invalid {
            name: "WAZUH_MAX_EXTREFS_PER_ALERT_RULE".into(),
            problem: format!(
                "`{}` is larger than WAZUH_MAX_EXTREFS ({})",
                k.max_extrefs_per_alert_rule, k.max_extrefs
            ),
            accepted: "a value not above WAZUH_MAX_EXTREFS".into(),
        });
    }
    if k.max_notes_per_alert_rule > k.max_notes {
        return Err(ConfigError::Invalid {
            name: "WAZUH_MAX_NOTES_PER_ALERT_RULE".into(),
            problem: format!(
                "`{}` is larger than WAZUH_MAX_NOTES ({})",
                k.max_notes_per_alert_rule, k.max_notes
            ),
            accepted: "a value not above WAZUH_MAX_NOTES".into(),
        });
    }
    Ok(())
}

/// Helpers for other modules' unit tests.
#[cfg(test)]
pub(crate) mod tests_support {
    use std::collections::HashMap;

    /// The required variables with valid values.
    pub(crate) fn minimal_env() -> HashMap<String, String> {
        [
            ("OPENCTI_URL", "http://opencti:8080"),
            ("OPENCTI_TOKEN", "0123456"),
            ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
            ("WAZUH_OPENSEARCH_URL", "https://indexer:9200"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::tests_support::minimal_env;
    use super::*;

    fn load_env(extra: &[(&str, &str)]) -> Result<(Settings, Vec<ConfigEntry>), ConfigError> {
        let mut env = minimal_env();
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        load_with_sources(&LoadInput { file: None, env })
    }

    #[test]
    fn table_defaults_equal_typed_defaults() {
        let (s, _) = load_env(&[]).unwrap();
        assert_eq!(s.search, SearchOptions::default());
        assert_eq!(s.knowledge, KnowledgeOptions::default());
        assert_eq!(s.connector.concurrency, 4);
        assert_eq!(s.connector.queue_protocol, QueueProtocol::Amqp);
        assert!(s.opencti.ssl_verify);
        assert!(s.indexer.verify_tls);
        assert_eq!(
            s.indexer.exclude_match,
            vec![FieldMatch {
                field: "data.integration".into(),
                query: "opencti".into()
            }]
        );
    }

    #[test]
    fn token_keeps_leading_zeros_and_is_masked() {
        let (s, entries) = load_env(&[]).unwrap();
        assert_eq!(s.opencti.token.expose(), "0123456");
        let e = entries.iter().find(|e| e.env == "OPENCTI_TOKEN").unwrap();
        assert_eq!(e.value_masked, "***");
        assert!(!format!("{s:?}").contains("0123456"));
    }

    #[test]
    fn underscore_names_are_not_split() {
        let (s, entries) = load_env(&[
            ("WAZUH_OPENSEARCH_VERIFY_TLS", "false"),
            ("CONNECTOR_LOG_LEVEL", "DEBUG"),
        ])
        .unwrap();
        assert!(!s.indexer.verify_tls);
        assert_eq!(s.connector.log_level, "debug");
        let e = entries
            .iter()
            .find(|e| e.env == "WAZUH_OPENSEARCH_VERIFY_TLS")
            .unwrap();
        assert_eq!(e.source, Source::Env("WAZUH_OPENSEARCH_VERIFY_TLS".into()));
    }

    #[test]
    fn bad_value_names_variable_problem_and_accepted() {
        let e = load_env(&[("CONNECTOR_CONCURRENCY", "many")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("CONNECTOR_CONCURRENCY: `many` is not a whole number; accepted: a whole number from 1 to 256"), "{e}");
        let e = load_env(&[("CONNECTOR_QUEUE_PROTOCOL", "http")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("amqp or api"), "{e}");
        let e = load_env(&[("WAZUH_SEARCH_FILESEARCH_OPTIONS", "search-size,bogus")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown value `bogus`"), "{e}");
        let mut env = minimal_env();
        env.remove("OPENCTI_TOKEN");
        let e = load(&LoadInput { file: None, env })
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("OPENCTI_TOKEN is required"), "{e}");
    }

    #[test]
    fn secret_values_never_in_errors() {
        let e = load_env(&[("MQ_PASS", "hunter2"), ("MQ_PORT", "x")])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"));
    }

    #[test]
    fn list_syntaxes() {
        assert_eq!(parse_list("a, b,,c").unwrap(), vec!["a", "b", "c"]);
        assert_eq!(parse_list("[\"a\",\"b\"]").unwrap(), vec!["a", "b"]);
        assert_eq!(parse_list("").unwrap(), Vec::<String>::new());
        assert!(parse_list("[1,").is_err());
        let all = parse_enum_set("all", EnrichType::ALL, EnrichType::parse).unwrap();
        assert_eq!(all.len(), EnrichType::ALL.len());
        let some =
            parse_enum_set("[\"Tool\",\"file\"]", EnrichType::ALL, EnrichType::parse).unwrap();
        assert_eq!(some.len(), 2);
        let m = parse_matches("a.b=1, c:two").unwrap();
        assert_eq!(
            m[1],
            FieldMatch {
                field: "c".into(),
                query: "two".into()
            }
        );
        let m = parse_matches("[{\"field\":\"x\",\"query\":\"y\"}]").unwrap();
        assert_eq!(m[0].field, "x");
        assert!(parse_matches("novalue").is_err());
        assert_eq!(
            parse_order_by("@timestamp:desc,rule.level:asc").unwrap()[1],
            OrderBy {
                field: "rule.level".into(),
                descending: false
            }
        );
        assert_eq!(
            parse_tlps("red, TLP:GREEN").unwrap(),
            vec![Tlp::Red.marking_id(), Tlp::Green.marking_id()]
        );
    }

    #[test]
    fn time_bounds_are_strict_and_utc() {
        assert_eq!(
            parse_time_bound("30d").unwrap(),
            TimeBound::Relative(Duration::from_secs(30 * 86400))
        );
        assert_eq!(
            parse_time_bound("7 days").unwrap(),
            TimeBound::Relative(Duration::from_secs(7 * 86400))
        );
        assert_eq!(
            parse_time_bound("7 days ago").unwrap(),
            TimeBound::Relative(Duration::from_secs(7 * 86400))
        );
        match parse_time_bound("2024-05-01T02:00:00+02:00").unwrap() {
            TimeBound::Absolute(d) => assert_eq!(d.to_rfc3339(), "2024-05-01T00:00:00+00:00"),
            other => panic!("{other:?}"),
        }
        match parse_time_bound("2024-05-01").unwrap() {
            TimeBound::Absolute(d) => assert_eq!(d.to_rfc3339(), "2024-05-01T00:00:00+00:00"),
            other => panic!("{other:?}"),
        }
        assert!(parse_time_bound("yesterday-ish").is_err());
        assert!(parse_time_bound("").is_err());
        assert_eq!(parse_duration("20").unwrap(), Duration::from_secs(20));
        assert_eq!(
            parse_duration("20 seconds").unwrap(),
            Duration::from_secs(20)
        );
    }

    #[test]
    fn file_then_env_precedence_with_sources() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yml");
        std::fs::write(&path, "connector:\n  name: FromFile\n  scope: [IPv4-Addr, Url]\n  concurrency: 8\nwazuh:\n  opensearch:\n    verify_tls: false\n").unwrap();
        let mut env = minimal_env();
        env.insert("CONNECTOR_CONCURRENCY".into(), "2".into());
        let (s, entries) = load_with_sources(&LoadInput {
            file: Some(path.clone()),
            env,
        })
        .unwrap();
        assert_eq!(s.connector.name, "FromFile");
        assert_eq!(s.connector.scope, vec!["IPv4-Addr", "Url"]);
        assert_eq!(s.connector.concurrency, 2);
        assert!(!s.indexer.verify_tls);
        let src = |n: &str| entries.iter().find(|e| e.env == n).unwrap().source.clone();
        assert_eq!(src("CONNECTOR_NAME"), Source::File(path));
        assert_eq!(
            src("CONNECTOR_CONCURRENCY"),
            Source::Env("CONNECTOR_CONCURRENCY".into())
        );
        assert_eq!(src("CONNECTOR_AUTO"), Source::Default);
        assert_eq!(entries.len(), OPTIONS.len());
    }

    #[test]
    fn scope_all_expands() {
        let (s, _) = load_env(&[("CONNECTOR_SCOPE", "all")]).unwrap();
        assert_eq!(s.connector.scope.len(), 18);
        let (s, _) = load_env(&[("CONNECTOR_SCOPE", " IPv4-Addr , Url ")]).unwrap();
        assert_eq!(s.connector.scope, vec!["IPv4-Addr", "Url"]);
    }

    #[test]
    fn legacy_queue_protocol_alias() {
        let (s, _) = load_env(&[("QUEUE_PROTOCOL", "api")]).unwrap();
        assert_eq!(s.connector.queue_protocol, QueueProtocol::Api);
    }

    #[test]
    fn cross_field_limits() {
        let e = load_env(&[("WAZUH_MAX_EXTREFS", "1")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("WAZUH_MAX_EXTREFS_PER_ALERT_RULE"), "{e}");
    }

    #[test]
    fn option_table_is_consistent() {
        let mut names = BTreeSet::new();
        for o in OPTIONS {
            assert!(names.insert(o.env), "duplicate {}", o.env);
            assert_eq!(o.key.to_ascii_lowercase(), o.key);
        }
    }
}
