//! Structural STIX 2.1 validation of a bundle's objects: required properties per type, id
//! format, timestamp format, reference targets of the right type and no dangling references
//! (except to objects OpenCTI already has, given by the caller).
//!
//! This is what the test suite runs over every bundle it builds; it is also cheap enough for the
//! pipeline to run before sending (an invalid bundle would be rejected object by object by the
//! OpenCTI workers, far from the cause).

use serde_json::Value;
use std::collections::{BTreeSet, HashMap};

fn is_uuid(s: &str) -> bool {
    uuid::Uuid::parse_str(s).is_ok() && s.len() == 36
}

/// `type--uuid` with the given type.
fn valid_id(id: &str, stix_type: &str) -> bool {
    match id.split_once("--") {
        Some((t, u)) => t == stix_type && is_uuid(u),
        None => false,
    }
}

fn ref_type(id: &str) -> Option<&str> {
    let (t, u) = id.split_once("--")?;
    is_uuid(u).then_some(t)
}

/// STIX timestamp: `YYYY-MM-DDTHH:MM:SS[.s+]Z`.
pub fn valid_timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let shape = digits(0..4)
        && b[4] == b'-'
        && digits(5..7)
        && b[7] == b'-'
        && digits(8..10)
        && b[10] == b'T'
        && digits(11..13)
        && b[13] == b':'
        && digits(14..16)
        && b[16] == b':'
        && digits(17..19);
    let rest = &b[19..b.len() - 1];
    let frac_ok = rest.is_empty()
        || (rest.len() >= 2 && rest[0] == b'.' && rest[1..].iter().all(u8::is_ascii_digit));
    shape && frac_ok && super::parse_time(s).is_some()
}

const TIMESTAMP_PROPS: &[&str] = &[
    "created",
    "modified",
    "first_seen",
    "last_seen",
    "start_time",
    "stop_time",
    "published",
    "ctime",
    "mtime",
    "atime",
    "created_time",
];

/// Required properties per type (beyond `type`, `id`, `spec_version`).
fn required(stix_type: &str) -> &'static [&'static str] {
    match stix_type {
        "identity" => &["name", "created", "modified"],
        "sighting" => &["sighting_of_ref", "created", "modified"],
        "relationship" => &[
            "relationship_type",
            "source_ref",
            "target_ref",
            "created",
            "modified",
        ],
        "incident" | "case-incident" | "attack-pattern" | "tool" | "vulnerability" => {
            &["name", "created", "modified"]
        }
        "note" => &["content", "object_refs", "created", "modified"],
        "ipv4-addr" | "ipv6-addr" | "domain-name" | "hostname" | "url" | "email-addr"
        | "mac-addr" | "user-agent" => &["value"],
        "directory" => &["path"],
        "windows-registry-key" => &["key"],
        "software" => &["name"],
        "network-traffic" => &["protocols"],
        _ => &[],
    }
}

/// Allowed target types of a reference property (`None` = any type).
fn allowed_targets(prop: &str) -> Option<&'static [&'static str]> {
    Some(match prop {
        "created_by_ref" => &["identity"],
        "object_marking_refs" => &["marking-definition"],
        "where_sighted_refs" => &["identity", "location"],
        "parent_directory_ref" => &["directory"],
        "src_ref" | "dst_ref" => &["ipv4-addr", "ipv6-addr", "mac-addr", "domain-name"],
        "image_ref" => &["file"],
        "creator_user_ref" => &["user-account"],
        "parent_ref" | "child_refs" => &["process"],
        "sighting_of_ref" => &[
            "indicator",
            "malware",
            "attack-pattern",
            "tool",
            "vulnerability",
            "campaign",
            "infrastructure",
            "intrusion-set",
            "threat-actor",
        ],
        _ => return None,
    })
}

fn refs_of(o: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if let Value::Object(m) = o {
        for (k, v) in m {
            let is_ref = k.ends_with("_ref") || k.ends_with("_refs");
            if !is_ref {
                continue;
            }
            match v {
                Value::String(s) => out.push((k.clone(), s.clone())),
                Value::Array(a) => {
                    for x in a {
                        out.push((k.clone(), x.as_str().unwrap_or_default().to_string()))
                    }
                }
                _ => out.push((k.clone(), String::new())),
            }
        }
    }
    out
}

/// Validates `objects`; `known` are ids that may be referenced without being in the bundle (the
/// enriched entity, its indicators, marking definitions, the placeholder sighting target).
/// Returns one message per problem (empty = valid).
pub fn validate_bundle(objects: &[Value], known: &BTreeSet<String>) -> Vec<String> {
    let mut errors = Vec::new();
    let mut ids: HashMap<&str, &str> = HashMap::new();
    for o in objects {
        if let (Some(id), Some(t)) = (
            o.get("id").and_then(Value::as_str),
            o.get("type").and_then(Value::as_str),
        ) {
            ids.insert(id, t);
        }
    }
    for (i, o) in objects.iter().enumerate() {
        let Some(t) = o.get("type").and_then(Value::as_str) else {
            errors.push(format!("object {i}: no type"));
            continue;
        };
        let id = o.get("id").and_then(Value::as_str).unwrap_or_default();
        let at = format!("object {i} ({t} {id})");
        if !valid_id(id, t) {
            errors.push(format!("{at}: id is not `{t}--<uuid>`"));
        }
        if o.get("spec_version").and_then(Value::as_str) != Some("2.1") {
            errors.push(format!("{at}: spec_version is not 2.1"));
        }
        for p in required(t) {
            match o.get(*p) {
                None | Some(Value::Null) => errors.push(format!("{at}: missing {p}")),
                Some(Value::String(s)) if s.is_empty() => errors.push(format!("{at}: empty {p}")),
                Some(Value::Array(a)) if a.is_empty() => errors.push(format!("{at}: empty {p}")),
                _ => {}
            }
        }
        for p in TIMESTAMP_PROPS {
            if let Some(v) = o.get(*p) {
                if !v.as_str().map(valid_timestamp).unwrap_or(false) {
                    errors.push(format!("{at}: {p} is not a STIX timestamp: {v}"));
                }
            }
        }
        if let (Some(f), Some(l)) = (
            o.get("first_seen").and_then(Value::as_str),
            o.get("last_seen").and_then(Value::as_str),
        ) {
            if let (Some(f), Some(l)) = (super::parse_time(f), super::parse_time(l)) {
                if l < f {
                    errors.push(format!("{at}: last_seen before first_seen"));
                }
            }
        }
        if let (Some(f), Some(l)) = (
            o.get("start_time").and_then(Value::as_str),
            o.get("stop_time").and_then(Value::as_str),
        ) {
            if let (Some(f), Some(l)) = (super::parse_time(f), super::parse_time(l)) {
                if l <= f {
                    errors.push(format!("{at}: stop_time not after start_time"));
                }
            }
        }
        match t {
            "sighting" => {
                if let Some(c) = o.get("count") {
                    if c.as_u64().is_none() {
                        errors.push(format!("{at}: count is not a non-negative integer"));
                    }
                }
            }
            "file" if o.get("name").is_none() && o.get("hashes").is_none() => {
                errors.push(format!("{at}: file has neither name nor hashes"))
            }
            "user-account" if o.get("account_login").is_none() && o.get("user_id").is_none() => {
                errors.push(format!("{at}: user-account has neither login nor user_id"))
            }
            "network-traffic" if o.get("src_ref").is_none() && o.get("dst_ref").is_none() => errors
                .push(format!(
                    "{at}: network-traffic has neither src_ref nor dst_ref"
                )),
            _ => {}
        }
        for (prop, target) in refs_of(o) {
            let Some(target_type) = ref_type(&target) else {
                errors.push(format!("{at}: {prop} is not an id: {target:?}"));
                continue;
            };
            if let Some(allowed) = allowed_targets(&prop) {
                if !allowed.contains(&target_type) {
                    errors.push(format!("{at}: {prop} points at a {target_type}"));
                }
            }
            if !ids.contains_key(target.as_str()) && !known.contains(&target) {
                errors.push(format!("{at}: {prop} dangles: {target}"));
            }
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps() {
        assert!(valid_timestamp("2024-06-10T12:00:00.000Z"));
        assert!(valid_timestamp("2024-06-10T12:00:00Z"));
        assert!(!valid_timestamp("2024-06-10T12:00:00+00:00"));
        assert!(!valid_timestamp("2024-06-10T12:00:00.000+0000"));
        assert!(!valid_timestamp("2024-13-10T12:00:00Z"));
    }

    #[test]
    fn finds_dangling_and_mistyped_refs() {
        let objs = vec![json!({"type": "relationship", "spec_version": "2.1",
            "id": "relationship--6ed2814f-3489-5eec-8a3b-963f35a30342",
            "created": "2024-06-10T12:00:00.000Z", "modified": "2024-06-10T12:00:00.000Z",
            "relationship_type": "uses", "source_ref": "incident--6ed2814f-3489-5eec-8a3b-963f35a30342",
            "target_ref": "tool--6ed2814f-3489-5eec-8a3b-963f35a30342",
            "created_by_ref": "tool--6ed2814f-3489-5eec-8a3b-963f35a30342"})];
        let e = validate_bundle(&objs, &BTreeSet::new());
        assert!(e.iter().any(|e| e.contains("source_ref dangles")), "{e:?}");
        assert!(
            e.iter()
                .any(|e| e.contains("created_by_ref points at a tool")),
            "{e:?}"
        );
    }

    #[test]
    fn bad_ids_and_missing_props() {
        let objs = vec![
            json!({"type": "incident", "spec_version": "2.1", "id": "incident--x",
            "created": "2024-06-10T12:00:00.000Z", "modified": "2024-06-10T12:00:00.000Z"}),
        ];
        let e = validate_bundle(&objs, &BTreeSet::new());
        assert!(e.iter().any(|e| e.contains("id is not")));
        assert!(e.iter().any(|e| e.contains("missing name")));
    }
}
