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

/// A callback bearer as OpenCTI 7 signs it: EdDSA JWT, `iss: opencti`, `sub: connector`.
fn platform_jwt(key: &rcgen::KeyPair, kid: &str, claims: serde_json::Value) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use rcgen::SigningKey as _;
    let h = URL_SAFE_NO_PAD
        .encode(serde_json::json!({"alg": "EdDSA", "typ": "JWT", "kid": kid}).to_string());
    let p = URL_SAFE_NO_PAD.encode(claims.to_string());
    let sig = key.sign(format!("{h}.{p}").as_bytes()).unwrap();
    format!("{h}.{p}.{}", URL_SAFE_NO_PAD.encode(sig))
}

#[test]
fn platform_signed_callback_tokens_are_checked_against_the_registered_jwks() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine as _;
    use connector_wazuh::opencti::jwt::{parse_jwks, verify};
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let other = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).unwrap();
    let x = URL_SAFE_NO_PAD.encode(key.public_key_raw());
    let jwks = parse_jwks(&format!(
        r#"{{"keys":[{{"kty":"OKP","crv":"Ed25519","x":"{x}","kid":"k1"}}]}}"#
    ))
    .unwrap();
    let now = 1_800_000_000_i64;
    let good = serde_json::json!({"iss": "opencti", "sub": "connector", "iat": now - 10, "exp": now + 3600});
    assert_eq!(
        verify(&platform_jwt(&key, "k1", good.clone()), &jwks, now),
        Ok(())
    );
    // Another key, an unknown kid, an expired token, another subject: refused.
    assert!(verify(&platform_jwt(&other, "k1", good.clone()), &jwks, now).is_err());
    assert!(verify(&platform_jwt(&key, "k2", good.clone()), &jwks, now).is_err());
    assert_eq!(
        verify(&platform_jwt(&key, "k1", good), &jwks, now + 3600),
        Err("JWT expired".into())
    );
    let user = serde_json::json!({"iss": "opencti", "sub": "user", "exp": now + 60});
    assert!(verify(&platform_jwt(&key, "k1", user), &jwks, now).is_err());
}

#[test]
fn jwks_is_asked_for_only_with_the_field_7_x_has() {
    use crate::testkit::fake_opencti::validate_operation;
    use connector_wazuh::opencti::operations::{register_connector, REGISTER_CONNECTOR};
    let with = register_connector(true);
    assert_eq!(with.replacen("    jwks\n", "", 1), REGISTER_CONNECTOR);
    // 6.9 has no Connector.jwks: the document with it would be refused there.
    assert!(validate_operation(schema("6.9.17"), &with).is_err());
    assert!(validate_operation(schema("6.9.17"), &register_connector(false)).is_ok());
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/opencti-schema/7.x-modules/connector.graphql"
    );
    let doc = Document::parse(std::fs::read_to_string(path).unwrap(), path).unwrap();
    let has_jwks = doc.definitions.iter().any(|d| match d {
        Definition::ObjectTypeDefinition(t) if t.name == "Connector" => {
            t.fields.iter().any(|f| f.name == "jwks")
        }
        _ => false,
    });
    assert!(has_jwks, "7.x Connector.jwks");
}
