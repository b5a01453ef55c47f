//! `CONNECTOR_LISTEN_PROTOCOL=API` end to end (the test OpenCTI, real RabbitMQ for the results):
//! the connector registers its `listen_callback_uri`, serves it, and a request POSTed as
//! OpenCTI's worker does (queue message body, the connector user's token as bearer) is answered
//! 202 and completed through the same pipeline and work reporting as a queue delivery. A wrong or
//! missing bearer is 401 and nothing is processed; an oversized body is 413; a saturated
//! connector answers 503 (the worker requeues); HTTPS works with the configured certificate; a
//! platform that cannot register a callback (6.4) stops the start-up with a clear error.

use std::sync::Arc;
use std::time::Duration;

use crate::testkit::connector::{free_port, spawn, DownEnricher, NoteEnricher, Running};
use crate::testkit::fake_opencti::{ipv4, FakeOpenCti};
use crate::testkit::platform::post_callback;

type Step = Option<Arc<dyn connector_wazuh::pipeline::Enricher>>;

fn note(delay: Duration) -> Step {
    Some(Arc::new(NoteEnricher { delay }))
}

/// A connector listening over HTTP on a fresh port; returns it and the callback URL.
async fn start(octi: &FakeOpenCti, extra: &[(&str, &str)], step: Step) -> (Running, String) {
    let port = free_port().to_string();
    let uri = format!("http://127.0.0.1:{port}");
    let mut env = vec![
        ("CONNECTOR_LISTEN_PROTOCOL", "API"),
        ("CONNECTOR_LISTEN_PROTOCOL_API_HOST", "127.0.0.1"),
        ("CONNECTOR_LISTEN_PROTOCOL_API_PORT", port.as_str()),
        ("CONNECTOR_LISTEN_PROTOCOL_API_URI", uri.as_str()),
    ];
    env.extend_from_slice(extra);
    let c = spawn(octi, &env, step);
    let url = format!("{uri}/api/callback");
    wait_healthy(&format!("{uri}/health"), None).await;
    (c, url)
}

/// The platform's worker POSTing a manual request for `entity` with `bearer`.
async fn post_request(
    octi: &FakeOpenCti,
    url: &str,
    bearer: Option<&str>,
    work: &str,
    entity: &str,
) -> (u16, String) {
    let body = octi.manual_request(work, entity, true).to_string();
    post_callback(url, bearer, body.into_bytes()).await
}

async fn wait_healthy(url: &str, client: Option<&reqwest::Client>) {
    let plain = reqwest::Client::new();
    let client = client.unwrap_or(&plain);
    for _ in 0..300 {
        if let Ok(r) = client.get(url).send().await {
            if r.status().as_u16() == 200 {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the callback server at {url} never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posted_request_is_accepted_and_completed_and_bad_callers_are_refused() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let (c, url) = start(
        &octi,
        &[("CONNECTOR_MAX_MESSAGE_BYTES", "4096")],
        note(Duration::ZERO),
    )
    .await;
    let reg = octi.wait_for_registration().await;
    assert_eq!(reg["listen_callback_uri"], url.as_str(), "{reg}");

    // The platform's worker, with the connector user's token.
    let ip = octi.add_entity(ipv4("7.7.7.1", None));
    let work = octi.new_work();
    let (status, text) = post_request(&octi, &url, Some(&octi.token), &work, &ip).await;
    assert_eq!(status, 202, "{text}");
    assert!(text.contains("Message successfully received"), "{text}");
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    assert_eq!(rec.status, "complete", "{rec:?}");
    let pushed = octi.pushed_objects(&work);
    assert!(
        pushed.iter().any(|o| o["type"] == "note"),
        "results went through the push queue: {pushed:?}"
    );

    // Wrong or missing bearer: 401, and the request is not processed.
    let other = octi.new_work();
    for bearer in [Some("0not-the-token"), None] {
        let (status, text) = post_request(&octi, &url, bearer, &other, &ip).await;
        assert_eq!(status, 401, "{bearer:?}: {text}");
    }
    // Oversized: refused before processing.
    let mut big = octi.manual_request(&other, &ip, true);
    big["event"]["padding"] = "x".repeat(10_000).into();
    let (status, _) = post_callback(&url, Some(&octi.token), big.to_string().into_bytes()).await;
    assert_eq!(status, 413);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let untouched = octi.work(&other).unwrap_or_default();
    assert_eq!(untouched.received, 0, "{untouched:?}");
    assert!(octi.pushed_objects(&other).is_empty());

    // The listen queue is the worker's now: the connector does not consume it.
    let queued = octi.new_work();
    octi.publish_request(&octi.manual_request(&queued, &ip, true))
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(octi.work(&queued).unwrap_or_default().received, 0);

    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_accepted_request_that_keeps_failing_is_retried_here_then_ended_in_error() {
    // After 202 the platform never delivers the request again: the connector retries it itself,
    // up to CONNECTOR_MAX_ATTEMPTS, and the work says why it ended.
    let octi = FakeOpenCti::start("6.9.17").await;
    let down: Step = Some(Arc::new(DownEnricher));
    let (c, url) = start(&octi, &[("CONNECTOR_MAX_ATTEMPTS", "2")], down).await;
    let ip = octi.add_entity(ipv4("7.7.7.4", None));
    let work = octi.new_work();
    let (status, _) = post_request(&octi, &url, Some(&octi.token), &work, &ip).await;
    assert_eq!(status, 202);
    let rec = octi.wait_for_work(&work).await;
    assert!(rec.in_error, "{rec:?}");
    assert!(
        rec.errors
            .iter()
            .chain(&rec.messages)
            .any(|m| m.contains("Gave up after 2 attempt(s)")),
        "{rec:?}"
    );
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_platform_with_jwks_its_signed_callbacks_are_accepted() {
    use crate::testkit::platform::platform_jwt;
    let octi = FakeOpenCti::start("6.9.17+jwks").await;
    let (c, url) = start(&octi, &[], note(Duration::ZERO)).await;
    assert!(
        octi.calls().iter().any(|c| c == "ConnectorFields"),
        "{:?}",
        octi.calls()
    );
    let ip = octi.add_entity(ipv4("7.7.7.5", None));
    let work = octi.new_work();
    // Expired: refused (and the worker would requeue it).
    let expired = platform_jwt(&octi, -5);
    let (status, _) = post_request(&octi, &url, Some(&expired), &work, &ip).await;
    assert_eq!(status, 401);
    let valid = platform_jwt(&octi, 3600);
    let (status, text) = post_request(&octi, &url, Some(&valid), &work, &ip).await;
    assert_eq!(status, 202, "{text}");
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saturated_connector_answers_503_so_the_platform_retries() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let (c, url) = start(
        &octi,
        &[("CONNECTOR_CONCURRENCY", "1")],
        note(Duration::from_secs(2)),
    )
    .await;
    let ip = octi.add_entity(ipv4("7.7.7.2", None));
    let (w1, w2) = (octi.new_work(), octi.new_work());
    let token = Some(octi.token.as_str());
    assert_eq!(post_request(&octi, &url, token, &w1, &ip).await.0, 202);
    let (status, text) = post_request(&octi, &url, token, &w2, &ip).await;
    assert_eq!(status, 503, "{text}");
    // The worker retries later; by then the slot is free.
    assert!(!octi.wait_for_work(&w1).await.in_error);
    assert_eq!(post_request(&octi, &url, token, &w2, &ip).await.0, 202);
    assert!(!octi.wait_for_work(&w2).await.in_error);
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_callback_server_speaks_https_with_the_configured_certificate() {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (cert_pem, key_pem) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_pem, cert.pem()).unwrap();
    std::fs::write(&key_pem, key.serialize_pem()).unwrap();

    let octi = FakeOpenCti::start("6.9.17").await;
    let port = free_port().to_string();
    let uri = format!("https://127.0.0.1:{port}");
    let c = spawn(
        &octi,
        &[
            ("CONNECTOR_LISTEN_PROTOCOL", "API"),
            ("CONNECTOR_LISTEN_PROTOCOL_API_HOST", "127.0.0.1"),
            ("CONNECTOR_LISTEN_PROTOCOL_API_PORT", port.as_str()),
            ("CONNECTOR_LISTEN_PROTOCOL_API_SSL", "true"),
            (
                "CONNECTOR_LISTEN_PROTOCOL_API_SSL_CERT",
                cert_pem.to_str().unwrap(),
            ),
            (
                "CONNECTOR_LISTEN_PROTOCOL_API_SSL_KEY",
                key_pem.to_str().unwrap(),
            ),
        ],
        note(Duration::ZERO),
    );
    let reg = octi.wait_for_registration().await;
    // Unset URI: pycti's default, https because the server is.
    assert_eq!(
        reg["listen_callback_uri"],
        format!("https://127.0.0.1:{port}/api/callback")
    );
    let trust = reqwest::Certificate::from_pem(cert.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .tls_certs_merge(vec![trust])
        .build()
        .unwrap();
    wait_healthy(&format!("{uri}/health"), Some(&client)).await;
    let ip = octi.add_entity(ipv4("7.7.7.3", None));
    let work = octi.new_work();
    let r = client
        .post(format!("{uri}/api/callback"))
        .bearer_auth(&octi.token)
        .body(octi.manual_request(&work, &ip, true).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 202);
    assert!(!octi.wait_for_work(&work).await.in_error);
    // Plain HTTP on the HTTPS port gets nothing useful.
    let (status, _) = post_callback(
        &format!("http://127.0.0.1:{port}/api/callback"),
        Some(&octi.token),
        b"{}".to_vec(),
    )
    .await;
    assert_ne!(status, 202);
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_platform_without_callbacks_stops_the_start_up() {
    let octi = FakeOpenCti::start("6.4.5").await;
    let c = spawn(
        &octi,
        &[
            ("CONNECTOR_LISTEN_PROTOCOL", "API"),
            (
                "CONNECTOR_LISTEN_PROTOCOL_API_PORT",
                &free_port().to_string(),
            ),
        ],
        note(Duration::ZERO),
    );
    let r = tokio::time::timeout(Duration::from_secs(30), c.handle)
        .await
        .expect("start-up did not end")
        .unwrap();
    let e = r.expect_err("API listening cannot work on 6.4").to_string();
    assert!(e.contains("needs OpenCTI 6.6"), "{e}");
    assert!(octi.registrations().is_empty(), "nothing registered");
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_production_pipeline_over_http_with_deferred_resolution_finds_the_alerts() {
    use crate::testkit::e2e;
    use crate::testkit::platform::resolved_request;
    let ip_value = "185.220.101.9";
    let (alerts, _) = e2e::ssh_alerts(ip_value, &[4, 2], e2e::recent());
    let os = e2e::indexer_with(alerts).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let port = free_port().to_string();
    let uri = format!("http://127.0.0.1:{port}");
    let c = e2e::connector(
        &octi,
        &os.url,
        &[
            ("CONNECTOR_LISTEN_PROTOCOL", "API"),
            ("CONNECTOR_LISTEN_PROTOCOL_API_HOST", "127.0.0.1"),
            ("CONNECTOR_LISTEN_PROTOCOL_API_PORT", port.as_str()),
            ("CONNECTOR_LISTEN_PROTOCOL_API_URI", uri.as_str()),
            ("CONNECTOR_ENRICHMENT_RESOLUTION", "deferred"),
        ],
    );
    wait_healthy(&format!("{uri}/health"), None).await;
    let ip = octi.add_entity(ipv4(ip_value, None));
    let work = octi.new_work();
    // As the platform builds it for a `deferred` connector: no entity in the request.
    let request = resolved_request(&octi, &work, &ip, &[]);
    assert!(request["event"]["stix_entity"].is_null());
    let (status, text) = post_callback(
        &format!("{uri}/api/callback"),
        Some(&octi.token),
        request.to_string().into_bytes(),
    )
    .await;
    assert_eq!(status, 202, "{text}");
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    let msg = rec.messages.last().cloned().unwrap_or_default();
    assert!(msg.starts_with("6 alert(s) in 2 system(s)"), "{msg}");
    let objects = e2e::pushed(&octi, &work).await;
    assert_eq!(e2e::of_type(&objects, "sighting").len(), 2, "{objects:#?}");
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_still_held_at_shutdown_has_its_work_ended_in_error() {
    // The indexer does not answer: the request is held for the outage. Stopping the connector
    // cannot give it back to a queue (the worker acked it on 202), so its work says to ask again.
    let octi = FakeOpenCti::start("6.9.17").await;
    let (c, url) = start(
        &octi,
        &[
            ("WAZUH_CREATE_OBS_SIGHTINGS", "true"),
            ("WAZUH_OPENSEARCH_RETRIES", "0"),
            ("WAZUH_OPENSEARCH_TIMEOUT", "2s"),
        ],
        None,
    )
    .await;
    let ip = octi.add_entity(ipv4("7.7.7.6", None));
    let work = octi.new_work();
    let (status, _) = post_request(&octi, &url, Some(&octi.token), &work, &ip).await;
    assert_eq!(status, 202);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while octi.work(&work).unwrap_or_default().received == 0 {
        assert!(tokio::time::Instant::now() < deadline, "never received");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_ne!(octi.work(&work).unwrap_or_default().status, "complete");
    c.stop().await;
    let rec = octi.work(&work).unwrap_or_default();
    assert!(rec.in_error, "{rec:?}");
    assert!(
        rec.errors
            .iter()
            .chain(&rec.messages)
            .any(|m| m.contains("The connector stopped before finishing this request")),
        "{rec:?}"
    );
    octi.cleanup().await;
}
