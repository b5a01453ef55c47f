//! End to end through the real daemon: fake OpenCTI (schema-validated GraphQL), real RabbitMQ,
//! real osmem-server with the Wazuh template. What a user sees: sightings with exact counts,
//! incidents, cases, notes and context objects on the push queue, indicator pattern search.

use crate::testkit::e2e::*;
use crate::testkit::fake_opencti::{ipv4, FakeOpenCti, TLP_GREEN};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv4_yields_one_sighting_per_agent_with_exact_counts_and_times() {
    let ip_value = "185.220.101.7";
    let base = recent();
    // 300 alerts over 3 agents, only the newest 20 fetched: the counts and first/last seen must
    // still be exact (they come from the indexer's aggregations).
    let counts = [150, 100, 50];
    let (alerts, spans) = ssh_alerts(ip_value, &counts, base);
    // Noise: another address on the same agents is not counted.
    let (noise, _) = ssh_alerts("185.220.101.77", &[5, 5, 5], base);
    let os = indexer_with(alerts.into_iter().chain(noise).collect()).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = connector(&octi, &os.url, &[("WAZUH_OPENSEARCH_LIMIT", "20")]);
    let ip = octi.add_entity(ipv4(ip_value, Some(TLP_GREEN)));
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    let msg = rec.messages.last().unwrap();
    assert!(
        msg.starts_with("300 alert(s) in 3 system(s): 3 sighting(s)"),
        "{msg}"
    );

    let objects = pushed(&octi, &work).await;
    let sightings = of_type(&objects, "sighting");
    assert_eq!(sightings.len(), 3, "{sightings:#?}");
    for (i, agent) in AGENTS.iter().enumerate() {
        let s = sightings
            .iter()
            .find(|s| {
                let sys = by_id(&objects, s["where_sighted_refs"][0].as_str().unwrap()).unwrap();
                sys["name"].as_str().unwrap().contains(agent.name)
            })
            .unwrap_or_else(|| panic!("no sighting by {}", agent.name));
        assert_eq!(s["count"], counts[i], "{}", agent.name);
        assert_eq!(time(&s["first_seen"]), spans[i].0, "{}", agent.name);
        assert_eq!(time(&s["last_seen"]), spans[i].1, "{}", agent.name);
        assert_eq!(s["x_opencti_sighting_of_ref"], ip.as_str());
    }
    // No indicator: no incident (WAZUH_REQUIRE_INDICATOR_FOR_INCIDENTS default), no case.
    assert!(of_type(&objects, "incident").is_empty());
    // The summary note has the exact total.
    let notes = of_type(&objects, "note");
    assert!(
        notes
            .iter()
            .any(|n| n["content"].as_str().unwrap().contains("300")),
        "{notes:#?}"
    );
    let tlps = octi.settings(&[]).knowledge.tlps.clone();
    assert_valid_bundle(&octi, &work, &tlps, &[]);
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv4_with_indicator_yields_incidents_case_notes_and_context() {
    let ip_value = "185.220.101.8";
    let (alerts, _) = ssh_alerts(ip_value, &[4, 3, 2], recent());
    let os = indexer_with(alerts).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    octi.set_tools(&["Hydra"]);
    let c = connector(&octi, &os.url, &[("WAZUH_CREATE_INCIDENT", "per-sighting")]);
    let ip = octi.add_entity(ipv4(ip_value, Some(TLP_GREEN)));
    let ind = octi.add_indicator(
        json!({"id": "indicator--0a4f4c8e-7d3b-4d59-9a47-3f7f3f1d0c01", "type": "indicator", "spec_version": "2.1", "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", "valid_from": "2026-01-05T10:00:00.000Z",
               "name": ip_value, "pattern": format!("[ipv4-addr:value = '{ip_value}']"), "pattern_type": "stix",
               "x_opencti_score": 80}),
        &[&ip],
    );
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &ip, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");

    let objects = pushed(&octi, &work).await;
    let count = |t: &str| of_type(&objects, t).len();
    // The SIEM + one system per agent (+ the author).
    let systems = of_type(&objects, "identity")
        .into_iter()
        .filter(|i| i["identity_class"] == "system")
        .count();
    assert!(systems >= 3, "systems: {systems}");
    assert_eq!(count("sighting"), 3);
    assert_eq!(count("incident"), 3, "one incident per sighting");
    assert_eq!(count("case-incident"), 1);
    assert!(count("note") >= 2, "summary and alert notes");
    // Context objects extracted from the alerts: the ATT&CK technique and the user account.
    assert!(count("attack-pattern") >= 1);
    assert!(
        count("user-account") >= 1,
        "{:#?}",
        of_type(&objects, "user-account")
    );
    // indicator → indicates → incident, incident → targets → system.
    let rels: Vec<_> = of_type(&objects, "relationship");
    assert!(rels
        .iter()
        .any(|r| r["relationship_type"] == "indicates" && r["source_ref"] == ind.as_str()));
    assert!(rels.iter().any(|r| r["relationship_type"] == "targets"));
    // Every incident is in the case.
    let case = of_type(&objects, "case-incident")[0];
    for i in of_type(&objects, "incident") {
        assert!(case["object_refs"].as_array().unwrap().contains(&i["id"]));
    }
    // Delivered through the push queue: every object imported by the worker, the work complete.
    assert_eq!(rec.status, "complete");
    assert_eq!(octi.push_messages().len(), objects.len());
    let tlps = octi.settings(&[]).knowledge.tlps.clone();
    assert_valid_bundle(&octi, &work, &tlps, &[&ind]);
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn indicators_are_searched_by_stix_pattern_and_sigma_is_refused_clearly() {
    let ip_value = "185.220.101.9";
    let (alerts, _) = ssh_alerts(ip_value, &[3, 2, 0], recent());
    let os = indexer_with(alerts).await;
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = connector(&octi, &os.url, &[]);
    // Pattern only, no based-on observable: the reference finds nothing here.
    let ind = octi.add_indicator(
        json!({"id": "indicator--5d0f3f4e-2b8a-4c1e-9f3a-6b7c8d9e0f11", "type": "indicator", "spec_version": "2.1", "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", "valid_from": "2026-01-05T10:00:00.000Z",
               "name": "Tor exit", "pattern": format!("[ipv4-addr:value = '{ip_value}'] OR [domain-name:value = 'never.example']"),
               "pattern_type": "stix"}),
        &[],
    );
    let sigma = octi.add_indicator(
        json!({"id": "indicator--5d0f3f4e-2b8a-4c1e-9f3a-6b7c8d9e0f12", "type": "indicator", "spec_version": "2.1", "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", "valid_from": "2026-01-05T10:00:00.000Z",
               "name": "A sigma rule", "pattern": "title: x\ndetection:\n  sel:\n    Image: evil.exe\n  condition: sel",
               "pattern_type": "sigma"}),
        &[],
    );
    // FOLLOWEDBY cannot be checked on single alerts: approximated, and the work says so.
    let seq = octi.add_indicator(
        json!({"id": "indicator--5d0f3f4e-2b8a-4c1e-9f3a-6b7c8d9e0f13", "type": "indicator", "spec_version": "2.1", "created": "2026-01-05T10:00:00.000Z", "modified": "2026-01-05T10:00:00.000Z", "valid_from": "2026-01-05T10:00:00.000Z",
               "name": "Sequence", "pattern": format!("[ipv4-addr:value = '{ip_value}'] FOLLOWEDBY [ipv4-addr:value = '185.220.101.99']"),
               "pattern_type": "stix"}),
        &[],
    );
    let (w1, w2, w3) = (octi.new_work(), octi.new_work(), octi.new_work());
    octi.publish_request(&octi.manual_request(&w1, &ind, true))
        .await;
    octi.publish_request(&octi.manual_request(&w2, &sigma, true))
        .await;
    octi.publish_request(&octi.manual_request(&w3, &seq, true))
        .await;

    let rec = octi.wait_for_work(&w1).await;
    assert!(!rec.in_error, "{rec:?}");
    let objects = pushed(&octi, &w1).await;
    let sightings = of_type(&objects, "sighting");
    assert_eq!(sightings.len(), 2, "two agents saw it: {rec:?}");
    for s in &sightings {
        assert_eq!(s["sighting_of_ref"], ind.as_str());
        assert_eq!(s["x_opencti_sighting_of_ref"], ind.as_str());
    }
    let total: u64 = sightings.iter().map(|s| s["count"].as_u64().unwrap()).sum();
    assert_eq!(total, 5);

    let rec = octi.wait_for_work(&w2).await;
    let msg = rec.messages.last().unwrap();
    assert!(msg.contains("'sigma' is not supported"), "{rec:?}");
    assert!(octi.pushed_objects(&w2).is_empty());

    let rec = octi.wait_for_work(&w3).await;
    assert!(!rec.in_error, "{rec:?}");
    let msg = rec.messages.last().unwrap();
    assert!(msg.contains("Notes: pattern: FOLLOWEDBY"), "{msg}");
    assert_eq!(of_type(&pushed(&octi, &w3).await, "sighting").len(), 2);
    let tlps = octi.settings(&[]).knowledge.tlps.clone();
    assert_valid_bundle(&octi, &w1, &tlps, &[&ind]);
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vulnerability_is_searched_directly_in_the_sample_alerts() {
    let cve = "CVE-2024-6387";
    let os = crate::testkit::osmem::Osmem::start().await;
    let samples = os.load_sample_alerts().await;
    let with_cve: Vec<_> = samples
        .iter()
        .filter(|a| a["data"]["vulnerability"]["cve"] == cve)
        .collect();
    assert!(!with_cve.is_empty());
    let octi = FakeOpenCti::start("6.9.17").await;
    let c = connector(&octi, &os.url, &[]);
    let vuln = octi.add_entity(json!({
        "id": format!("vulnerability--{}", uuid::Uuid::new_v4()), "type": "vulnerability",
        "spec_version": "2.1", "name": cve,
        "created": "2024-07-01T00:00:00.000Z", "modified": "2024-07-01T00:00:00.000Z",
        "extensions": {"extension-definition--ea279b3e-5c71-4632-ac08-831c66a786ba": {"extension_type": "property-extension", "type": "Vulnerability"}}
    }));
    let work = octi.new_work();
    octi.publish_request(&octi.manual_request(&work, &vuln, true))
        .await;
    let rec = octi.wait_for_work(&work).await;
    assert!(!rec.in_error, "{rec:?}");
    let msg = rec.messages.last().unwrap();
    assert!(
        msg.starts_with(&format!("{} alert(s)", with_cve.len())),
        "{msg}"
    );
    let objects = pushed(&octi, &work).await;
    let sightings = of_type(&objects, "sighting");
    assert!(!sightings.is_empty());
    for s in sightings {
        assert_eq!(s["x_opencti_sighting_of_ref"], vuln.as_str());
    }
    let tlps = octi.settings(&[]).knowledge.tlps.clone();
    assert_valid_bundle(&octi, &work, &tlps, &[]);
    c.stop().await;
    assert!(octi.rejected().is_empty(), "{:?}", octi.rejected());
    octi.cleanup().await;
}
