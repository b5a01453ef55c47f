//! RabbitMQ over TLS (`MQ_USE_SSL`, `MQ_USE_SSL_CA`), on the real binary: the broker's own CA
//! trusted through the bundle, the daemon consumes and answers over amqps; without the bundle it
//! refuses the broker's certificate and stops with an error that says so.

use std::collections::HashMap;
use std::time::Duration;

use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::Daemon;
use crate::testkit::tls_front::{TlsIndexer, TlsTcpFront};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqps_broker_is_trusted_through_its_ca_bundle_and_refused_without_it() {
    let indexer = TlsIndexer::start("wazuh-reader", "amqps-test-Pw-7").await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let broker = TlsTcpFront::start("127.0.0.1:5672").await;
    let mut env: HashMap<String, String> = octi.connector_env();
    env.extend(indexer.env().into_iter().map(|(k, v)| (k.to_string(), v)));
    // The platform announces a plain broker; the operator's overrides point at the TLS port.
    env.insert("MQ_HOST".into(), "localhost".into());
    env.insert("MQ_PORT".into(), broker.port.to_string());
    env.insert("MQ_USE_SSL".into(), "true".into());

    // Without the broker's CA its certificate is refused: the daemon stops, saying why.
    let mut d = Daemon::spawn(&env);
    let status = d.wait_exit(Duration::from_secs(120)).await;
    assert!(!status.success(), "{}", d.log_text());
    let log = d.log_text().to_lowercase();
    assert!(
        log.contains("certificate") || log.contains("unknownissuer"),
        "the error does not name the certificate problem:\n{log}"
    );
    assert_eq!(broker.handshakes(), 0, "an untrusted broker was accepted");

    // With it, the daemon consumes and delivers over amqps.
    env.insert(
        "MQ_USE_SSL_CA".into(),
        broker.ca_pem.to_str().unwrap().into(),
    );
    let d = Daemon::spawn_consuming(&env).await;
    let (work, rec) = octi.enrich_ipv4("45.75.196.15").await;
    assert!(!rec.in_error, "{rec:?}\n{}", d.log_text());
    assert!(!octi.pushed_objects(&work).is_empty(), "{rec:?}");
    assert!(
        broker.handshakes() >= 1,
        "the daemon reached the broker without TLS"
    );
    d.terminate().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}
