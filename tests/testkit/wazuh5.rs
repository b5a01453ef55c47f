//! Wazuh 5 findings in the test indexer: the findings template's mappings on plain indices named
//! like the data streams' backing indices (osmem has no data streams), the corpus of
//! `scripts/wazuh5-findings`, and what it holds, computed from the documents themselves.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use crate::testkit::osmem::Osmem;

/// The Wazuh 5 findings index template (fixture).
pub const FINDINGS_TEMPLATE: &str = include_str!("../fixtures/wazuh/v5/findings-template.json");
/// 113 WCS findings built from the dashboard's 5.x samples (fixture).
pub const FINDINGS: &str = include_str!("../fixtures/wazuh/v5/findings.ndjson");
/// The 53 sample 4.x alerts as Wazuh 5 findings (fixture, `scripts/wazuh5-twin`).
pub const TWIN: &str = include_str!("../fixtures/wazuh/v5/twin.ndjson");

/// `(index, finding)` of every line of the corpus.
pub fn findings() -> Vec<(String, Value)> {
    lines(FINDINGS)
}

/// `(index, finding)` of every line of an ndjson corpus.
pub fn lines(corpus: &str) -> Vec<(String, Value)> {
    corpus
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("fixture line is JSON");
            let index = v["_index"].as_str().expect("_index").to_string();
            (index, v["_source"].clone())
        })
        .collect()
}

/// Creates every index of the corpus with the template's mappings (its settings other than
/// the field limit are data-stream and ISM settings the test indexer has no use for, among them
/// `index.codec`) and loads the findings.
pub async fn load_findings(os: &Osmem) {
    load_corpus(os, FINDINGS).await
}

/// [`load_findings`] for any corpus of `{"_index", "_source"}` lines.
pub async fn load_corpus(os: &Osmem, corpus: &str) {
    let template: Value = serde_json::from_str(FINDINGS_TEMPLATE).expect("template JSON");
    let mappings = template["template"]["mappings"].clone();
    let mut by_index: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for (index, doc) in lines(corpus) {
        by_index.entry(index).or_default().push(doc);
    }
    let http = reqwest::Client::new();
    for (index, docs) in by_index {
        let body = json!({
            "settings": {"index": {"number_of_shards": 1, "number_of_replicas": 0,
                                   "mapping": {"total_fields": {"limit": 3000}}}},
            "mappings": mappings,
        });
        let r = http
            .put(format!("{}/{index}", os.url))
            .json(&body)
            .send()
            .await
            .expect("PUT index");
        assert!(
            r.status().is_success(),
            "{index}: {}",
            r.text().await.unwrap_or_default()
        );
        os.bulk_index(&index, docs).await;
    }
}

/// Every string of `v` (walking objects and lists).
fn strings<'a>(v: &'a Value, out: &mut Vec<&'a str>) {
    match v {
        Value::String(s) => out.push(s),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// Per agent id: how many findings hold `value` as a whole string (any letter case) outside
/// the agent's own description, and the first and last `@timestamp` of them. Computed from the
/// documents, knowing no field of the connector's vocabulary.
pub fn holding(value: &str) -> BTreeMap<String, (u64, String, String)> {
    let mut out: BTreeMap<String, (u64, String, String)> = BTreeMap::new();
    for (_, doc) in findings() {
        let mut own = doc.clone();
        if let Some(w) = own.get_mut("wazuh").and_then(Value::as_object_mut) {
            w.remove("agent");
        }
        let mut all = Vec::new();
        strings(&own, &mut all);
        if !all.iter().any(|s| s.eq_ignore_ascii_case(value)) {
            continue;
        }
        let agent = doc["wazuh"]["agent"]["id"]
            .as_str()
            .expect("agent id")
            .to_string();
        let ts = doc["@timestamp"].as_str().expect("@timestamp").to_string();
        let e = out.entry(agent).or_insert((0, ts.clone(), ts.clone()));
        e.0 += 1;
        if ts < e.1 {
            e.1 = ts.clone();
        }
        if ts > e.2 {
            e.2 = ts;
        }
    }
    out
}

/// The agent name of an agent id in the corpus.
pub fn agent_name(id: &str) -> String {
    findings()
        .iter()
        .find(|(_, d)| d["wazuh"]["agent"]["id"] == id)
        .and_then(|(_, d)| d["wazuh"]["agent"]["name"].as_str().map(str::to_string))
        .expect("agent in corpus")
}

/// The level keywords of the findings holding `value`.
pub fn levels_of(value: &str) -> Vec<String> {
    let mut out: Vec<String> = findings()
        .iter()
        .filter(|(_, d)| d.to_string().contains(value))
        .filter_map(|(_, d)| d["wazuh"]["rule"]["level"].as_str().map(str::to_string))
        .collect();
    out.sort();
    out.dedup();
    out
}
