//! `connector-wazuh config`: the effective configuration, secrets masked, with where each value
//! came from — as an aligned table, or as JSON (`--json`) for scripts.

use serde_json::{json, Value};

use crate::config::load::{ConfigEntry, Source};

/// Shown for options that have no value.
const UNSET: &str = "(unset)";

fn value(e: &ConfigEntry) -> &str {
    if e.value_masked.is_empty() {
        UNSET
    } else {
        &e.value_masked
    }
}

/// Values longer than this (lists, filters) overflow their column instead of widening it for all.
const MAX_VALUE_COLUMN: usize = 40;

/// The source, with the spelling mark when the value was not read under the option's own name.
fn source(e: &ConfigEntry) -> String {
    match e.note {
        Some(note) => format!("{}; {note}", e.source),
        None => e.source.to_string(),
    }
}

/// `OPTION  VALUE  [SOURCE]`, one option a line after a header line.
pub fn table(entries: &[ConfigEntry]) -> String {
    let w_env = entries
        .iter()
        .map(|e| e.env.len())
        .max()
        .unwrap_or(0)
        .max(6);
    let w_val = entries
        .iter()
        .map(|e| value(e).chars().count())
        .max()
        .unwrap_or(0)
        .clamp(5, MAX_VALUE_COLUMN);
    let mut out = format!("{:<w_env$}  {:<w_val$}  [SOURCE]\n", "OPTION", "VALUE");
    for e in entries {
        let v = value(e);
        let pad = w_val.saturating_sub(v.chars().count());
        out.push_str(&format!(
            "{:<w_env$}  {v}{}  [{}]\n",
            e.env,
            " ".repeat(pad),
            source(e)
        ));
    }
    out
}

/// A JSON list of `{option, key, value, source, source_name, note}` (`value` null when unset).
pub fn json(entries: &[ConfigEntry]) -> Value {
    Value::Array(
        entries
            .iter()
            .map(|e| {
                let (kind, name) = match &e.source {
                    Source::Default => ("default", None),
                    Source::File(p) => ("file", Some(p.display().to_string())),
                    Source::Env(n) => ("env", Some(n.clone())),
                    Source::Unset => ("unset", None),
                };
                json!({
                    "option": e.env,
                    "key": e.key,
                    "value": if e.value_masked.is_empty() { Value::Null } else { json!(e.value_masked) },
                    "source": kind,
                    "source_name": name,
                    "note": e.note,
                })
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries() -> Vec<ConfigEntry> {
        vec![
            ConfigEntry {
                key: "opencti.token",
                env: "OPENCTI_TOKEN",
                value_masked: "***".into(),
                source: Source::Env("OPENCTI_TOKEN".into()),
                note: None,
            },
            ConfigEntry {
                key: "wazuh.opensearch.ca_bundle",
                env: "WAZUH_OPENSEARCH_CA_BUNDLE",
                value_masked: String::new(),
                source: Source::Unset,
                note: None,
            },
            ConfigEntry {
                key: "wazuh.agents_as_systems",
                env: "WAZUH_AGENTS_AS_SYSTEMS",
                value_masked: "true".into(),
                source: Source::Env("AGENTS_AS_SYSTEMS".into()),
                note: Some("reference-only spelling"),
            },
        ]
    }

    #[test]
    fn table_is_aligned_with_header() {
        let t = table(&entries());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[0], "OPTION                      VALUE    [SOURCE]");
        assert_eq!(
            lines[1],
            "OPENCTI_TOKEN               ***      [env OPENCTI_TOKEN]"
        );
        assert_eq!(lines[2], "WAZUH_OPENSEARCH_CA_BUNDLE  (unset)  [unset]");
        assert_eq!(
            lines[3],
            "WAZUH_AGENTS_AS_SYSTEMS     true     [env AGENTS_AS_SYSTEMS; reference-only spelling]"
        );
    }

    #[test]
    fn json_has_source_kinds() {
        let j = json(&entries());
        assert_eq!(j[0]["source"], "env");
        assert_eq!(j[0]["source_name"], "OPENCTI_TOKEN");
        assert_eq!(j[0]["value"], "***");
        assert_eq!(j[1]["value"], Value::Null);
        assert_eq!(j[1]["source"], "unset");
    }
}
