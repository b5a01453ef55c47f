//! Assembling what is delivered (pure): our objects plus the enriched entity and the incoming
//! objects, deduplicated by id (ours win), with the entity's organisation sharing propagated.

use std::collections::HashSet;

use serde_json::{json, Value};

const OCTI_EXT: &str = "extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba";

/// `ours` first, then `incoming` objects whose id is not already present. Objects without an id
/// are dropped (a STIX bundle needs ids).
pub fn merge(ours: &[Value], incoming: &[Value]) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(ours.len() + incoming.len());
    for o in ours.iter().chain(incoming.iter()) {
        if let Some(id) = o.get("id").and_then(Value::as_str) {
            if seen.insert(id.to_string()) {
                out.push(o.clone());
            }
        }
    }
    out
}

/// Add `granted` organisation ids to every object (`x_opencti_granted_refs`, and the OpenCTI
/// extension's `granted_refs` where the object carries that extension).
pub fn propagate_granted_refs(objects: &mut [Value], granted: &[String]) {
    if granted.is_empty() {
        return;
    }
    let add = |arr: &mut Value| {
        if !arr.is_array() {
            *arr = json!([]);
        }
        if let Some(a) = arr.as_array_mut() {
            for g in granted {
                if !a.iter().any(|x| x.as_str() == Some(g)) {
                    a.push(json!(g));
                }
            }
        }
    };
    for o in objects.iter_mut() {
        if !o.is_object() || o.get("type").and_then(Value::as_str) == Some("marking-definition") {
            continue;
        }
        if let Some(ext) = o.pointer_mut(&format!("/extensions/{OCTI_EXT}")) {
            if let Some(m) = ext.as_object_mut() {
                add(m.entry("granted_refs").or_insert(json!([])));
            }
        }
        if let Some(m) = o.as_object_mut() {
            add(m.entry("x_opencti_granted_refs").or_insert(json!([])));
        }
    }
}

/// A STIX 2.1 bundle of `objects`.
pub fn bundle(objects: Vec<Value>) -> Value {
    json!({ "type": "bundle", "id": format!("bundle--{}", uuid::Uuid::new_v4()), "spec_version": "2.1", "objects": objects })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_dedups_ours_first() {
        let ours = vec![json!({"id":"a","v":1}), json!({"id":"b"})];
        let inc = vec![
            json!({"id":"a","v":0}),
            json!({"id":"c"}),
            json!({"noid":true}),
        ];
        let m = merge(&ours, &inc);
        assert_eq!(m.len(), 3);
        assert_eq!(m[0]["v"], 1);
        assert_eq!(m[2]["id"], "c");
    }

    #[test]
    fn granted_refs_reach_every_object() {
        let mut objs = vec![
            json!({"id":"a","type":"sighting"}),
            json!({"id":"b","type":"note","x_opencti_granted_refs":["identity--x"]}),
            json!({"id":"m","type":"marking-definition"}),
        ];
        propagate_granted_refs(&mut objs, &["identity--x".into(), "identity--y".into()]);
        assert_eq!(
            objs[0]["x_opencti_granted_refs"],
            json!(["identity--x", "identity--y"])
        );
        assert_eq!(
            objs[1]["x_opencti_granted_refs"],
            json!(["identity--x", "identity--y"])
        );
        assert!(objs[2].get("x_opencti_granted_refs").is_none());
    }
}
