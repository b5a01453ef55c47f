//! Dependency outages longer than any retry, with 60 requests in flight: the indexer answering
//! 503 for 60 s, the indexer killed and restarted 10 s later, OpenCTI answering 503 to every
//! call for 90 s.
//!
//! Promise: an outage delays results instead of failing them. While a dependency is down the
//! daemon takes no new deliveries and holds the ones in flight without spending their attempts;
//! when it answers again every request completes — 0 errors, 0 lost, no work ended twice.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::{listen_queue_drained, FlakyProxy, Load, Tally};
use crate::testkit::osmem::Osmem;

const N: usize = 60;

/// The indexer variables of the production pipeline searching `url`.
fn indexer_vars(url: &str) -> Vec<(&'static str, String)> {
    vec![
        ("CONNECTOR_CONCURRENCY", "4".into()),
        ("CONNECTOR_MAX_ATTEMPTS", "2".into()),
        ("WAZUH_OPENSEARCH_RETRIES", "1".into()),
        ("WAZUH_CREATE_OBS_SIGHTINGS", "true".into()),
        ("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "false".into()),
        ("WAZUH_OPENSEARCH_URL", url.into()),
    ]
}

fn borrowed<'a>(vars: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    vars.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

async fn loaded_osmem() -> Osmem {
    let o = Osmem::start().await;
    o.load_sample_alerts().await;
    o
}

/// Waits for every work, checks the queue is empty and the daemon alive, and reports the tally.
async fn settle(
    octi: &FakeOpenCti,
    load: &Load,
    connector: &crate::testkit::connector::Running,
    scenario: &str,
    test: &str,
    notes: impl FnOnce() -> String,
) -> Tally {
    load.wait_all(octi, Duration::from_secs(300)).await;
    assert!(
        !connector.handle.is_finished(),
        "the connector exited on its own"
    );
    assert_eq!(listen_queue_drained(octi).await, 0, "requests left queued");
    let t = Tally::collect(octi, load);
    t.report(scenario, test, &notes());
    t.assert_promises(0, &["indexer", "OpenCTI"]);
    assert_eq!(t.in_error, 0, "an outage ended requests in error: {t:#?}");
    assert_eq!(t.completed_twice, 0, "{t:#?}");
    t
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_answers_503_for_60_s() {
    const DOWN: Duration = Duration::from_secs(60);
    let osmem = loaded_osmem().await;
    let proxy = FlakyProxy::start(&osmem.url).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let vars = indexer_vars(&proxy.url);
    let c = spawn(&octi, &borrowed(&vars), None);
    octi.wait_for_registration().await;
    let load = Load::prepare(&octi, N);
    let started = Instant::now();
    proxy.status_for(503, DOWN);
    load.publish(&octi).await;
    let t = settle(
        &octi,
        &load,
        &c,
        "Indexer HTTP 503 for 60 s (60 requests)",
        "faults::outages::indexer_answers_503_for_60_s",
        || {
            format!(
                "every indexer call answered 503 for {} s; all done {:.1} s after the start",
                DOWN.as_secs(),
                started.elapsed().as_secs_f64()
            )
        },
    )
    .await;
    // The fault fired, and the requests waited for its end instead of failing.
    assert!(proxy.tampered() > 0, "no indexer call met the fault");
    assert!(started.elapsed() >= DOWN, "{t:#?}");
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_killed_and_restarted_10_s_later() {
    const DOWN: Duration = Duration::from_secs(10);
    let mut osmem = loaded_osmem().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let vars = indexer_vars(&osmem.url);
    let c = spawn(&octi, &borrowed(&vars), None);
    octi.wait_for_registration().await;
    let load = Load::prepare(&octi, N);
    // Killed as the requests arrive: the first ones meet a dead indexer and wait for it.
    let addr = osmem.addr();
    osmem.kill().await;
    load.publish(&octi).await;
    let at_kill = load.finished(&octi);
    tokio::time::sleep(DOWN).await;
    osmem = Osmem::start_on(&addr).await;
    osmem.load_sample_alerts().await;
    let t = settle(
        &octi,
        &load,
        &c,
        "Indexer killed, restarted 10 s later (60 requests)",
        "faults::outages::indexer_killed_and_restarted_10_s_later",
        || format!("killed before the load ({at_kill}/{N} finished when it was down); restarted on the same address {} s later", DOWN.as_secs()),
    )
    .await;
    // The fault fired: requests met the dead indexer and were tried again after the restart.
    assert!(t.redelivered > 0, "no request met the dead indexer: {t:#?}");
    c.stop().await;
    octi.cleanup().await;
    drop(osmem);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_answers_503_to_everything_for_90_s() {
    const DOWN: Duration = Duration::from_secs(90);
    let octi = FakeOpenCti::start("6.9.17").await;
    let proxy = FlakyProxy::start(&octi.url).await;
    let c = spawn(
        &octi,
        &[
            ("OPENCTI_URL", proxy.url.as_str()),
            ("CONNECTOR_CONCURRENCY", "4"),
            ("CONNECTOR_MAX_ATTEMPTS", "2"),
            ("CONNECTOR_QUEUE_PROTOCOL", "api"),
        ],
        Some(Arc::new(NoteEnricher {
            delay: Duration::from_millis(200),
        })),
    );
    octi.wait_for_registration().await;
    let load = Load::prepare(&octi, N);
    load.publish(&octi).await;
    load.wait_finished(&octi, 4, Duration::from_secs(60)).await;
    let at_fault = load.finished(&octi);
    let started = Instant::now();
    proxy.status_for(503, DOWN);
    settle(
        &octi,
        &load,
        &c,
        "OpenCTI HTTP 503 to every call for 90 s (60 requests)",
        "faults::outages::opencti_answers_503_to_everything_for_90_s",
        || {
            format!(
                "fault from {at_fault}/{N} finished; all done {:.1} s after the fault began",
                started.elapsed().as_secs_f64()
            )
        },
    )
    .await;
    assert!(proxy.tampered() > 0, "no OpenCTI call met the fault");
    assert!(at_fault < N, "the fault came after the load");
    c.stop().await;
    octi.cleanup().await;
}
