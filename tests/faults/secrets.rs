//! Secrets never reach the log: the real binary at debug level, through a full request against an
//! indexer behind TLS + basic auth (its own CA), then SIGTERM; the whole output is searched for
//! the OpenCTI token, the indexer password (also as the base64 Basic header) and the broker
//! credentials in URI form. Also: switching TLS verification off is announced loudly, and the
//! error paths (token refused, OpenCTI 500, indexer and broker refusing their passwords) log no
//! configured secret either.

use std::time::Duration;

use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::faults::Daemon;
use crate::testkit::tls_front::TlsIndexer;
use base64::Engine;

const INDEXER_USER: &str = "wazuh-reader";
const INDEXER_PASSWORD: &str = "Zq8-indexer-s3cret-7Hk";
/// The credential of an access gateway in front of OpenCTI (`OPENCTI_CUSTOM_HEADERS`).
const GATEWAY_KEY: &str = "gw-9d2f-s3cret-44Qa";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_log_of_a_full_request_holds_no_secret() {
    let indexer = TlsIndexer::start(INDEXER_USER, INDEXER_PASSWORD).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    octi.require_header("x-gateway-key", GATEWAY_KEY);
    let gateway_headers = format!("X-Gateway-Key:{GATEWAY_KEY}");
    let mut env = octi.connector_env();
    env.extend(indexer.env().into_iter().map(|(k, v)| (k.to_string(), v)));
    for (k, v) in [
        ("CONNECTOR_LOG_LEVEL", "debug"),
        ("OPENCTI_CUSTOM_HEADERS", gateway_headers.as_str()),
        // Plain-HTTP fake platform: verification is moot, but turning it off must be announced.
        ("OPENCTI_SSL_VERIFY", "false"),
    ] {
        env.insert(k.into(), v.into());
    }
    let mut d = Daemon::spawn_consuming(&env).await;
    let (work, rec) = octi.enrich_ipv4("45.75.196.15").await;
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
        ("gateway header value", GATEWAY_KEY),
    ] {
        assert!(!log.contains(secret), "the {what} appears in the log");
    }
    assert!(
        octi.gate_refusals().is_empty(),
        "calls without the gateway header: {:?}",
        octi.gate_refusals()
    );
    assert!(
        log.contains("TLS certificate verification of OpenCTI is DISABLED"),
        "no warning for OPENCTI_SSL_VERIFY=false:\n{log}"
    );
    println!(
        "RELIABILITY|Secrets in a debug log (full request, real binary)|fault_secrets|1|1|0|0|0|{}|0|0|{} log lines ({debug_lines} at debug) searched for the token, the indexer password and Basic header, the broker credentials, a gateway header: none found|",
        octi.pushed_objects(&work).len(),
        log.lines().count()
    );
    octi.cleanup().await;
}

/// Every configured secret in `env` (each option the configuration table marks secret), with
/// the forms it takes on the wire (the indexer's Basic header, `user:password` in a URI).
fn configured_secrets(env: &std::collections::HashMap<String, String>) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = connector_wazuh::config::load::OPTIONS
        .iter()
        .filter(|o| o.secret)
        .filter_map(|o| env.get(o.env).map(|v| (o.env.to_string(), v.clone())))
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let user = env
        .get("WAZUH_OPENSEARCH_USERNAME")
        .cloned()
        .unwrap_or_default();
    if let Some(pw) = env.get("WAZUH_OPENSEARCH_PASSWORD") {
        let basic = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pw}"));
        out.push(("indexer Basic header".into(), basic));
    }
    if let Some(pw) = env.get("MQ_PASS") {
        out.push(("broker credentials in a URI".into(), format!(":{pw}@")));
    }
    assert!(!out.is_empty());
    out
}

fn assert_no_secret(log: &str, env: &std::collections::HashMap<String, String>, path: &str) {
    for (what, secret) in configured_secrets(env) {
        assert!(
            !log.contains(&secret),
            "{path}: {what} appears in the log:\n{log}"
        );
    }
}

/// Secrets stay out of the log on the error paths too: OpenCTI refusing the token, OpenCTI
/// answering 500, the indexer refusing the credentials, the broker refusing its password; every
/// secret the configuration holds is searched for (debug level).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_path_logs_hold_no_configured_secret() {
    use crate::testkit::fake_opencti::FailMode;
    let indexer = TlsIndexer::start(INDEXER_USER, INDEXER_PASSWORD).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let mut base = octi.connector_env();
    base.extend(indexer.env().into_iter().map(|(k, v)| (k.to_string(), v)));
    for (k, v) in [
        ("WAZUH_OPENSEARCH_RETRIES", "0"),
        ("CONNECTOR_MAX_ATTEMPTS", "1"),
        ("CONNECTOR_LOG_LEVEL", "debug"),
    ] {
        base.insert(k.into(), v.into());
    }

    // 1. OpenCTI refuses the token: the daemon stops, saying so.
    let mut env = base.clone();
    env.insert("OPENCTI_TOKEN".into(), "0wrong-token-5c1e9a77d2".into());
    env.insert(
        "WAZUH_OPENSEARCH_PASSWORD".into(),
        "wrong-indexer-Pw-19".into(),
    );
    let mut d = Daemon::spawn(&env);
    let status = d.wait_exit(Duration::from_secs(60)).await;
    assert!(!status.success(), "{}", d.log_text());
    assert!(d.log_text().contains("logged in"), "{}", d.log_text());
    assert_no_secret(&d.log_text(), &env, "token refused");

    // 2. OpenCTI answers 500 (registration, then the end of the work), and the indexer refuses
    //    the password: the work ends in error naming the indexer's refusal.
    let mut env = base.clone();
    env.insert(
        "WAZUH_OPENSEARCH_PASSWORD".into(),
        "wrong-indexer-Pw-19".into(),
    );
    octi.fail_next("RegisterConnector", 2, FailMode::Status500);
    let d = Daemon::spawn_consuming(&env).await;
    octi.fail_next("WorkToProcessed", 2, FailMode::Status500);
    let (_, rec) = octi.enrich_ipv4("45.75.196.15").await;
    assert!(rec.in_error, "{rec:?}");
    assert!(rec.errors.iter().any(|e| e.contains("401")), "{rec:?}");
    assert_eq!(octi.faulted("RegisterConnector"), 2);
    assert_eq!(octi.faulted("WorkToProcessed"), 2);
    let d = d.terminate().await;
    assert_no_secret(&d.log_text(), &env, "OpenCTI 500 and indexer 401");

    // 3. The broker refuses its password.
    let mut env = base.clone();
    env.insert("MQ_PASS".into(), "wrong-mq-Pw-4d2f".into());
    let mut d = Daemon::spawn(&env);
    assert!(
        d.wait_log("ACCESS_REFUSED", Duration::from_secs(60)).await,
        "{}",
        d.log_text()
    );
    if d.child.try_wait().unwrap().is_none() {
        d.signal("TERM");
        let _ = d.wait_exit(Duration::from_secs(30)).await;
    }
    assert_no_secret(&d.log_text(), &env, "broker password refused");
    octi.cleanup().await;
}
