//! Notes: the enrichment summary (exact totals, the settings that shaped the search,
//! per-rule overview) and one note per sampled alert, capped by `WAZUH_MAX_NOTES*` and
//! `WAZUH_MAX_NOTE_CHARS`, with all alert text escaped.

use super::incidents::PlannedIncident;
use super::markdown::{bound_note, cell, code_block, truncate};
use super::sightings::{capped_alerts, earlier, external_reference, stix_time, Sighter};
use super::{stats, Bundle, Ctx};
use crate::alert::{Alert, RuleStats};
use crate::config::TimeBound;
use crate::stix::{id, model, StixObject};
use serde_json::Value;

/// At most this many "Matches" rows per alert note.
const MAX_MATCHES: usize = 50;
/// Matched values are cut to this many characters.
const MAX_MATCH_CHARS: usize = 200;
/// At most this many rows in the summary's rule overview.
const MAX_OVERVIEW_ROWS: usize = 200;

/// Dotted paths and string values of `v` that contain one of `needles` (case-insensitive),
/// except the top-level `full_log`.
fn matches(v: &Value, needles: &[String]) -> Vec<(String, String)> {
    fn walk(
        v: &Value,
        path: &mut Vec<String>,
        needles: &[String],
        out: &mut Vec<(String, String)>,
    ) {
        if out.len() >= MAX_MATCHES {
            return;
        }
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    if path.is_empty() && k == "full_log" {
                        continue;
                    }
                    path.push(k.clone());
                    walk(x, path, needles, out);
                    path.pop();
                }
            }
            Value::Array(a) => {
                for x in a {
                    walk(x, path, needles, out);
                }
            }
            Value::String(s) => {
                let lower = s.to_lowercase();
                let undoubled = lower.replace("\\\\", "\\");
                if needles
                    .iter()
                    .any(|n| lower.contains(n.as_str()) || undoubled.contains(n.as_str()))
                {
                    out.push((path.join("."), s.clone()));
                }
            }
            _ => {}
        }
    }
    let needles: Vec<String> = needles.iter().map(|n| n.to_lowercase()).collect();
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &needles, &mut out);
    out
}

fn alert_note(
    ctx: &Ctx<'_>,
    a: &Alert,
    position: Option<(usize, u64)>,
    refs: Vec<String>,
) -> StixObject {
    let c = &ctx.common;
    let cap = ctx.opts.max_notes_per_alert_rule;
    let mut content = String::from("## Summary\n\n|Key|Value|\n|---|-----|\n");
    content.push_str(&format!("|Rule ID|{}|\n", cell(&a.rule.id)));
    content.push_str(&format!("|Rule desc.|{}|\n", cell(&a.rule.description)));
    content.push_str(&format!("|Rule level|{}|\n", a.rule.level));
    content.push_str(&format!(
        "|Alert ID|{}/{}|\n",
        cell(&a.doc_id),
        cell(a.alert_id.as_deref().unwrap_or(""))
    ));
    content.push_str(&format!(
        "|Agent|{} ({})|\n",
        cell(&a.agent.name),
        cell(&a.agent.id)
    ));
    content.push_str(&format!("|Index|{}|\n", cell(&a.index)));
    if let Some((i, n)) = position {
        content.push_str(&format!("|Count|{i} of {n} (limited to {cap})|\n"));
    }
    // Parsed for this note only: the sample's alerts keep their text.
    let source = a.source.parse();
    let found = matches(&source, &super::entity_match_values(ctx.input.entity));
    if !found.is_empty() {
        content.push_str("\n## Matches\n\n|Field|Match|\n|-----|-----|\n");
        for (field, value) in found {
            content.push_str(&format!(
                "|{}|{}|\n",
                cell(&field),
                cell(&truncate(&value, MAX_MATCH_CHARS))
            ));
        }
    }
    let pretty = serde_json::to_string_pretty(&source).unwrap_or_default();
    drop(source);
    content.push_str("\n## Alert\n\n");
    content.push_str(&code_block("json", &pretty));
    let content = bound_note(content, ctx.opts.max_note_chars);
    let created = stix_time(ctx, &a.timestamp);
    let abstract_ = format!(
        "Wazuh alert \"{}\" for sighting at {}",
        truncate(&a.rule.description, 200),
        a.timestamp
    );
    c.sdo(
        StixObject::Note,
        id::note(Some(&created), &content, Some(&abstract_)),
        &created,
        model::Note {
            abstract_,
            content,
            note_types: vec!["analysis".into()],
            object_refs: refs,
            external_references: vec![external_reference(ctx, a)],
        },
    )
}

/// Alert notes per system: the newest `max_notes_per_alert_rule` alerts of each rule, at most
/// `max_notes` per system. Each refers to the entity, the sighting, the incidents about that
/// system and the case.
pub fn alert_notes(
    ctx: &Ctx<'_>,
    sighters: &[Sighter<'_>],
    sighting_ids: &[(String, String)],
    incidents: &[PlannedIncident<'_>],
    case_id: &Option<String>,
) -> Vec<StixObject> {
    let mut out = Vec::new();
    for s in sighters {
        let picked = capped_alerts(
            &s.alerts,
            ctx.opts.max_notes_per_alert_rule,
            ctx.opts.max_notes,
        );
        let mut refs = vec![ctx.input.entity.standard_id.clone()];
        if let Some((_, sid)) = sighting_ids.iter().find(|(sys, _)| *sys == s.id) {
            refs.push(sid.clone());
        }
        refs.extend(
            incidents
                .iter()
                .filter(|i| i.targets.contains(&s.id))
                .map(|i| i.id.clone()),
        );
        refs.extend(case_id.iter().cloned());
        let mut seen_per_rule: std::collections::BTreeMap<&str, usize> = Default::default();
        for a in picked {
            let n = s
                .rules
                .iter()
                .find(|r| r.rule_id == a.rule.id)
                .map(|r| r.count)
                .unwrap_or(0);
            let i = seen_per_rule.entry(a.rule.id.as_str()).or_default();
            *i += 1;
            let position = (n > ctx.opts.max_notes_per_alert_rule as u64).then_some((*i, n));
            out.push(alert_note(ctx, a, position, refs.clone()));
        }
    }
    out
}

fn time_bound(b: &Option<TimeBound>) -> String {
    match b {
        None => "–".into(),
        Some(TimeBound::Absolute(t)) => crate::stix::timestamp(*t),
        Some(TimeBound::Relative(d)) => format!("{} ago", humantime::format_duration(*d)),
    }
}

fn join<T: std::fmt::Display>(items: impl IntoIterator<Item = T>) -> String {
    let v: Vec<String> = items.into_iter().map(|x| x.to_string()).collect();
    if v.is_empty() {
        "–".into()
    } else {
        v.join(", ")
    }
}

/// The enrichment summary note: exact totals, the settings that shaped the search (reference
/// issue #63) and an exact per-rule overview.
pub fn summary(ctx: &Ctx<'_>, sighters: &[Sighter<'_>], bundle: &Bundle) -> StixObject {
    let c = &ctx.common;
    let r = ctx.input.result;
    let ix = ctx.input.indexer;
    let so = ctx.input.search;
    let o = ctx.opts;
    let sampled = r.alerts.len() as u64;
    // No run-specific rows (time, duration): the note describes what the indexer holds, so
    // enriching again against the same alerts gives the same note (same id) instead of a copy.
    let mut rows: Vec<(&str, String)> = vec![
        (
            "Request",
            if ctx.input.automatic {
                "automatic"
            } else {
                "manual"
            }
            .into(),
        ),
        ("**Alerts found**", format!("**{}**", r.total)),
        ("Alerts sampled (newest first)", sampled.to_string()),
        ("Sample limit", ix.limit.to_string()),
        ("Not sampled", r.total.saturating_sub(sampled).to_string()),
        ("Systems", sighters.len().to_string()),
        ("Index", ix.index.clone()),
        ("Search since", time_bound(&ix.search_after)),
        (
            "Order",
            join(
                ix.order_by
                    .iter()
                    .map(|b| format!("{}:{}", b.field, if b.descending { "desc" } else { "asc" })),
            ),
        ),
        (
            "Include filter",
            join(
                ix.include_match
                    .iter()
                    .map(|m| format!("{}={}", m.field, m.query)),
            ),
        ),
        (
            "Exclude filter",
            join(
                ix.exclude_match
                    .iter()
                    .map(|m| format!("{}={}", m.field, m.query)),
            ),
        ),
        (
            "Extra filter",
            if ix.filter.is_empty() {
                "–".into()
            } else {
                serde_json::to_string(&ix.filter).unwrap_or_default()
            },
        ),
        ("Exclude sample data", ix.exclude_sample_data.to_string()),
        (
            "Ignore private addresses",
            so.ignore_private_addrs.to_string(),
        ),
        (
            "Look up agent IP / name",
            format!("{} / {}", so.lookup_agent_ip, so.lookup_agent_name),
        ),
        ("Look up MAC variants", so.lookup_mac_variants.to_string()),
        (
            "Host names in command lines",
            so.lookup_hostnames_in_cmd_line.to_string(),
        ),
        (
            "URL without host / ignore trailing slash",
            format!(
                "{} / {}",
                so.lookup_url_without_host, so.lookup_url_ignore_trailing_slash
            ),
        ),
        ("File search options", join(so.filesearch_options.iter())),
        (
            "Directory search options",
            join(so.dirsearch_options.iter()),
        ),
        (
            "Registry key search options",
            join(so.regkeysearch_options.iter()),
        ),
        ("Process search options", join(so.procsearch_options.iter())),
        ("Indicator search", so.indicator_search.to_string()),
        ("Rule exclude list", join(o.rule_exclude_list.iter())),
        (
            "Incidents",
            format!(
                "{} (threshold {}, excluded rules: {})",
                o.create_incident,
                o.create_incident_threshold,
                join(o.incident_rule_exclude_list.iter())
            ),
        ),
        ("Shard failures", r.shard_failures.len().to_string()),
        ("Connector v.", env!("CARGO_PKG_VERSION").into()),
    ];
    if !r.shard_failures.is_empty() {
        rows.push((
            "First shard failure",
            truncate(&r.shard_failures[0], MAX_MATCH_CHARS),
        ));
    }
    let mut content = String::from("## Wazuh enrichment summary\n\n|Key|Value|\n|---|---|\n");
    for (k, v) in rows {
        // Keys are ours (and may carry bold markers); values are escaped.
        let v = if v.starts_with("**") { v } else { cell(&v) };
        content.push_str(&format!("|{k}|{v}|\n"));
    }
    let rules: Vec<RuleStats> = if r.rules.is_empty() {
        stats::from_alerts(&r.alerts).1
    } else {
        r.rules.clone()
    };
    let rules: Vec<&RuleStats> = rules
        .iter()
        .filter(|x| !o.rule_exclude_list.contains(&x.rule_id))
        .collect();
    content.push_str("\n### Alerts overview\n\n|Rule|Level|Count|Earliest|Latest|Description|\n|----|-----|-----|--------|------|-----------|\n");
    let base = if o.app_url.ends_with('/') {
        o.app_url.clone()
    } else {
        format!("{}/", o.app_url)
    };
    for x in rules.iter().take(MAX_OVERVIEW_ROWS) {
        let enc: String = url::form_urlencoded::byte_serialize(x.rule_id.as_bytes()).collect();
        content.push_str(&format!(
            "|[{}]({base}app/threat-hunting#/manager/?tab=rules&redirectRule={enc})|{}|{}|{}|{}|{}|\n",
            cell(&x.rule_id),
            x.level,
            x.count,
            cell(&x.first_seen),
            cell(&x.last_seen),
            cell(&truncate(&x.description, MAX_MATCH_CHARS)),
        ));
    }
    if rules.len() > MAX_OVERVIEW_ROWS {
        content.push_str(&format!(
            "\n*{} more rule(s) not shown.*\n",
            rules.len() - MAX_OVERVIEW_ROWS
        ));
    }
    let content = bound_note(content, o.max_note_chars);
    let mut refs = vec![ctx.input.entity.standard_id.clone()];
    if o.create_sighting_summary {
        refs.extend(bundle.ids_of_type("sighting"));
    }
    if o.create_incident_summary {
        refs.extend(bundle.ids_of_type("incident"));
    }
    // Dated by the newest alert it summarises (the enrichment time is its `modified`).
    let created = sighters
        .iter()
        .map(|s| s.last_seen.as_str())
        .reduce(|a, b| if earlier(a, b) { b } else { a })
        .map(|t| stix_time(ctx, t))
        .unwrap_or_else(|| c.now.clone());
    let abstract_ = format!("Wazuh enrichment: {} alert(s) up to {created}", r.total);
    c.sdo(
        StixObject::Note,
        id::note(Some(&created), &content, Some(&abstract_)),
        &created,
        model::Note {
            abstract_,
            content,
            note_types: vec!["analysis".into()],
            object_refs: refs,
            external_references: Vec::new(),
        },
    )
}
