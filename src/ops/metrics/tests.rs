//! Unit tests of the metrics handle (kept apart so that `metrics.rs` stays under the file-size
//! limit).

use super::*;

fn line_value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.split(' ').next()?.parse().ok())
}

#[test]
fn prefix_joins_non_empty_parts_like_pycti() {
    assert_eq!(metric_prefix("", ""), Ok(None));
    assert_eq!(metric_prefix("opencti", ""), Ok(Some("opencti".into())));
    assert_eq!(metric_prefix("", "wazuh"), Ok(Some("wazuh".into())));
    assert_eq!(
        metric_prefix("opencti", "wazuh"),
        Ok(Some("opencti_wazuh".into()))
    );
    assert!(metric_prefix("open-cti", "").is_err());
    assert!(metric_prefix("", "1x").is_err());
    let e = metric_prefix("a b", "").unwrap_err().to_string();
    assert!(e.contains("CONNECTOR_METRICS_NAMESPACE"), "{e}");
}

#[test]
fn pycti_names_are_exposed_with_and_without_prefix() {
    let plain = Metrics::new().encode();
    for name in [
        "bundles_sent_total 0",
        "records_sent_total 0",
        "runs_total 0",
        "ping_api_total 0",
        "ping_api_errors_total 0",
        "errors_total 0",
        "client_errors_total 0",
        "state{state=\"idle\"} 1",
        "state{state=\"running\"} 0",
        "state{state=\"stopped\"} 0",
    ] {
        assert!(
            plain.lines().any(|l| l == name),
            "{name} missing in\n{plain}"
        );
    }
    assert!(plain.ends_with("# EOF\n"));
    let pre = Metrics::with_prefix("opencti", "wazuh").unwrap().encode();
    assert!(pre
        .lines()
        .any(|l| l == "opencti_wazuh_bundles_sent_total 0"));
    assert!(pre
        .lines()
        .any(|l| l == "opencti_wazuh_state{state=\"idle\"} 1"));
}

#[test]
fn state_follows_requests_until_stopped() {
    let m = Metrics::new();
    m.request_started();
    m.request_started();
    assert_eq!(m.state(), State::Running);
    m.request_finished(Outcome::NoHits, Duration::from_millis(10));
    assert_eq!(m.state(), State::Running, "one request still in flight");
    m.request_finished(Outcome::Enriched, Duration::from_millis(10));
    assert_eq!(m.state(), State::Idle);
    assert_eq!(m.in_flight(), 0);
    m.set_state(State::Stopped);
    m.request_started();
    assert_eq!(m.state(), State::Stopped);
    m.request_finished(Outcome::Skipped, Duration::ZERO);
    assert_eq!(m.state(), State::Stopped);
    let t = m.encode();
    assert_eq!(line_value(&t, "state{state=\"stopped\"}"), Some(1.0));
    assert_eq!(line_value(&t, "state{state=\"idle\"}"), Some(0.0));
    assert_eq!(line_value(&t, "state{state=\"running\"}"), Some(0.0));
}

#[test]
fn unmatched_finish_never_drives_in_flight_negative() {
    let m = Metrics::new();
    m.request_finished(Outcome::Failed, Duration::ZERO);
    assert_eq!(m.in_flight(), 0);
    assert_eq!(m.state(), State::Idle);
    let t = m.encode();
    assert_eq!(line_value(&t, "errors_total"), Some(1.0));
}

#[test]
fn dependency_state_and_outages_per_dependency() {
    let m = Metrics::new();
    let t = m.encode();
    assert_eq!(
        line_value(&t, "dependency_up{dependency=\"indexer\"}"),
        Some(1.0)
    );
    m.dependency("indexer", false);
    m.dependency("indexer", true);
    m.dependency("opencti", false);
    let t = m.encode();
    assert_eq!(
        line_value(&t, "dependency_up{dependency=\"indexer\"}"),
        Some(1.0)
    );
    assert_eq!(
        line_value(&t, "dependency_up{dependency=\"opencti\"}"),
        Some(0.0)
    );
    assert_eq!(
        line_value(&t, "dependency_outages_total{dependency=\"indexer\"}"),
        Some(1.0)
    );
}

#[test]
fn callback_answers_are_counted_by_answer() {
    let m = Metrics::new();
    m.listen_callback("accepted");
    m.listen_callback("accepted");
    m.listen_callback("busy");
    let t = m.encode();
    assert_eq!(
        line_value(&t, "listen_callbacks_total{answer=\"accepted\"}"),
        Some(2.0)
    );
    assert_eq!(
        line_value(&t, "listen_callbacks_total{answer=\"busy\"}"),
        Some(1.0)
    );
}

#[test]
fn clones_share_one_registry() {
    let a = Metrics::new();
    let b = a.clone();
    b.ping(false);
    a.ping(true);
    let t = a.encode();
    assert_eq!(line_value(&t, "ping_api_total"), Some(2.0));
    assert_eq!(line_value(&t, "ping_api_errors_total"), Some(1.0));
}
