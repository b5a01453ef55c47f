//! The incident-response case (Case-Incident, spec §5.5) grouping everything one enrichment
//! found, created when at least one incident was.

use super::incidents::PlannedIncident;
use super::severity::Severity;
use super::sightings::{earlier, Sighter};
use super::{Bundle, Ctx};
use crate::stix::{self, id, model, StixObject};

fn case_name(ctx: &Ctx<'_>, sighters: &[Sighter<'_>]) -> String {
    let count: u64 = sighters.iter().map(|s| s.count).sum();
    format!("{} sighted {count} time(s)", ctx.env)
}

/// The latest incident `created`, as Python's `datetime.isoformat()` writes it (the reference
/// hashes the case id over that form; keeping it keeps the ids of existing cases).
fn latest_created<'i>(incidents: &'i [PlannedIncident<'_>]) -> Option<&'i PlannedIncident<'i>> {
    incidents.iter().reduce(|a, b| {
        if earlier(&a.created_raw, &b.created_raw) {
            b
        } else {
            a
        }
    })
}

fn python_isoformat(s: &str) -> Option<String> {
    let t = stix::parse_time(s)?;
    Some(if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%dT%H:%M:%S+00:00").to_string()
    } else {
        t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string()
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
    let created =
        python_isoformat(&latest.created_raw).unwrap_or_else(|| latest.created_stix.clone());
    Some(id::case_incident(&case_name(ctx, sighters), Some(&created)))
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
    // Fixed wording (§9.3 #12): closed parenthesis, "time(s)".
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
        .filter(|o| o.stix_type() != "note" && o.id() != id::AUTHOR_ID)
        .map(|o| o.id().to_string())
        .collect();
    refs.push(ctx.input.entity.standard_id.clone());
    refs.extend(ctx.indicators.iter().map(|i| i.standard_id.clone()));
    let mut seen = std::collections::HashSet::new();
    refs.retain(|r| seen.insert(r.clone()));
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
