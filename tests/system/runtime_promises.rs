//! Promises of the daemon (the real binary) that only a process-level test proves: the shutdown
//! grace period running out leaves unfinished requests queued, SIGKILL in the middle of requests
//! loses nothing (the requests are redelivered and each work ends once), and a consumer the
//! broker cancels ends the daemon with a non-zero exit so that it is restarted.

use std::collections::HashMap;
use std::time::Duration;

use crate::runtime_shutdown::{consuming, publish_without_entity};
use crate::testkit::fake_opencti::{FailMode, FakeOpenCti};
use crate::testkit::faults::Daemon;
use crate::testkit::rabbit;

/// The daemon's environment: concurrency 2, a long OpenCTI timeout (held calls must not time out).
fn env(octi: &FakeOpenCti, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut env = octi.connector_env();
    env.insert("CONNECTOR_CONCURRENCY".into(), "2".into());
    env.insert("OPENCTI_TIMEOUT".into(), "60s".into());
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// The daemon consuming, four requests published and the first two of them in flight, held in
/// their entity read (the next `held` reads are held); returns the daemon and the four works.
async fn two_of_four_in_flight(
    octi: &FakeOpenCti,
    env: &HashMap<String, String>,
    held: u32,
) -> (Daemon, Vec<String>) {
    let d = Daemon::spawn(env);
    consuming(&d).await;
    octi.fail_next("ReadStix", held, FailMode::Hold);
    let works = publish_without_entity(octi, 4).await;
    octi.wait_held(2).await;
    (d, works)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn grace_period_expiry_leaves_unfinished_requests_queued() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let env = env(&octi, &[("CONNECTOR_SHUTDOWN_GRACE_PERIOD", "1s")]);
    // The two in-flight requests never finish on their own (their entity reads are held).
    let (mut d, works) = two_of_four_in_flight(&octi, &env, 10).await;
    d.signal("TERM");
    let status = d.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "exit status {status:?}: {}", d.log_text());
    assert!(
        d.log_text().contains("grace period over"),
        "{}",
        d.log_text()
    );
    for w in &works {
        let r = octi.work(w).unwrap();
        assert_eq!(r.processed_calls, 0, "a work was ended: {r:?}");
    }
    // All four wait in the queue: the two cut short (unacknowledged) and the two never started.
    let conn = rabbit::connect().await;
    let depth = rabbit::wait_depth(&conn, &octi.listen_queue(), 4, Duration::from_secs(30)).await;
    assert_eq!(depth, 4, "requests lost or acknowledged unfinished");
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_request_loses_nothing_and_ends_each_work_once() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let env = env(&octi, &[]);
    // Exactly the first two entity reads are held: those requests are mid-flight at the kill.
    let (mut first, works) = two_of_four_in_flight(&octi, &env, 2).await;
    first.signal("KILL");
    let status = first.wait_exit(Duration::from_secs(30)).await;
    assert!(!status.success(), "SIGKILL: {status:?}");
    octi.release_held();
    // A new process takes the queue over: everything is redelivered and done, each work ended
    // once (the killed process never reported the two it held).
    let second = Daemon::spawn(&env);
    for w in &works {
        let r = octi.wait_for_work(w).await;
        assert!(!r.in_error, "{r:?}");
        assert_eq!(r.processed_calls, 1, "ended more than once: {r:?}");
    }
    let redelivered = works
        .iter()
        .filter(|w| octi.work(w).unwrap().received > 1)
        .count();
    assert_eq!(redelivered, 2, "the two killed mid-request are redone");
    let conn = rabbit::connect().await;
    assert_eq!(
        rabbit::wait_depth(&conn, &octi.listen_queue(), 0, Duration::from_secs(10)).await,
        0
    );
    second.terminate().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_cancelled_by_the_broker_ends_the_daemon_non_zero() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let mut d = Daemon::spawn(&octi.connector_env());
    consuming(&d).await;
    // Deleting the listen queue makes the broker cancel the consumer.
    let conn = rabbit::connect().await;
    rabbit::delete(&conn, &octi.listen_queue()).await;
    let status = d.wait_exit(Duration::from_secs(60)).await;
    assert!(
        !status.success(),
        "exit status {status:?}: {}",
        d.log_text()
    );
    assert!(
        d.log_text().contains("ended the consumer"),
        "{}",
        d.log_text()
    );
    octi.cleanup().await;
}
