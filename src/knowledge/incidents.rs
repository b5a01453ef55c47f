//! Incidents per `WAZUH_CREATE_INCIDENT` (`docs/knowledge.md`, "Incidents"): no
//! severity gaps, unique names in `per-alert-rule`, the real latest timestamp in `per-query`,
//! "still active" from the newest active alert, CVSS severity for vulnerabilities.

use super::severity::{cvss3_severity_to_score, Severity};
use super::sightings::{earlier, stix_time, Sighter};
use super::Ctx;
use crate::alert::{Alert, RuleStats};
use crate::config::IncidentMode;
use crate::stix::{id, model, StixObject};
use crate::vocabulary::context::{context_fields, Role};
use serde_json::Value;

/// Rule ids of the Wazuh vulnerability detector meaning "vulnerable" (low…critical).
pub const VULN_ACTIVE_RULES: &[&str] = &["23503", "23504", "23505", "23506"];
/// Rule id meaning "vulnerability resolved".
pub const VULN_RESOLVED_RULE: &str = "23502";

/// An incident to create, with the alerts its context objects come from.
#[derive(Debug, Clone)]
pub struct PlannedIncident<'a> {
    pub id: String,
    pub name: String,
    pub description: String,
    /// The indexer's timestamp, for ordering.
    pub created_raw: String,
    /// `created` as sent, which the id is computed from.
    pub created_stix: String,
    pub first_seen: String,
    pub last_seen: String,
    pub severity: Severity,
    /// Identity ids of the systems it targets.
    pub targets: Vec<String>,
    pub alerts: Vec<&'a Alert>,
}

fn merged_rules(sighters: &[Sighter<'_>]) -> Vec<RuleStats> {
    let mut out: Vec<RuleStats> = Vec::new();
    for s in sighters {
        super::stats::merge_rules(&mut out, &s.rules);
    }
    out.sort_by(
        |a, b| match (a.rule_id.parse::<u64>(), b.rule_id.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.rule_id.cmp(&b.rule_id),
        },
    );
    out
}

/// The highest level among rules that may cause incidents, if it reaches the threshold.
fn eligible_level<'r>(ctx: &Ctx<'_>, rules: impl IntoIterator<Item = &'r RuleStats>) -> Option<u8> {
    rules
        .into_iter()
        .filter(|r| !ctx.opts.incident_rule_exclude_list.contains(&r.rule_id))
        .map(|r| r.level)
        .max()
        .filter(|l| *l >= ctx.opts.create_incident_threshold)
}

fn parse_score(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse::<f64>().ok()))
        .filter(|f| f.is_finite() && (0.0..=10.0).contains(f))
}

/// The CVSS v3 score of the enriched vulnerability: its own base score, else its severity, else
/// the highest score the alerts report for it.
pub fn vulnerability_score(ctx: &Ctx<'_>, alerts: &[&Alert]) -> f64 {
    let s = &ctx.input.entity.stix;
    if let Some(v) = s.get("x_opencti_cvss_base_score").and_then(parse_score) {
        return v;
    }
    if let Some(v) = s
        .get("x_opencti_cvss_base_severity")
        .and_then(Value::as_str)
        .and_then(cvss3_severity_to_score)
    {
        return v;
    }
    let name = super::entity_value(ctx.input.entity).unwrap_or_default();
    alerts
        .iter()
        .filter_map(|a| {
            let src = a.source.parse();
            let v = context_fields(Role::VulnerabilityAlert)
                .find_map(|f| super::enrich::lookup(&src, f))?;
            let cve = v.get("cve")?.as_str()?;
            if !cve.trim().eq_ignore_ascii_case(name.trim()) {
                return None;
            }
            parse_score(v.get("cvss")?.get("cvss3")?.get("base_score")?)
        })
        .fold(0.0, f64::max)
}

/// Whether some system still has the vulnerability: its newest "active" alert is newer than its
/// newest "resolved" alert (exact per-system rule statistics).
pub fn vulnerability_active(sighters: &[Sighter<'_>]) -> bool {
    sighters.iter().any(|s| {
        let active = s
            .rules
            .iter()
            .filter(|r| VULN_ACTIVE_RULES.contains(&r.rule_id.as_str()))
            .map(|r| r.last_seen.as_str())
            .reduce(|a, b| if earlier(a, b) { b } else { a });
        let resolved = s
            .rules
            .iter()
            .filter(|r| r.rule_id == VULN_RESOLVED_RULE)
            .map(|r| r.last_seen.as_str())
            .reduce(|a, b| if earlier(a, b) { b } else { a });
        match (active, resolved) {
            (Some(a), Some(r)) => earlier(r, a),
            (Some(_), None) => true,
            _ => false,
        }
    })
}

fn observable_prefix(ctx: &Ctx<'_>) -> &'static str {
    if ctx.is_observable {
        "Observable "
    } else {
        ""
    }
}

/// Decides which incidents to create: mode, indicator requirement, CVSS threshold and activity
/// for vulnerabilities, then the rule-level threshold.
pub fn plan<'a>(ctx: &Ctx<'a>, sighters: &[Sighter<'a>]) -> Vec<PlannedIncident<'a>> {
    let opts = ctx.opts;
    if opts.create_incident == IncidentMode::Never || sighters.is_empty() {
        return Vec::new();
    }
    // An Indicator request is held to the same rule as its observable's enrichment: an
    // indicator that does not count (revoked, below the score threshold…) raises no incident.
    let is_indicator = ctx
        .input
        .entity
        .entity_type
        .eq_ignore_ascii_case("indicator");
    if opts.require_indicator_for_incidents
        && (ctx.is_observable || is_indicator)
        && ctx.indicators.is_empty()
    {
        tracing::debug!("no incident: no valid indicator");
        return Vec::new();
    }
    // All sampled alerts, newest first (only sorted where the order matters).
    let all_alerts = |sorted: bool| -> Vec<&'a Alert> {
        let mut v: Vec<&'a Alert> = sighters
            .iter()
            .flat_map(|s| s.alerts.iter().copied())
            .collect();
        if sorted {
            super::sightings::sort_newest_first(&mut v);
        }
        v
    };
    let mut vuln_severity = None;
    if ctx.is_vulnerability {
        let score = vulnerability_score(ctx, &all_alerts(false));
        match opts.vulnerability_incident_cvss3_score_threshold {
            Some(t) if score >= t => {}
            _ => {
                tracing::debug!(
                    score,
                    "no incident: vulnerability below the CVSS threshold (or none set)"
                );
                return Vec::new();
            }
        }
        // The 4.8+ vulnerability state index, when searched, knows which agents still have it.
        let in_state_index = ctx
            .input
            .result
            .vulnerable_agents
            .as_ref()
            .is_some_and(|s| s.agents > 0);
        if opts.vulnerability_incident_active_only
            && !vulnerability_active(sighters)
            && !in_state_index
        {
            tracing::debug!("no incident: the vulnerability is resolved on every system");
            return Vec::new();
        }
        vuln_severity = Some(Severity::from_cvss(score));
    }
    let severity_of = |level: u8| vuln_severity.unwrap_or_else(|| Severity::from_rule_level(level));
    let env = &ctx.env;
    let obs = observable_prefix(ctx);
    let make = |name: String,
                description: String,
                created_raw: &str,
                first: &str,
                last: &str,
                severity: Severity,
                targets: Vec<String>,
                alerts: Vec<&'a Alert>| PlannedIncident {
        id: id::incident(&name, Some(&stix_time(ctx, created_raw))),
        name,
        description,
        created_raw: created_raw.to_string(),
        created_stix: stix_time(ctx, created_raw),
        first_seen: stix_time(ctx, first),
        last_seen: stix_time(ctx, last),
        severity,
        targets,
        alerts,
    };
    let mut out = Vec::new();
    match opts.create_incident {
        IncidentMode::Never => {}
        IncidentMode::PerQuery => {
            let rules = merged_rules(sighters);
            if let Some(level) = eligible_level(ctx, &rules) {
                let mut first = sighters[0].first_seen.as_str();
                let mut last = sighters[0].last_seen.as_str();
                for s in sighters {
                    if earlier(&s.first_seen, first) {
                        first = &s.first_seen;
                    }
                    if earlier(last, &s.last_seen) {
                        last = &s.last_seen;
                    }
                }
                let count: u64 = sighters.iter().map(|s| s.count).sum();
                out.push(make(
                    format!("Wazuh alert: {env} sighted"),
                    format!(
                        "{obs}{env} has been sighted a total of {count} time(s) in {} system(s)",
                        sighters.len()
                    ),
                    last,
                    first,
                    last,
                    severity_of(level),
                    sighters.iter().map(|s| s.id.clone()).collect(),
                    all_alerts(true),
                ));
            }
        }
        IncidentMode::PerSighting => {
            for s in sighters {
                let Some(level) = eligible_level(ctx, &s.rules) else {
                    continue;
                };
                out.push(make(
                    format!("Wazuh alert: {env} sighted in {}", s.name),
                    format!(
                        "{obs}{env} has been sighted {} time(s) in {}",
                        s.count, s.name
                    ),
                    &s.last_seen,
                    &s.first_seen,
                    &s.last_seen,
                    severity_of(level),
                    vec![s.id.clone()],
                    s.alerts.clone(),
                ));
            }
        }
        IncidentMode::PerAlertRule => {
            let all = all_alerts(true);
            for r in merged_rules(sighters) {
                let Some(level) = eligible_level(ctx, std::iter::once(&r)) else {
                    continue;
                };
                let targets: Vec<String> = sighters
                    .iter()
                    .filter(|s| s.rules.iter().any(|x| x.rule_id == r.rule_id))
                    .map(|s| s.id.clone())
                    .collect();
                let alerts: Vec<&'a Alert> = all
                    .iter()
                    .copied()
                    .filter(|a| a.rule.id == r.rule_id)
                    .collect();
                // Unique per rule: incidents of different rules must not share a name (and id).
                out.push(make(
                    format!("Wazuh alert: {env} sighted in rule {}", r.rule_id),
                    format!(
                        "{obs}{env} has been sighted {} time(s) in alert rule {}: \"{}\"",
                        r.count, r.rule_id, r.description
                    ),
                    &r.last_seen,
                    &r.first_seen,
                    &r.last_seen,
                    severity_of(level),
                    targets,
                    alerts,
                ));
            }
        }
        IncidentMode::PerAlert => {
            for s in sighters {
                for a in s.alerts.iter().rev() {
                    if ctx.opts.incident_rule_exclude_list.contains(&a.rule.id)
                        || a.rule.level < opts.create_incident_threshold
                    {
                        continue;
                    }
                    out.push(make(
                        format!("Wazuh alert: {env} sighted in {}", s.name),
                        format!(
                            "{obs}{env} has been sighted in alert rule {}: \"{}\"",
                            a.rule.id, a.rule.description
                        ),
                        &a.timestamp,
                        &a.timestamp,
                        &a.timestamp,
                        severity_of(a.rule.level),
                        vec![s.id.clone()],
                        vec![*a],
                    ));
                }
            }
        }
    }
    out
}

/// The incident and its relationships: to the entity (`targets` for a vulnerability), to each
/// system it targets, and from each valid indicator (`indicates`).
pub fn objects(ctx: &Ctx<'_>, inc: &PlannedIncident<'_>) -> Vec<StixObject> {
    let c = &ctx.common;
    let mut out = vec![c.sdo(
        StixObject::Incident,
        inc.id.clone(),
        &inc.created_stix,
        model::Incident {
            name: inc.name.clone(),
            description: inc.description.clone(),
            incident_type: "alert".into(),
            severity: inc.severity.as_str().into(),
            first_seen: inc.first_seen.clone(),
            last_seen: inc.last_seen.clone(),
            source: ctx.opts.system_name.clone(),
        },
    )];
    let to_entity = if ctx.is_vulnerability {
        "targets"
    } else {
        "related-to"
    };
    let rel = |t: &str, source: &str, target: &str| {
        StixObject::Relationship(c.relationship(t, source, target, &inc.created_stix))
    };
    out.push(rel(to_entity, &inc.id, &ctx.input.entity.standard_id));
    for t in &inc.targets {
        out.push(rel("targets", &inc.id, t));
    }
    for i in &ctx.indicators {
        out.push(rel("indicates", &i.standard_id, &inc.id));
    }
    out
}
