//! Reading `config/config.yml` and the environment into [`super::Settings`].
//!
//! Every option is listed once in the option table ([`OPTIONS`]): environment name, YAML key,
//! default, description. Values are looked up by that explicit table (environment first, then the
//! file, then the default) — never by splitting variable names on `_` (which silently loses keys
//! such as `WAZUH_OPENSEARCH_VERIFY_TLS`) and never with type guessing (which eats leading zeros of
//! tokens). Each value is then parsed strictly ([`super::parse`]); a bad value yields one
//! [`ConfigError`] line naming the variable, what is wrong and what is accepted.
//!
//! The loader also records where every effective value came from ([`ConfigEntry`]), so that
//! `connector-wazuh config` can print the effective configuration with its sources.

use std::collections::HashMap;
use std::path::PathBuf;

use super::build::build;
use super::names::{check_file_keys, env_warnings, UnknownKey};
use super::resolve::Resolver;
pub use super::resolve::{ConfigEntry, ConfigError, Source};
use super::table::SECTION_VARS;
pub use super::table::{OptionSpec, DEFAULT_SCOPE, ENV_ALIASES, OPTIONS};
use super::Settings;

/// Everything the loader found: the settings, each option's value and source, and warnings
/// (unknown or ignored names) to show at start-up.
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    pub entries: Vec<ConfigEntry>,
    pub warnings: Vec<String>,
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
    load_report(input).map(|l| l.settings)
}

/// Load and validate the settings, also returning every option's effective value and source.
pub fn load_with_sources(input: &LoadInput) -> Result<(Settings, Vec<ConfigEntry>), ConfigError> {
    load_report(input).map(|l| (l.settings, l.entries))
}

/// Load and validate the settings, with every option's source and the start-up warnings.
pub fn load_report(input: &LoadInput) -> Result<Loaded, ConfigError> {
    let mut warnings = env_warnings(&input.env);
    let file = read_file(input)?;
    if let Some((path, root)) = &file {
        let (unknown, ignored) = check_file_keys(root, "");
        if let Some(u) = unknown.into_iter().next() {
            return Err(unknown_key(
                format!("configuration file {}", path.display()),
                u,
            ));
        }
        warnings.extend(ignored.into_iter().map(|(key, why)| {
            format!(
                "configuration file {}: key `{key}` is ignored: {why}",
                path.display()
            )
        }));
    }
    let mut r = Resolver {
        env: &input.env,
        sections: read_sections(&input.env)?,
        file,
        entries: Vec::new(),
    };
    let settings = build(&mut r)?;
    Ok(Loaded {
        settings,
        entries: r.entries,
        warnings,
    })
}

fn unknown_key(origin: String, u: UnknownKey) -> ConfigError {
    ConfigError::UnknownKey {
        origin,
        key: u.key,
        suggestion: u.suggestion,
    }
}

/// The section-as-JSON variables that are set (empty = unset), each checked for unknown keys.
fn read_sections(
    env: &HashMap<String, String>,
) -> Result<HashMap<&'static str, serde_json::Value>, ConfigError> {
    let mut out = HashMap::new();
    for (var, section) in SECTION_VARS {
        let Some(text) = env.get(*var).map(|t| t.trim()).filter(|t| !t.is_empty()) else {
            continue;
        };
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v @ serde_json::Value::Object(_)) => v,
            _ => {
                return Err(ConfigError::Invalid {
                    name: var.to_string(),
                    problem: "is not a JSON object".into(),
                    accepted: format!(
                        "a JSON object of `{section}` keys, e.g. {{\"{}\": …}}",
                        OPTIONS
                            .iter()
                            .find_map(|o| o.key.strip_prefix(&format!("{section}.")))
                            .unwrap_or("key")
                    ),
                })
            }
        };
        let (unknown, _) = check_file_keys(&value, &format!("{section}."));
        if let Some(u) = unknown.into_iter().next() {
            return Err(unknown_key(var.to_string(), u));
        }
        out.insert(*var, value);
    }
    Ok(out)
}

fn read_file(input: &LoadInput) -> Result<Option<(PathBuf, serde_json::Value)>, ConfigError> {
    let (path, required) = match (&input.file, input.env.get("CONNECTOR_CONFIG_FILE")) {
        (Some(p), _) => (p.clone(), true),
        (None, Some(p)) if !p.is_empty() => (PathBuf::from(p), true),
        _ => (PathBuf::from("config/config.yml"), false),
    };
    if !path.exists() {
        if required {
            return Err(ConfigError::FileNotFound { path });
        }
        return Ok(None);
    }
    let value = config::Config::builder()
        .add_source(
            config::File::from(path.as_path())
                .format(config::FileFormat::Yaml)
                .required(true),
        )
        .build()
        .and_then(|cfg| cfg.try_deserialize::<serde_json::Value>());
    match value {
        Ok(v) => Ok(Some((path, v))),
        Err(source) => Err(ConfigError::File { path, source }),
    }
}

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
    use crate::config::*;

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
    fn bundle_directory_options() {
        let (s, _) = load_env(&[]).unwrap();
        assert!(s.connector.send_to_queue);
        assert_eq!(s.connector.send_to_directory, None);
        let (s, _) = load_env(&[
            ("CONNECTOR_SEND_TO_DIRECTORY", "true"),
            ("CONNECTOR_SEND_TO_DIRECTORY_PATH", "/var/bundles"),
            ("CONNECTOR_SEND_TO_QUEUE", "false"),
        ])
        .unwrap();
        let d = s.connector.send_to_directory.unwrap();
        assert_eq!(
            (d.path.to_str(), d.retention_days),
            (Some("/var/bundles"), 7)
        );
        assert!(!s.connector.send_to_queue);
        let e = load_env(&[("CONNECTOR_SEND_TO_DIRECTORY", "true")])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("CONNECTOR_SEND_TO_DIRECTORY_PATH"), "{e}");
        let e = load_env(&[("CONNECTOR_SEND_TO_QUEUE", "false")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("results would go nowhere"), "{e}");
    }

    fn load_file(yaml: &str, extra: &[(&str, &str)]) -> Result<Loaded, ConfigError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yml");
        std::fs::write(&path, yaml).unwrap();
        let mut env = minimal_env();
        for (k, v) in extra {
            env.insert(k.to_string(), v.to_string());
        }
        load_report(&LoadInput {
            file: Some(path),
            env,
        })
    }

    fn entry<'a>(entries: &'a [ConfigEntry], env: &str) -> &'a ConfigEntry {
        entries.iter().find(|e| e.env == env).unwrap()
    }

    // Failed before empty values meant "unset" (`is not JSON`, `is not a boolean`).
    #[test]
    fn empty_values_mean_unset() {
        let (s, entries) = load_env(&[
            ("WAZUH_OPENSEARCH_FILTER", ""),
            ("WAZUH_OPENSEARCH_LIMIT", " "),
            ("WAZUH_AGENTS_AS_SYSTEMS", ""),
            ("WAZUH_INDICATOR_SCORE_THRESHOLD", ""),
            ("WAZUH_OPENSEARCH_EXCLUDE_MATCH", ""),
            ("WAZUH_RULE_EXCLUDE_LIST", ""),
        ])
        .unwrap();
        assert!(s.indexer.filter.is_empty());
        assert_eq!(s.indexer.limit, 50);
        assert!(s.knowledge.agents_as_systems);
        assert_eq!(s.knowledge.indicator_score_threshold, None);
        assert_eq!(s.indexer.exclude_match.len(), 1);
        let limit = entry(&entries, "WAZUH_OPENSEARCH_LIMIT");
        assert_eq!(limit.value_masked, "50");
        assert_eq!(limit.source, Source::Env("WAZUH_OPENSEARCH_LIMIT".into()));
        assert_eq!(limit.note, Some("empty: default"));
    }

    // Failed before the reference layout was read: `max_tlp` at the top level was ignored and the
    // default TLP:AMBER+STRICT applied.
    #[test]
    fn reference_layout_is_read() {
        let l = load_file(
            "max_tlp: TLP:GREEN\nopensearch:\n  limit: 7\n  order_by:\n    - field: timestamp\n      order: asc\nsearch:\n  lookup_agent_ip: true\nindicator_score_threshold: null\n",
            &[],
        )
        .unwrap();
        assert_eq!(l.settings.knowledge.max_tlp, Tlp::Green);
        assert_eq!(l.settings.indexer.limit, 7);
        assert!(!l.settings.indexer.order_by[0].descending);
        assert!(l.settings.search.lookup_agent_ip);
        let e = entry(&l.entries, "WAZUH_MAX_TLP");
        assert!(matches!(e.source, Source::File(_)));
        assert_eq!(e.note, Some("reference layout"));
        // Set to null in the file: shown as coming from the file, not as a default.
        let e = entry(&l.entries, "WAZUH_INDICATOR_SCORE_THRESHOLD");
        assert!(matches!(e.source, Source::File(_)), "{e:?}");
        let e = load_file("max_tlp: red\nwazuh:\n  max_tlp: green\n", &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("`wazuh.max_tlp` and `max_tlp` both set"), "{e}");
    }

    // Failed before the section-as-JSON variables were read.
    #[test]
    fn section_json_variables() {
        let (s, entries) = load_env(&[
            ("WAZUH_SEARCH", r#"{"lookup_agent_ip": true}"#),
            ("WAZUH_OPENSEARCH", r#"{"limit": 9, "index": "x-*"}"#),
            ("WAZUH_OPENSEARCH_INDEX", "y-*"),
        ])
        .unwrap();
        assert!(s.search.lookup_agent_ip);
        assert_eq!(s.indexer.limit, 9);
        assert_eq!(s.indexer.index, "y-*", "the specific variable wins");
        let e = entry(&entries, "WAZUH_SEARCH_LOOKUP_AGENT_IP");
        assert_eq!(e.source, Source::Env("WAZUH_SEARCH".into()));
        assert_eq!(e.note, Some("section JSON"));
        let e = load_env(&[("WAZUH_ENRICH", r#"{"typez": "all"}"#)])
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "WAZUH_ENRICH: unknown key `wazuh.enrich.typez`; did you mean `wazuh.enrich.types`?"
        );
        assert!(load_env(&[("WAZUH_ENRICH", "[1]")]).is_err());
    }

    // Failed before unknown keys were refused: the typo left verify_tls at its default silently.
    #[test]
    fn unknown_file_key_is_an_error_with_suggestion() {
        let e = load_file("wazuh:\n  opensearch:\n    verfy_tls: false\n", &[])
            .unwrap_err()
            .to_string();
        assert!(
            e.ends_with(": unknown key `wazuh.opensearch.verfy_tls`; did you mean `wazuh.opensearch.verify_tls`?"),
            "{e}"
        );
        let l = load_file("enrich_agent: true\n", &[("WAZUH_MAX_TPL", "red")]).unwrap();
        assert_eq!(l.warnings.len(), 2, "{:?}", l.warnings);
        assert!(l.warnings[0].contains("WAZUH_MAX_TPL is ignored; did you mean WAZUH_MAX_TLP?"));
        assert!(l.warnings[1].contains("key `enrich_agent` is ignored"));
    }

    #[test]
    fn reference_spellings_are_marked() {
        let (s, entries) = load_env(&[
            ("AGENTS_AS_SYSTEMS", "false"),
            ("WAZUH_SEARCH_LOOKUP_URL_INGORE_TRAILING_SLASH", "true"),
        ])
        .unwrap();
        assert!(!s.knowledge.agents_as_systems);
        assert!(s.search.lookup_url_ignore_trailing_slash);
        let e = entry(&entries, "WAZUH_AGENTS_AS_SYSTEMS");
        assert_eq!(e.source, Source::Env("AGENTS_AS_SYSTEMS".into()));
        assert_eq!(e.note, Some("reference-only spelling"));
        let (_, entries) = load_env(&[("QUEUE_PROTOCOL", "api")]).unwrap();
        let e = entry(&entries, "CONNECTOR_QUEUE_PROTOCOL");
        assert_eq!(e.note, Some("deprecated spelling"));
    }

    // Failed before: the error echoed `https://admin:hunter2@…`.
    #[test]
    fn url_credentials_never_in_errors_or_listing() {
        let e = load_env(&[("OPENCTI_URL", "https://admin:hunter2@opencti:8080")])
            .unwrap_err()
            .to_string();
        assert!(
            !e.contains("hunter2") && e.contains("https://***@opencti:8080"),
            "{e}"
        );
        let e = load_env(&[("WAZUH_APP_URL", "https://admin:hunter2@dash")])
            .unwrap_err()
            .to_string();
        assert!(!e.contains("hunter2"), "{e}");
    }
}
