//! The option table in `src/config/load.rs` is the single source of truth: the documentation
//! and the sample configuration must list every option it knows, and the sample must load.

use connector_wazuh::config::load::{self, LoadInput, OPTIONS};
use std::collections::HashMap;

fn read(path: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + path).unwrap()
}

#[test]
fn docs_list_every_option() {
    let doc = read("docs/configuration.md");
    let missing: Vec<_> = OPTIONS
        .iter()
        .filter(|o| {
            !doc.contains(&format!("`{}`", o.env)) || !doc.contains(&format!("`{}`", o.key))
        })
        .map(|o| o.env)
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md lacks {missing:?}"
    );
}

#[test]
fn sample_lists_every_option() {
    let sample = read("config/config.yml.sample");
    let missing: Vec<_> = OPTIONS
        .iter()
        .filter(|o| !sample.contains(&format!("[{}]", o.env)))
        .map(|o| o.env)
        .collect();
    assert!(
        missing.is_empty(),
        "config/config.yml.sample lacks {missing:?}"
    );
}

#[test]
fn sample_loads_with_an_id() {
    let path = std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/config.yml.sample"
    ));
    let env: HashMap<String, String> = [(
        "CONNECTOR_ID".to_string(),
        "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11".to_string(),
    )]
    .into();
    let (s, entries) = load::load_with_sources(&LoadInput {
        file: Some(path),
        env,
    })
    .unwrap();
    assert_eq!(s.opencti.url, "http://localhost:8080");
    assert_eq!(entries.len(), OPTIONS.len());
}
