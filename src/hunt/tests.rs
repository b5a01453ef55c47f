use std::collections::BTreeSet;
use std::net::Ipv4Addr;

use chrono::{TimeZone, Utc};
use serde_json::{json, Value};

use super::detect::{MAX_TERMS_CLAUSES, MAX_TERMS_VALUES};
use super::*;
use crate::config::options::SearchOptions;

const ALERTS: &str = include_str!("../../tests/fixtures/wazuh/alerts.ndjson");

/// Line `n` (from 1) of the fixture alerts, as a hit of `hits.hits`.
fn hit(n: usize) -> Value {
    let line = ALERTS.lines().nth(n - 1).unwrap();
    json!({"_source": serde_json::from_str::<Value>(line).unwrap()})
}

fn stix(id: &str, pattern: &str) -> Huntable {
    Huntable {
        id: id.into(),
        pattern: pattern.into(),
        pattern_type: "stix".into(),
    }
}

const SYSMON_SHA256: &str = "CE9F70E104C07D92FC05FBD6000839FD6A87FF010E706396F87DD679244ED97B";
const SYSMON2_MD5: &str = "8a2122e8162dbef04694b9c3e0b6cdee";

fn mix() -> Vec<Huntable> {
    vec![
        stix("ind-ip4", "[ipv4-addr:value = '82.202.219.155']"),
        stix(
            "ind-ip6",
            "[ipv6-addr:value = '2606:4700:4700:0:0:0:0:1111']",
        ),
        stix(
            "ind-dom",
            "[domain-name:value = 'Mirrors.AdvancedHosters.com']",
        ),
        stix(
            "ind-sha",
            &format!("[file:hashes.'SHA-256' = '{SYSMON_SHA256}']"),
        ),
        stix("ind-md5", &format!("[file:hashes.MD5 = '{SYSMON2_MD5}']")),
        stix("ind-url", "[url:value = 'http://evil.example/a']"),
        stix(
            "ind-and",
            "[ipv4-addr:value = '1.2.3.4'] AND [domain-name:value = 'x.org']",
        ),
        stix(
            "ind-rep",
            "[ipv4-addr:value = '45.155.205.233'] REPEATS 2 TIMES",
        ),
        Huntable {
            id: "ind-sigma".into(),
            pattern: "title: x".into(),
            pattern_type: "Sigma".into(),
        },
        stix("ind-bad", "[ipv4-addr:value = "),
        stix("ind-512", "[file:hashes.'SHA-512' = 'ab']"),
    ]
}

fn window() -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
    (
        Utc.with_ymd_and_hms(2024, 7, 3, 21, 40, 0).unwrap(),
        Utc.with_ymd_and_hms(2024, 7, 3, 21, 45, 0).unwrap(),
    )
}

fn requests(plan: &DetectionPlan) -> Vec<DetectRequest> {
    let (from, to) = window();
    plan.requests(&from, &to, "@timestamp", 500)
}

/// Every indicator any request of the plan attributes `hit` to.
fn found(plan: &DetectionPlan, hit: &Value) -> BTreeSet<String> {
    requests(plan)
        .iter()
        .flat_map(|r| plan.attribute(r, hit))
        .collect()
}

fn terms_list<'a>(reqs: &'a [DetectRequest], field: &str) -> Vec<&'a str> {
    reqs.iter()
        .flat_map(|r| r.body["query"]["bool"]["should"].as_array().unwrap())
        .filter_map(|c| c["terms"][field].as_array())
        .flatten()
        .filter_map(Value::as_str)
        .collect()
}

#[test]
fn the_summary_counts_planned_and_skipped_indicators() {
    let s = DetectionPlan::new(&mix(), &SearchOptions::default()).summary();
    let kinds: Vec<(&str, usize)> = s.atoms_by_kind.iter().map(|(k, n)| (*k, *n)).collect();
    assert_eq!(
        kinds,
        vec![
            ("domain", 1),
            ("ip", 2),
            ("md5", 1),
            ("sha256", 1),
            ("url", 1)
        ]
    );
    assert_eq!((s.atomic, s.complex), (6, 2));
    let skipped: Vec<&str> = s.skipped.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(skipped, vec!["ind-512", "ind-bad", "ind-sigma"]);
    let why = |id: &str| &s.skipped.iter().find(|(i, _)| i == id).unwrap().1;
    assert!(why("ind-sigma").contains("'Sigma' is not supported"));
    assert!(why("ind-bad").contains("invalid STIX pattern"));
    assert!(why("ind-512").contains("SHA-512"));
    assert!(s.field_patterns.contains(&"*.srcip".to_string()));
}

#[test]
fn private_addresses_and_other_pattern_types_are_skipped_with_the_reason() {
    let plan = DetectionPlan::new(
        &[stix("p", "[ipv4-addr:value = '10.0.0.1']")],
        &SearchOptions::default(),
    );
    let s = plan.summary();
    assert!(s.skipped[0].1.contains("WAZUH_SEARCH_IGNORE_PRIVATE_ADDRS"));
    assert!(plan.is_empty());
}

#[test]
fn requests_filter_the_window_and_list_every_spelling() {
    let plan = DetectionPlan::new(&mix(), &SearchOptions::default());
    let reqs = requests(&plan);
    let labels: Vec<&str> = reqs.iter().map(|r| r.label.as_str()).collect();
    assert_eq!(
        labels,
        vec![
            "terms ip+domain+url+md5+sha256 1/1",
            "composite ip+domain+url+md5+sha256 1/1",
            "patterns 1/1"
        ]
    );
    for r in &reqs {
        let b = &r.body;
        assert_eq!(
            b["query"]["bool"]["filter"][0]["range"]["@timestamp"],
            json!({"gte": "2024-07-03T21:40:00.000Z", "lt": "2024-07-03T21:45:00.000Z"})
        );
        assert_eq!(b["query"]["bool"]["minimum_should_match"], 1);
        assert_eq!(b["size"], 500);
        assert_eq!(b["sort"], json!([{"@timestamp": "asc"}]));
        assert_eq!(b["track_total_hits"], false);
    }
    // Addresses: as written, canonical, IPv6 in full; only IPv4 in free text.
    let srcip = terms_list(&reqs, "data.srcip");
    for v in [
        "82.202.219.155",
        "2606:4700:4700:0:0:0:0:1111",
        "2606:4700:4700::1111",
        "2606:4700:4700:0000:0000:0000:0000:1111",
    ] {
        assert!(srcip.contains(&v), "{v}");
    }
    assert_eq!(terms_list(&reqs, "full_log"), vec!["82.202.219.155"]);
    // DNS names: any case, with and without the root dot.
    let qn = terms_list(&reqs, "data.gcp.jsonPayload.queryName");
    for v in [
        "Mirrors.AdvancedHosters.com",
        "mirrors.advancedhosters.com.",
        "MIRRORS.ADVANCEDHOSTERS.COM",
    ] {
        assert!(qn.contains(&v), "{v}");
    }
    let sha = terms_list(&reqs, "syscheck.sha256_after");
    assert!(sha.contains(&SYSMON_SHA256));
    assert!(sha.contains(&SYSMON_SHA256.to_lowercase().as_str()));
    // Field patterns are never a `terms` field; the agent's own address is not searched.
    let terms = &reqs[0].body["query"]["bool"]["should"];
    let text = terms.to_string();
    assert!(!text.contains('*') && !text.contains("\"agent.ip\""));
    // Attribution reads the searched fields (and the exclusion field), nothing else.
    let source: Vec<&str> = reqs[0].body["_source"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(source.contains(&"data.srcip") && source.contains(&"agent.ip"));
    assert!(!source.contains(&"data.win.eventdata.hashes"));
    // Lists inside strings: `exists`, read locally.
    let composite = &reqs[1].body;
    assert!(composite["query"]["bool"]["should"]
        .as_array()
        .unwrap()
        .contains(&json!({"exists": {"field": "data.win.eventdata.hashes"}})));
    assert!(!composite.to_string().contains("rule.description"));
    assert_eq!(reqs[2].body["_source"], false);
}

#[test]
fn the_same_indicators_give_the_same_requests_in_any_order() {
    let opts = SearchOptions::default();
    let mut reversed = mix();
    reversed.reverse();
    let a = requests(&DetectionPlan::new(&mix(), &opts));
    let b = requests(&DetectionPlan::new(&reversed, &opts));
    assert_eq!(a, b);
}

#[test]
fn a_hundred_thousand_addresses_take_a_few_requests_under_the_limits() {
    let opts = SearchOptions::default();
    let ind: Vec<Huntable> = (0..100_000u32)
        .map(|i| {
            let a = Ipv4Addr::from(0x0B00_0000 + i * 7);
            stix(
                &format!("indicator--{i:06}"),
                &format!("[ipv4-addr:value = '{a}']"),
            )
        })
        .collect();
    let plan = DetectionPlan::new(&ind, &opts);
    assert_eq!(plan.summary().atoms_by_kind.get("ip"), Some(&100_000));
    let (from, to) = window();
    let mut terms = 0;
    for i in 0..plan.len() {
        let r = plan.request(i, &from, &to, "@timestamp", 1000).unwrap();
        let should = r.body["query"]["bool"]["should"].as_array().unwrap();
        assert!(should.len() <= MAX_TERMS_CLAUSES);
        for c in should {
            if let Some(t) = c["terms"].as_object() {
                for list in t.values() {
                    assert!(list.as_array().unwrap().len() <= MAX_TERMS_VALUES);
                }
            }
        }
        terms += usize::from(r.label.starts_with("terms"));
    }
    // 100,000 values listed once per address field: 12 `terms` requests of about 4 MiB
    // (measured), plus the one `exists` request for the lists read locally.
    eprintln!(
        "100,000 IPv4 indicators: {} requests, {terms} terms",
        plan.len()
    );
    assert!(plan.len() <= 30, "{} requests", plan.len());
    assert!(terms >= 10, "{terms} terms requests");
}

#[test]
fn hits_are_attributed_to_exactly_the_indicators_they_hold() {
    let plan = DetectionPlan::new(&mix(), &SearchOptions::default());
    let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    // sshd: `data.srcip` and the address in `full_log`.
    assert_eq!(found(&plan, &hit(14)), ids(&["ind-ip4"]));
    // GCP DNS: the query name ends with the root dot.
    assert_eq!(found(&plan, &hit(43)), ids(&["ind-dom"]));
    // Sysmon: the hashes are one `SHA1=…,MD5=…,SHA256=…` string.
    assert_eq!(found(&plan, &hit(1)), ids(&["ind-sha"]));
    assert_eq!(found(&plan, &hit(2)), ids(&["ind-md5"]));
    assert!(found(&plan, &hit(15)).is_empty());
    // A literal dotted key, an array of values, an IPv6 spelling.
    let doc =
        json!({"_source": {"data.srcip": ["9.9.9.9", "2606:4700:4700:0000:0000:0000:0000:1111"]}});
    assert_eq!(found(&plan, &doc), ids(&["ind-ip6"]));
    // The agent's own address is no sighting.
    let own = json!({"_source": {"agent": {"ip": "82.202.219.155"}, "data": {"srcip": "82.202.219.155"}}});
    assert!(found(&plan, &own).is_empty());
}

#[test]
fn look_alike_values_are_not_attributed() {
    let plan = DetectionPlan::new(
        &[
            stix("pre", "[ipv4-addr:value = '82.202.219.15']"),
            stix("suf", "[domain-name:value = 'advancedhosters.com']"),
            stix(
                "hash",
                &format!("[file:hashes.'SHA-256' = '{}']", &SYSMON_SHA256[..63]),
            ),
            stix("host", "[domain-name:value = 'mirrors.advancedhosters']"),
        ],
        &SearchOptions::default(),
    );
    for n in [1, 2, 14, 43] {
        assert!(found(&plan, &hit(n)).is_empty(), "alert {n}");
    }
}

#[test]
fn complex_patterns_are_attributed_by_their_query_names() {
    let plan = DetectionPlan::new(&mix(), &SearchOptions::default());
    let reqs = requests(&plan);
    let patterns = reqs
        .iter()
        .find(|r| r.label.starts_with("patterns"))
        .unwrap();
    let names: Vec<&str> = patterns.body["query"]["bool"]["should"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["bool"]["_name"].as_str())
        .collect();
    let mut got = BTreeSet::new();
    for n in &names {
        let ids = plan.attribute(patterns, &json!({"matched_queries": [n]}));
        assert_eq!(ids.len(), 1);
        got.extend(ids);
    }
    assert_eq!(got, BTreeSet::from(["ind-and".into(), "ind-rep".into()]));
    let both = json!({"matched_queries": {names[0]: 1.0, names[1]: 1.0}});
    assert_eq!(plan.attribute(patterns, &both).len(), 2);
    assert!(plan
        .attribute(patterns, &json!({"matched_queries": ["h999"]}))
        .is_empty());
    // A request of another plan proves nothing here.
    let other = DetectionPlan::new(&mix()[..1], &SearchOptions::default());
    assert!(other
        .attribute(patterns, &json!({"matched_queries": [names[0]]}))
        .is_empty());
}

#[test]
fn a_full_page_continues_from_its_last_millisecond() {
    let b = json!({"query": {"bool": {"filter": [{"range": {"@timestamp": {"gte": "2024-07-03T21:40:00.000Z", "lt": "2024-07-03T21:45:00.000Z"}}}]}}});
    let hit = |t: i64| json!({"sort": [t]});
    let next = next_page(&b, &[hit(10), hit(20)], 2, "@timestamp").unwrap();
    assert_eq!(
        next["query"]["bool"]["filter"][0]["range"]["@timestamp"]["gte"],
        json!(20)
    );
    assert_eq!(
        next["query"]["bool"]["filter"][0]["range"]["@timestamp"]["lt"],
        json!("2024-07-03T21:45:00.000Z")
    );
    // Not full: the request is done; one millisecond only: no progress possible.
    assert!(next_page(&b, &[hit(10)], 2, "@timestamp").is_none());
    assert!(next_page(&b, &[hit(10), hit(10)], 2, "@timestamp").is_none());
}
