//! A mixed estate: 4.x alerts and 5.x findings in one indexer give one answer, each document
//! read with its own profile. The expected figures are the 4.x-only and the 5.x-only answers
//! (each checked against its corpus elsewhere) merged by agent: counts add up, spans widen.

use std::collections::{BTreeMap, HashMap};

use crate::testkit::osmem::Osmem;
use crate::testkit::wazuh5::load_findings;
use serde_json::Value;

/// In one 4.x sample alert (agent 003) and in six findings (agents 001, 003, 004).
const IP: &str = "134.87.21.47";

type Figures = BTreeMap<String, (u64, String, String)>;

/// `connector-wazuh enrich` of the IP: its sightings by agent id, and stderr.
async fn sightings(os: &Osmem) -> (Figures, String) {
    let env: HashMap<String, String> = [
        ("OPENCTI_URL", "http://127.0.0.1:9"),
        ("OPENCTI_TOKEN", "0token-not-needed"),
        ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
        ("WAZUH_OPENSEARCH_URL", os.url.as_str()),
        ("WAZUH_OPENSEARCH_TIMEOUT", "30s"),
        ("WAZUH_OPENSEARCH_LIMIT", "2"),
        // The 4.x alert holding the IP is one of the dashboard's samples.
        ("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "false"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let out = crate::testkit::cli::run(&["enrich", &format!("ipv4-addr:{IP}")], &env).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let bundle: Value = serde_json::from_str(&out.stdout).unwrap();
    let objects = bundle["objects"].as_array().unwrap();
    let instant = |v: &Value| {
        connector_wazuh::stix::parse_time(v.as_str().unwrap())
            .unwrap()
            .to_rfc3339()
    };
    let mut got = Figures::new();
    for s in objects.iter().filter(|o| o["type"] == "sighting") {
        let system = objects
            .iter()
            .find(|o| o["id"] == s["where_sighted_refs"][0])
            .unwrap();
        // Systems are named "<agent name> (agent <id>)".
        let name = system["name"].as_str().unwrap();
        let id = name
            .rsplit_once("(agent ")
            .and_then(|(_, rest)| rest.strip_suffix(')'))
            .unwrap_or_else(|| panic!("{name}"))
            .to_string();
        got.insert(
            id,
            (
                s["count"].as_u64().unwrap(),
                instant(&s["first_seen"]),
                instant(&s["last_seen"]),
            ),
        );
    }
    (got, out.stderr)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mixed_estate_gives_one_answer_with_each_document_read_by_its_own_profile() {
    let four = Osmem::start().await;
    four.load_sample_alerts().await;
    let five = Osmem::start().await;
    load_findings(&five).await;
    let mixed = Osmem::start().await;
    mixed.load_sample_alerts().await;
    load_findings(&mixed).await;

    let (a, _) = sightings(&four).await;
    let (b, _) = sightings(&five).await;
    assert!(!a.is_empty() && !b.is_empty());
    let mut want = a.clone();
    for (id, (n, first, last)) in &b {
        let e = want
            .entry(id.clone())
            .or_insert((0, first.clone(), last.clone()));
        e.0 += n;
        e.1 = e.1.clone().min(first.clone());
        e.2 = e.2.clone().max(last.clone());
    }
    assert!(
        a.keys().any(|k| b.contains_key(k)),
        "an agent in both schemas: {a:?} {b:?}"
    );
    let (got, stderr) = sightings(&mixed).await;
    assert!(stderr.contains("Wazuh schema 4.x+5.x detected"), "{stderr}");
    assert_eq!(got, want);
}
