//! The incident-response case (Case-Incident) grouping everything one enrichment
//! found, created when at least one incident was.

use super::incidents::PlannedIncident;
use super::severity::Severity;
use super::sightings::{earlier, Sighter};
use super::{Bundle, Ctx};
use crate::stix::{id, model, StixObject};

fn case_name(ctx: &Ctx<'_>, sighters: &[Sighter<'_>]) -> String {
    let count: u64 = sighters.iter().map(|s| s.count).sum();
    format!("{} sighted {count} time(s)", ctx.env)
}

/// The incident created last: the case is created with it.
fn latest_created<'i>(incidents: &'i [PlannedIncident<'_>]) -> Option<&'i PlannedIncident<'i>> {
    incidents.iter().reduce(|a, b| {
        if earlier(&a.created_raw, &b.created_raw) {
            b
        } else {
            a
        }
    })
}

/// The case id, if a case is to be created (`WAZUH_CREATE_INCIDENT_RESPONSE` and ≥1 incident).
pub fn case_id(
    ctx: &Ctx<'_>,
    sighters: &[Sighter<'_>],
    incidents: &[PlannedIncident<'_>],
) -> Option<String> {
    if !ctx.opts.create_incident_response {
        return None;
    }
    let latest = latest_created(incidents)?;
    Some(id::case_incident(
        &case_name(ctx, sighters),
        Some(&latest.created_stix),
    ))
}

pub fn case(
    ctx: &Ctx<'_>,
    case_id: &str,
    sighters: &[Sighter<'_>],
    incidents: &[PlannedIncident<'_>],
    bundle: &Bundle,
) -> StixObject {
    let c = &ctx.common;
    let severity = incidents
        .iter()
        .map(|i| i.severity)
        .max()
        .unwrap_or(Severity::Low);
    let count: u64 = sighters.iter().map(|s| s.count).sum();
    let ind_info = match ctx.indicators.as_slice() {
        [] => "(no indicator)".to_string(),
        [one] => format!("(part of the indicator {})", one.name),
        many => format!("(part of {} indicators)", many.len()),
    };
    let description = format!(
        "{} {ind_info} has been sighted {count} time(s) in {} system(s), causing {} incident(s) of severity up to {}.",
        ctx.env,
        sighters.len(),
        incidents.len(),
        severity.as_str()
    );
    let mut refs: Vec<String> = bundle
        .objects
        .iter()
        .filter(|o| o.stix_type() != "note" && o.id() != c.author_id)
        .map(|o| o.id().to_string())
        .collect();
    refs.push(ctx.input.entity.standard_id.clone());
    refs.extend(ctx.indicators.iter().map(|i| i.standard_id.clone()));
    let mut seen = std::collections::HashSet::new();
    refs.retain(|r| seen.insert(r.clone()));
    // Same `created` as the id was computed with.
    let created = latest_created(incidents)
        .map(|i| i.created_stix.clone())
        .unwrap_or_else(|| c.now.clone());
    c.sdo(
        StixObject::CaseIncident,
        case_id.to_string(),
        &created,
        model::CaseIncident {
            name: case_name(ctx, sighters),
            description,
            severity: severity.as_str().into(),
            priority: severity.priority().into(),
            object_refs: refs,
        },
    )
}
