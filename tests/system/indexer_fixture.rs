//! The test indexer holds what the other tests assume: the Wazuh template applied and all sample
//! alerts searchable, with Wazuh's keyword mapping.

use crate::testkit::osmem::Osmem;
use serde_json::json;

#[tokio::test]
async fn sample_alerts_are_loaded_with_the_wazuh_mapping() {
    let os = Osmem::start().await;
    let docs = os.load_sample_alerts().await;
    let http = reqwest::Client::new();
    let r: serde_json::Value = http
        .post(format!("{}/wazuh-alerts-*/_search", os.url))
        .json(&json!({"size": 0, "track_total_hits": true, "query": {"match_all": {}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["hits"]["total"]["value"].as_u64(),
        Some(docs.len() as u64)
    );
    // rule.id is a keyword: a term query on the exact string finds the sshd alerts.
    let r: serde_json::Value = http
        .post(format!("{}/wazuh-alerts-*/_search", os.url))
        .json(&json!({"query": {"term": {"rule.id": "5710"}}}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        r["hits"]["total"]["value"].as_u64().unwrap_or(0) >= 1,
        "{r}"
    );
}
