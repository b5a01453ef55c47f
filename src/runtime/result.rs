//! Assembling what is delivered (pure): our objects plus the enriched entity and the incoming
//! objects, deduplicated by id (ours win), with the entity's organisation sharing propagated.

use std::collections::{HashMap, HashSet};

use serde_json::{json, Value};

use crate::stix::OPENCTI_EXTENSION as OCTI_EXT;

/// `ours` first, then `incoming` objects whose id is not already present. Objects without an id
/// are dropped (a STIX bundle needs ids). `ours` is taken, not copied: a result of hundreds of
/// objects is held once per request, whatever happens to it next; only the incoming objects kept
/// are cloned.
pub fn merge<'a>(ours: Vec<Value>, incoming: impl IntoIterator<Item = &'a Value>) -> Vec<Value> {
    let mut seen = HashSet::new();
    let mut new_id = |o: &Value| {
        o.get("id")
            .and_then(Value::as_str)
            .is_some_and(|id| seen.insert(id.to_string()))
    };
    let mut out: Vec<Value> = ours.into_iter().filter(|o| new_id(o)).collect();
    out.extend(incoming.into_iter().filter(|o| new_id(o)).cloned());
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
        let m = merge(ours, &inc);
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

/// Ids an object references (`*_ref` and `*_refs` properties, top level).
fn refs(obj: &Value) -> Vec<&str> {
    let mut out = Vec::new();
    if let Some(m) = obj.as_object() {
        for (k, v) in m {
            if k.ends_with("_ref") {
                if let Some(s) = v.as_str() {
                    out.push(s);
                }
            } else if k.ends_with("_refs") {
                out.extend(v.as_array().into_iter().flatten().filter_map(Value::as_str));
            }
        }
    }
    out
}

/// pycti's dependency count: 1 + the counts of the referenced objects present in the bundle
/// (cycles and self references ignored).
fn nb_deps<'a>(
    id: &'a str,
    index: &HashMap<&'a str, &'a Value>,
    path: &mut Vec<&'a str>,
    memo: &mut HashMap<&'a str, u64>,
) -> u64 {
    if let Some(n) = memo.get(id) {
        return *n;
    }
    let Some(obj) = index.get(id) else { return 0 };
    path.push(id);
    let mut n = 1u64;
    for r in refs(obj) {
        if r != id && !path.contains(&r) && index.contains_key(r) {
            n = n.saturating_add(nb_deps(r, index, path, memo));
        }
    }
    path.pop();
    memo.insert(id, n);
    n
}

/// The order in which a bundle is split into one bundle per object: `(x_opencti_seq, index into
/// objects)`, referenced objects first (pycti's splitter ordering; `x_opencti_seq` = the
/// dependency count). The worker imports each one-object bundle directly with one expectation,
/// so `addExpectations(len)` before publishing makes the work complete exactly when everything
/// is imported. Only the order is computed here: each part is serialised when it is sent
/// ([`part`]), so the parts of a large result never exist all at once.
pub fn split_order(objects: &[Value]) -> Vec<(u64, usize)> {
    let index: HashMap<&str, &Value> = objects
        .iter()
        .filter_map(|o| o.get("id").and_then(Value::as_str).map(|id| (id, o)))
        .collect();
    let mut memo = HashMap::new();
    let mut seq: Vec<(u64, usize)> = objects
        .iter()
        .enumerate()
        .filter_map(|(i, o)| {
            let id = o.get("id").and_then(Value::as_str)?;
            Some((nb_deps(id, &index, &mut Vec::new(), &mut memo), i))
        })
        .collect();
    seq.sort_by_key(|(n, _)| *n);
    seq
}

/// One part of a split bundle, serialised: the bundle `bundle_id` holding `object` alone.
pub fn part(bundle_id: &str, seq: u64, object: &Value) -> String {
    #[derive(serde::Serialize)]
    struct Part<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        id: &'a str,
        spec_version: &'static str,
        x_opencti_seq: u64,
        objects: [&'a Value; 1],
    }
    let p = Part {
        kind: "bundle",
        id: bundle_id,
        spec_version: "2.1",
        x_opencti_seq: seq,
        objects: [object],
    };
    // Serialising borrowed JSON values into a string cannot fail (no non-string map keys).
    serde_json::to_string(&p).unwrap_or_default()
}

#[cfg(test)]
mod split_tests {
    use super::*;

    /// Every part at once, parsed back.
    fn split(bundle_id: &str, objects: &[Value]) -> Vec<Value> {
        split_order(objects)
            .into_iter()
            .map(|(seq, i)| serde_json::from_str(&part(bundle_id, seq, &objects[i])).unwrap())
            .collect()
    }

    #[test]
    fn referenced_objects_come_first() {
        // pycti example: identity, ipv4 (created_by_ref identity), AS, relationship ipv4 -> AS.
        let objs = vec![
            json!({"id":"relationship--1","type":"relationship","source_ref":"ipv4-addr--1","target_ref":"autonomous-system--1","created_by_ref":"identity--1"}),
            json!({"id":"ipv4-addr--1","type":"ipv4-addr","created_by_ref":"identity--1"}),
            json!({"id":"identity--1","type":"identity"}),
            json!({"id":"autonomous-system--1","type":"autonomous-system"}),
        ];
        let parts = split("bundle--x", &objs);
        let order: Vec<(&str, u64)> = parts
            .iter()
            .map(|b| {
                (
                    b["objects"][0]["id"].as_str().unwrap(),
                    b["x_opencti_seq"].as_u64().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            order,
            vec![
                ("identity--1", 1),
                ("autonomous-system--1", 1),
                ("ipv4-addr--1", 2),
                ("relationship--1", 5)
            ]
        );
        assert!(parts
            .iter()
            .all(|b| b["id"] == "bundle--x" && b["objects"].as_array().unwrap().len() == 1));
    }

    #[test]
    fn cycles_terminate() {
        let objs = vec![
            json!({"id":"a--1","x_ref":"b--1"}),
            json!({"id":"b--1","y_refs":["a--1","b--1"]}),
        ];
        assert_eq!(split("bundle--y", &objs).len(), 2);
    }
}
