//! Continuous hunting end to end (osmem-server, real RabbitMQ, the test OpenCTI): alerts indexed
//! after the daemon started are found within two cycles for exactly the indicators they match,
//! each enriched once with exact totals; a revoked indicator is no longer hunted; a restart
//! resumes from the checkpoint in the connector state; two replicas elect one hunter and the
//! other takes over when it stops.

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use crate::testkit::connector::free_port;
use crate::testkit::e2e::{connector, get, indexer_with, metric, pushed, ssh_alert, AGENTS, INDEX};
use crate::testkit::fake_opencti::{FakeOpenCti, TLP_GREEN, TLP_RED};
use crate::testkit::rabbit;

const IP: &str = "45.83.64.77";
const IP_RED: &str = "45.83.64.78";
const IP_QUIET: &str = "91.198.174.192";
const SHA256: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn env<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut e = vec![
        ("WAZUH_HUNT_ENABLED", "true"),
        ("WAZUH_HUNT_INTERVAL", "3s"),
        ("WAZUH_HUNT_OVERLAP", "2s"),
    ];
    e.extend_from_slice(extra);
    e
}

/// A Sysmon process-creation alert whose `hashes` list holds `sha256` in upper case.
fn sysmon(sha256: &str, ts: DateTime<Utc>) -> Value {
    json!({
        "@timestamp": ts.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "timestamp": ts.format("%Y-%m-%dT%H:%M:%S%.3f+0000").to_string(),
        "id": format!("{}.sysmon", ts.timestamp_millis()),
        "rule": {"id": "92052", "level": 12, "description": "Sysmon process creation", "groups": ["sysmon"]},
        "agent": {"id": "004", "name": "win-04", "ip": "10.20.0.14"},
        "manager": {"name": "wazuh-manager"},
        "decoder": {"name": "windows_eventchannel"},
        "data": {"win": {"eventdata": {
            "image": "C:\\Users\\Public\\dropper.exe",
            "hashes": format!("SHA1=A94A8FE5CCB19BA61C4C0873D391E987982FBBD3,MD5=098F6BCD4621D373CADE4E832627B4F6,SHA256={},IMPHASH=00000000000000000000000000000000", sha256.to_ascii_uppercase())
        }, "system": {"eventID": "1"}}},
        "location": "EventChannel"
    })
}

async fn wait_for<T>(secs: u64, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The hunt works so far, as (work id, pattern hunted).
fn hunts(octi: &FakeOpenCti) -> Vec<(String, String)> {
    octi.works_named("Wazuh hunt ")
        .into_iter()
        .map(|(id, name)| {
            (
                id,
                name.split_once(": ")
                    .map(|x| x.1.to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

fn checkpoint(octi: &FakeOpenCti) -> Option<DateTime<Utc>> {
    let s: Value = serde_json::from_str(&octi.connector_state()?).ok()?;
    DateTime::parse_from_rfc3339(s.pointer("/hunt/checkpoint")?.as_str()?)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// Deletes the election queue (declared by the daemon, not by the test OpenCTI) and the
/// platform's queues.
async fn finish(octi: FakeOpenCti) {
    rabbit::delete(
        &rabbit::connect().await,
        &format!("hunt_{}", octi.connector_id),
    )
    .await;
    octi.cleanup().await;
}

/// Sum of the sighting counts of `indicator` in a work's objects.
fn sighted(objects: &[Value], indicator: &str) -> u64 {
    objects
        .iter()
        .filter(|o| o["type"] == "sighting" && o["sighting_of_ref"] == indicator)
        .map(|o| o["count"].as_u64().unwrap_or(0))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_alerts_are_hunted_for_exactly_the_matching_indicators() {
    let old = Utc::now() - chrono::Duration::hours(2);
    let os = indexer_with(
        (0..3)
            .map(|n| {
                ssh_alert(
                    IP,
                    AGENTS[0],
                    old + chrono::Duration::seconds(n),
                    n as usize,
                )
            })
            .collect(),
    )
    .await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let ip = octi.add_hunt_indicator(&format!("[ipv4-addr:value = '{IP}']"), Some(TLP_GREEN));
    let hash = octi.add_hunt_indicator(&format!("[file:hashes.'SHA-256' = '{SHA256}']"), None);
    octi.add_hunt_indicator(
        &format!("[ipv4-addr:value = '{IP_QUIET}']"),
        Some(TLP_GREEN),
    );
    // Above the default WAZUH_MAX_TLP: its alerts must not make the connector send it anywhere.
    octi.add_hunt_indicator(&format!("[ipv4-addr:value = '{IP_RED}']"), Some(TLP_RED));
    let c = connector(&octi, &os.url, &env(&[]));

    // The first cycle looks back one interval: the two-hour-old alerts are not new.
    let first = wait_for(30, "the first checkpoint", || checkpoint(&octi)).await;
    assert!(hunts(&octi).is_empty(), "{:?}", hunts(&octi));

    let now = Utc::now();
    os.bulk_index(
        INDEX,
        vec![
            ssh_alert(IP, AGENTS[1], now, 10),
            ssh_alert(IP, AGENTS[2], now, 11),
            ssh_alert(IP_RED, AGENTS[0], now, 12),
            sysmon(SHA256, now),
        ],
    )
    .await;
    let works = wait_for(30, "two hunt works", || {
        Some(hunts(&octi)).filter(|h| h.len() >= 2)
    })
    .await;
    let patterns: BTreeSet<&str> = works.iter().map(|(_, p)| p.as_str()).collect();
    assert_eq!(
        patterns,
        BTreeSet::from([
            format!("[ipv4-addr:value = '{IP}']").as_str(),
            format!("[file:hashes.'SHA-256' = '{SHA256}']").as_str()
        ]),
        "{works:?}"
    );
    for (work, pattern) in &works {
        let rec = octi.wait_for_work(work).await;
        assert!(!rec.in_error, "{rec:?}");
        let objects = pushed(&octi, work).await;
        if pattern.contains(IP) {
            // Exact totals over the whole look-back: the 3 old alerts and the 2 new ones.
            assert_eq!(sighted(&objects, &ip), 5, "{objects:#?}");
        } else {
            assert_eq!(sighted(&objects, &hash), 1, "{objects:#?}");
        }
    }
    assert!(checkpoint(&octi).is_some_and(|c| c > first));

    // Revoked in the platform: no longer hunted, while the hash still is.
    octi.revoke_indicator(&ip);
    tokio::time::sleep(Duration::from_secs(4)).await;
    let before = hunts(&octi).len();
    let now = Utc::now();
    os.bulk_index(
        INDEX,
        vec![ssh_alert(IP, AGENTS[0], now, 20), sysmon(SHA256, now)],
    )
    .await;
    let again = wait_for(30, "the next hunt work", || {
        Some(hunts(&octi)).filter(|h| h.len() > before)
    })
    .await;
    tokio::time::sleep(Duration::from_secs(7)).await;
    let after = hunts(&octi);
    let new: Vec<&String> = after[before..].iter().map(|(_, p)| p).collect();
    assert!(
        new.iter().all(|p| p.contains("SHA-256")),
        "{again:?} / {after:?}"
    );

    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    finish(octi).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_container_resumes_from_the_checkpoint_in_the_connector_state() {
    let now = Utc::now();
    // Seen before the checkpoint (already hunted by the previous container) and after it.
    let os = indexer_with(vec![
        ssh_alert(IP_QUIET, AGENTS[0], now - chrono::Duration::minutes(30), 1),
        ssh_alert(IP, AGENTS[0], now - chrono::Duration::minutes(5), 2),
    ])
    .await;
    let octi = FakeOpenCti::start("6.9.17").await;
    octi.add_hunt_indicator(&format!("[ipv4-addr:value = '{IP}']"), None);
    octi.add_hunt_indicator(&format!("[ipv4-addr:value = '{IP_QUIET}']"), None);
    let previous = now - chrono::Duration::minutes(10);
    octi.set_connector_state(Some(
        &json!({"hunt": {"checkpoint": previous.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)}}).to_string(),
    ));
    let c = connector(&octi, &os.url, &env(&[]));
    let works = wait_for(30, "the catch-up hunt", || {
        Some(hunts(&octi)).filter(|h| !h.is_empty())
    })
    .await;
    tokio::time::sleep(Duration::from_secs(4)).await;
    let works_after = hunts(&octi);
    assert_eq!(works_after.len(), 1, "{works:?} {works_after:?}");
    assert!(works_after[0].1.contains(IP), "{works_after:?}");
    assert!(checkpoint(&octi).is_some_and(|c| c > previous + chrono::Duration::minutes(9)));
    c.stop().await;
    finish(octi).await;
}

async fn active(port: &str) -> Option<f64> {
    let (status, text) = get(&format!("http://127.0.0.1:{port}/metrics")).await;
    (status == 200).then(|| metric(&text, "hunt_active"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_elect_one_hunter_and_the_other_takes_over() {
    let os = indexer_with(vec![ssh_alert(
        "192.0.2.1",
        AGENTS[0],
        Utc::now() - chrono::Duration::hours(3),
        0,
    )])
    .await;
    let octi = FakeOpenCti::start("6.9.17").await;
    octi.add_hunt_indicator(&format!("[ipv4-addr:value = '{IP}']"), None);
    let ports = [free_port().to_string(), free_port().to_string()];
    let start = |p: &str| {
        connector(
            &octi,
            &os.url,
            &env(&[
                ("CONNECTOR_EXPOSE_METRICS", "true"),
                ("CONNECTOR_METRICS_HOST", "127.0.0.1"),
                ("CONNECTOR_METRICS_PORT", p),
            ]),
        )
    };
    let mut replicas = vec![Some(start(&ports[0])), Some(start(&ports[1]))];
    let mut hunter = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while hunter.is_none() {
        assert!(tokio::time::Instant::now() < deadline, "no hunter elected");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let (a, b) = (active(&ports[0]).await, active(&ports[1]).await);
        if let (Some(a), Some(b)) = (a, b) {
            assert!(a + b <= 1.0, "two hunters at once");
            if a + b == 1.0 {
                hunter = Some(if a == 1.0 { 0 } else { 1 });
            }
        }
    }
    let h = hunter.unwrap_or_default();
    // Still exactly one a few cycles later.
    tokio::time::sleep(Duration::from_secs(7)).await;
    assert_eq!(active(&ports[h]).await, Some(1.0));
    assert_eq!(active(&ports[1 - h]).await, Some(0.0));

    if let Some(r) = replicas[h].take() {
        r.stop().await;
    }
    let other = &ports[1 - h];
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    while active(other).await != Some(1.0) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the other replica did not take over"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // The new hunter hunts: alerts indexed now are found.
    let before = hunts(&octi).len();
    os.bulk_index(INDEX, vec![ssh_alert(IP, AGENTS[0], Utc::now(), 1)])
        .await;
    wait_for(30, "a hunt by the new hunter", || {
        Some(hunts(&octi)).filter(|h| h.len() > before)
    })
    .await;

    for r in replicas.into_iter().flatten() {
        r.stop().await;
    }
    finish(octi).await;
}

/// Wazuh 5: the findings (WCS fields) are hunted through the 5.x field table, the schema found
/// at start-up as for enrichment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wazuh_5_findings_are_hunted() {
    use crate::testkit::wazuh5::{findings, holding, load_findings};
    let os = crate::testkit::osmem::Osmem::start().await;
    load_findings(&os).await;
    let (index, mut doc) = findings()
        .into_iter()
        .find(|(_, d)| d.pointer("/source/ip").and_then(Value::as_str) == Some("54.10.24.5"))
        .expect("a finding from 54.10.24.5");
    let before = holding("54.10.24.5")
        .values()
        .map(|(n, _, _)| n)
        .sum::<u64>();
    let octi = FakeOpenCti::start("6.9.17").await;
    let ip = octi.add_hunt_indicator("[ipv4-addr:value = '54.10.24.5']", None);
    octi.add_hunt_indicator(&format!("[ipv4-addr:value = '{IP_QUIET}']"), None);
    let c = connector(&octi, &os.url, &env(&[]));
    wait_for(30, "the first checkpoint", || checkpoint(&octi)).await;
    assert!(hunts(&octi).is_empty(), "{:?}", hunts(&octi));
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    doc["@timestamp"] = json!(now);
    doc["event"]["created"] = json!(now);
    os.bulk_index(&index, vec![doc]).await;
    let works = wait_for(30, "a hunt of the finding", || {
        Some(hunts(&octi)).filter(|h| !h.is_empty())
    })
    .await;
    assert_eq!(works.len(), 1, "{works:?}");
    assert!(works[0].1.contains("54.10.24.5"));
    let rec = octi.wait_for_work(&works[0].0).await;
    assert!(!rec.in_error, "{rec:?}");
    let objects = pushed(&octi, &works[0].0).await;
    assert_eq!(sighted(&objects, &ip), before + 1, "{objects:#?}");
    c.stop().await;
    finish(octi).await;
}
