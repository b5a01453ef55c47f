//! The structural validator accepts real bundles (the reference connector's outputs, which
//! OpenCTI imports) and reports the problems it is meant to find.

use crate::testkit::knowledge::*;
use connector_wazuh::stix::validate::validate_bundle;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn known() -> BTreeSet<String> {
    let f = &reference()["fixtures"];
    [
        f["ip_entity"]["standard_id"].as_str().unwrap(),
        f["vulnerability_entity"]["standard_id"].as_str().unwrap(),
        f["indicator"]["standard_id"].as_str().unwrap(),
        connector_wazuh::stix::id::DUMMY_INDICATOR_ID,
        "marking-definition--826578e1-40ad-459f-bc73-ede076f81f37",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn reference_bundles_are_structurally_valid() {
    for s in reference()["scenarios"].as_array().unwrap() {
        let Some(objects) = s.get("objects").and_then(Value::as_array) else {
            continue;
        };
        let errors = validate_bundle(objects, &known());
        assert!(errors.is_empty(), "{}: {errors:#?}", s["name"]);
    }
}

#[test]
fn broken_bundles_are_reported() {
    let mut objects: Vec<Value> = scenario("ipv4_with_indicator_per_sighting_default")["objects"]
        .as_array()
        .unwrap()
        .clone();
    // A dangling reference (the agent IP dropped), a bad timestamp, a bad id, a mistyped ref.
    let ip_id = objects.iter().find(|o| o["type"] == "ipv4-addr").unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    objects.retain(|o| o["id"] != ip_id.as_str());
    objects[1]["created"] = json!("2024-06-10 12:00:00");
    objects[2]["id"] = json!("identity--not-a-uuid");
    let sighting = objects
        .iter()
        .position(|o| o["type"] == "sighting")
        .unwrap();
    objects[sighting]["where_sighted_refs"] =
        json!([connector_wazuh::stix::id::author("Wazuh").replace("identity", "tool")]);
    let errors = validate_bundle(&objects, &known());
    let has = |s: &str| errors.iter().any(|e| e.contains(s));
    assert!(has(&format!("target_ref dangles: {ip_id}")), "{errors:#?}");
    assert!(has("created is not a STIX timestamp"), "{errors:#?}");
    assert!(has("id is not `identity--<uuid>`"), "{errors:#?}");
    assert!(has("where_sighted_refs points at a tool"), "{errors:#?}");
}
