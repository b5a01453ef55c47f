//! Registration for each enrichment resolution and listen protocol, against the input fields of
//! the real `RegisterConnectorInput` of 6.9 (complete schema) and 7.x (connector module): the
//! settings are sent where the platform has the field, and the input coerces against the schema.

use std::collections::HashMap;

use apollo_compiler::ast::{Definition, Document};
use apollo_compiler::schema::ExtendedType;
use connector_wazuh::opencti::register::{register_input, unsupported};
use serde_json::Value;

use crate::testkit::fake_opencti::schema;

fn settings(extra: &[(&str, &str)]) -> connector_wazuh::config::Settings {
    let mut env: HashMap<String, String> = [
        ("OPENCTI_URL", "http://opencti:8080"),
        ("OPENCTI_TOKEN", "0token"),
        ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
        ("WAZUH_OPENSEARCH_URL", "http://indexer:9200"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    crate::testkit::settings::load(env)
}

fn fields_6_9() -> Vec<String> {
    match schema("6.9.17").types.get("RegisterConnectorInput") {
        Some(ExtendedType::InputObject(io)) => io.fields.keys().map(|k| k.to_string()).collect(),
        _ => panic!("6.9.17 has no RegisterConnectorInput"),
    }
}

fn fields_7_x() -> Vec<String> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/opencti-schema/7.x-modules/connector.graphql"
    );
    let doc = Document::parse(std::fs::read_to_string(path).unwrap(), path).unwrap();
    doc.definitions
        .iter()
        .find_map(|d| match d {
            Definition::InputObjectTypeDefinition(t) if t.name == "RegisterConnectorInput" => {
                Some(t.fields.iter().map(|f| f.name.to_string()).collect())
            }
            _ => None,
        })
        .expect("7.x RegisterConnectorInput")
}

#[test]
fn every_resolution_is_registered_on_6_9_and_7_x() {
    for (version, fields) in [("6.9.17", fields_6_9()), ("7.x", fields_7_x())] {
        for mode in ["none", "stix_bundle", "deferred"] {
            let s = settings(&[("CONNECTOR_ENRICHMENT_RESOLUTION", mode)]);
            let v = register_input(&s, &fields);
            assert_eq!(v["enrichment_resolution"], mode, "{version}");
            assert_eq!(v["listen_callback_uri"], Value::Null, "{version}: AMQP");
            for k in v.as_object().unwrap().keys() {
                assert!(fields.contains(k), "{version} has no {k}");
            }
            assert_eq!(unsupported(&s, &fields), Ok(vec![]), "{version}");
        }
    }
}

#[test]
fn api_listening_registers_its_callback_on_6_9_and_7_x() {
    let s = settings(&[
        ("CONNECTOR_LISTEN_PROTOCOL", "API"),
        (
            "CONNECTOR_LISTEN_PROTOCOL_API_URI",
            "http://connector-wazuh:7070",
        ),
        ("CONNECTOR_LISTEN_PROTOCOL_API_PATH", "/wazuh/callback"),
    ]);
    for (version, fields) in [("6.9.17", fields_6_9()), ("7.x", fields_7_x())] {
        let v = register_input(&s, &fields);
        assert_eq!(
            v["listen_callback_uri"], "http://connector-wazuh:7070/wazuh/callback",
            "{version}"
        );
    }
    // The default URI is pycti's: this host, on the callback port.
    let d = settings(&[
        ("CONNECTOR_LISTEN_PROTOCOL", "api"),
        ("CONNECTOR_LISTEN_PROTOCOL_API_PORT", "7171"),
    ]);
    assert_eq!(
        register_input(&d, &fields_6_9())["listen_callback_uri"],
        "http://127.0.0.1:7171/api/callback"
    );
}

#[test]
fn platforms_without_the_fields() {
    let fields = match schema("6.4.5").types.get("RegisterConnectorInput") {
        Some(ExtendedType::InputObject(io)) => {
            io.fields.keys().map(|k| k.to_string()).collect::<Vec<_>>()
        }
        _ => panic!(),
    };
    let s = settings(&[("CONNECTOR_ENRICHMENT_RESOLUTION", "stix_bundle")]);
    let w = unsupported(&s, &fields).unwrap();
    assert_eq!(w.len(), 1, "{w:?}");
    let api = settings(&[("CONNECTOR_LISTEN_PROTOCOL", "API")]);
    assert!(unsupported(&api, &fields).unwrap_err().contains("6.6"));
}
