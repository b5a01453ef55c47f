//! The generated configuration schema accepts the configurations the connector accepts: the
//! reference connector's documented compose environment (empty values, aliases and all) and
//! `config/config.yml.sample` with every commented option switched on, judged by Python's
//! `jsonschema` (the validator of `scripts/pyenv`) as the managed-connector composer judges the
//! values it starts a container with; and it refuses a value the connector refuses.

use std::collections::HashMap;

use connector_wazuh::config::load::OPTIONS;
use connector_wazuh::config::schema;
use serde_json::{json, Value};

use crate::testkit::reference_files::{compose_env, CONNECTOR_ID};

const SCRIPT: &str = r#"
import json, sys
from jsonschema import Draft202012Validator
data = json.load(sys.stdin)
Draft202012Validator.check_schema(data["schema"])
v = Draft202012Validator(data["schema"])
json.dump([[f"{'/'.join(map(str, e.path))}: {e.message}" for e in v.iter_errors(i)]
           for i in data["instances"]], sys.stdout)
"#;

/// The validator's errors for each instance (an empty list: valid).
fn validate(instances: &[Value]) -> Vec<Vec<String>> {
    let schema: Value = serde_json::from_str(&schema::render()).unwrap();
    let input = json!({"schema": schema, "instances": instances});
    serde_json::from_value(crate::testkit::oasis::run_json(
        SCRIPT,
        &input,
        "jsonschema",
    ))
    .unwrap()
}

/// The sample configuration with every commented-out option (`#key: value`) switched on: the
/// defaults as the sample spells them, plus the values it sets.
fn full_sample() -> String {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/config.yml.sample"
    ))
    .unwrap();
    text.lines()
        .map(|l| {
            let body = l.trim_start();
            let indent = &l[..l.len() - body.len()];
            match body.strip_prefix('#') {
                Some(rest) if rest.split_once(':').is_some_and(|(k, _)| is_key(k)) => {
                    format!("{indent}{rest}\n")
                }
                _ => format!("{l}\n"),
            }
        })
        .collect()
}

fn is_key(k: &str) -> bool {
    !k.is_empty() && k.chars().all(|c| c.is_ascii_lowercase() || c == '_')
}

/// A `config.yml` as the environment variables that say the same.
fn env_of_yaml(text: &str) -> Vec<(String, String)> {
    let doc: Value = yaml(text);
    OPTIONS
        .iter()
        .filter_map(|o| {
            let mut v = &doc;
            for part in o.key.split('.') {
                v = v.get(part)?;
            }
            let text = match v {
                Value::Null => return None,
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            Some((o.env.to_string(), text))
        })
        .collect()
}

/// YAML → JSON with the same reader the connector uses for `config.yml`.
fn yaml(text: &str) -> Value {
    config::Config::builder()
        .add_source(config::File::from_str(text, config::FileFormat::Yaml))
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap()
}

fn instance(env: &[(String, String)]) -> Value {
    schema::instance(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
}

#[tokio::test]
async fn schema_accepts_the_documented_compose_environment_and_the_full_sample() {
    let compose = compose_env();
    assert!(
        compose.iter().any(|(_, v)| v.is_empty()),
        "the fixture has empty values"
    );
    let mut sample = env_of_yaml(&full_sample());
    assert!(sample.len() > 60, "{} options switched on", sample.len());
    // The sample's id is a placeholder; the connector needs a UUID.
    sample.retain(|(k, _)| k != "CONNECTOR_ID");
    sample.push(("CONNECTOR_ID".into(), CONNECTOR_ID.into()));

    // The connector accepts both (the schema must accept no less).
    for env in [&compose, &sample] {
        let map: HashMap<String, String> = env.iter().cloned().collect();
        let out = crate::testkit::cli::run(&["config", "--json"], &map).await;
        assert_eq!(out.code, Some(0), "{}", out.stderr);
    }
    let errors = validate(&[instance(&compose), instance(&sample)]);
    assert_eq!(errors, vec![Vec::<String>::new(); 2]);
}

#[tokio::test]
async fn schema_refuses_what_the_connector_refuses() {
    let base: Vec<(String, String)> = compose_env();
    let cases = [
        ("CONNECTOR_CONCURRENCY", "0"),
        ("WAZUH_CREATE_INCIDENT", "sometimes"),
        ("CONNECTOR_AUTO", "perhaps"),
        (
            "WAZUH_SEARCH_PROCSEARCH_OPTIONS",
            "case-insensitive,telepathy",
        ),
    ];
    let mut instances = Vec::new();
    for (name, bad) in cases {
        let mut env = base.clone();
        env.push((name.into(), bad.into()));
        let map: HashMap<String, String> = env.iter().cloned().collect();
        let out = crate::testkit::cli::run(&["config", "--json"], &map).await;
        assert_eq!(out.code, Some(1), "the connector accepted {name}={bad}");
        instances.push(instance(&env));
    }
    let mut missing = base.clone();
    missing.retain(|(k, _)| k != "OPENCTI_URL");
    instances.push(instance(&missing));
    for (errors, case) in validate(&instances).iter().zip(
        cases
            .iter()
            .map(|(n, _)| *n)
            .chain(["OPENCTI_URL (missing)"]),
    ) {
        let name = case.split(' ').next().unwrap_or(case);
        assert!(
            errors.iter().any(|e| e.contains(name)),
            "{case}: the schema did not refuse it: {errors:?}"
        );
    }
}
