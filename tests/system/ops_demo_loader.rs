//! The demo's one-shot alert loader (`docker/demo/load-alerts.py`) against a real
//! OpenSearch-compatible server: template applied, all sample alerts indexed with fresh
//! timestamps in original order, re-runs idempotent, failures reported with a non-zero exit.

use crate::testkit::{osmem, tls_front};

use std::path::Path;
use std::process::Output;

use chrono::{DateTime, Duration, Utc};
use osmem::{sample_alerts, Osmem};
use serde_json::{json, Value};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

async fn run_loader(url: &str, extra: &[(&str, &str)]) -> Output {
    let mut cmd = tokio::process::Command::new("python3");
    cmd.arg(root().join("docker/demo/load-alerts.py"))
        .env("INDEXER_URL", url)
        .env(
            "TEMPLATE_FILE",
            root().join("tests/fixtures/wazuh/wazuh-template.json"),
        )
        .env(
            "ALERTS_FILE",
            root().join("tests/fixtures/wazuh/alerts.ndjson"),
        )
        .env("WAIT_SECONDS", "10");
    for (k, v) in extra {
        cmd.env(k, v);
    }
    tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .expect("loader finishes")
        .expect("python3 runs")
}

async fn search(url: &str, body: Value) -> Value {
    reqwest::Client::new()
        .post(format!("{url}/wazuh-alerts-4.x-*/_search"))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn total(v: &Value) -> u64 {
    v["hits"]["total"]["value"].as_u64().unwrap()
}

#[tokio::test]
async fn loads_every_sample_alert_with_fresh_ordered_timestamps() {
    let os = Osmem::start().await;
    let before = Utc::now();
    let out = run_loader(&os.url, &[]).await;
    let after = Utc::now();
    assert!(
        out.status.success(),
        "loader failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("loaded 53 alerts"));

    // The Wazuh template is installed, so fields get Wazuh's types.
    let t: Value = reqwest::get(format!("{}/_template/wazuh", os.url))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(t["wazuh"]["index_patterns"].is_array(), "{t}");

    // Every alert is in the last 10 minutes (+1 min newest age), by both time fields.
    let n = sample_alerts().len() as u64;
    for field in ["timestamp", "@timestamp"] {
        let r = search(
            &os.url,
            json!({"size": 0, "query": {"range": {field: {"gte": "now-12m", "lte": "now"}}}}),
        )
        .await;
        assert_eq!(total(&r), n, "{field}: {r}");
    }
    let r = search(
        &os.url,
        json!({"size": 100, "sort": [{"@timestamp": "desc"}]}),
    )
    .await;
    let hits = r["hits"]["hits"].as_array().unwrap();
    assert_eq!(hits.len() as u64, n);
    let times: Vec<DateTime<Utc>> = hits
        .iter()
        .map(|h| {
            h["_source"]["@timestamp"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let newest = times[0];
    assert!(newest <= after - Duration::seconds(59) && newest >= before - Duration::seconds(61));
    let oldest = times[times.len() - 1];
    let span = (newest - oldest).num_milliseconds();
    assert!((599_000..=601_000).contains(&span), "spread over {span} ms");
    // Dashboard sample flags are removed so the connector's default filter keeps them.
    assert!(hits
        .iter()
        .all(|h| h["_source"].get("@sampledata").is_none()));
    // Original chronological order is kept: the newest original alert is still the newest.
    let originals = sample_alerts();
    let newest_original = originals
        .iter()
        .max_by_key(|a| a["timestamp"].as_str().unwrap().to_string())
        .unwrap();
    assert_eq!(hits[0]["_source"]["id"], newest_original["id"]);
    assert_eq!(
        hits[0]["_source"]["rule"]["id"],
        newest_original["rule"]["id"]
    );
    // One fixed index, matched by the Wazuh template and the connector's default pattern.
    assert!(hits.iter().all(|h| h["_index"] == "wazuh-alerts-4.x-demo"));

    // Running it again overwrites instead of duplicating.
    let again = run_loader(&os.url, &[("KEEP_SAMPLEDATA", "true")]).await;
    assert!(again.status.success());
    let r = search(&os.url, json!({"size": 0})).await;
    assert_eq!(total(&r), n);
    let r = search(
        &os.url,
        json!({"size": 0, "query": {"exists": {"field": "@sampledata"}}}),
    )
    .await;
    assert_eq!(total(&r), 16, "KEEP_SAMPLEDATA keeps the flag");
}

#[tokio::test]
async fn unreachable_indexer_fails_with_a_reason() {
    // The discard port: nothing listens there (a port freed a moment ago could be taken by a
    // server another test starts).
    let out = run_loader("http://127.0.0.1:9", &[("WAIT_SECONDS", "1")]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("not reachable after 1s"), "{err}");
}

#[tokio::test]
async fn rejected_documents_fail_the_load() {
    let os = Osmem::start().await;
    // An alerts file whose `timestamp` cannot be a date under the Wazuh template mapping
    // is not possible after rewriting, so make the template itself invalid for one field:
    // map `rule.level` as a date, which the sample alerts' integers are not.
    let dir = tempfile::tempdir().unwrap();
    let mut tpl: Value = serde_json::from_str(osmem::WAZUH_TEMPLATE).unwrap();
    tpl["mappings"]["properties"]["rule"]["properties"]["level"] =
        json!({"type": "date", "format": "strict_date"});
    let tpl_path = dir.path().join("t.json");
    std::fs::write(&tpl_path, tpl.to_string()).unwrap();
    let out = run_loader(&os.url, &[("TEMPLATE_FILE", tpl_path.to_str().unwrap())]).await;
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(err.contains("bulk load failed"), "{err}");
}

#[tokio::test]
async fn loads_through_tls_and_basic_auth_like_a_real_indexer() {
    let os = Osmem::start().await;
    let front = tls_front::TlsFront::start(&os.url, "loader", "s3cret").await;
    let ca = front.ca_pem.to_str().unwrap().to_string();
    let auth = [
        ("INDEXER_USERNAME", "loader"),
        ("INDEXER_PASSWORD", "s3cret"),
    ];

    // Trusting the indexer's CA, with the right credentials: loaded.
    let with_ca: Vec<(&str, &str)> = auth
        .iter()
        .copied()
        .chain([("INDEXER_CA_BUNDLE", ca.as_str())])
        .collect();
    let out = run_loader(&front.url, &with_ca).await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = search(&os.url, json!({"size": 0})).await;
    assert_eq!(total(&r), sample_alerts().len() as u64);

    // Wrong password: stops at once with a hint, does not wait out WAIT_SECONDS.
    let started = std::time::Instant::now();
    let out = run_loader(
        &front.url,
        &[
            ("INDEXER_USERNAME", "loader"),
            ("INDEXER_PASSWORD", "wrong"),
            ("INDEXER_CA_BUNDLE", ca.as_str()),
            ("WAIT_SECONDS", "50"),
        ],
    )
    .await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the credentials (HTTP 401)"), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(45),
        "waited for the indexer after a 401"
    );

    // Certificate not trusted: refused (TLS verification is on by default)...
    let out = run_loader(&front.url, &[auth[0], auth[1], ("WAIT_SECONDS", "1")]).await;
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("CERTIFICATE_VERIFY_FAILED"), "{err}");

    // ...unless verification is explicitly turned off (demo certificates).
    let out = run_loader(
        &front.url,
        &[auth[0], auth[1], ("INDEXER_INSECURE", "true")],
    )
    .await;
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
