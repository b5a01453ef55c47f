//! Wazuh 5: the same enrichment over `wazuh-findings-v5-*` (WCS findings), chosen automatically.
//! osmem-server holds the findings template's mappings and the findings corpus built from the
//! dashboard's 5.x samples (`scripts/wazuh5-findings`); the expected figures are computed from
//! the corpus documents by `testkit::wazuh5::holding`, which knows no field of the connector.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::testkit::e2e::*;
use crate::testkit::fake_opencti::{FakeOpenCti, TLP_GREEN};
use crate::testkit::osmem::Osmem;
use crate::testkit::wazuh5::{agent_name, holding, levels_of, load_findings};
use chrono::{TimeZone, Utc};
use connector_wazuh::config::options::{KnowledgeOptions, SearchOptions};
use connector_wazuh::indexer::IndexerClient;
use connector_wazuh::schema::{self, Schema};
use connector_wazuh::search::envelope::SearchRequest;
use connector_wazuh::search::{observable, query};
use serde_json::{json, Value};

const IP: &str = "134.87.21.47";
const SHA256: &str = "8f83098166c79c5f31987b7311b9d709085d06b957879695fe0afd4288d9d6f7";
const DOMAIN: &str = "web.application.net";

/// A fresh observable's STIX export as OpenCTI gives it.
fn entity(stix_type: &str, opencti_type: &str, body: Value) -> Value {
    let mut v = json!({
        "id": format!("{stix_type}--{}", uuid::Uuid::new_v4()),
        "spec_version": "2.1",
        "type": stix_type,
        "object_marking_refs": [TLP_GREEN],
        "extensions": {"extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba": {"extension_type": "property-extension", "id": uuid::Uuid::new_v4().to_string(), "type": opencti_type, "is_inferred": false}}
    });
    for (k, x) in body.as_object().expect("object").iter() {
        v[k] = x.clone();
    }
    v
}

/// `agent id → (count, first seen, last seen)` of the sightings of a work, by system name.
fn sightings_by_agent(objects: &[Value]) -> BTreeMap<String, (u64, String, String)> {
    let mut out = BTreeMap::new();
    for s in of_type(objects, "sighting") {
        let sys = by_id(objects, s["where_sighted_refs"][0].as_str().unwrap()).unwrap();
        let name = sys["name"].as_str().unwrap().to_string();
        let iso = |v: &Value| time(v).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        out.insert(
            name,
            (
                s["count"].as_u64().unwrap(),
                iso(&s["first_seen"]),
                iso(&s["last_seen"]),
            ),
        );
    }
    out
}

/// The expected sightings, keyed like [`sightings_by_agent`] (the system's name contains the
/// agent's name).
fn expected_by_name(objects: &[Value], value: &str) -> BTreeMap<String, (u64, String, String)> {
    let systems: Vec<String> = of_type(objects, "identity")
        .iter()
        .filter_map(|i| i["name"].as_str().map(str::to_string))
        .collect();
    holding(value)
        .into_iter()
        .map(|(id, fig)| {
            let name = agent_name(&id);
            let system = systems
                .iter()
                .find(|s| s.contains(&name))
                .unwrap_or_else(|| panic!("no system for agent {id} {name}: {systems:?}"))
                .clone();
            (system, fig)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn findings_give_systems_per_agent_sightings_with_exact_counts_and_incidents() {
    let os = Osmem::start().await;
    load_findings(&os).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    // WAZUH_SCHEMA is left at `auto` and WAZUH_OPENSEARCH_INDEX at `wazuh-alerts-*`; a sample
    // of 2 makes the statistics come from the indexer, not from the sample.
    let c = connector(
        &octi,
        &os.url,
        &[
            ("WAZUH_OPENSEARCH_LIMIT", "2"),
            ("WAZUH_CREATE_INCIDENT", "per-sighting"),
        ],
    );
    let cases = [
        (IP, entity("ipv4-addr", "IPv4-Addr", json!({"value": IP}))),
        (
            SHA256,
            entity("file", "StixFile", json!({"hashes": {"SHA-256": SHA256}})),
        ),
        (
            DOMAIN,
            entity("domain-name", "Domain-Name", json!({"value": DOMAIN})),
        ),
    ];
    for (value, stix) in cases {
        let id = octi.add_entity(stix);
        let mut known = vec![];
        if value == IP {
            known.push(octi.add_indicator(
                json!({"id": "indicator--5b0c1f3e-8d2a-4f7e-9c61-2a7b9e4d0c05", "type": "indicator", "spec_version": "2.1", "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", "valid_from": "2026-01-05T10:00:00.000Z",
                       "name": IP, "pattern": format!("[ipv4-addr:value = '{IP}']"), "pattern_type": "stix", "x_opencti_score": 80}),
                &[&id],
            ));
        }
        let work = octi.new_work();
        octi.publish_request(&octi.manual_request(&work, &id, true))
            .await;
        let rec = octi.wait_for_work(&work).await;
        assert!(!rec.in_error, "{value}: {rec:?}");
        let objects = pushed(&octi, &work).await;
        let want = expected_by_name(&objects, value);
        assert!(
            want.len() >= 2,
            "{value}: the corpus has it on several agents"
        );
        let total: u64 = want.values().map(|w| w.0).sum();
        let msg = rec.messages.last().unwrap();
        assert!(
            msg.starts_with(&format!("{total} alert(s) in {} system(s)", want.len())),
            "{value}: {msg}"
        );
        assert_eq!(sightings_by_agent(&objects), want, "{value}");
        if value == IP {
            // Keyword levels become incident severities through the 4.x scale.
            let levels = levels_of(IP);
            assert_eq!(levels, vec!["low"], "corpus");
            let incidents = of_type(&objects, "incident");
            assert_eq!(incidents.len(), want.len(), "one incident per sighting");
            for i in &incidents {
                assert_eq!(i["severity"], "low", "{i:#}");
            }
            assert_eq!(of_type(&objects, "case-incident").len(), 1);
            // ATT&CK ids of the findings' rules become context.
            assert!(of_type(&objects, "attack-pattern")
                .iter()
                .any(|a| a["x_mitre_id"] == "T1110.001"
                    || a["name"].as_str().is_some_and(|n| n.contains("T1110"))));
        }
        let tlps = octi.settings(&[]).knowledge.tlps.clone();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        assert_valid_bundle(&octi, &work, &tlps, &known);
    }
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_indexer_aggregations_give_the_same_figures_on_findings() {
    let os = Osmem::start().await;
    load_findings(&os).await;
    let mut s = crate::testkit::settings::indexer(&os.url);
    s.timeout = Duration::from_secs(60);
    s.limit = 1;
    s.index = schema::V5.index_pattern.to_string();
    // Statistics from the lean aggregation tree (never from fetched fields).
    let client = IndexerClient::new(&s)
        .unwrap()
        .with_schema(Schema::V5)
        .with_max_facts_fetch(0);
    let mut settings = octi_free_settings();
    settings.indexer = s.clone();
    let settings = schema::apply(&settings, Schema::V5).unwrap();
    let opts = SearchOptions {
        vocabulary: settings.search.vocabulary.clone(),
        ..SearchOptions::default()
    };
    for (ty, stix, value) in [
        ("IPv4-Addr", json!({"value": IP}), IP),
        ("StixFile", json!({"hashes": {"SHA-256": SHA256}}), SHA256),
        ("Domain-Name", json!({"value": DOMAIN}), DOMAIN),
    ] {
        let obs = observable::from_stix(ty, &stix, &HashMap::new()).unwrap();
        let q = query::build(&obs, &opts).unwrap().unwrap();
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
        let req = SearchRequest::new(q, &s, &KnowledgeOptions::default(), now);
        let r = client.search(&req).await.unwrap();
        let got: BTreeMap<String, (u64, String, String)> = r
            .agents
            .iter()
            .map(|a| {
                (
                    a.agent.id.clone(),
                    (a.count, a.first_seen.clone(), a.last_seen.clone()),
                )
            })
            .collect();
        assert_eq!(got, holding(value), "{value}");
        assert_eq!(r.total, got.values().map(|g| g.0).sum::<u64>());
        // The sampled finding reads as an alert: agent, rule UUID, level on the 4.x scale.
        let a = &r.alerts[0];
        assert!(!a.agent.name.is_empty() && a.agent.ip.is_some(), "{a:?}");
        assert_eq!(a.rule.id.len(), 36, "{a:?}");
        assert!(a.rule.level > 0 && !a.rule.description.is_empty(), "{a:?}");
        assert!(r.agents.iter().all(|g| g.max_rule_level == a.rule.level));
    }
}

/// Settings without an OpenCTI (only the indexer and search parts are read).
fn octi_free_settings() -> connector_wazuh::config::Settings {
    let env: HashMap<String, String> = [
        ("OPENCTI_URL", "http://127.0.0.1:9"),
        ("OPENCTI_TOKEN", "t"),
        ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
        ("WAZUH_OPENSEARCH_URL", "http://127.0.0.1:9"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    crate::testkit::settings::load(env)
}

/// `connector-wazuh check`'s schema line against `os`.
async fn schema_line(octi: &FakeOpenCti, os: &Osmem, extra: &[(&str, &str)]) -> String {
    let mut env = octi.connector_env();
    env.insert("WAZUH_OPENSEARCH_URL".into(), os.url.clone());
    for (k, v) in extra {
        env.insert(k.to_string(), v.to_string());
    }
    let out = crate::testkit::cli::run(&["check"], &env).await;
    out.stdout
        .lines()
        .find(|l| l.contains("Wazuh schema"))
        .unwrap_or_else(|| panic!("no schema line in:\n{}", out.stdout))
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_detection_picks_the_schema_the_indexer_holds() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let four = Osmem::start().await;
    four.load_sample_alerts().await;
    let five = Osmem::start().await;
    load_findings(&five).await;
    let mixed = Osmem::start().await;
    mixed.load_sample_alerts().await;
    load_findings(&mixed).await;
    let empty = Osmem::start().await;

    let l = schema_line(&octi, &four, &[]).await;
    assert!(
        l.starts_with("ok") && l.contains("4.x (auto: wazuh-alerts-* has indices"),
        "{l}"
    );
    let l = schema_line(&octi, &five, &[]).await;
    assert!(
        l.starts_with("ok") && l.contains("5.x (auto: wazuh-findings-v5* has indices"),
        "{l}"
    );
    assert!(l.contains("searching \"wazuh-findings-v5*\""), "{l}");
    let l = schema_line(&octi, &mixed, &[]).await;
    assert!(
        l.starts_with("ok") && l.contains("4.x+5.x (auto: both"),
        "{l}"
    );
    assert!(
        l.contains("searching \"wazuh-alerts-*, wazuh-findings-v5*\""),
        "{l}"
    );
    let l = schema_line(&octi, &empty, &[]).await;
    assert!(
        l.starts_with("warn") && l.contains("4.x (auto: neither"),
        "{l}"
    );
    // The daemon's readiness probe under `auto` covers both patterns: a 5.x-only indexer is
    // ready, an empty one is not.
    let settings = octi_free_settings();
    let watched = schema::watched_pattern(&settings);
    assert_eq!(watched, "wazuh-alerts-*,wazuh-findings-v5*");
    let probe =
        |os: &Osmem| IndexerClient::new(&crate::testkit::settings::indexer(&os.url)).unwrap();
    assert_eq!(probe(&five).probe(&watched).await, Ok(5));
    assert!(probe(&empty).probe(&watched).await.is_err());
    // A broad configured pattern is not taken for 4.x alerts because it matches the findings.
    let l = schema_line(&octi, &five, &[("WAZUH_OPENSEARCH_INDEX", "wazuh-*")]).await;
    assert!(
        l.starts_with("ok") && l.contains("5.x (auto: wazuh-findings-v5* has indices"),
        "{l}"
    );
    // A named schema is not asked for.
    let l = schema_line(&octi, &mixed, &[("WAZUH_SCHEMA", "4.x")]).await;
    assert!(
        l.starts_with("ok") && l.contains("4.x (WAZUH_SCHEMA)"),
        "{l}"
    );
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exact_statistics_fallback_runs_on_keyword_levels() {
    // The fallback the lean tree's overflow triggers (too many agents or rules) carries a
    // numeric `max` of the rule level, which a keyword field refuses: under 5.x it is dropped
    // and an agent's highest level comes from its rules.
    let os = Osmem::start().await;
    load_findings(&os).await;
    let mut s = crate::testkit::settings::indexer(&os.url);
    s.index = schema::V5.index_pattern.to_string();
    let q = json!({"term": {"source.ip": {"value": IP}}});
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let req = SearchRequest::new(q, &s, &KnowledgeOptions::default(), now);
    let http = reqwest::Client::new();
    let send = |body: Value| {
        let http = http.clone();
        let url = format!("{}/{}/_search", os.url, s.index);
        async move {
            let r = http.post(url).json(&body).send().await.unwrap();
            let status = r.status();
            (status, r.bytes().await.unwrap())
        }
    };
    // With the numeric `max` kept, the indexer refuses the request.
    let mut with_max = schema::wcs::request(&req.exact_stats_body());
    with_max["aggs"]["agents"]["aggs"]["level"] = json!({"max": {"field": "wazuh.rule.level"}});
    assert_eq!(send(with_max).await.0.as_u16(), 400);
    let (status, bytes) = send(schema::wcs::request(&req.exact_stats_body())).await;
    assert!(status.is_success(), "{}", String::from_utf8_lossy(&bytes));
    let v: Value = serde_json::from_slice(&bytes).unwrap();
    let bytes = serde_json::to_vec(&schema::wcs::response(v)).unwrap();
    let r = connector_wazuh::indexer::parse_search_response(&bytes, Value::Null).unwrap();
    let got: BTreeMap<String, (u64, String, String)> = r
        .agents
        .iter()
        .map(|a| {
            (
                a.agent.id.clone(),
                (a.count, a.first_seen.clone(), a.last_seen.clone()),
            )
        })
        .collect();
    assert_eq!(got, holding(IP));
    // Every finding of this IP is `low` (5 on the 4.x scale).
    assert!(
        r.agents.iter().all(|a| a.max_rule_level == 5),
        "{:?}",
        r.agents
    );
    assert!(r
        .rules
        .iter()
        .all(|x| x.level == 5 && x.rule_id.len() == 36));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrich_reports_the_detected_schema_and_finds_the_findings() {
    let os = Osmem::start().await;
    load_findings(&os).await;
    let env: HashMap<String, String> = [
        ("OPENCTI_URL", "http://127.0.0.1:9"),
        ("OPENCTI_TOKEN", "0token-not-needed"),
        ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
        ("WAZUH_OPENSEARCH_URL", os.url.as_str()),
        ("WAZUH_OPENSEARCH_TIMEOUT", "30s"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let out = crate::testkit::cli::run(&["enrich", &format!("domain-name:{DOMAIN}")], &env).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("Wazuh schema 5.x detected"),
        "{}",
        out.stderr
    );
    let bundle: Value = serde_json::from_str(&out.stdout).unwrap();
    let sightings: u64 = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["type"] == "sighting")
        .map(|o| o["count"].as_u64().unwrap())
        .sum();
    assert_eq!(
        sightings,
        holding(DOMAIN).values().map(|h| h.0).sum::<u64>()
    );
}
