//! Wazuh alerts and the aggregated search results the knowledge builder works from.
//!
//! A search yields exact per-agent and per-rule statistics (computed by the indexer with
//! aggregations, so they stay exact whatever the hit count) plus a bounded, newest-first sample
//! of alerts used for notes, external references and context objects.

/// Rule metadata of an alert (`_source.rule`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Rule {
    /// `rule.id` (a keyword in the index, e.g. `"5710"`).
    pub id: String,
    /// `rule.level` (0–16).
    pub level: u8,
    pub description: String,
    pub groups: Vec<String>,
    /// `rule.mitre.id` (ATT&CK technique ids).
    pub mitre_ids: Vec<String>,
}

/// The agent an alert came from (`_source.agent`). Agent `000` is the manager.
#[derive(Debug, Clone, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Agent {
    pub id: String,
    pub name: String,
    pub ip: Option<String>,
}

impl Agent {
    /// True for real agents (numeric id > 0); the manager and agentless events are not agents.
    pub fn is_real_agent(&self) -> bool {
        self.id.parse::<u64>().map(|n| n > 0).unwrap_or(false)
    }
}

/// One alert (an OpenSearch hit).
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    /// OpenSearch `_id`.
    pub doc_id: String,
    /// OpenSearch `_index`.
    pub index: String,
    /// `_source.@timestamp` as stored (ISO 8601, UTC).
    pub timestamp: String,
    /// `_source.id` (the manager's alert id), if present.
    pub alert_id: Option<String>,
    pub rule: Rule,
    pub agent: Agent,
    /// The whole `_source` (bounded in size by the indexer client), for notes and context objects.
    pub source: Source,
}

/// An alert's whole `_source`, held as the JSON text the indexer sent and parsed when the
/// knowledge is built.
///
/// A request keeps its sample (50 alerts by default) while the statistics of the rest are
/// fetched, which at 10,000 hits takes most of the request's time. As parsed JSON an alert is
/// about six times its text (every small object is a map with its own allocations), and four
/// such samples were the largest part of the heap at four concurrent 10,000-hit requests.
#[derive(Debug, Clone)]
pub struct Source {
    /// `None` for no document (statistics-only alerts): nothing allocated.
    raw: Option<Box<serde_json::value::RawValue>>,
    parsed: std::sync::OnceLock<serde_json::Value>,
}

impl Source {
    /// The text of a `_source`; parsed on first use.
    pub fn from_raw(raw: Box<serde_json::value::RawValue>) -> Source {
        Source {
            raw: Some(raw),
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// No document (`null`).
    pub fn none() -> Source {
        Source {
            raw: None,
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// A `_source` already parsed, with no text (tests, documents built in memory, an alert's
    /// working copy: see [`Alert::with_parsed_source`]).
    pub fn from_value(v: serde_json::Value) -> Source {
        Source {
            raw: None,
            parsed: std::sync::OnceLock::from(v),
        }
    }

    /// The document, parsed for the caller and not kept: what a pass over many alerts uses, so
    /// that one alert's document at a time is in memory.
    pub fn parse(&self) -> serde_json::Value {
        match self.parsed.get() {
            Some(v) => v.clone(),
            None => parse(self.raw.as_deref()),
        }
    }

    /// The parsed document, kept once parsed (tests and working copies; a pass over the
    /// sample uses [`Source::parse`]). The text was parsed once already when the alert was
    /// read, so it is valid JSON; `null` stands in should it not be.
    pub fn value(&self) -> &serde_json::Value {
        self.parsed.get_or_init(|| parse(self.raw.as_deref()))
    }

    /// Whether the parsed document is held (memory checks: the sample's alerts should hold
    /// only their text).
    pub fn is_parsed(&self) -> bool {
        self.parsed.get().is_some()
    }

    /// The document to change (tests, documents built in memory); the text is let go, as it
    /// no longer describes it.
    pub fn value_mut(&mut self) -> &mut serde_json::Value {
        let v = match std::mem::take(&mut self.parsed).into_inner() {
            Some(v) => v,
            None => parse(self.raw.as_deref()),
        };
        self.raw = None;
        self.parsed = std::sync::OnceLock::from(v);
        match self.parsed.get_mut() {
            Some(v) => v,
            None => unreachable!("set on the line above"),
        }
    }
}

fn parse(raw: Option<&serde_json::value::RawValue>) -> serde_json::Value {
    raw.and_then(|r| serde_json::from_str(r.get()).ok())
        .unwrap_or_default()
}

impl PartialEq for Source {
    /// Equal documents, whatever their spacing or key order (parsed for the comparison, not
    /// kept).
    fn eq(&self, other: &Source) -> bool {
        match (&self.raw, &other.raw) {
            (Some(a), Some(b)) if a.get() == b.get() => true,
            _ => self.parse() == other.parse(),
        }
    }
}

/// Exact statistics of the alerts of one rule (within one agent, or overall).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleStats {
    pub rule_id: String,
    pub level: u8,
    pub description: String,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
}

/// Exact statistics of the alerts of one agent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentStats {
    pub agent: Agent,
    pub count: u64,
    pub first_seen: String,
    pub last_seen: String,
    pub max_rule_level: u8,
    /// Per rule, most frequent first (bounded by the aggregation size).
    pub rules: Vec<RuleStats>,
}

/// What one enrichment search found.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchResult {
    /// Exact number of matching alerts (`track_total_hits: true`).
    pub total: u64,
    /// Milliseconds the indexer spent (`took`, summed over requests).
    pub took_ms: u64,
    /// Newest first, at most `WAZUH_OPENSEARCH_LIMIT` alerts.
    pub alerts: Vec<Alert>,
    /// Exact per-agent statistics, by agent id.
    pub agents: Vec<AgentStats>,
    /// Exact per-rule statistics over all agents.
    pub rules: Vec<RuleStats>,
    /// Shard failures reported by the indexer (logged, not fatal).
    pub shard_failures: Vec<String>,
    /// The query sent (for the summary note and debugging).
    pub query: serde_json::Value,
    /// Agents that currently have the vulnerability / package, from the Wazuh 4.8+
    /// vulnerability state index (only when configured and the observable is a Vulnerability
    /// or Software).
    pub vulnerable_agents: Option<VulnerabilityState>,
}

/// What the vulnerability state index says about one vulnerability or package.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VulnerabilityState {
    /// Number of distinct agents that currently have it.
    pub agents: u64,
    /// Their names (sorted, bounded by the aggregation size).
    pub agent_names: Vec<String>,
}

/// Why an alert document could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AlertError {
    #[error("alert {doc_id} has no usable @timestamp")]
    NoTimestamp { doc_id: String },
}

/// Why an alert's `_source` text could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("alert {doc_id} is not readable JSON: {error}")]
    Unreadable { doc_id: String, error: String },
    #[error(transparent)]
    Alert(#[from] AlertError),
}

fn str_at<'a>(v: &'a serde_json::Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

/// Strings of a value that may be a string or a list of strings (Wazuh uses both).
fn strings_at(v: &serde_json::Value, path: &[&str]) -> Vec<String> {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return Vec::new(),
        }
    }
    match cur {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(a) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

impl Alert {
    /// Builds an alert from an OpenSearch hit's `_id`, `_index` and `_source`.
    ///
    /// Tolerant by design: every field but the timestamp may be missing or of an unexpected
    /// type (odd alerts must never abort an enrichment); `rule.level` may be a number or a
    /// numeric string. The timestamp is `@timestamp`, else `timestamp`.
    pub fn from_source(
        doc_id: &str,
        index: &str,
        source: serde_json::Value,
    ) -> Result<Alert, AlertError> {
        let mut a = Alert::header(doc_id, index, &source)?;
        a.source = Source::from_value(source);
        Ok(a)
    }

    /// A copy whose source is parsed, for work that reads many of its fields; the alert
    /// itself keeps only the text.
    pub fn with_parsed_source(&self) -> Alert {
        Alert {
            doc_id: self.doc_id.clone(),
            index: self.index.clone(),
            timestamp: self.timestamp.clone(),
            alert_id: self.alert_id.clone(),
            rule: self.rule.clone(),
            agent: self.agent.clone(),
            source: Source::from_value(self.source.parse()),
        }
    }

    /// [`Alert::from_source`] from the `_source` text the indexer sent: the text is kept, the
    /// parsed document only long enough to read the fields above.
    pub fn from_raw(
        doc_id: &str,
        index: &str,
        raw: Box<serde_json::value::RawValue>,
    ) -> Result<Alert, SourceError> {
        let source: serde_json::Value =
            serde_json::from_str(raw.get()).map_err(|e| SourceError::Unreadable {
                doc_id: doc_id.to_string(),
                error: e.to_string(),
            })?;
        let mut a = Alert::header(doc_id, index, &source)?;
        drop(source);
        a.source = Source::from_raw(raw);
        Ok(a)
    }

    /// Every field but the source.
    fn header(doc_id: &str, index: &str, source: &serde_json::Value) -> Result<Alert, AlertError> {
        let timestamp = str_at(source, &["@timestamp"])
            .or_else(|| str_at(source, &["timestamp"]))
            .filter(|s| !s.is_empty())
            .ok_or_else(|| AlertError::NoTimestamp {
                doc_id: doc_id.to_string(),
            })?
            .to_string();
        let level = source
            .get("rule")
            .and_then(|r| r.get("level"))
            .and_then(|l| {
                l.as_u64()
                    .or_else(|| l.as_str().and_then(|s| s.trim().parse().ok()))
            })
            .map(|l| l.min(u8::MAX as u64) as u8)
            .unwrap_or(0);
        let rule = Rule {
            id: source
                .get("rule")
                .and_then(|r| r.get("id"))
                .and_then(|id| {
                    id.as_str()
                        .map(str::to_string)
                        .or_else(|| id.as_u64().map(|n| n.to_string()))
                })
                .unwrap_or_default(),
            level,
            description: str_at(source, &["rule", "description"])
                .unwrap_or_default()
                .to_string(),
            groups: strings_at(source, &["rule", "groups"]),
            mitre_ids: strings_at(source, &["rule", "mitre", "id"]),
        };
        let agent = Agent {
            id: str_at(source, &["agent", "id"])
                .unwrap_or_default()
                .to_string(),
            name: str_at(source, &["agent", "name"])
                .unwrap_or_default()
                .to_string(),
            ip: str_at(source, &["agent", "ip"]).map(str::to_string),
        };
        Ok(Alert {
            doc_id: doc_id.to_string(),
            index: index.to_string(),
            timestamp,
            alert_id: str_at(source, &["id"]).map(str::to_string),
            rule,
            agent,
            source: Source::none(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_the_core_fields() {
        let a = Alert::from_source(
            "x1",
            "wazuh-alerts-4.x-2026.11.27",
            json!({"@timestamp": "2026-11-27T10:00:00.000Z", "id": "1.2",
                   "rule": {"id": "5710", "level": 5, "description": "sshd", "groups": ["syslog","sshd"], "mitre": {"id": ["T1110.001"]}},
                   "agent": {"id": "002", "name": "web-01", "ip": "10.0.0.2"}}),
        )
        .unwrap();
        assert_eq!(a.rule.id, "5710");
        assert_eq!(a.rule.level, 5);
        assert_eq!(a.rule.mitre_ids, vec!["T1110.001"]);
        assert_eq!(a.agent.ip.as_deref(), Some("10.0.0.2"));
        assert!(a.agent.is_real_agent());
    }

    #[test]
    fn an_alert_read_from_text_keeps_the_text_and_parses_it_when_asked() {
        let text = r#"{"@timestamp": "2026-11-27T10:00:00.000Z", "rule": {"id": 5710, "level": "5"},
                       "agent": {"id": "002"}, "data": {"srcip": "10.0.0.9"}}"#;
        let raw = serde_json::value::RawValue::from_string(text.into()).unwrap();
        let a = Alert::from_raw("x1", "i", raw).unwrap();
        assert_eq!((a.rule.id.as_str(), a.rule.level), ("5710", 5));
        assert!(
            a.source.parsed.get().is_none(),
            "not parsed until the knowledge needs it"
        );
        assert_eq!(a.source.value()["data"]["srcip"], "10.0.0.9");
        // The same document spelled differently is the same source.
        let b = Alert::from_source("x1", "i", serde_json::from_str(text).unwrap()).unwrap();
        assert_eq!(a, b);
        let mut c = b.clone();
        c.source.value_mut()["data"]["srcip"] = json!("10.0.0.10");
        assert_ne!(a.source, c.source);
        assert_eq!(c.source.value()["data"]["srcip"], "10.0.0.10");
        let none = serde_json::value::RawValue::from_string("[1]".into()).unwrap();
        assert!(matches!(
            Alert::from_raw("x2", "i", none),
            Err(SourceError::Alert(AlertError::NoTimestamp { .. }))
        ));
    }

    #[test]
    fn odd_alerts_do_not_fail() {
        let a = Alert::from_source("x", "i", json!({"timestamp": "2026-11-27T10:00:00.000+0000", "rule": {"level": "7", "groups": "one"}, "agent": {"id": "000"}})).unwrap();
        assert_eq!(a.rule.level, 7);
        assert_eq!(a.rule.groups, vec!["one"]);
        assert!(!a.agent.is_real_agent());
        assert!(Alert::from_source("x", "i", json!({"rule": {}})).is_err());
    }
}
