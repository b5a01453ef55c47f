//! `connector-wazuh check` run as a user runs it (the real binary) against a real
//! OpenSearch-compatible server (osmem) with the sample alerts, a TLS + basic-auth front with its
//! own CA, and the fake OpenCTI: every failure line, its fix hint, the exit code, and that no
//! secret is printed.

use std::collections::HashMap;

use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::osmem::Osmem;
use crate::testkit::tls_front::TlsFront;

const PASSWORD: &str = "indexer-pw-7f3a";

use crate::testkit::cli::Out;

/// Finds check lines by name.
trait Lines {
    fn line(&self, name: &str) -> &str;
    fn has(&self, name: &str) -> bool;
}

impl Lines for Out {
    /// The line of check `name` (`status  name  detail`).
    fn line(&self, name: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
            .unwrap_or_else(|| panic!("no `{name}` line in:\n{}", self.stdout))
    }
    fn has(&self, name: &str) -> bool {
        self.stdout
            .lines()
            .any(|l| l.get(6..).is_some_and(|rest| rest.starts_with(name)))
    }
}

async fn check(env: &HashMap<String, String>) -> Out {
    crate::testkit::cli::run(&["check"], env).await
}

fn env(octi: &FakeOpenCti, indexer_url: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut e = octi.connector_env();
    e.insert("WAZUH_OPENSEARCH_URL".into(), indexer_url.into());
    e.insert("WAZUH_OPENSEARCH_USERNAME".into(), "wazuh-reader".into());
    e.insert("WAZUH_OPENSEARCH_PASSWORD".into(), PASSWORD.into());
    e.insert("WAZUH_OPENSEARCH_TIMEOUT".into(), "30s".into());
    for (k, v) in extra {
        e.insert(k.to_string(), v.to_string());
    }
    e
}

fn assert_status(line: &str, status: &str) {
    assert!(line.starts_with(&format!("{status:<4}  ")), "{line}");
}

/// A closed local port: the discard port, which nothing on a test machine serves (a port bound
/// and released could be taken meanwhile by a server another test starts).
fn closed_port_url() -> String {
    "http://127.0.0.1:9".to_string()
}

#[tokio::test]
async fn healthy_setup_passes_with_one_line_per_check() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let front = TlsFront::start(&os.url, "wazuh-reader", PASSWORD).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let ca = front.ca_pem.display().to_string();
    let out = check(&env(
        &octi,
        &front.url,
        &[("WAZUH_OPENSEARCH_CA_BUNDLE", &ca)],
    ))
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    for name in [
        "configuration",
        "OpenCTI reachable",
        "OpenCTI token",
        "registration input",
        "indexer reachable",
        "indexer TLS",
        "indexer credentials",
        "Wazuh schema",
        "index pattern",
    ] {
        assert_status(out.line(name), "ok");
    }
    assert!(
        out.line("Wazuh schema")
            .contains("4.x (auto: wazuh-alerts-* has indices"),
        "{}",
        out.stdout
    );
    assert!(out.line("OpenCTI version").contains("OpenCTI 6.9.17"));
    let reg = out.line("registration input");
    assert!(reg.contains("type=INTERNAL_ENRICHMENT"), "{reg}");
    assert!(reg.contains(&octi.connector_id), "{reg}");
    assert!(out.line("indexer TLS").contains(&ca));
    // 53 sample alerts in one index; the newest real one (dashboard sample data excluded, as
    // enrichment does) is from 2025: a stale index is a warning, not a failure.
    assert!(
        out.line("index pattern").contains("53 document(s)"),
        "{}",
        out.stdout
    );
    let newest = out.line("newest alert");
    assert!(newest.contains("2025-05-13T11:45:32"), "{}", out.stdout);
    assert_status(newest, "warn");
    assert!(
        newest.contains("→ fix: no alert for more than a day"),
        "{newest}"
    );
    assert_eq!(out.stdout.lines().count(), 11, "{}", out.stdout);
    assert!(!out.stdout.contains(PASSWORD) && !out.stdout.contains(&octi.token));
    // The same platform is older (6.4): fewer registration fields, still fine.
    let old = FakeOpenCti::start("6.4.5").await;
    let out = check(&env(
        &old,
        &front.url,
        &[("WAZUH_OPENSEARCH_CA_BUNDLE", &ca)],
    ))
    .await;
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert!(out.line("OpenCTI version").contains("6.4.5"));
    octi.cleanup().await;
    old.cleanup().await;
}

#[tokio::test]
async fn opencti_down_and_bad_token_fail_with_hints() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;

    let down = check(&env(&octi, &os.url, &[("OPENCTI_URL", &closed_port_url())])).await;
    assert_eq!(down.code, Some(1), "{}", down.stdout);
    let l = down.line("OpenCTI reachable");
    assert_status(l, "FAIL");
    assert!(l.contains("→ fix: check OPENCTI_URL"), "{l}");
    assert!(!down.has("OpenCTI token"), "{}", down.stdout);
    // The indexer is still checked, and plain HTTP is only a warning.
    assert_status(down.line("index pattern"), "ok");
    assert_status(down.line("indexer TLS"), "warn");

    let bad = check(&env(
        &octi,
        &os.url,
        &[("OPENCTI_TOKEN", "0wrong-token-value")],
    ))
    .await;
    assert_eq!(bad.code, Some(1), "{}", bad.stdout);
    assert_status(bad.line("OpenCTI reachable"), "ok");
    let l = bad.line("OpenCTI token");
    assert_status(l, "FAIL");
    assert!(l.contains("→ fix: set OPENCTI_TOKEN"), "{l}");
    assert!(!bad.stdout.contains("0wrong-token-value"));
    assert!(!bad.has("registration input"));
    octi.cleanup().await;
}

#[tokio::test]
async fn indexer_failures_each_have_their_line() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let front = TlsFront::start(&os.url, "wazuh-reader", PASSWORD).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let ca = front.ca_pem.display().to_string();

    let down = check(&env(&octi, &closed_port_url(), &[])).await;
    assert_eq!(down.code, Some(1));
    let l = down.line("indexer reachable");
    assert_status(l, "FAIL");
    assert!(l.contains("→ fix: check WAZUH_OPENSEARCH_URL"), "{l}");
    assert_status(down.line("OpenCTI token"), "ok");

    let untrusted = check(&env(&octi, &front.url, &[])).await;
    assert_eq!(untrusted.code, Some(1));
    let l = untrusted.line("indexer TLS");
    assert_status(l, "FAIL");
    assert!(l.contains("→ fix: set WAZUH_OPENSEARCH_CA_BUNDLE"), "{l}");

    let wrong_pw = check(&env(
        &octi,
        &front.url,
        &[
            ("WAZUH_OPENSEARCH_CA_BUNDLE", &ca),
            ("WAZUH_OPENSEARCH_PASSWORD", "not-the-password"),
        ],
    ))
    .await;
    assert_eq!(wrong_pw.code, Some(1));
    assert_status(wrong_pw.line("indexer TLS"), "ok");
    let l = wrong_pw.line("indexer credentials");
    assert_status(l, "FAIL");
    assert!(l.contains("HTTP 401"), "{l}");
    assert!(l.contains("WAZUH_OPENSEARCH_PASSWORD"), "{l}");
    assert!(!wrong_pw.stdout.contains("not-the-password"));

    let no_index = check(&env(
        &octi,
        &front.url,
        &[
            ("WAZUH_OPENSEARCH_CA_BUNDLE", &ca),
            ("WAZUH_OPENSEARCH_INDEX", "wazuh-archives-*"),
        ],
    ))
    .await;
    assert_eq!(no_index.code, Some(1));
    let l = no_index.line("index pattern");
    assert_status(l, "FAIL");
    assert!(l.contains("wazuh-archives-*"), "{l}");
    assert!(l.contains("→ fix: check WAZUH_OPENSEARCH_INDEX"), "{l}");
    assert!(!no_index.has("newest alert"));
    octi.cleanup().await;
}

#[tokio::test]
async fn invalid_configuration_is_a_fail_line() {
    let mut e = HashMap::new();
    e.insert("OPENCTI_URL".to_string(), "http://127.0.0.1:9".to_string());
    e.insert("OPENCTI_TOKEN".to_string(), "0tok".to_string());
    e.insert("CONNECTOR_ID".to_string(), "not-a-uuid".to_string());
    e.insert(
        "WAZUH_OPENSEARCH_URL".to_string(),
        "http://127.0.0.1:9".to_string(),
    );
    let out = check(&e).await;
    assert_eq!(out.code, Some(1));
    assert_eq!(out.stdout.lines().count(), 1, "{}", out.stdout);
    let l = out.line("configuration");
    assert_status(l, "FAIL");
    assert!(l.contains("CONNECTOR_ID"), "{l}");
    assert!(l.contains("→ fix:"), "{l}");
}

/// With hunting on, `check` says how it would run, how many indicators it would hunt (the
/// enrichment's gates applied to the platform's listing) and what the plan cannot cover.
#[tokio::test]
async fn hunting_lines_count_the_hunted_indicators_and_name_what_cannot_be_hunted() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    use crate::testkit::fake_opencti::{TLP_GREEN, TLP_RED};
    octi.add_hunt_indicator("[ipv4-addr:value = '45.83.64.77']", Some(TLP_GREEN));
    octi.add_hunt_indicator("[domain-name:value = 'bad.example.net']", None);
    octi.add_hunt_indicator("[ipv4-addr:value = '45.83.64.78']", Some(TLP_RED));
    octi.add_hunt_indicator("[x-custom:thing = 'x']", None);
    let revoked = octi.add_hunt_indicator("[ipv4-addr:value = '45.83.64.79']", None);
    octi.revoke_indicator(&revoked);
    let out = check(&env(&octi, &os.url, &[("WAZUH_HUNT_ENABLED", "true")])).await;
    assert_eq!(out.code, Some(0), "{}", out.stdout);
    assert_status(out.line("hunting"), "ok");
    assert!(out.line("hunting").contains("every 300s"), "{}", out.stdout);
    // Listed: everything not revoked (4); hunted: not the red one (3).
    let hunted = out.line("hunted indicators");
    assert!(hunted.contains("3 of 4 listed"), "{hunted}");
    let plan = out.line("hunting plan");
    assert_status(plan, "warn");
    assert!(plan.contains("domain 1") && plan.contains("ip 1"), "{plan}");
    assert!(
        plan.contains("1 cannot be hunted") && plan.contains("x-custom"),
        "{plan}"
    );
    // Without hunting, no hunting line.
    let out = check(&env(&octi, &os.url, &[])).await;
    assert!(!out.has("hunting"), "{}", out.stdout);
    octi.cleanup().await;
}
