//! Settings builders: one place that spells out an [`IndexerSettings`] (the connector's
//! defaults), and one that loads full [`Settings`] from an environment the way the binary does.
//! Tests change what they need with struct-update syntax:
//! `IndexerSettings { retries: 0, ..settings::indexer(url) }`.

use std::collections::HashMap;
use std::time::Duration;

use connector_wazuh::config::{FieldMatch, IndexerSettings, OrderBy, Secret, Settings};

/// The indexer at `url` with the connector's defaults: basic auth `admin`/`admin`, TLS verified,
/// `wazuh-alerts-*`, 20 s timeout, 3 retries, 50 hits newest first, the connector's own alerts
/// (`data.integration: opencti`) and Wazuh's sample data excluded.
pub fn indexer(url: &str) -> IndexerSettings {
    IndexerSettings {
        url: url.to_string(),
        username: "admin".into(),
        password: Secret::new("admin"),
        verify_tls: true,
        ca_bundle: None,
        index: "wazuh-alerts-*".into(),
        timeout: Duration::from_secs(20),
        retries: 3,
        search_after: None,
        include_match: vec![],
        exclude_match: vec![FieldMatch {
            field: "data.integration".into(),
            query: "opencti".into(),
        }],
        filter: vec![],
        limit: 50,
        order_by: vec![OrderBy {
            field: "@timestamp".into(),
            descending: true,
        }],
        exclude_sample_data: true,
        vulnerability_state_index: None,
    }
}

/// Settings loaded from exactly `env` (no configuration file), as the binary loads them.
pub fn load(env: HashMap<String, String>) -> Settings {
    connector_wazuh::config::load::load(&connector_wazuh::config::load::LoadInput {
        file: None,
        env,
    })
    .unwrap_or_else(|e| panic!("test settings rejected: {e}"))
}
