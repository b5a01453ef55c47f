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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_5x_vulnerability_state_index_counts_the_agents_that_have_it() {
    use connector_wazuh::config::options::KnowledgeOptions;
    use connector_wazuh::entity::Observable;
    use connector_wazuh::indexer::IndexerClient;
    use connector_wazuh::schema::{self, Schema};
    use connector_wazuh::search::envelope::SearchRequest;
    use serde_json::json;

    let os = Osmem::start().await;
    load_findings(&os).await;
    // Wazuh 5's state template (agent under `wazuh.agent.*`), three agents with one CVE.
    let template: Value = serde_json::from_str(include_str!(
        "../fixtures/wazuh/v5/vulnerabilities-template.json"
    ))
    .unwrap();
    let index = "wazuh-states-vulnerabilities-wazuh";
    let r = reqwest::Client::new()
        .put(format!("{}/{index}", os.url))
        .json(&json!({"mappings": template["template"]["mappings"]}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let state = |agent: &str, name: &str, cve: &str| {
        json!({"wazuh": {"agent": {"id": agent, "name": name}},
               "vulnerability": {"id": cve}, "package": {"name": "util-linux"}})
    };
    os.bulk_index(
        index,
        [
            state("001", "rhel7-web", "CVE-2018-7738"),
            state("002", "amazon-db", "CVE-2018-7738"),
            state("003", "ubuntu-ci", "CVE-2018-7738"),
            state("003", "ubuntu-ci", "CVE-2020-0001"),
        ],
    )
    .await;
    let mut s = crate::testkit::settings::indexer(&os.url);
    s.index = schema::V5.index_pattern.to_string();
    s.vulnerability_state_index = Some("wazuh-states-vulnerabilities*".into());
    let client = IndexerClient::new(&s).unwrap().with_schema(Schema::V5);
    let obs = Observable::Vulnerability {
        name: "CVE-2018-7738".into(),
    };
    let q = json!({"term": {"vulnerability.id": {"value": "CVE-2018-7738"}}});
    let now = chrono::Utc::now();
    let req = SearchRequest::new(q, &s, &KnowledgeOptions::default(), now)
        .with_vulnerability_state(&obs, &s);
    let r = client.search(&req).await.unwrap();
    assert!(r.total > 0, "the findings hold the CVE");
    let st = r.vulnerable_agents.expect("state lookup");
    assert_eq!(st.agents, 3);
    assert_eq!(st.agent_names, ["amazon-db", "rhel7-web", "ubuntu-ci"]);
}
