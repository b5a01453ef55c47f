//! `OPENCTI_CUSTOM_HEADERS` behind an access gateway: the test OpenCTI is put behind a gateway
//! that turns away every call without its header; without the option the connector is turned
//! away, with it every call of a whole run (registration, work reports, the entity read,
//! `stixBundlePush`) gets through. The header value is a secret: never printed.

use std::sync::Arc;
use std::time::Duration;

use crate::testkit::cli;
use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::{ipv4, FakeOpenCti};

const GATEWAY_KEY: &str = "gw-7f3a9c21e8";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn custom_headers_reach_the_platform_on_every_call() {
    let octi = FakeOpenCti::start("6.9.17").await;
    octi.require_header("x-gateway-key", GATEWAY_KEY);
    let headers = format!("X-Gateway-Key: {GATEWAY_KEY}; X-Tenant: blue");

    // Without the option, the gateway refuses the connector's first call.
    let mut env = octi.connector_env();
    let out = cli::run(&["check"], &env).await;
    assert_ne!(out.code, Some(0), "{}", out.stdout);
    let refused = octi.gate_refusals().len();
    assert!(
        refused > 0,
        "the gateway let a call through without its header"
    );

    // With it, `check` reaches the platform and does not print the value.
    env.insert("OPENCTI_CUSTOM_HEADERS".into(), headers.clone());
    let out = cli::run(&["check"], &env).await;
    assert_eq!(octi.gate_refusals().len(), refused, "{}", out.stdout);
    assert!(
        out.stdout.contains("OpenCTI 6.9.17"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    let out = cli::run(&["config"], &env).await;
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("OPENCTI_CUSTOM_HEADERS "))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    assert!(line.contains("***"), "{line}");
    for text in [&out.stdout, &out.stderr] {
        assert!(!text.contains(GATEWAY_KEY), "the header value was printed");
    }

    // A whole request through the daemon's runtime, results pushed over the API.
    let c = spawn(
        &octi,
        &[
            ("OPENCTI_CUSTOM_HEADERS", headers.as_str()),
            ("CONNECTOR_QUEUE_PROTOCOL", "api"),
        ],
        Some(Arc::new(NoteEnricher {
            delay: Duration::ZERO,
        })),
    );
    let ip = octi.add_entity(ipv4("9.9.9.7", None));
    let w = octi.new_work();
    octi.publish_request(&octi.manual_request(&w, &ip, false))
        .await;
    let rec = octi.wait_for_work(&w).await;
    assert!(!rec.in_error, "{rec:?}");
    assert_eq!(octi.api_pushes().len(), 1);
    c.stop().await;
    assert_eq!(
        octi.gate_refusals().len(),
        refused,
        "calls without the header: {:?}",
        octi.gate_refusals()
    );
    assert_eq!(octi.registrations().len(), 1);
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}
