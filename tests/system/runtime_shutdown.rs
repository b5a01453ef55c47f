//! SIGTERM with requests in flight, on the real binary: in-flight requests finish and are
//! reported, requests not started stay in the queue for redelivery, and the exit code is 0.
//! Also measures start-up time to consuming (reported, not asserted).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::testkit::fake_opencti::{ipv4, FailMode, FakeOpenCti};
use crate::testkit::faults::Daemon;
use tokio::io::AsyncBufReadExt;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_lets_in_flight_requests_finish_and_leaves_the_rest_queued() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let started = Instant::now();
    let mut env = octi.connector_env();
    env.insert("CONNECTOR_CONCURRENCY".into(), "2".into());
    env.insert("OPENCTI_TIMEOUT".into(), "60s".into());
    let mut d = Daemon::spawn(&env);
    let startup = consuming(&d).await;
    eprintln!("start-up to consuming: {startup} ms (connector's own measure), {} ms including process spawn", started.elapsed().as_millis());

    // Entity reads are held until the test lets them go: requests without stix_entity stay in
    // flight exactly until then.
    octi.fail_next("ReadStix", 10, FailMode::Hold);
    let works = publish_without_entity(&octi, 4).await;
    // Two requests (the concurrency) are in flight.
    octi.wait_held(2).await;
    d.signal("TERM");
    assert!(
        d.wait_log("shutting down: no new requests", Duration::from_secs(30))
            .await,
        "{}",
        d.log_text()
    );
    octi.release_held();
    let status = d.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status:?}");

    let finished: Vec<_> = works
        .iter()
        .filter(|w| octi.work(w).unwrap().processed_calls > 0)
        .collect();
    let started: Vec<_> = works
        .iter()
        .filter(|w| octi.work(w).unwrap().received > 0)
        .collect();
    assert_eq!(
        finished.len(),
        2,
        "in-flight requests finished: {finished:?}"
    );
    assert_eq!(started.len(), 2, "no request started after SIGTERM");
    for w in &finished {
        assert!(!octi.work(w).unwrap().in_error);
    }
    let conn = crate::testkit::rabbit::connect().await;
    assert_eq!(
        crate::testkit::rabbit::wait_depth(&conn, &octi.listen_queue(), 2, Duration::from_secs(10))
            .await,
        2,
        "unstarted requests stay queued for redelivery"
    );
    octi.cleanup().await;
}

/// Waits (≤ 60 s) for the daemon to consume; returns its own start-up measure (ms).
pub async fn consuming(d: &Daemon) -> u64 {
    const LINE: &str = "consuming enrichment requests";
    assert!(
        d.wait_log(LINE, Duration::from_secs(60)).await,
        "{}",
        d.log_text()
    );
    let text = d.log_text();
    let line = text.lines().find(|l| l.contains(LINE)).unwrap();
    let v: serde_json::Value = serde_json::from_str(line).expect("JSON log lines");
    v["startup_ms"].as_u64().unwrap()
}

/// Publishes `n` manual requests without the entity in the message (the connector reads it
/// from the platform: `ReadStix`); returns their works.
pub async fn publish_without_entity(octi: &FakeOpenCti, n: usize) -> Vec<String> {
    let mut works = Vec::new();
    for i in 0..n {
        let ip = octi.add_entity(ipv4(&format!("192.0.2.{i}"), None));
        let w = octi.new_work();
        octi.publish_request(&octi.manual_request(&w, &ip, false))
            .await;
        works.push(w);
    }
    works
}

/// Idle RSS and start-up time of a release binary (run with
/// `RELEASE_BIN=target/release/connector-wazuh cargo test --test runtime_shutdown -- --ignored --nocapture`).
/// Reported, not asserted (speed and size are measured, never asserted).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn measure_release_binary_startup_and_idle_rss() {
    let Ok(bin) = std::env::var("RELEASE_BIN") else {
        eprintln!("RELEASE_BIN not set; nothing measured");
        return;
    };
    let octi = FakeOpenCti::start("6.9.17").await;
    let t0 = Instant::now();
    let mut child = tokio::process::Command::new(bin)
        .arg("run")
        .env_clear()
        .envs(octi.connector_env())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(child.stderr.take().unwrap()).lines();
    let startup_ms = loop {
        let l = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .unwrap()
            .unwrap()
            .expect("exited");
        if l.contains("consuming enrichment requests") {
            break serde_json::from_str::<serde_json::Value>(&l).unwrap()["startup_ms"]
                .as_u64()
                .unwrap();
        }
    };
    let wall = t0.elapsed().as_millis();
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    tokio::time::sleep(Duration::from_secs(3)).await;
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id().unwrap())).unwrap();
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap()
        .to_string();
    eprintln!("release binary: start-up to consuming {startup_ms} ms (own measure), {wall} ms wall incl. spawn; idle {rss}");
    // Where the idle memory is: anonymous (heap, stacks) against file-backed (code pages).
    if let Ok(rollup) =
        std::fs::read_to_string(format!("/proc/{}/smaps_rollup", child.id().unwrap()))
    {
        for l in rollup
            .lines()
            .filter(|l| l.starts_with("Rss") || l.starts_with("Anonymous"))
        {
            eprintln!("  {l}");
        }
    }
    if std::env::var_os("SMAPS").is_some() {
        let smaps = std::fs::read_to_string(format!("/proc/{}/smaps", child.id().unwrap()))
            .unwrap_or_default();
        let mut head = String::new();
        for l in smaps.lines() {
            if l.contains('-') && !l.starts_with(|c: char| c.is_ascii_uppercase()) {
                head = l.to_string();
            } else if let Some(v) = l.strip_prefix("Rss:") {
                let kb: u64 = v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0);
                if kb >= 100 {
                    eprintln!("  {kb:>7} kB  {head}");
                }
            }
        }
    }
    child.kill().await.unwrap();
    octi.cleanup().await;
}
