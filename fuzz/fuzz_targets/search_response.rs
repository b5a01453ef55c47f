//! The indexer response parser (`indexer::parse_search_response`) on arbitrary bytes: a
//! `_search` answer (hits, aggregations, shard failures) that may be anything at all.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = connector_wazuh::indexer::parse_search_response(data, serde_json::Value::Null);
});
