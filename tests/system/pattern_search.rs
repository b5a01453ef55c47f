//! STIX patterns searched in the sample alerts on a real OpenSearch-compatible server: for each
//! pattern, the alerts found are exactly those that satisfy it (expected rule ids read off
//! `tests/fixtures/wazuh/alerts.ndjson`).

use crate::testkit::osmem::Osmem;
use connector_wazuh::config::options::SearchOptions;
use connector_wazuh::pattern::query_for_pattern;
use serde_json::{json, Value};

async fn rule_ids(os: &Osmem, query: &Value) -> Vec<String> {
    let r: Value = reqwest::Client::new()
        .post(format!("{}/wazuh-alerts-*/_search", os.url))
        .json(&json!({"size": 200, "query": query}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(r.get("error").is_none(), "{query}\n→ {r}");
    let mut ids: Vec<String> = r["hits"]["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["_source"]["rule"]["id"].as_str().unwrap().to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn patterns_find_exactly_the_matching_alerts() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let opts = SearchOptions::default();
    let cases: &[(&str, &[&str])] = &[
        // An IPv4 address present in three alerts (web access, web error, sshd).
        ("[ipv4-addr:value = '45.75.196.15']", &["30306", "31101", "5712"]),
        // A SHA-256 in a FIM alert and inside the VirusTotal alert's permalink: `=` on a main
        // value finds what the file observable's search finds.
        (
            "[file:hashes.'SHA-256' = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f']",
            &["554", "87105"],
        ),
        // Hex case does not matter for hashes.
        (
            "[file:hashes.MD5 = '44D88612FEA8A8F36DE82E1278ABB02F']",
            &["554", "87105"],
        ),
        // A registry key written in another case than the FIM alert stores it; the Sysmon
        // alert that sets a value under it counts too (as for the key observable).
        (
            r"[windows-registry-key:key = 'hkey_local_machine\\software\\microsoft\\windows\\currentversion\\run']",
            &["752", "92301"],
        ),
        // The same key with the HKLM alias (hive aliases are on by default).
        (
            r"[windows-registry-key:key = 'HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run']",
            &["752", "92301"],
        ),
        // LIKE on a registry key: Sysmon stores doubled backslashes, one pattern matches.
        (
            r"[windows-registry-key:key LIKE 'HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\%']",
            &["92301"],
        ),
        // LIKE with a hive alias: the FIM key and the Sysmon value under it.
        (
            r"[windows-registry-key:key LIKE 'HKEY_LOCAL_MACHINE\\Software\\Microsoft\\Windows\\CurrentVersion\\Run%']",
            &["752", "92301"],
        ),
        // LIKE on a domain.
        ("[domain-name:value LIKE '%.btgrab-cdn.example']", &["86601"]),
        ("[domain-name:value LIKE 'qouv._r']", &["99917", "99918"]),
        // MATCHES on a command line: case-sensitive, then case-insensitive.
        (r"[process:command_line MATCHES 'wscript\\.exe']", &["92002"]),
        (
            r"[process:command_line MATCHES '(?i)wscript\\.exe']",
            // 92003's parent command line runs WScript.exe.
            &["92001", "92002", "92003"],
        ),
        (r"[process:command_line MATCHES '^C:\\\\+Windows']", &["92004"]),
        // A CIDR block covering some source addresses but not others.
        (
            "[ipv4-addr:value ISSUBSET '218.92.0.0/16']",
            &["99904", "99905", "99915", "99919"],
        ),
        ("[ipv4-addr:value ISSUBSET '218.92.0.0/24' AND EXISTS network-traffic:src_port]", &["99904", "99905", "99915"]),
        (
            "[network-traffic:src_ref.value ISSUBSET '192.168.1.0/25']",
            &["99917", "99918"],
        ),
        // AND inside one observation narrows to one alert.
        (
            "[network-traffic:dst_ref.value = '185.220.101.45' AND network-traffic:dst_port = 80]",
            &["86601"],
        ),
        // Port ranges on numeric (Suricata) and keyword (Sysmon) fields.
        (
            "[network-traffic:dst_port < 80]",
            // DNS (53) and the GCP flow to port 22.
            &["65048", "99918"],
        ),
        (
            "[network-traffic:dst_port >= 3000 AND network-traffic:dst_port <= 3389]",
            &["92108"],
        ),
        // START/STOP: the same address, only the alerts of one day.
        (
            "[ipv4-addr:value = '45.75.196.15'] START t'2026-11-22T00:00:00Z' STOP t'2026-11-23T00:00:00Z'",
            &["30306", "31101"],
        ),
        ("[user-account:account_login = 'sammy']", &["5710"]),
        // IN and != together.
        (
            "[user-account:account_login IN ('sammy', 'paco', 'root') AND user-account:account_login != 'root']",
            &["5710", "5712"],
        ),
        ("[ipv4-addr:value = '1.1.1.1' AND EXISTS url:value]", &["31170"]),
        // OR between observations.
        (
            "[domain-name:value = 'qouv.fr'] OR [file:name = 'kworkerd']",
            &["554", "87105", "99917", "99918"],
        ),
        ("[url:value = '/cgi-bin/status']", &["31166"]),
        // A host name found only in the syslog header is not a sighting.
        ("[domain-name:value = 'vmi189193']", &[]),
        ("[domain-name:value LIKE 'vmi%']", &[]),
        ("[domain-name:value LIKE '%suricata%']", &["99915"]),
        ("[email-addr:value LIKE '%@wazuh.com']", &["91533", "91537"]),
        ("[user-agent:value LIKE 'aws-cli/%']", &["80202"]),
        ("[windows-registry-key:values[*].name = 'Java-Update']", &["752"]),
        // Protocols are compared without case (Sysmon 'tcp', cloud 'TCP').
        (
            "[network-traffic:protocols[*] = 'tcp' AND network-traffic:dst_port = 3389]",
            &["92108"],
        ),
        (
            "[network-traffic:protocols[*] = 'TCP']",
            &["65032", "80302", "92107", "92108"],
        ),
        // != and NOT need the property to be present.
        (
            "[ipv4-addr:value ISSUBSET '172.16.0.0/12' AND user-account:account_login != 'root']",
            &["5712"],
        ),
        (
            "[ipv4-addr:value = '45.75.196.15' AND user-account:account_login NOT IN ('root')]",
            &[],
        ),

        ("[software:name = 'ncurses']", &["23502"]),
    ];
    let mut failures = Vec::new();
    for (pattern, expected) in cases {
        let t = query_for_pattern(pattern, &opts).unwrap_or_else(|e| panic!("{pattern}: {e}"));
        let got = rule_ids(&os, &t.query).await;
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        if got != want {
            failures.push(format!(
                "{pattern}\n  want {want:?}\n  got  {got:?}\n  query {}",
                t.query
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn compound_observations_are_approximated_with_a_note() {
    let os = Osmem::start().await;
    os.load_sample_alerts().await;
    let opts = SearchOptions::default();
    let cases: &[(&str, &[&str], &str)] = &[
        (
            "[ipv4-addr:value = '1.1.1.1'] FOLLOWEDBY [user-account:account_login = 'sammy']",
            &["31170", "5710"],
            "order",
        ),
        (
            "[ipv4-addr:value = '1.1.1.1'] AND [user-account:account_login = 'sammy']",
            &["31170", "5710"],
            "every observation",
        ),
        (
            "([ipv4-addr:value = '1.1.1.1'] OR [user-account:account_login = 'sammy']) WITHIN 60 SECONDS",
            &["31170", "5710"],
            "WITHIN 60 SECONDS",
        ),
        (
            "[user-account:account_login = 'sammy'] REPEATS 3 TIMES",
            &["5710"],
            "REPEATS 3 TIMES",
        ),
    ];
    for (pattern, expected, note) in cases {
        let t = query_for_pattern(pattern, &opts).unwrap();
        assert!(
            t.notes.iter().any(|n| n.contains(note)),
            "{pattern}: {:?}",
            t.notes
        );
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(rule_ids(&os, &t.query).await, want, "{pattern}");
    }
    // A START/STOP around the whole pattern is also reported as the search window.
    let t = query_for_pattern(
        "[user-account:account_login = 'root'] START t'2024-12-01T00:00:00Z' STOP t'2025-01-01T00:00:00Z'",
        &opts,
    )
    .unwrap();
    assert_eq!(
        t.time_range,
        Some((
            "2024-12-01T00:00:00Z".to_string(),
            "2025-01-01T00:00:00Z".to_string()
        ))
    );
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    assert_eq!(rule_ids(&os, &t.query).await, ["99904"]);
}
