//! A request that kills the connector, and a request whose handler panics (real binary, real
//! RabbitMQ, osmem behind a proxy, the test OpenCTI).
//!
//! Promise: a request in flight every time the process dies (SIGKILL, as an out-of-memory kill
//! or a crash would end it, then restarted as `restart: always` would) is ended in error after
//! `CONNECTOR_MAX_ATTEMPTS` deliveries with a message saying it was interrupted — no crash loop —
//! and every other request is processed, exactly once to completion. A handler panic is caught,
//! counted, and its delivery settled: the work ends in error and the next request is served.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::testkit::fake_opencti::{ipv4, FakeOpenCti};
use crate::testkit::faults::{ip_for, listen_queue_drained, Daemon, FlakyProxy, Load, Tally};
use crate::testkit::osmem::Osmem;
use connector_wazuh::runtime::attempts::Attempt;

/// Requests published around the deadly one.
const INNOCENT: usize = 40;
/// The deadly request's value: its search is held at the proxy, so the request is in flight
/// when the process is killed. Distinct from every [`ip_for`] value (and no substring of one).
const DEADLY: &str = "81.231.7.7";
const MAX_ATTEMPTS: u32 = 3;
const CONCURRENCY: usize = 4;

fn env_for(octi: &FakeOpenCti, indexer_url: &str) -> HashMap<String, String> {
    let mut env = octi.connector_env();
    for (k, v) in [
        ("WAZUH_OPENSEARCH_URL", indexer_url),
        ("WAZUH_CREATE_OBS_SIGHTINGS", "true"),
        ("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "false"),
        ("CONNECTOR_CONCURRENCY", &CONCURRENCY.to_string()),
        ("CONNECTOR_MAX_ATTEMPTS", &MAX_ATTEMPTS.to_string()),
    ] {
        env.insert(k.into(), v.into());
    }
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_while_one_request_is_in_flight_ends_it_after_the_attempt_limit() {
    let osmem = Osmem::start().await;
    osmem.load_sample_alerts().await;
    let proxy = FlakyProxy::start(&osmem.url).await;
    proxy.hold_body(DEADLY, Duration::from_secs(600));
    let octi = Arc::new(FakeOpenCti::start("6.9.17").await);
    let env = env_for(&octi, &proxy.url);
    let values = std::iter::once(DEADLY.to_string()).chain((0..INNOCENT).map(ip_for));
    let load = Load::prepare_values(&octi, values);
    let deadly_work = load.works[0].0.clone();
    // Half of the others first, so that some are in flight at the first kill; then the deadly
    // one; then the rest arriving over ~5 s, so that some are queued behind it at every kill.
    let part = |r: std::ops::Range<usize>| Load {
        works: load.works[r].to_vec(),
    };
    let innocents = part(1..INNOCENT + 1);
    part(1..INNOCENT / 2 + 1).publish(&octi).await;
    part(0..1).publish(&octi).await;
    let publisher =
        part(INNOCENT / 2 + 1..INNOCENT + 1).publish_slowly(&octi, Duration::from_millis(250));
    let started = Instant::now();
    let mut finished_at_kill = Vec::new();
    let mut logs = Vec::new();
    for kill in 1..=MAX_ATTEMPTS {
        let held_before = proxy.held_by_body();
        let mut d = Daemon::spawn(&env);
        let deadline = Instant::now() + Duration::from_secs(120);
        while proxy.held_by_body() == held_before {
            assert!(
                Instant::now() < deadline,
                "kill {kill}: the deadly request never reached the indexer; log tail:\n{}",
                d.log_text()
            );
            d.assert_running();
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        d.signal("KILL");
        d.wait_exit(Duration::from_secs(10)).await;
        finished_at_kill.push(innocents.finished(&octi));
        logs.push(d.log_text());
    }
    // The last process serves its metrics: it counts the deadly request's last redelivery.
    let port = crate::testkit::connector::free_port().to_string();
    let mut last_env = env.clone();
    for (k, v) in [
        ("CONNECTOR_EXPOSE_METRICS", "true"),
        ("CONNECTOR_METRICS_HOST", "127.0.0.1"),
        ("CONNECTOR_METRICS_PORT", port.as_str()),
    ] {
        last_env.insert(k.into(), v.into());
    }
    let mut last = Daemon::spawn(&last_env);
    publisher.await.unwrap();
    load.wait_all(&octi, Duration::from_secs(180)).await;
    last.assert_running();
    assert_eq!(listen_queue_drained(&octi).await, 0, "requests left queued");
    let elapsed = started.elapsed().as_secs_f64();

    let deadly = octi.work(&deadly_work).expect("the deadly request's work");
    assert!(deadly.in_error, "{deadly:?}");
    assert_eq!(
        deadly.received, MAX_ATTEMPTS,
        "one delivery per process killed, none after: {deadly:?}"
    );
    let msg = deadly.errors.first().cloned().unwrap_or_default();
    assert!(
        msg.contains(&format!("interrupted {MAX_ATTEMPTS} time(s)")) && msg.contains("killed"),
        "{msg}"
    );
    logs.push(last.log_text());
    let interrupted = metric(&port, "requests_interrupted_total").await;
    assert!(interrupted >= Some(1.0), "{interrupted:?}");
    assert!(
        logs.iter().any(|l| l.contains("runs alone")),
        "the interrupted requests ran alone"
    );
    let t = Tally::collect(&octi, &innocents);
    let mut all = Tally::collect(&octi, &load);
    all.errors.sort();
    all.report(
        "Process SIGKILLed 3 times while one request is in flight (real binary, restarted each time)",
        "faults::restarts::sigkill_while_one_request_is_in_flight_ends_it_after_the_attempt_limit",
        &format!(
            "the deadly request ended in error after {MAX_ATTEMPTS} deliveries; innocent requests finished at the kills: {finished_at_kill:?} of {INNOCENT}; {} innocent request(s) redelivered (in flight at the first kill only: the deadly one then ran alone); all done {elapsed:.1} s after the start",
            t.redelivered
        ),
    );
    // Every other request: processed, to completion exactly once.
    t.assert_promises(0, &[]);
    assert_eq!(t.ok, INNOCENT, "{t:#?}");
    assert_eq!(t.completed_twice, 0, "{t:#?}");
    // Only the first kill can catch innocent requests in flight (at most the other slots); later
    // the deadly request runs alone, with nothing else prefetched.
    assert!(t.redelivered < CONCURRENCY, "{t:#?}");
    for (w, _) in &innocents.works {
        let r = octi.work(w).unwrap();
        assert!(r.received <= 2, "{w} interrupted more than once: {r:?}");
    }
    last.terminate().await;
    drop(proxy);
    if let Ok(octi) = Arc::try_unwrap(octi) {
        octi.cleanup().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_panic_settles_its_delivery() {
    let osmem = Osmem::start().await;
    osmem.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let port = crate::testkit::connector::free_port().to_string();
    let bad = octi.add_entity(ipv4("81.232.0.1", None));
    let good = octi.add_entity(ipv4(&ip_for(0), None));
    let mut env = env_for(&octi, &osmem.url);
    for (k, v) in [
        ("TEST_HOOK_PANIC_ON_ENTITY", bad.as_str()),
        ("CONNECTOR_EXPOSE_METRICS", "true"),
        ("CONNECTOR_METRICS_HOST", "127.0.0.1"),
        ("CONNECTOR_METRICS_PORT", &port),
        // One slot: a delivery the panic left unsettled would block the next request.
        ("CONNECTOR_CONCURRENCY", "1"),
    ] {
        env.insert(k.into(), v.into());
    }
    let mut d = Daemon::spawn_consuming(&env).await;
    let (bad_work, good_work) = (octi.new_work(), octi.new_work());
    octi.publish_request(&octi.manual_request(&bad_work, &bad, true))
        .await;
    octi.publish_request(&octi.manual_request(&good_work, &good, true))
        .await;
    let bad_rec = octi
        .wait_for_work_within(&bad_work, Duration::from_secs(60))
        .await
        .unwrap_or_else(|| panic!("the panicking request never ended:\n{}", d.log_text()));
    assert!(bad_rec.in_error, "{bad_rec:?}");
    assert!(
        bad_rec
            .errors
            .first()
            .is_some_and(|e| e.starts_with(&format!("Gave up after {MAX_ATTEMPTS} attempt(s)"))),
        "{bad_rec:?}"
    );
    let good_rec = octi
        .wait_for_work_within(&good_work, Duration::from_secs(60))
        .await
        .unwrap_or_else(|| panic!("the next request was not served:\n{}", d.log_text()));
    assert!(!good_rec.in_error, "{good_rec:?}");
    assert_eq!(
        metric(&port, "request_handler_panics_total").await,
        Some(f64::from(MAX_ATTEMPTS)),
        "one panic per attempt"
    );
    assert!(
        d.wait_log("the request handler panicked", Duration::from_secs(1))
            .await
    );
    let load = Load {
        works: vec![(bad_work, bad), (good_work, good)],
    };
    let t = Tally::collect(&octi, &load);
    t.report(
        "Request handler panics on every attempt (real binary, debug-build test hook)",
        "faults::restarts::a_handler_panic_settles_its_delivery",
        &format!("{MAX_ATTEMPTS} panics caught and counted (request_handler_panics_total), the work ended in error after the attempt limit; the next request (one slot) served"),
    );
    t.assert_promises(0, &["Gave up after"]);
    assert_eq!(listen_queue_drained(&octi).await, 0, "requests left queued");
    d.assert_running();
    d.terminate().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_request_whose_work_was_ended_is_not_ended_twice() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let d = Daemon::spawn_consuming(&octi.connector_env()).await;
    let ip = octi.add_entity(ipv4(&ip_for(1), None));
    let w = octi.new_work();
    let request = octi.manual_request(&w, &ip, true);
    octi.publish_request(&request).await;
    let first = octi.wait_for_work(&w).await;
    // The same request as a process that died after ending the work, before its ack, would
    // leave it: redelivered, then put back as its second attempt, interrupted once.
    let copy = Attempt {
        number: 2,
        interrupted: 1,
    };
    publish_copy(&octi, &request, copy).await;
    assert!(
        d.wait_log("already-ended", Duration::from_secs(30)).await,
        "{}",
        d.log_text()
    );
    assert_eq!(listen_queue_drained(&octi).await, 0, "acked");
    let after = octi.work(&w).unwrap();
    assert_eq!(after.processed_calls, first.processed_calls, "{after:?}");
    assert_eq!(
        after.received, first.received,
        "not processed again: {after:?}"
    );
    d.terminate().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_later_attempt_tops_up_the_expectations_an_interrupted_one_left() {
    let osmem = Osmem::start().await;
    osmem.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let env = env_for(&octi, &osmem.url);
    // A value with sightings in the sample alerts: the result is several messages.
    let ip = octi.add_entity(ipv4("45.75.196.15", None));
    let w = octi.new_work();
    // An earlier delivery announced 3 imports and died before publishing any of them.
    let settings = octi.settings(&[]);
    let client = connector_wazuh::opencti::OpenCtiClient::new(&settings.opencti).unwrap();
    client.work_add_expectations(&w, 3).await.unwrap();
    let d = Daemon::spawn_consuming(&env).await;
    let copy = Attempt {
        number: 2,
        interrupted: 1,
    };
    publish_copy(&octi, &octi.manual_request(&w, &ip, true), copy).await;
    let rec = octi
        .wait_for_work_within(&w, Duration::from_secs(60))
        .await
        .unwrap_or_else(|| panic!("{:?}\n{}", octi.work(&w), d.log_text()));
    assert!(!rec.in_error, "{rec:?}");
    assert!(rec.imported > 3, "{rec:?}");
    assert_eq!(
        rec.expected, rec.imported,
        "topped up to this attempt's messages, not added on top: {rec:?}"
    );
    d.terminate().await;
    octi.cleanup().await;
}

/// Publishes `request` to the listen queue as `attempt` would be put back (headers set).
async fn publish_copy(octi: &FakeOpenCti, request: &serde_json::Value, attempt: Attempt) {
    let conn = crate::testkit::rabbit::connect().await;
    let ch = crate::testkit::rabbit::channel(&conn).await;
    ch.confirm_select(Default::default()).await.unwrap();
    ch.basic_publish(
        "".into(),
        octi.listen_queue().as_str().into(),
        Default::default(),
        request.to_string().as_bytes(),
        lapin::BasicProperties::default()
            .with_delivery_mode(2)
            .with_headers(attempt.headers(None)),
    )
    .await
    .unwrap()
    .await
    .unwrap();
    let _ = conn.close(200, "done".into()).await;
}

/// The value of the metric `name` the daemon serves on `port`.
async fn metric(port: &str, name: &str) -> Option<f64> {
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    text.lines()
        .find(|l| l.starts_with(name))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}
