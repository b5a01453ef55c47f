//! The connector's CPU work for one request at the 10,000-hit tier, stage by stage and in
//! total (`BENCHMARKS.md`): building the search body, parsing the indexer's answer, building the
//! knowledge, and turning it into push-queue messages. The response has the shape the daemon
//! gets for an observable in 10,000 alerts: `WAZUH_OPENSEARCH_LIMIT` newest alerts (from the
//! sample alerts), an exact total, and the lean aggregation tree (25 agents × their rules). `benches/search.rs` and `benches/knowledge.rs` cover query building per
//! entity type and the 1,000/10,000-hit parse and build cases.

use std::collections::HashMap;
use std::hint::black_box;

use chrono::{TimeZone, Utc};
use connector_wazuh::alert::SearchResult;
use connector_wazuh::config::load::{load, LoadInput};
use connector_wazuh::config::Settings;
use connector_wazuh::entity::Entity;
use connector_wazuh::indexer::parse_search_response;
use connector_wazuh::knowledge::{self, KnowledgeInput};
use connector_wazuh::search::envelope::SearchRequest;
use criterion::{criterion_group, BenchmarkId, Criterion};
use serde_json::{json, Value};

const SAMPLES: &str = include_str!("../tests/fixtures/wazuh/alerts.ndjson");
const AGENTS: usize = 25;
const IP: &str = "45.83.64.13";

fn settings(limit: usize) -> Settings {
    let env: HashMap<String, String> = [
        ("OPENCTI_URL", "http://127.0.0.1:8080"),
        ("OPENCTI_TOKEN", "0123456789abcdef"),
        ("CONNECTOR_ID", "5f0b3a3e-2a8e-4a9b-8f7e-1b2c3d4e5f60"),
        ("WAZUH_OPENSEARCH_URL", "http://127.0.0.1:9200"),
        ("WAZUH_APP_URL", "https://wazuh.example.org/"),
        ("WAZUH_OPENSEARCH_LIMIT", &limit.to_string()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    load(&LoadInput { file: None, env }).expect("settings")
}

fn samples() -> Vec<Value> {
    SAMPLES
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("sample"))
        .collect()
}

fn stamp(i: usize) -> (f64, String) {
    let t = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        + chrono::Duration::seconds(120_000 - i as i64 * 12);
    (
        t.timestamp_millis() as f64,
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
    )
}

/// A `_search` answer for an IPv4 address seen in `total` alerts, `hits` of them returned.
fn response(total: u64, hits: usize) -> Vec<u8> {
    let base = samples();
    let hit = |i: usize| {
        let mut src = base[i % base.len()].clone();
        let a = i % AGENTS;
        src["agent"] = json!({"id": format!("{:03}", a + 1), "name": format!("bench-host-{:02}", a + 1), "ip": format!("10.60.{a}.{}", 10 + a)});
        src["@timestamp"] = json!(stamp(i).1);
        src["data"]["dstip"] = json!(IP);
        json!({"_index": "wazuh-alerts-4.x-2026.11.01", "_id": format!("doc{i}"), "_score": null, "_source": src, "sort": [stamp(i).0]})
    };
    // The lean aggregation tree the daemon asks for (`search::envelope::aggregations`):
    // agents → rules, each (agent, rule) bucket with its span and newest sample.
    let per_agent = total / AGENTS as u64;
    let rule_bucket = |r: usize, a: usize, n: u64| {
        let s = &base[r % base.len()]["rule"];
        json!({"key": s["id"].clone(), "doc_count": n,
               "ts": {"count": n, "min": stamp(10_000).0, "max": stamp(0).0},
               "ts_alt": {"count": 0, "min": null, "max": null},
               "sample": {"hits": {"hits": [{"_source": {
                   "rule": {"description": s["description"], "level": s["level"]},
                   "agent": {"name": format!("bench-host-{:02}", a + 1), "ip": format!("10.60.{a}.{}", 10 + a)}}}]}}})
    };
    let agent_bucket = |a: usize| {
        let rules: Vec<Value> = (0..base.len())
            .filter(|r| r % AGENTS == a % AGENTS || r % 5 == a % 5)
            .map(|r| rule_bucket(r, a, per_agent / 12 + 1))
            .collect();
        json!({"key": format!("{:03}", a + 1), "doc_count": per_agent,
               "rules": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": rules}})
    };
    serde_json::to_vec(&json!({
        "took": 40, "timed_out": false,
        "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": total, "relation": "eq"}, "max_score": null,
                 "hits": (0..hits).map(hit).collect::<Vec<_>>()},
        "aggregations": {
            "agents": {"doc_count_error_upper_bound": 0, "sum_other_doc_count": 0, "buckets": (0..AGENTS).map(agent_bucket).collect::<Vec<_>>()}
        }
    }))
    .expect("json")
}

fn entity() -> Entity {
    let id = "ipv4-addr--7d1f3c52-3f0e-5b1c-9a8e-0c1d2e3f4a5b";
    Entity {
        standard_id: id.into(),
        entity_type: "IPv4-Addr".into(),
        stix: json!({"id": id, "type": "ipv4-addr", "spec_version": "2.1", "value": IP}),
        markings: vec![],
        labels: vec![],
        created_by_ref: None,
    }
}

/// Search body for the entity, serialised as reqwest sends it.
fn build_body(s: &Settings, stix: &Value) -> Vec<u8> {
    let (_, q) = connector_wazuh::search::plan("IPv4-Addr", stix, &HashMap::new(), &s.search)
        .expect("plan")
        .expect("query");
    let req = SearchRequest::new(
        q,
        &s.indexer,
        &s.knowledge,
        Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap(),
    );
    serde_json::to_vec(&req.body).expect("json")
}

/// Objects → the one-object push messages, serialised (what the daemon publishes).
fn deliver(objects: &[Value]) -> usize {
    use connector_wazuh::runtime::result;
    let b = result::bundle(objects.to_vec());
    let id = b["id"].as_str().unwrap_or_default();
    let objects = b["objects"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default();
    result::split_order(objects)
        .into_iter()
        .enumerate()
        .map(|(i, (seq, index))| {
            let part = result::part(id, seq, &objects[index]);
            connector_wazuh::amqp::push_message(&part, None, Some("work"), None, i as u64 + 1).len()
        })
        .sum()
}

/// The whole CPU path of one request (indexer and network excluded).
fn one_request(s: &Settings, e: &Entity, body: &[u8]) -> usize {
    let _ = black_box(build_body(s, &e.stix));
    let result = parse_search_response(body, json!({})).expect("parse");
    let k = knowledge::build(&knowledge_input(s, e, &result)).expect("build");
    deliver(&k.objects)
}

/// The knowledge builder's input for the benchmark entity (manual request, fixed clock).
fn knowledge_input<'a>(
    s: &'a Settings,
    e: &'a Entity,
    result: &'a SearchResult,
) -> KnowledgeInput<'a> {
    KnowledgeInput {
        entity: e,
        observable: None,
        indicators: &[],
        result,
        options: &s.knowledge,
        indexer: &s.indexer,
        search: &s.search,
        tools_in_opencti: &[],
        now: Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap(),
        automatic: false,
        sighting_of: e.standard_id.clone(),
    }
}

fn bench(c: &mut Criterion) {
    let e = entity();
    let mut g = c.benchmark_group("request_10k_tier");
    g.sample_size(20);
    for limit in [50usize, 1_000] {
        let s = settings(limit);
        let body = response(10_000, limit);
        g.bench_with_input(BenchmarkId::new("build_search_body", limit), &s, |b, s| {
            b.iter(|| build_body(s, black_box(&e.stix)))
        });
        g.bench_with_input(
            BenchmarkId::new("parse_response", limit),
            &body,
            |b, body| b.iter(|| parse_search_response(black_box(body), json!({})).expect("parse")),
        );
        let result = parse_search_response(&body, json!({})).expect("parse");
        let input = knowledge_input(&s, &e, &result);
        g.bench_with_input(
            BenchmarkId::new("knowledge_build", limit),
            &input,
            |b, i| b.iter(|| knowledge::build(black_box(i)).expect("build")),
        );
        let k = knowledge::build(&input).expect("build");
        let bytes = deliver(&k.objects);
        eprintln!(
            "limit {limit}: response {} KB, {} objects, {} KB of push messages",
            body.len() / 1024,
            k.objects.len(),
            bytes / 1024
        );
        g.bench_with_input(
            BenchmarkId::new("deliver_split_encode", limit),
            &k.objects,
            |b, o| b.iter(|| deliver(black_box(o))),
        );
        g.bench_with_input(
            BenchmarkId::new("whole_request", limit),
            &body,
            |b, body| b.iter(|| one_request(&s, &e, black_box(body))),
        );
    }
    g.finish();
}

criterion_group!(benches, bench);

/// Under `cargo test --all-targets` (libtest arguments criterion rejects) every routine runs
/// once as a smoke test.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.iter().any(|a| a.starts_with("--test-threads")) || !args.iter().any(|a| a == "--bench")
    {
        let s = settings(50);
        let e = entity();
        assert!(one_request(&s, &e, &response(10_000, 50)) > 0);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
