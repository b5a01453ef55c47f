//! The test OpenCTI's continuous-hunting support (`testkit::fake_opencti::hunt`): the indicator
//! listing (filters, `updated_at` order, cursor paging), `workAdd` with a name, and the
//! connector's state (stored by pings, returned by registration, reset like the platform), with
//! the exact operations the connector sends, valid on every schema version.

use serde_json::{json, Value};

use connector_wazuh::opencti::operations::{HUNT_INDICATORS, HUNT_WORK_ADD};

use crate::testkit::fake_opencti::hunt::{FAR_FUTURE, READ_CONNECTOR_STATE};
use crate::testkit::fake_opencti::{
    schema, validate_operation, FakeOpenCti, SCHEMA_VERSIONS, TLP_GREEN,
};

const PING: &str = connector_wazuh::opencti::operations::PING_CONNECTOR;
const REGISTER: &str = connector_wazuh::opencti::operations::REGISTER_CONNECTOR;
const TO_PROCESSED: &str = connector_wazuh::opencti::operations::WORK_TO_PROCESSED;

/// One GraphQL request as the connector sends it; the platform answers 200 even to errors.
async fn post(octi: &FakeOpenCti, query: &str, variables: Value) -> Value {
    let (status, body) = super::test_opencti::post(octi, query, variables).await;
    assert_eq!(status, 200);
    body
}

async fn data(octi: &FakeOpenCti, query: &str, variables: Value) -> Value {
    let body = post(octi, query, variables).await;
    assert!(body.get("errors").is_none(), "{body}");
    body["data"].clone()
}

fn filter(key: &str, op: &str, value: &str) -> Value {
    json!({"key": [key], "values": [value], "operator": op, "mode": "or"})
}

fn group(filters: Vec<Value>) -> Value {
    json!({"mode": "and", "filters": filters, "filterGroups": []})
}

/// Every page of the listing with `first`; returns the node ids in order and the page count.
async fn list_all(octi: &FakeOpenCti, first: i64, filters: Value) -> (Vec<Value>, usize) {
    let (mut nodes, mut pages, mut after) = (Vec::new(), 0, Value::Null);
    loop {
        let vars = json!({"first": first, "after": after, "filters": filters});
        let d = data(octi, HUNT_INDICATORS, vars).await;
        let conn = &d["indicators"];
        pages += 1;
        nodes.extend(
            conn["edges"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["node"].clone()),
        );
        if conn["pageInfo"]["hasNextPage"] != true {
            return (nodes, pages);
        }
        after = conn["pageInfo"]["endCursor"].clone();
    }
}

fn ids(nodes: &[Value]) -> Vec<String> {
    nodes
        .iter()
        .map(|n| n["id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_hunting_operations_validate_on_every_version() {
    for v in SCHEMA_VERSIONS {
        for op in [HUNT_INDICATORS, HUNT_WORK_ADD, READ_CONNECTOR_STATE, PING] {
            validate_operation(schema(v), op).unwrap_or_else(|e| panic!("{v}: {e}\n{op}"));
        }
        // `connector(id:)` takes a String!, not an ID!.
        let with_id = READ_CONNECTOR_STATE.replace("$id: String!", "$id: ID!");
        assert!(validate_operation(schema(v), &with_id).is_err(), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicators_are_listed_filtered_and_paged_by_updated_at() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let added: Vec<String> = (0..5)
        .map(|n| {
            let marking = (n == 0).then_some(TLP_GREEN);
            octi.add_hunt_indicator(&format!("[ipv4-addr:value = '10.0.0.{n}']"), marking)
        })
        .collect();

    // Five indicators, two a page: three pages, in the order they were added.
    let (nodes, pages) = list_all(&octi, 2, Value::Null).await;
    assert_eq!((ids(&nodes), pages), (added.clone(), 3));
    let calls = octi.calls();
    assert_eq!(calls.iter().filter(|c| *c == "HuntIndicators").count(), 3);
    let n0 = &nodes[0];
    assert_eq!(n0["pattern"], "[ipv4-addr:value = '10.0.0.0']");
    assert_eq!(n0["pattern_type"], "stix");
    assert_eq!(
        (n0["revoked"].clone(), n0["valid_until"].clone()),
        (json!(false), json!(FAR_FUTURE))
    );
    assert_eq!(
        (
            n0["x_opencti_score"].clone(),
            n0["x_opencti_detection"].clone()
        ),
        (json!(50), json!(false))
    );
    assert_eq!(
        n0["objectMarking"],
        json!([{"id": TLP_GREEN, "standard_id": TLP_GREEN, "definition_type": "TLP", "definition": "TLP:GREEN"}])
    );
    assert_eq!(nodes[1]["objectMarking"], json!([]));
    let last_seen = nodes[4]["updated_at"].as_str().unwrap().to_string();
    assert_eq!(octi.indicator_updated_at(&added[4]).unwrap(), last_seen);

    // A change bumps updated_at: the revoked one is the only one updated since, and moves last.
    octi.revoke_indicator(&added[1]);
    let since = |t: &str| group(vec![filter("updated_at", "gt", t)]);
    let (changed, _) = list_all(&octi, 2, since(&last_seen)).await;
    assert_eq!(ids(&changed), vec![added[1].clone()]);
    assert_eq!(changed[0]["revoked"], true);
    let gte = group(vec![filter("updated_at", "gte", &last_seen)]);
    assert_eq!(
        ids(&list_all(&octi, 10, gte).await.0),
        vec![added[4].clone(), added[1].clone()]
    );
    let live = group(vec![filter("revoked", "eq", "false")]);
    let (alive, _) = list_all(&octi, 2, live.clone()).await;
    assert_eq!(
        ids(&alive),
        vec![
            added[0].clone(),
            added[2].clone(),
            added[3].clone(),
            added[4].clone()
        ]
    );

    // The connector's filter: not revoked, still valid, changed since a date; score, detection.
    octi.update_indicator(
        &added[2],
        json!({"valid_until": "2020-01-01T00:00:00.000Z"}),
    );
    octi.update_indicator(
        &added[3],
        json!({"x_opencti_score": 80, "x_opencti_detection": true}),
    );
    let hunt = group(vec![
        filter("revoked", "eq", "false"),
        filter("valid_until", "gt", "2026-01-01T00:00:00.000Z"),
        filter("updated_at", "gt", "2000-01-01T00:00:00Z"),
    ]);
    assert_eq!(
        ids(&list_all(&octi, 5000, hunt).await.0),
        vec![added[0].clone(), added[4].clone(), added[3].clone()]
    );
    let scored = group(vec![
        filter("x_opencti_score", "gte", "70"),
        filter("x_opencti_detection", "eq", "true"),
    ]);
    assert_eq!(
        ids(&list_all(&octi, 5, scored).await.0),
        vec![added[3].clone()]
    );

    // A deleted indicator is gone from the listing.
    octi.delete_entity(&added[0]);
    let (alive, _) = list_all(&octi, 2, live).await;
    assert!(!ids(&alive).contains(&added[0]), "{alive:?}");
    assert_eq!(alive.len(), 3);

    // A filter the test platform does not implement is an error the test sees.
    let body = post(
        &octi,
        HUNT_INDICATORS,
        json!({"first": 2, "filters": group(vec![filter("name", "eq", "x")])}),
    )
    .await;
    assert!(body.get("data").is_none(), "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "UNSUPPORTED_BY_TEST_OPENCTI"
    );
    assert_eq!(octi.take_rejected().len(), 1);
    let too_many = post(&octi, HUNT_INDICATORS, json!({"first": 5001})).await;
    assert!(too_many.get("errors").is_some(), "{too_many}");
    assert_eq!(octi.take_rejected().len(), 1);
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn work_add_creates_a_named_work_and_pings_keep_the_state() {
    let octi = FakeOpenCti::start("6.4.5").await;
    let id = octi.connector_id.clone();

    // workAdd: a work the test finds by its name and waits for like any other.
    let vars = json!({"connectorId": id, "friendlyName": "Hunt cycle 1"});
    let work = data(&octi, HUNT_WORK_ADD, vars).await["workAdd"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        octi.works_named("Hunt cycle"),
        vec![(work.clone(), "Hunt cycle 1".to_string())]
    );
    assert!(octi.works_named("Other").is_empty());
    assert_eq!(octi.work(&work).unwrap().status, "wait");
    data(
        &octi,
        TO_PROCESSED,
        json!({"id": work, "message": "done", "inError": false}),
    )
    .await;
    assert_eq!(octi.wait_for_work(&work).await.status, "complete");

    // The state: null at first; a ping stores what it carries and gets it back.
    let input = json!({"input": {"id": id, "name": "Wazuh", "type": "INTERNAL_ENRICHMENT",
        "scope": ["IPv4-Addr"], "auto": false, "playbook_compatible": true}});
    let registered = data(&octi, REGISTER, input.clone()).await;
    assert_eq!(
        registered["registerConnector"]["connector_state"],
        Value::Null
    );
    let ping = |state: Value| json!({"id": id, "state": state});
    let st = r#"{"last_updated_at":"2026-12-04T10:00:00.000Z"}"#;
    let pinged = data(&octi, PING, ping(json!(st))).await;
    assert_eq!(pinged["pingConnector"]["connector_state"], st);
    assert_eq!(octi.connector_state().as_deref(), Some(st));
    let read = data(&octi, READ_CONNECTOR_STATE, json!({"id": id})).await;
    assert_eq!(
        (
            &read["connector"]["id"],
            &read["connector"]["connector_state"]
        ),
        (&json!(id), &json!(st))
    );
    let registered = data(&octi, REGISTER, input.clone()).await;
    assert_eq!(registered["registerConnector"]["connector_state"], st);
    let pinged = data(&octi, PING, ping(json!("null"))).await;
    assert_eq!(pinged["pingConnector"]["connector_state"], "null");

    // A reset (as the platform's): the state is "" at once, the next ping's state is not
    // stored (it gets "" back), the one after is.
    octi.reset_connector_state();
    assert_eq!(octi.connector_state().as_deref(), Some(""));
    let pinged = data(&octi, PING, ping(json!(st))).await;
    assert_eq!(pinged["pingConnector"]["connector_state"], "");
    assert_eq!(octi.connector_state().as_deref(), Some(""));
    let pinged = data(&octi, PING, ping(json!("{}"))).await;
    assert_eq!(pinged["pingConnector"]["connector_state"], "{}");

    // A state left by a previous run is what a new registration gets.
    octi.set_connector_state(Some(st));
    let registered = data(&octi, REGISTER, input).await;
    assert_eq!(registered["registerConnector"]["connector_state"], st);
    octi.set_connector_state(None);
    assert_eq!(octi.connector_state(), None);
    octi.cleanup().await;
}
