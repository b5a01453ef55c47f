//! The `stix_entity` parser (`search::observable::from_stix`) on arbitrary JSON, for every
//! OpenCTI observable type (first byte), with the entity also offered as a resolvable ref.
#![no_main]

use std::collections::HashMap;

use libfuzzer_sys::fuzz_target;

const TYPES: &[&str] = &[
    "IPv4-Addr", "IPv6-Addr", "Domain-Name", "Hostname", "Url", "Email-Addr", "Mac-Addr",
    "User-Agent", "StixFile", "Artifact", "Directory", "Windows-Registry-Key",
    "Windows-Registry-Value-Type", "Process", "User-Account", "Network-Traffic", "Vulnerability",
    "Software", "Unknown",
];

fuzz_target!(|data: &[u8]| {
    let Some((&t, rest)) = data.split_first() else { return };
    let Ok(stix) = serde_json::from_slice::<serde_json::Value>(rest) else { return };
    let et = TYPES[t as usize % TYPES.len()];
    let mut refs = HashMap::new();
    for id in connector_wazuh::search::observable::ref_ids(&stix) {
        refs.insert(id, stix.clone());
    }
    if let Ok(obs) = connector_wazuh::search::observable::from_stix(et, &stix, &refs) {
        // Whatever parsed must also yield a query (or a clear refusal) without panicking.
        let _ = connector_wazuh::search::query::build(&obs, &Default::default());
    }
});
