//! The runtime end to end against a schema-validating fake OpenCTI and the real RabbitMQ:
//! registration, the request shapes, delivery modes, and the failure paths users meet.

use std::sync::Arc;
use std::time::Duration;

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::{
    ipv4, FailMode, FakeOpenCti, CONNECTOR_USER_ID, TLP_GREEN, TLP_RED,
};
use serde_json::Value;

fn note() -> Option<Arc<dyn connector_wazuh::pipeline::Enricher>> {
    Some(Arc::new(NoteEnricher {
        delay: Duration::ZERO,
    }))
}

async fn registration_against(version: &str) {
    let octi = FakeOpenCti::start(version).await;
    let c = spawn(&octi, &[], None);
    let input = octi.wait_for_registration().await;
    let ip = octi.add_entity(ipv4("8.8.8.8", Some(TLP_GREEN)));
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    assert!(octi.pings() >= 1);
    c.stop().await;
    assert!(
        octi.rejected().is_empty(),
        "operations rejected by the {version} schema: {:?}",
        octi.rejected()
    );
    assert_eq!(input["type"], "INTERNAL_ENRICHMENT");
    assert_eq!(input["playbook_compatible"], true);
    assert_eq!(input["id"], octi.connector_id.as_str());
    // Only fields this platform's RegisterConnectorInput has.
    let has_auto_update = input.get("auto_update").is_some();
    assert_eq!(has_auto_update, version != "6.4.5", "{input}");
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_and_processes_against_6_4_5_without_rejected_operations() {
    registration_against("6.4.5").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_and_processes_against_6_9_17_without_rejected_operations() {
    registration_against("6.9.17").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn manual_requests_with_and_without_stix_entity() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[], None);
    let ip = octi.add_entity(ipv4("8.8.4.4", Some(TLP_GREEN)));
    let (w1, w2) = (octi.new_work(), octi.new_work());
    octi.publish_request(&octi.manual_request(&w1, &ip, true))
        .await;
    octi.publish_request(&octi.manual_request(&w2, &ip, false))
        .await;
    for w in [&w1, &w2] {
        let rec = octi.wait_for_work(w).await;
        assert_eq!(rec.status, "complete");
        assert!(!rec.in_error, "{rec:?}");
        assert_eq!(rec.messages[0], "Connector ready to process the operation");
        assert!(
            rec.messages[1].contains("Observable has no indicators"),
            "{rec:?}"
        );
    }
    // Without stix_entity the connector read the entity through GraphQL.
    assert!(octi.calls().iter().any(|c| c == "ReadStix"));
    c.stop().await;
    assert!(octi.rejected().is_empty());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_requests_and_own_objects() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[], None);
    let ip = octi.add_entity(ipv4("1.1.1.1", None));
    let mut own = ipv4("1.0.0.1", None);
    own["created_by_ref"] = Value::String(connector_wazuh::stix::id::LEGACY_AUTHOR_ID.into());
    let own = octi.add_entity(own);
    let (w1, w2) = (octi.new_work(), octi.new_work());
    octi.publish_request(&octi.auto_request(&w1, &ip)).await;
    octi.publish_request(&octi.auto_request(&w2, &own)).await;
    let r1 = octi.wait_for_work(&w1).await;
    assert!(
        !r1.in_error && r1.messages[1].contains("Observable has no indicators"),
        "{r1:?}"
    );
    let r2 = octi.wait_for_work(&w2).await;
    assert!(
        !r2.in_error && r2.messages[1].starts_with("Automatic enrichment skipped"),
        "{r2:?}"
    );
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn amqp_push_carries_entity_and_new_objects_and_completes_the_work() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[], note());
    let ip = octi.add_entity(ipv4("9.9.9.9", Some(TLP_GREEN)));
    let w = octi.new_work();
    octi.publish_request(&octi.manual_request(&w, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w).await;
    assert!(!rec.in_error, "{rec:?}");
    let objs = octi.pushed_objects(&w);
    let ids: Vec<&str> = objs.iter().filter_map(|o| o["id"].as_str()).collect();
    assert!(
        ids.contains(&ip.as_str()) && ids.iter().any(|i| i.starts_with("note--")),
        "{ids:?}"
    );
    // Pre-split: one message per object, expectations announced before publishing, the
    // referenced entity before the note that refers to it.
    assert_eq!((rec.expected, rec.imported), (2, 2), "{rec:?}");
    let msgs = octi.push_messages();
    assert_eq!(msgs.len(), 2);
    assert!(msgs
        .iter()
        .all(|m| m["bundle"]["objects"].as_array().unwrap().len() == 1));
    assert_eq!(msgs[0]["bundle"]["objects"][0]["id"], ip.as_str());
    assert_eq!(msgs[1]["action_sequence"], 2);
    let m = &msgs[0];
    assert_eq!(m["bundle_type"], "QUEUE_BUNDLE");
    assert_eq!(m["applicant_id"], CONNECTOR_USER_ID);
    assert_eq!(m["work_id"], w.as_str());
    c.stop().await;
    assert!(octi.rejected().is_empty());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_push_mode_uses_stix_bundle_push() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[("CONNECTOR_QUEUE_PROTOCOL", "api")], note());
    let ip = octi.add_entity(ipv4("9.9.9.8", None));
    let w = octi.new_work();
    octi.publish_request(&octi.manual_request(&w, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w).await;
    assert!(!rec.in_error, "{rec:?}");
    let pushes = octi.api_pushes();
    assert_eq!(pushes.len(), 1);
    assert_eq!(pushes[0]["work_id"], w.as_str());
    assert_eq!(pushes[0]["connectorId"], octi.connector_id.as_str());
    assert_eq!(octi.pushed_objects(&w).len(), 2);
    assert!(
        octi.push_messages().is_empty(),
        "nothing may go through AMQP in api mode"
    );
    c.stop().await;
    assert!(octi.rejected().is_empty());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn playbook_requests_reply_with_incoming_plus_ours_and_no_work_calls() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[], note());
    let ip = octi.add_entity(ipv4("4.4.4.4", None));
    let red = octi.add_entity(ipv4("4.4.4.5", Some(TLP_RED)));
    octi.publish_request(&octi.playbook_request(&ip, "exec-1"))
        .await;
    octi.publish_request(&octi.playbook_request(&red, "exec-2"))
        .await;
    let replies = octi.wait_for_playbook_replies(2).await;
    let by_exec = |e: &str| {
        replies
            .iter()
            .find(|r| r["execution_id"] == e)
            .unwrap()
            .clone()
    };
    let ok = by_exec("exec-1");
    let bundle: Value = serde_json::from_str(ok["bundle"].as_str().unwrap()).unwrap();
    let ids: Vec<&str> = bundle["objects"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["id"].as_str())
        .collect();
    assert!(
        ids.contains(&ip.as_str()) && ids.iter().any(|i| i.starts_with("note--")),
        "{ids:?}"
    );
    assert!(ok["execution_start"].as_str().unwrap().ends_with("+00:00"));
    // Refused (TLP): the incoming bundle goes back unchanged.
    let refused = by_exec("exec-2");
    assert_eq!(refused["bundle"], refused["previous_bundle"]);
    assert!(
        !octi.calls().iter().any(|c| c.starts_with("Work")),
        "playbook requests have no work"
    );
    c.stop().await;
    assert!(octi.rejected().is_empty());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tlp_above_maximum_and_deleted_entity_end_the_work_in_error() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[("WAZUH_MAX_TLP", "TLP:AMBER")], note());
    let red = octi.add_entity(ipv4("5.5.5.5", Some(TLP_RED)));
    let gone = octi.add_entity(ipv4("5.5.5.6", None));
    octi.delete_entity(&gone);
    let (w1, w2) = (octi.new_work(), octi.new_work());
    octi.publish_request(&octi.manual_request(&w1, &red, true))
        .await;
    octi.publish_request(&octi.manual_request(&w2, &gone, false))
        .await;
    let r1 = octi.wait_for_work(&w1).await;
    assert!(
        r1.in_error && r1.errors[0].contains("TLP:RED") && r1.errors[0].contains("TLP:AMBER"),
        "{r1:?}"
    );
    let r2 = octi.wait_for_work(&w2).await;
    assert!(
        r2.in_error && r2.errors[0].contains("deleted or is not visible"),
        "{r2:?}"
    );
    assert!(octi.pushed_objects(&w1).is_empty() && octi.pushed_objects(&w2).is_empty());
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreadable_messages_are_acked_reported_and_do_not_stop_the_consumer() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[], None);
    octi.publish_raw(b"this is not json").await;
    let w_bad = octi.new_work();
    octi.publish_request(
        &serde_json::json!({"internal": {"work_id": w_bad}, "event": {"entity_type": "IPv4-Addr"}}),
    )
    .await;
    let ip = octi.add_entity(ipv4("6.6.6.6", None));
    let w_ok = octi.new_work();
    octi.publish_request(&octi.manual_request(&w_ok, &ip, true))
        .await;
    let bad = octi.wait_for_work(&w_bad).await;
    assert!(
        bad.in_error && bad.errors[0].contains("entity_id"),
        "{bad:?}"
    );
    let ok = octi.wait_for_work(&w_ok).await;
    assert!(!ok.in_error);
    let conn = crate::testkit::rabbit::connect().await;
    assert_eq!(
        crate::testkit::rabbit::depth(&conn, &octi.listen_queue()).await,
        0,
        "every message acked"
    );
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opencti_500_on_to_processed_is_retried_not_lost() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[], note());
    octi.fail_next("WorkToProcessed", 2, FailMode::Status500);
    let ip = octi.add_entity(ipv4("7.7.7.7", None));
    let w = octi.new_work();
    octi.publish_request(&octi.manual_request(&w, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w).await;
    assert!(!rec.in_error, "{rec:?}");
    assert_eq!(rec.processed_calls, 1, "the end is reported exactly once");
    assert_eq!(
        octi.calls()
            .iter()
            .filter(|c| *c == "WorkToProcessed")
            .count(),
        3,
        "two 500s, then success"
    );
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_that_keeps_failing_ends_in_error_after_max_attempts() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(
        &octi,
        &[("CONNECTOR_MAX_ATTEMPTS", "3")],
        Some(Arc::new(crate::testkit::connector::DownEnricher)),
    );
    let ip = octi.add_entity(ipv4("3.3.3.3", None));
    let w = octi.new_work();
    octi.publish_request(&octi.manual_request(&w, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w).await;
    assert!(rec.in_error, "{rec:?}");
    assert_eq!(rec.received, 3, "three attempts: {rec:?}");
    assert!(
        rec.errors[0].starts_with("Gave up after 3 attempt(s)"),
        "{rec:?}"
    );
    let conn = crate::testkit::rabbit::connect().await;
    assert_eq!(
        crate::testkit::rabbit::depth(&conn, &octi.listen_queue()).await,
        0,
        "acked at the end"
    );
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_pings_and_bundles() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let port = crate::testkit::connector::free_port().to_string();
    let c = spawn(
        &octi,
        &[
            ("CONNECTOR_EXPOSE_METRICS", "true"),
            ("CONNECTOR_METRICS_HOST", "127.0.0.1"),
            ("CONNECTOR_METRICS_PORT", &port),
        ],
        note(),
    );
    let ip = octi.add_entity(ipv4("2.2.2.2", None));
    let w = octi.new_work();
    octi.publish_request(&octi.manual_request(&w, &ip, true))
        .await;
    octi.wait_for_work(&w).await;
    let text = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let value = |name: &str| -> f64 {
        text.lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{name} missing in\n{text}"))
    };
    assert_eq!(
        value("bundles_sent_total"),
        2.0,
        "entity + note, one message each"
    );
    assert!(value("ping_api_total") >= 1.0);
    assert_eq!(value("runs_total"), 1.0);
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_push_on_6_4_falls_back_to_the_form_without_work_id() {
    let octi = FakeOpenCti::start("6.4.5").await;
    let c = spawn(&octi, &[("CONNECTOR_QUEUE_PROTOCOL", "api")], note());
    let ip = octi.add_entity(ipv4("9.9.9.7", None));
    let w = octi.new_work();
    octi.publish_request(&octi.manual_request(&w, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w).await;
    assert!(!rec.in_error, "{rec:?}");
    let pushes = octi.api_pushes();
    assert_eq!(pushes.len(), 1);
    assert!(pushes[0].get("work_id").is_none(), "{:?}", pushes[0]);
    // Exactly one refused operation: the first stixBundlePush with work_id, by design.
    let rejected = octi.take_rejected();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    assert!(rejected[0].contains("work_id"));
    c.stop().await;
    octi.cleanup().await;
}
