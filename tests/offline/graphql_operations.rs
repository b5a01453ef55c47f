//! Every GraphQL operation the connector sends (`src/opencti/operations.rs`) is valid against
//! every supported OpenCTI schema; the 7.x connector/playbook modules have every input field,
//! argument and result field the connector uses.

use crate::testkit::fake_opencti::{schema, validate_operation, SCHEMA_VERSIONS};
use apollo_compiler::ast::{Definition, Document};
use connector_wazuh::opencti::operations::{ALL, NOT_IN_6_4};

#[test]
fn every_operation_validates_against_every_schema() {
    let mut failures = Vec::new();
    for version in SCHEMA_VERSIONS {
        let s = schema(version);
        for (name, text) in ALL {
            let result = validate_operation(s, text);
            let expected_missing = *version == "6.4.5" && NOT_IN_6_4.contains(name);
            match (result, expected_missing) {
                (Ok(()), false) | (Err(_), true) => {}
                (Err(e), false) => failures.push(format!("{version} {name}: {e}")),
                (Ok(()), true) => failures.push(format!(
                    "{version} {name}: expected to be unsupported, update NOT_IN_6_4"
                )),
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn an_invalid_operation_is_refused() {
    let s = schema("6.9.17");
    let e = validate_operation(s, "query { about { versionTypo } }").unwrap_err();
    assert!(e.contains("versionTypo"), "{e}");
}

fn module(path: &str) -> Document {
    let text = std::fs::read_to_string(format!(
        "{}/tests/fixtures/opencti-schema/7.x-modules/{path}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    Document::parse(text, path).unwrap()
}

/// Field (or input field) names of a named type or extension in a module document.
fn fields_of(doc: &Document, type_name: &str) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for d in &doc.definitions {
        match d {
            Definition::InputObjectTypeDefinition(t) if t.name == type_name => {
                out.extend(t.fields.iter().map(|f| (f.name.to_string(), vec![])));
            }
            Definition::ObjectTypeDefinition(t) if t.name == type_name => {
                out.extend(t.fields.iter().map(|f| {
                    (
                        f.name.to_string(),
                        f.arguments.iter().map(|a| a.name.to_string()).collect(),
                    )
                }));
            }
            Definition::ObjectTypeExtension(t) if t.name == type_name => {
                out.extend(t.fields.iter().map(|f| {
                    (
                        f.name.to_string(),
                        f.arguments.iter().map(|a| a.name.to_string()).collect(),
                    )
                }));
            }
            _ => {}
        }
    }
    out
}

fn assert_has(doc: &Document, ty: &str, field: &str, args: &[&str]) {
    let fields = fields_of(doc, ty);
    let f = fields
        .iter()
        .find(|(n, _)| n == field)
        .unwrap_or_else(|| panic!("7.x {ty}.{field} missing"));
    for a in args {
        assert!(f.1.iter().any(|x| x == a), "7.x {ty}.{field}({a}:) missing");
    }
}

#[test]
fn seven_x_modules_have_what_the_connector_uses() {
    let c = module("connector.graphql");
    for f in [
        "id",
        "name",
        "type",
        "scope",
        "auto",
        "auto_update",
        "playbook_compatible",
    ] {
        assert_has(&c, "RegisterConnectorInput", f, &[]);
    }
    for f in [
        "run_and_terminate",
        "buffering",
        "queue_threshold",
        "queue_messages_size",
    ] {
        assert_has(&c, "ConnectorInfoInput", f, &[]);
    }
    assert_has(&c, "Mutation", "registerConnector", &["input"]);
    assert_has(
        &c,
        "Mutation",
        "pingConnector",
        &["id", "state", "connectorInfo"],
    );
    for f in ["id", "connector_state", "config", "connector_user_id"] {
        assert_has(&c, "Connector", f, &[]);
    }
    for f in [
        "connection",
        "listen",
        "listen_routing",
        "listen_exchange",
        "push",
        "push_routing",
        "push_exchange",
    ] {
        assert_has(&c, "ConnectorConfig", f, &[]);
    }
    let p = module("playbook.graphql");
    assert_has(
        &p,
        "Mutation",
        "playbookStepExecution",
        &[
            "execution_id",
            "event_id",
            "execution_start",
            "data_instance_id",
            "playbook_id",
            "previous_step_id",
            "step_id",
            "previous_bundle",
            "bundle",
        ],
    );
}
