//! Who saw the entity: the SIEM and agent system identities, the agents'
//! IP and hostname observables, and one sighting per system with exact counts.

use super::markdown::cell;
use super::{stats, Ctx};
use crate::alert::{Agent, AgentStats, Alert, RuleStats};
use crate::stix::model::{self, single, ExternalReference};
use crate::stix::{self, id, StixObject};
use std::collections::BTreeMap;

/// One system that saw the entity: an agent (id > 0, `WAZUH_AGENTS_AS_SYSTEMS`) or the SIEM.
#[derive(Debug, Clone)]
pub struct Sighter<'a> {
    /// Identity id.
    pub id: String,
    pub name: String,
    /// The agent, for agent systems.
    pub agent: Option<Agent>,
    /// Exact number of alerts (after `WAZUH_RULE_EXCLUDE_LIST`).
    pub count: u64,
    /// Timestamps as the indexer reports them (sent, and hashed, in STIX form).
    pub first_seen: String,
    pub last_seen: String,
    /// Exact per-rule statistics within this system.
    pub rules: Vec<RuleStats>,
    /// The sampled alerts of this system, newest first.
    pub alerts: Vec<&'a Alert>,
}

pub(crate) use super::stats::earlier;

/// Sorts alerts newest first (by parsed time, then document id), parsing each time once.
pub(crate) fn sort_newest_first(alerts: &mut [&Alert]) {
    alerts.sort_by_cached_key(|a| {
        (
            std::cmp::Reverse(stix::parse_time(&a.timestamp)),
            a.doc_id.clone(),
        )
    });
}

/// `s` in STIX form, falling back to `now` when it is not a timestamp.
pub(crate) fn stix_time(ctx: &Ctx<'_>, s: &str) -> String {
    stix::normalise_time(s).unwrap_or_else(|| ctx.common.now.clone())
}

/// Removes `WAZUH_RULE_EXCLUDE_LIST` rules from an agent's statistics; `None` if nothing is left.
fn without_excluded(
    mut a: AgentStats,
    excluded: &std::collections::BTreeSet<String>,
) -> Option<AgentStats> {
    if excluded.is_empty() || a.rules.is_empty() {
        return Some(a);
    }
    let before = a.rules.len();
    let dropped: u64 = a
        .rules
        .iter()
        .filter(|r| excluded.contains(&r.rule_id))
        .map(|r| r.count)
        .sum();
    a.rules.retain(|r| !excluded.contains(&r.rule_id));
    if a.rules.len() == before {
        return Some(a);
    }
    if a.rules.is_empty() {
        return None;
    }
    a.count = a.count.saturating_sub(dropped);
    let mut first = a.rules[0].first_seen.clone();
    let mut last = a.rules[0].last_seen.clone();
    for r in &a.rules {
        if earlier(&r.first_seen, &first) {
            first = r.first_seen.clone();
        }
        if earlier(&last, &r.last_seen) {
            last = r.last_seen.clone();
        }
    }
    a.first_seen = first;
    a.last_seen = last;
    a.max_rule_level = a.rules.iter().map(|r| r.level).max().unwrap_or(0);
    Some(a)
}

/// An agent system's name, `web-01 (agent 007)`: OpenCTI identifies a system by its name, and
/// agent names are not unique (re-installed hosts, clones), agent ids are.
pub fn system_name(agent: &Agent) -> String {
    match agent.name.trim() {
        "" => format!("Wazuh agent {}", agent.id),
        name => format!("{name} (agent {})", agent.id),
    }
}

/// The systems that saw the entity, agents by id then the SIEM.
pub fn sighters<'a>(ctx: &Ctx<'a>) -> Vec<Sighter<'a>> {
    let result = ctx.input.result;
    let opts = ctx.opts;
    let excluded = &opts.rule_exclude_list;
    let agent_stats: Vec<AgentStats> = if result.agents.is_empty() {
        stats::from_alerts(&result.alerts).0
    } else {
        result.agents.clone()
    };
    let mut agents: BTreeMap<String, Sighter<'a>> = BTreeMap::new();
    let mut siem: Option<Sighter<'a>> = None;
    for a in agent_stats
        .into_iter()
        .filter_map(|a| without_excluded(a, excluded))
        .filter(|a| a.count > 0)
    {
        if opts.agents_as_systems && a.agent.is_real_agent() {
            let name = system_name(&a.agent);
            agents.insert(
                a.agent.id.clone(),
                Sighter {
                    id: id::identity(&name, "system"),
                    name,
                    agent: Some(a.agent.clone()),
                    count: a.count,
                    first_seen: a.first_seen.clone(),
                    last_seen: a.last_seen.clone(),
                    rules: a.rules.clone(),
                    alerts: Vec::new(),
                },
            );
        } else {
            match &mut siem {
                None => {
                    siem = Some(Sighter {
                        id: ctx.siem_id.clone(),
                        name: opts.system_name.clone(),
                        agent: None,
                        count: a.count,
                        first_seen: a.first_seen.clone(),
                        last_seen: a.last_seen.clone(),
                        rules: a.rules.clone(),
                        alerts: Vec::new(),
                    })
                }
                Some(s) => {
                    s.count += a.count;
                    if earlier(&a.first_seen, &s.first_seen) {
                        s.first_seen = a.first_seen.clone();
                    }
                    if earlier(&s.last_seen, &a.last_seen) {
                        s.last_seen = a.last_seen.clone();
                    }
                    stats::merge_rules(&mut s.rules, &a.rules);
                }
            }
        }
    }
    for alert in result
        .alerts
        .iter()
        .filter(|a| !excluded.contains(&a.rule.id))
    {
        let target = if opts.agents_as_systems && alert.agent.is_real_agent() {
            agents.get_mut(&alert.agent.id)
        } else {
            siem.as_mut()
        };
        if let Some(s) = target {
            s.alerts.push(alert);
        }
    }
    let mut out: Vec<Sighter<'a>> = agents.into_values().collect();
    out.extend(siem);
    for s in &mut out {
        sort_newest_first(&mut s.alerts);
    }
    out
}

/// Author, SIEM and agent identities, and each agent's `related-to` its SIEM.
pub fn identities(ctx: &Ctx<'_>, sighters: &[Sighter<'_>]) -> Vec<StixObject> {
    let c = &ctx.common;
    let mut out = vec![
        c.identity(&ctx.opts.author_name, id::AUTHOR_CLASS, Some("Wazuh")),
        c.identity(&ctx.opts.system_name, "system", None),
    ];
    for s in sighters {
        let Some(agent) = &s.agent else { continue };
        let mut desc = format!("|Key|Value|\n|---|-----|\n|ID|{}|\n", cell(&agent.id));
        if let Some(ip) = &agent.ip {
            desc.push_str(&format!("|IP|{}|\n", cell(ip)));
        }
        out.push(c.identity(&s.name, "system", Some(&desc)));
        out.push(StixObject::Relationship(c.relationship(
            "related-to",
            &s.id,
            &ctx.siem_id,
            &c.now,
        )));
    }
    out
}

/// Each agent system's IP address and hostname, related to it over the agent's own time frame
/// (only for agent systems, whose identities are in the bundle).
pub fn agent_observables(ctx: &Ctx<'_>, sighters: &[Sighter<'_>]) -> Vec<StixObject> {
    let c = &ctx.common;
    let mut out = Vec::new();
    for s in sighters {
        let Some(agent) = &s.agent else { continue };
        let start = stix_time(ctx, &s.first_seen);
        let stop = stix_time(ctx, &s.last_seen);
        let mut add = |obj: StixObject, what: &str| {
            let mut r = c.relationship("related-to", &s.id, obj.id(), &c.now);
            r.props.description = Some(format!(
                "The Wazuh agent had this {what} in the given time frame"
            ));
            r.props.start_time = Some(start.clone());
            r.props.stop_time = (stop > start).then(|| stop.clone());
            out.push(obj);
            out.push(StixObject::Relationship(r));
        };
        if ctx.opts.create_agent_ip_observable {
            if let Some(ip) = agent.ip.as_deref().map(str::trim) {
                match ip.parse::<std::net::IpAddr>() {
                    Ok(std::net::IpAddr::V4(_)) => {
                        add(c.sco(StixObject::Ipv4Addr, single(ip), &[]), "IP address")
                    }
                    Ok(std::net::IpAddr::V6(_)) => {
                        add(c.sco(StixObject::Ipv6Addr, single(ip), &[]), "IP address")
                    }
                    Err(_) => tracing::debug!(agent = %agent.id, "agent.ip is not an IP address"),
                }
            }
        }
        if ctx.opts.create_agent_hostname_observable && !agent.name.trim().is_empty() {
            add(
                c.sco(StixObject::Hostname, single(agent.name.trim()), &[]),
                "hostname",
            );
        }
    }
    out
}

/// `sighting_of_ref`: the indicator when the sighting is of one, else the placeholder indicator
/// (STIX requires an SDO; OpenCTI reads `x_opencti_sighting_of_ref`).
fn sighting_of_ref(ctx: &Ctx<'_>) -> String {
    if ctx.input.sighting_of.starts_with("indicator--") {
        ctx.input.sighting_of.clone()
    } else {
        id::DUMMY_INDICATOR_ID.to_string()
    }
}

/// Hashed over the times as sent (STIX form), like the rest of the sighting.
pub fn sighting_id(ctx: &Ctx<'_>, s: &Sighter<'_>) -> String {
    id::sighting(
        &ctx.input.sighting_of,
        std::slice::from_ref(&s.id),
        Some(&stix_time(ctx, &s.first_seen)),
        Some(&stix_time(ctx, &s.last_seen)),
    )
}

/// The 4-row Key/Value table describing an alert.
pub fn alert_table(a: &Alert) -> String {
    format!(
        "|Key|Value|\n|---|-----|\n|Rule ID|{}|\n|Rule desc.|{}|\n|Rule level|{}|\n|Alert ID|{}/{}|\n",
        cell(&a.rule.id),
        cell(&a.rule.description),
        a.rule.level,
        cell(&a.doc_id),
        cell(a.alert_id.as_deref().unwrap_or("")),
    )
}

/// Link to an alert in the Wazuh dashboard (Discover's surrounding-documents view of its index).
pub fn alert_url(app_url: &str, a: &Alert) -> String {
    let base = if app_url.ends_with('/') {
        app_url.to_string()
    } else {
        format!("{app_url}/")
    };
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let index = if a.index.is_empty() {
        "wazuh-alerts-*"
    } else {
        &a.index
    };
    format!(
        "{base}app/discover#/context/{}/{}?_a=(columns:!(_source),filters:!())",
        enc(index),
        enc(&a.doc_id)
    )
}

pub fn external_reference(ctx: &Ctx<'_>, a: &Alert) -> ExternalReference {
    ExternalReference {
        source_name: "Wazuh alert".into(),
        description: Some(alert_table(a)),
        url: Some(alert_url(&ctx.opts.app_url, a)),
    }
}

/// The newest alerts of a system, at most `per_rule` per rule and `total` overall.
pub fn capped_alerts<'a>(alerts: &[&'a Alert], per_rule: usize, total: usize) -> Vec<&'a Alert> {
    let mut per: BTreeMap<&str, usize> = BTreeMap::new();
    let mut out = Vec::new();
    for a in alerts {
        if out.len() >= total {
            break;
        }
        let n = per.entry(a.rule.id.as_str()).or_default();
        if *n < per_rule {
            *n += 1;
            out.push(*a);
        }
    }
    out
}

pub fn sighting(ctx: &Ctx<'_>, s: &Sighter<'_>) -> StixObject {
    let c = &ctx.common;
    let refs: Vec<ExternalReference> = capped_alerts(
        &s.alerts,
        ctx.opts.max_extrefs_per_alert_rule,
        ctx.opts.max_extrefs,
    )
    .into_iter()
    .map(|a| external_reference(ctx, a))
    .collect();
    let first = stix_time(ctx, &s.first_seen);
    let last = stix_time(ctx, &s.last_seen);
    let description = format!(
        "{} was seen in {} alert(s) of {} between {} and {}.",
        ctx.env, s.count, s.name, first, last
    );
    c.sdo(
        StixObject::Sighting,
        sighting_id(ctx, s),
        &c.now,
        model::Sighting {
            first_seen: first,
            last_seen: last,
            count: s.count.min(999_999_999),
            description,
            sighting_of_ref: sighting_of_ref(ctx),
            where_sighted_refs: vec![s.id.clone()],
            x_opencti_sighting_of_ref: ctx.input.sighting_of.clone(),
            external_references: refs,
        },
    )
}
