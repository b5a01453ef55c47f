//! What an enrichment costs the indexer, counted at the wire (a proxy in front of osmem-server):
//! when every matching alert fits in the sample, exactly one search and no aggregation; above
//! the sample, one plain search and one aggregation request, with exact per-agent counts and
//! first/last seen; a slow indexer shrinks the in-flight limit and a fast one grows it back;
//! the readiness probe scans nothing; every search carries the client's timeout to the indexer.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::testkit::faults::FlakyProxy;
use crate::testkit::osmem::Osmem;
use chrono::{DateTime, TimeZone, Utc};
use connector_wazuh::config::options::{KnowledgeOptions, SearchOptions};
use connector_wazuh::config::IndexerSettings;
use connector_wazuh::indexer::{limit, IndexerClient};
use connector_wazuh::search::envelope::{format_utc, SearchRequest};
use connector_wazuh::search::{observable, query};
use serde_json::{json, Value};

const INDEX: &str = "wazuh-alerts-4.x-2026.10.01";
/// (value, alerts holding it): under, at and above the 50-alert sample.
const TIERS: &[(&str, u64)] = &[
    ("45.83.70.7", 7),
    ("45.83.70.50", 50),
    ("45.83.70.51", 51),
    ("45.83.70.100", 1_000),
    ("45.83.70.200", 10_000),
];
const AGENTS: u64 = 13;
const RULES: &[(&str, u8)] = &[("5710", 5), ("5712", 10), ("31101", 6), ("86601", 3)];

fn base() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap()
}

/// Alert `n` of the tier holding `value`: agents and rules cycle, times 7 s apart.
fn alert(value: &str, tier: usize, n: u64) -> (String, String, DateTime<Utc>, Value) {
    let agent = format!("{:03}", 1 + (n * 5 + tier as u64) % AGENTS);
    let (rule, level) = RULES[((n / 3) % RULES.len() as u64) as usize];
    let ts = base() + chrono::Duration::milliseconds((n * 7_000 + tier as u64 * 131) as i64);
    let doc = json!({
        "@timestamp": format_utc(ts),
        "timestamp": ts.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "agent": {"id": agent, "name": format!("host-{agent}"), "ip": "10.1.2.3"},
        "manager": {"name": "wazuh-manager"},
        "rule": {"id": rule, "level": level, "description": format!("rule {rule}")},
        "data": {"srcip": value},
        "location": "/var/log/auth.log",
    });
    (agent, rule.to_string(), ts, doc)
}

/// Per agent: (count, first seen, last seen), as the indexer must report them.
type Expected = BTreeMap<String, (u64, DateTime<Utc>, DateTime<Utc>)>;

async fn corpus(os: &Osmem) -> Vec<Expected> {
    os.apply_wazuh_template().await;
    let mut docs = Vec::new();
    let mut expected = Vec::new();
    for (tier, (value, n)) in TIERS.iter().enumerate() {
        let mut e = Expected::new();
        for i in 0..*n {
            let (agent, _, ts, doc) = alert(value, tier, i);
            let x = e.entry(agent).or_insert((0, ts, ts));
            x.0 += 1;
            x.1 = x.1.min(ts);
            x.2 = x.2.max(ts);
            docs.push(doc);
        }
        expected.push(e);
    }
    os.bulk_index(INDEX, docs).await;
    expected
}

fn request(s: &IndexerSettings, value: &str) -> SearchRequest {
    let obs =
        observable::from_stix("IPv4-Addr", &json!({"value": value}), &Default::default()).unwrap();
    let q = query::build(&obs, &SearchOptions::default())
        .unwrap()
        .unwrap();
    SearchRequest::new(q, s, &KnowledgeOptions::default(), Utc::now())
}

fn settings(url: &str) -> IndexerSettings {
    IndexerSettings {
        timeout: Duration::from_secs(60),
        retries: 0,
        exclude_sample_data: false,
        ..crate::testkit::settings::indexer(url)
    }
}

fn seen(p: &FlakyProxy) -> u64 {
    p.rules.lock().unwrap().seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_search_when_the_sample_holds_every_alert_exact_statistics_above_it() {
    let os = Osmem::start().await;
    let expected = corpus(&os).await;
    let proxy = FlakyProxy::start(&os.url).await;
    let s = settings(&proxy.url);
    // Above the sample: the alerts' fields (up to 10,000), else the aggregations; both exact.
    for client in [
        IndexerClient::new(&s).unwrap(),
        IndexerClient::new(&s).unwrap().with_max_facts_fetch(0),
    ] {
        check_tiers(&client, &proxy, &s, &expected).await;
    }
}

async fn check_tiers(
    client: &IndexerClient,
    proxy: &FlakyProxy,
    s: &IndexerSettings,
    expected: &[Expected],
) {
    for ((value, total), want) in TIERS.iter().zip(expected) {
        let before = seen(proxy);
        let r = client.search(&request(s, value)).await.unwrap();
        let searches = seen(proxy) - before;
        let sample = s.limit as u64;
        assert_eq!(r.total, *total, "{value}: exact total");
        assert_eq!(
            searches,
            if *total <= sample { 1 } else { 2 },
            "{value}: {total} hits, sample of {sample}: searches sent"
        );
        assert_eq!(r.alerts.len() as u64, (*total).min(sample));
        // Per agent: exact count and first/last seen, however the statistics were computed.
        let got: Expected = r
            .agents
            .iter()
            .map(|a| {
                let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().to_utc();
                (
                    a.agent.id.clone(),
                    (a.count, t(&a.first_seen), t(&a.last_seen)),
                )
            })
            .collect();
        assert_eq!(&got, want, "{value}: per-agent statistics");
        assert!(r
            .agents
            .iter()
            .all(|a| a.agent.name == format!("host-{}", a.agent.id)));
        // Per rule: exact counts adding up to the total, each with its level.
        assert_eq!(r.rules.iter().map(|x| x.count).sum::<u64>(), *total);
        for x in &r.rules {
            let level = RULES.iter().find(|(id, _)| *id == x.rule_id).unwrap().1;
            assert_eq!(x.level, level, "{value}: level of rule {}", x.rule_id);
            assert_eq!(x.description, format!("rule {}", x.rule_id));
        }
        let per_agent_rules: u64 = r
            .agents
            .iter()
            .flat_map(|a| &a.rules)
            .map(|x| x.count)
            .sum();
        assert_eq!(per_agent_rules, *total);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_in_flight_limit_backs_off_on_a_slow_indexer_and_recovers() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let proxy = FlakyProxy::start(&os.url).await;
    // Answers slower than a quarter of the client timeout mean the indexer is queueing.
    let s = IndexerSettings {
        timeout: Duration::from_secs(4),
        ..settings(&proxy.url)
    };
    let client = IndexerClient::new(&s).unwrap();
    let req = request(&s, "45.75.196.15");
    assert_eq!(client.limiter().limit(), limit::MAX_IN_FLIGHT);
    proxy.delay_for(Duration::from_millis(1_500), Duration::from_secs(600));
    let slow: Vec<_> = (0..6)
        .map(|_| {
            let (c, r) = (client.clone(), req.clone());
            tokio::spawn(async move { c.search(&r).await.map(|r| r.total) })
        })
        .collect();
    for t in slow {
        assert_eq!(
            t.await.unwrap().unwrap(),
            3,
            "slow answers are still answers"
        );
    }
    assert_eq!(client.limiter().limit(), 1, "slow answers halve the limit");
    assert!(client.limiter().peak_in_flight() <= limit::MAX_IN_FLIGHT);
    proxy.delay_for(Duration::ZERO, Duration::ZERO);
    // 1 → 2 after one fast answer, → 3 after two more, → 4 after three more.
    for _ in 0..6 {
        client.search(&req).await.unwrap();
    }
    assert_eq!(client.limiter().limit(), limit::MAX_IN_FLIGHT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_probe_scans_nothing_and_searches_carry_the_client_timeout() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let s = settings(&os.url);
    let client = IndexerClient::new(&s).unwrap();
    assert!(client.probe("wazuh-alerts-*").await.unwrap() > 0);
    assert!(matches!(
        client.probe("no-such-index-*").await,
        Err(connector_wazuh::indexer::IndexerError::NoIndex(_))
    ));
    // The probe asks for no hits, no total, and matches no document.
    let body = connector_wazuh::indexer::probe_body(s.timeout);
    assert_eq!(body["query"], json!({"match_none": {}}));
    let r: Value = reqwest::Client::new()
        .post(format!("{}/wazuh-alerts-*/_search", os.url))
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["hits"]["hits"], json!([]));
    assert!(r["hits"].get("total").is_none(), "no total counted: {r}");
    assert!(r["_shards"]["total"].as_u64().unwrap() > 0);
    // Every search body carries the client's timeout, so the indexer stops when it gives up.
    let req = request(&s, "45.75.196.15");
    assert_eq!(req.body["timeout"], "60000ms");
    assert_eq!(req.stats_body()["timeout"], "60000ms");
}
