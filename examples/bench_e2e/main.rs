//! End-to-end benchmark of the real daemon (see `BENCHMARKS.md`; run it with
//! `scripts/bench-e2e`).
//!
//! 1. Starts osmem-server, applies the Wazuh template and loads a deterministic corpus
//!    ([`corpus`]) of Wazuh-shaped alerts through `_bulk`.
//! 2. Starts the test fake OpenCTI (schema-validated GraphQL, push-queue worker) in this process
//!    and the **release daemon** as a child process against it, RabbitMQ and osmem-server.
//! 3. For every observable kind and hit tier, publishes enrichment requests (closed loop, at
//!    each concurrency level) and measures latency from publish to "work processed" (result
//!    imported by the fake worker), the daemon's CPU time (`/proc/<pid>/stat`), osmem-server's
//!    CPU time (the indexer's cost), objects and bytes pushed, and the daemon's peak RSS
//!    (`VmHWM`, reset per cell through `/proc/<pid>/clear_refs`).
//! 4. Optionally (`--query-cost`) sends the daemon's exact search bodies straight to the
//!    indexer and reports `took`, to separate the indexer's share.
//!
//! Prints a Markdown table per cell and a summary table at the end (also written to `--out`).

mod corpus;
mod load;
mod procfs;
#[path = "../../tests/testkit/mod.rs"]
mod testkit;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use corpus::Kind;
use procfs::{clk_tck, cpu_ms, peak_rss_mb, rss_split_mb};
use serde_json::Value;
use testkit::fake_opencti::{FakeOpenCti, TLP_GREEN};
use testkit::osmem::{sample_alerts, Osmem};

/// Command-line options (`--name value`).
#[derive(Debug, Clone)]
struct Opts {
    daemon: String,
    alerts: u64,
    requests: usize,
    min_requests: usize,
    cell_budget: Duration,
    request_timeout: Duration,
    concurrency: Vec<usize>,
    replicas: usize,
    kinds: Vec<Kind>,
    tiers: Option<Vec<String>>,
    query_cost: bool,
    skip_daemon: bool,
    serve: bool,
    /// Above concurrency 1, tiers with more hits than this are skipped (the indexer, not the
    /// connector, limits them; see `BENCHMARKS.md`).
    max_hits_concurrent: u64,
    out: Option<String>,
    extra_env: Vec<(String, String)>,
    /// Requests of the mixed burst per concurrency level (0 = none).
    burst: usize,
}

fn usage() -> ! {
    eprintln!(
        "usage: bench_e2e --daemon PATH [--alerts N] [--requests N] [--min-requests N] \
         [--cell-budget SECS] [--request-timeout SECS] [--concurrency 1,4] [--replicas N] \
         [--kinds ipv4,domain,file-sha256,file-name,regkey,process] [--tiers t0,t10,t1000,t10000,all] \
         [--query-cost] [--no-daemon] [--serve] [--max-hits-concurrent N] [--env NAME=VALUE]... [--burst N] [--out FILE]"
    );
    std::process::exit(2)
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        daemon: String::new(),
        alerts: 100_000,
        requests: 10,
        min_requests: 3,
        cell_budget: Duration::from_secs(8),
        request_timeout: Duration::from_secs(120),
        concurrency: vec![1, 4],
        replicas: 1,
        kinds: corpus::KINDS.to_vec(),
        tiers: None,
        query_cost: false,
        skip_daemon: false,
        serve: false,
        max_hits_concurrent: 1_000,
        out: None,
        extra_env: Vec::new(),
        burst: 0,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--daemon" => o.daemon = val(),
            "--alerts" => o.alerts = val().parse().unwrap_or_else(|_| usage()),
            "--requests" => o.requests = val().parse().unwrap_or_else(|_| usage()),
            "--min-requests" => o.min_requests = val().parse().unwrap_or_else(|_| usage()),
            "--cell-budget" => {
                o.cell_budget = Duration::from_secs_f64(val().parse().unwrap_or_else(|_| usage()))
            }
            "--request-timeout" => {
                o.request_timeout =
                    Duration::from_secs_f64(val().parse().unwrap_or_else(|_| usage()))
            }
            "--concurrency" => {
                o.concurrency = val()
                    .split(',')
                    .map(|c| c.trim().parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--replicas" => o.replicas = val().parse().unwrap_or_else(|_| usage()),
            "--kinds" => {
                o.kinds = val()
                    .split(',')
                    .map(|k| Kind::parse(k.trim()).unwrap_or_else(|| usage()))
                    .collect()
            }
            "--tiers" => o.tiers = Some(val().split(',').map(|t| t.trim().to_string()).collect()),
            "--query-cost" => o.query_cost = true,
            "--no-daemon" => o.skip_daemon = true,
            "--serve" => o.serve = true,
            "--max-hits-concurrent" => {
                o.max_hits_concurrent = val().parse().unwrap_or_else(|_| usage())
            }
            "--out" => o.out = Some(val()),
            "--burst" => o.burst = val().parse().unwrap_or_else(|_| usage()),
            "--env" => {
                let kv = val();
                let (k, v) = kv.split_once('=').unwrap_or_else(|| usage());
                o.extra_env.push((k.to_string(), v.to_string()));
            }
            _ => usage(),
        }
    }
    if o.daemon.is_empty() && !o.skip_daemon {
        usage();
    }
    if let Err(e) = corpus::check_size(o.alerts) {
        eprintln!("bench_e2e: {e}");
        std::process::exit(2);
    }
    o
}

// ------------------------------------------------------------------------------------- /proc

/// Resets `VmHWM` to the current RSS (Linux ≥ 4.0), so each cell reports its own peak.
fn reset_peak(pid: u32) {
    let _ = std::fs::write(format!("/proc/{pid}/clear_refs"), "5");
}

fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

// ------------------------------------------------------------------------------------- daemon

struct Daemon {
    child: std::process::Child,
}

impl Daemon {
    fn start(bin: &str, env: &HashMap<String, String>, log: &str) -> Daemon {
        let log = std::fs::File::create(log).expect("daemon log file");
        let child = std::process::Command::new(bin)
            .env_clear()
            .envs(env)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        Daemon { child }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then SIGKILL after 15 s.
    fn stop(mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ------------------------------------------------------------------------------------- cells

/// One request's outcome.
#[derive(Debug, Clone)]
struct Sample {
    latency: Duration,
    ok: bool,
    objects: usize,
    bytes: usize,
    message: String,
}

/// One kind × tier × concurrency measurement.
#[derive(Debug, Clone)]
struct Cell {
    kind: &'static str,
    tier: String,
    hits: u64,
    concurrency: usize,
    n: usize,
    failed: usize,
    counts_ok: bool,
    wall: Duration,
    p50: f64,
    p95: f64,
    p99: f64,
    cpu_ms_per_req: f64,
    osmem_ms_per_req: f64,
    objects: f64,
    kbytes: f64,
    peak_rss_mb: f64,
    /// Highest `RssAnon` / `RssFile` sampled every 5 ms: the process's own memory (heap,
    /// stacks) and the mapped program code and libraries.
    rss_split_mb: (f64, f64),
    /// Searches per request at the indexer, by kind (seen by the tap).
    searches: String,
    message: String,
}

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    if sorted_ms.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted_ms.len() as f64).ceil() as usize;
    sorted_ms[rank.clamp(1, sorted_ms.len()) - 1]
}

async fn one_request(octi: &FakeOpenCti, entity: &str, timeout: Duration) -> Sample {
    let work = octi.new_work();
    let msg = octi.manual_request(&work, entity, true);
    let t = Instant::now();
    octi.publish_request(&msg).await;
    let rec = octi.wait_for_work_within(&work, timeout).await;
    let latency = t.elapsed();
    let objects = octi.pushed_objects(&work);
    let bytes = objects.iter().map(|o| o.to_string().len()).sum();
    let (ok, message) = match rec {
        Some(r) if !r.in_error => (true, r.messages.last().cloned().unwrap_or_default()),
        Some(r) => (false, r.errors.last().cloned().unwrap_or_default()),
        None => (false, format!("no result within {timeout:?}")),
    };
    Sample {
        latency,
        ok,
        objects: objects.len(),
        bytes,
        message,
    }
}

/// The total the work message reports (`"<n> alert(s) …"`; `"No hits found"` = 0).
pub(crate) fn reported_total(message: &str) -> Option<u64> {
    if message.starts_with("No hits found") {
        return Some(0);
    }
    message
        .split_whitespace()
        .next()
        .and_then(|w| w.replace(',', "").parse().ok())
        .filter(|_| message.contains("alert(s)"))
}

#[allow(clippy::too_many_arguments)]
async fn run_cell(
    octi: &Arc<FakeOpenCti>,
    tap: &testkit::faults::FlakyProxy,
    opts: &Opts,
    pids: &[u32],
    osmem_pid: u32,
    tck: f64,
    kind: Kind,
    tag: &str,
    hits: u64,
    entity: &str,
    concurrency: usize,
) -> Cell {
    for p in pids {
        reset_peak(*p);
    }
    let cpu0: f64 = pids.iter().map(|p| cpu_ms(*p, tck)).sum();
    let os0 = cpu_ms(osmem_pid, tck);
    let kinds0 = load::kinds(tap);
    let started = Instant::now();
    // VmHWM does not say how much of the peak is heap and how much program code: sample both.
    let split_done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let split = {
        let (done, pids) = (split_done.clone(), pids.to_vec());
        tokio::spawn(async move {
            let (mut anon, mut file) = (0.0f64, 0.0f64);
            while !done.load(Ordering::SeqCst) {
                for p in &pids {
                    let (a, f) = rss_split_mb(*p);
                    anon = anon.max(a);
                    file = file.max(f);
                }
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            (anon, file)
        })
    };
    let issued = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let octi = octi.clone();
        let issued = issued.clone();
        let entity = entity.to_string();
        let (max, min, budget, timeout) = (
            opts.requests,
            opts.min_requests.min(opts.requests),
            opts.cell_budget,
            opts.request_timeout,
        );
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::new();
            loop {
                let i = issued.fetch_add(1, Ordering::SeqCst);
                if i >= max || (i >= min && started.elapsed() > budget) {
                    break;
                }
                out.push(one_request(&octi, &entity, timeout).await);
            }
            out
        }));
    }
    let mut samples = Vec::new();
    for t in tasks {
        samples.extend(t.await.unwrap_or_default());
    }
    let wall = started.elapsed();
    split_done.store(true, Ordering::SeqCst);
    let (anon, file) = split.await.unwrap_or((f64::NAN, f64::NAN));
    let cpu1: f64 = pids.iter().map(|p| cpu_ms(*p, tck)).sum();
    let os1 = cpu_ms(osmem_pid, tck);
    let n = samples.len().max(1);
    let mut lat: Vec<f64> = samples
        .iter()
        .map(|s| s.latency.as_secs_f64() * 1000.0)
        .collect();
    lat.sort_by(f64::total_cmp);
    let failed = samples.iter().filter(|s| !s.ok).count();
    let message = samples
        .iter()
        .find(|s| !s.ok)
        .or(samples.first())
        .map(|s| s.message.clone())
        .unwrap_or_default();
    let counts_ok = samples
        .iter()
        .all(|s| s.ok && reported_total(&s.message) == Some(hits));
    Cell {
        kind: kind.label(),
        tier: tag.to_string(),
        hits,
        concurrency,
        n: samples.len(),
        failed,
        counts_ok,
        wall,
        p50: percentile(&lat, 50.0),
        p95: percentile(&lat, 95.0),
        p99: percentile(&lat, 99.0),
        cpu_ms_per_req: (cpu1 - cpu0) / n as f64,
        osmem_ms_per_req: (os1 - os0) / n as f64,
        objects: samples.iter().map(|s| s.objects).sum::<usize>() as f64 / n as f64,
        kbytes: samples.iter().map(|s| s.bytes).sum::<usize>() as f64 / n as f64 / 1024.0,
        peak_rss_mb: pids.iter().map(|p| peak_rss_mb(*p)).fold(0.0, f64::max),
        rss_split_mb: (anon, file),
        searches: load::per_request(&kinds0, &load::kinds(tap), samples.len()),
        message,
    }
}

// ------------------------------------------------------------------------------------- output

const CELL_HEADER: &str = "| kind | tier (hits) | conc. | n | failed | counts exact | req/s | p50 ms | p95 ms | p99 ms | daemon CPU ms/req | indexer CPU ms/req | objects/req | KB/req | peak RSS MB | heap / code MB | searches/req |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";

fn cell_row(c: &Cell) -> String {
    format!(
        "| {} | {} ({}) | {} | {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.0} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} / {:.1} | {} |\n",
        c.kind,
        c.tier,
        c.hits,
        c.concurrency,
        c.n,
        c.failed,
        if c.counts_ok { "yes" } else { "NO" },
        c.n as f64 / c.wall.as_secs_f64(),
        c.p50,
        c.p95,
        c.p99,
        c.cpu_ms_per_req,
        c.osmem_ms_per_req,
        c.objects,
        c.kbytes,
        c.peak_rss_mb,
        c.rss_split_mb.0,
        c.rss_split_mb.1,
        c.searches
    )
}

fn median(mut v: Vec<f64>) -> f64 {
    v.retain(|x| x.is_finite());
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Per concurrency and tier, over the kinds.
fn summary(cells: &[Cell]) -> String {
    let mut s = String::from(
        "| conc. | tier (hits) | requests | failed | counts exact | req/s (mean over kinds) | median p50 ms | worst p99 ms | median daemon CPU ms/req | max daemon CPU ms/req | median indexer CPU ms/req | median objects | median KB | peak RSS MB | reference 0.35 s ÷ median p50 |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    let mut keys: Vec<(usize, u64, String)> = cells
        .iter()
        .map(|c| (c.concurrency, c.hits, c.tier.clone()))
        .collect();
    keys.dedup();
    keys.sort();
    keys.dedup();
    for (conc, hits, tier) in keys {
        let g: Vec<&Cell> = cells
            .iter()
            .filter(|c| c.concurrency == conc && c.tier == tier)
            .collect();
        let p50 = median(g.iter().map(|c| c.p50).collect());
        let _ = writeln!(
            s,
            "| {conc} | {tier} ({hits}) | {} | {} | {} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2}× |",
            g.iter().map(|c| c.n).sum::<usize>(),
            g.iter().map(|c| c.failed).sum::<usize>(),
            if g.iter().all(|c| c.counts_ok) { "yes" } else { "NO" },
            g.iter().map(|c| c.n as f64 / c.wall.as_secs_f64()).sum::<f64>() / g.len() as f64,
            p50,
            g.iter().map(|c| c.p99).fold(0.0, f64::max),
            median(g.iter().map(|c| c.cpu_ms_per_req).collect()),
            g.iter().map(|c| c.cpu_ms_per_req).fold(0.0, f64::max),
            median(g.iter().map(|c| c.osmem_ms_per_req).collect()),
            median(g.iter().map(|c| c.objects).collect()),
            median(g.iter().map(|c| c.kbytes).collect()),
            g.iter().map(|c| c.peak_rss_mb).fold(0.0, f64::max),
            350.0 / p50,
        );
    }
    s
}

// ------------------------------------------------------------------------------------- main

/// The daemon's search body for an entity, sent directly to the indexer: (took ms, wall ms,
/// total) as the median of three runs.
async fn query_cost(
    http: &reqwest::Client,
    osmem_url: &str,
    settings: &connector_wazuh::config::Settings,
    kind: Kind,
    stix: &Value,
) -> Option<(u64, f64, u64)> {
    let (_, q) =
        connector_wazuh::search::plan(kind.entity_type(), stix, &HashMap::new(), &settings.search)
            .ok()??;
    let req = connector_wazuh::search::envelope::SearchRequest::new(
        q,
        &settings.indexer,
        &settings.knowledge,
        chrono::Utc::now(),
    );
    let mut runs = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let r = http
            .post(format!("{osmem_url}/{}/_search", req.index))
            .json(&req.body)
            .send()
            .await
            .ok()?;
        let v: Value = r.json().await.ok()?;
        let wall = t.elapsed().as_secs_f64() * 1000.0;
        runs.push((
            v["took"].as_u64().unwrap_or(0),
            wall,
            v["hits"]["total"]["value"].as_u64().unwrap_or(0),
        ));
    }
    runs.sort_by(|a, b| a.1.total_cmp(&b.1));
    runs.get(1).copied()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let opts = parse_opts();
    let tck = clk_tck();
    let mut report = String::new();
    let commit = std::env::var("BENCH_COMMIT").unwrap_or_else(|_| "unknown".into());
    let _ = writeln!(
        report,
        "# bench-e2e run\n\n- date: {}\n- commit: {commit}\n- cores: {}\n- load average at start: {}\n- corpus: {} alerts\n- requests per cell: ≤ {} (≥ {} ; budget {:?})\n- replicas: {}\n- extra env: {:?}\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        load_avg(),
        opts.alerts,
        opts.requests,
        opts.min_requests,
        opts.cell_budget,
        opts.replicas,
        opts.extra_env,
    );
    eprint!("{report}");

    // 1. Indexer and corpus.
    let os = Osmem::start().await;
    let osmem_pid = os.pid().expect("osmem pid");
    os.apply_wazuh_template().await;
    let samples = sample_alerts();
    let t = Instant::now();
    let total = opts.alerts;
    let mut n = 0u64;
    while n < total {
        let end = (n + 10_000).min(total);
        let batch: Vec<Value> = (n..end)
            .map(|i| corpus::alert(&samples, i, total))
            .collect();
        os.bulk_index(corpus::INDEX, batch).await;
        n = end;
    }
    let load_s = t.elapsed().as_secs_f64();
    let http = reqwest::Client::new();
    let count: Value = http
        .get(format!("{}/{}/_count", os.url, corpus::INDEX))
        .send()
        .await
        .expect("_count")
        .json()
        .await
        .expect("_count json");
    let _ = writeln!(
        report,
        "- corpus loaded in {load_s:.1} s ({} documents indexed); osmem-server RSS after load: {:.0} MB\n",
        count["count"],
        std::fs::read_to_string(format!("/proc/{osmem_pid}/status"))
            .ok()
            .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)).and_then(|k| k.parse::<f64>().ok()))
            .unwrap_or(0.0)
            / 1024.0
    );
    eprintln!("{}", report.lines().last().unwrap_or_default());
    let probe = load::probe_cost(&http, &os.url, || cpu_ms(osmem_pid, tck)).await;
    eprint!("{probe}");
    report.push_str(&probe);
    // The daemon talks to the indexer through a tap that counts its searches by kind and in
    // flight.
    let tap = testkit::faults::FlakyProxy::start(&os.url).await;
    if opts.serve {
        // Keep the loaded indexer up for manual experiments (stop with Ctrl-C).
        eprintln!("serving the corpus at {}", os.url);
        let _ = tokio::signal::ctrl_c().await;
        return;
    }

    // 2. Fake OpenCTI and the entities.
    let octi = Arc::new(FakeOpenCti::start("6.9.17").await);
    let tiers: Vec<(String, u64)> = corpus::tiers(total)
        .into_iter()
        .filter(|(t, _)| opts.tiers.as_ref().is_none_or(|w| w.contains(t)))
        .collect();
    let mut entities: Vec<(Kind, String, u64, String, Value)> = Vec::new();
    for k in &opts.kinds {
        for (tag, hits) in &tiers {
            let stix = k.stix(tag, TLP_GREEN);
            let id = octi.add_entity(stix.clone());
            entities.push((*k, tag.clone(), *hits, id, stix));
        }
    }
    let mut env: HashMap<String, String> = octi.connector_env();
    env.insert("WAZUH_OPENSEARCH_URL".into(), tap.url.clone());
    env.insert("WAZUH_CREATE_OBS_SIGHTINGS".into(), "true".into());
    env.insert("WAZUH_OPENSEARCH_TIMEOUT".into(), "120s".into());
    env.insert("CONNECTOR_LOG_LEVEL".into(), "warn".into());
    env.insert("OPENCTI_TIMEOUT".into(), "30s".into());
    for (k, v) in &opts.extra_env {
        env.insert(k.clone(), v.clone());
    }

    // 3. Indexer cost of the daemon's exact search bodies.
    if opts.query_cost {
        let settings =
            connector_wazuh::config::load::load(&connector_wazuh::config::load::LoadInput {
                file: None,
                env: env.clone(),
            })
            .expect("settings");
        let mut t = String::from("\n## Indexer cost of the search bodies (direct `_search`, median of 3)\n\n| kind | tier (hits) | total | took ms | wall ms |\n|---|---|---|---|---|\n");
        for (k, tag, hits, _, stix) in &entities {
            match query_cost(&http, &os.url, &settings, *k, stix).await {
                Some((took, wall, tot)) => {
                    let _ = writeln!(
                        t,
                        "| {} | {tag} ({hits}) | {tot} | {took} | {wall:.0} |",
                        k.label()
                    );
                }
                None => {
                    let _ = writeln!(t, "| {} | {tag} ({hits}) | (no query) | | |", k.label());
                }
            }
            eprintln!("{}", t.lines().last().unwrap_or_default());
        }
        report.push_str(&t);
    }

    // 4. The daemon, per concurrency level.
    let mut cells: Vec<Cell> = Vec::new();
    if !opts.skip_daemon {
        let log_dir = std::env::temp_dir().join(format!("bench-e2e-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&log_dir);
        let mut table = String::from("\n## Per cell\n\n");
        table.push_str(CELL_HEADER);
        eprint!("{table}");
        for &c in &opts.concurrency {
            env.insert("CONNECTOR_CONCURRENCY".into(), c.to_string());
            let daemons: Vec<Daemon> = (0..opts.replicas)
                .map(|r| {
                    let log = log_dir.join(format!("daemon-c{c}-r{r}.log"));
                    Daemon::start(&opts.daemon, &env, &log.to_string_lossy())
                })
                .collect();
            let pids: Vec<u32> = daemons.iter().map(Daemon::pid).collect();
            octi.wait_for_registration().await;
            // Warm-up: one request end to end (connections open, consumer running).
            if let Some((_, _, _, id, _)) = entities.first() {
                for _ in 0..opts.replicas.max(1) * 2 {
                    let s = one_request(&octi, id, opts.request_timeout).await;
                    if !s.ok {
                        eprintln!("warm-up request failed: {}", s.message);
                    }
                }
            }
            for (k, tag, hits, id, _) in &entities {
                if (c > 1 && *hits > opts.max_hits_concurrent) || opts.requests == 0 {
                    continue;
                }
                let cell = run_cell(
                    &octi, &tap, &opts, &pids, osmem_pid, tck, *k, tag, *hits, id, c,
                )
                .await;
                let row = cell_row(&cell);
                eprint!("{row}");
                if !cell.counts_ok {
                    eprintln!(
                        "    ↳ {}",
                        cell.message.chars().take(300).collect::<String>()
                    );
                }
                table.push_str(&row);
                cells.push(cell);
            }
            if opts.burst > 0 {
                let mixed: Vec<(String, u64)> = entities
                    .iter()
                    .filter(|e| e.2 <= 10_000)
                    .map(|e| (e.3.clone(), e.2))
                    .collect();
                for p in &pids {
                    reset_peak(*p);
                }
                let b = load::burst(
                    &octi,
                    &tap,
                    &mixed,
                    opts.burst,
                    opts.request_timeout * 20,
                    || cpu_ms(osmem_pid, tck),
                    || pids.iter().map(|p| peak_rss_mb(*p)).fold(0.0, f64::max),
                )
                .await;
                eprint!("{b}");
                let _ = writeln!(table, "\n(concurrency {c}){b}");
            }
            for d in daemons {
                d.stop();
            }
        }
        report.push_str(&table);
        let rejected = octi.rejected();
        if !rejected.is_empty() {
            let _ = writeln!(
                report,
                "\n**{} GraphQL operation(s) rejected by the schema**: {:?}",
                rejected.len(),
                rejected.first()
            );
        }
        let _ = writeln!(
            report,
            "\nDaemon logs: {} (load average at end: {})",
            log_dir.display(),
            load_avg()
        );
        let _ = writeln!(
            report,
            "\n## Summary (per concurrency and tier, over the kinds)\n"
        );
        report.push_str(&summary(&cells));
    }
    println!("{report}");
    if let Some(path) = &opts.out {
        if let Err(e) = std::fs::write(path, &report) {
            eprintln!("cannot write {path}: {e}");
        }
    }
    if let Ok(o) = Arc::try_unwrap(octi) {
        o.cleanup().await;
    }
    drop(os);
}
