//! The binary's configuration behaviour: one clear line and exit code 1 on a bad value;
//! `config` prints every option with its source and masks secrets.

use std::process::Command;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_connector-wazuh"));
    c.env_clear()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("CONNECTOR_CONFIG_FILE", "")
        .env("OPENCTI_URL", "http://opencti:8080")
        .env("OPENCTI_TOKEN", "0secret-token")
        .env("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11")
        .env("WAZUH_OPENSEARCH_URL", "https://indexer:9200");
    c
}

#[test]
fn bad_value_is_one_line_and_exit_code_1() {
    let out = bin()
        .env("WAZUH_OPENSEARCH_SEARCH_AFTER", "last tuesday")
        .arg("run")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "WAZUH_OPENSEARCH_SEARCH_AFTER: `last tuesday` is neither a date nor an age; accepted:"
        ),
        "{err}"
    );
}

#[test]
fn config_prints_sources_and_masks_secrets() {
    let out = bin()
        .env("CONNECTOR_CONCURRENCY", "8")
        .arg("config")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("0secret-token"), "{text}");
    let line = |name: &str| {
        text.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing"))
            .to_string()
    };
    assert!(
        line("OPENCTI_TOKEN").contains("***")
            && line("OPENCTI_TOKEN").contains("[env OPENCTI_TOKEN]")
    );
    assert!(
        line("CONNECTOR_CONCURRENCY").contains(" 8 ")
            && line("CONNECTOR_CONCURRENCY").ends_with("[env CONNECTOR_CONCURRENCY]")
    );
    assert!(line("CONNECTOR_AUTO").ends_with("[default]"));
    // A header line, then one line per option.
    assert!(text.starts_with("OPTION "), "{text}");
    assert_eq!(
        text.lines().count(),
        connector_wazuh::config::load::OPTIONS.len() + 1
    );
}

#[test]
fn version_flag() {
    let out = bin().arg("--version").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
}
