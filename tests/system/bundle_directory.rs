//! The bundle directory end to end (real RabbitMQ, osmem-server, the test OpenCTI, the connector
//! in-process): every bundle sent is also a JSON file holding exactly what OpenCTI received;
//! `CONNECTOR_SEND_TO_QUEUE=false` writes files and sends nothing while the work still completes;
//! the retention deletes old files; a directory that does not exist stops the start-up.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::testkit::connector::{spawn, NoteEnricher};
use crate::testkit::e2e::*;
use crate::testkit::fake_opencti::{ipv4, FakeOpenCti};

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cw-bundles-{tag}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&d).expect("create the bundle directory");
    d
}

/// The bundle files in `dir` (name, parsed content), by name.
fn bundle_files(dir: &Path) -> Vec<(String, Value)> {
    let mut files: Vec<(String, Value)> = std::fs::read_dir(dir)
        .expect("list the bundle directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .map(|n| {
            let text = std::fs::read_to_string(dir.join(&n)).expect("read a bundle file");
            (
                n,
                serde_json::from_str(&text).expect("a bundle file is JSON"),
            )
        })
        .collect();
    files.sort_by(|a, b| a.0.cmp(&b.0));
    files
}

fn sorted_by_id(mut objects: Vec<Value>) -> Vec<Value> {
    objects.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    objects
}

fn directory_env(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("CONNECTOR_SEND_TO_DIRECTORY", "true".into()),
        (
            "CONNECTOR_SEND_TO_DIRECTORY_PATH",
            dir.display().to_string(),
        ),
    ]
}

fn borrowed<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_sent_bundle_is_a_file_holding_what_opencti_received() {
    let value = "185.220.101.41";
    let (alerts, _) = ssh_alerts(value, &[4, 2], recent());
    let os = indexer_with(alerts).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let dir = temp_dir("sent");
    let env = directory_env(&dir);
    let c = connector(&octi, &os.url, &borrowed(&env));
    let ip = octi.add_entity(ipv4(value, None));
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    let received = pushed(&octi, &work).await;
    assert!(!of_type(&received, "sighting").is_empty(), "{received:#?}");

    let files = bundle_files(&dir);
    assert_eq!(files.len(), 1, "{files:#?}");
    let (name, file) = &files[0];
    assert!(name.starts_with("wazuh_test-"), "pycti's file name: {name}");
    assert_eq!(file["bundle_type"], "DIRECTORY_BUNDLE");
    assert_eq!(file["work_id"], work.as_str());
    assert_eq!(file["connector"]["type"], "INTERNAL_ENRICHMENT");
    let written = file["bundle"]["objects"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(sorted_by_id(written), sorted_by_id(received));
    // Only the final name: no temporary file left behind.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("list")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left.len(), 1, "{left:?}");

    c.stop().await;
    octi.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_queue_bundles_only_go_to_the_directory_and_the_work_completes() {
    let value = "185.220.101.42";
    let (alerts, _) = ssh_alerts(value, &[3], recent());
    let os = indexer_with(alerts).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let dir = temp_dir("only");
    let mut env = directory_env(&dir);
    env.push(("CONNECTOR_SEND_TO_QUEUE", "false".into()));
    let c = connector(&octi, &os.url, &borrowed(&env));
    let ip = octi.add_entity(ipv4(value, None));
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    assert_eq!(rec.status, "complete", "{rec:?}");
    let last = rec.messages.last().cloned().unwrap_or_default();
    assert!(last.contains("sighting"), "the usual summary: {rec:?}");
    assert_eq!(rec.expected, 0, "no expectations announced: {rec:?}");

    let files = bundle_files(&dir);
    assert_eq!(files.len(), 1, "{files:#?}");
    let objects = files[0].1["bundle"]["objects"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!of_type(&objects, "sighting").is_empty(), "{objects:#?}");
    // Give a stray push the time to arrive before saying there was none.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(octi.pushed_objects(&work).is_empty());
    assert!(
        !octi
            .push_messages()
            .iter()
            .any(|m| m["work_id"] == work.as_str()),
        "nothing on the push queue"
    );

    c.stop().await;
    octi.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_files_older_than_the_retention() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let dir = temp_dir("retention");
    let old = dir.join("wazuh-20200101-000000-1577836800.000000-00000000.json");
    let fresh = dir.join("wazuh-fresh.json");
    let other = dir.join("notes.txt");
    for f in [&old, &fresh, &other] {
        std::fs::write(f, b"{}").expect("seed a file");
    }
    let status = std::process::Command::new("touch")
        .args(["-d", "3 days ago"])
        .arg(&old)
        .arg(&other)
        .status()
        .expect("run touch");
    assert!(status.success());
    let mut env = directory_env(&dir);
    env.push(("CONNECTOR_SEND_TO_DIRECTORY_RETENTION", "2".into()));
    let enricher: Arc<dyn connector_wazuh::pipeline::Enricher> = Arc::new(NoteEnricher {
        delay: Duration::ZERO,
    });
    let c = spawn(&octi, &borrowed(&env), Some(enricher));
    let ip = octi.add_entity(ipv4("5.5.6.7", None));
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");

    assert!(
        !old.exists(),
        "a 3-day-old bundle file outlives a 2-day retention"
    );
    assert!(fresh.exists(), "a recent file is kept");
    assert!(other.exists(), "only JSON files are swept");
    let names: Vec<String> = bundle_files(&dir).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names.len(),
        2,
        "the new bundle and the fresh file: {names:?}"
    );

    c.stop().await;
    octi.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_directory_stops_the_start_up() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let dir = std::env::temp_dir().join(format!("cw-missing-{}", uuid::Uuid::new_v4()));
    let env = directory_env(&dir);
    let c = spawn(&octi, &borrowed(&env), None);
    let r = tokio::time::timeout(Duration::from_secs(10), c.handle)
        .await
        .expect("start-up must fail at once")
        .expect("the connector task");
    let e = r.expect_err("a missing bundle directory is a start-up error");
    assert!(
        e.to_string().contains("CONNECTOR_SEND_TO_DIRECTORY_PATH"),
        "{e}"
    );
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_is_told_in_the_work_message() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let dir = temp_dir("lost");
    let env = directory_env(&dir);
    let enricher: Arc<dyn connector_wazuh::pipeline::Enricher> = Arc::new(NoteEnricher {
        delay: Duration::ZERO,
    });
    let c = spawn(&octi, &borrowed(&env), Some(enricher));
    // Wait until the connector consumes (its start-up checked the directory), then lose it.
    let ip = octi.add_entity(ipv4("5.5.6.8", None));
    let first = octi.new_work();
    octi.publish_request(&octi.manual_request(&first, &ip, true))
        .await;
    assert!(!octi.wait_for_work(&first).await.in_error);
    std::fs::remove_dir_all(&dir).expect("remove the bundle directory");

    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "the bundle still reached OpenCTI: {rec:?}");
    let last = rec.messages.last().cloned().unwrap_or_default();
    assert!(
        last.starts_with("Sent 1 object")
            && last.contains("(The bundle was not written to the bundle directory: cannot write"),
        "{rec:?}"
    );
    assert_eq!(pushed(&octi, &work).await.len(), 2, "entity and note");
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_queue_a_failed_write_ends_the_work_in_error() {
    let octi = FakeOpenCti::start("6.9.17").await;
    let dir = temp_dir("lost-only");
    let mut env = directory_env(&dir);
    env.push(("CONNECTOR_SEND_TO_QUEUE", "false".into()));
    env.push(("CONNECTOR_MAX_ATTEMPTS", "1".into()));
    let enricher: Arc<dyn connector_wazuh::pipeline::Enricher> = Arc::new(NoteEnricher {
        delay: Duration::ZERO,
    });
    let c = spawn(&octi, &borrowed(&env), Some(enricher));
    let ip = octi.add_entity(ipv4("5.5.6.9", None));
    let first = octi.new_work();
    octi.publish_request(&octi.manual_request(&first, &ip, true))
        .await;
    assert!(!octi.wait_for_work(&first).await.in_error);
    std::fs::remove_dir_all(&dir).expect("remove the bundle directory");

    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(rec.in_error, "nothing was delivered anywhere: {rec:?}");
    let said = format!("{:?}", rec.errors) + &rec.messages.join(" ");
    assert!(
        said.contains("Could not deliver the results: cannot write"),
        "{rec:?}"
    );
    assert!(octi.pushed_objects(&work).is_empty());
    c.stop().await;
    octi.cleanup().await;
}

#[tokio::test]
async fn enrich_send_writes_the_bundle_file_too() {
    let os = crate::testkit::osmem::Osmem::start().await;
    os.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let dir = temp_dir("cli");
    let mut env = octi.connector_env();
    env.insert("WAZUH_OPENSEARCH_URL".into(), os.url.clone());
    env.insert("WAZUH_CREATE_OBS_SIGHTINGS".into(), "true".into());
    env.insert("CONNECTOR_SEND_TO_DIRECTORY".into(), "true".into());
    env.insert(
        "CONNECTOR_SEND_TO_DIRECTORY_PATH".into(),
        dir.display().to_string(),
    );
    let args = ["enrich", "ipv4-addr:218.92.0.222", "--send", "--summary"];

    // Only to the directory.
    env.insert("CONNECTOR_SEND_TO_QUEUE".into(), "false".into());
    let out = crate::testkit::cli::run(&args, &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert!(out.stderr.contains("not sent to OpenCTI"), "{}", out.stderr);
    assert!(octi.api_pushes().is_empty());
    assert_eq!(bundle_files(&dir).len(), 1);

    // To both: the file holds the bundle pushed.
    env.insert("CONNECTOR_SEND_TO_QUEUE".into(), "true".into());
    let out = crate::testkit::cli::run(&args, &env).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let pushes = octi.api_pushes();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    let pushed: Value = serde_json::from_str(pushes[0]["bundle"].as_str().unwrap_or_default())
        .expect("the pushed bundle");
    let files = bundle_files(&dir);
    assert_eq!(files.len(), 2, "{files:#?}");
    assert!(
        files.iter().any(|(_, f)| f["bundle"] == pushed),
        "no file holds the pushed bundle"
    );
    octi.cleanup().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn check_reports_the_bundle_directory() {
    let dir = temp_dir("check");
    let mut env: std::collections::HashMap<String, String> = [
        ("OPENCTI_URL", "http://127.0.0.1:9"),
        ("OPENCTI_TOKEN", "0token-not-needed"),
        ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
        ("WAZUH_OPENSEARCH_URL", "http://127.0.0.1:9"),
        ("CONNECTOR_SEND_TO_DIRECTORY", "true"),
        ("CONNECTOR_SEND_TO_DIRECTORY_RETENTION", "3"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    env.insert(
        "CONNECTOR_SEND_TO_DIRECTORY_PATH".into(),
        dir.display().to_string(),
    );
    let out = crate::testkit::cli::run(&["check"], &env).await;
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("bundle directory"))
        .unwrap_or_else(|| panic!("no bundle directory line:\n{}", out.stdout));
    assert!(
        line.contains("takes bundle files (deleted after 3 day(s))"),
        "{line}"
    );
    assert!(bundle_files(&dir).is_empty(), "the probe leaves nothing");

    std::fs::remove_dir_all(&dir).expect("remove the directory");
    let out = crate::testkit::cli::run(&["check"], &env).await;
    assert_eq!(out.code, Some(1), "{}", out.stdout);
    let line = out
        .stdout
        .lines()
        .find(|l| l.contains("bundle directory"))
        .unwrap_or_else(|| panic!("no bundle directory line:\n{}", out.stdout));
    assert!(line.contains("not an existing directory"), "{line}");
}
