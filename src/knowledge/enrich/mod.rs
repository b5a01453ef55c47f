//! Context objects extracted from alerts (`WAZUH_ENRICH_TYPES`): attack patterns, tools,
//! accounts, URLs, e-mail addresses, files, directories, registry keys, addresses, user agents,
//! processes, software and vulnerabilities, network traffic and domain names, each linked to
//! its incident with a description naming the alert and the field.
//!
//! One file per family ([`identity`], [`files`], [`network`], [`process`],
//! [`vulnerability`]); [`FAMILIES`] says which enrichment types switch each one on.
//!
//! Robust by construction: every value is looked up, type-checked and validated; anything odd
//! is skipped with a debug log, so one strange alert never loses the others' context.

mod files;
mod identity;
mod network;
mod process;
mod values;
mod vulnerability;

pub use values::{lookup, normalise_mac, parse_sysmon_hashes, split_path, undouble};

use super::sightings::stix_time;
use super::Ctx;
use crate::alert::Alert;
use crate::config::{EnrichType, FilenameBehaviour};
use crate::stix::model::{self, Sco};
use crate::stix::StixObject;
use crate::vocabulary::context::Role;
use crate::vocabulary::Vocabulary;
use serde::Serialize;
use std::collections::BTreeMap;

/// At most this many context objects (with their nested objects) per incident.
pub const MAX_CONTEXT_OBJECTS: usize = 500;

/// One context object found in an alert.
#[derive(Debug, Clone)]
pub struct Found {
    pub object: StixObject,
    /// Objects it refers to (directories, images, accounts, endpoints, `has` relationships).
    pub nested: Vec<StixObject>,
    /// Relationship type from the incident (`related-to`, `uses`).
    pub relation: &'static str,
    pub description: String,
    /// STIX time of the alert (the relationship's `created`).
    pub alert_time: String,
}

/// Extraction state for one incident.
pub(super) struct Extractor<'c, 'a> {
    ctx: &'c Ctx<'a>,
    out: Vec<Found>,
    /// Ids already found: the first (newest) alert naming an object describes its link.
    seen: std::collections::HashSet<String>,
}

impl<'a> Extractor<'_, 'a> {
    /// The fields read for `role` (the vocabulary's places with the configured changes).
    pub(super) fn fields(&self, role: Role) -> Vec<&'a str> {
        let v: &'a Vocabulary = &self.ctx.input.search.vocabulary;
        v.context_fields(role)
    }

    /// Whether `field` is one of `role`'s places.
    pub(super) fn has_role(&self, field: &str, role: Role) -> bool {
        self.fields(role).contains(&field)
    }

    pub(super) fn on(&self, t: EnrichType) -> bool {
        self.ctx.opts.enrich_types.contains(&t)
    }

    /// An SCO with the enrichment labels; returns it with the id others should refer to (the
    /// entity's own id when it is the entity — never re-emitted, never labelled).
    pub(super) fn sco<T: Serialize>(
        &self,
        wrap: fn(Sco<T>) -> StixObject,
        props: T,
    ) -> (StixObject, String) {
        let o = self.ctx.common.sco(wrap, props, &self.ctx.enrich_labels);
        let rid = self.ref_id(o.id());
        (o, rid)
    }

    /// A Process (its id recipe is this project's: [`id::process`]).
    pub(super) fn process(&self, id: String, props: model::Process) -> StixObject {
        self.ctx
            .common
            .sco_with_id(StixObject::Process, id, props, &self.ctx.enrich_labels)
    }

    pub(super) fn ref_id(&self, id: &str) -> String {
        match &self.ctx.entity_alias {
            Some(alias) if alias == id => self.ctx.input.entity.standard_id.clone(),
            _ => id.to_string(),
        }
    }

    pub(super) fn push(
        &mut self,
        object: StixObject,
        nested: Vec<StixObject>,
        relation: &'static str,
        description: String,
        a: &Alert,
    ) {
        if !self.seen.insert(object.id().to_string()) {
            return;
        }
        self.out.push(Found {
            object,
            nested,
            relation,
            description,
            alert_time: stix_time(self.ctx, &a.timestamp),
        });
    }

    /// A File (and its directory, per `WAZUH_ENRICH_FILENAME_BEHAVIOUR`) for `path`; returns
    /// (file, nested objects, id to refer to it by).
    pub(super) fn file_for_path(
        &self,
        path: &str,
        mut props: model::File,
    ) -> (StixObject, Vec<StixObject>, String) {
        let fb = &self.ctx.opts.filename_behaviour;
        let (dir, base) = split_path(path);
        let name = if fb.contains(&FilenameBehaviour::RemovePath) && !base.is_empty() {
            base
        } else {
            path
        };
        props.name = name.to_string();
        if name != path {
            // The full path stays searchable in OpenCTI (`search-additional-filenames`).
            props.x_opencti_additional_names = vec![path.to_string()];
        }
        let mut nested = Vec::new();
        if fb.contains(&FilenameBehaviour::CreateDir) {
            if let Some(d) = dir.filter(|d| !d.is_empty()) {
                let (dobj, did) = self.sco(
                    StixObject::Directory,
                    model::Directory {
                        path: d.to_string(),
                    },
                );
                props.parent_directory_ref = Some(did);
                nested.push(dobj);
            }
        }
        let (f, fid) = self.sco(StixObject::File, props);
        (f, nested, fid)
    }

    pub(super) fn account_ref(
        &self,
        props: model::UserAccount,
        nested: &mut Vec<StixObject>,
    ) -> String {
        let (o, rid) = self.sco(StixObject::UserAccount, props);
        nested.push(o);
        rid
    }

    pub(super) fn image_ref(
        &self,
        path: &str,
        hashes: BTreeMap<String, String>,
        nested: &mut Vec<StixObject>,
    ) -> String {
        let props = model::File {
            hashes,
            ..Default::default()
        };
        let (f, more, fid) = self.file_for_path(path, props);
        nested.extend(more);
        nested.push(f);
        fid
    }
}

/// One family of context objects: the enrichment types that switch it on (any of them) and
/// the function that finds its objects in one alert.
type Family = (&'static [EnrichType], fn(&mut Extractor<'_, '_>, &Alert));

/// Every family, in the order their objects are emitted.
const FAMILIES: &[Family] = &[
    (&[EnrichType::AttackPattern], |x, a| x.attack_patterns(a)),
    (&[EnrichType::Tool], |x, a| x.tools(a)),
    (&[EnrichType::UserAccount], |x, a| x.user_accounts(a)),
    (&[EnrichType::Url], |x, a| x.urls(a)),
    (&[EnrichType::EmailAddr], |x, a| x.emails(a)),
    (&[EnrichType::File], |x, a| x.files(a)),
    (&[EnrichType::Directory], |x, a| x.directories(a)),
    (&[EnrichType::WindowsRegistryKey], |x, a| x.registry_keys(a)),
    (&[EnrichType::Ipv4Addr, EnrichType::Ipv6Addr], |x, a| {
        x.addresses(a)
    }),
    (&[EnrichType::MacAddr], |x, a| x.macs(a)),
    (&[EnrichType::UserAgent], |x, a| x.user_agents(a)),
    (&[EnrichType::Process], |x, a| x.processes(a)),
    (
        &[EnrichType::Software, EnrichType::Vulnerability],
        |x, a| x.software_and_vulnerabilities(a),
    ),
    (&[EnrichType::NetworkTraffic], |x, a| x.network_traffic(a)),
    (&[EnrichType::DomainName], |x, a| x.domains(a)),
];

/// Context objects of `alerts` (at most `WAZUH_MAX_CONTEXT_ALERTS` of them), family by family
/// within each alert.
pub fn extract(ctx: &Ctx<'_>, alerts: &[&Alert]) -> Vec<Found> {
    let mut x = Extractor {
        ctx,
        out: Vec::new(),
        seen: Default::default(),
    };
    for a in alerts.iter().take(ctx.opts.max_context_alerts) {
        // One alert's parsed document at a time (the sample's alerts keep only the text).
        let a = &a.with_parsed_source();
        for (types, find) in FAMILIES {
            if types.iter().any(|t| x.on(*t)) {
                find(&mut x, a);
            }
        }
        if x.out.len() >= MAX_CONTEXT_OBJECTS {
            tracing::debug!("context object limit reached");
            x.out.truncate(MAX_CONTEXT_OBJECTS);
            break;
        }
    }
    x.out
}

/// The found objects, their nested objects and one relationship from the incident to each.
pub fn link(
    ctx: &Ctx<'_>,
    incident_id: &str,
    _incident_created: &str,
    found: Vec<Found>,
) -> Vec<StixObject> {
    let c = &ctx.common;
    let mut out = Vec::new();
    for f in found {
        let oid = f.object.id().to_string();
        let target = match &ctx.entity_alias {
            Some(alias) if *alias == oid => ctx.input.entity.standard_id.clone(),
            _ => oid,
        };
        out.extend(f.nested);
        out.push(f.object);
        if target == ctx.input.entity.standard_id {
            // The incident is already related to the entity itself.
            continue;
        }
        let mut r = c.relationship(f.relation, incident_id, &target, &f.alert_time);
        r.props.description = Some(f.description);
        out.push(StixObject::Relationship(r));
    }
    out
}

/// Drops copies of the enriched entity (an alert field holding its own value) and points their
/// references at the entity: the entity is never re-sent, so it never gets the enrichment labels
/// (which would mark it as enriched and stop later enrichments).
pub fn remove_entity_copies(ctx: &Ctx<'_>, objects: Vec<StixObject>) -> Vec<StixObject> {
    let Some(alias) = &ctx.entity_alias else {
        return objects;
    };
    let entity_id = &ctx.input.entity.standard_id;
    objects
        .into_iter()
        .filter(|o| o.id() != alias && o.id() != entity_id)
        .map(|mut o| {
            if alias != entity_id {
                o.rewrite_refs(alias, entity_id);
            }
            o
        })
        .collect()
}
