//! What the daemon costs the indexer under load, seen from a tap in front of it
//! ([`crate::testkit::faults::FlakyProxy`] forwarding every request to osmem-server): searches by
//! kind per request, the most searches in flight at once, the probe's cost, and the mixed burst.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::FlakyProxy;

/// Requests seen by the tap, by kind.
pub fn kinds(tap: &FlakyProxy) -> HashMap<&'static str, u64> {
    tap.rules.lock().unwrap().kinds.clone()
}

/// Searches per request between two snapshots: `1.0 search + 1.0 facts`.
pub fn per_request(
    before: &HashMap<&'static str, u64>,
    after: &HashMap<&'static str, u64>,
    n: usize,
) -> String {
    let mut parts: Vec<String> = ["search", "facts", "aggs"]
        .iter()
        .filter_map(|k| {
            let d = after.get(k).unwrap_or(&0) - before.get(k).unwrap_or(&0);
            (d > 0).then(|| format!("{:.1} {k}", d as f64 / n.max(1) as f64))
        })
        .collect();
    if parts.is_empty() {
        parts.push("0".into());
    }
    parts.join(" + ")
}

/// Starts counting the peak of searches in flight afresh.
pub fn reset_peak(tap: &FlakyProxy) {
    let mut r = tap.rules.lock().unwrap();
    r.peak_in_flight = r.in_flight;
}

pub fn peak(tap: &FlakyProxy) -> u64 {
    tap.rules.lock().unwrap().peak_in_flight
}

/// The readiness probe before (a size-0 search counting every document) and now (no total,
/// a query that matches nothing): `took` and osmem CPU, median of 5.
pub async fn probe_cost(http: &reqwest::Client, url: &str, osmem_cpu: impl Fn() -> f64) -> String {
    let before = json!({"size": 0, "track_total_hits": true, "query": {"match_all": {}}});
    let after = connector_wazuh::indexer::probe_body(Duration::from_secs(20));
    let mut t = String::from(
        "\n## Readiness probe on the whole corpus (median of 5)\n\n| probe | took ms | osmem CPU ms |\n|---|---|---|\n",
    );
    for (name, path, body) in [
        ("before: size 0, exact total", "_search", before),
        ("now: size 0, no total, match_none", "_search", after),
    ] {
        let mut runs = Vec::new();
        for _ in 0..5 {
            let c0 = osmem_cpu();
            let r: Value = match http
                .post(format!("{url}/wazuh-alerts-*/{path}"))
                .json(&body)
                .send()
                .await
            {
                Ok(r) => r.json().await.unwrap_or(Value::Null),
                Err(_) => Value::Null,
            };
            runs.push((r["took"].as_f64().unwrap_or(f64::NAN), osmem_cpu() - c0));
        }
        let med = |mut v: Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let _ = writeln!(
            t,
            "| {name} | {:.0} | {:.0} |",
            med(runs.iter().map(|r| r.0).collect()),
            med(runs.iter().map(|r| r.1).collect())
        );
    }
    t
}

/// The mixed burst: `entities` (entity id, expected total) published all at once, round-robin;
/// reports the time until the last work completes, failures, exact counts, the peak of
/// searches in flight at the indexer, and the searches by kind.
pub async fn burst(
    octi: &Arc<FakeOpenCti>,
    tap: &FlakyProxy,
    entities: &[(String, u64)],
    n: usize,
    timeout: Duration,
    osmem_cpu: impl Fn() -> f64,
    daemon_rss: impl Fn() -> f64,
) -> String {
    reset_peak(tap);
    let k0 = kinds(tap);
    let c0 = osmem_cpu();
    let started = Instant::now();
    let mut works = Vec::new();
    for i in 0..n {
        let (id, hits) = &entities[i % entities.len()];
        let work = octi.new_work();
        octi.publish_request(&octi.manual_request(&work, id, true))
            .await;
        works.push((work, *hits));
    }
    let mut ok = 0;
    let mut exact = 0;
    let mut last = Duration::ZERO;
    for (work, hits) in &works {
        let left = timeout.saturating_sub(started.elapsed());
        if let Some(r) = octi.wait_for_work_within(work, left).await {
            last = started.elapsed();
            if !r.in_error {
                ok += 1;
                let m = r.messages.last().cloned().unwrap_or_default();
                if crate::reported_total(&m) == Some(*hits) {
                    exact += 1;
                }
            }
        }
    }
    let k1 = kinds(tap);
    format!(
        "\n## Burst: {n} requests mixed over the tiers, published at once\n\n| requests | ok | counts exact | time to last completion s | peak searches in flight at the indexer | searches (per request) | osmem CPU s | daemon peak RSS MB |\n|---|---|---|---|---|---|---|---|\n| {n} | {ok} | {exact} | {:.1} | {} | {} | {:.1} | {:.1} |\n",
        last.as_secs_f64(),
        peak(tap),
        per_request(&k0, &k1, n),
        (osmem_cpu() - c0) / 1000.0,
        daemon_rss(),
    )
}
