//! The pycti id vectors (the shared set and this project's edge cases) all pass, and ids behave
//! like pycti's under unicode, surrounding whitespace and case changes.

use connector_wazuh::stix::{id, vectors};
use proptest::prelude::*;

#[test]
fn all_shared_vectors_pass() {
    let text = std::fs::read_to_string("tests/fixtures/stix/pycti-id-vectors.json").unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let report = vectors::check(&file).unwrap();
    let lines: Vec<String> = report.mismatches.iter().map(|m| m.to_string()).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
    assert_eq!(report.passed, 56);
}

#[test]
fn all_edge_case_vectors_pass() {
    let report = vectors::check_path("tests/fixtures/stix/edge-id-vectors.json".as_ref()).unwrap();
    let lines: Vec<String> = report.mismatches.iter().map(|m| m.to_string()).collect();
    assert!(lines.is_empty(), "{}", lines.join("\n"));
    assert!(report.passed >= 150, "{}", report.passed);
}

#[test]
fn a_wrong_vector_is_reported() {
    let file = serde_json::json!({"vectors": [
        {"n": 1, "type": "tool", "input": {"name": "PsExec"}, "expected_id": "tool--437bffbb-47b5-511f-b3cc-c0173c30d3db"},
        {"n": 2, "type": "tool", "input": {"name": "PsExec"}, "expected_id": "tool--00000000-47b5-511f-b3cc-c0173c30d3db"},
        {"n": 3, "type": "grimoire", "input": {}, "expected_id": "grimoire--00000000-47b5-511f-b3cc-c0173c30d3db"}
    ]});
    let report = vectors::check(&file).unwrap();
    assert_eq!(report.passed, 1);
    assert_eq!(report.mismatches.len(), 2);
    assert!(report.mismatches[1].to_string().contains("not supported"));
}

#[test]
fn a_vector_file_is_checked_with_one_line_per_mismatch() {
    let ok = vectors::check_path("tests/fixtures/stix/pycti-id-vectors.json".as_ref()).unwrap();
    assert_eq!(ok.to_string(), "56 passed, 0 failed");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"vectors":[{"n":7,"type":"tool","input":{"name":"x"},"expected_id":"tool--00000000-0000-5000-8000-000000000000"}]}"#).unwrap();
    let text = vectors::check_path(&bad).unwrap().to_string();
    assert!(text.starts_with("#7 tool: expected"), "{text}");
    assert!(text.ends_with("0 passed, 1 failed"), "{text}");
    let err = vectors::check_path(&dir.path().join("missing.json")).unwrap_err();
    assert!(err.contains("cannot read"), "{err}");
}

proptest! {
    #[test]
    fn names_ignore_case_and_surrounding_whitespace(name in "\\PC{1,20}", pad in "[ \t\n]{0,3}") {
        let padded = format!("{pad}{name}{pad}");
        prop_assert_eq!(id::named("tool", &padded), id::named("tool", &name));
        prop_assert_eq!(id::identity(&name, "System"), id::identity(&name.to_lowercase(), "system"));
        let ascii: String = name.chars().filter(char::is_ascii).collect();
        prop_assert_eq!(id::named("tool", &ascii.to_ascii_uppercase()), id::named("tool", &ascii));
        prop_assert_eq!(id::incident(&padded, Some("2024-01-01T00:00:00.000Z")), id::incident(&name, Some("2024-01-01T00:00:00.000Z")));
    }

    #[test]
    fn sco_values_are_case_sensitive(v in "[a-z]{1,10}\\.[a-z]{2,4}") {
        let lower = id::sco("domain-name", &serde_json::json!({"value": v}));
        let upper = id::sco("domain-name", &serde_json::json!({"value": v.to_uppercase()}));
        prop_assert_ne!(lower, upper);
    }

    #[test]
    fn note_content_is_trimmed_not_lowercased(c in "[A-Za-zÀ-ÿ ]{1,30}") {
        prop_assume!(c.trim() != c.trim().to_lowercase());
        prop_assert_eq!(id::note(None, &format!("  {c} "), None), id::note(None, c.trim(), None));
        prop_assert_ne!(id::note(None, &c, None), id::note(None, &c.to_lowercase(), None));
    }

    #[test]
    fn ids_are_well_formed(name in "\\PC{0,40}") {
        let i = id::named("vulnerability", &name);
        prop_assert!(i.starts_with("vulnerability--"));
        prop_assert!(uuid::Uuid::parse_str(&i["vulnerability--".len()..]).is_ok());
    }
}
