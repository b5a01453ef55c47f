//! Benchmark of a continuous hunting cycle's detection (see `BENCHMARKS.md`; run it with
//! `scripts/bench-hunt`).
//!
//! 1. Loads the deterministic 100,000-alert corpus of the end-to-end benchmark into osmem-server.
//! 2. For 10,000 and 100,000 indicators (half IPv4 addresses, three tenths domains, two tenths
//!    SHA-256 hashes; among them the corpus's tier values, so some match), builds the detection
//!    plan and runs one cycle's detection over the newest 1,000 alerts — the "new alerts since
//!    the last cycle" — with the connector's own indexer client: every request paged, every hit
//!    attributed.
//! 3. Reports the cycle's wall time, the number of indexer requests, the connector's CPU time
//!    (this process: plan + requests + attribution), osmem-server's CPU time, the process's peak
//!    RSS, and checks the indicators found against the ones whose values the window's alerts
//!    hold (computed independently from the generated documents).

#[path = "../bench_e2e/corpus.rs"]
#[allow(dead_code)]
mod corpus;
#[path = "../bench_e2e/procfs.rs"]
mod procfs;
#[path = "../../tests/testkit/mod.rs"]
mod testkit;

use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::time::Instant;

use chrono::{DateTime, Utc};
use connector_wazuh::config::load::{load, LoadInput};
use connector_wazuh::hunt::detect::{DetectionPlan, Huntable};
use connector_wazuh::indexer::IndexerClient;
use corpus::Kind;
use procfs::{clk_tck, cpu_ms, peak_rss_mb};
use serde_json::Value;
use testkit::osmem::{sample_alerts, Osmem};

const ALERTS: u64 = 100_000;
const NEW: u64 = 1_000;
const PAGE: usize = 5_000;

fn timestamp(doc: &Value) -> DateTime<Utc> {
    doc["@timestamp"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_default()
}

/// `n` indicators: the tier values of three kinds first, then unique values no alert holds.
fn indicators(n: usize) -> Vec<(Huntable, Kind, String)> {
    let mut out = Vec::new();
    let pattern = |k: Kind, v: &str| match k {
        Kind::Ipv4 => format!("[ipv4-addr:value = '{v}']"),
        Kind::Domain => format!("[domain-name:value = '{v}']"),
        _ => format!("[file:hashes.'SHA-256' = '{v}']"),
    };
    let kinds = [Kind::Ipv4, Kind::Domain, Kind::FileSha256];
    for k in kinds {
        for (tag, _) in corpus::tiers(ALERTS) {
            out.push((k, k.value(&tag)));
        }
    }
    let mut i = 0u64;
    while out.len() < n {
        let k = match i % 10 {
            0..=4 => Kind::Ipv4,
            5..=7 => Kind::Domain,
            _ => Kind::FileSha256,
        };
        let v = match k {
            Kind::Ipv4 => format!("198.{}.{}.{}", 18 + (i >> 16) % 2, (i >> 8) & 255, i & 255),
            Kind::Domain => format!("hunt{i}.unseen.example"),
            _ => format!("{:064x}", i as u128 * 0x9e37_79b9_7f4a_7c15),
        };
        out.push((k, v));
        i += 1;
    }
    out.into_iter()
        .enumerate()
        .map(|(j, (k, v))| {
            (
                Huntable {
                    id: format!("indicator-{j}"),
                    pattern: pattern(k, &v),
                    pattern_type: "stix".into(),
                },
                k,
                v,
            )
        })
        .collect()
}

fn settings_for(url: &str) -> connector_wazuh::config::Settings {
    let env: HashMap<String, String> = [
        ("OPENCTI_URL", "http://127.0.0.1:1"),
        ("OPENCTI_TOKEN", "bench"),
        ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
        ("WAZUH_OPENSEARCH_URL", url),
        ("WAZUH_OPENSEARCH_TIMEOUT", "300s"),
        ("WAZUH_SCHEMA", "4.x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    load(&LoadInput { file: None, env }).expect("settings")
}

/// The cycle, in a process of its own so that its CPU time and peak RSS are the connector's
/// alone: `bench_hunt --cycle <indexer url> <from> <to> <indicators>`; prints one JSON line.
async fn cycle(url: &str, from: DateTime<Utc>, to: DateTime<Utc>, size: usize) {
    let settings = settings_for(url);
    let indexer = IndexerClient::new(&settings.indexer).expect("indexer client");
    let huntable: Vec<Huntable> = indicators(size).into_iter().map(|(h, _, _)| h).collect();
    let me = std::process::id();
    let tck = clk_tck();
    let cpu0 = cpu_ms(me, tck);
    let t = Instant::now();
    let fields = connector_wazuh::runtime::hunt::indexer_fields(&indexer, &settings).await;
    let plan = DetectionPlan::with_fields(&huntable, &settings.search, &fields);
    let plan_ms = t.elapsed().as_secs_f64() * 1000.0;
    let plan_cpu = cpu_ms(me, tck) - cpu0;
    let cpu1 = cpu_ms(me, tck);
    let (mut build_ms, mut search_ms, mut attr_ms) = (0.0, 0.0, 0.0);
    let mut found = BTreeSet::new();
    let mut requests = 0;
    for i in 0..plan.len() {
        let b = Instant::now();
        let Some(mut req) = plan.request(i, &from, &to, "@timestamp", PAGE) else {
            continue;
        };
        let mut body = std::mem::take(&mut req.body);
        connector_wazuh::search::envelope::narrow(
            &mut body,
            &settings.indexer,
            &settings.knowledge,
        );
        build_ms += b.elapsed().as_secs_f64() * 1000.0;
        loop {
            let q = Instant::now();
            let a = indexer
                .search_raw(&settings.indexer.index, &body)
                .await
                .expect("detection search");
            search_ms += q.elapsed().as_secs_f64() * 1000.0;
            requests += 1;
            let r = Instant::now();
            let hits = a["hits"]["hits"].as_array().cloned().unwrap_or_default();
            for h in &hits {
                found.extend(plan.attribute(&req, h));
            }
            attr_ms += r.elapsed().as_secs_f64() * 1000.0;
            match connector_wazuh::hunt::next_page(&body, &hits, PAGE, "@timestamp") {
                Some(next) => body = next,
                None => break,
            }
        }
    }
    let wall = t.elapsed().as_secs_f64() * 1000.0;
    println!(
        "{}",
        serde_json::json!({"plan_ms": plan_ms, "build_ms": build_ms, "search_ms": search_ms, "attr_ms": attr_ms,
            "wall_ms": wall, "requests": requests, "plan_cpu_ms": plan_cpu, "cycle_cpu_ms": cpu_ms(me, tck) - cpu1, "rss_mb": peak_rss_mb(me), "found": found})
    );
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--cycle") {
        let t = |i: usize| {
            DateTime::parse_from_rfc3339(&args[i])
                .expect("time")
                .with_timezone(&Utc)
        };
        cycle(&args[2], t(3), t(4), args[5].parse().expect("size")).await;
        return;
    }
    let sizes: Vec<usize> = args
        .get(1)
        .map(|s| s.split(',').filter_map(|x| x.parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 100_000]);
    let os = Osmem::start().await;
    let osmem_pid = os.pid().expect("osmem pid");
    os.apply_wazuh_template().await;
    let samples = sample_alerts();
    let t = Instant::now();
    let mut n = 0u64;
    let mut window_docs = Vec::new();
    while n < ALERTS {
        let end = (n + 10_000).min(ALERTS);
        let batch: Vec<Value> = (n..end)
            .map(|i| corpus::alert(&samples, i, ALERTS))
            .collect();
        for (j, d) in batch.iter().enumerate() {
            if n + j as u64 >= ALERTS - NEW {
                window_docs.push(d.clone());
            }
        }
        os.bulk_index(corpus::INDEX, batch).await;
        n = end;
    }
    eprintln!("corpus loaded in {:.1} s", t.elapsed().as_secs_f64());
    let from = timestamp(&window_docs[0]);
    let to = timestamp(&window_docs[window_docs.len() - 1]) + chrono::Duration::milliseconds(1);
    let window_text: String = window_docs.iter().map(Value::to_string).collect();
    let tck = clk_tck();
    let me = std::env::current_exe().expect("own path");
    let mut report = String::new();
    let _ = writeln!(report, "| indicators | plan: CPU ms (wall ms) | cycle: indexer requests | cycle: wall ms | cycle: connector CPU ms | of which building bodies ms | of which attribution ms | peak RSS MB | osmem CPU ms | indicators hit (expected) |");
    let _ = writeln!(report, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
    for size in sizes {
        let expected: BTreeSet<String> = indicators(size)
            .iter()
            .filter(|(_, _, v)| window_text.contains(&format!("\"{v}\"")))
            .map(|(h, _, _)| h.id.clone())
            .collect();
        let os0 = cpu_ms(osmem_pid, tck);
        let out = std::process::Command::new(&me)
            .args([
                "--cycle",
                os.url.as_str(),
                &from.to_rfc3339(),
                &to.to_rfc3339(),
                &size.to_string(),
            ])
            .output()
            .expect("cycle process");
        let os1 = cpu_ms(osmem_pid, tck);
        let r: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("cycle failed: {}", String::from_utf8_lossy(&out.stderr)));
        let found: BTreeSet<String> = r["found"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(String::from))
            .collect();
        let f = |k: &str| r[k].as_f64().unwrap_or(f64::NAN);
        let _ = writeln!(
            report,
            "| {size} | {:.0} ({:.0}) | {} | {:.0} | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {} ({}) |",
            f("plan_cpu_ms"),
            f("plan_ms"),
            r["requests"],
            f("wall_ms") - f("plan_ms"),
            f("cycle_cpu_ms"),
            f("build_ms"),
            f("attr_ms"),
            f("rss_mb"),
            os1 - os0,
            found.len(),
            expected.len()
        );
        assert_eq!(
            found, expected,
            "the indicators found differ from those the window holds"
        );
    }
    println!("{report}");
}
