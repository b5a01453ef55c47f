//! The request envelope around an observable's query: time window, include/exclude filters,
//! raw filter clauses, rule exclusion, newest-first sorting, exact totals, the server-side
//! timeout, and the aggregations that give exact per-agent and per-rule statistics however many
//! alerts match.
//!
//! An enrichment first sends the plain search ([`SearchRequest::new`]: the newest alerts and the
//! exact total, no aggregation). When every alert is in the sample, the statistics are computed
//! from the alerts themselves. Only when the total exceeds the sample does it pay for one
//! statistics request: the few fields the statistics need of every matching alert
//! ([`SearchRequest::facts_body`], up to [`MAX_FACTS_FETCH`] alerts), else the lean aggregation
//! tree ([`SearchRequest::stats_body`]). Aggregations are what costs the test indexer most
//! (every matching document is visited once per aggregation node), so most enrichments, which
//! match a handful of alerts, cost the indexer no more than a plain search.
//!
//! Everything here is pure: the same inputs always give the same body.

use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Map, Value};

use super::fields as f;
use crate::config::options::KnowledgeOptions;
use crate::config::{IndexerSettings, TimeBound};
use crate::entity::Observable;

/// At most this many agents get their own statistics (`terms` size).
pub const MAX_AGENT_BUCKETS: usize = 1000;
/// At most this many rules get overall statistics.
pub const MAX_RULE_BUCKETS: usize = 200;
/// At most this many rules get statistics within one agent (1,000 × 50 buckets at most).
pub const MAX_RULES_PER_AGENT: usize = 50;
/// Up to this many matching alerts (OpenSearch's default `index.max_result_window`), the
/// statistics come from fetching the few fields they need of every matching alert
/// ([`SearchRequest::facts_body`]) rather than from aggregations: on the test indexer that is
/// 10–50 times cheaper than the cheapest aggregation tree that keeps the figures exact (see
/// `BENCHMARKS.md`, "Which statistics request").
pub const MAX_FACTS_FETCH: u64 = 10_000;
/// The fields the statistics need from each alert.
pub const FACT_FIELDS: &[&str] = &[
    f::TIMESTAMP_FIELD,
    f::ALERT_TIME_FIELD,
    f::AGENT_ID_FIELD,
    "agent.name",
    "agent.ip",
    f::RULE_ID_FIELD,
    f::RULE_LEVEL_FIELD,
    "rule.description",
];
/// At most this many agents are listed from the vulnerability state index.
pub const MAX_STATE_AGENTS: usize = 10_000;

/// Aggregation names (shared with the response parser).
pub const AGG_AGENTS: &str = "agents";
pub const AGG_RULES: &str = "rules";
pub const AGG_FIRST: &str = "first";
pub const AGG_LAST: &str = "last";
pub const AGG_FIRST_ALT: &str = "first_alt";
pub const AGG_LAST_ALT: &str = "last_alt";
pub const AGG_LEVEL: &str = "level";
pub const AGG_SAMPLE: &str = "sample";
/// `stats` of `@timestamp` (lean form: min and max in one aggregation).
pub const AGG_TS: &str = "ts";
/// `stats` of the manager's `timestamp` (lean form).
pub const AGG_TS_ALT: &str = "ts_alt";

/// One `_search` request: the index pattern and the JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// Index pattern (`WAZUH_OPENSEARCH_INDEX`).
    pub index: String,
    pub body: Value,
    /// The observable's query alone (kept for the summary note).
    pub query: Value,
    /// Optional lookup in the Wazuh 4.8+ vulnerability state index.
    pub state: Option<StateRequest>,
}

/// A lookup in the vulnerability state index (`wazuh-states-vulnerabilities-*`).
#[derive(Debug, Clone, PartialEq)]
pub struct StateRequest {
    pub index: String,
    pub body: Value,
}

/// `2024-01-02T03:04:05.000Z`: the one timestamp format sent to the indexer.
pub fn format_utc(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// A duration as OpenSearch reads it (`1500ms`), for the body's `timeout` and the
/// `cancel_after_time_interval` parameter.
pub fn duration_value(d: Duration) -> String {
    format!("{}ms", d.as_millis().max(1))
}

/// The lower bound of the time window, if any, always in UTC with a `Z` suffix (a relative
/// bound is counted back from `now`, never in local time).
pub fn window_start(bound: Option<&TimeBound>, now: DateTime<Utc>) -> Option<String> {
    match bound? {
        TimeBound::Absolute(t) => Some(format_utc(*t)),
        TimeBound::Relative(d) => {
            let d = chrono::Duration::from_std(*d).ok()?;
            Some(format_utc(now.checked_sub_signed(d)?))
        }
    }
}

fn stats_aggs(with_sample: Option<Value>) -> Map<String, Value> {
    let mut m = Map::new();
    m.insert(
        AGG_FIRST.into(),
        json!({"min": {"field": f::TIMESTAMP_FIELD}}),
    );
    m.insert(
        AGG_LAST.into(),
        json!({"max": {"field": f::TIMESTAMP_FIELD}}),
    );
    // Documents indexed without Filebeat may lack `@timestamp`; the manager's `timestamp`
    // then gives the time.
    m.insert(
        AGG_FIRST_ALT.into(),
        json!({"min": {"field": f::ALERT_TIME_FIELD}}),
    );
    m.insert(
        AGG_LAST_ALT.into(),
        json!({"max": {"field": f::ALERT_TIME_FIELD}}),
    );
    m.insert(
        AGG_LEVEL.into(),
        json!({"max": {"field": f::RULE_LEVEL_FIELD}}),
    );
    if let Some(s) = with_sample {
        m.insert(AGG_SAMPLE.into(), s);
    }
    m
}

fn newest_sample(fields: &[&str]) -> Value {
    json!({"top_hits": {
        "size": 1,
        "sort": [{f::TIMESTAMP_FIELD: {"order": "desc", "unmapped_type": "date"}}],
        "_source": {"includes": fields}
    }})
}

/// The aggregations of the statistics request (sent only when the total exceeds the sample):
/// the **lean** form.
///
/// Only one bucket tree is computed, agents → rules, and each (agent, rule) bucket carries the
/// time span (`stats`, min and max in one aggregation) and the newest alert's rule description,
/// rule level, agent name and agent IP. Everything else is derived from it by the response
/// parser: an agent's span and highest level from its rules, the overall per-rule statistics by
/// merging the agents' rule buckets. The derivation is exact whenever no `terms` aggregation
/// overflowed (at most [`MAX_AGENT_BUCKETS`] agents, at most [`MAX_RULES_PER_AGENT`] rules per
/// agent); when one did, the indexer client asks once more with [`exact_aggregations`].
///
/// Why: an indexer pays for every aggregation node per matching document. The previous
/// shape (per-agent and overall statistics computed separately, min and max as separate
/// aggregations: 21 nodes) cost 3–7× more indexer time on an observable in 1,000 or 10,000
/// alerts than this one (6 nodes); see `BENCHMARKS.md`.
pub fn aggregations() -> Value {
    let sample = json!({"top_hits": {
        "size": 1,
        "sort": [{f::TIMESTAMP_FIELD: {"order": "desc", "unmapped_type": "date"}}],
        "_source": {"includes": ["rule.description", "rule.level", "agent.name", "agent.ip"]}
    }});
    json!({
        AGG_AGENTS: {
            "terms": {"field": f::AGENT_ID_FIELD, "size": MAX_AGENT_BUCKETS},
            "aggs": {AGG_RULES: {
                "terms": {"field": f::RULE_ID_FIELD, "size": MAX_RULES_PER_AGENT},
                "aggs": {
                    AGG_TS: {"stats": {"field": f::TIMESTAMP_FIELD}},
                    // Documents indexed without Filebeat may lack `@timestamp`; the
                    // manager's `timestamp` then gives the time.
                    AGG_TS_ALT: {"stats": {"field": f::ALERT_TIME_FIELD}},
                    AGG_SAMPLE: sample
                }
            }}
        }
    })
}

/// The aggregations of the exact-statistics fallback: per-agent and overall per-rule
/// statistics computed separately, so they stay exact when the lean tree of
/// [`aggregations`] overflowed (an agent with more than [`MAX_RULES_PER_AGENT`] rules, or
/// more than [`MAX_AGENT_BUCKETS`] agents).
pub fn exact_aggregations() -> Value {
    let rule_stats = |size: usize| {
        json!({
            "terms": {"field": f::RULE_ID_FIELD, "size": size},
            "aggs": stats_aggs(Some(newest_sample(&["rule.description"])))
        })
    };
    let mut agent_aggs = stats_aggs(Some(newest_sample(&["agent.name", "agent.ip"])));
    agent_aggs.insert(AGG_RULES.into(), rule_stats(MAX_RULES_PER_AGENT));
    json!({
        AGG_AGENTS: {
            "terms": {"field": f::AGENT_ID_FIELD, "size": MAX_AGENT_BUCKETS},
            "aggs": agent_aggs
        },
        AGG_RULES: rule_stats(MAX_RULE_BUCKETS)
    })
}

fn field_matches(list: &[crate::config::FieldMatch]) -> Vec<Value> {
    list.iter()
        .map(|m| json!({"match": {m.field.as_str(): m.query.as_str()}}))
        .collect()
}

/// What every search of the connector is narrowed by, whatever it looks for: the include
/// matches and raw filter clauses (ANDed), and the exclude matches, excluded rules and
/// dashboard sample data (`must_not`). Hunting's detection requests carry them too, so that
/// they find no alert the enrichment that follows would not count.
pub fn narrowing(
    settings: &IndexerSettings,
    knowledge: &KnowledgeOptions,
) -> (Vec<Value>, Vec<Value>) {
    let mut filter = field_matches(&settings.include_match);
    filter.extend(settings.filter.iter().cloned());
    let mut must_not = field_matches(&settings.exclude_match);
    if !knowledge.rule_exclude_list.is_empty() {
        // Excluded rules are filtered by the indexer, so totals and stats stay exact.
        let ids: Vec<&str> = knowledge
            .rule_exclude_list
            .iter()
            .map(String::as_str)
            .collect();
        must_not.push(json!({"terms": {f::RULE_ID_FIELD: ids}}));
    }
    if settings.exclude_sample_data {
        must_not.push(json!({"exists": {"field": f::SAMPLE_DATA_FIELD}}));
    }
    (filter, must_not)
}

/// `body` (a search whose query is a `bool`) narrowed like every search ([`narrowing`]), with
/// the server-side timeout of the client.
pub fn narrow(body: &mut Value, settings: &IndexerSettings, knowledge: &KnowledgeOptions) {
    let (filter, must_not) = narrowing(settings, knowledge);
    if let Some(b) = body
        .pointer_mut("/query/bool")
        .and_then(Value::as_object_mut)
    {
        if let Some(Value::Array(f)) = b.get_mut("filter") {
            f.extend(filter);
        } else if !filter.is_empty() {
            b.insert("filter".into(), Value::Array(filter));
        }
        if !must_not.is_empty() {
            b.insert("must_not".into(), Value::Array(must_not));
        }
    }
    if let Some(o) = body.as_object_mut() {
        o.insert("timeout".into(), json!(duration_value(settings.timeout)));
    }
}

impl SearchRequest {
    /// Wraps `query` (from [`super::query::build`]) into the full request body.
    pub fn new(
        query: Value,
        settings: &IndexerSettings,
        knowledge: &KnowledgeOptions,
        now: DateTime<Utc>,
    ) -> SearchRequest {
        // The observable query goes into `filter` too: results are sorted by time, so
        // relevance scores would be computed for nothing.
        let mut filter = vec![query.clone()];
        if let Some(start) = window_start(settings.search_after.as_ref(), now) {
            filter.push(json!({"range": {f::TIMESTAMP_FIELD: {"gte": start}}}));
        }
        let (narrowing, must_not) = narrowing(settings, knowledge);
        filter.extend(narrowing);
        let mut bool_q = Map::new();
        bool_q.insert("filter".into(), Value::Array(filter));
        if !must_not.is_empty() {
            bool_q.insert("must_not".into(), Value::Array(must_not));
        }
        // The configured order decides which alerts make the sample (newest first by default).
        let sort: Vec<Value> = settings
            .order_by
            .iter()
            .map(|o| {
                let mut spec = Map::new();
                spec.insert(
                    "order".into(),
                    json!(if o.descending { "desc" } else { "asc" }),
                );
                if o.field == f::TIMESTAMP_FIELD || o.field == f::ALERT_TIME_FIELD {
                    spec.insert("unmapped_type".into(), json!("date"));
                }
                json!({ o.field.as_str(): spec })
            })
            .collect();
        // The server-side `timeout` matches the client's: when the client gives up, the
        // indexer stops too instead of finishing work nobody reads.
        let body = json!({
            "query": {"bool": bool_q},
            "size": settings.limit,
            "sort": sort,
            "track_total_hits": true,
            "timeout": duration_value(settings.timeout),
        });
        SearchRequest {
            index: settings.index.clone(),
            body,
            query,
            state: None,
        }
    }

    /// The statistics request: the same query and filters, no hits, no total (the plain
    /// search already counted), and the lean [`aggregations`]. Sent only when the total
    /// exceeds the sample.
    pub fn stats_body(&self) -> Value {
        self.aggregation_body(aggregations())
    }

    /// The body of the exact-statistics fallback: as [`Self::stats_body`] with
    /// [`exact_aggregations`]. Sent only when the lean aggregations overflowed.
    pub fn exact_stats_body(&self) -> Value {
        self.aggregation_body(exact_aggregations())
    }

    fn aggregation_body(&self, aggs: Value) -> Value {
        json!({
            "query": self.body.get("query").cloned().unwrap_or(Value::Null),
            "size": 0,
            "track_total_hits": false,
            "timeout": self.body.get("timeout").cloned().unwrap_or(Value::Null),
            "aggs": aggs,
        })
    }

    /// The statistics request for a total of at most [`MAX_FACTS_FETCH`] alerts: the same
    /// query, every matching alert (`total` of them) with only [`FACT_FIELDS`], unsorted and
    /// uncounted, so the indexer does no more than find and read them.
    pub fn facts_body(&self, total: u64) -> Value {
        json!({
            "query": self.body.get("query").cloned().unwrap_or(Value::Null),
            "size": total.min(MAX_FACTS_FETCH),
            "track_total_hits": false,
            "timeout": self.body.get("timeout").cloned().unwrap_or(Value::Null),
            "_source": {"includes": FACT_FIELDS},
        })
    }

    /// How many alerts the plain search returns at most (`WAZUH_OPENSEARCH_LIMIT`).
    pub fn sample_limit(&self) -> u64 {
        self.body.get("size").and_then(Value::as_u64).unwrap_or(0)
    }

    /// Also counts the agents that currently have this vulnerability / package, when the
    /// Wazuh 4.8+ vulnerability state index is configured and the observable is a
    /// Vulnerability or Software.
    pub fn with_vulnerability_state(
        mut self,
        obs: &Observable,
        settings: &IndexerSettings,
    ) -> Self {
        self.state = settings
            .vulnerability_state_index
            .as_deref()
            .filter(|i| !i.is_empty())
            .and_then(|index| {
                state_query(obs).map(|q| StateRequest {
                    index: index.to_string(),
                    body: json!({
                        "query": q,
                        "size": 0,
                        "track_total_hits": true,
                        "timeout": duration_value(settings.timeout),
                        "aggs": {AGG_AGENTS: {
                            "terms": {"field": "agent.id", "size": MAX_STATE_AGENTS},
                            "aggs": {AGG_SAMPLE: {"top_hits": {"size": 1, "_source": {"includes": ["agent.name"]}}}}
                        }}
                    }),
                })
            });
        self
    }
}

/// The state-index query of a Vulnerability or Software observable.
pub fn state_query(obs: &Observable) -> Option<Value> {
    let term = |field: &str, v: &str| json!({"term": {field: {"value": v}}});
    match obs {
        Observable::Vulnerability { name } => {
            Some(json!({"bool": {"filter": [term("vulnerability.id", name)]}}))
        }
        Observable::Software { name, version } => {
            let mut filter = vec![term("package.name", name)];
            if let Some(v) = version.as_deref().filter(|v| !v.is_empty()) {
                filter.push(term("package.version", v));
            }
            Some(json!({"bool": {"filter": filter}}))
        }
        _ => None,
    }
}
