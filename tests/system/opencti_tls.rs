//! OpenCTI behind TLS with its own CA (`OPENCTI_CA_BUNDLE`), on the real binary: trusted through
//! the bundle, the daemon registers and delivers results; without it, `check` refuses the
//! platform's certificate. Turning indexer verification off works and is announced.

use std::collections::HashMap;

use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::Daemon;
use crate::testkit::tls_front::{TlsFront, TlsIndexer};

const INDEXER_USER: &str = "wazuh-reader";
const INDEXER_PASSWORD: &str = "tls-test-Pw-31";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_behind_tls_is_trusted_through_its_ca_bundle() {
    let indexer = TlsIndexer::start(INDEXER_USER, INDEXER_PASSWORD).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let platform = TlsFront::passthrough(&octi.url).await;
    let mut env: HashMap<String, String> = octi.connector_env();
    env.extend(indexer.env().into_iter().map(|(k, v)| (k.to_string(), v)));
    env.insert("OPENCTI_URL".into(), platform.url.clone());
    // The indexer's CA is not given: its verification is turned off, which must be said.
    env.remove("WAZUH_OPENSEARCH_CA_BUNDLE");
    env.insert("WAZUH_OPENSEARCH_VERIFY_TLS".into(), "false".into());

    // Without the platform's CA, its certificate is refused.
    let out = crate::testkit::cli::run(&["check"], &env).await;
    assert_ne!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let text = format!("{}{}", out.stdout, out.stderr).to_lowercase();
    assert!(text.contains("certificate"), "{text}");
    assert!(octi.registrations().is_empty());

    // With it, the daemon registers over TLS and delivers a result.
    env.insert(
        "OPENCTI_CA_BUNDLE".into(),
        platform.ca_pem.to_str().unwrap().into(),
    );
    let d = Daemon::spawn_consuming(&env).await;
    assert_eq!(octi.registrations().len(), 1);
    let (work, rec) = octi.enrich_ipv4("45.75.196.15").await;
    assert!(!rec.in_error, "{rec:?}\n{}", d.log_text());
    assert!(
        !octi.pushed_objects(&work).is_empty(),
        "the search went through the unverified TLS indexer and found alerts"
    );
    let d = d.terminate().await;
    assert!(
        d.log_text()
            .contains("TLS certificate verification of the Wazuh indexer is DISABLED"),
        "no warning for WAZUH_OPENSEARCH_VERIFY_TLS=false:\n{}",
        d.log_text()
    );
    octi.cleanup().await;
}
