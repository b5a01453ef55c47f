//! Context objects from a Wazuh 5 finding: every family that reads ECS places finds its object
//! in a WCS document (normalised as the indexer client gives it), and the bundle is valid STIX.

use crate::testkit::knowledge::*;
use connector_wazuh::alert::Alert;
use connector_wazuh::schema::wcs;
use serde_json::json;

fn finding() -> Alert {
    let doc = json!({
        "@timestamp": "2026-11-27T10:00:00.000Z",
        "wazuh": {
            "agent": {"id": "004", "name": "win-desk", "host": {"ip": ["10.20.0.14"]}},
            "rule": {"id": "0d8f7a6e-1c2b-4e5f-9a8b-7c6d5e4f3a2b", "title": "Suspicious download",
                     "level": "high", "tags": ["windows"],
                     "mitre": {"technique": {"id": ["T1105"]}}}
        },
        "source": {"ip": "198.51.100.7", "port": 49812, "user": {"name": "jdoe", "email": "jdoe@example.org"}},
        "destination": {"ip": "203.0.113.9", "port": 443},
        "network": {"transport": "tcp"},
        "url": {"full": "https://dl.example.net/payload.exe", "domain": "dl.example.net"},
        "dns": {"question": {"name": "dl.example.net"}},
        "user_agent": {"original": "curl/8.5.0"},
        "file": {"path": "C:\\Users\\jdoe\\payload.exe", "size": 73802,
                 "hash": {"sha256": "8f83098166c79c5f31987b7311b9d709085d06b957879695fe0afd4288d9d6f7"}},
        "process": {"command_line": "powershell -enc AAAA", "pid": 4242,
                    "executable": "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe",
                    "parent": {"pid": 812, "command_line": "explorer.exe"}},
        "registry": {"path": "HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Run\\payload"},
        "vulnerability": {"id": "CVE-2024-6387", "severity": "High", "score": {"base": 8.1}},
        "package": {"name": "openssh-server", "version": "1:8.9p1-3ubuntu0.6"}
    });
    Alert::from_source("f1", "wazuh-findings-v5-security-000001", wcs::source(doc)).unwrap()
}

#[test]
fn every_ecs_family_finds_its_object_in_a_finding() {
    let c = Case::new(
        ip_entity(true),
        vec![indicator()],
        result_of(vec![finding()], None),
        base_options(),
    );
    let k = c.build().unwrap();
    let one = |t: &str| {
        let found = of_type(&k.objects, t);
        assert!(!found.is_empty(), "no {t} in {:#?}", k.objects);
        found
    };
    // The keyword level `high` is 12 on the 4.x scale: a high-severity incident.
    assert_eq!(one("incident")[0]["severity"], "high");
    assert!(one("ipv4-addr").iter().any(|o| o["value"] == "203.0.113.9"));
    assert!(one("network-traffic").iter().any(|o| o["dst_port"] == 443));
    assert!(one("user-account")
        .iter()
        .any(|o| o["account_login"] == "jdoe"));
    assert!(one("email-addr")
        .iter()
        .any(|o| o["value"] == "jdoe@example.org"));
    assert!(one("url")
        .iter()
        .any(|o| o["value"] == "https://dl.example.net/payload.exe"));
    assert!(one("domain-name")
        .iter()
        .any(|o| o["value"] == "dl.example.net"));
    assert!(one("user-agent").iter().any(|o| o["value"] == "curl/8.5.0"));
    assert!(one("file")
        .iter()
        .any(|o| o["hashes"]["SHA-256"].as_str().is_some() && o["size"] == 73802));
    assert!(one("process")
        .iter()
        .any(|o| o["command_line"] == "powershell -enc AAAA" && o["pid"] == 4242));
    assert!(one("windows-registry-key").iter().any(|o| o["key"]
        .as_str()
        .is_some_and(|k| k.ends_with("\\Run\\payload"))));
    assert!(one("attack-pattern")
        .iter()
        .any(|o| o["x_mitre_id"] == "T1105"));
}
