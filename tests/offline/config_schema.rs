//! The managed-connector `__metadata__/` folder: the committed configuration schema and its page
//! are exactly what `connector-wazuh config --schema` / `--schema-doc` generate from the option
//! table, and the manifest has
//! the shape of OpenCTI's catalogue (the keys of its internal-enrichment template, this
//! connector's type and capabilities).

use std::collections::{BTreeSet, HashMap};

use connector_wazuh::config::load::OPTIONS;
use connector_wazuh::config::schema;
use serde_json::Value;

fn read(path: &str) -> String {
    std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn json(path: &str) -> Value {
    serde_json::from_str(&read(path)).unwrap()
}

/// The top-level keys of a JSON object.
fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

const SCHEMA_FILE: &str = "__metadata__/connector_config_schema.json";

#[test]
fn committed_schema_is_the_generated_one() {
    assert!(
        read(SCHEMA_FILE) == schema::render(),
        "{SCHEMA_FILE} differs from the option table; regenerate it with\n  \
         cargo run -- config --schema > {SCHEMA_FILE}"
    );
}

const DOC_FILE: &str = "__metadata__/CONNECTOR_CONFIG_DOC.md";

#[test]
fn committed_configuration_page_is_the_generated_one() {
    assert!(
        read(DOC_FILE) == schema::render_doc(),
        "{DOC_FILE} differs from the option table; regenerate it with\n  \
         cargo run -- config --schema-doc > {DOC_FILE}"
    );
}

#[tokio::test]
async fn config_schema_commands_print_them_without_any_configuration() {
    for (flag, expected) in [
        ("--schema", schema::render()),
        ("--schema-doc", schema::render_doc()),
    ] {
        let out = crate::testkit::cli::run(&["config", flag], &HashMap::new()).await;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
        assert_eq!(out.stdout, expected);
        assert_eq!(out.stderr, "");
    }
}

#[test]
fn schema_has_the_catalogue_shape_and_every_option() {
    let ours = json(SCHEMA_FILE);
    let theirs = json("tests/fixtures/opencti-metadata/abuseipdb-connector_config_schema.json");
    assert_eq!(keys(&ours), keys(&theirs));
    assert_eq!(ours["$schema"], theirs["$schema"]);
    let props = ours["properties"].as_object().unwrap();
    for o in OPTIONS {
        let p = &props[o.env];
        assert!(p["type"].is_string(), "{}: {p}", o.env);
        assert!(
            !p["description"].as_str().unwrap_or("").is_empty(),
            "{}",
            o.env
        );
        assert_eq!(p.get("writeOnly").is_some(), o.secret, "{}", o.env);
    }
    // The catalogue's own variables mean the same here.
    for name in [
        "OPENCTI_URL",
        "OPENCTI_TOKEN",
        "CONNECTOR_TYPE",
        "CONNECTOR_AUTO",
    ] {
        assert_eq!(
            props[name]["type"], theirs["properties"][name]["type"],
            "{name}"
        );
    }
    assert_eq!(props["CONNECTOR_TYPE"]["const"], "INTERNAL_ENRICHMENT");
}

#[test]
fn manifest_has_the_catalogue_keys_and_this_connectors_type() {
    let ours = json("__metadata__/connector_manifest.json");
    let template = json("tests/fixtures/opencti-metadata/template-connector_manifest.json");
    assert_eq!(keys(&ours), keys(&template));
    for (k, v) in template.as_object().unwrap() {
        let same_type = std::mem::discriminant(&ours[k]) == std::mem::discriminant(v)
            || ours[k].is_null()
            || v.is_null();
        assert!(same_type, "{k}: {} vs the template's {v}", ours[k]);
    }
    assert_eq!(ours["container_type"], "INTERNAL_ENRICHMENT");
    assert_eq!(ours["playbook_supported"], true);
    assert_eq!(ours["manager_supported"], true);
    // The package's own version is the first `version =` line of Cargo.toml.
    let cargo = read("Cargo.toml");
    let package_version = cargo.lines().find(|l| l.starts_with("version = ")).unwrap();
    let version = ours["container_version"].as_str().unwrap();
    assert_eq!(package_version, format!("version = \"{version}\""));
    assert!(ours["short_description"].as_str().unwrap().len() < 250);
}
