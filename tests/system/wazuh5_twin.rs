//! The same detections as Wazuh 4.x alerts and as Wazuh 5 findings give the same answer: the 53
//! sample alerts in one indexer, their WCS twins (`scripts/wazuh5-twin`: same agents, same
//! times, values moved to their ECS places) in another, and every observable below must find
//! the same agents with the same counts and first/last seen under each schema's profile.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use crate::testkit::osmem::Osmem;
use crate::testkit::wazuh5::{load_corpus, TWIN};
use chrono::{TimeZone, Utc};
use connector_wazuh::config::options::{KnowledgeOptions, SearchOptions};
use connector_wazuh::indexer::IndexerClient;
use connector_wazuh::schema::Schema;
use connector_wazuh::search::envelope::SearchRequest;
use connector_wazuh::search::{observable, query};
use connector_wazuh::vocabulary::{FieldChanges, Vocabulary};
use serde_json::{json, Value};

type Figures = BTreeMap<String, (u64, String, String)>;

async fn figures(os: &Osmem, schema: Schema, ty: &str, stix: &Value, samples: bool) -> Figures {
    let p = schema.profile();
    let mut s = crate::testkit::settings::indexer(&os.url);
    s.timeout = Duration::from_secs(60);
    s.index = p.index_pattern.to_string();
    // A sample of 1: the statistics come from the indexer under both schemas.
    s.limit = 1;
    s.exclude_sample_data = !samples;
    let client = IndexerClient::new(&s).unwrap().with_schema(schema);
    let opts = SearchOptions {
        vocabulary: std::sync::Arc::new(Vocabulary::new(p.vocabulary, &FieldChanges::default())),
        ..SearchOptions::default()
    };
    let obs = observable::from_stix(ty, stix, &HashMap::new()).unwrap();
    let Some(q) = query::build(&obs, &opts).unwrap() else {
        return Figures::new();
    };
    let now = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap();
    let r = client
        .search(&SearchRequest::new(
            q,
            &s,
            &KnowledgeOptions::default(),
            now,
        ))
        .await
        .unwrap();
    let out: Figures = r
        .agents
        .iter()
        .map(|a| {
            // Both forms of a time (`…Z`, `…+0000`) as one instant.
            let t = |x: &str| {
                connector_wazuh::stix::parse_time(x)
                    .map(|p| p.to_rfc3339())
                    .unwrap_or_default()
            };
            (
                a.agent.id.clone(),
                (a.count, t(&a.first_seen), t(&a.last_seen)),
            )
        })
        .collect();
    assert_eq!(
        r.total,
        out.values().map(|f| f.0).sum::<u64>(),
        "{ty} {stix}"
    );
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_observable_finds_the_same_sightings_in_the_4x_alerts_and_their_5x_twins() {
    let four = Osmem::start().await;
    four.load_sample_alerts().await;
    let five = Osmem::start().await;
    load_corpus(&five, TWIN).await;
    let cases: Vec<(&str, Value)> = vec![
        ("IPv4-Addr", json!({"value": "45.75.196.15"})),
        ("IPv4-Addr", json!({"value": "218.92.0.222"})),
        ("Domain-Name", json!({"value": "qouv.fr"})),
        ("Hostname", json!({"value": "qouv.fr"})),
        (
            "StixFile",
            json!({"hashes": {"SHA-256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}),
        ),
        (
            "StixFile",
            json!({"hashes": {"MD5": "44d88612fea8a8f36de82e1278abb02f"}}),
        ),
        ("StixFile", json!({"name": "/usr/bin/kworkerd"})),
        ("Vulnerability", json!({"name": "CVE-2018-20217"})),
        ("IPv4-Addr", json!({"value": "185.220.101.45"})),
        (
            "Domain-Name",
            json!({"value": "img-s-msn-com.akamaized.net"}),
        ),
        (
            "Domain-Name",
            json!({"value": "mirrors.advancedhosters.com"}),
        ),
        ("Email-Addr", json!({"value": "brown@wazuh.com"})),
        ("User-Account", json!({"account_login": "toby"})),
        (
            "Process",
            json!({"command_line": "C:\\Windows\\system32\\cmd.exe"}),
        ),
        (
            "Windows-Registry-Key",
            json!({"key": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\Java-Update"}),
        ),
    ];
    let mut found = [0, 0];
    for (ty, stix) in &cases {
        // With the dashboard's sample data, and without it (the default): a sample alert is
        // marked by a field in 4.x and by a tag in 5.x.
        for samples in [true, false] {
            let a = figures(&four, Schema::V4, ty, stix, samples).await;
            let b = figures(&five, Schema::V5, ty, stix, samples).await;
            if samples {
                assert!(!a.is_empty(), "{ty} {stix}: the 4.x alerts hold it");
            }
            assert_eq!(
                a, b,
                "{ty} {stix} (sample data {samples}): 4.x alerts vs 5.x findings"
            );
            found[usize::from(samples)] += a.values().map(|f| f.0).sum::<u64>();
        }
    }
    // Some of these values are only in sample alerts, others in real ones.
    assert!(found[1] > found[0] && found[0] > 0, "{found:?}");
}

/// What a bundle says, with the ids (which differ where rule ids do) left out: objects per
/// type, per system the sighting's count and first/last seen and the incidents' severities,
/// and the context objects (type and value).
type Knowledge = (
    BTreeMap<String, usize>,
    BTreeMap<String, Value>,
    std::collections::BTreeSet<String>,
);

fn knowledge(stdout: &str) -> Knowledge {
    let bundle: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let objects = bundle["objects"].as_array().unwrap();
    let mut types = BTreeMap::new();
    for o in objects {
        *types
            .entry(o["type"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    let name = |id: &Value| {
        objects
            .iter()
            .find(|o| o["id"] == *id)
            .and_then(|o| o["name"].as_str())
            .unwrap_or_default()
            .to_string()
    };
    let instant = |v: &Value| connector_wazuh::stix::parse_time(v.as_str().unwrap()).unwrap();
    let mut systems = BTreeMap::new();
    for s in objects.iter().filter(|o| o["type"] == "sighting") {
        let e = systems
            .entry(name(&s["where_sighted_refs"][0]))
            .or_insert_with(|| json!({"severities": []}));
        e["count"] = s["count"].clone();
        e["first_seen"] = json!(instant(&s["first_seen"]).to_rfc3339());
        e["last_seen"] = json!(instant(&s["last_seen"]).to_rfc3339());
    }
    for r in objects
        .iter()
        .filter(|o| o["type"] == "relationship" && o["relationship_type"] == "targets")
    {
        let incident = objects.iter().find(|o| o["id"] == r["source_ref"]).unwrap();
        let e = systems
            .entry(name(&r["target_ref"]))
            .or_insert_with(|| json!({"severities": []}));
        e["severities"]
            .as_array_mut()
            .unwrap()
            .push(incident["severity"].clone());
    }
    let context = objects
        .iter()
        .filter(|o| {
            let t = o["type"].as_str().unwrap_or_default();
            !matches!(
                t,
                "identity" | "sighting" | "incident" | "case-incident" | "note" | "relationship"
            ) && t != "indicator"
        })
        .map(|o| {
            // What the object is, not its id: a file named in two alerts, with its hashes in
            // only one of them, is one file with or without them.
            let what = [
                "value",
                "name",
                "key",
                "account_login",
                "user_id",
                "command_line",
            ]
            .iter()
            .find_map(|k| o[*k].as_str())
            .unwrap_or_else(|| o["id"].as_str().unwrap());
            format!("{} {what}", o["type"].as_str().unwrap())
        })
        .collect();
    (types, systems, context)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_indicator_gives_the_same_knowledge_from_the_4x_alerts_and_their_5x_twins() {
    let four = Osmem::start().await;
    four.load_sample_alerts().await;
    let five = Osmem::start().await;
    load_corpus(&five, TWIN).await;
    let env = |url: &str| -> HashMap<String, String> {
        [
            ("OPENCTI_URL", "http://127.0.0.1:9"),
            ("OPENCTI_TOKEN", "0token-not-needed"),
            ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
            ("WAZUH_OPENSEARCH_URL", url),
            ("WAZUH_OPENSEARCH_TIMEOUT", "30s"),
            ("WAZUH_OPENSEARCH_LIMIT", "2"),
            ("WAZUH_CREATE_INCIDENT", "per-sighting"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    };
    let run = |url: String, spec: &'static str| async move {
        let out = crate::testkit::cli::run(&["enrich", spec], &env(&url)).await;
        assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
        knowledge(&out.stdout)
    };
    for spec in [
        "indicator:[ipv4-addr:value = '218.92.0.222']",
        "indicator:[file:hashes.MD5 = '44d88612fea8a8f36de82e1278abb02f']",
        // A STIX pattern string escapes its backslashes.
        r"indicator:[process:command_line = 'C:\\Windows\\system32\\cmd.exe']",
    ] {
        let (four, five) = (
            run(four.url.clone(), spec).await,
            run(five.url.clone(), spec).await,
        );
        same_knowledge(four, five, spec);
    }
}

fn same_knowledge(four: Knowledge, five: Knowledge, spec: &str) {
    let ((types4, systems4, context4), (types5, systems5, context5)) = (four, five);
    assert_eq!(
        systems4, systems5,
        "{spec}: per system: sighting figures and incident severities"
    );
    for t in [
        "identity",
        "sighting",
        "incident",
        "case-incident",
        "note",
        "indicator",
    ] {
        assert_eq!(
            types4.get(t),
            types5.get(t),
            "{spec}: {t}: {types4:?} vs {types5:?}"
        );
    }
    assert!(
        types4.get("incident").copied().unwrap_or(0) >= 1,
        "{spec}: {types4:?}"
    );
    assert_eq!(types4.get("case-incident"), Some(&1), "{spec}");
    // Every context object of the alerts comes from the findings too (the findings give more
    // where a 4.x extractor reads no field for a value the twin has an ECS place for).
    // The one exception: 4.x makes a domain of a Windows event's computer name
    // (`data.win.system.computer`); in WCS that name is the host's (`host.name`), the
    // monitoring side, which is not read as an observable of the event.
    let missing: Vec<&String> = context4
        .difference(&context5)
        .filter(|c| *c != "domain-name hrmanager.ExchangeTest.com")
        .collect();
    assert!(
        missing.is_empty(),
        "{spec}: context only from 4.x: {missing:?}"
    );
    assert!(!context4.is_empty(), "{spec}");
}
