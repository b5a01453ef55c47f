//! `CONNECTOR_ENRICHMENT_RESOLUTION` end to end (real RabbitMQ, the test OpenCTI): the mode is
//! registered where the platform's schema has the field, the platform then sends the request
//! shape of that mode, and in every mode the connector gets the entity — from the request when
//! it is there, over GraphQL when it is not — and completes the work with its results. On a
//! platform without the field the setting is left out of the registration (which would
//! otherwise be refused) and the request the platform sends still works.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value};

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::fake_opencti::{ipv4, FakeOpenCti, TLP_GREEN};
use crate::testkit::platform::{registered_resolution, resolved_request};

fn note() -> Option<Arc<dyn connector_wazuh::pipeline::Enricher>> {
    Some(Arc::new(NoteEnricher {
        delay: Duration::ZERO,
    }))
}

/// The feed that created the entity: what a platform bundle carries besides the entity.
fn author() -> Value {
    json!({"type": "identity", "spec_version": "2.1", "id": format!("identity--{}", uuid::Uuid::new_v4()),
        "name": "Some feed", "identity_class": "organization",
        "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z"})
}

/// What one request in `mode` on platform `version` gave: the registered input, the resolution
/// the platform applied, the GraphQL reads of the entity, and the objects sent back.
struct Seen {
    registered: Value,
    applied: String,
    entity_reads: usize,
    pushed: Vec<Value>,
    entity: String,
    author: String,
}

async fn run(version: &str, mode: &str) -> Seen {
    let octi = FakeOpenCti::start(version).await;
    let c = spawn(&octi, &[("CONNECTOR_ENRICHMENT_RESOLUTION", mode)], note());
    let registered = octi.wait_for_registration().await;
    let ip = octi.add_entity(ipv4("6.6.6.1", Some(TLP_GREEN)));
    let a = author();
    let work = octi.new_work();
    let reads_before = stix_reads(&octi);
    octi.publish_request(&resolved_request(
        &octi,
        &work,
        &ip,
        std::slice::from_ref(&a),
    ))
    .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{mode} on {version}: {rec:?}");
    assert_eq!(rec.status, "complete", "{mode} on {version}: {rec:?}");
    let seen = Seen {
        registered,
        applied: registered_resolution(&octi),
        entity_reads: stix_reads(&octi) - reads_before,
        pushed: octi.pushed_objects(&work),
        entity: ip,
        author: a["id"].as_str().unwrap_or_default().to_string(),
    };
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
    seen
}

fn stix_reads(octi: &FakeOpenCti) -> usize {
    octi.calls().iter().filter(|c| *c == "ReadStix").count()
}

fn ids(objects: &[Value]) -> Vec<&str> {
    objects.iter().filter_map(|o| o["id"].as_str()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_registered_and_the_entity_comes_from_the_request() {
    let s = run("6.9.17", "none").await;
    assert_eq!(s.registered["enrichment_resolution"], "none");
    assert_eq!(s.applied, "none");
    assert_eq!(s.entity_reads, 0, "the entity was in the request");
    let ids = ids(&s.pushed);
    assert!(ids.contains(&s.entity.as_str()), "{ids:?}");
    assert!(
        !ids.contains(&s.author.as_str()),
        "no bundle was sent: {ids:?}"
    );
    assert!(ids.iter().any(|i| i.starts_with("note--")), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stix_bundle_registered_and_the_bundle_is_sent_back_with_the_results() {
    let s = run("6.9.17", "stix_bundle").await;
    assert_eq!(s.registered["enrichment_resolution"], "stix_bundle");
    assert_eq!(s.entity_reads, 0, "the entity was in the request");
    let ids = ids(&s.pushed);
    for want in [s.entity.as_str(), s.author.as_str()] {
        assert!(ids.contains(&want), "{want} missing from {ids:?}");
    }
    assert!(ids.iter().any(|i| i.starts_with("note--")), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deferred_registered_and_the_entity_is_read_over_graphql() {
    let s = run("6.9.17", "deferred").await;
    assert_eq!(s.registered["enrichment_resolution"], "deferred");
    assert!(
        s.entity_reads >= 1,
        "the request had no entity: it must be read"
    );
    let ids = ids(&s.pushed);
    assert!(ids.iter().any(|i| i.starts_with("note--")), "{ids:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn before_6_8_the_setting_is_left_out_and_requests_still_work() {
    // 6.6 has no `enrichment_resolution` input field: sending it would make registration fail.
    let s = run("6.6.10", "deferred").await;
    assert!(
        s.registered.get("enrichment_resolution").is_none(),
        "{}",
        s.registered
    );
    // Such a platform sends the entity and its bundle.
    assert_eq!(s.applied, "stix_bundle");
    assert_eq!(s.entity_reads, 0);
    assert!(ids(&s.pushed).contains(&s.author.as_str()));
}
