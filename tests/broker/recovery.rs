//! All broker connections closed mid-stream (`rabbitmqctl close_all_connections`): no request is
//! lost and none is processed without a work result. (In the `broker` harness: closing every
//! connection must not disturb other tests.)

use std::sync::Arc;
use std::time::Duration;

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::{ipv4, FakeOpenCti};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_connections_closed_mid_stream_lose_nothing() {
    // Closing every connection disturbs every broker user: hold the broker alone.
    let _broker = crate::testkit::rabbit::exclusive_broker().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(
        &octi,
        &[
            ("CONNECTOR_CONCURRENCY", "4"),
            ("CONNECTOR_MAX_ATTEMPTS", "5"),
        ],
        Some(Arc::new(NoteEnricher {
            delay: Duration::from_millis(150),
        })),
    );
    octi.wait_for_registration().await;
    let mut works = Vec::new();
    for i in 0..20 {
        let ip = octi.add_entity(ipv4(&format!("10.0.0.{i}"), None));
        let w = octi.new_work();
        octi.publish_request(&octi.manual_request(&w, &ip, true))
            .await;
        works.push((w, ip));
    }
    // Let a few finish, then cut every connection while others are in flight.
    let done = || {
        works
            .iter()
            .filter(|(w, _)| octi.work(w).is_some_and(|r| r.processed_calls > 0))
            .count()
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while done() < 3 {
        assert!(std::time::Instant::now() < deadline, "no request finished");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let done_before = done();
    crate::testkit::rabbit::close_all_connections();
    for (w, ip) in &works {
        let rec = octi.wait_for_work(w).await;
        assert!(!rec.in_error, "{w}: {rec:?}");
        assert!(rec.received >= 1, "{w}: {rec:?}");
        let pushed = octi.pushed_objects(w);
        assert!(
            pushed.iter().any(|o| o["id"] == ip.as_str()),
            "{w}: result not delivered"
        );
    }
    let conn = crate::testkit::rabbit::connect().await;
    let depth =
        crate::testkit::rabbit::wait_depth(&conn, &octi.listen_queue(), 0, Duration::from_secs(30))
            .await;
    assert_eq!(depth, 0, "requests left in the listen queue");
    eprintln!(
        "finished before the cut: {done_before}/20; redelivered and reprocessed: {}",
        works
            .iter()
            .filter(|(w, _)| octi.work(w).unwrap().processed_calls > 1)
            .count()
    );
    assert!(
        done_before < 20,
        "the cut happened after everything was done; the test proves nothing"
    );
    c.stop().await;
    octi.cleanup().await;
}
