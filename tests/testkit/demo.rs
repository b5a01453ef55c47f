//! The one-minute local demo (`scripts/demo`, `examples/demo.rs`) and its CI check
//! (`tests/system/demo.rs`): osmem-server with the sample alerts, the test OpenCTI, the real
//! daemon, and three enrichment requests as the platform sends them — an IPv4 address with its
//! indicator, a file hash, and an indicator that has only a pattern. What OpenCTI received is
//! returned as a readable summary and a Mermaid graph.

use serde_json::{json, Value};
use std::collections::BTreeMap;

use super::e2e::pushed;
use super::fake_opencti::{ipv4, FakeOpenCti, TLP_GREEN};
use super::faults::Daemon;
use super::osmem::Osmem;

/// The platform version the test OpenCTI plays.
const PLATFORM: &str = "6.9.17";

/// One of the three requests, and what came of it.
#[derive(Debug, Clone)]
pub struct Asked {
    /// What was enriched, as a user would name it.
    pub title: String,
    /// The work's last message (what the analyst reads in OpenCTI).
    pub message: String,
    pub in_error: bool,
    /// The objects OpenCTI imported for the work.
    pub objects: Vec<Value>,
}

/// The demo's result.
#[derive(Debug, Clone)]
pub struct Demo {
    pub asked: Vec<Asked>,
    /// The daemon's log (shown when the demo does not go as it should).
    pub daemon_log: String,
}

impl Demo {
    /// Everything OpenCTI received, once per id.
    pub fn all_objects(&self) -> Vec<Value> {
        let mut by_id: BTreeMap<String, Value> = BTreeMap::new();
        for o in self.asked.iter().flat_map(|a| a.objects.iter()) {
            let id = o["id"].as_str().unwrap_or_default().to_string();
            by_id.entry(id).or_insert_with(|| o.clone());
        }
        by_id.into_values().collect()
    }

    /// The readable summary: per request, the work's message and what it holds.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        for (i, a) in self.asked.iter().enumerate() {
            let status = if a.in_error { "ERROR" } else { "completed" };
            out.push_str(&format!(
                "\n=== {}/{}: {} — work {status}\n",
                i + 1,
                self.asked.len(),
                a.title
            ));
            out.push_str(&connector_wazuh::cli::summary::render(
                &a.objects, &a.message,
            ));
        }
        out
    }

    /// The knowledge as a Markdown page with a Mermaid flowchart.
    pub fn graph(&self) -> String {
        connector_wazuh::stix::mermaid::markdown(
            &self.all_objects(),
            "What OpenCTI received from the connector-wazuh demo",
        )
    }

    /// What is missing from a healthy run (empty: the demo shows what it should): every work
    /// completed, every request has sightings, the address and the pattern got incidents and a
    /// case.
    pub fn problems(&self) -> Vec<String> {
        let count = |a: &Asked, t: &str| a.objects.iter().filter(|o| o["type"] == t).count();
        let mut out = Vec::new();
        for (i, a) in self.asked.iter().enumerate() {
            if a.in_error {
                out.push(format!(
                    "{}: the work ended in error: {}",
                    a.title, a.message
                ));
            }
            if count(a, "sighting") == 0 {
                out.push(format!("{}: no sighting", a.title));
            }
            if i != 1 && (count(a, "incident") == 0 || count(a, "case-incident") == 0) {
                out.push(format!("{}: no incident or no case", a.title));
            }
        }
        if self.asked.len() != 3 {
            out.push(format!("{} request(s) instead of 3", self.asked.len()));
        }
        out
    }
}

/// An address seen by four agents in the sample alerts, with an indicator based on it.
pub const IP: &str = "218.92.0.222";
/// The SHA-256 of a file the sample alerts saw appear on `srv` (`/usr/bin/kworkerd`).
pub const SHA256: &str = "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f";
/// A pattern matching two SSH attacks of the sample alerts; its indicator has no observable.
pub const PATTERN: &str =
    "[ipv4-addr:value = '45.155.205.233'] OR [ipv4-addr:value = '82.202.219.155']";

fn indicator(name: &str, pattern: &str) -> Value {
    json!({"id": format!("indicator--{}", uuid::Uuid::new_v4()), "type": "indicator", "spec_version": "2.1",
           "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", "valid_from": "2026-01-05T10:00:00.000Z",
           "name": name, "pattern": pattern, "pattern_type": "stix", "x_opencti_score": 80,
           "x_opencti_detection": true, "object_marking_refs": [TLP_GREEN]})
}

fn file(sha256: &str) -> Value {
    json!({"id": format!("file--{}", uuid::Uuid::new_v4()), "type": "file", "spec_version": "2.1",
           "hashes": {"SHA-256": sha256}, "object_marking_refs": [TLP_GREEN],
           "extensions": {"extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba": {"extension_type": "property-extension", "id": uuid::Uuid::new_v4().to_string(), "type": "StixFile", "is_inferred": false}}})
}

/// Runs the demo with the daemon binary that [`super::cli::bin`] names; `say` hears progress.
pub async fn run(say: impl Fn(&str)) -> Demo {
    say("starting osmem-server and loading the sample alerts");
    let os = Osmem::start().await;
    let alerts = os.load_sample_alerts().await;
    say(&format!("{} sample alerts indexed", alerts.len()));
    let octi = FakeOpenCti::start(PLATFORM).await;
    say(&format!(
        "test OpenCTI {PLATFORM} at {} (GraphQL checked against the real schema)",
        octi.url
    ));
    let mut env = octi.connector_env();
    for (k, v) in [
        ("WAZUH_OPENSEARCH_URL", os.url.as_str()),
        ("WAZUH_CREATE_OBS_SIGHTINGS", "true"),
        ("WAZUH_OPENSEARCH_TIMEOUT", "30s"),
        ("CONNECTOR_NAME", "Wazuh demo"),
    ] {
        env.insert(k.to_string(), v.to_string());
    }
    let daemon = Daemon::spawn_consuming(&env).await;
    say("connector-wazuh is registered and consuming its queue");

    let ip = octi.add_entity(ipv4(IP, Some(TLP_GREEN)));
    octi.add_indicator(
        indicator(IP, &format!("[ipv4-addr:value = '{IP}']")),
        &[&ip],
    );
    let hash = octi.add_entity(file(SHA256));
    let pattern = octi.add_indicator(indicator("SSH scanners", PATTERN), &[]);
    let requests = [
        (format!("IPv4 address {IP} (with its indicator)"), ip),
        (format!("file SHA-256 {}…", &SHA256[..16]), hash),
        (format!("indicator with only a pattern {PATTERN}"), pattern),
    ];
    let mut asked = Vec::new();
    for (title, entity) in requests {
        say(&format!("enrichment request: {title}"));
        let work = octi.new_work();
        octi.publish_request(&octi.manual_request(&work, &entity, true))
            .await;
        let rec = octi.wait_for_work(&work).await;
        asked.push(Asked {
            title,
            message: rec.messages.last().cloned().unwrap_or_default(),
            in_error: rec.in_error,
            objects: pushed(&octi, &work).await,
        });
    }
    let daemon_log = daemon.terminate().await.log_text();
    octi.cleanup().await;
    Demo { asked, daemon_log }
}
