//! Knowledge building per mode, per object type, per fixed bug and per crash case of the
//! reference. Every bundle built here passes the structural STIX validator
//! (`Case::build`).

use crate::testkit::knowledge::*;
use connector_wazuh::alert::Alert;
use connector_wazuh::config::{EnrichType, IncidentMode};
use connector_wazuh::entity::{Entity, IndicatorInfo};
use connector_wazuh::knowledge::valid_indicators;
use serde_json::{json, Value};
use std::collections::HashSet;

fn alert(id: &str, ts: &str, agent: (&str, &str), rule: (&str, u8), data: Value) -> Alert {
    Alert::from_source(
        id,
        "wazuh-alerts-4.x-2026.11.27",
        json!({"@timestamp": ts, "id": format!("1.{id}"),
               "agent": {"id": agent.0, "name": agent.1, "ip": "10.1.1.1"},
               "rule": {"id": rule.0, "level": rule.1, "description": format!("rule {}", rule.0), "groups": ["test"]},
               "data": data}),
    )
    .unwrap()
}

fn ip_case(alerts: Vec<Alert>) -> Case {
    Case::new(
        ip_entity(true),
        vec![indicator()],
        result_of(alerts, None),
        base_options(),
    )
}

fn incidents(objs: &[Value]) -> Vec<&Value> {
    of_type(objs, "incident")
}

fn no_duplicate_ids(objs: &[Value]) {
    let mut seen = HashSet::new();
    for o in objs {
        assert!(
            seen.insert(o["id"].as_str().unwrap()),
            "duplicate {}",
            o["id"]
        );
    }
}

// ---------------------------------------------------------------- modes

#[test]
fn never_mode_creates_sightings_but_no_incident() {
    let mut c = ip_case(ip_alerts());
    c.options.create_incident = IncidentMode::Never;
    let k = c.build().unwrap();
    assert!(incidents(&k.objects).is_empty());
    assert!(of_type(&k.objects, "case-incident").is_empty());
    assert_eq!(of_type(&k.objects, "sighting").len(), 3);
}

#[test]
fn per_query_mode_uses_the_latest_alert_time_and_targets_every_system() {
    let mut c = ip_case(ip_alerts());
    c.options.create_incident = IncidentMode::PerQuery;
    let k = c.build().unwrap();
    let inc = incidents(&k.objects);
    assert_eq!(inc.len(), 1);
    // The newest alert of all, not the first alert of the last system seen.
    assert_eq!(inc[0]["created"], "2024-06-03T09:30:03.000Z");
    assert_eq!(inc[0]["severity"], "high");
    let targets = of_type(&k.objects, "relationship")
        .into_iter()
        .filter(|r| r["relationship_type"] == "targets" && r["source_ref"] == inc[0]["id"])
        .count();
    assert_eq!(targets, 3);
    no_duplicate_ids(&k.objects);
}

#[test]
fn per_sighting_mode_honours_threshold_and_incident_rule_exclusion() {
    let mut c = ip_case(ip_alerts());
    c.options.create_incident_threshold = 5;
    let k = c.build().unwrap();
    // The SIEM saw only a level-3 alert.
    assert_eq!(incidents(&k.objects).len(), 2);
    c.options.incident_rule_exclude_list = ["5710", "5712"].iter().map(|s| s.to_string()).collect();
    let k = c.build().unwrap();
    let names: Vec<&str> = incidents(&k.objects)
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        vec!["Wazuh alert: IPv4-Addr 141.98.81.37 sighted in ws-042 (agent 005)"]
    );
    // Sightings are still made for excluded rules.
    assert_eq!(of_type(&k.objects, "sighting").len(), 3);
}

#[test]
fn per_alert_rule_mode_names_are_unique_even_with_equal_times() {
    let alerts = vec![
        alert(
            "a",
            "2026-11-27T10:00:00.000Z",
            ("001", "h1"),
            ("100", 8),
            json!({"srcip": "141.98.81.37"}),
        ),
        alert(
            "b",
            "2026-11-27T10:00:00.000Z",
            ("001", "h1"),
            ("200", 9),
            json!({"srcip": "141.98.81.37"}),
        ),
    ];
    let mut c = ip_case(alerts);
    c.options.create_incident = IncidentMode::PerAlertRule;
    let k = c.build().unwrap();
    let inc = incidents(&k.objects);
    assert_eq!(inc.len(), 2);
    assert_ne!(inc[0]["id"], inc[1]["id"]);
    assert!(inc[0]["description"]
        .as_str()
        .unwrap()
        .contains("alert rule 100"));
}

#[test]
fn per_alert_mode_makes_one_incident_per_alert_with_its_context() {
    let mut c = ip_case(ip_alerts());
    c.options.create_incident = IncidentMode::PerAlert;
    let k = c.build().unwrap();
    assert_eq!(incidents(&k.objects).len(), 7);
    // The sysmon alert's incident is related to its process.
    let sysmon = incidents(&k.objects)
        .into_iter()
        .find(|i| i["created"] == "2024-06-03T09:30:00.000Z")
        .unwrap();
    let related: Vec<&str> = of_type(&k.objects, "relationship")
        .into_iter()
        .filter(|r| r["source_ref"] == sysmon["id"])
        .map(|r| r["target_ref"].as_str().unwrap())
        .collect();
    assert!(
        related.iter().any(|t| t.starts_with("process--")),
        "{related:?}"
    );
}

#[test]
fn incidents_need_a_valid_indicator_for_observables() {
    let mut c = ip_case(ip_alerts());
    c.indicators = vec![];
    assert!(incidents(&c.build().unwrap().objects).is_empty());
    c.options.require_indicator_for_incidents = false;
    assert_eq!(incidents(&c.build().unwrap().objects).len(), 3);
}

#[test]
fn an_indicator_request_raises_incidents_only_for_an_indicator_that_counts() {
    // The request's subject is the indicator itself (a pattern search): the same gate as an
    // observable's enrichment applies, so a revoked indicator gets sightings but no incident.
    let ind = indicator();
    let subject = Entity {
        standard_id: ind.standard_id.clone(),
        entity_type: "Indicator".into(),
        stix: json!({"type": "indicator", "id": ind.standard_id, "spec_version": "2.1",
                     "name": ind.name, "pattern": ind.pattern, "pattern_type": "stix"}),
        markings: vec![],
        labels: vec![],
        created_by_ref: None,
    };
    let mut c = Case::new(
        subject,
        vec![ind.clone()],
        result_of(ip_alerts(), None),
        base_options(),
    );
    let k = c.build().unwrap();
    assert!(!incidents(&k.objects).is_empty());
    assert_eq!(of_type(&k.objects, "case-incident").len(), 1);
    c.indicators[0].revoked = true;
    let k = c.build().unwrap();
    assert!(incidents(&k.objects).is_empty());
    assert!(of_type(&k.objects, "case-incident").is_empty());
    assert!(!of_type(&k.objects, "sighting").is_empty());
}

#[test]
fn indicator_validity_filters() {
    let base = indicator();
    let revoked = IndicatorInfo {
        revoked: true,
        standard_id: "indicator--00000000-0000-4000-8000-000000000001".into(),
        ..base.clone()
    };
    let no_detection = IndicatorInfo {
        detection: Some(false),
        standard_id: "indicator--00000000-0000-4000-8000-000000000002".into(),
        ..base.clone()
    };
    let no_score = IndicatorInfo {
        score: None,
        standard_id: "indicator--00000000-0000-4000-8000-000000000003".into(),
        ..base.clone()
    };
    let all = vec![base.clone(), revoked, no_detection, no_score];
    let mut o = base_options();
    assert_eq!(valid_indicators(&all, &o).len(), 3);
    o.require_indicator_detection = true;
    assert_eq!(valid_indicators(&all, &o).len(), 2);
    o.indicator_score_threshold = Some(60);
    // The missing score counts as 50.
    assert_eq!(valid_indicators(&all, &o).len(), 1);
    o.ignore_revoked_indicators = false;
    assert_eq!(valid_indicators(&all, &o).len(), 2);
}

#[test]
fn indicators_indicate_every_incident() {
    let k = ip_case(ip_alerts()).build().unwrap();
    let ind = indicator().standard_id;
    let n = of_type(&k.objects, "relationship")
        .into_iter()
        .filter(|r| r["relationship_type"] == "indicates" && r["source_ref"] == ind.as_str())
        .count();
    assert_eq!(n, 3);
}

// ---------------------------------------------------------------- vulnerabilities

fn vuln_alert(id: &str, rule: &str, ts: &str, agent: &str) -> Alert {
    alert(
        id,
        ts,
        (agent, &format!("h{agent}")),
        (rule, 10),
        json!({"vulnerability": {"cve": "CVE-2024-3094", "cvss": {"cvss3": {"base_score": "7.5"}}, "package": {"name": "xz-utils", "version": "5.6.0"}}}),
    )
}

fn vuln_case(alerts: Vec<Alert>) -> Case {
    let mut c = Case::new(
        vuln_entity(),
        vec![],
        result_of(alerts, None),
        base_options(),
    );
    c.options.vulnerability_incident_cvss3_score_threshold = Some(7.0);
    c
}

#[test]
fn still_active_uses_the_newest_active_alert() {
    // Two active rules: the newest (23505) is after the resolution, so the vulnerability is
    // still active whatever the order of the rules.
    let c = vuln_case(vec![
        vuln_alert("a", "23506", "2024-06-01T00:00:00.000Z", "002"),
        vuln_alert("r", "23502", "2024-06-02T00:00:00.000Z", "002"),
        vuln_alert("b", "23505", "2024-06-03T00:00:00.000Z", "002"),
    ]);
    let k = c.build().unwrap();
    assert_eq!(incidents(&k.objects).len(), 1);
    assert_eq!(incidents(&k.objects)[0]["severity"], "high");
    let c = vuln_case(vec![
        vuln_alert("a", "23506", "2024-06-01T00:00:00.000Z", "002"),
        vuln_alert("b", "23505", "2024-06-02T00:00:00.000Z", "002"),
        vuln_alert("r", "23502", "2024-06-03T00:00:00.000Z", "002"),
    ]);
    assert!(incidents(&c.build().unwrap().objects).is_empty());
}

#[test]
fn the_vulnerability_state_index_keeps_a_resolved_looking_vulnerability_active() {
    let mut c = vuln_case(vec![
        vuln_alert("a", "23506", "2024-06-01T00:00:00.000Z", "002"),
        vuln_alert("r", "23502", "2024-06-03T00:00:00.000Z", "002"),
    ]);
    assert!(incidents(&c.build().unwrap().objects).is_empty());
    c.result.vulnerable_agents = Some(connector_wazuh::alert::VulnerabilityState {
        agents: 1,
        agent_names: vec!["h002".into()],
    });
    assert_eq!(incidents(&c.build().unwrap().objects).len(), 1);
}

#[test]
fn vulnerability_below_threshold_or_without_threshold_gets_no_incident() {
    let mut c = vuln_case(vec![vuln_alert(
        "a",
        "23506",
        "2024-06-01T00:00:00.000Z",
        "002",
    )]);
    c.options.vulnerability_incident_cvss3_score_threshold = Some(8.0);
    assert!(incidents(&c.build().unwrap().objects).is_empty());
    c.options.vulnerability_incident_cvss3_score_threshold = None;
    assert!(incidents(&c.build().unwrap().objects).is_empty());
    // The entity's own score wins over the alerts'.
    c.options.vulnerability_incident_cvss3_score_threshold = Some(8.0);
    c.entity.stix["x_opencti_cvss_base_score"] = json!(9.8);
    let k = c.build().unwrap();
    assert_eq!(incidents(&k.objects)[0]["severity"], "critical");
    // The incident targets the vulnerability; software `has` it, without labels on it.
    let rel = of_type(&k.objects, "relationship");
    assert!(rel
        .iter()
        .any(|r| r["relationship_type"] == "targets"
            && r["target_ref"] == c.entity.standard_id.as_str()));
    assert!(rel.iter().any(
        |r| r["relationship_type"] == "has" && r["target_ref"] == c.entity.standard_id.as_str()
    ));
}

// ---------------------------------------------------------------- sightings

#[test]
fn sighting_counts_come_from_the_exact_statistics_not_the_sample() {
    let alerts = ip_alerts();
    let mut result = result_of(alerts, Some(5000));
    for a in &mut result.agents {
        a.count *= 1000;
    }
    // Only the newest 2 alerts are sampled.
    result.alerts.truncate(2);
    let mut c = Case::new(ip_entity(true), vec![indicator()], result, base_options());
    c.options.hits_abort_limit = None;
    let k = c.build().unwrap();
    let total: u64 = of_type(&k.objects, "sighting")
        .iter()
        .map(|s| s["count"].as_u64().unwrap())
        .sum();
    assert_eq!(total, 7000);
    let case = &of_type(&k.objects, "case-incident")[0];
    assert!(case["name"]
        .as_str()
        .unwrap()
        .ends_with("sighted 7000 time(s)"));
    assert!(case["description"]
        .as_str()
        .unwrap()
        .contains("(part of the indicator 141.98.81.37)"));
}

#[test]
fn agent_observables_use_each_agents_own_time_frame() {
    let k = ip_case(ip_alerts()).build().unwrap();
    let agent = of_type(&k.objects, "identity")
        .into_iter()
        .find(|i| i["name"].as_str().unwrap().ends_with("(agent 002)"))
        .unwrap();
    let rel = of_type(&k.objects, "relationship")
        .into_iter()
        .find(|r| {
            r["description"] == "The Wazuh agent had this IP address in the given time frame"
                && r["source_ref"] == agent["id"]
        })
        .unwrap();
    // Hashed with its time frame, as OpenCTI does.
    assert_eq!(
        rel["id"],
        connector_wazuh::stix::id::relationship(
            "related-to",
            agent["id"].as_str().unwrap(),
            rel["target_ref"].as_str().unwrap(),
            Some("2024-06-01T18:49:51.048Z"),
            Some("2024-06-02T07:12:05.001Z"),
        )
    );
    assert_eq!(rel["start_time"], "2024-06-01T18:49:51.048Z");
    assert_eq!(rel["stop_time"], "2024-06-02T07:12:05.001Z");
}

#[test]
fn without_agents_as_systems_everything_is_sighted_by_the_siem_and_nothing_dangles() {
    let mut c = ip_case(ip_alerts());
    c.options.agents_as_systems = false;
    let k = c.build().unwrap();
    let s = of_type(&k.objects, "sighting");
    assert_eq!(s.len(), 1);
    assert_eq!(s[0]["count"], 7);
    assert!(of_type(&k.objects, "hostname").is_empty());
}

#[test]
fn external_references_are_capped_and_link_the_real_index() {
    let alerts: Vec<Alert> = (0..30)
        .map(|i| {
            alert(
                &format!("d{i}"),
                &format!("2026-11-27T10:00:{i:02}.000Z"),
                ("001", "h1"),
                (["100", "200", "300"][i % 3], 5),
                json!({"srcip": "141.98.81.37"}),
            )
        })
        .collect();
    let mut c = ip_case(alerts);
    c.options.max_extrefs = 5;
    c.options.max_extrefs_per_alert_rule = 2;
    let k = c.build().unwrap();
    let refs = of_type(&k.objects, "sighting")[0]["external_references"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(refs.len(), 5);
    assert!(refs[0]["url"].as_str().unwrap().starts_with(
        "https://wazuh.example.org/app/discover#/context/wazuh-alerts-4.x-2026.11.27/d29?"
    ));
}

// ---------------------------------------------------------------- notes

#[test]
fn alert_notes_are_capped_and_attached_to_incidents_and_case() {
    let alerts: Vec<Alert> = (0..30)
        .map(|i| {
            alert(
                &format!("d{i}"),
                &format!("2026-11-27T10:00:{i:02}.000Z"),
                ("001", "h1"),
                (["100", "200", "300"][i % 3], 5),
                json!({"srcip": "141.98.81.37"}),
            )
        })
        .collect();
    let mut c = ip_case(alerts);
    c.options.max_notes = 4;
    c.options.max_notes_per_alert_rule = 2;
    let k = c.build().unwrap();
    let notes: Vec<&Value> = of_type(&k.objects, "note")
        .into_iter()
        .filter(|n| n["content"].as_str().unwrap().starts_with("## Summary"))
        .collect();
    assert_eq!(notes.len(), 4);
    let inc = incidents(&k.objects)[0]["id"].clone();
    let case = of_type(&k.objects, "case-incident")[0]["id"].clone();
    for n in &notes {
        let refs = n["object_refs"].as_array().unwrap();
        assert!(refs.contains(&inc) && refs.contains(&case));
        assert!(
            n["content"].as_str().unwrap().contains("|Count|"),
            "10 alerts per rule, 2 shown"
        );
    }
}

fn table_rows_are_intact(content: &str) {
    for line in content.lines().filter(|l| l.starts_with('|')) {
        assert!(line.ends_with('|'), "broken row: {line}");
    }
}

#[test]
fn markdown_in_alerts_cannot_break_notes() {
    let mut a = alert(
        "x",
        "2026-11-27T10:00:00.000Z",
        ("001", "h1"),
        ("100", 5),
        json!({"srcip": "141.98.81.37", "msg": "141.98.81.37 | evil\nrow ``` fence"}),
    );
    a.rule.description = "pipe | and\nnewline".into();
    a.source.value_mut()["rule"]["description"] = json!("pipe | and\nnewline");
    let k = ip_case(vec![a]).build().unwrap();
    for n in of_type(&k.objects, "note") {
        let content = n["content"].as_str().unwrap();
        let tables = content.split("## Alert\n").next().unwrap();
        table_rows_are_intact(tables);
        assert!(tables.contains("pipe \\| and<br>newline"), "{tables}");
    }
    let note = of_type(&k.objects, "note")
        .into_iter()
        .find(|n| n["content"].as_str().unwrap().starts_with("## Summary"))
        .unwrap();
    assert!(note["content"].as_str().unwrap().contains("````json"));
}

#[test]
fn notes_are_bounded() {
    let big = "141.98.81.37 ".repeat(20_000);
    let a = alert(
        "x",
        "2026-11-27T10:00:00.000Z",
        ("001", "h1"),
        ("100", 5),
        json!({"srcip": "141.98.81.37", "big": big}),
    );
    let mut c = ip_case(vec![a]);
    c.options.max_note_chars = 5_000;
    let k = c.build().unwrap();
    for n in of_type(&k.objects, "note") {
        assert!(n["content"].as_str().unwrap().chars().count() <= 5_000);
    }
}

#[test]
fn summary_note_shows_totals_settings_and_every_rule() {
    let mut c = ip_case(ip_alerts());
    c.automatic = true;
    c.options.rule_exclude_list = ["86601".to_string()].into_iter().collect();
    let k = c.build().unwrap();
    let s = of_type(&k.objects, "note")
        .into_iter()
        .find(|n| {
            n["content"]
                .as_str()
                .unwrap()
                .contains("enrichment summary")
        })
        .unwrap();
    let content = s["content"].as_str().unwrap();
    for needle in [
        "|Request|automatic|",
        "|Index|wazuh-alerts-\\*|",
        "|Exclude filter|data.integration=opencti|",
        "|Rule exclude list|86601|",
        "|Sample limit|50|",
        "|Order|@timestamp:desc|",
    ] {
        assert!(content.contains(needle), "{needle} missing in\n{content}");
    }
    table_rows_are_intact(content);
    // Overview: one row per rule (exact counts), excluded rule left out.
    let rows: Vec<&str> = content.lines().filter(|l| l.starts_with("|[")).collect();
    assert_eq!(rows.len(), 5);
    assert!(
        rows.iter()
            .any(|r| r.contains("|5|2|2024-06-01T18:49:51.048Z|")),
        "{rows:?}"
    );
}

// ---------------------------------------------------------------- context objects

fn context(data: Value, groups: Option<Value>) -> Vec<Value> {
    let mut a = alert(
        "ctx",
        "2026-11-27T10:00:00.000Z",
        ("001", "h1"),
        ("100", 12),
        data,
    );
    if let Some(g) = groups {
        a.rule.groups = g
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        a.source.value_mut()["rule"]["groups"] = g;
    } else {
        a.rule.groups.clear();
        a.source.value_mut()["rule"]
            .as_object_mut()
            .unwrap()
            .remove("groups");
    }
    ip_case(vec![a]).build().unwrap().objects
}

#[test]
fn each_context_type_is_extracted_and_linked_with_a_description() {
    let objs = context(
        json!({
            "srcip": "141.98.81.37", "dstip": "2001:db8::1", "srcport": "4444", "dstport": "443",
            "url": "https://evil.example/x", "office365": {"UserId": "bob@example.org", "UserAgent": "curl/8", "MessageURLs": ["https://a.example/1", "https://b.example/2"]},
            "aws": {"userIdentity": {"userName": "alice"}},
            "srcuser": "carol(uid=1001)", "dstuser": "dave",
            "smac": "00-1A-2B-3C-4D-5E", "dns": {"question": {"name": "c2.example.net"}},
            "home": "/home/carol", "file": "/tmp/dropper.sh",
            "win": {"eventdata": {"targetObject": "HKLM\\\\SOFTWARE\\\\S-1-5-21-1-2-3-1001\\\\Run"}}
        }),
        Some(json!(["sshd"])),
    );
    let has = |t: &str, key: &str, v: &str| of_type(&objs, t).iter().any(|o| o[key] == v);
    assert!(has("ipv6-addr", "value", "2001:db8::1"));
    assert!(has("url", "value", "https://evil.example/x"));
    // Lists are expanded before validation (the reference dropped them).
    assert!(has("url", "value", "https://b.example/2"));
    assert!(has("email-addr", "value", "bob@example.org"));
    assert!(has("user-agent", "value", "curl/8"));
    assert!(has("user-account", "account_login", "alice"));
    // Both srcuser and dstuser (the reference kept only the last).
    assert!(has("user-account", "user_id", "1001"));
    assert!(has("user-account", "account_login", "dave"));
    assert!(has("user-account", "user_id", "S-1-5-21-1-2-3-1001"));
    assert!(has("mac-addr", "value", "00:1a:2b:3c:4d:5e"));
    assert!(has("domain-name", "value", "c2.example.net"));
    assert!(has("directory", "path", "/home/carol"));
    assert!(has("file", "name", "dropper.sh"));
    assert!(has(
        "windows-registry-key",
        "key",
        // STIX form: the alert's abbreviated hive by its full name.
        "HKEY_LOCAL_MACHINE\\SOFTWARE\\S-1-5-21-1-2-3-1001\\Run"
    ));
    let nt = &of_type(&objs, "network-traffic")[0];
    assert_eq!(nt["protocols"], json!(["ipv4", "ipv6", "ssh"]));
    assert_eq!(nt["src_port"], 4444);
    // Every context object is linked from the incident with a description naming the field.
    let inc = incidents(&objs)[0]["id"].clone();
    // (Directories created as a file's parent are reached through the file.)
    let nested: HashSet<&str> = objs
        .iter()
        .filter_map(|o| o.get("parent_directory_ref"))
        .filter_map(Value::as_str)
        .collect();
    for t in [
        "url",
        "email-addr",
        "user-agent",
        "mac-addr",
        "domain-name",
        "directory",
        "file",
        "windows-registry-key",
        "network-traffic",
    ] {
        for o in of_type(&objs, t)
            .into_iter()
            .filter(|o| !nested.contains(o["id"].as_str().unwrap()))
        {
            let r = of_type(&objs, "relationship")
                .into_iter()
                .find(|r| r["source_ref"] == inc && r["target_ref"] == o["id"]);
            let r = r.unwrap_or_else(|| panic!("{t} not linked"));
            assert!(
                r["description"]
                    .as_str()
                    .unwrap()
                    .contains("in alert (ID ctx, rule ID 100)"),
                "{r}"
            );
        }
    }
    // No label on the entity, which is never re-sent; labels on the new observables.
    assert!(!objs
        .iter()
        .any(|o| o["type"] == "ipv4-addr" && o["value"] == "141.98.81.37"));
    assert_eq!(of_type(&objs, "url")[0]["labels"], json!(["wazuh_ignore"]));
}

#[test]
fn enrich_types_select_what_is_extracted() {
    let mut a = alert(
        "ctx",
        "2026-11-27T10:00:00.000Z",
        ("001", "h1"),
        ("100", 12),
        json!({"srcip": "141.98.81.37", "url": "https://evil.example/x", "dns": {"question": {"name": "c2.example.net"}}}),
    );
    a.source.value_mut()["rule"]["mitre"] = json!({"id": ["T1071"]});
    a.rule.mitre_ids = vec!["T1071".into()];
    let mut c = ip_case(vec![a]);
    c.options.enrich_types = [EnrichType::Url].into_iter().collect();
    let k = c.build().unwrap();
    assert_eq!(of_type(&k.objects, "url").len(), 1);
    assert!(of_type(&k.objects, "domain-name").is_empty());
    assert!(of_type(&k.objects, "attack-pattern").is_empty());
}

#[test]
fn sysmon_process_hashes_and_parent() {
    let objs = context(
        json!({"srcip": "141.98.81.37", "win": {"eventdata": {
            "commandLine": "a.exe /x", "processId": "10", "image": "C:\\\\t\\\\a.exe",
            "hashes": "MD5=AA11,SHA256=BB22", "parentProcessId": "9", "parentCommandLine": "cmd.exe", "parentImage": "C:\\\\Windows\\\\cmd.exe"}}}),
        Some(json!(["sysmon"])),
    );
    let image = of_type(&objs, "file")
        .into_iter()
        .find(|f| f["name"] == "a.exe")
        .unwrap();
    assert_eq!(image["hashes"], json!({"MD5": "AA11", "SHA-256": "BB22"}));
    let child = of_type(&objs, "process")
        .into_iter()
        .find(|p| p["pid"] == 10)
        .unwrap();
    let parent = of_type(&objs, "process")
        .into_iter()
        .find(|p| p["pid"] == 9)
        .unwrap();
    assert_eq!(child["parent_ref"], parent["id"]);
    assert_eq!(child["image_ref"], image["id"]);
}

#[test]
fn auditd_process() {
    let objs = context(
        json!({"srcip": "141.98.81.37", "audit": {"execve": {"a1": "-O", "a0": "wget", "a2": "http://x.example/p"}, "pid": "77", "ppid": "1", "auid": "1000", "file": {"name": "/usr/bin/wget"}}}),
        Some(json!(["audit"])),
    );
    let p = of_type(&objs, "process")
        .into_iter()
        .find(|p| p["pid"] == 77)
        .unwrap();
    assert_eq!(p["command_line"], "wget -O http://x.example/p");
    assert!(p["parent_ref"].as_str().unwrap().starts_with("process--"));
    assert!(of_type(&objs, "user-account")
        .iter()
        .any(|u| u["user_id"] == "1000"));
}

/// Every alert shape that crashed the reference yields a valid bundle here.
#[test]
fn odd_alerts_never_crash() {
    let shapes = vec![
        // sysmon commandLine without parentCommandLine (KeyError)
        (
            json!({"srcip": "141.98.81.37", "win": {"eventdata": {"commandLine": "x.exe", "processId": "1"}}}),
            Some(json!(["sysmon"])),
        ),
        // sysmon hashes without image (TypeError)
        (
            json!({"srcip": "141.98.81.37", "win": {"eventdata": {"commandLine": "x.exe", "hashes": "SHA256=AB"}}}),
            Some(json!(["sysmon"])),
        ),
        // traffic with non-IP address values (ValueError)
        (
            json!({"srcip": "141.98.81.37", "dstip": "not-an-ip", "dstport": "22", "srcport": "x"}),
            Some(json!(["sshd"])),
        ),
        // traffic lacking a destination address (AttributeError)
        (
            json!({"srcip": "141.98.81.37", "srcport": "1", "dstport": "2"}),
            Some(json!(["sshd"])),
        ),
        // alert without rule.groups (TypeError)
        (json!({"srcip": "141.98.81.37", "dstip": "10.0.0.1"}), None),
        // vulnerability with only some fields (KeyError on prefix stripping)
        (
            json!({"srcip": "141.98.81.37", "vulnerability": {"cve": "CVE-2024-1"}}),
            Some(json!(["vulnerability-detector"])),
        ),
        (
            json!({"srcip": "141.98.81.37", "vulnerability": {"package": {"name": "p"}}}),
            Some(json!(["vulnerability-detector"])),
        ),
        (
            json!({"srcip": "141.98.81.37", "vulnerability": "a string"}),
            Some(json!(["x"])),
        ),
        // wrong types everywhere
        (
            json!({"srcip": ["141.98.81.37", 5, null], "url": {"x": 1}, "srcuser": 42, "win": {"eventdata": {"commandLine": ["a"], "processId": "-5"}}, "audit": {"execve": "x"}}),
            Some(json!("one-group")),
        ),
    ];
    for (data, groups) in shapes {
        let objs = context(data.clone(), groups);
        assert!(!of_type(&objs, "sighting").is_empty(), "{data}");
    }
    // Agent with a non-IP address and a non-numeric id (ValueError in the reference).
    let mut a = alert(
        "z",
        "2026-11-27T10:00:00.000Z",
        ("abc", "h"),
        ("100", 5),
        json!({"srcip": "141.98.81.37"}),
    );
    a.agent.ip = Some("not-an-ip".into());
    let mut b = alert(
        "y",
        "2026-11-27T10:00:01.000Z",
        ("007", "h7"),
        ("100", 5),
        json!({"srcip": "141.98.81.37"}),
    );
    b.agent.ip = Some("garbage".into());
    let k = ip_case(vec![a, b]).build().unwrap();
    assert_eq!(of_type(&k.objects, "sighting").len(), 2);
    assert!(
        !of_type(&k.objects, "relationship")
            .iter()
            .any(|r| r["description"]
                == "The Wazuh agent had this IP address in the given time frame")
    );
}

#[test]
fn bundles_are_deduplicated_and_deterministic() {
    let a = ip_case(ip_alerts()).build().unwrap();
    let b = ip_case(ip_alerts()).build().unwrap();
    no_duplicate_ids(&a.objects);
    assert_eq!(a, b);
    assert!(
        a.message.contains("7 alert(s) in 3 system(s)"),
        "{}",
        a.message
    );
}

#[test]
fn markings_author_and_confidence_on_every_object() {
    let mut c = ip_case(ip_alerts());
    c.options.tlps = vec![connector_wazuh::config::Tlp::Green.marking_id().to_string()];
    let k = c.build().unwrap();
    for o in &k.objects {
        assert_eq!(
            o["object_marking_refs"],
            json!([connector_wazuh::config::Tlp::Green.marking_id()]),
            "{o}"
        );
        assert_eq!(o["confidence"], 100);
        let author = connector_wazuh::stix::id::author(&c.options.author_name);
        if o["id"] != author.as_str() {
            assert_eq!(o["created_by_ref"], author.as_str());
        }
    }
}

#[test]
fn knowledge_from_alerts_held_as_text_is_the_same_and_leaves_them_as_text() {
    // As the indexer client reads them: each alert keeps its `_source` as text.
    let as_text: Vec<Alert> = ip_alerts()
        .iter()
        .map(|a| {
            let raw =
                serde_json::value::RawValue::from_string(a.source.value().to_string()).unwrap();
            Alert::from_raw(&a.doc_id, &a.index, raw).unwrap()
        })
        .collect();
    assert!(as_text.iter().all(|a| !a.source.is_parsed()));
    let case = ip_case(as_text);
    let from_text = case.build().unwrap();
    let from_values = ip_case(ip_alerts()).build().unwrap();
    assert_eq!(from_text.objects, from_values.objects);
    assert!(
        of_type(&from_text.objects, "note").len() > 1,
        "alert notes read the documents"
    );
    // Notes and context objects parsed each document for themselves and let it go.
    assert!(case.result.alerts.iter().all(|a| !a.source.is_parsed()));
}
