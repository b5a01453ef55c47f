//! Queries run on a real OpenSearch-compatible server (osmem-server) holding the Wazuh
//! template and the 53 sample alerts: every observable finds exactly the alerts that contain
//! it (asserted as `rule.id/agent.id` sets) and its look-alikes find nothing.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use crate::testkit::osmem::Osmem;
use chrono::{TimeZone, Utc};
use connector_wazuh::alert::SearchResult;
use connector_wazuh::config::options::{KnowledgeOptions, SearchOptions};
use connector_wazuh::config::{FieldMatch, IndexerSettings};
use connector_wazuh::indexer::{IndexerClient, IndexerError};

use connector_wazuh::search::envelope::SearchRequest;
use connector_wazuh::search::{observable, query};
use serde_json::{json, Value};

pub fn settings(url: &str) -> IndexerSettings {
    IndexerSettings {
        // Generous: osmem's aggregations are slow on a loaded machine, and no test here is
        // about timeouts.
        timeout: Duration::from_secs(60),
        retries: 1,
        ..crate::testkit::settings::indexer(url)
    }
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
}

async fn run(
    client: &IndexerClient,
    s: &IndexerSettings,
    entity_type: &str,
    stix: Value,
    opts: &SearchOptions,
) -> Option<SearchResult> {
    let refs: HashMap<String, Value> = HashMap::new();
    let obs = observable::from_stix(entity_type, &stix, &refs).unwrap();
    let q = query::build(&obs, opts).unwrap()?;
    let req = SearchRequest::new(q, s, &KnowledgeOptions::default(), now());
    Some(client.search(&req).await.unwrap())
}

fn keys(r: &SearchResult) -> BTreeSet<String> {
    r.alerts
        .iter()
        .map(|a| format!("{}/{}", a.rule.id, a.agent.id))
        .collect()
}

fn set(v: &[&str]) -> BTreeSet<String> {
    v.iter().map(|s| s.to_string()).collect()
}

struct Case {
    entity_type: &'static str,
    stix: Value,
    expected: &'static [&'static str],
}

fn cases() -> Vec<Case> {
    let c = |entity_type, stix, expected| Case {
        entity_type,
        stix,
        expected,
    };
    vec![
        c(
            "IPv4-Addr",
            json!({"value": "45.75.196.15"}),
            &["31101/002", "30306/006", "5712/006"],
        ),
        c("IPv4-Addr", json!({"value": "45.75.196.1"}), &[]),
        c(
            "IPv4-Addr",
            json!({"value": "218.92.0.222"}),
            &["99919/006", "99904/011", "99905/007", "99915/012"],
        ),
        c(
            "Domain-Name",
            json!({"value": "qouv.fr"}),
            &["99917/012", "99918/012"],
        ),
        c("Domain-Name", json!({"value": "ouv.fr"}), &[]),
        c(
            "Hostname",
            json!({"value": "img-s-msn-com.akamaized.net"}),
            &["61650/004"],
        ),
        c(
            "StixFile",
            json!({"name": "cmd.exe"}),
            &["92002/003", "92004/005"],
        ),
        c(
            "StixFile",
            json!({"name": "CMD.EXE"}),
            &["92002/003", "92004/005"],
        ),
        c("StixFile", json!({"name": "md.exe"}), &[]),
        c(
            "StixFile",
            json!({"name": "C:\\Windows\\System32\\cmd.exe"}),
            &["92002/003", "92004/005"],
        ),
        c(
            "StixFile",
            json!({"name": "D:\\Windows\\System32\\cmd.exe"}),
            &[],
        ),
        c(
            "StixFile",
            json!({"name": "/usr/bin/kworkerd"}),
            &["554/011", "87105/011"],
        ),
        // The VirusTotal alert carries the SHA-256 only inside its permalink URL.
        c(
            "StixFile",
            json!({"hashes": {"SHA-256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}),
            &["554/011", "87105/011"],
        ),
        c(
            "StixFile",
            json!({"hashes": {"MD5": "44d88612fea8a8f36de82e1278abb02f"}}),
            &["554/011", "87105/011"],
        ),
        c(
            "Artifact",
            json!({"hashes": {"SHA-256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f"}}),
            &["554/011", "87105/011"],
        ),
        c(
            "Artifact",
            json!({"hashes": {"SHA-256": "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0e"}}),
            &[],
        ),
        // Files in /usr/bin (search-filenames): syscheck.path /usr/bin/kworkerd,
        // data.audit.file.name /usr/bin/curl, the VirusTotal source file and the whodata
        // process /usr/bin/vi.
        c(
            "Directory",
            json!({"path": "/usr/bin/"}),
            &["550/011", "554/011", "80792/011", "87105/011"],
        ),
        c("Directory", json!({"path": "/usr/bi"}), &[]),
        // The Sysmon process (image and command lines), and the Sysmon registry event whose
        // value data is a script in the directory (`details`).
        c(
            "Directory",
            json!({"path": "C:\\Users\\Public"}),
            &["92003/004", "92301/004"],
        ),
        c(
            "Windows-Registry-Key",
            json!({"key": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run"}),
            &["92301/004", "752/003"],
        ),
        c(
            "Windows-Registry-Key",
            json!({"key": "hkey_local_machine\\software\\microsoft\\windows\\currentversion\\run\\"}),
            &["92301/004", "752/003"],
        ),
        c(
            "Windows-Registry-Key",
            json!({"key": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\RunOnce"}),
            &[],
        ),
        c(
            "Windows-Registry-Key",
            json!({"key": "CurrentVersion\\Run"}),
            &["92301/004", "752/003"],
        ),
        c(
            "Vulnerability",
            json!({"name": "CVE-2024-6387"}),
            &["23505/011"],
        ),
        c("Vulnerability", json!({"name": "CVE-2024-638"}), &[]),
        c(
            "Software",
            json!({"name": "openssh-server"}),
            &["23505/011"],
        ),
        c(
            "Software",
            json!({"name": "openssh-server", "version": "1:8.9p1-3ubuntu0.6"}),
            &["23505/011"],
        ),
        c(
            "Software",
            json!({"name": "openssh-server", "version": "1:8.9p1"}),
            &[],
        ),
        c(
            "User-Account",
            json!({"account_login": "jdoe"}),
            &["80254/000", "80202/000"],
        ),
        c(
            "User-Account",
            json!({"account_login": "sammy"}),
            &["5710/011"],
        ),
        c("User-Account", json!({"account_login": "samm"}), &[]),
        c("Url", json!({"value": "/cgi-bin/status"}), &["31166/010"]),
        c("Url", json!({"value": "/cgi-bin/statu"}), &[]),
        c(
            "User-Agent",
            json!({"value": "Mozilla/5.0 (Windows NT 10.0; Win64; x64)"}),
            &["99917/012"],
        ),
        c(
            "Process",
            json!({"command_line": "\"C:\\Windows\\System32\\cmd.exe\" /k wscript.exe \"C:\\Users\\AtomicRedTeamTest\\AppData\\Roaming\\TransBaseOdbcDriver\\TransBaseOdbcDriver.js\""}),
            &["92002/003"],
        ),
        c(
            "Process",
            json!({"command_line": "cmd.exe /k wscript.exe"}),
            &["92002/003"],
        ),
        c(
            "Process",
            json!({"command_line": "cmd.exe /k script.exe"}),
            &[],
        ),
        c(
            "Process",
            json!({"command_line": "cmd.exe /k wscript.ex"}),
            &[],
        ),
        c(
            "Process",
            json!({"command_line": "curl -s -o /tmp/.x/kworker"}),
            &["80792/011"],
        ),
        c(
            "Process",
            json!({"command_line": "curl -s -o /tmp/.x/kworke"}),
            &[],
        ),
    ]
}

#[tokio::test]
async fn every_entity_type_finds_exactly_its_alerts() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    // Most sample alerts with a source IP are dashboard sample data (`@sampledata`).
    let s = IndexerSettings {
        exclude_sample_data: false,
        ..settings(&os.url)
    };
    let client = IndexerClient::new(&s).unwrap();
    let opts = SearchOptions::default();
    let mut failures = Vec::new();
    for case in cases() {
        let got = run(&client, &s, case.entity_type, case.stix.clone(), &opts)
            .await
            .map(|r| keys(&r))
            .unwrap_or_default();
        if got != set(case.expected) {
            failures.push(format!(
                "{} {}: expected {:?}, got {:?}",
                case.entity_type, case.stix, case.expected, got
            ));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn envelope_filters_apply_on_the_indexer() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let base = settings(&os.url);
    let client = IndexerClient::new(&base).unwrap();
    let opts = SearchOptions::default();
    let ip = json!({"value": "45.75.196.15"});
    // Sample data excluded by default: these three alerts are dashboard sample alerts.
    let r = run(&client, &base, "IPv4-Addr", ip.clone(), &opts)
        .await
        .unwrap();
    assert_eq!(r.total, 0);
    let with_samples = IndexerSettings {
        exclude_sample_data: false,
        ..settings(&os.url)
    };
    let r = run(&client, &with_samples, "IPv4-Addr", ip.clone(), &opts)
        .await
        .unwrap();
    assert_eq!(r.total, 3);
    // Newest first: 2026-11-26 (5712), 2026-11-22 (30306 then 31101 by time).
    let order: Vec<&str> = r.alerts.iter().map(|a| a.rule.id.as_str()).collect();
    assert_eq!(order[0], "5712", "{order:?}");
    // Rule exclusion happens in the indexer, so totals stay exact.
    let mut k = KnowledgeOptions::default();
    k.rule_exclude_list.insert("5712".into());
    let obs = observable::from_stix("IPv4-Addr", &ip, &HashMap::new()).unwrap();
    let q = query::build(&obs, &opts).unwrap().unwrap();
    let r2 = client
        .search(&SearchRequest::new(q.clone(), &with_samples, &k, now()))
        .await
        .unwrap();
    assert_eq!(keys(&r2), set(&["31101/002", "30306/006"]));
    assert_eq!(r2.total, 2);
    // Include filter and raw filter clauses are ANDed.
    let inc = IndexerSettings {
        include_match: vec![FieldMatch {
            field: "agent.id".into(),
            query: "006".into(),
        }],
        filter: vec![json!({"term": {"rule.id": "30306"}})],
        ..with_samples.clone()
    };
    let r3 = client
        .search(&SearchRequest::new(
            q.clone(),
            &inc,
            &KnowledgeOptions::default(),
            now(),
        ))
        .await
        .unwrap();
    assert_eq!(keys(&r3), set(&["30306/006"]));
    // Time window: relative bound 3 days before 2026-11-28 keeps only the 2026-11-26 alert.
    let recent = IndexerSettings {
        search_after: Some(connector_wazuh::config::TimeBound::Relative(
            Duration::from_secs(3 * 86400),
        )),
        ..with_samples.clone()
    };
    let r4 = client
        .search(&SearchRequest::new(
            q,
            &recent,
            &KnowledgeOptions::default(),
            now(),
        ))
        .await
        .unwrap();
    assert_eq!(keys(&r4), set(&["5712/006"]));
    // Per-agent statistics.
    let a006 = r.agents.iter().find(|a| a.agent.id == "006").unwrap();
    assert_eq!(a006.count, 2);
    assert_eq!(a006.rules.len(), 2);
}

/// Searches an IPv4 address with a long timeout: osmem-server computes aggregations far slower
/// than OpenSearch, and on a loaded test machine one request can take several seconds.
async fn search_ip_patiently(os: &Osmem, ip: &str) -> SearchResult {
    let s = IndexerSettings {
        timeout: Duration::from_secs(90),
        retries: 0,
        ..settings(&os.url)
    };
    let client = IndexerClient::new(&s).unwrap();
    run(
        &client,
        &s,
        "IPv4-Addr",
        json!({"value": ip}),
        &SearchOptions::default(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn exact_statistics_beyond_the_limit() {
    let os = Osmem::start().await;
    os.apply_wazuh_template().await;
    // 2,000 alerts for one IP over 3 agents: agent 001 gets every 1st of 3, etc.
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let docs: Vec<Value> = (0..2000)
        .map(|i| {
            let agent = format!("00{}", i % 3 + 1);
            let rule = if i % 2 == 0 { "5710" } else { "5712" };
            let t = start + chrono::Duration::minutes(i as i64 * 7);
            json!({
                "@timestamp": t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "timestamp": t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                "rule": {"id": rule, "level": if rule == "5710" { 5 } else { 10 }, "description": format!("rule {rule}")},
                "agent": {"id": agent, "name": format!("host-{agent}"), "ip": format!("10.0.0.{}", i % 3 + 1)},
                "data": {"srcip": "141.98.81.37"}
            })
        })
        .collect();
    os.bulk_index("wazuh-alerts-4.x-2026.11.01", docs).await;
    let r = search_ip_patiently(&os, "141.98.81.37").await;
    assert_eq!(r.total, 2000);
    assert_eq!(
        r.alerts.len(),
        50,
        "only the newest `limit` alerts are fetched"
    );
    let newest = start + chrono::Duration::minutes(1999 * 7);
    assert_eq!(
        r.alerts[0].timestamp,
        newest.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    );
    let mut agents = r.agents.clone();
    agents.sort_by(|a, b| a.agent.id.cmp(&b.agent.id));
    assert_eq!(agents.len(), 3);
    let counts: Vec<u64> = agents.iter().map(|a| a.count).collect();
    assert_eq!(counts, vec![667, 667, 666]);
    let fmt = |i: i64| {
        (start + chrono::Duration::minutes(i * 7))
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    // Agent 001: i = 0, 3, …, 1998; 002: 1 … 1999; 003: 2 … 1997.
    assert_eq!(
        (agents[0].first_seen.as_str(), agents[0].last_seen.as_str()),
        (fmt(0).as_str(), fmt(1998).as_str())
    );
    assert_eq!(
        (agents[1].first_seen.as_str(), agents[1].last_seen.as_str()),
        (fmt(1).as_str(), fmt(1999).as_str())
    );
    assert_eq!(
        (agents[2].first_seen.as_str(), agents[2].last_seen.as_str()),
        (fmt(2).as_str(), fmt(1997).as_str())
    );
    assert_eq!(agents[0].agent.name, "host-001");
    assert_eq!(agents[0].agent.ip.as_deref(), Some("10.0.0.1"));
    assert_eq!(agents[0].max_rule_level, 10);
    // Per-agent rule stats: agent 001 has i ≡ 0 mod 3; even i → 5710 (334), odd → 5712 (333).
    let r001: HashMap<&str, u64> = agents[0]
        .rules
        .iter()
        .map(|r| (r.rule_id.as_str(), r.count))
        .collect();
    assert_eq!(r001.get("5710"), Some(&334));
    assert_eq!(r001.get("5712"), Some(&333));
    let overall: HashMap<&str, (u64, u8, &str)> = r
        .rules
        .iter()
        .map(|x| {
            (
                x.rule_id.as_str(),
                (x.count, x.level, x.description.as_str()),
            )
        })
        .collect();
    assert_eq!(overall.get("5710"), Some(&(1000, 5, "rule 5710")));
    assert_eq!(overall.get("5712"), Some(&(1000, 10, "rule 5712")));
}

/// One agent with 60 distinct rules overflows the lean agents → rules tree (50 rules per
/// agent): the client must notice and fetch exact statistics, so the agent's span and highest
/// level include the 10 rare rules the lean tree left out, and the overall rules list all 60.
#[tokio::test]
async fn statistics_stay_exact_when_an_agent_has_more_rules_than_the_bucket_bound() {
    let os = Osmem::start().await;
    os.apply_wazuh_template().await;
    let start = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap();
    let ts = |m: i64| {
        (start + chrono::Duration::minutes(m)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    let doc = |rule: usize, level: u8, minute: i64| {
        json!({
            "@timestamp": ts(minute), "timestamp": ts(minute),
            "rule": {"id": format!("{}", 100_000 + rule), "level": level, "description": format!("rule {rule}")},
            "agent": {"id": "007", "name": "host-007", "ip": "10.0.0.7"},
            "data": {"srcip": "45.83.64.77"}
        })
    };
    // Rules 0–49: two alerts each, level 3, minutes 100…199. Rules 50–59: one alert each (so
    // they fall outside the 50 most frequent), the oldest and the newest alerts, and rule 59
    // is the only level-15 rule.
    let mut docs: Vec<Value> = (0..50)
        .flat_map(|r| [doc(r, 3, 100 + 2 * r as i64), doc(r, 3, 101 + 2 * r as i64)])
        .collect();
    docs.extend((50..59).map(|r| doc(r, 4, r as i64 - 50)));
    docs.push(doc(59, 15, 10_000));
    os.bulk_index("wazuh-alerts-4.x-2026.11.01", docs).await;
    let r = search_ip_patiently(&os, "45.83.64.77").await;
    assert_eq!(r.total, 110);
    assert_eq!(r.agents.len(), 1);
    let a = &r.agents[0];
    assert_eq!(a.count, 110);
    assert_eq!(
        (a.first_seen.as_str(), a.last_seen.as_str()),
        (ts(0).as_str(), ts(10_000).as_str())
    );
    assert_eq!(
        a.max_rule_level, 15,
        "the level of a rule outside the 50 most frequent counts"
    );
    assert_eq!(a.agent.name, "host-007");
    assert_eq!(r.rules.len(), 60, "overall statistics list every rule");
    let r59 = r.rules.iter().find(|x| x.rule_id == "100059").unwrap();
    assert_eq!(
        (r59.count, r59.level, r59.description.as_str()),
        (1, 15, "rule 59")
    );
    assert_eq!(r.rules.iter().map(|x| x.count).sum::<u64>(), 110);
}

#[tokio::test]
async fn indexer_errors_are_clear() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let s = settings(&os.url);
    let client = IndexerClient::new(&s).unwrap();
    let report = client.check("wazuh-alerts-*").await.unwrap();
    assert_eq!(report.documents, 53);
    let missing = client.check("no-such-index-*").await.unwrap_err();
    assert!(matches!(missing, IndexerError::NoIndex(_)), "{missing}");
    assert!(!missing.is_transient());
    // A malformed query: 400 with OpenSearch's reason.
    let bad = SearchRequest::new(
        json!({"regexp": {"data.url": {"value": "(unclosed"}}}),
        &s,
        &KnowledgeOptions::default(),
        now(),
    );
    let e = client.search(&bad).await.unwrap_err();
    assert!(matches!(e, IndexerError::BadRequest(_)), "{e}");
    assert!(
        e.to_string().contains("HTTP 400") && e.to_string().contains("permanent"),
        "{e}"
    );
    // Nothing listening (the discard port): a transient connection error after the bounded
    // retries.
    let down = IndexerClient::new(&settings("http://127.0.0.1:9")).unwrap();
    let e = down.check("wazuh-alerts-*").await.unwrap_err();
    assert!(matches!(e, IndexerError::Connection(_)), "{e}");
    assert!(e.is_transient());
}

#[tokio::test]
async fn vulnerability_state_index_counts_current_agents() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let client_http = reqwest::Client::new();
    let r = client_http
        .put(format!(
            "{}/_index_template/wazuh-states-vulnerabilities",
            os.url
        ))
        .header("content-type", "application/json")
        .body(include_str!(
            "../fixtures/wazuh/wazuh-states-vulnerabilities-template-4.14.7.json"
        ))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let state = |agent: &str, name: &str, cve: &str, pkg: &str, ver: &str| {
        json!({"agent": {"id": agent, "name": name},
               "vulnerability": {"id": cve, "severity": "High"},
               "package": {"name": pkg, "version": ver}})
    };
    os.bulk_index(
        "wazuh-states-vulnerabilities-wazuh-manager",
        vec![
            state(
                "011",
                "srv",
                "CVE-2024-6387",
                "openssh-server",
                "1:8.9p1-3ubuntu0.6",
            ),
            state(
                "002",
                "web-01",
                "CVE-2024-6387",
                "openssh-server",
                "1:8.9p1-3ubuntu0.6",
            ),
            state("003", "db-01", "CVE-2024-6387", "openssh-server", "1:9.0p1"),
            state(
                "002",
                "web-01",
                "CVE-2023-38408",
                "openssh-server",
                "1:8.9p1-3ubuntu0.6",
            ),
            state("004", "mail", "CVE-2024-3094", "xz-utils", "5.6.0"),
        ],
    )
    .await;
    let s = IndexerSettings {
        vulnerability_state_index: Some("wazuh-states-vulnerabilities-*".into()),
        ..settings(&os.url)
    };
    let client = IndexerClient::new(&s).unwrap();
    let search = |obs: connector_wazuh::entity::Observable| {
        let q = query::build(&obs, &SearchOptions::default())
            .unwrap()
            .unwrap();
        SearchRequest::new(q, &s, &KnowledgeOptions::default(), now())
            .with_vulnerability_state(&obs, &s)
    };
    use connector_wazuh::entity::Observable;
    let r = client
        .search(&search(Observable::Vulnerability {
            name: "CVE-2024-6387".into(),
        }))
        .await
        .unwrap();
    assert_eq!(keys(&r), set(&["23505/011"]), "alerts are still searched");
    let st = r.vulnerable_agents.unwrap();
    assert_eq!(st.agents, 3);
    assert_eq!(st.agent_names, vec!["db-01", "srv", "web-01"]);
    let r = client
        .search(&search(Observable::Software {
            name: "openssh-server".into(),
            version: Some("1:8.9p1-3ubuntu0.6".into()),
        }))
        .await
        .unwrap();
    let st = r.vulnerable_agents.unwrap();
    assert_eq!(
        (st.agents, st.agent_names),
        (2, vec!["srv".to_string(), "web-01".to_string()])
    );
    let r = client
        .search(&search(Observable::Vulnerability {
            name: "CVE-2000-0001".into(),
        }))
        .await
        .unwrap();
    assert_eq!(r.vulnerable_agents.unwrap().agents, 0);
    // A state index pattern that matches nothing: unknown (None), not "0 agents", and the
    // alert results are still returned.
    let missing = IndexerSettings {
        vulnerability_state_index: Some("no-such-states-*".into()),
        ..settings(&os.url)
    };
    let obs = Observable::Vulnerability {
        name: "CVE-2024-6387".into(),
    };
    let q = query::build(&obs, &SearchOptions::default())
        .unwrap()
        .unwrap();
    let req = SearchRequest::new(q, &missing, &KnowledgeOptions::default(), now())
        .with_vulnerability_state(&obs, &missing);
    let r = client.search(&req).await.unwrap();
    assert_eq!(r.vulnerable_agents, None);
    assert_eq!(keys(&r), set(&["23505/011"]));
    // Other types do not query the state index.
    let r = client
        .search(&search(Observable::Ipv4Addr {
            value: "8.8.8.8".into(),
        }))
        .await
        .unwrap();
    assert_eq!(r.vulnerable_agents, None);
}

#[tokio::test]
async fn metacharacter_values_match_exactly_on_the_indexer() {
    let os = Osmem::start().await;
    os.apply_wazuh_template().await;
    let values = [
        "a.b*c(1)[x]{y}|z?.exe",
        "weird#name@&~<>\"q\".txt",
        "résumé 😀.pdf",
        "back\\slash+plus.dll",
        "tab\there.sh",
        "^$-dash.bin",
    ];
    let lookalikes = [
        "aXb*c(1)[x]{y}|z?.exe",
        "a.b*c(1)[x]{y}|zz.exe",
        "weird#name@&~<>\"q\".txt.bak",
        "resume 😀.pdf",
        "back\\slash++plus.dll",
        "tab here.sh",
        "^$-dash.bi",
    ];
    let docs: Vec<Value> = values
        .iter()
        .chain(lookalikes.iter())
        .enumerate()
        .map(|(i, v)| {
            json!({"@timestamp": "2026-11-27T10:00:00.000Z", "rule": {"id": i.to_string()},
                   "agent": {"id": "001"}, "data": {"win": {"eventdata": {"image": format!("C:\\Temp\\{v}")}}}})
        })
        .collect();
    os.bulk_index("wazuh-alerts-4.x-2026.11.27", docs).await;
    let s = settings(&os.url);
    let client = IndexerClient::new(&s).unwrap();
    for (i, v) in values.iter().enumerate() {
        let r = run(
            &client,
            &s,
            "StixFile",
            json!({"name": v}),
            &SearchOptions::default(),
        )
        .await
        .unwrap();
        let ids: Vec<&str> = r.alerts.iter().map(|a| a.rule.id.as_str()).collect();
        assert_eq!(ids, vec![i.to_string()], "{v:?}");
    }
}

#[tokio::test]
async fn lookup_agent_name_finds_the_agents_alerts() {
    let os = Osmem::start().await;
    let docs = os.load_sample_alerts().await;
    let s = IndexerSettings {
        exclude_sample_data: false,
        ..settings(&os.url)
    };
    let client = IndexerClient::new(&s).unwrap();
    let expected: BTreeSet<String> = docs
        .iter()
        .filter(|d| d["agent"]["name"] == "srv")
        .map(|d| {
            format!(
                "{}/{}",
                d["rule"]["id"].as_str().unwrap(),
                d["agent"]["id"].as_str().unwrap()
            )
        })
        .collect();
    assert!(expected.len() >= 5);
    let off = run(
        &client,
        &s,
        "Hostname",
        json!({"value": "SRV"}),
        &SearchOptions::default(),
    )
    .await
    .unwrap();
    assert_eq!(off.total, 0);
    let on = SearchOptions {
        lookup_agent_name: true,
        ..SearchOptions::default()
    };
    let r = run(&client, &s, "Hostname", json!({"value": "SRV"}), &on)
        .await
        .unwrap();
    assert_eq!(keys(&r), expected);
}

#[tokio::test]
async fn first_and_last_seen_fall_back_to_the_manager_timestamp() {
    // Alerts indexed without Filebeat have `timestamp` but no `@timestamp`.
    let os = Osmem::start().await;
    let docs = os.load_sample_alerts().await;
    let s = IndexerSettings {
        exclude_sample_data: false,
        ..settings(&os.url)
    };
    let client = IndexerClient::new(&s).unwrap();
    let r = run(
        &client,
        &s,
        "IPv4-Addr",
        json!({"value": "218.92.0.222"}),
        &SearchOptions::default(),
    )
    .await
    .unwrap();
    let utc = |t: &str| {
        chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%.3f%z")
            .unwrap()
            .with_timezone(&Utc)
            .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
    };
    for a in &r.agents {
        let times: Vec<String> = docs
            .iter()
            .filter(|d| {
                d["agent"]["id"] == a.agent.id.as_str() && d.to_string().contains("218.92.0.222")
            })
            .map(|d| utc(d["timestamp"].as_str().unwrap()))
            .collect();
        assert!(!times.is_empty());
        assert_eq!(
            &a.first_seen,
            times.iter().min().unwrap(),
            "agent {}",
            a.agent.id
        );
        assert_eq!(
            &a.last_seen,
            times.iter().max().unwrap(),
            "agent {}",
            a.agent.id
        );
        assert_eq!(a.count, times.len() as u64);
    }
    assert_eq!(r.agents.len(), 4);
}
