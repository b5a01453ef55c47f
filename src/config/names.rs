//! Names the connector does not know: an unknown `config.yml` key is an error, an unknown
//! `WAZUH_*`/`CONNECTOR_*` variable a start-up warning, both with the closest known name, so that
//! a typo never silently leaves an option at its default.

use std::collections::{BTreeSet, HashMap};

use super::table::{ENV_ALIASES, IGNORED, OPTIONS, OTHER_VARS, SECTION_VARS, WAZUH_SECTION};

/// Prefixes of the variables this connector owns; other variables (`TZ`, `PATH`…) are not ours
/// to judge.
const OWN_PREFIXES: &[&str] = &["WAZUH_", "CONNECTOR_"];

/// An unknown name found in `config.yml` or in a section-as-JSON variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownKey {
    pub key: String,
    pub suggestion: Option<String>,
}

/// Every `config.yml` key accepted: this connector's layout (`wazuh.max_tlp`) and the reference
/// connector's (`max_tlp`).
fn known_keys() -> BTreeSet<&'static str> {
    OPTIONS
        .iter()
        .flat_map(|o| [Some(o.key), o.key.strip_prefix(WAZUH_SECTION)])
        .flatten()
        .collect()
}

/// The `config.yml` key written in the reference connector's layout, if it differs.
pub fn reference_key(key: &str) -> Option<&str> {
    key.strip_prefix(WAZUH_SECTION)
}

/// Walks a parsed `config.yml` (or a section object, keys relative to `prefix`): returns the keys
/// that are no option and no section, and the known-but-ignored keys with the reason.
pub fn check_file_keys(
    root: &serde_json::Value,
    prefix: &str,
) -> (Vec<UnknownKey>, Vec<(String, &'static str)>) {
    let known = known_keys();
    let mut unknown = Vec::new();
    let mut ignored = Vec::new();
    walk(root, prefix, &known, &mut unknown, &mut ignored);
    (unknown, ignored)
}

fn walk(
    v: &serde_json::Value,
    prefix: &str,
    known: &BTreeSet<&'static str>,
    unknown: &mut Vec<UnknownKey>,
    ignored: &mut Vec<(String, &'static str)>,
) {
    let Some(map) = v.as_object() else { return };
    for (k, child) in map {
        let key = format!("{prefix}{k}");
        if known.contains(key.as_str()) {
            continue;
        }
        if let Some((_, _, why)) = IGNORED
            .iter()
            .find(|(_, y, _)| *y == key || reference_key(y) == Some(key.as_str()))
        {
            ignored.push((key, why));
            continue;
        }
        let section = format!("{key}.");
        if known.iter().any(|n| n.starts_with(&section)) {
            // A section written with every key commented out is `null`: nothing to check.
            if child.is_object() || child.is_null() {
                walk(child, &section, known, unknown, ignored);
                continue;
            }
        }
        let suggestion = closest(&key, known.iter().copied()).map(str::to_string);
        unknown.push(UnknownKey { key, suggestion });
    }
}

/// One warning line per variable with an owned prefix that the connector does not read.
pub fn env_warnings(env: &HashMap<String, String>) -> Vec<String> {
    let known: BTreeSet<&str> = OPTIONS
        .iter()
        .map(|o| o.env)
        .chain(ENV_ALIASES.iter().map(|(a, _)| *a))
        .chain(SECTION_VARS.iter().map(|(v, _)| *v))
        .chain(OTHER_VARS.iter().copied())
        .collect();
    let mut names: Vec<&String> = env.keys().collect();
    names.sort();
    names
        .into_iter()
        .filter(|n| OWN_PREFIXES.iter().any(|p| n.starts_with(p)))
        .filter(|n| !known.contains(n.as_str()))
        .map(|n| {
            if let Some((_, _, why)) = IGNORED.iter().find(|(e, _, _)| e == n) {
                return format!("environment variable {n} is ignored: {why}");
            }
            match closest(n, known.iter().copied()) {
                Some(s) => {
                    format!("unknown environment variable {n} is ignored; did you mean {s}?")
                }
                None => format!("unknown environment variable {n} is ignored"),
            }
        })
        .collect()
}

/// The candidate nearest to `name` (case-insensitive edit distance), when near enough to be a
/// plausible typo.
pub fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let limit = (name.chars().count() / 4).max(2);
    candidates
        .map(|c| (distance(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(d, _)| *d <= limit)
        .min()
        .map(|(_, c)| c)
}

/// Levenshtein distance (names are short; the quadratic table is fine).
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn typo_in_file_is_named_with_suggestion() {
        let (unknown, ignored) = check_file_keys(
            &json!({"wazuh": {"opensearch": {"verfy_tls": false, "url": "x"}}, "max_tpl": "red", "enrich_agent": true}),
            "",
        );
        assert_eq!(
            unknown,
            vec![
                UnknownKey {
                    key: "max_tpl".into(),
                    suggestion: Some("max_tlp".into())
                },
                UnknownKey {
                    key: "wazuh.opensearch.verfy_tls".into(),
                    suggestion: Some("wazuh.opensearch.verify_tls".into())
                },
            ]
        );
        assert_eq!(ignored.len(), 1);
        assert_eq!(ignored[0].0, "enrich_agent");
    }

    #[test]
    fn reference_layout_keys_are_known() {
        let (unknown, _) = check_file_keys(
            &json!({"max_tlp": "TLP:RED", "opensearch": {"url": "x", "order_by": [{"field": "timestamp", "order": "desc"}]}, "search": {"lookup_agent_ip": true}, "opencti": {"url": "x"}}),
            "",
        );
        assert!(unknown.is_empty(), "{unknown:?}");
    }

    #[test]
    fn unknown_own_variables_warn_with_suggestion() {
        let env: HashMap<String, String> = [
            ("WAZUH_OPENSEARCH_VERIFY_TSL", "false"),
            ("WAZUH_ENRICH_AGENT", "true"),
            ("CONNECTOR_ZZZZZZZZZZ", "1"),
            ("TZ", "UTC"),
            ("AGENTS_AS_SYSTEMS", "true"),
            ("WAZUH_SEARCH", "{}"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let w = env_warnings(&env);
        assert_eq!(w.len(), 3, "{w:?}");
        assert!(w[0].starts_with("unknown environment variable CONNECTOR_ZZZZZZZZZZ is ignored"));
        assert!(w[1].starts_with("environment variable WAZUH_ENRICH_AGENT is ignored: "));
        assert_eq!(w[2], "unknown environment variable WAZUH_OPENSEARCH_VERIFY_TSL is ignored; did you mean WAZUH_OPENSEARCH_VERIFY_TLS?");
    }

    #[test]
    fn distance_is_levenshtein() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(closest("zzzz", ["max_tlp"].into_iter()), None);
    }
}
