//! Per-agent and per-rule statistics: computed exactly from a complete list of alerts (the
//! search result when every matching alert fits in the fetched sample, so no aggregation is
//! needed), and the one way rule statistics from several sources are merged (agents' rule
//! buckets into overall figures, agents into the SIEM system, systems into an incident).
//! Times are compared as instants, never as text, because the indexer and fixtures write the
//! same instant with different precisions and offsets.

use crate::alert::{Agent, AgentStats, Alert, RuleStats};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// `a` is before `b`, compared as instants when both parse (as text otherwise).
pub(crate) fn earlier(a: &str, b: &str) -> bool {
    match (crate::stix::parse_time(a), crate::stix::parse_time(b)) {
        (Some(x), Some(y)) => x < y,
        _ => a < b,
    }
}

/// Folds the statistics of the same rule seen elsewhere into `into`: counts add up, the time
/// span widens (an unknown time never replaces a known one), the level is the highest, and the
/// newest alert's description names the rule as it is now.
pub fn merge_rule(into: &mut RuleStats, r: &RuleStats) {
    into.count += r.count;
    into.level = into.level.max(r.level);
    if !r.first_seen.is_empty()
        && (into.first_seen.is_empty() || earlier(&r.first_seen, &into.first_seen))
    {
        into.first_seen.clone_from(&r.first_seen);
    }
    if !r.last_seen.is_empty()
        && (into.last_seen.is_empty() || earlier(&into.last_seen, &r.last_seen))
    {
        into.last_seen.clone_from(&r.last_seen);
        if !r.description.is_empty() {
            into.description.clone_from(&r.description);
        }
    }
}

/// Merges `from` into `into` rule by rule ([`merge_rule`]); rules new to `into` are appended
/// in their order.
pub fn merge_rules(into: &mut Vec<RuleStats>, from: &[RuleStats]) {
    let mut at: HashMap<String, usize> = into
        .iter()
        .enumerate()
        .map(|(i, r)| (r.rule_id.clone(), i))
        .collect();
    for r in from {
        match at.get(&r.rule_id) {
            Some(&i) => merge_rule(&mut into[i], r),
            None => {
                at.insert(r.rule_id.clone(), into.len());
                into.push(r.clone());
            }
        }
    }
}

/// Most frequent first, then by rule id: the order rule statistics are shown in.
pub fn sort_by_count(rules: &mut [RuleStats]) {
    rules.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then_with(|| a.rule_id.cmp(&b.rule_id))
    });
}

type Instant = Option<chrono::DateTime<chrono::Utc>>;

/// A timestamp with its parsed instant (parsed once per alert); unparsable times sort by text.
/// The text is shared: an accumulator keeps a first and a last stamp per agent and per rule,
/// and at 10,000 alerts those copies were a visible part of a request's memory.
#[derive(Clone)]
struct Stamp {
    at: Instant,
    raw: Arc<str>,
}

impl Stamp {
    fn of(a: &Alert) -> Stamp {
        Stamp {
            at: crate::stix::parse_time(&a.timestamp),
            raw: a.timestamp.as_str().into(),
        }
    }
    fn after(&self, other: &Stamp) -> bool {
        match (self.at, other.at) {
            (Some(x), Some(y)) => x > y,
            _ => self.raw > other.raw,
        }
    }
}

/// Per-rule accumulator. The rule id is the map key; id and description are shared between
/// the overall entry and every agent's entry of the same rule.
struct RuleAcc {
    level: u8,
    description: Arc<str>,
    count: u64,
    first: Stamp,
    last: Stamp,
}

/// One alert's rule, with its id and description in shared form.
struct RuleOf {
    id: Arc<str>,
    description: Arc<str>,
}

fn add_rule(rules: &mut BTreeMap<Arc<str>, RuleAcc>, a: &Alert, r_of: &RuleOf, t: &Stamp) {
    let r = rules.entry(r_of.id.clone()).or_insert_with(|| RuleAcc {
        level: a.rule.level,
        description: r_of.description.clone(),
        count: 0,
        first: t.clone(),
        last: t.clone(),
    });
    r.count += 1;
    r.level = r.level.max(a.rule.level);
    if r.first.after(t) {
        r.first = t.clone();
    }
    if t.after(&r.last) {
        r.last = t.clone();
        // The newest alert's description names the rule as it is now.
        r.description = r_of.description.clone();
    }
}

/// Most frequent first, then by rule id (a stable order).
fn sorted(rules: BTreeMap<Arc<str>, RuleAcc>) -> Vec<RuleStats> {
    let mut v: Vec<RuleStats> = rules
        .into_iter()
        .map(|(id, r)| RuleStats {
            rule_id: id.to_string(),
            level: r.level,
            description: r.description.to_string(),
            count: r.count,
            first_seen: r.first.raw.to_string(),
            last_seen: r.last.raw.to_string(),
        })
        .collect();
    sort_by_count(&mut v);
    v
}

/// Per-agent (by agent id, ascending) and per-rule statistics of `alerts`.
pub fn from_alerts(alerts: &[Alert]) -> (Vec<AgentStats>, Vec<RuleStats>) {
    let mut acc = Accumulator::default();
    alerts.iter().for_each(|a| acc.add(a));
    acc.finish()
}

struct AgentAcc {
    agent: Agent,
    count: u64,
    first: Stamp,
    last: Stamp,
    max_level: u8,
    rules: BTreeMap<Arc<str>, RuleAcc>,
}

/// Statistics built one alert at a time, so a long list of alerts never has to be held.
#[derive(Default)]
pub struct Accumulator {
    agents: BTreeMap<String, AgentAcc>,
    rules: BTreeMap<Arc<str>, RuleAcc>,
    alerts: u64,
}

impl Accumulator {
    /// The shared id and description of `a`'s rule: those already held when the text is the
    /// same (the usual case), new ones otherwise.
    fn rule_of(&self, a: &Alert) -> RuleOf {
        match self.rules.get_key_value(a.rule.id.as_str()) {
            Some((id, r)) => RuleOf {
                id: id.clone(),
                description: if *r.description == *a.rule.description {
                    r.description.clone()
                } else {
                    a.rule.description.as_str().into()
                },
            },
            None => RuleOf {
                id: a.rule.id.as_str().into(),
                description: a.rule.description.as_str().into(),
            },
        }
    }

    /// Counts one alert.
    pub fn add(&mut self, a: &Alert) {
        self.alerts += 1;
        let t = Stamp::of(a);
        let r_of = self.rule_of(a);
        add_rule(&mut self.rules, a, &r_of, &t);
        let acc = match self.agents.get_mut(a.agent.id.as_str()) {
            Some(acc) => acc,
            None => self
                .agents
                .entry(a.agent.id.clone())
                .or_insert_with(|| AgentAcc {
                    agent: a.agent.clone(),
                    count: 0,
                    first: t.clone(),
                    last: t.clone(),
                    max_level: 0,
                    rules: BTreeMap::new(),
                }),
        };
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
        add_rule(&mut acc.rules, a, &r_of, &t);
    }

    /// Alerts counted so far.
    pub fn alerts(&self) -> u64 {
        self.alerts
    }

    /// The statistics: agents by id, rules most frequent first.
    pub fn finish(self) -> (Vec<AgentStats>, Vec<RuleStats>) {
        let agents = self
            .agents
            .into_values()
            .map(|acc| AgentStats {
                agent: acc.agent,
                count: acc.count,
                first_seen: acc.first.raw.to_string(),
                last_seen: acc.last.raw.to_string(),
                max_rule_level: acc.max_level,
                rules: sorted(acc.rules),
            })
            .collect();
        (agents, sorted(self.rules))
    }
}

/// [`from_alerts`] for a search whose every matching alert is in the sample, with times
/// written as the indexer's aggregations write them (UTC, milliseconds, `Z`), so the
/// statistics, and the ids derived from them, do not depend on which way they were computed.
pub fn from_sample(alerts: &[Alert]) -> (Vec<AgentStats>, Vec<RuleStats>) {
    in_indexer_form(from_alerts(alerts))
}

/// Times written as the indexer's aggregations write them (see [`from_sample`]).
pub fn in_indexer_form(
    (mut agents, mut rules): (Vec<AgentStats>, Vec<RuleStats>),
) -> (Vec<AgentStats>, Vec<RuleStats>) {
    let norm = |t: &mut String| {
        if let Some(at) = crate::stix::parse_time(t) {
            *t = crate::search::envelope::format_utc(at);
        }
    };
    let norm_rule = |r: &mut RuleStats| {
        norm(&mut r.first_seen);
        norm(&mut r.last_seen);
    };
    for a in &mut agents {
        norm(&mut a.first_seen);
        norm(&mut a.last_seen);
        a.rules.iter_mut().for_each(norm_rule);
    }
    rules.iter_mut().for_each(norm_rule);
    (agents, rules)
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

    #[test]
    fn each_agent_names_a_rule_as_its_own_newest_alert_does() {
        // The rule was renamed between the two agents' alerts: the overall figures and agent
        // 002 carry the new name, agent 001 the name its own newest alert had.
        let mut old = alert("001", "5710", 5, "2024-06-01T10:00:00Z");
        old.rule.description = "sshd: attempt to login using a non-existent user".into();
        let mut new = alert("002", "5710", 5, "2024-06-02T10:00:00Z");
        new.rule.description = "sshd: invalid user".into();
        let older_002 = alert("002", "5710", 5, "2024-06-01T09:00:00Z");
        let (agents, rules) = from_alerts(&[new, old, older_002]);
        assert_eq!(rules[0].description, "sshd: invalid user");
        assert_eq!(rules[0].count, 3);
        assert_eq!(rules[0].first_seen, "2024-06-01T09:00:00Z");
        assert_eq!(
            agents[0].rules[0].description,
            "sshd: attempt to login using a non-existent user"
        );
        assert_eq!(agents[1].rules[0].description, "sshd: invalid user");
        assert_eq!(agents[1].rules[0].count, 2);
        assert_eq!(agents[1].first_seen, "2024-06-01T09:00:00Z");
    }

    fn rule(id: &str, count: u64, level: u8, first: &str, last: &str, desc: &str) -> RuleStats {
        RuleStats {
            rule_id: id.into(),
            level,
            description: desc.into(),
            count,
            first_seen: first.into(),
            last_seen: last.into(),
        }
    }

    #[test]
    fn merging_compares_instants_not_text() {
        // As text "2024-06-02T09:00:00+02:00" sorts after "2024-06-02T08:00:00.000Z", but it is
        // an hour earlier.
        let mut into = vec![rule(
            "5710",
            2,
            5,
            "2024-06-02T08:00:00.000Z",
            "2024-06-02T08:00:00.000Z",
            "old",
        )];
        merge_rules(
            &mut into,
            &[
                rule(
                    "5710",
                    3,
                    7,
                    "2024-06-02T09:00:00+02:00",
                    "2024-06-02T08:30:00Z",
                    "new",
                ),
                rule("5712", 1, 10, "", "", "other"),
            ],
        );
        assert_eq!(into.len(), 2);
        let r = &into[0];
        assert_eq!((r.count, r.level), (5, 7));
        assert_eq!(r.first_seen, "2024-06-02T09:00:00+02:00");
        assert_eq!(r.last_seen, "2024-06-02T08:30:00Z");
        assert_eq!(r.description, "new", "the newest alert names the rule");
        // An unknown time never replaces a known one.
        merge_rules(&mut into, &[rule("5710", 1, 1, "", "", "blank")]);
        assert_eq!(into[0].first_seen, "2024-06-02T09:00:00+02:00");
        assert_eq!((into[0].count, into[0].description.as_str()), (6, "new"));
    }
}
