//! The reference connector's own documentation examples (`tests/fixtures/reference/`), read the
//! way a migrating user's deployment reads them: the compose service's environment, and the
//! `config.yml` written in the reference's layout.

use std::collections::HashMap;
use std::path::PathBuf;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/reference")
        .join(name)
}

fn yaml(path: &std::path::Path) -> serde_json::Value {
    config::Config::builder()
        .add_source(config::File::from(path).format(config::FileFormat::Yaml))
        .build()
        .unwrap()
        .try_deserialize()
        .unwrap()
}

/// The `environment:` list of the documented compose service, as Docker Compose passes it: each
/// `NAME=value` item split at the first `=` (quotes inside the value stay, as Compose keeps them).
pub fn compose_env() -> Vec<(String, String)> {
    let doc = yaml(&fixture("reference-docs-connector-compose.yml"));
    doc["services"]["connector-wazuh"]["environment"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let (k, v) = item.as_str().unwrap().split_once('=').unwrap();
            (k.to_string(), v.to_string())
        })
        .collect()
}

/// The compose environment as a map (a variable listed twice keeps its last value, as Compose).
pub fn compose_env_map() -> HashMap<String, String> {
    compose_env().into_iter().collect()
}

/// The documented `config.yml` (reference layout), parsed.
pub fn config_yml() -> serde_json::Value {
    yaml(&fixture("reference-docs-config.yml"))
}

/// A copy of the documented `config.yml` in `dir` with `replace` applied (`from` → `to`, each
/// must occur). Its `connector.id: foo` is not a UUID, which OpenCTI requires of a connector id,
/// so every use replaces at least that.
pub fn config_yml_copy(dir: &std::path::Path, replace: &[(&str, &str)]) -> PathBuf {
    let mut text = std::fs::read_to_string(fixture("reference-docs-config.yml")).unwrap();
    for (from, to) in replace {
        assert!(text.contains(from), "{from} not in the fixture");
        text = text.replacen(from, to, 1);
    }
    let path = dir.join("config.yml");
    std::fs::write(&path, text).unwrap();
    path
}

/// The UUID put in place of the documented `id: foo`.
pub const CONNECTOR_ID: &str = "81f9d582-2b4e-45f1-98b6-f33492d66b6e";
