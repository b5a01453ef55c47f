//! The re-enrichment cool-down end to end (real RabbitMQ, the test OpenCTI): inside the window an
//! automatic request for an entity just enriched is answered without a search, its work completed
//! with the reason; a manual request, a playbook step and another entity still run; without the
//! option, nothing is skipped.

use std::sync::Arc;
use std::time::Duration;

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::{ipv4, FakeOpenCti, WorkRecord};

fn note() -> Option<Arc<dyn connector_wazuh::pipeline::Enricher>> {
    Some(Arc::new(NoteEnricher {
        delay: Duration::ZERO,
    }))
}

/// One automatic request for `entity`, waited for; returns its work id and record.
async fn auto(octi: &FakeOpenCti, entity: &str) -> (String, WorkRecord) {
    let w = octi.new_work();
    octi.publish_request(&octi.auto_request(&w, entity)).await;
    let rec = octi.wait_for_work(&w).await;
    assert!(!rec.in_error, "{rec:?}");
    (w, rec)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_requests_inside_the_cool_down_are_answered_without_a_search() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(
        &octi,
        &[("CONNECTOR_AUTO_ENRICHMENT_COOLDOWN", "30m")],
        note(),
    );
    let ip = octi.add_entity(ipv4("5.5.5.5", None));
    let other = octi.add_entity(ipv4("5.5.5.6", None));

    let (w1, _) = auto(&octi, &ip).await;
    assert_eq!(octi.pushed_objects(&w1).len(), 2, "the first one searches");

    let (w2, rec) = auto(&octi, &ip).await;
    let last = rec.messages.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("Automatic enrichment skipped: the entity was enriched")
            && last.contains("cool-down of 30m (CONNECTOR_AUTO_ENRICHMENT_COOLDOWN)"),
        "{rec:?}"
    );
    assert_eq!(rec.status, "complete", "{rec:?}");
    assert!(
        octi.pushed_objects(&w2).is_empty(),
        "nothing sent when skipped"
    );

    // Another entity is not affected.
    let (w3, _) = auto(&octi, &other).await;
    assert_eq!(octi.pushed_objects(&w3).len(), 2);

    // A user asking always gets a search.
    let w4 = octi.new_work();
    octi.publish_request(&octi.manual_request(&w4, &ip, true))
        .await;
    let rec = octi.wait_for_work(&w4).await;
    assert!(!rec.in_error, "{rec:?}");
    assert_eq!(octi.pushed_objects(&w4).len(), 2);

    // So does a playbook step.
    octi.publish_request(&octi.playbook_request(&ip, "exec-cooldown"))
        .await;
    let replies = octi.wait_for_playbook_replies(1).await;
    let objects = replies[0]["bundle"].to_string();
    assert!(
        objects.contains("note--"),
        "the playbook got no search result: {objects}"
    );

    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_option_every_automatic_request_searches() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = spawn(&octi, &[], note());
    let ip = octi.add_entity(ipv4("5.5.5.7", None));
    for _ in 0..2 {
        let (w, _) = auto(&octi, &ip).await;
        assert_eq!(octi.pushed_objects(&w).len(), 2);
    }
    c.stop().await;
    octi.cleanup().await;
}
