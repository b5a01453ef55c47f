//! `connector-wazuh config` run as a user runs it: every option once, secrets masked wherever
//! they came from, the source of each value (default / file / env), and the `--json` form; a bad
//! value is one clear line and exit code 1; `--version`.

use std::collections::HashMap;

use serde_json::Value;

const FILE_TOKEN: &str = "0file-token-d41d8cd9";
const FILE_PASSWORD: &str = "file-password-8f00b204";
const ENV_PASSWORD: &str = "env-password-e9800998";

fn setup() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config.yml");
    std::fs::write(
        &path,
        format!(
            "opencti:\n  url: http://opencti:8080\n  token: {FILE_TOKEN}\n\
             connector:\n  id: 0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11\n\
             wazuh:\n  opensearch:\n    url: https://indexer:9200\n    password: {FILE_PASSWORD}\n    limit: 7\n"
        ),
    )
    .unwrap();
    let p = path.display().to_string();
    (dir, p)
}

#[tokio::test]
async fn table_shows_sources_and_masks_every_secret() {
    let (_dir, path) = setup();
    let mut env = HashMap::new();
    env.insert(
        "WAZUH_OPENSEARCH_PASSWORD".to_string(),
        ENV_PASSWORD.to_string(),
    );
    env.insert("CONNECTOR_CONCURRENCY".to_string(), "3".to_string());
    let out = crate::testkit::cli::run(&["--config", &path, "config"], &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let t = &out.stdout;
    for secret in [FILE_TOKEN, FILE_PASSWORD, ENV_PASSWORD] {
        assert!(!t.contains(secret), "{secret} printed:\n{t}");
    }
    let line = |name: &str| {
        t.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("{name} missing:\n{t}"))
            .to_string()
    };
    assert!(t.starts_with("OPTION "));
    let token = line("OPENCTI_TOKEN");
    assert!(
        token.contains(" *** ") && token.ends_with(&format!("[file {path}]")),
        "{token}"
    );
    // The environment wins over the file, and says so.
    let pw = line("WAZUH_OPENSEARCH_PASSWORD");
    assert!(
        pw.contains(" *** ") && pw.ends_with("[env WAZUH_OPENSEARCH_PASSWORD]"),
        "{pw}"
    );
    let limit = line("WAZUH_OPENSEARCH_LIMIT");
    assert!(
        limit.contains(" 7 ") && limit.ends_with(&format!("[file {path}]")),
        "{limit}"
    );
    assert!(line("CONNECTOR_CONCURRENCY").ends_with("[env CONNECTOR_CONCURRENCY]"));
    assert!(line("CONNECTOR_AUTO").ends_with("[default]"));
    assert!(line("OPENCTI_CA_BUNDLE").contains("(unset)"));
    // Columns are aligned: every source starts at the same place (values up to 40 chars).
    let col = line("CONNECTOR_AUTO").find('[').unwrap();
    assert_eq!(line("OPENCTI_TOKEN").find('['), Some(col));
    assert_eq!(
        t.lines().count(),
        connector_wazuh::config::load::OPTIONS.len() + 1
    );
}

#[tokio::test]
async fn json_lists_every_option_with_its_source() {
    let (_dir, path) = setup();
    let mut env = HashMap::new();
    env.insert(
        "WAZUH_OPENSEARCH_PASSWORD".to_string(),
        ENV_PASSWORD.to_string(),
    );
    let out = crate::testkit::cli::run(&["--config", &path, "config", "--json"], &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    for secret in [FILE_TOKEN, FILE_PASSWORD, ENV_PASSWORD] {
        assert!(!out.stdout.contains(secret));
    }
    let v: Value = serde_json::from_str(&out.stdout).unwrap();
    let list = v.as_array().unwrap();
    assert_eq!(list.len(), connector_wazuh::config::load::OPTIONS.len());
    let get = |name: &str| {
        list.iter()
            .find(|o| o["option"] == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let token = get("OPENCTI_TOKEN");
    assert_eq!(token["value"], "***");
    assert_eq!(token["source"], "file");
    assert_eq!(token["source_name"], path.as_str());
    assert_eq!(token["key"], "opencti.token");
    let pw = get("WAZUH_OPENSEARCH_PASSWORD");
    assert_eq!(
        (pw["source"].as_str(), pw["source_name"].as_str()),
        (Some("env"), Some("WAZUH_OPENSEARCH_PASSWORD"))
    );
    assert_eq!(get("CONNECTOR_AUTO")["source"], "default");
    assert_eq!(get("OPENCTI_CA_BUNDLE")["value"], Value::Null);
}

#[tokio::test]
async fn invalid_configuration_exits_1_with_the_variable_named() {
    let mut env = HashMap::new();
    env.insert("OPENCTI_URL".to_string(), "http://opencti:8080".to_string());
    let out = crate::testkit::cli::run(&["config"], &env).await;
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        out.stderr.contains("OPENCTI_TOKEN is required"),
        "{}",
        out.stderr
    );
}

/// The binary with a minimal valid environment (and nothing else), run synchronously.
fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(crate::testkit::cli::bin());
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
