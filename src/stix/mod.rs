//! The STIX 2.1 objects the connector emits, their deterministic ids and a structural validator.
//!
//! Objects are built as `serde_json::Value`s through the constructors below: the bundle is plain
//! JSON anyway, OpenCTI's extension properties (`x_opencti_*`) are open-ended, and one
//! constructor per object kind keeps the common properties (author, markings, confidence) in a
//! single place ([`Common`]).

pub mod id;
pub mod validate;
pub mod vectors;

use serde_json::{json, Map, Value};

/// Properties shared by every object the connector creates (spec §5.0).
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

fn insert_all(m: &mut Map<String, Value>, props: Value) {
    if let Value::Object(p) = props {
        for (k, v) in p {
            if !v.is_null() {
                m.insert(k, v);
            }
        }
    }
}

impl Common {
    /// An SDO or SRO: `type`, `spec_version`, `id`, `created_by_ref`, `created`, `modified`,
    /// `confidence`, `object_marking_refs` and the given properties (nulls dropped).
    pub fn sdo(&self, stix_type: &str, id: &str, created: &str, props: Value) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(stix_type));
        m.insert("spec_version".into(), json!("2.1"));
        m.insert("id".into(), json!(id));
        if id != self.author_id {
            m.insert("created_by_ref".into(), json!(self.author_id));
        }
        m.insert("created".into(), json!(created));
        m.insert("modified".into(), json!(self.now));
        m.insert("confidence".into(), json!(self.confidence));
        if !self.markings.is_empty() {
            m.insert("object_marking_refs".into(), json!(self.markings));
        }
        insert_all(&mut m, props);
        Value::Object(m)
    }

    /// An SCO with its STIX deterministic id; `labels` only when non-empty.
    pub fn sco(&self, stix_type: &str, props: Value, labels: &[String]) -> Value {
        let id = id::sco(stix_type, &props);
        self.sco_with_id(stix_type, &id, props, labels)
    }

    /// An SCO with a given id (Process, whose id recipe is this project's).
    pub fn sco_with_id(&self, stix_type: &str, id: &str, props: Value, labels: &[String]) -> Value {
        let mut m = Map::new();
        m.insert("type".into(), json!(stix_type));
        m.insert("spec_version".into(), json!("2.1"));
        m.insert("id".into(), json!(id));
        m.insert("created_by_ref".into(), json!(self.author_id));
        m.insert("confidence".into(), json!(self.confidence));
        if !self.markings.is_empty() {
            m.insert("object_marking_refs".into(), json!(self.markings));
        }
        if !labels.is_empty() {
            m.insert("labels".into(), json!(labels));
        }
        insert_all(&mut m, props);
        Value::Object(m)
    }

    /// An identity (author, SIEM or agent system).
    pub fn identity(
        &self,
        id: &str,
        name: &str,
        identity_class: &str,
        description: Option<&str>,
    ) -> Value {
        self.sdo(
            "identity",
            id,
            &self.now,
            json!({"name": name, "identity_class": identity_class, "description": description}),
        )
    }

    /// A relationship with pycti's deterministic id (over type, source and target only).
    pub fn relationship(
        &self,
        relationship_type: &str,
        source: &str,
        target: &str,
        created: &str,
        extra: Value,
    ) -> Value {
        let rid = id::relationship(relationship_type, source, target, None, None);
        let mut props = json!({
            "relationship_type": relationship_type,
            "source_ref": source,
            "target_ref": target,
        });
        if let (Value::Object(p), Value::Object(e)) = (&mut props, extra) {
            p.extend(e);
        }
        self.sdo("relationship", &rid, created, props)
    }
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
