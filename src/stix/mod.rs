//! The STIX 2.1 objects the connector emits, their deterministic ids and a structural validator.
//!
//! Objects are typed ([`model`]: one serde struct per kind, one [`StixObject`] enum tagged by
//! `type`) and built through [`Common`], which keeps the common properties (author, markings,
//! confidence) in a single place and computes ids from the typed fields with [`id`]. They become
//! JSON only at the bundle boundary ([`model::to_values`]).

pub mod id;
pub mod mermaid;
pub mod model;
pub mod seal;
pub mod validate;
pub mod vectors;

pub use model::StixObject;
use model::{Relationship, Sco, ScoMeta, Sdo, SdoMeta, SPEC_VERSION};
use serde::Serialize;
use serde_json::Value;

/// Properties shared by every object the connector creates.
#[derive(Debug, Clone, PartialEq)]
pub struct Common {
    /// `object_marking_refs` (`WAZUH_TLPS`).
    pub markings: Vec<String>,
    /// `created_by_ref` (the author identity).
    pub author_id: String,
    /// `confidence` (100, as the reference: OpenCTI clamps it to the user's maximum).
    pub confidence: u8,
    /// `modified` (and `created` where nothing better is known), STIX timestamp.
    pub now: String,
}

/// Formats a time as a STIX timestamp with millisecond precision (`2024-06-10T12:00:00.000Z`),
/// the form OpenCTI stores, so that ids computed here coincide with the platform's.
pub fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// Parses a Wazuh/ISO 8601 timestamp (`…Z`, `…+00:00`, `…+0000`, with or without fraction).
pub fn parse_time(s: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    for f in ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%d %H:%M:%S%.f%z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(s, f) {
            return Some(t.with_timezone(&chrono::Utc));
        }
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, f) {
            return Some(t.and_utc());
        }
    }
    None
}

/// Normalises a timestamp string to the STIX form; `None` when it is not a timestamp.
pub fn normalise_time(s: &str) -> Option<String> {
    parse_time(s).map(timestamp)
}

impl Common {
    fn sdo_meta(&self, id: String, created: &str) -> SdoMeta {
        SdoMeta {
            spec_version: SPEC_VERSION.into(),
            created_by_ref: (id != self.author_id).then(|| self.author_id.clone()),
            id,
            created: created.to_string(),
            modified: self.now.clone(),
            confidence: self.confidence,
            object_marking_refs: self.markings.clone(),
        }
    }

    /// An SDO or SRO with the given id: `wrap` is the [`StixObject`] variant (for example
    /// `StixObject::Incident`); `created_by_ref` is left out on the author itself.
    pub fn sdo<T>(
        &self,
        wrap: fn(Sdo<T>) -> StixObject,
        id: String,
        created: &str,
        props: T,
    ) -> StixObject {
        wrap(Sdo {
            meta: self.sdo_meta(id, created),
            props,
        })
    }

    /// An SCO with its STIX deterministic id, computed by [`id::sco`] from the typed properties;
    /// `labels` only when non-empty.
    pub fn sco<T: Serialize>(
        &self,
        wrap: fn(Sco<T>) -> StixObject,
        props: T,
        labels: &[String],
    ) -> StixObject {
        // Serialising these property structs cannot fail (string keys only).
        let data = serde_json::to_value(&props).unwrap_or(Value::Null);
        let mut o = self.sco_with_id(wrap, String::new(), props, labels);
        *o.id_mut() = id::sco(o.stix_type(), &data);
        o
    }

    /// An SCO with a given id (Process, whose id recipe is this project's).
    pub fn sco_with_id<T>(
        &self,
        wrap: fn(Sco<T>) -> StixObject,
        id: String,
        props: T,
        labels: &[String],
    ) -> StixObject {
        wrap(Sco {
            meta: ScoMeta {
                spec_version: SPEC_VERSION.into(),
                id,
                created_by_ref: self.author_id.clone(),
                confidence: self.confidence,
                object_marking_refs: self.markings.clone(),
                labels: labels.to_vec(),
            },
            props,
        })
    }

    /// An identity (author, SIEM or agent system), its id from its name and class.
    pub fn identity(
        &self,
        name: &str,
        identity_class: &str,
        description: Option<&str>,
    ) -> StixObject {
        self.sdo(
            StixObject::Identity,
            id::identity(name, identity_class),
            &self.now,
            model::Identity {
                name: name.to_string(),
                identity_class: identity_class.to_string(),
                description: description.map(str::to_string),
            },
        )
    }

    /// A relationship with pycti's deterministic id over type, source and target; times set on
    /// the result's `props` afterwards are taken into its id by [`seal::seal`].
    pub fn relationship(
        &self,
        relationship_type: &str,
        source: &str,
        target: &str,
        created: &str,
    ) -> Sdo<Relationship> {
        let rid = id::relationship(relationship_type, source, target, None, None);
        Sdo {
            meta: self.sdo_meta(rid, created),
            props: Relationship {
                relationship_type: relationship_type.to_string(),
                source_ref: source.to_string(),
                target_ref: target.to_string(),
                description: None,
                start_time: None,
                stop_time: None,
            },
        }
    }
}

/// OpenCTI's STIX extension definition, under which the platform exports its own properties
/// (`additional_names`, `granted_refs`, …) on the objects it sends.
pub const OPENCTI_EXTENSION: &str = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";

/// OpenCTI's STIX extension for observables: an exported observable carries its `labels` and
/// `created_by_ref` there, since STIX observables have no such top-level properties.
pub const OPENCTI_SCO_EXTENSION: &str =
    "extension-definition--f93e2c80-4231-4f9a-af8b-95c9bd566a82";

/// STIX type prefix of an id (`ipv4-addr--…` → `ipv4-addr`).
pub fn type_of_id(id: &str) -> &str {
    id.split_once("--").map(|(t, _)| t).unwrap_or(id)
}

fn strings(v: Option<&Value>) -> impl Iterator<Item = String> + '_ {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(String::from))
}

/// Marking ids of a STIX object (`object_marking_refs`).
pub fn markings(obj: &Value) -> Vec<String> {
    strings(obj.get("object_marking_refs")).collect()
}

/// OpenCTI's observable extension of a STIX object, if any.
fn sco_extension(obj: &Value) -> Option<&Value> {
    obj.get("extensions")?.get(OPENCTI_SCO_EXTENSION)
}

/// Labels of a STIX object (`labels` ∪ OpenCTI's `x_opencti_labels` ∪ the labels of OpenCTI's
/// observable extension, where an exported observable carries them).
pub fn labels(obj: &Value) -> Vec<String> {
    strings(obj.get("labels"))
        .chain(strings(obj.get("x_opencti_labels")))
        .chain(strings(sco_extension(obj).and_then(|e| e.get("labels"))))
        .collect()
}

/// The author of a STIX object: `created_by_ref`, or for an exported observable the one of
/// OpenCTI's observable extension.
pub fn created_by(obj: &Value) -> Option<&str> {
    obj.get("created_by_ref")
        .or_else(|| sco_extension(obj)?.get("created_by_ref"))
        .and_then(Value::as_str)
}

/// The `id` of an object, or "" when it has none.
pub fn id_of(o: &Value) -> &str {
    o.get("id").and_then(Value::as_str).unwrap_or_default()
}

/// The `type` of an object, or "".
pub fn type_of(o: &Value) -> &str {
    o.get("type").and_then(Value::as_str).unwrap_or_default()
}

/// True for STIX Cyber-observable types (including OpenCTI's custom ones).
pub fn is_sco(stix_type: &str) -> bool {
    matches!(
        stix_type,
        "ipv4-addr"
            | "ipv6-addr"
            | "domain-name"
            | "hostname"
            | "url"
            | "email-addr"
            | "mac-addr"
            | "user-agent"
            | "user-account"
            | "file"
            | "artifact"
            | "directory"
            | "process"
            | "network-traffic"
            | "windows-registry-key"
            | "software"
            | "autonomous-system"
            | "mutex"
            | "x509-certificate"
            | "email-message"
            | "text"
    )
}
