//! Faults on the Wazuh indexer side, with requests in flight: killed mid-run and restarted on the
//! same address, slower than the timeout, 429 then 503 for a while, HTTP 400 for one query and
//! garbage JSON for another. The production pipeline (inspect, query builder, envelope, indexer
//! client, response parser, knowledge) runs behind the real runtime, in process.
//!
//! Promise: transient failures are retried (client retries, then redelivery) until they pass;
//! permanent ones end the work in error with a message naming the indexer and the cause;
//! nothing is lost; the daemon keeps running.

use std::time::{Duration, Instant};

use crate::testkit::connector::spawn;
use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::{listen_queue_drained, FlakyProxy, Load, Tally};
use crate::testkit::osmem::Osmem;

struct Setup {
    octi: FakeOpenCti,
    osmem: Osmem,
    connector: crate::testkit::connector::Running,
}

/// osmem with the sample alerts, a fake OpenCTI, and the runtime searching `indexer_url`
/// (`None` = osmem directly).
async fn setup(proxy: Option<&FlakyProxy>, osmem: Osmem, extra: &[(&str, &str)]) -> Setup {
    let octi = FakeOpenCti::start("6.9.17").await;
    let url = proxy
        .map(|p| p.url.clone())
        .unwrap_or_else(|| osmem.url.clone());
    let mut vars = vec![
        ("CONNECTOR_CONCURRENCY", "4"),
        ("CONNECTOR_MAX_ATTEMPTS", "10"),
        ("WAZUH_OPENSEARCH_RETRIES", "2"),
        // Search every observable, with or without indicators.
        ("WAZUH_CREATE_OBS_SIGHTINGS", "true"),
        // The sample alerts carry the dashboard sample-data marker.
        ("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "false"),
        ("WAZUH_OPENSEARCH_URL", url.as_str()),
    ];
    vars.extend_from_slice(extra);
    // The production pipeline (inspect, search, knowledge) behind the real runtime.
    let connector = spawn(&octi, &vars, None);
    octi.wait_for_registration().await;
    Setup {
        octi,
        osmem,
        connector,
    }
}

async fn loaded_osmem() -> Osmem {
    let o = Osmem::start().await;
    o.load_sample_alerts().await;
    o
}

async fn finish(
    s: Setup,
    load: &Load,
    scenario: &str,
    test: &str,
    notes: impl FnOnce() -> String,
) -> Tally {
    load.wait_all(&s.octi, Duration::from_secs(120)).await;
    assert!(
        !s.connector.handle.is_finished(),
        "the connector exited on its own"
    );
    assert_eq!(
        listen_queue_drained(&s.octi).await,
        0,
        "requests left queued"
    );
    let t = Tally::collect(&s.octi, load);
    t.report(scenario, test, &notes());
    s.connector.stop().await;
    s.octi.cleanup().await;
    drop(s.osmem);
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_killed_mid_run_and_restarted() {
    let s = setup(None, loaded_osmem().await, &[]).await;
    let mut s = s;
    let load = Load::prepare(&s.octi, 200);
    // Kill while requests are still being published and processed.
    let (octi, osmem) = (&s.octi, &mut s.osmem);
    let ((), (at_kill, down)) = tokio::join!(load.publish(octi), async {
        load.wait_finished(octi, 10, Duration::from_secs(60)).await;
        let addr = osmem.addr();
        let at_kill = load.finished(octi);
        osmem.kill().await;
        let killed = Instant::now();
        tokio::time::sleep(Duration::from_secs(3)).await;
        *osmem = Osmem::start_on(&addr).await;
        osmem.load_sample_alerts().await;
        (at_kill, killed.elapsed())
    });
    let notes = format!(
        "killed after {at_kill}/200 finished; down {:.1} s; restarted on the same address and reloaded",
        down.as_secs_f64()
    );
    let t = finish(
        s,
        &load,
        "Indexer killed mid-run, restarted",
        "fault_indexer::indexer_killed_mid_run_and_restarted",
        || notes,
    )
    .await;
    assert!(at_kill < 200);
    t.assert_promises(0, &["indexer"]);
    assert_eq!(t.in_error, 0, "{t:#?}");
    // The fault fired: searches in flight failed and their requests were redelivered.
    assert!(t.redelivered > 0, "no request was redelivered: {t:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_slower_than_the_timeout_for_a_while() {
    let osmem = loaded_osmem().await;
    let proxy = FlakyProxy::start(&osmem.url).await;
    let s = setup(Some(&proxy), osmem, &[("WAZUH_OPENSEARCH_TIMEOUT", "1s")]).await;
    let load = Load::prepare(&s.octi, 60);
    // Long enough that a search started in its first seconds fails all three attempts (1 s
    // timeout, 0.25 s and 0.5 s backoff).
    proxy.delay_for(Duration::from_millis(1500), Duration::from_secs(6));
    load.publish(&s.octi).await;
    let t = finish(
        s,
        &load,
        "Indexer slower than the timeout (1.5 s > 1 s) for 6 s",
        "fault_indexer::indexer_slower_than_the_timeout_for_a_while",
        || {
            let r = proxy.rules.lock().unwrap();
            format!(
                "{} indexer requests seen, {} held past the timeout",
                r.seen, r.delayed
            )
        },
    )
    .await;
    t.assert_promises(0, &["indexer"]);
    assert_eq!(t.in_error, 0, "{t:#?}");
    // The fault fired: searches were held past the timeout, failed after their retries, and
    // their requests were redelivered.
    assert!(
        proxy.rules.lock().unwrap().delayed > 0,
        "no search was delayed"
    );
    assert!(t.redelivered > 0, "no request was redelivered: {t:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_answers_429_then_503_for_a_while() {
    let osmem = loaded_osmem().await;
    let proxy = FlakyProxy::start(&osmem.url).await;
    let s = setup(Some(&proxy), osmem, &[]).await;
    let load = Load::prepare(&s.octi, 100);
    proxy.status_for(429, Duration::from_secs(3));
    load.publish(&s.octi).await;
    load.wait_finished(&s.octi, 1, Duration::from_secs(30))
        .await;
    proxy.status_for(503, Duration::from_secs(3));
    load.wait_all(&s.octi, Duration::from_secs(120)).await;
    let notes = format!("{} requests refused", proxy.tampered());
    let t = finish(
        s,
        &load,
        "Indexer 429 for 3 s, then 503 for 3 s",
        "fault_indexer::indexer_answers_429_then_503_for_a_while",
        || notes,
    )
    .await;
    assert!(proxy.tampered() > 0);
    t.assert_promises(0, &["indexer"]);
    assert_eq!(t.in_error, 0, "{t:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_answers_400_for_one_query_and_garbage_for_another() {
    const BAD_QUERY: &str = "81.200.0.40";
    const GARBAGE: &str = "81.200.0.41";
    let osmem = loaded_osmem().await;
    let proxy = FlakyProxy::start(&osmem.url).await;
    proxy.on_body(
        BAD_QUERY,
        400,
        r#"{"error":{"root_cause":[{"type":"query_shard_exception","reason":"failed to create query: Determinizing automaton would require more than 10000 effort"}],"type":"search_phase_execution_exception","reason":"all shards failed"},"status":400}"#,
    );
    proxy.on_body(GARBAGE, 200, "<html>502 Bad Gateway</html>");
    let s = setup(Some(&proxy), osmem, &[]).await;
    let mut values: Vec<String> = (0..48).map(crate::testkit::faults::ip_for).collect();
    values.insert(10, BAD_QUERY.into());
    values.insert(30, GARBAGE.into());
    let load = Load::prepare_values(&s.octi, values);
    load.publish(&s.octi).await;
    let t = finish(
        s,
        &load,
        "Indexer 400 for one query, garbage JSON for another",
        "fault_indexer::indexer_answers_400_for_one_query_and_garbage_for_another",
        || "the two poisoned requests end in error at once, the others are unaffected".into(),
    )
    .await;
    t.assert_promises(0, &["indexer"]);
    assert_eq!(t.in_error, 2, "{t:#?}");
    assert_eq!(t.redelivered, 0, "permanent errors are not retried: {t:#?}");
    let msgs: Vec<&str> = t.errors.iter().map(|(m, _)| m.as_str()).collect();
    assert!(
        msgs.iter()
            .any(|m| m.contains("HTTP 400") && m.contains("10000 effort")),
        "{msgs:?}"
    );
    assert!(
        msgs.iter().any(|m| m.contains("not valid search JSON")),
        "{msgs:?}"
    );
}
