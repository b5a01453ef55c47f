//! One answer from a mixed estate: the 4.x alerts' and the 5.x findings' search results, each
//! read with its own profile, merged as if one index had held both. Totals add up, an agent
//! seen in both (the same agent before and after its manager's upgrade) is one agent whose
//! counts add up and whose time span widens, rules merge as everywhere else
//! ([`crate::knowledge::stats::merge_rules`]), and the sample keeps the newest alerts.

use crate::alert::{AgentStats, SearchResult};
use crate::knowledge::stats;

/// `a` and `b` as one result; the merged sample keeps the `limit` newest alerts.
pub fn merge(mut a: SearchResult, b: SearchResult, limit: usize) -> SearchResult {
    a.total += b.total;
    a.took_ms += b.took_ms;
    a.alerts.extend(b.alerts);
    a.alerts.sort_by(|x, y| {
        if stats::earlier(&x.timestamp, &y.timestamp) {
            std::cmp::Ordering::Greater
        } else if stats::earlier(&y.timestamp, &x.timestamp) {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Equal
        }
    });
    a.alerts.truncate(limit);
    for agent in b.agents {
        match a.agents.iter_mut().find(|x| x.agent.id == agent.agent.id) {
            Some(into) => merge_agent(into, agent),
            None => a.agents.push(agent),
        }
    }
    stats::merge_rules(&mut a.rules, &b.rules);
    stats::sort_by_count(&mut a.rules);
    a.shard_failures.extend(b.shard_failures);
    a.query = serde_json::json!([a.query, b.query]);
    // Both parts ask the one configured state index, each in its own schema's names: the
    // answer is the part whose names the index has (the one that found agents).
    a.vulnerable_agents = match (a.vulnerable_agents, b.vulnerable_agents) {
        (Some(x), Some(y)) => Some(if y.agents > x.agents { y } else { x }),
        (x, y) => x.or(y),
    };
    a
}

/// The same agent in both schemas: the newer name and address win.
fn merge_agent(into: &mut AgentStats, b: AgentStats) {
    into.count += b.count;
    into.max_rule_level = into.max_rule_level.max(b.max_rule_level);
    if !b.first_seen.is_empty()
        && (into.first_seen.is_empty() || stats::earlier(&b.first_seen, &into.first_seen))
    {
        into.first_seen = b.first_seen;
    }
    if !b.last_seen.is_empty()
        && (into.last_seen.is_empty() || stats::earlier(&into.last_seen, &b.last_seen))
    {
        into.last_seen = b.last_seen;
        if !b.agent.name.is_empty() {
            into.agent.name = b.agent.name;
        }
        into.agent.ip = b.agent.ip.or(into.agent.ip.take());
    }
    stats::merge_rules(&mut into.rules, &b.rules);
    stats::sort_by_count(&mut into.rules);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alert::{Agent, Alert, RuleStats};
    use serde_json::json;

    fn agent(id: &str, name: &str, n: u64, first: &str, last: &str, rule: &str) -> AgentStats {
        AgentStats {
            agent: Agent {
                id: id.into(),
                name: name.into(),
                ip: None,
            },
            count: n,
            first_seen: first.into(),
            last_seen: last.into(),
            max_rule_level: 5,
            rules: vec![RuleStats {
                rule_id: rule.into(),
                level: 5,
                description: rule.into(),
                count: n,
                first_seen: first.into(),
                last_seen: last.into(),
            }],
        }
    }

    fn alert(ts: &str) -> Alert {
        Alert::from_source("x", "i", json!({"@timestamp": ts})).unwrap()
    }

    #[test]
    fn the_same_agent_in_both_schemas_is_one_agent() {
        let a = SearchResult {
            total: 3,
            alerts: vec![alert("2026-01-01T00:00:00Z")],
            agents: vec![agent(
                "001",
                "old",
                3,
                "2026-01-01T00:00:00Z",
                "2026-01-02T00:00:00Z",
                "5710",
            )],
            rules: vec![],
            ..Default::default()
        };
        let b = SearchResult {
            total: 4,
            alerts: vec![alert("2026-02-01T00:00:00Z"), alert("2026-01-15T00:00:00Z")],
            agents: vec![
                agent(
                    "001",
                    "new",
                    2,
                    "2026-02-01T00:00:00Z",
                    "2026-02-03T00:00:00Z",
                    "uuid-1",
                ),
                agent(
                    "002",
                    "other",
                    2,
                    "2026-02-01T00:00:00Z",
                    "2026-02-01T00:00:00Z",
                    "uuid-1",
                ),
            ],
            ..Default::default()
        };
        let m = merge(a, b, 2);
        assert_eq!(m.total, 7);
        assert_eq!(m.agents.len(), 2);
        let one = &m.agents[0];
        assert_eq!((one.count, one.agent.name.as_str()), (5, "new"));
        assert_eq!(one.first_seen, "2026-01-01T00:00:00Z");
        assert_eq!(one.last_seen, "2026-02-03T00:00:00Z");
        assert_eq!(one.rules.len(), 2, "a 4.x rule and a 5.x rule");
        let times: Vec<&str> = m.alerts.iter().map(|a| a.timestamp.as_str()).collect();
        assert_eq!(
            times,
            ["2026-02-01T00:00:00Z", "2026-01-15T00:00:00Z"],
            "newest first, bounded"
        );
    }
}
