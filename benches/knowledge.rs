//! Knowledge building throughput: the full bundle (sightings, incidents, case, notes, context
//! objects) from 1,000 and 10,000 alerts, and its serialisation. Alerts are the reference
//! fixture's seven alerts repeated over 20 agents with distinct ids and times.

use chrono::{TimeZone, Utc};
use connector_wazuh::alert::{Alert, SearchResult};
use connector_wazuh::config::{IndexerSettings, KnowledgeOptions, OrderBy, SearchOptions, Secret};
use connector_wazuh::entity::{Entity, IndicatorInfo};
use connector_wazuh::knowledge::{self, stats, KnowledgeInput};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Value};
use std::hint::black_box;
use std::time::Duration;

fn fixture() -> Value {
    let text = std::fs::read_to_string("tests/fixtures/reference/bundles.json").expect("fixture");
    serde_json::from_str(&text).expect("json")
}

fn alerts(n: usize, base: &[Value]) -> Vec<Alert> {
    (0..n)
        .map(|i| {
            let hit = &base[i % base.len()];
            let mut src = hit["_source"].clone();
            let agent = 1 + (i % 20);
            src["agent"]["id"] = json!(format!("{agent:03}"));
            src["agent"]["name"] = json!(format!("host-{agent}"));
            src["agent"]["ip"] = json!(format!("10.0.0.{agent}"));
            let t = Utc.with_ymd_and_hms(2024, 6, 1, 0, 0, 0).unwrap()
                + chrono::Duration::seconds(i as i64 * 7);
            src["@timestamp"] = json!(t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string());
            Alert::from_source(
                &format!("doc{i}"),
                hit["_index"].as_str().unwrap_or("i"),
                src,
            )
            .expect("alert")
        })
        .collect()
}

fn indexer() -> IndexerSettings {
    IndexerSettings {
        url: "https://127.0.0.1:9200".into(),
        username: "admin".into(),
        password: Secret::new("x"),
        verify_tls: true,
        ca_bundle: None,
        index: "wazuh-alerts-*".into(),
        timeout: Duration::from_secs(20),
        retries: 3,
        search_after: None,
        include_match: vec![],
        exclude_match: vec![],
        filter: vec![],
        limit: 10_000,
        order_by: vec![OrderBy {
            field: "@timestamp".into(),
            descending: true,
        }],
        exclude_sample_data: true,
        vulnerability_state_index: None,
    }
}

fn bench(c: &mut Criterion) {
    let f = fixture();
    let base = f["fixtures"]["alerts_ip"]
        .as_array()
        .expect("alerts")
        .clone();
    let entity = Entity {
        standard_id: f["fixtures"]["ip_entity"]["standard_id"]
            .as_str()
            .unwrap_or_default()
            .into(),
        entity_type: "IPv4-Addr".into(),
        stix: f["fixtures"]["ip_stix_entity"].clone(),
        markings: vec![],
        labels: vec![],
        created_by_ref: None,
    };
    let indicators = vec![IndicatorInfo {
        standard_id: "indicator--5f1a7c3e-0b7d-5e1f-9a51-3b9f0c6b1d22".into(),
        name: "141.98.81.37".into(),
        detection: Some(true),
        score: Some(80),
        ..IndicatorInfo::default()
    }];
    let options = KnowledgeOptions {
        app_url: "https://wazuh.example.org/".into(),
        ..KnowledgeOptions::default()
    };
    let search = SearchOptions::default();
    let ix = indexer();
    let tools = vec!["PowerShell".to_string(), "certutil".to_string()];
    let mut group = c.benchmark_group("knowledge");
    group.sample_size(10);
    for n in [1_000usize, 10_000] {
        let mut sample = alerts(n, &base);
        let (agents, rules) = stats::from_alerts(&sample);
        sample.reverse();
        let result = SearchResult {
            total: n as u64,
            took_ms: 1,
            alerts: sample,
            agents,
            rules,
            shard_failures: vec![],
            query: json!({}),
            vulnerable_agents: None,
        };
        let input = KnowledgeInput {
            entity: &entity,
            observable: None,
            indicators: &indicators,
            result: &result,
            options: &options,
            indexer: &ix,
            search: &search,
            tools_in_opencti: &tools,
            now: Utc.with_ymd_and_hms(2024, 6, 10, 12, 0, 0).unwrap(),
            automatic: false,
            sighting_of: entity.standard_id.clone(),
        };
        group.throughput(Throughput::Elements(n as u64));
        group.bench_with_input(BenchmarkId::new("build", n), &input, |b, input| {
            b.iter(|| knowledge::build(black_box(input)).expect("build"))
        });
        let k = knowledge::build(&input).expect("build");
        eprintln!("{n} alerts → {} objects", k.objects.len());
        group.bench_with_input(
            BenchmarkId::new("build+serialise", n),
            &input,
            |b, input| {
                b.iter(|| {
                    let k = knowledge::build(black_box(input)).expect("build");
                    serde_json::to_vec(&k.objects).expect("json").len()
                })
            },
        );
        // Where the time goes: without alert notes, and without context objects.
        let no_notes = KnowledgeOptions {
            max_notes: 0,
            max_notes_per_alert_rule: 0,
            ..options.clone()
        };
        let no_context = KnowledgeOptions {
            enrich_types: Default::default(),
            ..options.clone()
        };
        for (label, o) in [
            ("build-without-alert-notes", &no_notes),
            ("build-without-context", &no_context),
        ] {
            let variant = KnowledgeInput {
                options: o,
                ..input.clone()
            };
            group.bench_with_input(BenchmarkId::new(label, n), &variant, |b, input| {
                b.iter(|| knowledge::build(black_box(input)).expect("build"))
            });
        }
        group.bench_with_input(
            BenchmarkId::new("stats_from_alerts", n),
            &result.alerts,
            |b, a| b.iter(|| stats::from_alerts(black_box(a))),
        );
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
