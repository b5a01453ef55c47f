//! Every object the daemon sends has the id OpenCTI computes for it and is valid STIX 2.1, over
//! a multi-type run against the sample alerts (real osmem-server, RabbitMQ, the production
//! pipeline) and over every kind of object knowledge building emits; enriching the same
//! observable again sends the same ids.
//!
//! The ids are recomputed, and the bundles validated, by `tests/python/stix_check.py` with pycti
//! 7 and the OASIS `stix2-validator` (the interpreter in `CONNECTOR_TEST_PYTHON`, which
//! `scripts/test` creates).

use std::collections::BTreeSet;
use std::process::Stdio;

use crate::testkit::e2e::{connector, pushed};
use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::osmem::Osmem;
use connector_wazuh::stix::id;
use serde_json::{json, Value};
use tokio::io::AsyncWriteExt;

/// What `stix_check.py` reports.
struct Check {
    report: Value,
}

/// Runs the pycti/validator check over `bundles`; `None` (test skipped) without a Python outside
/// CI, a failure in CI, where `scripts/test` provides it.
async fn pycti_check(bundles: &[Vec<Value>], skip_ids: &BTreeSet<String>) -> Option<Check> {
    let Ok(python) = std::env::var("CONNECTOR_TEST_PYTHON") else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CONNECTOR_TEST_PYTHON is not set: run the tests through scripts/test, which creates \
             the Python environment (scripts/pyenv) with pycti 7 and stix2-validator"
        );
        eprintln!("skipped: CONNECTOR_TEST_PYTHON is not set (see scripts/pyenv)");
        return None;
    };
    let input = json!({"bundles": bundles, "skip_ids": skip_ids});
    let mut child = tokio::process::Command::new(&python)
        .arg("tests/python/stix_check.py")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {python}: {e}"));
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(input.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert!(
        out.status.success(),
        "stix_check.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(Check {
        report: serde_json::from_slice(&out.stdout).unwrap(),
    })
}

/// 218.92.0.222 is in four alerts on four agents, 1.1.1.1 in others; the file hash, the registry key (written with
/// the abbreviated hive in the alert) and the domain are in others.
fn entities() -> Vec<Value> {
    let sco = |t: &str, props: Value| {
        let mut o = props.clone();
        o["type"] = json!(t);
        o["spec_version"] = json!("2.1");
        o["id"] = json!(id::sco(t, &props));
        o
    };
    vec![
        sco("ipv4-addr", json!({"value": "218.92.0.222"})),
        sco("ipv4-addr", json!({"value": "1.1.1.1"})),
        sco(
            "file",
            json!({"hashes": {"MD5": "44d88612fea8a8f36de82e1278abb02f"}}),
        ),
        sco(
            "windows-registry-key",
            json!({"key": r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Run\Java-Update"}),
        ),
        sco("domain-name", json!({"value": "qouv.fr"})),
        sco(
            "domain-name",
            json!({"value": "img-s-msn-com.akamaized.net"}),
        ),
    ]
}

/// Enriches `entity` manually and returns the objects pushed for it.
async fn enrich(octi: &FakeOpenCti, entity: &str) -> Vec<Value> {
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, entity, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{entity}: {rec:?}");
    pushed(octi, &work).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_id_is_pyctis_and_every_bundle_valid_stix_over_a_multi_type_run() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    octi.set_tools(&["Hydra"]);
    let c = connector(
        &octi,
        &os.url,
        &[
            ("WAZUH_CREATE_INCIDENT", "per-alert"),
            ("WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS", "false"),
            ("WAZUH_OPENSEARCH_EXCLUDE_SAMPLE_DATA", "false"),
        ],
    );
    let mut given: BTreeSet<String> = BTreeSet::new();
    let mut bundles = Vec::new();
    for e in entities() {
        let eid = octi.add_entity(e);
        given.insert(eid.clone());
        let objects = enrich(&octi, &eid).await;
        assert!(objects.len() > 1, "{eid}: nothing found");
        bundles.push(objects);
    }
    let types: BTreeSet<&str> = bundles
        .iter()
        .flatten()
        .filter_map(|o| o["type"].as_str())
        .collect();
    for t in [
        "identity",
        "sighting",
        "relationship",
        "incident",
        "case-incident",
        "note",
        "windows-registry-key",
    ] {
        assert!(types.contains(t), "no {t} in the run: {types:?}");
    }
    let Some(check) = pycti_check(&bundles, &given).await else {
        c.stop().await;
        octi.cleanup().await;
        return;
    };
    let r = &check.report;
    eprintln!("checked {} objects of types {types:?}", r["checked"]);
    assert!(r["checked"].as_u64().unwrap() > 50, "{r}");
    assert_eq!(
        r["mismatches"],
        json!([]),
        "ids pycti computes differently: {r}"
    );
    assert_eq!(r["no_recipe"], json!([]), "{r}");
    assert_eq!(r["validator_errors"], json!([]), "OASIS validator: {r}");
    // The registry key is sent with its full hive name, though the alert abbreviates it.
    assert!(bundles
        .iter()
        .flatten()
        .any(|o| o["type"] == "windows-registry-key"
            && o["key"]
                .as_str()
                .unwrap()
                .starts_with(r"HKEY_LOCAL_MACHINE\")));
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test]
async fn every_id_of_every_kind_emitted_is_pyctis() {
    // Every kind of object the connector emits (reference scenarios, the sample alerts and more
    // in each incident mode), beyond what one run against the sample alerts produces.
    let bundles: Vec<Vec<Value>> = crate::testkit::knowledge::emitted_bundles()
        .into_iter()
        .map(|(_, objects)| objects)
        .collect();
    let kinds: BTreeSet<&str> = bundles
        .iter()
        .flatten()
        .filter_map(|o| o["type"].as_str())
        .collect();
    assert!(kinds.contains("process") && kinds.len() > 20, "{kinds:?}");
    let Some(check) = pycti_check(&bundles, &BTreeSet::new()).await else {
        return;
    };
    let r = &check.report;
    assert_eq!(
        r["mismatches"],
        json!([]),
        "ids pycti computes differently: {r}"
    );
    assert_eq!(r["no_recipe"], json!([]), "{r}");
    assert_eq!(r["validator_errors"], json!([]), "OASIS validator: {r}");
    eprintln!("checked {} objects of {} kinds", r["checked"], kinds.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enriching_again_against_the_same_alerts_sends_the_same_ids() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = connector(
        &octi,
        &os.url,
        &[
            ("WAZUH_CREATE_INCIDENT", "per-sighting"),
            ("WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS", "false"),
        ],
    );
    let ip = octi.add_entity(entities().remove(0));
    let ids = |objects: Vec<Value>| -> BTreeSet<String> {
        objects
            .iter()
            .map(|o| o["id"].as_str().unwrap().to_string())
            .collect()
    };
    let first = ids(enrich(&octi, &ip).await);
    // A later run: only the clock differs.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = ids(enrich(&octi, &ip).await);
    assert!(first.len() > 10, "{first:?}");
    assert_eq!(first, second);
    c.stop().await;
    octi.cleanup().await;
}
