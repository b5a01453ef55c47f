//! The operations server over real HTTP: `/metrics` moves as the runtime reports activity,
//! `/ready` follows registration, consumption and indexer reachability, `/health` stays up, and
//! the server stops on its cancellation token.

use std::net::SocketAddr;
use std::time::Duration;

use connector_wazuh::ops::{self, Health, Metrics, Outcome, State};

use crate::testkit::ops::{scrape, start};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

/// The value of one exposed series (`name{labels}` exactly as written), if present.
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split(' ').next()?.parse().ok())
}

fn must(text: &str, series: &str) -> f64 {
    value(text, series).unwrap_or_else(|| panic!("series {series} not exposed:\n{text}"))
}

/// Asserts every `(series, value)` pair against one scrape.
fn expect_all(text: &str, expected: &[(&str, f64)]) {
    for (series, v) in expected {
        assert_eq!(must(text, series), *v, "{series}");
    }
}

async fn stop(token: CancellationToken, srv: ops::RunningServer) {
    token.cancel();
    tokio::time::timeout(Duration::from_secs(5), srv.handle)
        .await
        .expect("server stops after cancellation")
        .unwrap()
        .unwrap();
}

async fn ready(addr: SocketAddr) -> (u16, Value) {
    let r = reqwest::get(format!("http://{addr}/ready")).await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap())
}

async fn health(addr: SocketAddr) -> (u16, Value) {
    let r = reqwest::get(format!("http://{addr}/health")).await.unwrap();
    let code = r.status().as_u16();
    (code, r.json().await.unwrap())
}

#[tokio::test]
async fn counters_and_histograms_move_with_activity() {
    let metrics = Metrics::new();
    let (addr, token, srv) = start(metrics.clone(), Health::new()).await;

    let before = scrape(addr).await;
    expect_all(
        &before,
        &[
            ("runs_total", 0.0),
            ("enrichment_requests_total{outcome=\"enriched\"}", 0.0),
            ("enrichment_request_duration_seconds_count", 0.0),
            ("state{state=\"idle\"}", 1.0),
        ],
    );
    assert!(
        before.contains("build_info{version=\"0.1.0\"} 1"),
        "{before}"
    );

    // A request in flight shows as running.
    metrics.request_started();
    let mid = scrape(addr).await;
    expect_all(
        &mid,
        &[
            ("state{state=\"running\"}", 1.0),
            ("state{state=\"idle\"}", 0.0),
            ("enrichment_requests_in_flight", 1.0),
        ],
    );
    metrics.search_finished(Duration::from_millis(30), 7);
    metrics.bundle_sent(12);
    metrics.request_finished(Outcome::Enriched, Duration::from_millis(400));

    // Three more requests: one without hits, one failed search, one skipped.
    metrics.request_started();
    metrics.search_finished(Duration::from_millis(3), 0);
    metrics.request_finished(Outcome::NoHits, Duration::from_millis(40));
    metrics.request_started();
    metrics.search_failed(Duration::from_secs(3));
    metrics.opencti_api_error("workToProcessed");
    metrics.request_finished(Outcome::Failed, Duration::from_secs(25));
    metrics.request_started();
    metrics.request_finished(Outcome::Skipped, Duration::from_millis(1));

    metrics.ping(true);
    metrics.ping(true);
    metrics.ping(false);
    metrics.amqp_reconnect();
    metrics.opencti_api_error("pingConnector");
    metrics.opencti_api_error("pingConnector");

    let t = scrape(addr).await;
    // pycti-compatible series
    expect_all(
        &t,
        &[
            ("runs_total", 4.0),
            ("errors_total", 1.0),
            ("bundles_sent_total", 1.0),
            ("records_sent_total", 12.0),
            ("ping_api_total", 3.0),
            ("ping_api_errors_total", 1.0),
            ("client_errors_total", 3.0),
            ("state{state=\"idle\"}", 1.0),
            ("state{state=\"running\"}", 0.0),
        ],
    );
    // requests by outcome
    for (o, n) in [
        ("enriched", 1.0),
        ("no_hits", 1.0),
        ("failed", 1.0),
        ("skipped", 1.0),
        ("refused", 0.0),
    ] {
        assert_eq!(
            must(&t, &format!("enrichment_requests_total{{outcome=\"{o}\"}}")),
            n,
            "{o}"
        );
    }
    assert_eq!(must(&t, "enrichment_requests_in_flight"), 0.0);
    // whole-request histogram: 1 ms, 40 ms, 400 ms, 25 s
    assert_eq!(must(&t, "enrichment_request_duration_seconds_count"), 4.0);
    let sum = must(&t, "enrichment_request_duration_seconds_sum");
    assert!((sum - 25.441).abs() < 1e-6, "sum {sum}");
    assert_eq!(
        must(
            &t,
            "enrichment_request_duration_seconds_bucket{le=\"0.05\"}"
        ),
        2.0
    );
    assert_eq!(
        must(&t, "enrichment_request_duration_seconds_bucket{le=\"0.5\"}"),
        3.0
    );
    assert_eq!(
        must(
            &t,
            "enrichment_request_duration_seconds_bucket{le=\"20.0\"}"
        ),
        3.0
    );
    assert_eq!(
        must(
            &t,
            "enrichment_request_duration_seconds_bucket{le=\"30.0\"}"
        ),
        4.0
    );
    assert_eq!(
        must(
            &t,
            "enrichment_request_duration_seconds_bucket{le=\"+Inf\"}"
        ),
        4.0
    );
    // indexer search histogram: 3 ms, 30 ms, 3 s (failed one included), one error
    expect_all(
        &t,
        &[
            ("indexer_search_duration_seconds_count", 3.0),
            ("indexer_search_duration_seconds_bucket{le=\"0.005\"}", 1.0),
            ("indexer_search_duration_seconds_bucket{le=\"0.05\"}", 2.0),
            ("indexer_search_duration_seconds_bucket{le=\"2.5\"}", 2.0),
            ("indexer_search_duration_seconds_bucket{le=\"5.0\"}", 3.0),
            ("indexer_search_errors_total", 1.0),
        ],
    );
    // hits per successful search: 0 and 7
    expect_all(
        &t,
        &[
            ("indexer_search_hits_count", 2.0),
            ("indexer_search_hits_sum", 7.0),
            ("indexer_search_hits_bucket{le=\"0.0\"}", 1.0),
            ("indexer_search_hits_bucket{le=\"5.0\"}", 1.0),
            ("indexer_search_hits_bucket{le=\"10.0\"}", 2.0),
        ],
    );
    // objects per bundle, reconnects, API errors by operation
    expect_all(
        &t,
        &[
            ("bundle_objects_sum", 12.0),
            ("bundle_objects_bucket{le=\"10.0\"}", 0.0),
            ("bundle_objects_bucket{le=\"25.0\"}", 1.0),
            ("amqp_reconnects_total", 1.0),
            ("opencti_api_errors_total{operation=\"pingConnector\"}", 2.0),
        ],
    );
    assert_eq!(
        must(
            &t,
            "opencti_api_errors_total{operation=\"workToProcessed\"}"
        ),
        1.0
    );
    assert!(t.ends_with("# EOF\n"));

    stop(token, srv).await;
}

#[tokio::test]
async fn prefixed_metrics_keep_pycti_names_after_the_prefix() {
    let metrics = Metrics::with_prefix("opencti", "wazuh").unwrap();
    let (addr, token, _srv) = start(metrics.clone(), Health::new()).await;
    metrics.bundle_sent(3);
    metrics.set_state(State::Stopped);
    let t = scrape(addr).await;
    expect_all(
        &t,
        &[
            ("opencti_wazuh_bundles_sent_total", 1.0),
            ("opencti_wazuh_records_sent_total", 3.0),
            ("opencti_wazuh_state{state=\"stopped\"}", 1.0),
        ],
    );
    assert_eq!(value(&t, "bundles_sent_total"), None);
    token.cancel();
}

#[tokio::test]
async fn ready_follows_registration_consumer_and_indexer() {
    let h = Health::new();
    let metrics = Metrics::new();
    let (addr, token, srv) = start(metrics.clone(), h.clone()).await;

    // Fresh process: alive, not ready, and says why.
    assert_eq!(health(addr).await.0, 200);
    let (code, body) = ready(addr).await;
    assert_eq!(code, 503);
    assert_eq!(body["ready"], false);
    assert_eq!(
        body["missing"],
        serde_json::json!(["registered", "consuming", "indexer_reachable"])
    );
    assert_eq!(must(&scrape(addr).await, "ready"), 0.0);

    // Registered and indexer checked, consumer not yet started: still not ready.
    h.set_registered(true);
    h.set_indexer_reachable(true);
    let (code, body) = ready(addr).await;
    assert_eq!(code, 503);
    assert_eq!(body["missing"], serde_json::json!(["consuming"]));

    // Consumer started: ready.
    h.set_consuming(true);
    let (code, body) = ready(addr).await;
    assert_eq!(code, 200);
    assert_eq!(body["ready"], true);
    assert_eq!(body["missing"], serde_json::json!([]));
    // The `ready` series says the same as `/ready`, at every scrape.
    assert_eq!(must(&scrape(addr).await, "ready"), 1.0);

    // Indexer goes away: not ready, still alive.
    h.set_indexer_reachable(false);
    let (code, body) = ready(addr).await;
    assert_eq!(code, 503);
    assert_eq!(body["missing"], serde_json::json!(["indexer_reachable"]));
    assert_eq!(body["registered"], true);
    assert_eq!(must(&scrape(addr).await, "ready"), 0.0);
    let (code, body) = health(addr).await;
    assert_eq!(code, 200);
    assert_eq!(body["status"], "alive");

    // Back again.
    h.set_indexer_reachable(true);
    assert_eq!(ready(addr).await.0, 200);

    // Shutting down: liveness reports the stopped state until the server ends.
    metrics.set_state(State::Stopped);
    assert_eq!(health(addr).await.1["state"], "stopped");
    stop(token, srv).await;
    assert!(
        reqwest::get(format!("http://{addr}/health")).await.is_err(),
        "nothing listens after shutdown"
    );
}

#[tokio::test]
async fn unknown_path_is_404_and_port_in_use_is_a_clear_error() {
    let (addr, token, _srv) = start(Metrics::new(), Health::new()).await;
    let r = reqwest::get(format!("http://{addr}/nope")).await.unwrap();
    assert_eq!(r.status(), 404);
    let err = ops::serve(
        addr,
        Metrics::new(),
        Health::new(),
        CancellationToken::new(),
    )
    .await
    .expect_err("port already taken");
    let msg = err.to_string();
    assert!(msg.contains("CONNECTOR_METRICS_PORT"), "{msg}");
    assert!(msg.contains(&addr.to_string()), "{msg}");
    token.cancel();
}
