//! The test OpenCTI refuses what the platform refuses, so a connector that sends it would fail
//! against a real OpenCTI fails here too: variables are coerced against the operation's variable
//! definitions and the schema of the version under test (wrong scalar, missing required
//! variable, an input field that version does not have, a malformed `DateTime`), and a root field
//! the test platform does not implement is an error, never a placeholder answer.

use serde_json::{json, Value};

use crate::testkit::fake_opencti::FakeOpenCti;

const ADD_EXPECTATIONS: &str = "mutation AddExpectations($id: ID!, $expectations: Int) {
  workEdit(id: $id) { addExpectations(expectations: $expectations) }
}";
const REGISTER: &str = "mutation RegisterConnector($input: RegisterConnectorInput) {
  registerConnector(input: $input) { id }
}";
const PING: &str = "mutation PingConnector($id: ID!, $info: ConnectorInfoInput) {
  pingConnector(id: $id, connectorInfo: $info) { id }
}";

/// Posts one GraphQL request as the connector does; returns the HTTP status and the body.
pub(crate) async fn post(octi: &FakeOpenCti, query: &str, variables: Value) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(format!("{}/graphql", octi.url))
        .bearer_auth(&octi.token)
        .json(&json!({"query": query, "variables": variables}))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// The request was refused as a request error: no `data`, one error with `code`, and the
/// platform's record of refused requests holds it.
fn assert_refused(octi: &FakeOpenCti, (status, body): &(u16, Value), code: &str, needle: &str) {
    assert!(body.get("data").is_none(), "{status} {body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], code, "{body}");
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains(needle), "{message}");
    let rejected = octi.take_rejected();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
}

fn accepted(octi: &FakeOpenCti, (status, body): &(u16, Value)) -> Value {
    assert_eq!(*status, 200, "{body}");
    assert!(body.get("errors").is_none(), "{body}");
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    body["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_and_missing_variables_are_refused() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let work = octi.new_work();

    let ok = post(
        &octi,
        ADD_EXPECTATIONS,
        json!({"id": work, "expectations": 3}),
    )
    .await;
    let data = accepted(&octi, &ok);
    assert_eq!(data["workEdit"]["addExpectations"], work.as_str());
    assert_eq!(octi.work(&work).unwrap().expected, 3);

    let wrong = post(
        &octi,
        ADD_EXPECTATIONS,
        json!({"id": work, "expectations": "3"}),
    )
    .await;
    assert_refused(&octi, &wrong, "BAD_USER_INPUT", "variable expectations");
    let too_big = post(
        &octi,
        ADD_EXPECTATIONS,
        json!({"id": work, "expectations": 1u64 << 40}),
    )
    .await;
    assert_refused(&octi, &too_big, "BAD_USER_INPUT", "variable expectations");
    let missing = post(&octi, ADD_EXPECTATIONS, json!({"expectations": 1})).await;
    assert_refused(&octi, &missing, "BAD_USER_INPUT", "variable 'id'");
    let not_an_object = post(&octi, ADD_EXPECTATIONS, json!([work, 1])).await;
    assert_refused(&octi, &not_an_object, "BAD_USER_INPUT", "variables");
    assert_eq!(
        octi.work(&work).unwrap().expected,
        3,
        "a refused call changed the work"
    );

    // Custom scalars are checked too: `DateTime` is an RFC 3339 date-time.
    let info = |when: &str| {
        json!({"run_and_terminate": false, "buffering": false, "queue_threshold": 0,
               "queue_messages_size": 0, "last_run_datetime": when})
    };
    let id = octi.connector_id.clone();
    let ok = post(
        &octi,
        PING,
        json!({"id": id, "info": info("2026-12-04T10:00:00.000Z")}),
    )
    .await;
    accepted(&octi, &ok);
    let bad_date = post(&octi, PING, json!({"id": id, "info": info("last tuesday")})).await;
    assert_refused(&octi, &bad_date, "BAD_USER_INPUT", "DateTime");
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_input_field_is_refused_by_the_versions_that_lack_it() {
    let input = json!({"input": {"id": uuid::Uuid::new_v4().to_string(), "name": "Wazuh",
        "type": "INTERNAL_ENRICHMENT", "scope": ["IPv4-Addr"], "auto": false,
        "auto_update": false, "playbook_compatible": true}});
    // `auto_update` is in RegisterConnectorInput since 6.6, not in 6.4.
    let old = FakeOpenCti::start("6.4.5").await;
    let refused = post(&old, REGISTER, input.clone()).await;
    assert_refused(&old, &refused, "BAD_USER_INPUT", "auto_update");
    assert!(
        old.registrations().is_empty(),
        "a refused registration was recorded"
    );
    old.cleanup().await;

    let new = FakeOpenCti::start("6.9.17").await;
    let ok = post(&new, REGISTER, input).await;
    assert_eq!(
        accepted(&new, &ok)["registerConnector"]["id"],
        new.connector_id.as_str()
    );
    assert_eq!(new.registrations().len(), 1);
    new.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_root_field_the_test_platform_does_not_implement_is_an_error() {
    let octi = FakeOpenCti::start("6.9.17").await;
    // Valid against the schema, but the test platform has no answer for it.
    let r = post(&octi, "query Me { me { id } }", json!({})).await;
    assert_refused(&octi, &r, "UNSUPPORTED_BY_TEST_OPENCTI", "me");
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "the test OpenCTI refused 1 request")]
async fn a_refused_request_fails_the_test_that_sent_it() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let (status, _) = post(&octi, "query Nope { nope }", json!({})).await;
    assert_eq!(status, 400);
    // Dropping the platform (here at the end of cleanup) fails the test.
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[should_panic(expected = "worker refused 3 object(s)")]
async fn an_object_the_worker_refuses_fails_the_test_that_sent_it() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let work = octi.new_work();
    let bundle = json!({"type": "bundle", "id": format!("bundle--{}", uuid::Uuid::new_v4()),
    "objects": [
        {"type": "no-such-type", "spec_version": "2.1", "id": format!("no-such-type--{}", uuid::Uuid::new_v4())},
        {"type": "note", "spec_version": "2.1", "id": "note--not-a-uuid", "content": "x",
         "object_refs": [format!("ipv4-addr--{}", uuid::Uuid::new_v4())]},
    ]});
    let push = "mutation Push($id: String!, $bundle: String!, $work: String) {
      stixBundlePush(connectorId: $id, bundle: $bundle, work_id: $work)
    }";
    let vars = json!({"id": octi.connector_id, "bundle": bundle.to_string(), "work": work});
    let ok = post(&octi, push, vars).await;
    accepted(&octi, &ok);
    // Unknown type, invalid id, dangling reference: the platform goes away failing the test.
    octi.cleanup().await;
}
