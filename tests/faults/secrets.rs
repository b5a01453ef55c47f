//! Secrets never reach the log: the real binary at debug level, through a full request against an
//! indexer behind TLS + basic auth (its own CA), then SIGTERM; the whole output is searched for
//! the OpenCTI token, the indexer password (also as the base64 Basic header) and the broker
//! credentials in URI form. Also: switching TLS verification off is announced loudly.

use std::time::Duration;

use crate::testkit::fake_opencti::{ipv4, FakeOpenCti};
use crate::testkit::faults::Daemon;
use crate::testkit::osmem::Osmem;
use crate::testkit::tls_front::TlsFront;
use base64::Engine;

const INDEXER_USER: &str = "wazuh-reader";
const INDEXER_PASSWORD: &str = "Zq8-indexer-s3cret-7Hk";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_log_of_a_full_request_holds_no_secret() {
    let osmem = Osmem::start().await;
    osmem.load_sample_alerts().await;
    let front = TlsFront::start(&osmem.url, INDEXER_USER, INDEXER_PASSWORD).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let mut env = octi.connector_env();
    for (k, v) in [
        ("WAZUH_OPENSEARCH_URL", front.url.as_str()),
        ("WAZUH_OPENSEARCH_USERNAME", INDEXER_USER),
        ("WAZUH_OPENSEARCH_PASSWORD", INDEXER_PASSWORD),
        ("WAZUH_OPENSEARCH_CA_BUNDLE", front.ca_pem.to_str().unwrap()),
        ("WAZUH_CREATE_OBS_SIGHTINGS", "true"),
        // The sample alerts carry the dashboard sample-data marker.
        ("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "false"),
        ("CONNECTOR_LOG_LEVEL", "debug"),
        // Plain-HTTP fake platform: verification is moot, but turning it off must be announced.
        ("OPENCTI_SSL_VERIFY", "false"),
    ] {
        env.insert(k.into(), v.into());
    }
    let mut d = Daemon::spawn(&env);
    assert!(
        d.wait_log("consuming enrichment requests", Duration::from_secs(30))
            .await,
        "{}",
        d.log_text()
    );
    let ip = octi.add_entity(ipv4("45.75.196.15", None));
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}\n{}", d.log_text());
    assert!(
        !octi.pushed_objects(&work).is_empty(),
        "the search went through the authenticated TLS front and found alerts: {rec:?}"
    );
    d.assert_running();
    let d = d.terminate().await;
    let log = d.log_text();
    let debug_lines = log
        .lines()
        .filter(|l| l.contains("\"DEBUG\"") || l.contains(" DEBUG "))
        .count();
    assert!(debug_lines > 0, "debug logging was not on:\n{log}");
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{INDEXER_USER}:{INDEXER_PASSWORD}"));
    for (what, secret) in [
        ("OpenCTI token", octi.token.as_str()),
        ("indexer password", INDEXER_PASSWORD),
        ("indexer Basic header", basic.as_str()),
        ("broker credentials", "guest:guest"),
    ] {
        assert!(!log.contains(secret), "the {what} appears in the log");
    }
    assert!(
        log.contains("TLS certificate verification of OpenCTI is DISABLED"),
        "no warning for OPENCTI_SSL_VERIFY=false:\n{log}"
    );
    println!(
        "RELIABILITY|Secrets in a debug log (full request, real binary)|fault_secrets|1|1|0|0|0|{}|0|0|{} log lines ({debug_lines} at debug) searched for the token, the indexer password and Basic header, the broker credentials: none found|",
        octi.pushed_objects(&work).len(),
        log.lines().count()
    );
    octi.cleanup().await;
}
