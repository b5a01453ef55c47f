//! Shared fixtures for the knowledge tests: the reference's scenario inputs
//! (`tests/fixtures/reference/bundles.json`) turned into this crate's types.

use chrono::{DateTime, TimeZone, Utc};
use connector_wazuh::alert::{Alert, SearchResult};
use connector_wazuh::config::{
    EnrichType, FilenameBehaviour, IncidentMode, IndexerSettings, KnowledgeOptions, SearchOptions,
    Secret,
};
use connector_wazuh::entity::{Entity, IndicatorInfo};
use connector_wazuh::knowledge::{self, stats, Knowledge, KnowledgeError, KnowledgeInput};
use connector_wazuh::stix::validate::validate_bundle;
use serde_json::{json, Value};
use std::sync::OnceLock;

pub fn reference() -> &'static Value {
    static R: OnceLock<Value> = OnceLock::new();
    R.get_or_init(|| {
        let text = std::fs::read_to_string("tests/fixtures/reference/bundles.json").unwrap();
        serde_json::from_str(&text).unwrap()
    })
}

pub fn scenario(name: &str) -> &'static Value {
    reference()["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no scenario {name}"))
}

/// The reference's frozen clock.
pub fn frozen_now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 6, 10, 12, 0, 0).unwrap()
}

pub fn alerts_from(hits: &Value) -> Vec<Alert> {
    hits.as_array()
        .unwrap()
        .iter()
        .map(|h| {
            Alert::from_source(
                h["_id"].as_str().unwrap(),
                h["_index"].as_str().unwrap(),
                h["_source"].clone(),
            )
            .unwrap()
        })
        .collect()
}

pub fn ip_alerts() -> Vec<Alert> {
    alerts_from(&reference()["fixtures"]["alerts_ip"])
}

pub fn vuln_alerts() -> Vec<Alert> {
    alerts_from(&reference()["fixtures"]["alerts_vuln"])
}

pub fn ip_entity(with_indicator: bool) -> Entity {
    let f = &reference()["fixtures"];
    let _ = with_indicator;
    Entity {
        standard_id: f["ip_entity"]["standard_id"].as_str().unwrap().into(),
        entity_type: "IPv4-Addr".into(),
        stix: f["ip_stix_entity"].clone(),
        markings: vec!["marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da".into()],
        labels: vec![],
        created_by_ref: None,
    }
}

pub fn vuln_entity() -> Entity {
    let v = &reference()["fixtures"]["vulnerability_entity"];
    let id = v["standard_id"].as_str().unwrap();
    Entity {
        standard_id: id.into(),
        entity_type: "Vulnerability".into(),
        stix: json!({"type": "vulnerability", "id": id, "spec_version": "2.1", "name": v["name"]}),
        markings: vec![],
        labels: vec![],
        created_by_ref: None,
    }
}

pub fn indicator() -> IndicatorInfo {
    let i = &reference()["fixtures"]["indicator"];
    IndicatorInfo {
        standard_id: i["standard_id"].as_str().unwrap().into(),
        name: i["name"].as_str().unwrap().into(),
        pattern: i["pattern"].as_str().map(String::from),
        pattern_type: Some("stix".into()),
        detection: i["detection"].as_bool(),
        revoked: false,
        score: i["x_opencti_score"].as_i64(),
    }
}

pub fn tools() -> Vec<String> {
    reference()["fixtures"]["tools_in_opencti"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_string())
        .collect()
}

/// The reference's base configuration (spec Appendix A) with its abort limits.
pub fn base_options() -> KnowledgeOptions {
    KnowledgeOptions {
        app_url: "https://wazuh.example.org".into(),
        hits_abort_limit: Some(1000),
        bundle_abort_limit: Some(500),
        ..KnowledgeOptions::default()
    }
}

/// Applies a scenario's `config_overrides`.
pub fn options_with(overrides: &Value) -> KnowledgeOptions {
    let mut o = base_options();
    let Some(m) = overrides.as_object() else {
        return o;
    };
    for (k, v) in m {
        match k.as_str() {
            "create_incident" => {
                o.create_incident = IncidentMode::parse(v.as_str().unwrap()).unwrap()
            }
            "create_incident_threshold" => o.create_incident_threshold = v.as_u64().unwrap() as u8,
            "create_incident_response" => o.create_incident_response = v.as_bool().unwrap(),
            "create_obs_sightings" => o.create_obs_sightings = v.as_bool().unwrap(),
            "hits_abort_limit" => o.hits_abort_limit = v.as_u64(),
            "bundle_abort_limit" => o.bundle_abort_limit = v.as_u64().map(|x| x as usize),
            "vulnerability_incident_cvss3_score_threshold" => {
                o.vulnerability_incident_cvss3_score_threshold = v.as_f64()
            }
            "rule_exclude_list" => {
                o.rule_exclude_list = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect()
            }
            "incident_rule_exclude_list" => {
                o.incident_rule_exclude_list = v
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|x| x.as_str().unwrap().to_string())
                    .collect()
            }
            "enrich" => {
                let types = v["types"].as_str().unwrap();
                o.enrich_types = types
                    .split(',')
                    .filter(|t| !t.trim().is_empty())
                    .map(|t| EnrichType::parse(t).unwrap())
                    .collect();
            }
            other => panic!("unhandled override {other}"),
        }
    }
    o
}

pub fn indexer() -> IndexerSettings {
    IndexerSettings {
        password: Secret::new("x"),
        ..super::settings::indexer("https://127.0.0.1:9200")
    }
}

/// A search result whose statistics are exact over `alerts` (as the indexer's aggregations),
/// with `total` possibly larger than the sample.
pub fn result_of(mut alerts: Vec<Alert>, total: Option<u64>) -> SearchResult {
    let (agents, rules) = stats::from_alerts(&alerts);
    alerts.sort_by(|a, b| b.timestamp.cmp(&a.timestamp));
    SearchResult {
        total: total.unwrap_or(alerts.len() as u64),
        took_ms: 7,
        alerts,
        agents,
        rules,
        shard_failures: vec![],
        query: json!({}),
        vulnerable_agents: None,
    }
}

/// Everything an input borrows.
pub struct Case {
    pub entity: Entity,
    pub indicators: Vec<IndicatorInfo>,
    pub result: SearchResult,
    pub options: KnowledgeOptions,
    pub indexer: IndexerSettings,
    pub search: SearchOptions,
    pub tools: Vec<String>,
    pub automatic: bool,
    /// The build's clock (the reference's frozen clock unless a test moves it).
    pub now: DateTime<Utc>,
}

impl Case {
    pub fn new(
        entity: Entity,
        indicators: Vec<IndicatorInfo>,
        result: SearchResult,
        options: KnowledgeOptions,
    ) -> Case {
        Case {
            entity,
            indicators,
            result,
            options,
            indexer: indexer(),
            search: SearchOptions::default(),
            tools: tools(),
            automatic: false,
            now: frozen_now(),
        }
    }

    pub fn input(&self) -> KnowledgeInput<'_> {
        KnowledgeInput {
            entity: &self.entity,
            observable: None,
            indicators: &self.indicators,
            result: &self.result,
            options: &self.options,
            indexer: &self.indexer,
            search: &self.search,
            tools_in_opencti: &self.tools,
            now: self.now,
            automatic: self.automatic,
            sighting_of: self.entity.standard_id.clone(),
        }
    }

    /// Builds and checks that the bundle is structurally valid STIX.
    pub fn build(&self) -> Result<Knowledge, KnowledgeError> {
        let input = self.input();
        let k = knowledge::build(&input)?;
        let errors = validate_bundle(&k.objects, &knowledge::known_refs(&input));
        assert!(errors.is_empty(), "invalid bundle:\n{}", errors.join("\n"));
        Ok(k)
    }
}

/// The inputs of a reference scenario (which alerts each scenario's search returned is given by
/// its summary note: the first N alerts of the fixture).
pub fn scenario_case(name: &str) -> Case {
    let s = scenario(name);
    let options = options_with(&s["config_overrides"]);
    let ip = ip_alerts();
    let vuln = vuln_alerts();
    let (entity, indicators, alerts, total): (Entity, Vec<IndicatorInfo>, Vec<Alert>, Option<u64>) =
        match name {
            "ipv4_via_indicator_entity_id" => {
                (ip_entity(true), vec![indicator()], ip[..2].to_vec(), None)
            }
            "ipv4_without_indicator_sightings_only" => {
                (ip_entity(false), vec![], ip[..3].to_vec(), Some(1234))
            }
            "ipv4_without_indicator_no_obs_sightings" => {
                (ip_entity(false), vec![], ip.clone(), None)
            }
            "ipv4_rule_exclude_list" => {
                (ip_entity(true), vec![indicator()], ip[..4].to_vec(), None)
            }
            "ipv4_too_many_hits" => (ip_entity(true), vec![indicator()], ip.clone(), Some(5000)),
            "vulnerability_threshold_7_active_incident" => {
                (vuln_entity(), vec![], vuln[..1].to_vec(), None)
            }
            n if n.starts_with("vulnerability") => (vuln_entity(), vec![], vuln.clone(), None),
            _ => (ip_entity(true), vec![indicator()], ip.clone(), None),
        };
    Case::new(entity, indicators, result_of(alerts, total), options)
}

pub fn ids_of_type<'a>(objects: &'a [Value], t: &str) -> std::collections::BTreeSet<&'a str> {
    objects
        .iter()
        .filter(|o| o["type"] == t)
        .map(|o| o["id"].as_str().unwrap())
        .collect()
}

pub fn of_type<'a>(objects: &'a [Value], t: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["type"] == t).collect()
}

/// The 53 sample alerts, plus one with the kinds they lack (an IPv6 address, a MAC address, a
/// URL).
pub fn sample_alerts_and_extra() -> Vec<Alert> {
    let text = std::fs::read_to_string("tests/fixtures/wazuh/alerts.ndjson").unwrap();
    let mut alerts: Vec<Alert> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(i, l)| {
            Alert::from_source(
                &format!("doc{i}"),
                "wazuh-alerts-4.x-2024.06.01",
                serde_json::from_str(l).unwrap(),
            )
            .unwrap()
        })
        .collect();
    // The kinds the samples lack: an IPv6 address, a MAC address and a URL.
    alerts.push(
        Alert::from_source(
            "extra",
            "wazuh-alerts-4.x-2024.06.01",
            json!({"@timestamp": "2024-06-01T10:00:00.000Z", "id": "1.extra",
                   "agent": {"id": "001", "name": "web-01", "ip": "10.0.0.1"},
                   "rule": {"id": "100", "level": 12, "description": "test", "groups": ["web"]},
                   "data": {"srcip": "2001:db8::1", "srcmac": "00-1A-2B-3C-4D-5E",
                            "url": "https://evil.example/x"}}),
        )
        .unwrap(),
    );
    alerts
}

/// Bundles of every reference scenario that produces one, and of the sample alerts in each
/// incident mode and file-name behaviour.
pub fn emitted_bundles() -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    for s in reference()["scenarios"].as_array().unwrap() {
        let name = s["name"].as_str().unwrap();
        if let Ok(k) = scenario_case(name).build() {
            out.push((name.to_string(), k.objects));
        }
    }
    let alerts = sample_alerts_and_extra();
    for (mode, fb) in [
        (
            IncidentMode::PerSighting,
            vec![FilenameBehaviour::CreateDir],
        ),
        (IncidentMode::PerAlert, vec![FilenameBehaviour::RemovePath]),
        (
            IncidentMode::PerQuery,
            vec![FilenameBehaviour::CreateDir, FilenameBehaviour::RemovePath],
        ),
    ] {
        for entity in [ip_entity(true), vuln_entity()] {
            let mut o = base_options();
            o.hits_abort_limit = None;
            o.bundle_abort_limit = None;
            o.create_incident = mode;
            o.filename_behaviour = fb.iter().copied().collect();
            let mut c = Case::new(
                entity,
                vec![indicator()],
                result_of(alerts.clone(), None),
                o,
            );
            // After the newest sample alert (objects are modified when built, after they were
            // first seen).
            c.now = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
            let name = format!("samples {mode:?} {fb:?} {}", c.entity.entity_type);
            out.push((name, c.build().unwrap().objects));
        }
    }
    out
}
