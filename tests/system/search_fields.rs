//! User-defined fields (`WAZUH_SEARCH_FIELDS_ADD` / `_REMOVE`) end to end: settings loaded as a
//! deployment loads them, the real query building and indexer client, osmem-server holding the
//! Wazuh template. A FortiGate alert keeps the remote address in `data.fortigate.remote_addr`,
//! a field no built-in vocabulary entry names: found only once the field is added; an alert
//! found through a built-in field is lost once that field is removed.

use std::collections::HashMap;

use chrono::{TimeZone, Utc};
use connector_wazuh::config::Settings;
use connector_wazuh::indexer::IndexerClient;
use connector_wazuh::search::envelope::SearchRequest;
use serde_json::json;

use crate::testkit::osmem::Osmem;

fn load(url: &str, add: &str, remove: &str) -> Result<Settings, String> {
    connector_wazuh::config::load::load(&connector_wazuh::config::load::LoadInput {
        file: None,
        env: [
            ("OPENCTI_URL", "http://127.0.0.1:9"),
            ("OPENCTI_TOKEN", "00000000-0000-4000-8000-000000000001"),
            ("CONNECTOR_ID", "00000000-0000-4000-8000-000000000002"),
            ("WAZUH_OPENSEARCH_URL", url),
            ("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS", "false"),
            ("WAZUH_SEARCH_FIELDS_ADD", add),
            ("WAZUH_SEARCH_FIELDS_REMOVE", remove),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
    })
    .map_err(|e| e.to_string())
}

/// The rule ids of the alerts found for an observable.
async fn rules(s: &Settings, entity_type: &str, stix: serde_json::Value) -> Vec<String> {
    let (_, q) = connector_wazuh::search::plan(entity_type, &stix, &HashMap::new(), &s.search)
        .unwrap()
        .unwrap();
    let now = Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
    let req = SearchRequest::new(q, &s.indexer, &s.knowledge, now);
    let client = IndexerClient::new(&s.indexer).unwrap();
    let mut ids: Vec<String> = client
        .search(&req)
        .await
        .unwrap()
        .alerts
        .into_iter()
        .map(|a| a.rule.id)
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn an_added_field_finds_what_only_it_holds_and_a_removed_one_no_longer_does() {
    let os = Osmem::start().await;
    os.apply_wazuh_template().await;
    let alert = |rule: &str, data: serde_json::Value| {
        json!({"@timestamp": "2026-11-27T10:00:00.000Z", "timestamp": "2026-11-27T10:00:00.000+0000",
               "rule": {"id": rule, "level": 5, "description": "test"},
               "agent": {"id": "001", "name": "fw"}, "data": data})
    };
    os.bulk_index(
        "wazuh-alerts-4.x-2026.11.27",
        [
            alert(
                "81601",
                json!({"fortigate": {"remote_addr": "198.51.100.77"}}),
            ),
            alert("5710", json!({"srcip": "198.51.100.78"})),
        ],
    )
    .await;
    let ip = |v: &str| json!({ "value": v });

    let built_in = load(&os.url, "", "").unwrap();
    assert!(rules(&built_in, "IPv4-Addr", ip("198.51.100.77"))
        .await
        .is_empty());
    assert_eq!(
        rules(&built_in, "IPv4-Addr", ip("198.51.100.78")).await,
        ["5710"]
    );

    let added = load(&os.url, "ip:data.fortigate.remote_addr", "").unwrap();
    assert_eq!(
        rules(&added, "IPv4-Addr", ip("198.51.100.77")).await,
        ["81601"]
    );

    let removed = load(&os.url, "", "ip:*.srcip").unwrap();
    assert!(rules(&removed, "IPv4-Addr", ip("198.51.100.78"))
        .await
        .is_empty());
}

#[test]
fn bad_field_options_stop_the_start_with_the_option_named() {
    let e = load("http://127.0.0.1:9200", "address:data.x", "").unwrap_err();
    assert!(
        e.contains("WAZUH_SEARCH_FIELDS_ADD") && e.contains("not a value kind"),
        "{e}"
    );
    let e = load("http://127.0.0.1:9200", "", "ip:data.not.listed").unwrap_err();
    assert!(
        e.contains("WAZUH_SEARCH_FIELDS_REMOVE") && e.contains("cannot be removed"),
        "{e}"
    );
}
