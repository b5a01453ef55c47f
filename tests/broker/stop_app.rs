//! Fault: the broker application stops for 10 s (`rabbitmqctl stop_app`) and comes back
//! (`start_app`) while requests are in flight. Promise: nothing lost, at most the in-flight
//! deliveries redone, the daemon reconnects by itself and keeps running. The broker is always
//! restarted (guard on drop, and a detached watchdog if this process dies); the test holds the
//! broker exclusively (see `testkit::rabbit`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::{listen_queue_drained, Load, Tally};
use crate::testkit::rabbit::StoppedBroker;

const N: usize = 120;
const CONCURRENCY: usize = 4;
const OUTAGE: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_application_stops_for_ten_seconds_under_load() {
    let _broker = crate::testkit::rabbit::exclusive_broker().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(
        &octi,
        &[
            ("CONNECTOR_CONCURRENCY", "4"),
            ("CONNECTOR_MAX_ATTEMPTS", "5"),
        ],
        Some(Arc::new(NoteEnricher {
            delay: Duration::from_millis(40),
        })),
    );
    octi.wait_for_registration().await;
    let load = Load::prepare(&octi, N);
    load.publish(&octi).await;
    load.wait_finished(&octi, N / 4, Duration::from_secs(60))
        .await;
    let before = load.finished(&octi);
    let stopped_at = Instant::now();
    let broker = StoppedBroker::stop(Duration::from_secs(40));
    tokio::time::sleep(OUTAGE).await;
    let during = load.finished(&octi);
    broker.start();
    let back_after = stopped_at.elapsed();
    load.wait_all(&octi, Duration::from_secs(120)).await;
    let recovered_in = stopped_at.elapsed() - back_after;
    assert!(!c.handle.is_finished(), "the connector exited on its own");
    assert_eq!(listen_queue_drained(&octi).await, 0, "requests left queued");
    let t = Tally::collect(&octi, &load);
    t.report(
        "Broker application stopped 10 s",
        "fault_broker_stop",
        &format!(
            "stopped after {before}/{N} finished; {during} finished when the broker came back ({:.0} s); rest done {:.1} s later",
            back_after.as_secs_f64(),
            recovered_in.as_secs_f64()
        ),
    );
    assert!(before < N, "the stop came too late");
    t.assert_promises(CONCURRENCY, &[]);
    assert_eq!(t.in_error, 0, "{t:#?}");
    c.stop().await;
    octi.cleanup().await;
}
