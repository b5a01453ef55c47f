//! Deterministic STIX ids, equal to the ones pycti 7 / stix2 compute.
//!
//! Every id is `<type>--uuid5(NAMESPACE, JCS(id_data))` where `id_data` is a small JSON object of
//! the id-contributing properties and JCS is RFC 8785 canonical JSON. Using the same recipe as
//! pycti means OpenCTI de-duplicates what we send against what other connectors (and earlier runs
//! of this one) created. The per-type rules are those of `spec/opencti-protocol.md` §6; the shared
//! vector file `tests/fixtures/stix/pycti-id-vectors.json` pins them down.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The STIX 2.1 / OpenCTI namespace for deterministic ids.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

/// The fixed id of the connector's author identity (pycti `Identity.generate_id("Wazuh",
/// "system")`; kept constant whatever `WAZUH_AUTHOR_NAME` says, as the reference does, so that
/// `WAZUH_IGNORE_OWN_ENTITIES` and OpenCTI's "created by" stay stable).
pub const AUTHOR_ID: &str = "identity--6384d70e-3e7e-5ea0-90a1-a9f589a60d30";

/// The placeholder indicator the reference puts in `sighting_of_ref` (STIX requires an SDO there;
/// OpenCTI reads the real target from `x_opencti_sighting_of_ref`).
pub const DUMMY_INDICATOR_ID: &str = "indicator--167565fe-69da-5e2f-a1c1-0542736f9f9a";

/// `type--uuid5(NAMESPACE, JCS(data))`.
pub fn from_data(stix_type: &str, data: &Value) -> String {
    // Canonicalising a `serde_json::Value` cannot fail (no non-string keys, no NaN): fall back to
    // plain serialisation only to stay panic-free.
    let canonical = serde_json_canonicalizer::to_string(data).unwrap_or_else(|_| data.to_string());
    format!(
        "{stix_type}--{}",
        Uuid::new_v5(&NAMESPACE, canonical.as_bytes())
    )
}

/// pycti's `norm`: Unicode lower-case and surrounding whitespace removed.
fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

fn obj(pairs: Vec<(&str, Value)>) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

/// `Identity.generate_id(name, identity_class)`: the class is lower-cased but not trimmed.
pub fn identity(name: &str, identity_class: &str) -> String {
    from_data(
        "identity",
        &json!({"name": norm(name), "identity_class": identity_class.to_lowercase()}),
    )
}

/// `StixSightingRelationship.generate_id`: `last_seen` only counts when `first_seen` is given too.
pub fn sighting(
    sighting_of_ref: &str,
    where_sighted_refs: &[String],
    first_seen: Option<&str>,
    last_seen: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("type", json!("sighting")),
        ("sighting_of_ref", json!(sighting_of_ref)),
        ("where_sighted_refs", json!(where_sighted_refs)),
    ];
    if let Some(f) = first_seen {
        pairs.push(("first_seen", json!(f)));
        if let Some(l) = last_seen {
            pairs.push(("last_seen", json!(l)));
        }
    }
    from_data("sighting", &obj(pairs))
}

/// `StixCoreRelationship.generate_id`: `stop_time` only counts when `start_time` is given too.
pub fn relationship(
    relationship_type: &str,
    source_ref: &str,
    target_ref: &str,
    start_time: Option<&str>,
    stop_time: Option<&str>,
) -> String {
    let mut pairs = vec![
        ("relationship_type", json!(relationship_type)),
        ("source_ref", json!(source_ref)),
        ("target_ref", json!(target_ref)),
    ];
    if let Some(s) = start_time {
        pairs.push(("start_time", json!(s)));
        if let Some(e) = stop_time {
            pairs.push(("stop_time", json!(e)));
        }
    }
    from_data("relationship", &obj(pairs))
}

/// `Incident.generate_id(name, created)` (`created` `None` hashes as JSON null).
pub fn incident(name: &str, created: Option<&str>) -> String {
    from_data("incident", &json!({"name": norm(name), "created": created}))
}

/// `CaseIncident.generate_id(name, created)`.
pub fn case_incident(name: &str, created: Option<&str>) -> String {
    from_data(
        "case-incident",
        &json!({"name": norm(name), "created": created}),
    )
}

/// `Note.generate_id(created, content, abstract)` (pycti 7): content trimmed, not lower-cased;
/// a non-blank abstract contributes as `attribute_abstract`.
pub fn note(created: Option<&str>, content: &str, abstract_: Option<&str>) -> String {
    let mut pairs = vec![("content", json!(content.trim()))];
    if let Some(c) = created {
        pairs.push(("created", json!(c)));
    }
    if let Some(a) = abstract_.map(str::trim).filter(|a| !a.is_empty()) {
        pairs.push(("attribute_abstract", json!(a)));
    }
    from_data("note", &obj(pairs))
}

/// `AttackPattern.generate_id(name, x_mitre_id)` (pycti 7: the MITRE id is normalised too).
pub fn attack_pattern(name: &str, x_mitre_id: Option<&str>) -> String {
    match x_mitre_id.map(norm).filter(|m| !m.is_empty()) {
        Some(m) => from_data("attack-pattern", &json!({"x_mitre_id": m})),
        None => from_data("attack-pattern", &json!({"name": norm(name)})),
    }
}

/// Name-keyed SDOs: `Tool`, `Vulnerability`, `Malware`, … (`{"name": norm(name)}`).
pub fn named(stix_type: &str, name: &str) -> String {
    from_data(stix_type, &json!({"name": norm(name)}))
}

/// `external_reference_generate_id(url, source_name, external_id)`.
pub fn external_reference(
    url: Option<&str>,
    source_name: Option<&str>,
    external_id: Option<&str>,
) -> String {
    match url {
        Some(u) => from_data("external-reference", &json!({"url": u})),
        None => from_data(
            "external-reference",
            &json!({"source_name": source_name, "external_id": external_id}),
        ),
    }
}

/// `kill_chain_phase_generate_id(phase_name, kill_chain_name)` (no normalisation).
pub fn kill_chain_phase(phase_name: &str, kill_chain_name: &str) -> String {
    from_data(
        "kill-chain-phase",
        &json!({"phase_name": phase_name, "kill_chain_name": kill_chain_name}),
    )
}

/// `MarkingDefinition.generate_id`: TLP markings have fixed ids.
pub fn marking_definition(definition_type: &str, definition: &str) -> String {
    if definition_type.eq_ignore_ascii_case("tlp") {
        if let Some(t) = crate::config::Tlp::parse(definition) {
            return t.marking_id().to_string();
        }
    }
    from_data(
        "marking-definition",
        &json!({"definition_type": definition_type, "definition": definition}),
    )
}

/// `Location.generate_id(name, x_opencti_location_type)` (without coordinates).
pub fn location(name: &str, location_type: &str) -> String {
    from_data(
        "location",
        &json!({"name": norm(name), "x_opencti_location_type": location_type}),
    )
}

/// Hash names in the order STIX uses to pick the single id-contributing hash.
const HASH_PRIORITY: &[&str] = &["MD5", "SHA-1", "SHA-256", "SHA-512"];

/// The one hash of a `hashes` dictionary that contributes to an id: MD5 > SHA-1 > SHA-256 >
/// SHA-512 > the first key (in the dictionary's order; `BTreeMap` = sorted).
pub fn id_hash(hashes: &BTreeMap<String, String>) -> Option<(&str, &str)> {
    HASH_PRIORITY
        .iter()
        .find_map(|h| hashes.get_key_value(*h))
        .or_else(|| hashes.iter().next())
        .map(|(k, v)| (k.as_str(), v.as_str()))
}

/// SCO id from the object's properties (STIX 2.1 §"ID contributing properties", stix2's
/// implementation): only the properties present count; values as given (no lower-casing).
///
/// `properties` is the SCO as a JSON object (other properties are ignored). Process has no
/// contributing properties in STIX (random ids); see [`process`] for this project's recipe.
pub fn sco(stix_type: &str, properties: &Value) -> String {
    let contributing: &[&str] = match stix_type {
        "ipv4-addr"
        | "ipv6-addr"
        | "domain-name"
        | "url"
        | "email-addr"
        | "mac-addr"
        | "hostname"
        | "user-agent"
        | "text"
        | "cryptocurrency-wallet"
        | "phone-number"
        | "credential"
        | "tracking-number" => &["value"],
        "autonomous-system" => &["number"],
        "file" => &["hashes", "name", "parent_directory_ref", "extensions"],
        "artifact" => &["hashes", "payload_bin"],
        "x509-certificate" => &["hashes", "serial_number"],
        "email-message" => &["from_ref", "subject", "body"],
        "network-traffic" => &[
            "start",
            "end",
            "src_ref",
            "dst_ref",
            "src_port",
            "dst_port",
            "protocols",
            "extensions",
        ],
        "software" => &["name", "cpe", "swid", "vendor", "version"],
        "user-account" => &["account_type", "user_id", "account_login"],
        "windows-registry-key" => &["key", "values"],
        "directory" => &["path"],
        "mutex" => &["name"],
        _ => &[],
    };
    let mut m = Map::new();
    for p in contributing {
        let Some(v) = properties.get(*p) else {
            continue;
        };
        if v.is_null() {
            continue;
        }
        if *p == "hashes" {
            let hashes: BTreeMap<String, String> = v
                .as_object()
                .map(|o| {
                    o.iter()
                        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
                        .collect()
                })
                .unwrap_or_default();
            // stix2 keeps the dictionary's own order for "first key"; serde_json objects here
            // are sorted (no `preserve_order`), which only matters when none of the four
            // standard hashes is present.
            if let Some((k, val)) = id_hash(&hashes) {
                m.insert("hashes".into(), json!({ k: val }));
            }
            continue;
        }
        m.insert(p.to_string(), v.clone());
    }
    from_data(stix_type, &Value::Object(m))
}

/// Deterministic Process id (this project's recipe; STIX has no contributing properties for
/// Process and the reference uses random uuid4s, which duplicates processes on every run).
///
/// `id_data = {"x_wazuh_agent": agent_id, "pid": pid, "command_line": command_line}` (absent
/// parts as null): a process is one pid running one command line on one agent, so repeated
/// enrichments of the same alerts yield the same object.
pub fn process(agent_id: &str, pid: Option<i64>, command_line: Option<&str>) -> String {
    from_data(
        "process",
        &json!({"x_wazuh_agent": agent_id, "pid": pid, "command_line": command_line}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_and_siem_ids_match_the_reference() {
        assert_eq!(identity("Wazuh", "system"), AUTHOR_ID);
        assert_eq!(
            identity("Wazuh SIEM", "system"),
            "identity--c21dcd8f-6834-5438-a7b7-0dbfe7350bd6"
        );
    }

    #[test]
    fn file_id_uses_one_hash_by_priority() {
        let a = sco(
            "file",
            &json!({"name": "x", "hashes": {"SHA-256": "bb", "MD5": "aa"}}),
        );
        let b = sco("file", &json!({"name": "x", "hashes": {"MD5": "aa"}}));
        assert_eq!(a, b);
        let c = sco("file", &json!({"name": "x", "hashes": {"SHA-256": "bb"}}));
        assert_ne!(a, c);
    }

    #[test]
    fn process_ids_are_stable_and_distinct() {
        assert_eq!(
            process("005", Some(1), Some("a")),
            process("005", Some(1), Some("a"))
        );
        assert_ne!(
            process("005", Some(1), Some("a")),
            process("006", Some(1), Some("a"))
        );
        assert!(process("005", None, None).starts_with("process--"));
    }
}
