//! The STIX 2.1 objects the connector emits, as plain serde types.
//!
//! One struct per kind of properties, wrapped in [`Sdo`] (domain objects and relationships:
//! `created`/`modified`, optional `created_by_ref`) or [`Sco`] (cyber-observables: `labels`, no
//! timestamps), and one [`StixObject`] enum tagged by `type`. Typing the model means a misspelt
//! property or a string where OpenCTI expects a number is a compile error instead of a silently
//! ignored field; optional properties are `Option`s or empty collections that are left out of the
//! JSON (OpenCTI treats `null` and "absent" differently for some properties). OpenCTI's extension
//! properties (`x_opencti_*`) are ordinary fields, only where OpenCTI reads them.
//!
//! Ids are not stored by hand: the constructors in [`super::Common`] compute them from the typed
//! fields with the recipes of [`super::id`] (the single source of truth for id rules).

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The only STIX version emitted.
pub const SPEC_VERSION: &str = "2.1";

/// Common properties of an SDO or SRO.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdoMeta {
    pub spec_version: String,
    pub id: String,
    /// Absent on the author identity itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by_ref: Option<String>,
    pub created: String,
    pub modified: String,
    pub confidence: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
}

/// Common properties of an SCO (OpenCTI reads author, confidence, markings and labels on them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScoMeta {
    pub spec_version: String,
    pub id: String,
    pub created_by_ref: String,
    pub confidence: u8,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub object_marking_refs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
}

/// A domain object or relationship: common properties plus the kind's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sdo<T> {
    #[serde(flatten)]
    pub meta: SdoMeta,
    #[serde(flatten)]
    pub props: T,
}

/// A cyber-observable: common properties plus the kind's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sco<T> {
    #[serde(flatten)]
    pub meta: ScoMeta,
    #[serde(flatten)]
    pub props: T,
}

/// An external reference (a link to the alert in the Wazuh dashboard).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalReference {
    pub source_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    pub name: String,
    pub identity_class: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sighting {
    pub first_seen: String,
    pub last_seen: String,
    pub count: u64,
    pub description: String,
    /// The indicator, or the placeholder indicator (STIX requires an SDO here).
    pub sighting_of_ref: String,
    pub where_sighted_refs: Vec<String>,
    /// The real target, which OpenCTI reads instead of `sighting_of_ref`.
    pub x_opencti_sighting_of_ref: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Incident {
    pub name: String,
    pub description: String,
    pub incident_type: String,
    pub severity: String,
    pub first_seen: String,
    pub last_seen: String,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseIncident {
    pub name: String,
    pub description: String,
    pub severity: String,
    pub priority: String,
    pub object_refs: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    #[serde(rename = "abstract")]
    pub abstract_: String,
    pub content: String,
    pub note_types: Vec<String>,
    pub object_refs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Relationship {
    pub relationship_type: String,
    pub source_ref: String,
    pub target_ref: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttackPattern {
    pub name: String,
    pub x_mitre_id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
}

/// A vulnerability with the CVSS properties OpenCTI reads (`x_opencti_cvss_*`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Vulnerability {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_opencti_cvss_base_score: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_opencti_cvss_base_severity: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_opencti_cvss_attack_vector: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_opencti_cvss_integrity_impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_opencti_cvss_availability_impact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_opencti_cvss_confidentiality_impact: Option<String>,
}

/// The single-`value` observables: addresses, domain and host names, URLs, user agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SingleValue {
    pub value: String,
}

/// `{"value": v}`.
pub fn single(v: impl Into<String>) -> SingleValue {
    SingleValue { value: v.into() }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Software {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct UserAccount {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_login: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct File {
    pub name: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub hashes: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ctime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mtime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub atime: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_directory_ref: Option<String>,
    /// Other names of the file (OpenCTI searches them; here: the full path when the name is the
    /// basename).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub x_opencti_additional_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Directory {
    pub path: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Process {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command_line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pid: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwd: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creator_user_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_ref: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct NetworkTraffic {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_ref: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dst_port: Option<u16>,
    pub protocols: Vec<String>,
    /// A one-line summary (`ipv4:ssh 10.0.0.1:? → 10.0.0.2:22`) shown by OpenCTI.
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryValue {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowsRegistryKey {
    pub key: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<RegistryValue>,
}

/// Visits every reference property (`*_ref`, `*_refs`) of an object, mutably.
pub trait Refs {
    fn visit_refs(&mut self, f: &mut dyn FnMut(&mut String));
}

/// Implements [`Refs`] from the lists of single (`Option<String>` or `String`) and multiple
/// (`Vec<String>`) reference fields.
macro_rules! refs {
    ($t:ty; one: [$($one:ident),*]; opt: [$($opt:ident),*]; many: [$($many:ident),*]) => {
        impl Refs for $t {
            #[allow(unused_variables)]
            fn visit_refs(&mut self, f: &mut dyn FnMut(&mut String)) {
                $( f(&mut self.$one); )*
                $( if let Some(r) = &mut self.$opt { f(r); } )*
                $( self.$many.iter_mut().for_each(|r| f(r)); )*
            }
        }
    };
}

refs!(SdoMeta; one: []; opt: [created_by_ref]; many: [object_marking_refs]);
refs!(ScoMeta; one: [created_by_ref]; opt: []; many: [object_marking_refs]);
refs!(Identity; one: []; opt: []; many: []);
refs!(Sighting; one: [sighting_of_ref, x_opencti_sighting_of_ref]; opt: []; many: [where_sighted_refs]);
refs!(Incident; one: []; opt: []; many: []);
refs!(CaseIncident; one: []; opt: []; many: [object_refs]);
refs!(Note; one: []; opt: []; many: [object_refs]);
refs!(Relationship; one: [source_ref, target_ref]; opt: []; many: []);
refs!(AttackPattern; one: []; opt: []; many: []);
refs!(Tool; one: []; opt: []; many: []);
refs!(Vulnerability; one: []; opt: []; many: []);
refs!(SingleValue; one: []; opt: []; many: []);
refs!(Software; one: []; opt: []; many: []);
refs!(UserAccount; one: []; opt: []; many: []);
refs!(File; one: []; opt: [parent_directory_ref]; many: []);
refs!(Directory; one: []; opt: []; many: []);
refs!(Process; one: []; opt: [creator_user_ref, image_ref, parent_ref]; many: []);
refs!(NetworkTraffic; one: []; opt: [src_ref, dst_ref]; many: []);
refs!(WindowsRegistryKey; one: []; opt: []; many: []);

/// Declares [`StixObject`] with its `type` names and the accessors every variant shares.
macro_rules! stix_objects {
    ($( $variant:ident ( $wrap:ident < $props:ty > ) = $name:literal ),+ $(,)?) => {
        /// Any object the connector emits, serialised with its `type` tag.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "type")]
        pub enum StixObject {
            $( #[serde(rename = $name)] $variant($wrap<$props>), )+
        }

        impl StixObject {
            /// The STIX `type`.
            pub fn stix_type(&self) -> &'static str {
                match self { $( StixObject::$variant(_) => $name, )+ }
            }

            /// The STIX `id`.
            pub fn id(&self) -> &str {
                match self { $( StixObject::$variant(o) => &o.meta.id, )+ }
            }

            pub(crate) fn id_mut(&mut self) -> &mut String {
                match self { $( StixObject::$variant(o) => &mut o.meta.id, )+ }
            }

            /// Calls `f` on every reference property (`*_ref`, `*_refs`; not the `id`).
            pub fn visit_refs(&mut self, f: &mut dyn FnMut(&mut String)) {
                match self {
                    $( StixObject::$variant(o) => {
                        o.meta.visit_refs(f);
                        o.props.visit_refs(f);
                    } )+
                }
            }
        }
    };
}

stix_objects! {
    Identity(Sdo<Identity>) = "identity",
    Sighting(Sdo<Sighting>) = "sighting",
    Incident(Sdo<Incident>) = "incident",
    CaseIncident(Sdo<CaseIncident>) = "case-incident",
    Note(Sdo<Note>) = "note",
    Relationship(Sdo<Relationship>) = "relationship",
    AttackPattern(Sdo<AttackPattern>) = "attack-pattern",
    Tool(Sdo<Tool>) = "tool",
    Vulnerability(Sdo<Vulnerability>) = "vulnerability",
    Software(Sco<Software>) = "software",
    Ipv4Addr(Sco<SingleValue>) = "ipv4-addr",
    Ipv6Addr(Sco<SingleValue>) = "ipv6-addr",
    DomainName(Sco<SingleValue>) = "domain-name",
    Hostname(Sco<SingleValue>) = "hostname",
    Url(Sco<SingleValue>) = "url",
    EmailAddr(Sco<SingleValue>) = "email-addr",
    MacAddr(Sco<SingleValue>) = "mac-addr",
    UserAgent(Sco<SingleValue>) = "user-agent",
    UserAccount(Sco<UserAccount>) = "user-account",
    File(Sco<File>) = "file",
    Directory(Sco<Directory>) = "directory",
    Process(Sco<Process>) = "process",
    NetworkTraffic(Sco<NetworkTraffic>) = "network-traffic",
    WindowsRegistryKey(Sco<WindowsRegistryKey>) = "windows-registry-key",
}

impl StixObject {
    /// The object as JSON (the bundle format). Serialising these types cannot fail (string
    /// keys, finite numbers: scores are checked before they get here); `Null` only to stay
    /// panic-free.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

impl StixObject {
    /// Points every reference to `from` at `to` instead.
    pub fn rewrite_refs(&mut self, from: &str, to: &str) {
        self.visit_refs(&mut |r| {
            if r == from {
                *r = to.to_string();
            }
        });
    }
}

/// The objects as JSON values, in order.
pub fn to_values(objects: &[StixObject]) -> Vec<serde_json::Value> {
    objects.iter().map(StixObject::to_value).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stix::{id, Common};

    fn common() -> Common {
        Common {
            markings: vec!["marking-definition--m".into()],
            author_id: id::author("Wazuh"),
            confidence: 100,
            now: "2024-06-10T12:00:00.000Z".into(),
        }
    }

    #[test]
    fn the_author_has_no_created_by_ref_and_others_do() {
        let c = common();
        let author = c.identity("Wazuh", "organization", None).to_value();
        assert_eq!(author["id"], id::author("Wazuh"));
        assert!(author.get("created_by_ref").is_none());
        assert!(author.get("description").is_none());
        let siem = c.identity("SIEM", "system", None).to_value();
        assert_eq!(siem["id"], id::identity("SIEM", "system"));
        assert_eq!(siem["created_by_ref"], id::author("Wazuh"));
        assert_eq!(siem["type"], "identity");
        assert_eq!(
            siem["object_marking_refs"],
            serde_json::json!(["marking-definition--m"])
        );
    }

    #[test]
    fn sco_ids_come_from_the_typed_contributing_properties() {
        let c = common();
        let o = c.sco(StixObject::Ipv4Addr, single("10.0.0.1"), &[]);
        assert_eq!(o.stix_type(), "ipv4-addr");
        assert_eq!(
            o.id(),
            id::sco("ipv4-addr", &serde_json::json!({"value": "10.0.0.1"}))
        );
        // No labels when none are given; no timestamps on SCOs.
        let v = o.to_value();
        assert!(v.get("labels").is_none() && v.get("created").is_none());
        let p = c.sco(
            StixObject::UserAccount,
            UserAccount {
                account_login: Some("root".into()),
                user_id: None,
            },
            &["wazuh_ignore".into()],
        );
        assert_eq!(
            p.id(),
            id::sco(
                "user-account",
                &serde_json::json!({"account_login": "root"})
            )
        );
        assert_eq!(p.to_value()["labels"], serde_json::json!(["wazuh_ignore"]));
    }

    #[test]
    fn rewrite_refs_reaches_every_reference_but_not_the_id() {
        let c = common();
        let mut r = StixObject::Relationship(c.relationship("related-to", "a--1", "b--2", &c.now));
        r.rewrite_refs("b--2", "b--9");
        let v = r.to_value();
        assert_eq!(v["target_ref"], "b--9");
        assert_eq!(v["source_ref"], "a--1");
        let mut p = c.sco_with_id(
            StixObject::Process,
            "process--1".into(),
            Process {
                parent_ref: Some("process--2".into()),
                image_ref: Some("process--2".into()),
                ..Default::default()
            },
            &[],
        );
        p.rewrite_refs("process--2", "process--3");
        p.rewrite_refs("process--1", "process--x");
        let v = p.to_value();
        assert_eq!(v["parent_ref"], "process--3");
        assert_eq!(v["image_ref"], "process--3");
        assert_eq!(v["id"], "process--1");
    }
}
