//! `connector-wazuh enrich` run as a user runs it (the real binary) against osmem loaded with the
//! sample alerts: the real search and knowledge building, the bundle on stdout, `--summary`,
//! input errors, and `--send` / `--with-opencti` against the fake OpenCTI.

use std::collections::HashMap;

use crate::testkit::fake_opencti::FakeOpenCti;
use crate::testkit::osmem::Osmem;
use serde_json::Value;

/// 218.92.0.222 is in four real (non-sample) alerts, one on each of four agents.
const IP: &str = "218.92.0.222";
const AGENTS: [&str; 4] = ["WINSERVER2022", "srv", "WIN-EXCH01", "ids-sensor-01"];

pub(crate) fn env(indexer_url: &str) -> HashMap<String, String> {
    [
        ("OPENCTI_URL", "http://127.0.0.1:9"),
        ("OPENCTI_TOKEN", "0token-not-needed"),
        ("CONNECTOR_ID", "0b6f0a5e-4f4e-4c2e-9a57-2f0c2b9a1d11"),
        ("WAZUH_OPENSEARCH_URL", indexer_url),
        ("WAZUH_OPENSEARCH_TIMEOUT", "30s"),
        ("WAZUH_OPENSEARCH_RETRIES", "0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

fn objects(stdout: &str) -> Vec<Value> {
    let bundle: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    assert_eq!(bundle["type"], "bundle");
    bundle["objects"].as_array().unwrap().clone()
}

fn of_type<'a>(objects: &'a [Value], t: &str) -> Vec<&'a Value> {
    objects.iter().filter(|o| o["type"] == t).collect()
}

#[tokio::test]
async fn ip_bundle_has_one_sighting_per_agent() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let out =
        crate::testkit::cli::run(&["enrich", &format!("ipv4-addr:{IP}")], &env(&os.url)).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let objs = objects(&out.stdout);
    crate::testkit::oasis::assert_valid(&objs);
    assert_eq!(objs[0]["type"], "ipv4-addr");
    assert_eq!(objs[0]["value"], IP);
    let sightings = of_type(&objs, "sighting");
    assert_eq!(sightings.len(), 4, "{}", out.stdout);
    let names: HashMap<&str, &str> = of_type(&objs, "identity")
        .iter()
        .map(|i| (i["id"].as_str().unwrap(), i["name"].as_str().unwrap()))
        .collect();
    let mut seen: Vec<&str> = sightings
        .iter()
        .map(|s| {
            assert_eq!(s["count"], 1, "{s}");
            assert_eq!(s["x_opencti_sighting_of_ref"], objs[0]["id"], "{s}");
            // Systems are named `<agent name> (agent <id>)`.
            let name = names[s["where_sighted_refs"][0].as_str().unwrap()];
            name.split(" (agent ").next().unwrap()
        })
        .collect();
    seen.sort();
    let mut want = AGENTS.to_vec();
    want.sort();
    assert_eq!(seen, want);
    // The work message goes to stderr, the bundle alone to stdout.
    assert!(
        out.stderr.contains('4') || out.stderr.contains("hit"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn summary_table_and_input_errors() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let e = env(&os.url);
    let out =
        crate::testkit::cli::run(&["enrich", &format!("ipv4-addr:{IP}"), "--summary"], &e).await;
    assert_eq!(out.code, Some(0), "{}{}", out.stdout, out.stderr);
    let s = &out.stdout;
    assert!(s.starts_with("Objects: "), "{s}");
    assert!(s.contains("\nSightings: 4\n  SYSTEM "), "{s}");
    for agent in AGENTS {
        let row = s
            .lines()
            .find(|l| l.starts_with(&format!("  {agent} ")))
            .unwrap_or_else(|| panic!("no row for {agent}:\n{s}"));
        assert!(row.contains(" 1 "), "{row}");
    }
    // srv saw it on 2024-12-10 at 01:02:02.
    let srv = s.lines().find(|l| l.starts_with("  srv ")).unwrap();
    assert!(srv.contains("2024-12-10T01:02:02"), "{srv}");
    assert!(s.contains("\nIncidents: "), "{s}");
    assert!(s.contains("\nMessage: "), "{s}");

    // An address no alert has: an empty bundle and the "no hits" message.
    let none = crate::testkit::cli::run(&["enrich", "ipv4-addr:9.9.9.9", "--summary"], &e).await;
    assert_eq!(none.code, Some(0), "{}", none.stderr);
    assert!(none.stdout.contains("Sightings: 0"), "{}", none.stdout);
    assert!(
        none.stdout.contains("Message: No hits found"),
        "{}",
        none.stdout
    );

    // Bad input: exit code 2 and a message naming the accepted forms.
    let bad = crate::testkit::cli::run(&["enrich", "8.8.8.8"], &e).await;
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("type:value"), "{}", bad.stderr);
    let bad = crate::testkit::cli::run(&["enrich", "@/nonexistent/file.json"], &e).await;
    assert_eq!(bad.code, Some(2));
    assert!(
        bad.stderr.contains("/nonexistent/file.json"),
        "{}",
        bad.stderr
    );
}

#[tokio::test]
async fn bundle_file_input_and_indexer_down() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("obs.json");
    let obs = serde_json::json!({
        "type": "bundle", "id": "bundle--1", "objects": [
            {"type": "ipv4-addr", "spec_version": "2.1",
             "id": "ipv4-addr--5b4f0b0c-7a4e-5d41-9a2f-2f0c2b9a1d11", "value": IP}
        ]
    });
    std::fs::write(&file, obs.to_string()).unwrap();
    let arg = format!("@{}", file.display());
    let out = crate::testkit::cli::run(&["enrich", &arg], &env(&os.url)).await;
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let objs = objects(&out.stdout);
    assert_eq!(of_type(&objs, "sighting").len(), 4);

    let down = crate::testkit::cli::run(&["enrich", &arg], &env("http://127.0.0.1:9")).await;
    assert_eq!(down.code, Some(1));
    assert!(down.stderr.contains("enrichment failed"), "{}", down.stderr);
    assert!(down.stdout.is_empty());
}

#[tokio::test]
async fn send_pushes_the_bundle_to_opencti() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let mut e = env(&os.url);
    e.insert("OPENCTI_URL".into(), octi.url.clone());
    e.insert("OPENCTI_TOKEN".into(), octi.token.clone());
    e.insert("CONNECTOR_ID".into(), octi.connector_id.clone());
    let spec = format!("ipv4-addr:{IP}");

    // The platform knows the address (with the id the CLI computes) and an indicator of it.
    let obs = connector_wazuh::cli::observable::parse_spec(&spec).unwrap();
    let ip = octi.add_entity(obs);
    octi.add_indicator(
        serde_json::json!({"id": "indicator--0a4f4c8e-7d3b-4d59-9a47-3f7f3f1d0c02",
            "type": "indicator", "spec_version": "2.1", "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", "valid_from": "2026-01-05T10:00:00.000Z", "name": IP,
            "pattern": format!("[ipv4-addr:value = '{IP}']"), "pattern_type": "stix",
            "x_opencti_score": 80}),
        &[&ip],
    );
    let alone = crate::testkit::cli::run(&["enrich", &spec, "--summary"], &e).await;
    assert!(
        alone.stdout.contains("\nIncidents: 0\n"),
        "{}",
        alone.stdout
    );

    // Without --send nothing reaches the platform, even with --with-opencti; with it the
    // indicator is known, so its sightings make incidents and a case.
    let dry = crate::testkit::cli::run(&["enrich", &spec, "--with-opencti", "--summary"], &e).await;
    assert_eq!(dry.code, Some(0), "{}", dry.stderr);
    assert!(
        dry.stderr.contains("read from OpenCTI 6.9.17"),
        "{}",
        dry.stderr
    );
    assert!(!dry.stdout.contains("\nIncidents: 0\n"), "{}", dry.stdout);
    assert!(dry.stdout.contains("  case-incident: "), "{}", dry.stdout);
    assert!(octi.api_pushes().is_empty());
    assert!(!octi.calls().iter().any(|c| c.contains("BundlePush")));

    let sent = crate::testkit::cli::run(&["enrich", &spec, "--send", "--summary"], &e).await;
    assert_eq!(sent.code, Some(0), "{}", sent.stderr);
    assert!(sent.stderr.contains("stixBundlePush"), "{}", sent.stderr);
    let pushes = octi.api_pushes();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    let text = pushes[0].to_string();
    assert!(text.contains(IP) && text.contains("sighting--"), "{text}");
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    // What was pushed (incidents, a case, context objects from the sample alerts) is STIX 2.1
    // the OASIS validator accepts.
    octi.assert_imports_pass_the_oasis_validator();
    octi.cleanup().await;
}
