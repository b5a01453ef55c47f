//! Query building for every entity type, and parsing search responses of 1,000 and 10,000
//! hits (with aggregations) into a `SearchResult`.

use std::collections::BTreeMap;

use connector_wazuh::config::options::SearchOptions;
use connector_wazuh::entity::{FileObservable, NetworkTrafficObservable, Observable};
use connector_wazuh::indexer::parse_search_response;
use connector_wazuh::search::query;
use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use serde_json::json;

fn observables() -> Vec<(&'static str, Observable)> {
    let hashes: BTreeMap<String, String> = [(
        "SHA-256".to_string(),
        "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f".to_string(),
    )]
    .into();
    vec![
        (
            "ipv4",
            Observable::Ipv4Addr {
                value: "141.98.81.37".into(),
            },
        ),
        (
            "ipv6",
            Observable::Ipv6Addr {
                value: "2001:4860:4860::8888".into(),
            },
        ),
        (
            "domain",
            Observable::DomainName {
                value: "evil.example".into(),
            },
        ),
        (
            "hostname",
            Observable::Hostname {
                value: "ws-042".into(),
            },
        ),
        (
            "url",
            Observable::Url {
                value: "https://evil.example/path/payload.sh".into(),
            },
        ),
        (
            "email",
            Observable::EmailAddr {
                value: "alice@example.org".into(),
            },
        ),
        (
            "mac",
            Observable::MacAddr {
                value: "00:1a:2b:3c:4d:5e".into(),
            },
        ),
        (
            "user_agent",
            Observable::UserAgent {
                value: "python-requests/2.31.0".into(),
            },
        ),
        (
            "file_name",
            Observable::File(FileObservable {
                name: Some("C:\\Windows\\Temp\\evil.dll".into()),
                additional_names: vec!["evil (1).dll".into()],
                ..Default::default()
            }),
        ),
        (
            "file_hash",
            Observable::File(FileObservable {
                hashes: hashes.clone(),
                ..Default::default()
            }),
        ),
        ("artifact", Observable::Artifact { hashes }),
        (
            "directory",
            Observable::Directory {
                path: "C:\\Users\\Public\\Downloads\\".into(),
            },
        ),
        (
            "regkey",
            Observable::WindowsRegistryKey {
                key: "HKU\\S-1-5-21-3623811015-3361044348-30300820-1013\\Software\\Evil".into(),
            },
        ),
        (
            "regvalue",
            Observable::WindowsRegistryValue {
                name: Some("Updater".into()),
                data: Some("C:\\evil.exe".into()),
                data_type: Some("REG_SZ".into()),
            },
        ),
        (
            "process",
            Observable::Process {
                command_line: Some(
                    "C:\\Windows\\System32\\cmd.exe /c \"whoami /all\" > out.txt".into(),
                ),
                pid: None,
            },
        ),
        (
            "account",
            Observable::UserAccount {
                account_login: Some("jdoe".into()),
                user_id: Some("1001".into()),
                display_name: None,
            },
        ),
        (
            "traffic",
            Observable::NetworkTraffic(NetworkTrafficObservable {
                src: Some(Box::new(Observable::Ipv4Addr {
                    value: "198.51.100.23".into(),
                })),
                dst: Some(Box::new(Observable::MacAddr {
                    value: "00:1a:2b:3c:4d:5e".into(),
                })),
                src_port: Some(51234),
                dst_port: Some(22),
                protocols: vec!["tcp".into()],
            }),
        ),
        (
            "vulnerability",
            Observable::Vulnerability {
                name: "CVE-2024-3094".into(),
            },
        ),
        (
            "software",
            Observable::Software {
                name: "xz-utils".into(),
                version: Some("5.6.0".into()),
            },
        ),
    ]
}

fn response(hits: usize) -> Vec<u8> {
    let hit = |i: usize| {
        json!({"_index": "wazuh-alerts-4.x-2026.11.27", "_id": format!("id{i}"), "_score": null,
               "_source": {"@timestamp": "2026-11-27T10:00:00.000Z", "id": format!("1732700000.{i}"),
                           "rule": {"id": "5710", "level": 5, "description": "sshd: attempt to login using a non-existent user",
                                    "groups": ["syslog", "sshd", "authentication_failed"], "mitre": {"id": ["T1110.001"]}},
                           "agent": {"id": format!("{:03}", i % 20 + 1), "name": "web", "ip": "10.0.0.1"},
                           "full_log": "Nov 27 10:00:00 web sshd[1234]: Invalid user admin from 141.98.81.37 port 51234",
                           "data": {"srcip": "141.98.81.37", "srcport": "51234", "srcuser": "admin"}},
               "sort": [1795795200000_i64]})
    };
    // The lean aggregation tree (`search::envelope::aggregations`).
    let bucket = |i: usize| {
        json!({"key": format!("{:03}", i + 1), "doc_count": 500,
        "rules": {"sum_other_doc_count": 0, "buckets": [{"key": "5710", "doc_count": 500,
            "ts": {"count": 500, "min": 1795795200000.0_f64, "max": 1795881600000.0_f64},
            "ts_alt": {"count": 0, "min": null, "max": null},
            "sample": {"hits": {"hits": [{"_source": {"rule": {"description": "sshd", "level": 5},
                "agent": {"name": "web", "ip": "10.0.0.1"}}}]}}}]}})
    };
    serde_json::to_vec(&json!({
        "took": 12, "timed_out": false,
        "_shards": {"total": 3, "successful": 3, "skipped": 0, "failed": 0},
        "hits": {"total": {"value": 10000, "relation": "eq"}, "max_score": null,
                 "hits": (0..hits).map(hit).collect::<Vec<_>>()},
        "aggregations": {"agents": {"buckets": (0..20).map(bucket).collect::<Vec<_>>()}}
    }))
    .unwrap()
}

fn build_queries(c: &mut Criterion) {
    let opts = SearchOptions {
        ignore_private_addrs: true,
        ..SearchOptions::default()
    };
    let mut g = c.benchmark_group("query_build");
    for (name, obs) in observables() {
        g.bench_with_input(BenchmarkId::from_parameter(name), &obs, |b, obs| {
            b.iter(|| query::build(std::hint::black_box(obs), &opts).unwrap())
        });
    }
    g.finish();
}

fn parse_responses(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse_response");
    g.sample_size(20);
    for hits in [1_000usize, 10_000] {
        let body = response(hits);
        g.throughput(Throughput::Elements(hits as u64));
        g.bench_with_input(BenchmarkId::from_parameter(hits), &body, |b, body| {
            b.iter(|| parse_search_response(std::hint::black_box(body), json!({})).unwrap())
        });
    }
    g.finish();
}

criterion_group!(benches, build_queries, parse_responses);

/// `cargo test --all-targets -- --test-threads=2` (scripts/test) runs benches in test mode with
/// libtest arguments criterion rejects; then every routine runs once as a smoke test instead.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let under_cargo_test = args.iter().any(|a| a.starts_with("--test-threads"))
        || !args.iter().any(|a| a == "--bench");
    if under_cargo_test {
        let opts = SearchOptions::default();
        for (name, obs) in observables() {
            let built = query::build(&obs, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(built.is_some() || name == "ipv4", "{name} has a query");
        }
        let r = parse_search_response(&response(100), json!({})).unwrap();
        assert_eq!(r.alerts.len(), 100);
        assert_eq!(r.agents.len(), 20);
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
