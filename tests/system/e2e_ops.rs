//! End to end through the real daemon: readiness and metrics over HTTP, and an indexer outage
//! (work in error naming the indexer, the daemon keeps running, recovery once it is back).

use crate::testkit::connector::free_port;
use crate::testkit::e2e::*;
use crate::testkit::fake_opencti::{ipv4, FailMode, FakeOpenCti, TLP_GREEN, TLP_RED};
use crate::testkit::osmem::Osmem;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ready_and_metrics_follow_registration_requests_and_the_indexer() {
    let (alerts, _) = ssh_alerts("185.220.102.1", &[3, 2, 1], recent());
    let os = indexer_with(alerts).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    // Registration is held until /ready was seen saying "not registered".
    octi.fail_next("RegisterConnector", 1, FailMode::Hold);
    let port = free_port().to_string();
    let c = connector(
        &octi,
        &os.url,
        &[
            ("CONNECTOR_EXPOSE_METRICS", "true"),
            ("CONNECTOR_METRICS_HOST", "127.0.0.1"),
            ("CONNECTOR_METRICS_PORT", &port),
        ],
    );
    let base = format!("http://127.0.0.1:{port}");
    octi.wait_held(1).await;
    let (status, body) = get(&format!("{base}/ready")).await;
    assert_eq!(status, 503, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["registered"], false, "{body}");
    assert_eq!(get(&format!("{base}/health")).await.0, 200);
    octi.release_held();
    wait_status(&format!("{base}/ready"), 200, 60).await;

    // One enriched, one without hits, one refused (TLP:RED above the default maximum).
    let hit = octi.add_entity(ipv4("185.220.102.1", Some(TLP_GREEN)));
    let miss = octi.add_entity(ipv4("185.220.102.2", Some(TLP_GREEN)));
    let red = octi.add_entity(ipv4("185.220.102.3", Some(TLP_RED)));
    let works: Vec<String> = (0..3).map(|_| octi.new_work()).collect();
    for (w, e) in works.iter().zip([&hit, &miss, &red]) {
        octi.publish_request(&octi.manual_request(w, e, true)).await;
    }
    for w in &works {
        octi.wait_for_work(w).await;
    }
    assert_eq!(
        octi.work(&works[1]).unwrap().messages.last().unwrap(),
        "No hits found"
    );
    assert!(octi.work(&works[2]).unwrap().in_error);
    assert!(!pushed(&octi, &works[0]).await.is_empty());

    let (status, text) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    assert_eq!(
        metric(&text, "enrichment_requests_total{outcome=\"enriched\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "enrichment_requests_total{outcome=\"no_hits\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "enrichment_requests_total{outcome=\"refused\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "enrichment_requests_total{outcome=\"failed\"}"),
        0.0
    );
    assert_eq!(metric(&text, "runs_total"), 3.0);
    assert_eq!(
        metric(&text, "enrichment_request_duration_seconds_count"),
        3.0
    );
    // Two searches (the refused request never reached the indexer); 6 + 0 hits.
    assert_eq!(metric(&text, "indexer_search_duration_seconds_count"), 2.0);
    assert_eq!(metric(&text, "indexer_search_hits_count"), 2.0);
    assert_eq!(metric(&text, "indexer_search_hits_sum"), 6.0);
    // One push message per object (pre-split delivery).
    let sent = pushed(&octi, &works[0]).await.len() as f64;
    assert_eq!(
        metric(&text, "bundles_sent_total"),
        octi.push_messages().len() as f64
    );
    assert_eq!(metric(&text, "records_sent_total"), sent);
    assert!(metric(&text, "ping_api_total") >= 1.0);
    assert_eq!(metric(&text, "state{state=\"idle\"}"), 1.0);
    assert_eq!(metric(&text, "enrichment_requests_in_flight"), 0.0);
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indexer_outage_past_the_window_fails_the_work_naming_the_indexer_then_recovers() {
    let ip_value = "185.220.103.1";
    let (alerts, _) = ssh_alerts(ip_value, &[2, 1, 0], recent());
    let mut os = indexer_with(alerts.clone()).await;
    let addr = os.addr();
    let octi = FakeOpenCti::start("6.9.17").await;
    let port = free_port().to_string();
    let c = connector(
        &octi,
        &os.url,
        &[
            ("CONNECTOR_EXPOSE_METRICS", "true"),
            ("CONNECTOR_METRICS_HOST", "127.0.0.1"),
            ("CONNECTOR_METRICS_PORT", &port),
            ("CONNECTOR_MAX_ATTEMPTS", "2"),
            ("WAZUH_OPENSEARCH_RETRIES", "1"),
            ("WAZUH_OPENSEARCH_TIMEOUT", "20s"),
            // An outage longer than the window ends the work in error (a short one only delays it).
            ("CONNECTOR_OUTAGE_WINDOW", "3s"),
        ],
    );
    let ready = format!("http://127.0.0.1:{port}/ready");
    wait_status(&ready, 200, 60).await;

    os.kill().await;
    let ip = octi.add_entity(ipv4(ip_value, Some(TLP_GREEN)));
    let w1 = octi.new_work();
    octi.publish_request(&octi.manual_request(&w1, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w1).await;
    assert!(rec.in_error, "{rec:?}");
    let err = rec.errors.last().unwrap();
    assert!(err.contains("indexer"), "{err}");
    // An outage spends no attempts: the request is held, not redelivered until exhausted.
    assert!(rec.received <= 2, "{rec:?}");
    let body = wait_status(&ready, 503, 60).await;
    assert!(body.contains("indexer_reachable"), "{body}");

    // The indexer comes back on the same address: the next request succeeds.
    let os2 = Osmem::start_on(&addr).await;
    load(&os2, alerts).await;
    let w2 = octi.new_work();
    octi.publish_request(&octi.manual_request(&w2, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w2).await;
    assert!(!rec.in_error, "{rec:?}");
    let sightings = pushed(&octi, &w2).await;
    assert_eq!(of_type(&sightings, "sighting").len(), 2);
    wait_status(&ready, 200, 60).await;
    let text = get(&format!("http://127.0.0.1:{port}/metrics")).await.1;
    assert_eq!(
        metric(&text, "enrichment_requests_total{outcome=\"enriched\"}"),
        1.0
    );
    assert!(metric(&text, "indexer_search_errors_total") >= 1.0);
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}
