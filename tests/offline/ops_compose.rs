//! `docker/docker-compose.yml` documents every option with its default: every option of the
//! configuration table is in the file, every variable in the file is one the connector reads, and
//! the defaults written there are the effective defaults in the image (the configuration table's,
//! unless the Dockerfile sets the variable). So the file cannot drift from the code.

use std::collections::{BTreeMap, BTreeSet};

use connector_wazuh::config::load::{ENV_ALIASES, OPTIONS};
use regex::Regex;

const COMPOSE: &str = include_str!("../../docker/docker-compose.yml");
const DOCKERFILE: &str = include_str!("../../docker/Dockerfile");
const ENV_SAMPLE: &str = include_str!("../../docker/.env.sample");

/// An environment entry of the compose file.
struct Entry {
    value: String,
    /// Commented out (documents a default) rather than set.
    commented: bool,
}

/// Every `- NAME=value` environment entry, active or commented out (a trailing ` # comment` is
/// not part of the value).
fn compose_env() -> BTreeMap<String, Entry> {
    let re = Regex::new(r"^\s*(#\s*)?- ([A-Z][A-Z0-9_]+)=(.*)$").unwrap();
    COMPOSE
        .lines()
        .filter_map(|l| re.captures(l))
        .map(|c| {
            let value = c[3].split(" # ").next().unwrap_or("").trim().to_string();
            let commented = c.get(1).is_some();
            (c[2].to_string(), Entry { value, commented })
        })
        .collect()
}

/// `ENV NAME=value` pairs of the Dockerfile (one `ENV` instruction, continued lines).
fn image_env() -> BTreeMap<String, String> {
    let re = Regex::new(r"([A-Z][A-Z0-9_]+)=([^\s\\]+)").unwrap();
    let start = DOCKERFILE.find("\nENV ").expect("an ENV instruction");
    let block: String = DOCKERFILE[start + 1..]
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    re.captures_iter(&block)
        .map(|c| (c[1].to_string(), c[2].to_string()))
        .collect()
}

/// Lists compare as sets (order and spacing do not matter).
fn normalise(v: &str) -> BTreeSet<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn every_option_is_in_the_compose_file_and_nothing_else() {
    let env = compose_env();
    let missing: Vec<&str> = OPTIONS
        .iter()
        .map(|o| o.env)
        .filter(|n| !env.contains_key(*n))
        .collect();
    assert!(
        missing.is_empty(),
        "not in docker/docker-compose.yml: {missing:?}"
    );

    let known: BTreeSet<&str> = OPTIONS
        .iter()
        .map(|o| o.env)
        .chain(ENV_ALIASES.iter().map(|(alias, _)| *alias))
        .chain(["CONNECTOR_CONFIG_FILE"])
        .collect();
    let unknown: Vec<&String> = env.keys().filter(|n| !known.contains(n.as_str())).collect();
    assert!(
        unknown.is_empty(),
        "the connector does not read {unknown:?}"
    );
}

#[test]
fn documented_defaults_are_the_effective_defaults() {
    let env = compose_env();
    let image = image_env();
    assert_eq!(image["CONNECTOR_TYPE"], "INTERNAL_ENRICHMENT");
    let mut checked = 0;
    for o in OPTIONS {
        let e = &env[o.env];
        if !e.commented {
            continue;
        }
        let expected = image
            .get(o.env)
            .map(String::as_str)
            .or(o.default)
            .unwrap_or("");
        assert_eq!(
            normalise(&e.value),
            normalise(expected),
            "{}: compose says {:?}, effective default is {:?}",
            o.env,
            e.value,
            expected
        );
        checked += 1;
    }
    assert!(checked > 80, "only {checked} defaults checked");
}

#[test]
fn only_the_minimum_is_set_and_secrets_come_from_the_env_file() {
    let env = compose_env();
    let active: BTreeSet<&str> = env
        .iter()
        .filter(|(_, e)| !e.commented)
        .map(|(n, _)| n.as_str())
        .collect();
    let from_env_file = [
        ("OPENCTI_TOKEN", "CONNECTOR_WAZUH_OPENCTI_TOKEN"),
        ("CONNECTOR_ID", "CONNECTOR_WAZUH_ID"),
        ("WAZUH_OPENSEARCH_URL", "WAZUH_INDEXER_URL"),
        ("WAZUH_OPENSEARCH_USERNAME", "WAZUH_INDEXER_USERNAME"),
        ("WAZUH_OPENSEARCH_PASSWORD", "WAZUH_INDEXER_PASSWORD"),
        ("WAZUH_APP_URL", "WAZUH_APP_URL"),
    ];
    let mut expected: BTreeSet<&str> = from_env_file.iter().map(|(n, _)| *n).collect();
    expected.insert("OPENCTI_URL");
    assert_eq!(active, expected);
    for (name, var) in from_env_file {
        let v = &env[name].value;
        assert!(v.starts_with(&format!("${{{var}:?")), "{name}={v}");
        assert!(
            ENV_SAMPLE.contains(&format!("\n{var}=")),
            "{var} not in docker/.env.sample"
        );
    }
    // The OpenCTI service of the standard stack, as seen from its network.
    assert_eq!(env["OPENCTI_URL"].value, "http://opencti:8080");
    // Every option the configuration requires is among the values set.
    for o in OPTIONS.iter().filter(|o| o.required) {
        assert!(active.contains(o.env), "{} is required but not set", o.env);
    }
}

/// The environment the container gets from the compose overlay: the image's `ENV`, then the
/// active entries with `${VAR:?…}` taken from `.env.sample`, then `overrides` (real-looking
/// secrets in place of the sample's ChangeMe placeholders).
fn container_env(overrides: &[(&str, &str)]) -> std::collections::HashMap<String, String> {
    let sample: BTreeMap<&str, &str> = ENV_SAMPLE
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .collect();
    let var = Regex::new(r"^\$\{([A-Z0-9_]+):\?[^}]*\}$").unwrap();
    let mut env: std::collections::HashMap<String, String> = image_env().into_iter().collect();
    for (name, e) in compose_env().into_iter().filter(|(_, e)| !e.commented) {
        let value = match var.captures(&e.value) {
            Some(c) => sample[&c[1]].to_string(),
            None => e.value,
        };
        env.insert(name, value);
    }
    for (k, v) in overrides {
        env.insert(k.to_string(), v.to_string());
    }
    env
}

#[tokio::test]
async fn the_minimal_compose_environment_loads_and_serves_health() {
    use connector_wazuh::config::load::{load, LoadInput};
    use connector_wazuh::ops::{serve_configured, Health, Metrics};

    let input = LoadInput {
        file: None,
        env: container_env(&[("CONNECTOR_ID", "3c0b9c1e-8f5e-4c55-a1e4-7a1f0c2d9b64")]),
    };
    let settings = load(&input).unwrap_or_else(|e| panic!("compose environment rejected: {e}"));
    assert_eq!(
        settings.opencti.url.trim_end_matches('/'),
        "http://opencti:8080"
    );
    assert_eq!(
        settings.indexer.url.trim_end_matches('/'),
        "https://wazuh.indexer:9200"
    );
    assert!(settings.opencti.ssl_verify && settings.indexer.verify_tls);
    let c = &settings.connector;
    assert!(c.expose_metrics, "the image turns metrics (and health) on");
    assert_eq!((c.metrics_host.as_str(), c.metrics_port), ("0.0.0.0", 9095));
    assert_eq!(c.name, "Wazuh");

    // The same settings start the health server (on a free loopback port here).
    let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = free.local_addr().unwrap().port();
    drop(free);
    let mut local = c.clone();
    local.metrics_host = "127.0.0.1".into();
    local.metrics_port = port;
    let token = tokio_util::sync::CancellationToken::new();
    let srv = serve_configured(&local, Metrics::new(), Health::new(), token.clone())
        .await
        .unwrap()
        .expect("metrics exposed");
    let health = reqwest::get(format!("http://127.0.0.1:{port}/health"))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    let ready = reqwest::get(format!("http://127.0.0.1:{port}/ready"))
        .await
        .unwrap();
    assert_eq!(ready.status(), 503, "not registered yet");
    token.cancel();
    srv.handle.await.unwrap().unwrap();

    // Without CONNECTOR_EXPOSE_METRICS nothing listens.
    local.expose_metrics = false;
    let none = serve_configured(&local, Metrics::new(), Health::new(), token)
        .await
        .unwrap();
    assert!(none.is_none());
}
