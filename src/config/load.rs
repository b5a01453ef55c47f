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
use std::fmt;
use std::path::PathBuf;

use super::build::build;
use super::parse::{json_to_text, parse_bool, Bad};
use super::table::spec;
pub use super::table::{OptionSpec, DEFAULT_SCOPE, ENV_ALIASES, OPTIONS};
use super::Settings;

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
#[derive(Debug, thiserror::Error)]
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
    #[error("configuration file {}: not found", path.display())]
    FileNotFound { path: PathBuf },
    #[error("configuration file {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: config::ConfigError,
    },
}

impl Bad {
    /// This parse failure as the error of option `env` whose text was `value` (masked when the
    /// option is a secret).
    pub(crate) fn named(self, env: &str, value: &str) -> ConfigError {
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

/// Looks each option up (environment, file, default) and records where its value came from.
pub(crate) struct Resolver<'a> {
    env: &'a HashMap<String, String>,
    file: Option<(PathBuf, serde_json::Value)>,
    pub(crate) entries: Vec<ConfigEntry>,
}

fn file_lookup<'v>(root: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    key.split('.').try_fold(root, |v, k| v.get(k))
}

impl Resolver<'_> {
    /// The raw text of an option: environment (canonical name or alias), file, default.
    pub(crate) fn raw(&mut self, env: &'static str) -> Result<Option<String>, ConfigError> {
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

    pub(crate) fn text(&mut self, env: &'static str) -> Result<String, ConfigError> {
        Ok(self.raw(env)?.unwrap_or_default().trim().to_string())
    }
    pub(crate) fn opt_text(&mut self, env: &'static str) -> Result<Option<String>, ConfigError> {
        Ok(self
            .raw(env)?
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty()))
    }
    pub(crate) fn with<T>(
        &mut self,
        env: &'static str,
        f: impl FnOnce(&str) -> Result<T, Bad>,
    ) -> Result<T, ConfigError> {
        let v = self.text(env)?;
        f(&v).map_err(|b| b.named(env, &v))
    }
    pub(crate) fn with_opt<T>(
        &mut self,
        env: &'static str,
        f: impl FnOnce(&str) -> Result<T, Bad>,
    ) -> Result<Option<T>, ConfigError> {
        match self.opt_text(env)? {
            None => Ok(None),
            Some(v) => f(&v).map(Some).map_err(|b| b.named(env, &v)),
        }
    }
    pub(crate) fn bool(&mut self, env: &'static str) -> Result<bool, ConfigError> {
        self.with(env, parse_bool)
    }
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
}
