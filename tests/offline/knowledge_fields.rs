//! Context extraction reads the vocabulary with its configured changes: a field added to a
//! value kind (`WAZUH_SEARCH_FIELDS_ADD`) yields context objects too, a removed one
//! (`WAZUH_SEARCH_FIELDS_REMOVE`) is no longer read; addresses come from every concrete address
//! field of the vocabulary.

use crate::testkit::knowledge::*;
use connector_wazuh::alert::Alert;
use connector_wazuh::vocabulary::{FieldChanges, Vocabulary, WAZUH_4X};
use serde_json::{json, Value};
use std::sync::Arc;

/// The context objects of one Fortigate-like alert, under the given field changes.
fn objects(add: &str, remove: &str) -> Vec<Value> {
    let a = Alert::from_source(
        "ctx",
        "wazuh-alerts-4.x-2026.11.27",
        json!({"@timestamp": "2026-11-27T10:00:00.000Z", "id": "1.ctx",
               "agent": {"id": "001", "name": "h1", "ip": "10.1.1.1"},
               "rule": {"id": "100", "level": 12, "description": "rule 100"},
               "data": {"remip": "203.0.113.9", "srcip": "198.51.100.7",
                        "fw": {"peer": "192.0.2.44"},
                        "custom": {"link": "https://portal.example.org/x"}}}),
    )
    .unwrap();
    let mut c = Case::new(
        ip_entity(true),
        vec![indicator()],
        result_of(vec![a], None),
        base_options(),
    );
    let changes = FieldChanges::parse(add, remove, &WAZUH_4X).unwrap();
    c.search.vocabulary = Arc::new(Vocabulary::new(&WAZUH_4X, &changes));
    c.build().unwrap().objects
}

fn has(objs: &[Value], ty: &str, value: &str) -> bool {
    of_type(objs, ty).iter().any(|o| o["value"] == value)
}

#[test]
fn added_fields_give_context_objects() {
    let plain = objects("", "");
    assert!(has(&plain, "ipv4-addr", "198.51.100.7"));
    // Addresses are read from every concrete address field of the vocabulary (Fortigate's
    // `data.remip` among them).
    assert!(has(&plain, "ipv4-addr", "203.0.113.9"));
    assert!(!has(&plain, "ipv4-addr", "192.0.2.44"));
    assert!(!has(&plain, "url", "https://portal.example.org/x"));

    let added = objects("ip:data.fw.peer, url:data.custom.link", "");
    assert!(has(&added, "ipv4-addr", "192.0.2.44"));
    assert!(has(&added, "url", "https://portal.example.org/x"));
    assert!(of_type(&added, "relationship")
        .iter()
        .any(|r| r["description"]
            .as_str()
            .unwrap_or("")
            .contains("in data.fw.peer")));
}

#[test]
fn removed_fields_are_not_read_for_context() {
    // The address is also the source of a connection (network-traffic): both kinds go.
    let objs = objects("", "ip:*.srcip, src-ip:*.srcip");
    assert!(!has(&objs, "ipv4-addr", "198.51.100.7"));
    let objs = objects("", "ip:*.srcip");
    assert!(of_type(&objs, "relationship")
        .iter()
        .all(|r| !r["description"]
            .as_str()
            .unwrap_or("")
            .contains("in data.srcip")));
}
