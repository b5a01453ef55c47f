//! Every kind of object the connector emits passes the OASIS STIX 2.1 validator
//! (`stix2-validator`): the bundles of every reference scenario and of the sample alerts in each
//! incident mode and file-name behaviour, validated in one run. OpenCTI's own dialect is allowed
//! (`severity` on incidents and cases); the temporary list of findings being fixed
//! (`testkit::oasis::KNOWN_FINDINGS_BEING_FIXED`) is printed, not failed.

use std::collections::{BTreeSet, HashSet};

use serde_json::{json, Value};

use crate::testkit::knowledge::emitted_bundles;
use crate::testkit::oasis;

#[test]
fn every_emitted_object_kind_passes_the_oasis_validator() {
    let mut seen = HashSet::new();
    let objects: Vec<Value> = emitted_bundles()
        .into_iter()
        .flat_map(|(_, objects)| objects)
        .filter(|o| seen.insert(o.to_string()))
        .collect();
    let kinds: BTreeSet<&str> = objects.iter().filter_map(|o| o["type"].as_str()).collect();
    assert!(kinds.len() > 20, "only {kinds:?}");
    oasis::assert_valid(&objects);
}

#[test]
fn the_validator_run_refuses_what_it_must() {
    // The check itself can fail: a broken object is a finding, OpenCTI's dialect is not.
    let broken = json!({"type": "ipv4-addr", "spec_version": "2.1", "id": "ipv4-addr--not-a-uuid",
                        "value": "192.0.2.1"});
    let findings = oasis::validate(std::slice::from_ref(&broken));
    assert!(
        findings.iter().any(|f| f.message.contains("id format")),
        "{findings:?}"
    );
    let incident = json!({"type": "incident", "spec_version": "2.1",
        "id": "incident--2f3c8a54-1b0e-4a8e-9c57-0e1d2f3a4b5c", "name": "x", "severity": "high",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"});
    let result = std::panic::catch_unwind(|| oasis::assert_valid(&[incident]));
    assert!(
        result.is_ok(),
        "OpenCTI's `severity` on an incident was refused"
    );
    let result = std::panic::catch_unwind(|| oasis::assert_valid(&[broken]));
    assert!(result.is_err(), "an invalid id passed");
}
