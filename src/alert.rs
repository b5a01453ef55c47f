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
    pub source: serde_json::Value,
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
}
