//! Every query builder (`search::query::build`) on arbitrary observables: the first byte picks
//! the type, the second the search options, the rest is split on NUL into property values. The
//! query must always serialise to JSON that parses back, and for the kinds searched with a
//! regexp (file name, directory, registry key, URL) the query must match the value and only it:
//! the property of `tests/offline/search_escaping.rs`, shared through `tests/testkit/lucene.rs`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};

#[allow(dead_code)]
#[path = "../../tests/testkit/lucene.rs"]
mod lucene;

fn stix(t: u8, vals: &[String]) -> (&'static str, Value) {
    let v = |i: usize| vals.get(i).cloned().unwrap_or_default();
    match t % 17 {
        0 => ("IPv4-Addr", json!({"type": "ipv4-addr", "value": v(0)})),
        1 => ("IPv6-Addr", json!({"type": "ipv6-addr", "value": v(0)})),
        2 => ("Domain-Name", json!({"type": "domain-name", "value": v(0)})),
        3 => ("Hostname", json!({"type": "hostname", "value": v(0)})),
        4 => ("Url", json!({"type": "url", "value": v(0)})),
        5 => ("Email-Addr", json!({"type": "email-addr", "value": v(0)})),
        6 => ("Mac-Addr", json!({"type": "mac-addr", "value": v(0)})),
        7 => ("User-Agent", json!({"type": "user-agent", "value": v(0)})),
        8 => ("StixFile", json!({"type": "file", "name": v(0), "hashes": {"SHA-256": v(1), "MD5": v(2), "SHA-1": v(3)}, "x_opencti_additional_names": [v(4)]})),
        9 => ("Artifact", json!({"type": "artifact", "hashes": {"SHA-256": v(0), "MD5": v(1)}})),
        10 => ("Directory", json!({"type": "directory", "path": v(0)})),
        11 => ("Windows-Registry-Key", json!({"type": "windows-registry-key", "key": v(0)})),
        12 => ("Windows-Registry-Value-Type", json!({"type": "windows-registry-value-type", "name": v(0), "data": v(1), "data_type": v(2)})),
        13 => ("Process", json!({"type": "process", "command_line": v(0)})),
        14 => ("User-Account", json!({"type": "user-account", "account_login": v(0), "user_id": v(1), "display_name": v(2)})),
        15 => ("Vulnerability", json!({"type": "vulnerability", "name": v(0)})),
        _ => ("Software", json!({"type": "software", "name": v(0), "version": v(1)})),
    }
}

fuzz_target!(|data: &[u8]| {
    let [t, flags, rest @ ..] = data else { return };
    let text = String::from_utf8_lossy(rest);
    let kind = lucene::Kind::ALL[usize::from(*t) % lucene::Kind::ALL.len()];
    if let Err(e) = lucene::exact_match(kind, &text) {
        panic!("{kind:?} {text:?}: {e}");
    }
    let vals: Vec<String> = text.split('\0').map(str::to_string).collect();
    let (et, stix) = stix(*t, &vals);
    let mut opts = connector_wazuh::config::SearchOptions::default();
    opts.lookup_agent_ip = flags & 1 != 0;
    opts.lookup_agent_name = flags & 2 != 0;
    opts.ignore_private_addrs = flags & 4 != 0;
    opts.lookup_mac_variants = flags & 8 != 0;
    opts.lookup_hostnames_in_cmd_line = flags & 16 != 0;
    opts.lookup_url_without_host = flags & 32 != 0;
    opts.lookup_url_ignore_trailing_slash = flags & 64 != 0;
    let refs = Default::default();
    let Ok(obs) = connector_wazuh::search::observable::from_stix(et, &stix, &refs) else { return };
    if let Ok(Some(q)) = connector_wazuh::search::query::build(&obs, &opts) {
        let text = q.to_string();
        let back: Value = serde_json::from_str(&text).expect("query is valid JSON");
        assert_eq!(back, q);
    }
});
