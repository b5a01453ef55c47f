//! A migrating user's files start the connector unchanged: the reference connector's documented
//! compose environment and its documented `config.yml` (reference layout) load, and
//! `connector-wazuh config` shows every value they set as coming from them, none as a default.

use std::collections::HashMap;

use connector_wazuh::config::load::{ENV_ALIASES, OPTIONS};
use connector_wazuh::config::names::{check_file_keys, reference_key};
use serde_json::Value;

use crate::testkit::cli;
use crate::testkit::reference_files::{
    compose_env, compose_env_map, config_yml, config_yml_copy, CONNECTOR_ID,
};

fn entries(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn entry<'a>(list: &'a [Value], option: &str) -> &'a Value {
    list.iter().find(|e| e["option"] == option).unwrap()
}

/// The option a variable of the compose file sets (its own name or an alias).
fn option_of(var: &str) -> Option<&'static str> {
    OPTIONS
        .iter()
        .find(|o| o.env == var)
        .map(|o| o.env)
        .or_else(|| ENV_ALIASES.iter().find(|(a, _)| *a == var).map(|(_, c)| *c))
}

// Failed before: `WAZUH_OPENSEARCH_FILTER: `` is not JSON`, then the aliases and empty values.
#[tokio::test]
async fn documented_compose_environment_starts_and_every_value_is_from_it() {
    let env = compose_env_map();
    let out = cli::run(&["config", "--json"], &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let list = entries(&out.stdout);
    let mut checked = 0;
    for (var, _) in compose_env() {
        let Some(option) = option_of(&var) else {
            continue;
        };
        let e = entry(&list, option);
        assert_eq!(e["source"], "env", "{var}: {e}");
        assert_eq!(e["source_name"], var.as_str(), "{e}");
        checked += 1;
    }
    assert!(checked >= 60, "{checked}");
    // Values that differ from the defaults really are the file's.
    assert_eq!(entry(&list, "WAZUH_MAX_TLP")["value"], "TLP:RED");
    assert_eq!(entry(&list, "WAZUH_HITS_ABORT_LIMIT")["value"], "1000");
    assert_eq!(entry(&list, "WAZUH_OPENSEARCH_PASSWORD")["value"], "***");
    // The documentation's misspellings are read, and marked.
    let e = entry(&list, "WAZUH_SEARCH_LOOKUP_URL_IGNORE_TRAILING_SLASH");
    assert_eq!(e["note"], "reference-only spelling");
    // An empty value leaves the default in force, and says so.
    let e = entry(&list, "WAZUH_OPENSEARCH_FILTER");
    assert_eq!(
        (e["value"].as_str(), e["note"].as_str()),
        (Some("[]"), Some("empty: default"))
    );
    // Nothing is silently ignored: the one documented variable that is no setting is a warning.
    let warnings: Vec<&str> = out.stderr.lines().collect();
    assert_eq!(warnings.len(), 1, "{}", out.stderr);
    assert!(
        warnings[0].contains("WAZUH_ENRICH_AGENT is ignored"),
        "{}",
        out.stderr
    );
}

// Failed before: the top-level `max_tlp: TLP:RED`, `opensearch:` … were ignored (defaults used).
#[tokio::test]
async fn documented_config_yml_starts_and_every_value_is_from_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_yml_copy(dir.path(), &[("id: foo", &format!("id: {CONNECTOR_ID}"))]);
    let path_text = path.display().to_string();
    let out = cli::run(
        &["--config", &path_text, "config", "--json"],
        &HashMap::new(),
    )
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let list = entries(&out.stdout);
    let doc = config_yml();
    let (unknown, ignored) = check_file_keys(&doc, "");
    assert!(unknown.is_empty(), "{unknown:?}");
    assert_eq!(ignored.len(), 1, "only enrich_agent: {ignored:?}");
    let lookup = |key: &str| key.split('.').try_fold(&doc, |v, k| v.get(k)).is_some();
    let mut checked = 0;
    for o in OPTIONS {
        if !(lookup(o.key) || reference_key(o.key).is_some_and(lookup)) {
            continue;
        }
        let e = entry(&list, o.env);
        assert_eq!(e["source"], "file", "{}: {e}", o.env);
        assert_eq!(e["source_name"], path_text.as_str());
        checked += 1;
    }
    assert!(checked >= 60, "{checked}");
    assert_eq!(entry(&list, "WAZUH_MAX_TLP")["value"], "TLP:RED");
    assert_eq!(entry(&list, "WAZUH_MAX_TLP")["note"], "reference layout");
    assert_eq!(entry(&list, "OPENCTI_SSL_VERIFY")["value"], "false");
    assert!(
        out.stderr.contains("key `enrich_agent` is ignored"),
        "{}",
        out.stderr
    );
}
