//! Typed view of an OpenSearch `_search` response and its conversion into a
//! [`SearchResult`]. Only `_source` of each hit is kept as a JSON tree (it is embedded in notes);
//! everything else is parsed into small structs.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::alert::{Agent, AgentStats, Alert, RuleStats, SearchResult, VulnerabilityState};
use crate::search::envelope::format_utc;

/// A hit whose `_source` is larger than this is skipped (and logged): no real alert is that
/// big, and a few such documents must not blow up memory or notes.
pub const MAX_SOURCE_BYTES: usize = 1024 * 1024;

#[derive(Debug, Deserialize)]
pub(crate) struct SearchResponse<'a> {
    #[serde(default)]
    pub took: u64,
    #[serde(default)]
    pub timed_out: bool,
    #[serde(rename = "_shards", default)]
    pub shards: Shards,
    #[serde(borrow)]
    pub hits: Hits<'a>,
    #[serde(default)]
    pub aggregations: Option<Aggregations>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Shards {
    #[serde(default)]
    pub total: u64,
    #[serde(default)]
    pub failed: u64,
    #[serde(default)]
    pub failures: Vec<ShardFailure>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ShardFailure {
    #[serde(default)]
    pub index: Option<String>,
    #[serde(default)]
    pub reason: Option<ErrorReason>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct ErrorReason {
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub reason: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Hits<'a> {
    #[serde(default)]
    pub total: Option<Total>,
    #[serde(borrow, default)]
    pub hits: Vec<Hit<'a>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Total {
    pub value: u64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Hit<'a> {
    #[serde(rename = "_id", default)]
    pub id: String,
    #[serde(rename = "_index", default)]
    pub index: String,
    #[serde(rename = "_source", borrow, default)]
    pub source: Option<&'a RawValue>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Aggregations {
    #[serde(default)]
    pub agents: Option<Terms<AgentBucket>>,
    #[serde(default)]
    pub rules: Option<Terms<RuleBucket>>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Terms<B> {
    #[serde(default = "Vec::new")]
    pub buckets: Vec<B>,
    #[serde(default)]
    pub sum_other_doc_count: u64,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct Metric {
    #[serde(default)]
    pub value: Option<f64>,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct TopHits {
    #[serde(default)]
    pub hits: TopHitsInner,
}

#[derive(Debug, Deserialize, Default)]
pub(crate) struct TopHitsInner {
    #[serde(default)]
    pub hits: Vec<SampleHit>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct SampleHit {
    #[serde(rename = "_source", default)]
    pub source: Value,
}

/// Time span and level statistics shared by agent and rule buckets.
#[derive(Debug, Deserialize)]
pub(crate) struct Bucket {
    pub key: Value,
    pub doc_count: u64,
    #[serde(default)]
    pub first: Metric,
    #[serde(default)]
    pub last: Metric,
    #[serde(default)]
    pub first_alt: Metric,
    #[serde(default)]
    pub last_alt: Metric,
    #[serde(default)]
    pub level: Metric,
    #[serde(default)]
    pub sample: TopHits,
}

#[derive(Debug, Deserialize)]
pub(crate) struct AgentBucket {
    #[serde(flatten)]
    pub stats: Bucket,
    #[serde(default)]
    pub rules: Option<Terms<RuleBucket>>,
}

pub(crate) type RuleBucket = Bucket;

/// The state-index response (only totals and the agent buckets).
#[derive(Debug, Deserialize)]
pub(crate) struct StateResponse {
    #[serde(default)]
    pub took: u64,
    #[serde(rename = "_shards", default)]
    pub shards: Shards,
    #[serde(default)]
    pub timed_out: bool,
    #[serde(default)]
    pub aggregations: Option<StateAggregations>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StateAggregations {
    pub agents: Terms<StateAgentBucket>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct StateAgentBucket {
    #[serde(default)]
    pub sample: TopHits,
}

fn key_string(k: &Value) -> String {
    match k {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn ms_to_string(ms: f64) -> Option<String> {
    if !ms.is_finite() {
        return None;
    }
    chrono::DateTime::from_timestamp_millis(ms as i64).map(format_utc)
}

/// Earliest/latest of the `@timestamp` and `timestamp` statistics.
fn span(first: &Metric, first_alt: &Metric, last: &Metric, last_alt: &Metric) -> (String, String) {
    let pick = |a: Option<f64>, b: Option<f64>, min: bool| match (a, b) {
        (Some(x), Some(y)) => Some(if min { x.min(y) } else { x.max(y) }),
        (x, y) => x.or(y),
    };
    (
        pick(first.value, first_alt.value, true)
            .and_then(ms_to_string)
            .unwrap_or_default(),
        pick(last.value, last_alt.value, false)
            .and_then(ms_to_string)
            .unwrap_or_default(),
    )
}

fn level(m: &Metric) -> u8 {
    m.value
        .filter(|v| v.is_finite())
        .map(|v| v.clamp(0.0, 255.0) as u8)
        .unwrap_or(0)
}

fn str_at<'v>(v: &'v Value, path: &[&str]) -> Option<&'v str> {
    let mut cur = v;
    for p in path {
        cur = cur.get(p)?;
    }
    cur.as_str()
}

fn rule_stats(b: &RuleBucket) -> RuleStats {
    let (first_seen, last_seen) = span(&b.first, &b.first_alt, &b.last, &b.last_alt);
    RuleStats {
        rule_id: key_string(&b.key),
        level: level(&b.level),
        description: b
            .sample
            .hits
            .hits
            .first()
            .and_then(|h| str_at(&h.source, &["rule", "description"]))
            .unwrap_or_default()
            .to_string(),
        count: b.doc_count,
        first_seen,
        last_seen,
    }
}

fn agent_stats(ab: &AgentBucket) -> AgentStats {
    let b = &ab.stats;
    let (first_seen, last_seen) = span(&b.first, &b.first_alt, &b.last, &b.last_alt);
    let sample = b.sample.hits.hits.first().map(|h| &h.source);
    AgentStats {
        agent: Agent {
            id: key_string(&b.key),
            name: sample
                .and_then(|s| str_at(s, &["agent", "name"]))
                .unwrap_or_default()
                .to_string(),
            ip: sample
                .and_then(|s| str_at(s, &["agent", "ip"]))
                .map(str::to_string),
        },
        count: b.doc_count,
        first_seen,
        last_seen,
        max_rule_level: level(&b.level),
        rules: ab
            .rules
            .as_ref()
            .map(|t| t.buckets.iter().map(rule_stats).collect())
            .unwrap_or_default(),
    }
}

/// Converts a parsed response; hits without a usable timestamp or with an absurd `_source`
/// are skipped with a warning (they still count in the totals and statistics).
pub(crate) fn to_result(resp: SearchResponse<'_>, query: Value) -> SearchResult {
    let mut alerts = Vec::with_capacity(resp.hits.hits.len());
    for h in resp.hits.hits {
        let Some(raw) = h.source else {
            tracing::warn!(doc_id = %h.id, "alert without _source skipped");
            continue;
        };
        if raw.get().len() > MAX_SOURCE_BYTES {
            tracing::warn!(doc_id = %h.id, bytes = raw.get().len(), "oversized alert skipped");
            continue;
        }
        let source: Value = match serde_json::from_str(raw.get()) {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(doc_id = %h.id, error = %e, "unreadable alert skipped");
                continue;
            }
        };
        match Alert::from_source(&h.id, &h.index, source) {
            Ok(a) => alerts.push(a),
            Err(e) => tracing::warn!(error = %e, "alert skipped"),
        }
    }
    let aggs = resp.aggregations.unwrap_or_default();
    if let Some(t) = aggs.agents.as_ref().filter(|t| t.sum_other_doc_count > 0) {
        tracing::warn!(
            other_alerts = t.sum_other_doc_count,
            "more agents than the aggregation bound; statistics cover the largest ones"
        );
    }
    let shard_failures = resp
        .shards
        .failures
        .iter()
        .take(50)
        .map(|f| {
            let r = f.reason.as_ref();
            format!(
                "{}: {}: {}",
                f.index.as_deref().unwrap_or("?"),
                r.and_then(|r| r.kind.as_deref()).unwrap_or("error"),
                r.and_then(|r| r.reason.as_deref())
                    .unwrap_or("no reason given")
            )
        })
        .collect::<Vec<_>>();
    let shard_failures = if shard_failures.is_empty() && resp.shards.failed > 0 {
        vec![format!("{} shard(s) failed", resp.shards.failed)]
    } else {
        shard_failures
    };
    SearchResult {
        total: resp
            .hits
            .total
            .map(|t| t.value)
            .unwrap_or(alerts.len() as u64),
        took_ms: resp.took,
        alerts,
        agents: aggs
            .agents
            .map(|t| t.buckets.iter().map(agent_stats).collect())
            .unwrap_or_default(),
        rules: aggs
            .rules
            .map(|t| t.buckets.iter().map(rule_stats).collect())
            .unwrap_or_default(),
        shard_failures,
        query,
        vulnerable_agents: None,
    }
}

pub(crate) fn to_state(resp: StateResponse) -> VulnerabilityState {
    let Some(aggs) = resp.aggregations else {
        return VulnerabilityState::default();
    };
    let mut names: Vec<String> = aggs
        .agents
        .buckets
        .iter()
        .filter_map(|b| {
            b.sample
                .hits
                .hits
                .first()
                .and_then(|h| str_at(&h.source, &["agent", "name"]))
                .map(str::to_string)
        })
        .collect();
    names.sort();
    names.dedup();
    VulnerabilityState {
        agents: aggs.agents.buckets.len() as u64,
        agent_names: names,
    }
}
