//! Faults on the OpenCTI side, with requests in flight: HTTP 500 and time-outs on `toReceived`,
//! `toProcessed`, `stixBundlePush` and `pingConnector` for a while, and the platform down at
//! start-up. Promise: every request ends (ok, or in error naming the cause), no work is ended
//! twice without a redelivery, and the daemon never exits on its own.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::{FailMode, FakeOpenCti};
use crate::testkit::faults::{listen_queue_drained, Daemon, LateForward, Load, Tally};
use crate::testkit::osmem::Osmem;

const FAILING_OPS: &[&str] = &[
    "WorkToReceived",
    "WorkToProcessed",
    "StixBundlePush",
    "PingConnector",
];

async fn run_faulty_platform(
    scenario: &str,
    test: &str,
    mode: FailMode,
    per_op: u32,
    n: usize,
    extra: &[(&str, &str)],
) {
    let octi = FakeOpenCti::start("6.9.17").await;
    // The first heartbeat fails too: the daemon must carry on.
    octi.fail_next("PingConnector", per_op, mode);
    let mut vars = vec![
        ("CONNECTOR_CONCURRENCY", "4"),
        ("CONNECTOR_MAX_ATTEMPTS", "10"),
        ("CONNECTOR_QUEUE_PROTOCOL", "api"),
    ];
    vars.extend_from_slice(extra);
    let c = spawn(
        &octi,
        &vars,
        Some(Arc::new(NoteEnricher {
            delay: Duration::from_millis(10),
        })),
    );
    octi.wait_for_registration().await;
    let load = Load::prepare(&octi, n);
    for op in FAILING_OPS {
        octi.fail_next(op, per_op, mode);
    }
    let started = Instant::now();
    load.publish(&octi).await;
    load.wait_all(&octi, Duration::from_secs(120)).await;
    let took = started.elapsed();
    assert!(!c.handle.is_finished(), "the connector exited on its own");
    assert_eq!(listen_queue_drained(&octi).await, 0, "requests left queued");
    let t = Tally::collect(&octi, &load);
    t.report(
        scenario,
        test,
        &format!(
            "{per_op} consecutive failures injected on each of {}; all done in {:.1} s",
            FAILING_OPS.join("/"),
            took.as_secs_f64()
        ),
    );
    // The faults fired: every injected failure met a real call (the heartbeat runs on its own
    // clock, so at least the first one failed).
    for op in FAILING_OPS {
        let faulted = octi.faulted(op);
        if *op == "PingConnector" {
            assert!(faulted >= 1, "no heartbeat failed");
        } else {
            assert_eq!(faulted, per_op, "{op}: injected failures that never fired");
        }
    }
    // A work ended twice only if the end report failed after the results went out (then the
    // request is redelivered and ended again, idempotently).
    t.assert_promises(per_op as usize, &["OpenCTI"]);
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_answers_500_for_a_while() {
    run_faulty_platform(
        "OpenCTI HTTP 500 on toReceived/toProcessed/stixBundlePush/ping",
        "fault_opencti::opencti_answers_500_for_a_while",
        FailMode::Status500,
        // More than the client's 6 attempts per call: some requests are requeued and redelivered.
        30,
        100,
        &[],
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_times_out_for_a_while() {
    run_faulty_platform(
        "OpenCTI time-outs on toReceived/toProcessed/stixBundlePush/ping",
        "fault_opencti::opencti_times_out_for_a_while",
        FailMode::Hang(Duration::from_millis(1500)),
        6,
        60,
        &[("OPENCTI_TIMEOUT", "1s")],
    )
    .await;
}

/// The platform is unreachable for the first 15 s (the issue says 60 s; 15 s already shows the
/// capped exponential backoff: 0.25, 0.5, 1, 2, 4, 8 s…). The real binary keeps retrying, then
/// registers and works off the requests queued meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_down_at_start_up() {
    const DOWN: Duration = Duration::from_secs(15);
    let osmem = Osmem::start().await;
    osmem.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let late = LateForward::start(octi.url.trim_start_matches("http://"), DOWN).await;
    let load = Load::prepare(&octi, 50);
    load.publish(&octi).await;
    let mut env = octi.connector_env();
    env.insert("OPENCTI_URL".into(), late.url.clone());
    env.insert("WAZUH_OPENSEARCH_URL".into(), osmem.url.clone());
    let started = Instant::now();
    let mut d = Daemon::spawn(&env);
    tokio::time::sleep(DOWN - Duration::from_secs(1)).await;
    d.assert_running();
    assert_eq!(
        load.started(&octi),
        0,
        "nothing can start while OpenCTI is down"
    );
    let retries = d
        .log_text()
        .lines()
        .filter(|l| l.contains("not reachable yet"))
        .count();
    assert!(
        d.wait_log("consuming enrichment requests", Duration::from_secs(30))
            .await,
        "{}",
        d.log_text()
    );
    let consuming_after = started.elapsed();
    load.wait_all(&octi, Duration::from_secs(60)).await;
    d.assert_running();
    let t = Tally::collect(&octi, &load);
    t.report(
        "OpenCTI down at start-up (15 s)",
        "fault_opencti::opencti_down_at_start_up",
        &format!(
            "{retries} connection attempts while down; consuming {:.1} s after start (real binary)",
            consuming_after.as_secs_f64()
        ),
    );
    assert!(retries >= 4, "backoff retries: {retries}");
    assert!(
        consuming_after < DOWN + Duration::from_secs(30),
        "{consuming_after:?}"
    );
    t.assert_promises(0, &[]);
    d.terminate().await;
    octi.cleanup().await;
}
