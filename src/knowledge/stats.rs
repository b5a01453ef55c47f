//! Exact per-agent and per-rule statistics computed from a complete list of alerts: what the
//! indexer's aggregations return, for tests built from fixtures and as a fallback when a search
//! result carries no aggregations.

use crate::alert::{Agent, AgentStats, Alert, RuleStats};
use std::collections::BTreeMap;

fn later(a: &str, b: &str) -> bool {
    match (crate::stix::parse_time(a), crate::stix::parse_time(b)) {
        (Some(x), Some(y)) => x > y,
        _ => a > b,
    }
}

fn add_rule(rules: &mut BTreeMap<String, RuleStats>, a: &Alert) {
    let r = rules.entry(a.rule.id.clone()).or_insert_with(|| RuleStats {
        rule_id: a.rule.id.clone(),
        level: a.rule.level,
        description: a.rule.description.clone(),
        count: 0,
        first_seen: a.timestamp.clone(),
        last_seen: a.timestamp.clone(),
    });
    r.count += 1;
    r.level = r.level.max(a.rule.level);
    if later(&r.first_seen, &a.timestamp) {
        r.first_seen = a.timestamp.clone();
    }
    if later(&a.timestamp, &r.last_seen) {
        r.last_seen = a.timestamp.clone();
        // The newest alert's description names the rule as it is now.
        r.description = a.rule.description.clone();
    }
}

/// Most frequent first, then by rule id (a stable order).
fn sorted(rules: BTreeMap<String, RuleStats>) -> Vec<RuleStats> {
    let mut v: Vec<RuleStats> = rules.into_values().collect();
    v.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
    v
}

/// Per-agent (by agent id, ascending) and per-rule statistics of `alerts`.
pub fn from_alerts(alerts: &[Alert]) -> (Vec<AgentStats>, Vec<RuleStats>) {
    struct Acc {
        agent: Agent,
        count: u64,
        first: String,
        last: String,
        max_level: u8,
        rules: BTreeMap<String, RuleStats>,
    }
    let mut agents: BTreeMap<String, Acc> = BTreeMap::new();
    let mut rules: BTreeMap<String, RuleStats> = BTreeMap::new();
    for a in alerts {
        add_rule(&mut rules, a);
        let acc = agents.entry(a.agent.id.clone()).or_insert_with(|| Acc {
            agent: a.agent.clone(),
            count: 0,
            first: a.timestamp.clone(),
            last: a.timestamp.clone(),
            max_level: 0,
            rules: BTreeMap::new(),
        });
        acc.count += 1;
        acc.max_level = acc.max_level.max(a.rule.level);
        if later(&acc.first, &a.timestamp) {
            acc.first = a.timestamp.clone();
        }
        if later(&a.timestamp, &acc.last) {
            acc.last = a.timestamp.clone();
            // Name and IP as of the newest alert.
            acc.agent = a.agent.clone();
        }
        add_rule(&mut acc.rules, a);
    }
    let agents = agents
        .into_values()
        .map(|acc| AgentStats {
            agent: acc.agent,
            count: acc.count,
            first_seen: acc.first,
            last_seen: acc.last,
            max_rule_level: acc.max_level,
            rules: sorted(acc.rules),
        })
        .collect();
    (agents, sorted(rules))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn alert(agent: &str, rule: &str, level: u8, ts: &str) -> Alert {
        Alert::from_source(
            ts,
            "i",
            json!({"@timestamp": ts, "agent": {"id": agent, "name": format!("n{agent}")},
                   "rule": {"id": rule, "level": level, "description": format!("r{rule}")}}),
        )
        .unwrap()
    }

    #[test]
    fn counts_and_time_frames_are_exact() {
        let alerts = vec![
            alert("002", "5710", 5, "2024-06-02T07:12:03.512Z"),
            alert("002", "5710", 5, "2024-06-01T18:49:51.048Z"),
            alert("002", "5712", 10, "2024-06-02T07:12:05.001Z"),
            alert("000", "86601", 3, "2024-06-02T07:11:58.7Z"),
        ];
        let (agents, rules) = from_alerts(&alerts);
        assert_eq!(agents.len(), 2);
        let a = agents.iter().find(|a| a.agent.id == "002").unwrap();
        assert_eq!(a.count, 3);
        assert_eq!(a.first_seen, "2024-06-01T18:49:51.048Z");
        assert_eq!(a.last_seen, "2024-06-02T07:12:05.001Z");
        assert_eq!(a.max_rule_level, 10);
        assert_eq!(a.rules[0].rule_id, "5710");
        assert_eq!(a.rules[0].count, 2);
        assert_eq!(rules.len(), 3);
        assert_eq!(rules.iter().map(|r| r.count).sum::<u64>(), 4);
    }
}
