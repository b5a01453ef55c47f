//! The typed STIX model (`stix::model`) against real bundles: every object the connector emits
//! parses back into its typed form, and serialise → parse → serialise is stable, so the types
//! describe exactly what goes on the wire (no property dropped or invented on the way).

use crate::testkit::knowledge::*;
use connector_wazuh::alert::Alert;
use connector_wazuh::config::FilenameBehaviour;
use connector_wazuh::knowledge;
use connector_wazuh::stix::StixObject;
use serde_json::{json, Value};
use std::collections::BTreeSet;

#[test]
fn every_emitted_object_round_trips_through_the_typed_model() {
    let mut kinds = BTreeSet::new();
    let mut count = 0;
    for (name, objects) in emitted_bundles() {
        for v in objects {
            let typed: StixObject =
                serde_json::from_value(v.clone()).unwrap_or_else(|e| panic!("{name}: {e}: {v}"));
            let again = typed.to_value();
            assert_eq!(again, v, "{name}: serialise(parse(x)) != x");
            let twice: StixObject = serde_json::from_value(again.clone()).unwrap();
            assert_eq!(twice, typed, "{name}");
            assert_eq!(twice.to_value(), again, "{name}");
            assert_eq!(typed.stix_type(), v["type"], "{name}");
            assert_eq!(typed.id(), v["id"], "{name}");
            kinds.insert(typed.stix_type());
            count += 1;
        }
    }
    assert!(count > 1000, "only {count} objects");
    // Every kind of the model occurs in these bundles.
    let all: BTreeSet<&str> = [
        "identity",
        "sighting",
        "incident",
        "case-incident",
        "note",
        "relationship",
        "attack-pattern",
        "tool",
        "vulnerability",
        "software",
        "ipv4-addr",
        "ipv6-addr",
        "domain-name",
        "hostname",
        "url",
        "email-addr",
        "mac-addr",
        "user-agent",
        "user-account",
        "file",
        "directory",
        "process",
        "network-traffic",
        "windows-registry-key",
    ]
    .into_iter()
    .collect();
    assert_eq!(kinds, all);
}

#[test]
fn unknown_types_and_missing_required_properties_are_rejected() {
    assert!(serde_json::from_value::<StixObject>(json!({"type": "malware", "id": "x"})).is_err());
    // An incident without its name.
    assert!(serde_json::from_value::<StixObject>(json!({
        "type": "incident", "spec_version": "2.1", "id": "incident--x",
        "created": "2024-06-10T12:00:00.000Z", "modified": "2024-06-10T12:00:00.000Z",
        "confidence": 100
    }))
    .is_err());
}

fn files_of(remove_path: bool) -> Vec<Value> {
    let a = Alert::from_source(
        "fim",
        "wazuh-alerts-4.x-2024.06.01",
        json!({"@timestamp": "2024-06-01T10:00:00.000Z", "id": "1.fim",
               "agent": {"id": "001", "name": "web-01", "ip": "10.0.0.1"},
               "rule": {"id": "550", "level": 7, "description": "Integrity checksum changed.", "groups": ["syscheck"]},
               "data": {"srcip": "141.98.81.37"},
               "syscheck": {"path": "/etc/cron.d/evil", "md5_after": "9e107d9d372bb6826bd81d3542a419d6"}}),
    )
    .unwrap();
    let mut o = base_options();
    o.filename_behaviour = if remove_path {
        [FilenameBehaviour::RemovePath].into_iter().collect()
    } else {
        BTreeSet::new()
    };
    let c = Case::new(
        ip_entity(true),
        vec![indicator()],
        result_of(vec![a], None),
        o,
    );
    of_type(&c.build().unwrap().objects, "file")
        .into_iter()
        .cloned()
        .collect()
}

#[test]
fn files_named_by_basename_keep_the_full_path_as_an_additional_name() {
    let files = files_of(true);
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["name"], "evil");
    assert_eq!(
        files[0]["x_opencti_additional_names"],
        json!(["/etc/cron.d/evil"])
    );
    assert_eq!(
        files[0]["hashes"]["MD5"],
        "9e107d9d372bb6826bd81d3542a419d6"
    );
    // The additional name does not contribute to the id (STIX: name and hashes do).
    let mut without = files[0].clone();
    without
        .as_object_mut()
        .unwrap()
        .remove("x_opencti_additional_names");
    assert_eq!(
        connector_wazuh::stix::id::sco("file", &without),
        files[0]["id"]
    );

    // Named by the full path: nothing else to add.
    let files = files_of(false);
    assert_eq!(files[0]["name"], "/etc/cron.d/evil");
    assert!(files[0].get("x_opencti_additional_names").is_none());
}

#[test]
fn the_bundle_boundary_is_plain_json_in_the_typed_order() {
    let c = scenario_case("ipv4_with_indicator_per_sighting_default");
    let k = knowledge::build(&c.input()).unwrap();
    let typed: Vec<StixObject> = k
        .objects
        .iter()
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .collect();
    assert_eq!(
        connector_wazuh::stix::model::to_values(&typed),
        k.objects,
        "to_values is the inverse of parsing"
    );
}
