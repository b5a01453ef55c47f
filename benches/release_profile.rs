//! CPU work typical of one enrichment, used to compare release profiles (docs/bench-release.md):
//! parsing an indexer `_search` response with the 53 sample alerts, turning every hit into an
//! `Alert`, deriving a deterministic STIX id per alert, and rendering the metrics page.
//! Run: `cargo bench --bench release_profile --profile release` (or `release-small`).

use std::hint::black_box;

use connector_wazuh::alert::Alert;
use connector_wazuh::ops::{Metrics, Outcome};
use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

const ALERTS: &str = include_str!("../tests/fixtures/wazuh/alerts.ndjson");

/// A `_search` response body as the indexer would send it.
fn search_response() -> String {
    let hits: Vec<Value> = ALERTS
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            let source: Value = serde_json::from_str(l).expect("fixture is JSON");
            json!({"_index": "wazuh-alerts-4.x-2026.11.27", "_id": format!("id{i}"), "_score": null, "_source": source})
        })
        .collect();
    json!({"took": 3, "timed_out": false, "hits": {"total": {"value": hits.len(), "relation": "eq"}, "hits": hits}})
        .to_string()
}

fn parse_and_identify(body: &str) -> usize {
    let v: Value = serde_json::from_str(body).expect("valid response");
    let mut n = 0;
    for hit in v["hits"]["hits"].as_array().into_iter().flatten() {
        let id = hit["_id"].as_str().unwrap_or_default();
        if let Ok(alert) = Alert::from_source(id, "wazuh-alerts", hit["_source"].clone()) {
            let sco = json!({"value": alert.agent.name});
            n += connector_wazuh::stix::id::sco("hostname", &sco).len();
        }
    }
    n
}

fn bench(c: &mut Criterion) {
    let body = search_response();
    c.bench_function("parse 53-hit search response + ids", |b| {
        b.iter(|| parse_and_identify(black_box(&body)))
    });
    let m = Metrics::new();
    for i in 0..100u64 {
        m.request_started();
        m.search_finished(std::time::Duration::from_millis(i), i);
        m.request_finished(Outcome::Enriched, std::time::Duration::from_millis(10 * i));
        m.opencti_api_error("pingConnector");
    }
    c.bench_function("render /metrics", |b| {
        b.iter(|| black_box(m.encode()).len())
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
