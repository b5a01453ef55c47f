//! Deterministic STIX ids, equal to the ones pycti 7 / stix2 compute.
//!
//! Every id is `<type>--uuid5(NAMESPACE, JCS(id_data))` where `id_data` is a small JSON object of
//! the id-contributing properties and JCS is RFC 8785 canonical JSON. Using the same recipe as
//! pycti means OpenCTI de-duplicates what we send against what other connectors (and earlier runs
//! of this one) created. The one rule: an object's id is its type's recipe applied to the
//! properties the object itself carries, with pycti's normalisation (`docs/knowledge.md`, "Ids").
//! The vector files under `tests/fixtures/stix/` pin the recipes down.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The STIX 2.1 / OpenCTI namespace for deterministic ids.
pub const NAMESPACE: Uuid = Uuid::from_u128(0x00abedb4_aa42_466c_9c01_fed23315a9b7);

/// The id earlier versions gave the connector's author whatever its name. OpenCTI keeps it as an
/// alias of the author it imported, so entities "created by" it still count as the connector's
/// own (`docs/knowledge.md`, "Ids").
pub const LEGACY_AUTHOR_ID: &str = "identity--6384d70e-3e7e-5ea0-90a1-a9f589a60d30";

/// The placeholder indicator put in `sighting_of_ref` when the sighted entity is an observable:
/// STIX requires an SDO there, and OpenCTI reads the real target from `x_opencti_sighting_of_ref`.
pub const DUMMY_INDICATOR_ID: &str = "indicator--167565fe-69da-5e2f-a1c1-0542736f9f9a";

/// The identity class of the connector's author.
pub const AUTHOR_CLASS: &str = "organization";

/// The author identity's id: like every identity, from its name and class.
pub fn author(name: &str) -> String {
    identity(name, AUTHOR_CLASS)
}

/// True when `created_by_ref` is the connector's author named `name`, under its id or the id
/// earlier versions used.
pub fn is_author(created_by_ref: Option<&str>, name: &str) -> bool {
    created_by_ref.is_some_and(|r| r == LEGACY_AUTHOR_ID || r == author(name))
}

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

/// Python's `str.isspace()`: Unicode white space plus the ASCII separators U+001C–U+001F, which
/// Rust's `char::is_whitespace` leaves out.
fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// pycti's `norm`: `x.lower().strip()`.
pub fn norm(s: &str) -> String {
    py_strip(&s.to_lowercase()).to_string()
}

/// pycti hashes `None` by leaving a property out: JSON `null` and absent mean the same.
fn given(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
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

/// `StixSightingRelationship.generate_id` over JSON inputs as pycti takes them: the refs are
/// hashed as given (a list, or a single string), `last_seen` only counts when `first_seen` is
/// given too.
pub fn sighting_json(
    sighting_of_ref: &Value,
    where_sighted_refs: &Value,
    first_seen: Option<&Value>,
    last_seen: Option<&Value>,
) -> String {
    let mut pairs = vec![
        ("type", json!("sighting")),
        ("sighting_of_ref", sighting_of_ref.clone()),
        ("where_sighted_refs", where_sighted_refs.clone()),
    ];
    if let Some(f) = given(first_seen) {
        pairs.push(("first_seen", f.clone()));
        if let Some(l) = given(last_seen) {
            pairs.push(("last_seen", l.clone()));
        }
    }
    from_data("sighting", &obj(pairs))
}

/// [`sighting_json`] for the connector's own sightings.
pub fn sighting(
    sighting_of_ref: &str,
    where_sighted_refs: &[String],
    first_seen: Option<&str>,
    last_seen: Option<&str>,
) -> String {
    sighting_json(
        &json!(sighting_of_ref),
        &json!(where_sighted_refs),
        first_seen.map(Value::from).as_ref(),
        last_seen.map(Value::from).as_ref(),
    )
}

/// `StixCoreRelationship.generate_id` over JSON inputs: `stop_time` only counts when
/// `start_time` is given too.
pub fn relationship_json(
    relationship_type: &Value,
    source_ref: &Value,
    target_ref: &Value,
    start_time: Option<&Value>,
    stop_time: Option<&Value>,
) -> String {
    let mut pairs = vec![
        ("relationship_type", relationship_type.clone()),
        ("source_ref", source_ref.clone()),
        ("target_ref", target_ref.clone()),
    ];
    if let Some(s) = given(start_time) {
        pairs.push(("start_time", s.clone()));
        if let Some(e) = given(stop_time) {
            pairs.push(("stop_time", e.clone()));
        }
    }
    from_data("relationship", &obj(pairs))
}

/// [`relationship_json`] for the connector's own relationships.
pub fn relationship(
    relationship_type: &str,
    source_ref: &str,
    target_ref: &str,
    start_time: Option<&str>,
    stop_time: Option<&str>,
) -> String {
    relationship_json(
        &json!(relationship_type),
        &json!(source_ref),
        &json!(target_ref),
        start_time.map(Value::from).as_ref(),
        stop_time.map(Value::from).as_ref(),
    )
}

/// `Incident.generate_id` / `CaseIncident.generate_id` over a JSON `created` (hashed as given,
/// `null` included).
pub fn named_at(stix_type: &str, name: &str, created: &Value) -> String {
    from_data(stix_type, &json!({"name": norm(name), "created": created}))
}

/// `Incident.generate_id(name, created)` (`created` `None` hashes as JSON null).
pub fn incident(name: &str, created: Option<&str>) -> String {
    named_at("incident", name, &json!(created))
}

/// `CaseIncident.generate_id(name, created)`.
pub fn case_incident(name: &str, created: Option<&str>) -> String {
    named_at("case-incident", name, &json!(created))
}

/// `Note.generate_id(created, content, abstract)` over a JSON `created`: content trimmed, not
/// lower-cased; a non-blank abstract contributes as `attribute_abstract`.
pub fn note_json(created: Option<&Value>, content: &str, abstract_: Option<&str>) -> String {
    let mut pairs = vec![("content", json!(py_strip(content)))];
    if let Some(c) = given(created) {
        pairs.push(("created", c.clone()));
    }
    if let Some(a) = abstract_.map(py_strip).filter(|a| !a.is_empty()) {
        pairs.push(("attribute_abstract", json!(a)));
    }
    from_data("note", &obj(pairs))
}

/// [`note_json`] for the connector's own notes.
pub fn note(created: Option<&str>, content: &str, abstract_: Option<&str>) -> String {
    note_json(created.map(Value::from).as_ref(), content, abstract_)
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

/// `external_reference_generate_id(url, source_name, external_id)` over JSON inputs; `None`
/// (as pycti) without a url or both of the others.
pub fn external_reference_json(
    url: Option<&Value>,
    source_name: Option<&Value>,
    external_id: Option<&Value>,
) -> Option<String> {
    let data = match (given(url), given(source_name), given(external_id)) {
        (Some(u), _, _) => json!({ "url": u }),
        (None, Some(s), Some(e)) => json!({"source_name": s, "external_id": e}),
        _ => return None,
    };
    Some(from_data("external-reference", &data))
}

/// [`external_reference_json`] over strings.
pub fn external_reference(
    url: Option<&str>,
    source_name: Option<&str>,
    external_id: Option<&str>,
) -> Option<String> {
    external_reference_json(
        url.map(Value::from).as_ref(),
        source_name.map(Value::from).as_ref(),
        external_id.map(Value::from).as_ref(),
    )
}

/// `kill_chain_phase_generate_id(phase_name, kill_chain_name)` (no normalisation).
pub fn kill_chain_phase(phase_name: &Value, kill_chain_name: &Value) -> String {
    from_data(
        "kill-chain-phase",
        &json!({"phase_name": phase_name, "kill_chain_name": kill_chain_name}),
    )
}

/// `MarkingDefinition.generate_id`: the five TLP markings have fixed ids (exact spellings only,
/// as pycti compares them).
pub fn marking_definition(definition_type: &Value, definition: &Value) -> String {
    if definition_type == "TLP" {
        if let Some(t) = definition
            .as_str()
            .filter(|d| crate::config::TLP_NAMES.contains(d))
            .and_then(crate::config::Tlp::parse)
        {
            return t.marking_id().to_string();
        }
    }
    from_data(
        "marking-definition",
        &json!({"definition_type": definition_type, "definition": definition}),
    )
}

/// `Location.generate_id(name, x_opencti_location_type, latitude, longitude)`: a `Position`
/// with coordinates is keyed by them, anything else by name and type.
pub fn location(
    name: &str,
    location_type: &Value,
    latitude: Option<&Value>,
    longitude: Option<&Value>,
) -> String {
    let data = if location_type == "Position" {
        match (given(latitude), given(longitude)) {
            (Some(a), Some(o)) => json!({"latitude": a, "longitude": o}),
            (Some(a), None) => json!({ "latitude": a }),
            (None, Some(o)) => json!({ "longitude": o }),
            (None, None) => json!({"name": norm(name)}),
        }
    } else {
        json!({"name": norm(name), "x_opencti_location_type": location_type})
    };
    from_data("location", &data)
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

/// SCO id from the object's properties (STIX 2.1 "ID contributing properties", stix2's
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

/// Process id: a UUIDv4, as STIX requires for a type without id-contributing properties, whose
/// 122 free bits come from hashing `{"x_wazuh_agent": agent_id, "pid": pid, "command_line":
/// command_line}` (absent parts as null) instead of from a random source.
///
/// A process is one pid running one command line on one agent; deriving the bits keeps
/// re-enrichment idempotent (OpenCTI finds the process it stored under this id instead of
/// creating a copy each run), while validators still see the version-4 id STIX asks for.
pub fn process(agent_id: &str, pid: Option<i64>, command_line: Option<&str>) -> String {
    let data = json!({"x_wazuh_agent": agent_id, "pid": pid, "command_line": command_line});
    let canonical = serde_json_canonicalizer::to_string(&data).unwrap_or_else(|_| data.to_string());
    let bytes = *Uuid::new_v5(&NAMESPACE, canonical.as_bytes()).as_bytes();
    let v4 = uuid::Builder::from_random_bytes(bytes).into_uuid();
    format!("process--{v4}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn author_and_siem_ids_match_the_reference() {
        assert_eq!(identity("Wazuh", "system"), LEGACY_AUTHOR_ID);
        assert_eq!(
            author("Wazuh"),
            "identity--a8acf1ac-0322-5d21-931e-d03eaf06e6fb"
        );
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
        let id = process("005", None, None);
        let uuid = Uuid::parse_str(id.strip_prefix("process--").unwrap()).unwrap();
        assert_eq!(uuid.get_version_num(), 4);
        assert_eq!(uuid.get_variant(), uuid::Variant::RFC4122);
    }
}
