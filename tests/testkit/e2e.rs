//! Helpers shared by the end-to-end tests (`tests/system/e2e_*.rs`): generated Wazuh alerts, a daemon
//! wired to a fake OpenCTI and an osmem-server, and STIX bundle checks.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{json, Value};

use crate::testkit::connector::{spawn, Running};
use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::osmem::Osmem;

/// Index the generated alerts go to (matched by the default `wazuh-alerts-*`).
pub const INDEX: &str = "wazuh-alerts-4.x-e2e";

/// An agent as Wazuh reports it.
#[derive(Debug, Clone, Copy)]
pub struct Agent {
    pub id: &'static str,
    pub name: &'static str,
    pub ip: &'static str,
}

pub const AGENTS: [Agent; 3] = [
    Agent {
        id: "001",
        name: "web-01",
        ip: "10.20.0.11",
    },
    Agent {
        id: "002",
        name: "web-02",
        ip: "10.20.0.12",
    },
    Agent {
        id: "003",
        name: "db-01",
        ip: "10.20.0.13",
    },
];

/// One sshd "authentication failed" alert from `src_ip` seen by `agent` at `ts`.
pub fn ssh_alert(src_ip: &str, agent: Agent, ts: DateTime<Utc>, n: usize) -> Value {
    json!({
        "@timestamp": ts.to_rfc3339_opts(SecondsFormat::Millis, true),
        "timestamp": ts.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "id": format!("{}.{n}", ts.timestamp()),
        "rule": {
            "id": "5760", "level": 10,
            "description": "sshd: authentication failed.",
            "groups": ["syslog", "sshd", "authentication_failed"],
            "mitre": {"id": ["T1110.001"], "tactic": ["Credential Access"], "technique": ["Password Guessing"]},
            "firedtimes": n
        },
        "agent": {"id": agent.id, "name": agent.name, "ip": agent.ip},
        "manager": {"name": "wazuh-manager"},
        "decoder": {"name": "sshd", "parent": "sshd"},
        "data": {"srcip": src_ip, "srcport": "52144", "srcuser": "admin"},
        "full_log": format!("Failed password for admin from {src_ip} port 52144 ssh2"),
        "location": "/var/log/auth.log"
    })
}

/// First and last time an agent saw something.
pub type Span = (DateTime<Utc>, DateTime<Utc>);

/// Alerts from `src_ip`: `counts[i]` alerts on `AGENTS[i]`, one every 7 s per agent, offset so
/// every timestamp is distinct; returns the alerts and each agent's (first, last) time.
pub fn ssh_alerts(src_ip: &str, counts: &[usize], base: DateTime<Utc>) -> (Vec<Value>, Vec<Span>) {
    let mut alerts = Vec::new();
    let mut spans = Vec::new();
    for (a, &n) in counts.iter().enumerate() {
        let t =
            |j: usize| base + chrono::Duration::milliseconds((j as i64) * 7_000 + a as i64 * 1_001);
        for j in 0..n {
            alerts.push(ssh_alert(src_ip, AGENTS[a], t(j), j));
        }
        spans.push((t(0), t(n.saturating_sub(1))));
    }
    (alerts, spans)
}

/// A recent base time (the default search window has no lower bound, but keep alerts realistic).
pub fn recent() -> DateTime<Utc> {
    let now = Utc::now() - chrono::Duration::hours(2);
    // Millisecond precision, as stored.
    DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap()
}

/// osmem-server with the Wazuh template and `alerts`.
pub async fn indexer_with(alerts: Vec<Value>) -> Osmem {
    let os = Osmem::start().await;
    load(&os, alerts).await;
    os
}

pub async fn load(os: &Osmem, alerts: Vec<Value>) {
    os.apply_wazuh_template().await;
    os.bulk_index(INDEX, alerts).await;
}

/// The connector (production pipeline) against `octi` and the indexer at `indexer_url`.
pub fn connector(octi: &FakeOpenCti, indexer_url: &str, extra: &[(&str, &str)]) -> Running {
    let mut env: Vec<(&str, &str)> = vec![
        ("WAZUH_OPENSEARCH_URL", indexer_url),
        ("WAZUH_APP_URL", "https://wazuh.example.test/"),
        ("WAZUH_OPENSEARCH_TIMEOUT", "30s"),
        ("WAZUH_CREATE_OBS_SIGHTINGS", "true"),
    ];
    env.extend_from_slice(extra);
    spawn(octi, &env, None)
}

pub fn of_type<'a>(objects: &'a [Value], t: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["type"] == t).collect()
}

pub fn by_id<'a>(objects: &'a [Value], id: &str) -> Option<&'a Value> {
    objects.iter().find(|o| o["id"] == id)
}

pub fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// The objects pushed for a work (one object per push message, as the connector pre-splits its
/// result) form a valid STIX 2.1 bundle: every message carries a structurally valid bundle, and
/// their union has no dangling reference. `known` are ids that may be referenced without being
/// sent (the entity's indicator; markings and the placeholder sighting indicator are added).
pub fn assert_valid_bundle(
    octi: &FakeOpenCti,
    work: &str,
    settings_tlps: &[String],
    extra_known: &[&str],
) {
    let objects = octi.pushed_objects(work);
    assert!(!objects.is_empty(), "nothing was pushed for {work}");
    let mut known: BTreeSet<String> = settings_tlps.iter().cloned().collect();
    known.insert(connector_wazuh::stix::id::DUMMY_INDICATOR_ID.to_string());
    known.extend(extra_known.iter().map(|s| s.to_string()));
    // Marking definitions are platform objects, never sent in the bundle.
    for o in &objects {
        if let Some(ms) = o["object_marking_refs"].as_array() {
            known.extend(
                ms.iter()
                    .filter_map(|m| m.as_str())
                    .filter(|m| m.starts_with("marking-definition--"))
                    .map(str::to_string),
            );
        }
    }
    let errors = connector_wazuh::stix::validate::validate_bundle(&objects, &known);
    assert!(errors.is_empty(), "invalid bundle: {errors:#?}");
    octi.assert_imports_pass_the_oasis_validator();
    for m in octi.push_messages() {
        assert_eq!(m["bundle"]["type"], "bundle", "{m}");
        assert_eq!(m["bundle"]["spec_version"], "2.1", "{m}");
    }
}

/// Polls `url` until it answers (≤ 10 s); returns status and body.
pub async fn get(url: &str) -> (u16, String) {
    let client = reqwest::Client::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        match client.get(url).send().await {
            Ok(r) => {
                let s = r.status().as_u16();
                return (s, r.text().await.unwrap_or_default());
            }
            Err(e) if tokio::time::Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{url}: {e}"),
        }
    }
}

/// Polls `url` until its status is `want` (≤ `secs`), returning the last body.
pub async fn wait_status(url: &str, want: u16, secs: u64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let (s, body) = get(url).await;
        if s == want {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{url} stayed {s} (wanted {want}): {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of one series in an OpenMetrics text (`name{labels}` exactly as exposed).
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| {
            l.strip_prefix(series)
                .filter(|rest| rest.starts_with(' '))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or_else(|| panic!("series {series} not found in:\n{text}"))
}

/// The objects imported for `work`, waiting (≤ 10 s) for the fake worker to consume the push
/// queue: the work can be reported finished before the worker has read the pushed bundle.
pub async fn pushed(octi: &FakeOpenCti, work: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let objects = octi.pushed_objects(work);
        if !objects.is_empty() || tokio::time::Instant::now() >= deadline {
            return objects;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
