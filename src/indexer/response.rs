//! Typed view of an OpenSearch `_search` response and its conversion into a
//! [`SearchResult`]. Each hit's `_source` is kept as its text (it is embedded in notes and read
//! for context objects); everything else is parsed into small structs. The facts answer has
//! its own view ([`super::facts`]).

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::alert::{Agent, AgentStats, Alert, RuleStats, SearchResult, VulnerabilityState};
use crate::knowledge::stats;
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

/// A `stats` aggregation (only min and max are used).
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Stats {
    #[serde(default)]
    pub min: Option<f64>,
    #[serde(default)]
    pub max: Option<f64>,
}

/// Time span and level statistics shared by agent and rule buckets: `first`/`last`/… in the
/// exact form, `ts`/`ts_alt` in the lean form (see `search::envelope::aggregations`).
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
    pub ts: Option<Stats>,
    #[serde(default)]
    pub ts_alt: Option<Stats>,
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

pub(crate) fn level(m: &Metric) -> u8 {
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
    let sample = b.sample.hits.hits.first().map(|h| &h.source);
    let (first_seen, last_seen) = bucket_span(b);
    // Lean buckets carry the level in the newest alert (a rule's level is a property of the
    // rule); exact buckets have a `max` aggregation.
    let level = match b.level.value {
        Some(_) => level(&b.level),
        None => sample.map(sample_level).unwrap_or(0),
    };
    RuleStats {
        rule_id: key_string(&b.key),
        level,
        description: sample
            .and_then(|s| str_at(s, &["rule", "description"]))
            .unwrap_or_default()
            .to_string(),
        count: b.doc_count,
        first_seen,
        last_seen,
    }
}

/// `rule.level` of a sampled `_source` (a number; a numeric string is accepted too).
fn sample_level(s: &Value) -> u8 {
    let v = s.get("rule").and_then(|r| r.get("level"));
    let n = match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(t)) => t.trim().parse::<f64>().ok(),
        _ => None,
    };
    level(&Metric { value: n })
}

/// A bucket's span: from `ts`/`ts_alt` (lean) or `first`/`last`/… (exact).
fn bucket_span(b: &Bucket) -> (String, String) {
    let m = |v: Option<f64>| Metric { value: v };
    match (&b.ts, &b.ts_alt) {
        (None, None) => span(&b.first, &b.first_alt, &b.last, &b.last_alt),
        (ts, alt) => span(
            &m(ts.as_ref().and_then(|s| s.min)),
            &m(alt.as_ref().and_then(|s| s.min)),
            &m(ts.as_ref().and_then(|s| s.max)),
            &m(alt.as_ref().and_then(|s| s.max)),
        ),
    }
}

/// Agent statistics derived from the lean tree: span and level over the agent's rules, name
/// and IP from its newest sampled alert. Exact when the agent's rules did not overflow.
fn lean_agent_stats(ab: &AgentBucket) -> AgentStats {
    let rules: Vec<(RuleStats, Option<&Value>)> = ab
        .rules
        .as_ref()
        .map(|t| {
            t.buckets
                .iter()
                .map(|b| (rule_stats(b), b.sample.hits.hits.first().map(|h| &h.source)))
                .collect()
        })
        .unwrap_or_default();
    let nonempty = |s: &&String| !s.is_empty();
    let first_seen = rules.iter().map(|r| &r.0.first_seen).filter(nonempty).min();
    let last_seen = rules.iter().map(|r| &r.0.last_seen).filter(nonempty).max();
    // The newest sample names the agent (names can change; the newest one wins).
    let newest = rules
        .iter()
        .filter(|r| r.1.is_some())
        .max_by(|a, b| a.0.last_seen.cmp(&b.0.last_seen))
        .and_then(|r| r.1);
    AgentStats {
        agent: Agent {
            id: key_string(&ab.stats.key),
            name: newest
                .and_then(|s| str_at(s, &["agent", "name"]))
                .unwrap_or_default()
                .to_string(),
            ip: newest
                .and_then(|s| str_at(s, &["agent", "ip"]))
                .map(str::to_string),
        },
        count: ab.stats.doc_count,
        first_seen: first_seen.cloned().unwrap_or_default(),
        last_seen: last_seen.cloned().unwrap_or_default(),
        max_rule_level: rules.iter().map(|r| r.0.level).max().unwrap_or(0),
        rules: rules.into_iter().map(|r| r.0).collect(),
    }
}

/// Overall per-rule statistics merged from the agents' rule buckets (most frequent first,
/// then by rule id; at most `MAX_RULE_BUCKETS`).
pub(crate) fn merge_rules(agents: &[AgentStats]) -> Vec<RuleStats> {
    let mut out: Vec<RuleStats> = Vec::new();
    for a in agents {
        stats::merge_rules(&mut out, &a.rules);
    }
    stats::sort_by_count(&mut out);
    out.truncate(crate::search::envelope::MAX_RULE_BUCKETS);
    out
}

fn agent_stats(ab: &AgentBucket) -> AgentStats {
    let b = &ab.stats;
    let rules: Vec<RuleStats> = ab
        .rules
        .as_ref()
        .map(|t| t.buckets.iter().map(rule_stats).collect())
        .unwrap_or_default();
    let (first_seen, last_seen) = bucket_span(b);
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
        // Keyword levels (Wazuh 5) have no numeric maximum: then the highest of the agent's rules.
        max_rule_level: rules.iter().map(|r| r.level).fold(level(&b.level), u8::max),
        rules,
    }
}

/// Per-agent and overall per-rule statistics from either aggregation form, and whether they
/// are incomplete (the lean tree overflowed, so the exact fallback must be asked for).
pub(crate) fn stats_of(aggs: Aggregations) -> (Vec<AgentStats>, Vec<RuleStats>, bool) {
    if let Some(t) = aggs.agents.as_ref().filter(|t| t.sum_other_doc_count > 0) {
        tracing::warn!(
            other_alerts = t.sum_other_doc_count,
            "more agents than the aggregation bound; statistics cover the largest ones"
        );
    }
    match (aggs.agents, aggs.rules) {
        // Lean form: one agents → rules tree, the rest derived.
        (Some(agents), None) => {
            let overflow = agents.sum_other_doc_count > 0
                || agents
                    .buckets
                    .iter()
                    .any(|b| b.rules.as_ref().is_some_and(|r| r.sum_other_doc_count > 0));
            let list: Vec<AgentStats> = agents.buckets.iter().map(lean_agent_stats).collect();
            let rules = merge_rules(&list);
            (list, rules, overflow)
        }
        (agents, rules) => (
            agents
                .map(|t| t.buckets.iter().map(agent_stats).collect())
                .unwrap_or_default(),
            rules
                .map(|t| t.buckets.iter().map(rule_stats).collect())
                .unwrap_or_default(),
            false,
        ),
    }
}

/// Converts a parsed response; hits without a usable timestamp or with an absurd `_source`
/// are skipped with a warning (they still count in the totals and statistics). The flag says
/// the statistics are incomplete (see [`stats_of`]).
pub(crate) fn to_result(resp: SearchResponse<'_>, query: Value) -> (SearchResult, bool) {
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
        // The text is kept as it came (see `alert::Source`), parsed again to build knowledge.
        match Alert::from_raw(&h.id, &h.index, raw.to_owned()) {
            Ok(a) => alerts.push(a),
            Err(e) => tracing::warn!(error = %e, "alert skipped"),
        }
    }
    let (agents, rules, incomplete) = stats_of(resp.aggregations.unwrap_or_default());
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
    let result = SearchResult {
        total: resp
            .hits
            .total
            .map(|t| t.value)
            .unwrap_or(alerts.len() as u64),
        took_ms: resp.took,
        alerts,
        agents,
        rules,
        shard_failures,
        query,
        vulnerable_agents: None,
    };
    (result, incomplete)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rule_bucket(id: &str, n: u64, min: &str, max: &str, level: Value, desc: &str) -> Value {
        let ms = |t: &str| {
            chrono::DateTime::parse_from_rfc3339(t)
                .unwrap()
                .timestamp_millis() as f64
        };
        json!({"key": id, "doc_count": n,
            "ts": {"count": n, "min": ms(min), "max": ms(max)},
            "ts_alt": {"count": 0, "min": null, "max": null},
            "sample": {"hits": {"hits": [{"_source": {
                "rule": {"description": desc, "level": level},
                "agent": {"name": format!("name-of-{id}"), "ip": "10.0.0.1"}}}]}}})
    }

    fn lean(agents: Value, other: u64) -> Aggregations {
        serde_json::from_value(json!({"agents": {"buckets": agents, "sum_other_doc_count": other}}))
            .unwrap()
    }

    #[test]
    fn lean_tree_gives_agent_spans_levels_and_merged_rules() {
        let aggs = lean(
            json!([
                {"key": "001", "doc_count": 5, "rules": {"sum_other_doc_count": 0, "buckets": [
                    rule_bucket("5710", 3, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", json!(5), "old text"),
                    rule_bucket("5712", 2, "2026-11-02T00:00:00Z", "2026-11-04T00:00:00Z", json!("10"), "brute force"),
                ]}},
                {"key": "002", "doc_count": 4, "rules": {"sum_other_doc_count": 0, "buckets": [
                    rule_bucket("5710", 4, "2026-10-30T00:00:00Z", "2026-11-05T00:00:00Z", json!(6), "new text"),
                ]}}
            ]),
            0,
        );
        let (agents, rules, incomplete) = stats_of(aggs);
        assert!(!incomplete);
        assert_eq!(agents[0].agent.id, "001");
        assert_eq!(agents[0].count, 5);
        assert_eq!(agents[0].first_seen, "2026-11-01T00:00:00.000Z");
        assert_eq!(agents[0].last_seen, "2026-11-04T00:00:00.000Z");
        assert_eq!(
            agents[0].max_rule_level, 10,
            "numeric strings are read as levels"
        );
        // The newest rule sample (5712, last seen on the 4th) names the agent.
        assert_eq!(agents[0].agent.name, "name-of-5712");
        // Overall: 5710 = 3 + 4 over both agents, the newest description and level win.
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].rule_id, "5710");
        assert_eq!(rules[0].count, 7);
        assert_eq!(rules[0].first_seen, "2026-10-30T00:00:00.000Z");
        assert_eq!(rules[0].last_seen, "2026-11-05T00:00:00.000Z");
        assert_eq!(
            (rules[0].level, rules[0].description.as_str()),
            (6, "new text")
        );
        assert_eq!((rules[1].rule_id.as_str(), rules[1].count), ("5712", 2));
    }

    #[test]
    fn lean_tree_overflow_is_reported() {
        let full = |other: u64| {
            json!([{"key": "001", "doc_count": 9, "rules": {"sum_other_doc_count": other, "buckets": [
                rule_bucket("5710", 3, "2026-11-01T00:00:00Z", "2026-11-03T00:00:00Z", json!(5), "x")]}}])
        };
        assert!(stats_of(lean(full(6), 0)).2, "an agent's rules overflowed");
        assert!(stats_of(lean(full(0), 12)).2, "the agents overflowed");
        assert!(!stats_of(lean(full(0), 0)).2);
        assert!(
            !stats_of(Aggregations::default()).2,
            "no aggregations: nothing to complete"
        );
    }

    #[test]
    fn merged_rules_order_by_count_then_id_and_are_bounded() {
        let mk = |id: String, count: u64| RuleStats {
            rule_id: id,
            count,
            ..RuleStats::default()
        };
        let agents = vec![AgentStats {
            rules: (0..300)
                .map(|i| mk(format!("r{i:03}"), 1 + (i % 3) as u64))
                .collect(),
            ..AgentStats::default()
        }];
        let merged = merge_rules(&agents);
        assert_eq!(merged.len(), crate::search::envelope::MAX_RULE_BUCKETS);
        assert_eq!((merged[0].rule_id.as_str(), merged[0].count), ("r002", 3));
        assert!(merged.windows(2).all(|w| w[0].count > w[1].count
            || (w[0].count == w[1].count && w[0].rule_id < w[1].rule_id)));
    }
}
