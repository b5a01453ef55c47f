//! Fault: the broker drops every client connection (`rabbitmqctl close_all_connections`) twice
//! while 200 requests are in flight. Promise: nothing lost, no work ended twice except requests
//! whose delivery was in flight at a cut (their ack could not reach the broker), the daemon keeps
//! running. Holds the broker exclusively (see `testkit::rabbit`).

use std::sync::Arc;
use std::time::Duration;

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::{listen_queue_drained, Load, Tally};

const N: usize = 200;
const CONCURRENCY: usize = 4;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_drops_every_connection_twice_under_load() {
    let _broker = crate::testkit::rabbit::exclusive_broker().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(
        &octi,
        &[
            ("CONNECTOR_CONCURRENCY", "4"),
            ("CONNECTOR_MAX_ATTEMPTS", "5"),
        ],
        // Slow enough (about 20 requests a second) that both cuts land mid-run: `rabbitmqctl`
        // itself takes a second or two to start on a loaded machine.
        Some(Arc::new(NoteEnricher {
            delay: Duration::from_millis(200),
        })),
    );
    octi.wait_for_registration().await;
    let load = Load::prepare(&octi, N);
    load.publish(&octi).await;
    let mut at_cut = Vec::new();
    for target in [N / 4, N * 3 / 5] {
        load.wait_finished(&octi, target, Duration::from_secs(60))
            .await;
        at_cut.push(load.finished(&octi));
        crate::testkit::rabbit::close_all_connections();
    }
    load.wait_all(&octi, Duration::from_secs(120)).await;
    assert!(!c.handle.is_finished(), "the connector exited on its own");
    assert_eq!(listen_queue_drained(&octi).await, 0, "requests left queued");
    let t = Tally::collect(&octi, &load);
    t.report(
        "Broker drops every connection twice",
        "fault_broker_close",
        &format!(
            "cuts after {:?} of {N} finished; concurrency {CONCURRENCY}",
            at_cut
        ),
    );
    assert!(
        at_cut.iter().all(|&n| n < N),
        "cuts came too late: {at_cut:?}"
    );
    // At most the deliveries in flight at each cut (prefetch = concurrency) are redone.
    t.assert_promises(2 * CONCURRENCY, &[]);
    assert_eq!(t.in_error, 0, "{t:#?}");
    c.stop().await;
    octi.cleanup().await;
}
