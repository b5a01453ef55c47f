//! Exact per-agent and per-rule statistics computed from a complete list of alerts: what the
//! indexer's aggregations return, for tests built from fixtures and as a fallback when a search
//! result carries no aggregations.

use crate::alert::{Agent, AgentStats, Alert, RuleStats};
use std::collections::BTreeMap;

type Instant = Option<chrono::DateTime<chrono::Utc>>;

/// A timestamp with its parsed instant (parsed once per alert); unparsable times sort by text.
#[derive(Clone)]
struct Stamp {
    at: Instant,
    raw: String,
}

impl Stamp {
    fn of(a: &Alert) -> Stamp {
        Stamp {
            at: crate::stix::parse_time(&a.timestamp),
            raw: a.timestamp.clone(),
        }
    }
    fn after(&self, other: &Stamp) -> bool {
        match (self.at, other.at) {
            (Some(x), Some(y)) => x > y,
            _ => self.raw > other.raw,
        }
    }
}

/// Per-rule accumulator.
struct RuleAcc {
    stats: RuleStats,
    first: Stamp,
    last: Stamp,
}

fn add_rule(rules: &mut BTreeMap<String, RuleAcc>, a: &Alert, t: &Stamp) {
    let r = rules.entry(a.rule.id.clone()).or_insert_with(|| RuleAcc {
        stats: RuleStats {
            rule_id: a.rule.id.clone(),
            level: a.rule.level,
            description: a.rule.description.clone(),
            count: 0,
            first_seen: String::new(),
            last_seen: String::new(),
        },
        first: t.clone(),
        last: t.clone(),
    });
    r.stats.count += 1;
    r.stats.level = r.stats.level.max(a.rule.level);
    if r.first.after(t) {
        r.first = t.clone();
    }
    if t.after(&r.last) {
        r.last = t.clone();
        // The newest alert's description names the rule as it is now.
        r.stats.description = a.rule.description.clone();
    }
}

/// Most frequent first, then by rule id (a stable order).
fn sorted(rules: BTreeMap<String, RuleAcc>) -> Vec<RuleStats> {
    let mut v: Vec<RuleStats> = rules
        .into_values()
        .map(|r| RuleStats {
            first_seen: r.first.raw,
            last_seen: r.last.raw,
            ..r.stats
        })
        .collect();
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
        first: Stamp,
        last: Stamp,
        max_level: u8,
        rules: BTreeMap<String, RuleAcc>,
    }
    let mut agents: BTreeMap<String, Acc> = BTreeMap::new();
    let mut rules: BTreeMap<String, RuleAcc> = BTreeMap::new();
    for a in alerts {
        let t = Stamp::of(a);
        add_rule(&mut rules, a, &t);
        let acc = agents.entry(a.agent.id.clone()).or_insert_with(|| Acc {
            agent: a.agent.clone(),
            count: 0,
            first: t.clone(),
            last: t.clone(),
            max_level: 0,
            rules: BTreeMap::new(),
        });
        acc.count += 1;
        acc.max_level = acc.max_level.max(a.rule.level);
        if acc.first.after(&t) {
            acc.first = t.clone();
        }
        if t.after(&acc.last) {
            acc.last = t.clone();
            // Name and IP as of the newest alert.
            acc.agent = a.agent.clone();
        }
        add_rule(&mut acc.rules, a, &t);
    }
    let agents = agents
        .into_values()
        .map(|acc| AgentStats {
            agent: acc.agent,
            count: acc.count,
            first_seen: acc.first.raw,
            last_seen: acc.last.raw,
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
