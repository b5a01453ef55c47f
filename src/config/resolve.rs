//! Looking each option up: the environment (under its name, an alias, or a section-as-JSON
//! variable), the YAML file (the connector's layout or the reference connector's), then the
//! default — recording where every value came from. [`super::build`] asks the [`Resolver`] for
//! each option; [`super::load`] feeds it the inputs and reports what it found.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use super::names::reference_key;
use super::parse::{json_to_text, parse_bool, redact_userinfo, Bad};
use super::table::{alias_note, spec, OptionSpec, ENV_ALIASES, SECTION_VARS};

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
    /// Set when the value was not read under the option's own name or as written: an alias
    /// ("deprecated spelling", "reference-only spelling"), the reference connector's `config.yml`
    /// layout, a section-as-JSON variable, or an empty value that left the default in force.
    pub note: Option<&'static str>,
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
    #[error("{origin}: unknown key `{key}`{}", suggestion.as_ref().map(|s| format!("; did you mean `{s}`?")).unwrap_or_default())]
    UnknownKey {
        origin: String,
        key: String,
        suggestion: Option<String>,
    },
    #[error("configuration file {}: `{key}` and `{reference_key}` both set the same option; keep one", path.display())]
    Conflict {
        path: PathBuf,
        key: &'static str,
        reference_key: &'static str,
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
            format!("`{}`", redact_userinfo(value))
        };
        ConfigError::Invalid {
            name: env.to_string(),
            problem: format!("{shown} {}", self.problem),
            accepted: self.accepted,
        }
    }
}

/// Looks each option up (environment, file, default) and records where its value came from.
pub(crate) struct Resolver<'a> {
    pub(super) env: &'a HashMap<String, String>,
    pub(super) sections: HashMap<&'static str, serde_json::Value>,
    pub(super) file: Option<(PathBuf, serde_json::Value)>,
    pub(crate) entries: Vec<ConfigEntry>,
}

/// A value, where it came from, and how it was spelled when not under its own name.
type Found = (Option<String>, Source, Option<&'static str>);

fn file_lookup<'v>(root: &'v serde_json::Value, key: &str) -> Option<&'v serde_json::Value> {
    key.split('.').try_fold(root, |v, k| v.get(k))
}

impl Resolver<'_> {
    /// Where the value of `s` comes from, first found wins: its variable, an alias, a
    /// section-as-JSON variable, the file (either layout), the default. A value set to nothing
    /// (an empty variable, `null` in the file) is found as `""`.
    fn find(&self, s: &'static OptionSpec) -> Result<Found, ConfigError> {
        if let Some(v) = self.env.get(s.env) {
            return Ok((Some(v.clone()), Source::Env(s.env.to_string()), None));
        }
        if let Some((alias, v)) = ENV_ALIASES
            .iter()
            .filter(|(_, c)| *c == s.env)
            .find_map(|(a, _)| self.env.get(*a).map(|v| (*a, v)))
        {
            let source = Source::Env(alias.to_string());
            return Ok((Some(v.clone()), source, Some(alias_note(alias))));
        }
        for (var, section) in SECTION_VARS {
            let field = s
                .key
                .strip_prefix(*section)
                .and_then(|f| f.strip_prefix('.'));
            if let Some(v) = field.and_then(|f| self.sections.get(var)?.get(f)) {
                let text = json_to_text(v).unwrap_or_default();
                return Ok((
                    Some(text),
                    Source::Env(var.to_string()),
                    Some("section JSON"),
                ));
            }
        }
        if let Some((path, root)) = &self.file {
            let ours = file_lookup(root, s.key);
            let reference = reference_key(s.key);
            let theirs = reference.and_then(|k| file_lookup(root, k));
            let text = |v: &serde_json::Value| Some(json_to_text(v).unwrap_or_default());
            match (ours, theirs, reference) {
                (Some(_), Some(_), Some(reference_key)) => {
                    return Err(ConfigError::Conflict {
                        path: path.clone(),
                        key: s.key,
                        reference_key,
                    })
                }
                (Some(v), _, _) => return Ok((text(v), Source::File(path.clone()), None)),
                (None, Some(v), _) => {
                    let source = Source::File(path.clone());
                    return Ok((text(v), source, Some("reference layout")));
                }
                _ => {}
            }
        }
        Ok(match s.default {
            Some(d) => (Some(d.to_string()), Source::Default, None),
            None => (None, Source::Unset, None),
        })
    }

    /// The raw text of an option, recorded with its source for `connector-wazuh config`.
    pub(crate) fn raw(&mut self, env: &'static str) -> Result<Option<String>, ConfigError> {
        let s = spec(env);
        let (value, source, note) = self.find(s)?;
        let shown = match &value {
            Some(v) if s.secret && !v.is_empty() => "***".to_string(),
            Some(v) => redact_userinfo(v),
            None => String::new(),
        };
        self.entries.retain(|e| e.env != env);
        self.entries.push(ConfigEntry {
            key: s.key,
            env: s.env,
            value_masked: shown,
            source,
            note,
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
    /// A single value: set to nothing (empty variable, `null`), the option keeps its default.
    pub(crate) fn with<T>(
        &mut self,
        env: &'static str,
        f: impl FnOnce(&str) -> Result<T, Bad>,
    ) -> Result<T, ConfigError> {
        let mut v = self.text(env)?;
        if let Some(d) = spec(env).default.filter(|d| v.is_empty() && !d.is_empty()) {
            v = d.to_string();
            if let Some(e) = self.entries.iter_mut().find(|e| e.env == env) {
                e.value_masked = redact_userinfo(d);
                e.note = Some("empty: default");
            }
        }
        f(&v).map_err(|b| b.named(env, &v))
    }
    /// A list: set to nothing, it is the empty list.
    pub(crate) fn list<T>(
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
