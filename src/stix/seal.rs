//! The id rule, enforced in one place: every object's id is its type's recipe ([`super::id`])
//! applied to the properties the object carries when it is sent.
//!
//! Knowledge building assembles objects step by step — times set on a relationship after it was
//! made, references pointed at the enriched entity instead of a copy of it — so ids computed when
//! an object was first made can go stale. [`seal`] recomputes them from the final properties and
//! follows every rename through the references that pointed at the old id, so the bundle is
//! consistent and every id is the one OpenCTI computes for the same object.

use super::id;
use super::model::StixObject;
use std::collections::{HashMap, HashSet};

/// The id the object's own properties give, or `None` for a type whose id is not a recipe over
/// its properties (Process: see [`id::process`]).
pub fn recipe_id(o: &StixObject) -> Option<String> {
    Some(match o {
        StixObject::Identity(x) => id::identity(&x.props.name, &x.props.identity_class),
        StixObject::Sighting(x) => {
            let p = &x.props;
            // OpenCTI reads the sighted entity from `x_opencti_sighting_of_ref` (the STIX
            // `sighting_of_ref` may be a placeholder), and hashes that one.
            id::sighting(
                &p.x_opencti_sighting_of_ref,
                &p.where_sighted_refs,
                Some(&p.first_seen),
                Some(&p.last_seen),
            )
        }
        StixObject::Incident(x) => id::incident(&x.props.name, Some(&x.meta.created)),
        StixObject::CaseIncident(x) => id::case_incident(&x.props.name, Some(&x.meta.created)),
        StixObject::Note(x) => id::note(
            Some(&x.meta.created),
            &x.props.content,
            Some(&x.props.abstract_),
        ),
        StixObject::Relationship(x) => {
            let p = &x.props;
            id::relationship(
                &p.relationship_type,
                &p.source_ref,
                &p.target_ref,
                p.start_time.as_deref(),
                p.stop_time.as_deref(),
            )
        }
        StixObject::AttackPattern(x) => {
            id::attack_pattern(&x.props.name, Some(&x.props.x_mitre_id))
        }
        StixObject::Tool(x) => id::named("tool", &x.props.name),
        StixObject::Vulnerability(x) => id::named("vulnerability", &x.props.name),
        StixObject::Process(_) => return None,
        sco => id::sco(sco.stix_type(), &sco.to_value()),
    })
}

/// Gives every object its [`recipe_id`], rewrites references to renamed objects (which may in
/// turn rename the objects holding them) and keeps the first object of each id.
pub fn seal(mut objects: Vec<StixObject>) -> Vec<StixObject> {
    // Reference chains are short (relationship → network-traffic → address); the bound only
    // guards against a cycle of renames, which recipes over distinct properties cannot form.
    for _ in 0..8 {
        let mut renames: HashMap<String, String> = HashMap::new();
        for o in &mut objects {
            if let Some(new) = recipe_id(o).filter(|n| n != o.id()) {
                renames.insert(std::mem::replace(o.id_mut(), new.clone()), new);
            }
        }
        if renames.is_empty() {
            break;
        }
        for o in &mut objects {
            o.visit_refs(&mut |r| {
                if let Some(new) = renames.get(r.as_str()) {
                    *r = new.clone();
                }
            });
        }
    }
    let mut seen = HashSet::new();
    objects.retain(|o| seen.insert(o.id().to_string()));
    objects
}
