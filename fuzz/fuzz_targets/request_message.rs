//! The enrichment request parser (`opencti::message::parse`) on arbitrary bytes: never panics,
//! and a refusal always says why.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let now = chrono::DateTime::from_timestamp(1_790_000_000, 0).unwrap_or_default();
    match connector_wazuh::opencti::message::parse(data, 1 << 20, now) {
        Ok(req) => assert!(!req.entity_id.is_empty()),
        Err(rej) => assert!(!rej.reason.is_empty()),
    }
});
